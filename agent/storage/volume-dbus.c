/* org.hostagent1.Volume: properties from the model, methods off the loop */
#include <stdatomic.h>

#include "bus-auth.h"
#include "bus-error.h"
#include "job.h"
#include "json-field.h"
#include "log.h"
#include "lvm.h"
#include "macro.h"
#include "bus-work.h"
#include "manager.h"
#include "storage-call.h"
#include "storage-dbus.h"
#include "strv.h"

/* How often a copy's progress is carried over to its Job. */
#define CLONE_PROGRESS_USEC (100ULL * 1000)

static bool is_uri(const char *location) {
        return strncmp(location, "nfs://", 6) == 0;
}

/* The backing file as a volume name when it is one of the pool's, else as it is. */
static const char *backing_name(Volume *v) {
        Pool *p = v->pool;

        if (!v->info.backing)
                return "";
        for (size_t i = 0; i < p->n_volumes; i++)
                if (streq(p->volumes[i]->location, v->info.backing))
                        return p->volumes[i]->info.name;
        return v->info.backing;
}

#define VOLUME_PROPERTY_GETTER(name, type, expr)                                                 \
        static int property_get_##name(sd_bus *bus, const char *path, const char *interface,   \
                                       const char *property, sd_bus_message *reply,            \
                                       void *userdata, sd_bus_error *error) {                  \
                Volume *v = userdata;                                                           \
                return sd_bus_message_append(reply, type, expr);                                \
        }

VOLUME_PROPERTY_GETTER(name, "s", v->info.name)
VOLUME_PROPERTY_GETTER(pool, "o", v->pool->path)
VOLUME_PROPERTY_GETTER(format, "s", strempty(v->info.format))
VOLUME_PROPERTY_GETTER(capacity, "t", v->info.capacity)
VOLUME_PROPERTY_GETTER(allocation, "t", v->info.allocation)
VOLUME_PROPERTY_GETTER(backing, "s", backing_name(v))
VOLUME_PROPERTY_GETTER(path, "s", is_uri(v->location) ? "" : v->location)
VOLUME_PROPERTY_GETTER(uri, "s", is_uri(v->location) ? v->location : "")

static int property_get_in_use_by(sd_bus *bus, const char *path, const char *interface, const char *property,
                                  sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        char **users = volume_users(userdata);
        int r;

        if (!users)
                return -ENOMEM;
        r = sd_bus_message_open_container(reply, 'a', "o");
        for (char **u = users; r >= 0 && *u; u++)
                r = sd_bus_message_append_basic(reply, 'o', *u);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        for (char **u = users; *u; u++)
                free(*u);
        free(users);
        return r;
}

/* Common checks: the pool usable, the volume not already being worked on. */
static int volume_check_ready(Volume *v, sd_bus_error *error) {
        Pool *p = v->pool;

        if (p->state != POOL_STATE_ACTIVE && p->state != POOL_STATE_DEGRADED)
                return sd_bus_error_setf(error,
                                         p->state == POOL_STATE_UNREACHABLE ? HOSTAGENT_ERROR_STORAGE_UNREACHABLE
                                                                            : HOSTAGENT_ERROR_INVALID_STATE,
                                         "Storage pool %s is %s", p->spec.name, pool_state_to_string(p->state));
        if (pool_leftovers_pending(p))
                return storage_error_leftovers(error, p);
        if (v->busy)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_BUSY,
                                         "Volume %s has an operation in flight; retry when it ends", v->info.name);
        return 0;
}

static StorageCall *volume_call_new(Volume *v, sd_bus_message *msg) {
        StorageCall *c = storage_call_new(v->pool, msg);

        if (!c)
                return NULL;
        c->volume = v;
        v->busy = true;
        c->name = strdup(v->info.name);
        c->format = strdup(strempty(v->info.format));
        if (!c->name || !c->format) {
                storage_call_free(c);
                return NULL;
        }
        return c;
}

/* Resize */

static void resize_done(int result, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        StorageCall *c = userdata;

        if (c->pool->removed)
                result = -ECANCELED;
        if (result < 0) {
                (void) storage_pool_error(&error, c->pool, result, HOSTAGENT_ERROR_INVALID_ARGS, c->message,
                                          "Cannot resize the volume");
                (void) bus_call_reply_error(&c->call, &error);
        } else {
                c->volume->busy = false;
                (void) pool_volume_update(c->pool, &c->info);
                pool_check_soon(c->pool, false);
                (void) bus_call_reply_empty(&c->call);
        }
        storage_call_free(c);
}

static int method_resize(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Volume *v = userdata;
        StorageCall *c;
        uint64_t size;
        int r;

        BUS_AUTHORIZE_OR_RETURN(msg, BUS_ACTION_STORAGE_MANAGE, BUS_DETAILS("pool", v->pool->spec.name, "volume", v->info.name), error);
        r = sd_bus_message_read(msg, "t", &size);
        if (r < 0)
                return r;
        if (size > STORAGE_VOLUME_SIZE_MAX)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS,
                                         "size_bytes: must be at most %llu (1 PiB)",
                                         (unsigned long long) STORAGE_VOLUME_SIZE_MAX);
        if (size <= v->info.capacity)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS,
                                         "size_bytes: must be larger than the current %llu; shrinking a disk "
                                         "loses data", (unsigned long long) v->info.capacity);
        r = volume_check_ready(v, error);
        if (r < 0)
                return r;
        c = volume_call_new(v, msg);
        if (!c)
                return -ENOMEM;
        c->size = size;
        r = storage_call_submit(c, storage_call_resize_work, resize_done, error);
        if (r < 0)
                storage_call_free(c);
        return r;
}

/* Delete */

static void delete_done(int result, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        StorageCall *c = userdata;

        if (c->pool->removed)
                result = -ECANCELED;
        if (result < 0) {
                (void) storage_pool_error(&error, c->pool, result, NULL, c->message, "Cannot delete the volume");
                (void) bus_call_reply_error(&c->call, &error);
        } else {
                log_fields(LOG_INFO, LOG_FIELDS("OBJECT_PATH", c->volume->path), "Deleted volume %s of pool %s",
                           c->name, c->pool->spec.name);
                pool_volume_remove(TAKE_PTR(c->volume));
                pool_check_soon(c->pool, false);
                (void) bus_call_reply_empty(&c->call);
        }
        storage_call_free(c);
}

static int method_delete(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Volume *v = userdata;
        char **users;
        StorageCall *c;
        int r;

        BUS_AUTHORIZE_OR_RETURN(msg, BUS_ACTION_STORAGE_MANAGE, BUS_DETAILS("pool", v->pool->spec.name, "volume", v->info.name), error);
        r = volume_check_ready(v, error);
        if (r < 0)
                return r;
        users = volume_users(v);
        if (!users)
                return -ENOMEM;
        if (users[0]) {
                r = sd_bus_error_setf(error, HOSTAGENT_ERROR_IN_USE,
                                      "Volume %s is a disk of VM %s; remove it from the VM first", v->info.name,
                                      users[0]);
                strv_free(users);
                return r;
        }
        strv_free(users);
        for (size_t i = 0; i < v->pool->n_volumes; i++)
                if (streq_ptr(v->pool->volumes[i]->info.backing, v->location))
                        return sd_bus_error_setf(error, HOSTAGENT_ERROR_IN_USE,
                                                 "Volume %s is the backing volume of %s", v->info.name,
                                                 v->pool->volumes[i]->info.name);
        c = volume_call_new(v, msg);
        if (!c)
                return -ENOMEM;
        r = storage_call_submit(c, storage_call_delete_volume_work, delete_done, error);
        if (r < 0)
                storage_call_free(c);
        return r;
}

/* Clone: a Job, with the copy's progress */

typedef struct CloneJob {
        StorageCall *call;      /* its BusCall was answered with the job already; the copy's progress */
        Job *job;               /* NULL once the job has ended */
        Volume *source;         /* busy from the call on */
        bool started;           /* the worker has it: clone_done() frees it */
        sd_event_source *ticker;
} CloneJob;

/* Before the copy starts, or when it could not: the reserved name is free
 * again, the source no longer busy. */
static void clone_job_free(CloneJob *j) {
        if (!j)
                return;
        j->ticker = sd_event_source_disable_unref(j->ticker);
        if (j->source)
                j->source->busy = false;
        storage_call_free(j->call);
        free(j);
}

static int on_clone_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        CloneJob *j = userdata;

        if (j->job)
                job_set_progress(j->job, atomic_load(&j->call->progress));
        (void) sd_event_source_set_time_relative(s, CLONE_PROGRESS_USEC);
        (void) sd_event_source_set_enabled(s, SD_EVENT_ON);
        return 0;
}

static int clone_cancel(Job *job, sd_bus_error *error) {
        CloneJob *j = job->data;

        atomic_store(&j->call->cancel, true);   /* a copy not started yet sees it at once */
        return 0;
}

/* The job object goes (finished, or the agent exits): a copy that runs
 * goes on, and clone_done() frees what it uses; one never started goes now. */
static void clone_job_data_free(void *data) {
        CloneJob *j = data;

        j->job = NULL;
        if (!j->started)
                clone_job_free(j);
}

static const JobOps clone_job_ops = {
        .cancel = clone_cancel,
        .free = clone_job_data_free,
};

static void clone_done(int result, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        StorageCall *c = userdata;
        CloneJob *j = c->data;
        Pool *p = c->pool;

        if (p->removed)
                result = -ECANCELED;
        if (result >= 0) {
                Volume *v = pool_volume_update(p, &c->info);   /* publishes the reserved target */
                if (v)
                        c->volume = NULL;
                log_fields(LOG_INFO, LOG_FIELDS("OBJECT_PATH", j->source->path), "Copied volume %s to %s",
                           c->name, c->backing);
                if (j->job) {
                        job_set_progress(j->job, 100);
                        job_finish(j->job, "done", NULL, NULL);
                }
                pool_check_soon(p, false);
        } else if (j->job) {
                if (result == -ECANCELED && atomic_load(&c->cancel))
                        job_finish(j->job, "cancelled", NULL, NULL);
                else {
                        (void) storage_pool_error(&error, p, result, NULL, c->message, "Cannot copy the volume");
                        job_finish(j->job, "failed", error.name, error.message);
                }
        }
        if (j->job)
                j->job->data = NULL, j->job = NULL;
        clone_job_free(j);
}

/* The job is on disk: the copy starts. Were the agent to die from here on,
 * the next one reports the job "interrupted" (a copy is not carried on). */
static int clone_start(Job *job, sd_bus_error *error) {
        CloneJob *j = job->data;
        Manager *m = job->manager;
        int r;

        if (atomic_load(&j->call->cancel)) {   /* Cancel() came while the job was being recorded */
                job_finish(job, "cancelled", NULL, NULL);   /* frees J */
                return 0;
        }
        r = storage_call_submit(j->call, storage_call_clone_work, clone_done, error);
        if (r < 0)
                return r;   /* the job ends failed, and frees J */
        j->started = true;
        if (sd_event_add_time_relative(m->event, &j->ticker, CLOCK_MONOTONIC, CLONE_PROGRESS_USEC, 0,
                                       on_clone_tick, j) < 0)
                log_debug("Cannot follow the progress of job %u", job->id);
        log_fields(LOG_INFO, LOG_FIELDS("OBJECT_PATH", j->source->path), "Job %u: copying volume %s to %s",
                   job->id, j->call->name, j->call->backing);
        return 0;
}

static int clone_check(Volume *v, const char *new_name, sd_bus_error *error) {
        int r;

        if (!json_name_valid(new_name))
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS,
                                         "new_name: must be 1 to %d letters, digits, '.', '_', '+' or '-', "
                                         "starting with a letter or digit", JSON_NAME_MAX_LEN);
        r = volume_check_ready(v, error);
        if (r < 0)
                return r;
        if (v->pool->spec.type == POOL_LVM && !lvm_have_device_mapper())
                return sd_bus_error_set(error, HOSTAGENT_ERROR_NOT_SUPPORTED,
                                        "Copying a logical volume needs device-mapper, which this kernel lacks");
        return 0;
}

/* The copy's state, with the target's name reserved and the source busy. */
static int clone_job_new(Volume *v, sd_bus_message *msg, const char *new_name, CloneJob **ret,
                         sd_bus_error *error) {
        Pool *p = v->pool;
        CloneJob *j = calloc(1, sizeof *j);
        StorageCall *c;
        int reserve_error;

        if (!j)
                return -ENOMEM;
        j->call = c = storage_call_new(p, msg);
        if (!c) {
                free(j);
                return -ENOMEM;
        }
        c->data = j;
        c->name = strdup(v->info.name);
        c->format = strdup(strempty(v->info.format));
        c->backing = strdup(new_name);     /* the target's name */
        if (!c->name || !c->format || !c->backing) {
                clone_job_free(j);
                return -ENOMEM;
        }
        c->volume = pool_volume_reserve(p, new_name, &reserve_error);
        if (!c->volume) {
                clone_job_free(j);
                if (reserve_error == -EEXIST)
                        return sd_bus_error_setf(error, HOSTAGENT_ERROR_EXISTS, "new_name: pool %s has a volume "
                                                 "'%s' already", p->spec.name, new_name);
                return reserve_error == -ENOSPC ? storage_error_volumes_max(error, p) : reserve_error;
        }
        j->source = v;
        v->busy = true;
        *ret = j;
        return 0;
}

static int method_clone(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Volume *v = userdata;
        Manager *m = v->pool->manager;
        const char *new_name;
        CloneJob *j = NULL;
        Job *job;
        int r;

        BUS_AUTHORIZE_OR_RETURN(msg, BUS_ACTION_STORAGE_MANAGE, BUS_DETAILS("pool", v->pool->spec.name, "volume", v->info.name), error);
        r = sd_bus_message_read(msg, "s", &new_name);
        if (r < 0)
                return r;
        r = clone_check(v, new_name, error);
        if (r < 0)
                return r;
        r = clone_job_new(v, msg, new_name, &j, error);
        if (r < 0)
                return r;
        r = job_new(m, "clone", v->path, &clone_job_ops, j, &job);
        if (r < 0) {
                clone_job_free(j);
                if (r == -EBUSY)
                        return sd_bus_error_setf(error, HOSTAGENT_ERROR_BUSY, "Too many jobs running (limit %d)",
                                                 JOBS_MAX);
                return r;
        }
        j->job = job;
        /* The copy starts once the job is recorded (clone_start()); answered then. */
        return job_start(job, msg, clone_start);
}

const sd_bus_vtable volume_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", property_get_name, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Pool", "o", property_get_pool, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Path", "s", property_get_path, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("URI", "s", property_get_uri, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Format", "s", property_get_format, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("CapacityBytes", "t", property_get_capacity, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("AllocationBytes", "t", property_get_allocation, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("BackingVolume", "s", property_get_backing, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        /* Computed from the VMs' disks on each read: no change signal of its own. */
        SD_BUS_PROPERTY("InUseBy", "ao", property_get_in_use_by, 0, 0),
        SD_BUS_METHOD_WITH_ARGS("Resize", SD_BUS_ARGS("t", size_bytes), SD_BUS_NO_RESULT, method_resize,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Clone", SD_BUS_ARGS("s", new_name), SD_BUS_RESULT("o", job), method_clone,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Delete", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_delete,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};
