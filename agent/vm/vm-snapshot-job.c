/* VM.CreateSnapshot: checked on a worker (names, disks, the guest agent), then made in a Job of type "snapshot".
 *
 * The checks run before the job exists, so that bad input and a missing
 * guest agent are the call's named error and nothing changes; the snapshot
 * itself (RAM state included, which takes a while) is the job's work. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bus-auth.h"
#include "bus-error.h"
#include "bus-options.h"
#include "bus-work.h"
#include "agent-errno.h"
#include "error-text.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "strv.h"
#include "virt-cleanup.h"
#include "vm-auth.h"
#include "vm-busy.h"
#include "vm-snapshot.h"

#define SNAPSHOT_DISKS_MAX 64

typedef struct SnapshotOptions {
        int memory, quiesce;
        char **disks;
} SnapshotOptions;

typedef struct CreateCall {
        LibvirtCall base;   /* first: answered and submitted through it */
        char uuid[VIR_UUID_STRING_BUFLEN];
        char *vm_name;
        char *name;
        char *memory_file;
        SnapshotOptions o;
        SnapshotDisk *disks;
        size_t n_disks;
        bool submitted;     /* the job's work is on the pool: its end frees the call */
        Job *job;
        uint64_t list_started;   /* the VM's snapshots, read after the snapshot (vm_snapshots_read_begin()) */
        SnapshotInfo *list;
        size_t n_list;
        bool listed;
} CreateCall;

static void create_call_free(CreateCall *c) {
        if (!c)
                return;
        libvirt_call_done(&c->base);
        for (size_t i = 0; i < c->n_disks; i++)
                snapshot_disk_done(&c->disks[i]);
        free(c->disks);
        snapshot_info_list_free(c->list, c->n_list);
        strv_free(c->o.disks);
        free(c->vm_name);
        free(c->name);
        free(c->memory_file);
        free(c);
}

static int read_bool(sd_bus_message *msg, const char *key, int *ret, sd_bus_error *error) {
        int b, r = sd_bus_message_read(msg, "v", "b", &b);

        if (r < 0)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS, "options.%s: must be a boolean", key);
        *ret = b;
        return 0;
}

static int read_option(sd_bus_message *msg, const char *key, void *userdata, sd_bus_error *error) {
        SnapshotOptions *o = userdata;
        int r;

        if (streq(key, "memory"))
                return read_bool(msg, key, &o->memory, error);
        if (streq(key, "quiesce"))
                return read_bool(msg, key, &o->quiesce, error);
        if (!streq(key, "disks"))
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS, "options.%s: unknown option (known: "
                                         "memory, quiesce, disks)", TEXT_CUT(key));
        r = sd_bus_message_enter_container(msg, 'v', "as");
        if (r >= 0) {
                strv_free(o->disks);
                o->disks = NULL;
                r = sd_bus_message_read_strv(msg, &o->disks);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(msg);
        if (r < 0)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS, "options.disks: must be a list of disk "
                                         "targets (as)");
        if (strv_length(o->disks) == 0 || strv_length(o->disks) > SNAPSHOT_DISKS_MAX)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS, "options.disks: from 1 to %d targets",
                                         SNAPSHOT_DISKS_MAX);
        return 0;
}

/* Worker: what the job would do, checked against the domain as it is. */
static int create_check_work(void *userdata) {
        CreateCall *c = userdata;

        return snapshot_check(c->base.conn, c->uuid, &(SnapshotRequest) { .name = c->name, .quiesce = c->o.quiesce > 0,
                                                                          .targets = c->o.disks },
                              &c->disks, &c->n_disks, &c->base.error);
}

/* Worker: the snapshot. */
static int create_work(void *userdata) {
        CreateCall *c = userdata;
        int k, r;
        SnapshotRequest req = {
                .name = c->name,
                .memory = c->o.memory > 0,
                .memory_file = c->memory_file,
                .quiesce = c->o.quiesce > 0,
                .targets = c->o.disks,
        };

        for (size_t i = 0; i < c->n_disks; i++)
                snapshot_disk_done(&c->disks[i]);
        free(c->disks);
        c->disks = NULL;
        c->n_disks = 0;
        free(c->base.error);
        c->base.error = NULL;
        if (c->memory_file) {
                _cleanup_(freep) char *dir = strdup(c->memory_file);
                char *slash = dir ? strrchr(dir, '/') : NULL;

                if (slash) {
                        *slash = 0;
                        (void) mkdir(dir, 0700);
                }
        }
        r = snapshot_create(c->base.conn, c->uuid, &req, &c->disks, &c->n_disks, &c->base.error);
        if (r < 0)
                return r;
        /* The spec names the files the disks run on: the overlays now. */
        k = snapshot_spec_follow(c->base.conn, c->uuid, c->disks, c->n_disks, NULL);
        if (k < 0)
                log_warning_errno(k, "VM %s: the snapshot is made, but its spec still names the disks' old files: %m",
                                  c->vm_name);
        c->listed = snapshot_list(c->base.conn, c->uuid, &c->list, &c->n_list, NULL) >= 0;
        return 0;
}

static void create_done(int result, void *userdata) {
        CreateCall *c = userdata;
        Manager *m = c->base.manager;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(strv_freep) char **files = calloc(c->n_disks + 1, sizeof(char *));

        if (c->job && result == -ECANCELED)
                c->job->data = NULL;   /* the agent stops: the next one says "interrupted" */
        else if (c->job && result >= 0) {
                log_fields(LOG_INFO, LOG_FIELDS("VM_UUID", c->uuid), "Job %u: snapshot %s of VM %s made (%zu disks)",
                           c->job->id, c->name, c->vm_name, c->n_disks);
                if (c->listed) {   /* its object is there when the job says done */
                        vm_snapshots_read_apply(m, c->uuid, c->list_started, TAKE_PTR(c->list), c->n_list);
                        c->n_list = 0;
                }
                job_finish(c->job, "done", NULL, NULL);
        } else if (c->job) {
                (void) bus_error_set_errno(&e, result, &(BusErrorContext) { .invalid = HOSTAGENT_ERROR_INVALID_ARGS },
                                           "Cannot make the snapshot", c->base.error);
                job_finish(c->job, "failed", e.name, e.message);
        }
        for (size_t i = 0; files && i < c->n_disks; i++)
                files[i] = strdup(c->disks[i].overlay);
        if (!m->stopping) {
                vm_snapshots_relist(m, c->uuid);
                (void) vm_refresh(m, c->uuid);
                vm_snapshot_refresh_pools(m, files);
        }
        create_call_free(c);
}

static void create_job_free(void *data) {
        CreateCall *c = data;

        c->job = NULL;
        if (!c->submitted)
                create_call_free(c);   /* it never started (the record could not be written) */
}

static const JobOps create_ops = {
        .free = create_job_free,
};

static int create_start(Job *job, sd_bus_error *error) {
        CreateCall *c = job->data;
        int r;

        c->base.conn = c->base.conn ?: libvirt_conn_ref(c->base.manager->libvirt);
        if (!c->base.conn)
                return sd_bus_error_set(error, HOSTAGENT_ERROR_LIBVIRT_UNAVAILABLE, "libvirt is not connected");
        c->list_started = vm_snapshots_read_begin(c->base.manager);
        r = worker_pool_submit(c->base.manager->pool, WORKER_INTERNAL, create_work, create_done, c);
        if (r < 0)
                return bus_error_set(error, r, NULL, "Cannot start the snapshot");
        c->submitted = true;
        job_set_progress(job, 10);
        return 0;
}

static void create_check_done(int result, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        CreateCall *c = userdata;
        Manager *m = c->base.manager;
        Vm *vm = vm_find(m, c->uuid);
        Job *job, *merging;
        int r = result;

        if (r >= 0 && (c->base.call.answered || !vm))
                r = -ENOENT;
        /* A Delete may have begun while the check ran: its merge would take
         * the new overlay's backing file away. */
        merging = r >= 0 ? vm_snapshot_merge_job(m, c->uuid, NULL) : NULL;
        if (merging)
                r = sd_bus_error_setf(&e, HOSTAGENT_ERROR_INVALID_STATE, "Cannot snapshot VM %s: job %u merges one "
                                      "of its snapshots", c->vm_name, merging->id);
        if (r >= 0)
                r = job_new(m, "snapshot", vm->path, &create_ops, c, &job);
        if (r >= 0) {
                c->job = job;
                c->base.call.answered = true;
                (void) job_start(job, c->base.call.request, create_start);
                return;   /* C is the job's work now: create_done() frees it */
        }
        if (merging)
                ;   /* said above */
        else if (r == -EBUSY)
                (void) sd_bus_error_setf(&e, HOSTAGENT_ERROR_BUSY, "Too many jobs running (limit %d); retry later",
                                         JOBS_MAX);
        else if (r == -EEXIST)
                (void) sd_bus_error_setf(&e, HOSTAGENT_ERROR_EXISTS, "name: VM %s has a snapshot %s already%s%s",
                                         c->vm_name, c->name, c->base.error ? ": " : "", strempty(c->base.error));
        else if (r == -ERRNO_NO_GUEST_AGENT)
                (void) sd_bus_error_setf(&e, HOSTAGENT_ERROR_GUEST_AGENT_UNAVAILABLE, "options.quiesce: the guest "
                                         "agent of VM %s is not connected; nothing was changed", c->vm_name);
        else if (r == -ECANCELED)
                (void) bus_error_set_shutting_down(&e);
        else
                (void) bus_error_set_errno(&e, r, &(BusErrorContext) { .invalid = HOSTAGENT_ERROR_INVALID_ARGS },
                                           "Cannot make the snapshot", c->base.error);
        (void) bus_call_reply_error(&c->base.call, &e);
        create_call_free(c);
}

/* What the model says already: the name, the VM's state. */
static int create_refusal(Vm *vm, const char *name, const SnapshotOptions *o, sd_bus_error *error) {
        bool active = vm_state_is_active(vm->info.state);
        char busy[VM_BUSY_TEXT_MAX];
        const char *why;

        if (!snapshot_name_valid(name))
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS, "name: '%s' is not a snapshot name "
                                         "(1 to %d of A-Z a-z 0-9 _ . + -, not starting with . or -)",
                                         TEXT_CUT(name), SNAPSHOT_NAME_MAX);
        if (vm_snapshot_find(vm->manager, vm->info.uuid, name))
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_EXISTS, "name: VM %s has a snapshot %s already",
                                         strempty(vm->info.name), name);
        if (vm_snapshot_merge_job(vm->manager, vm->info.uuid, NULL))
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_STATE, "Cannot snapshot VM %s: job %u merges "
                                         "one of its snapshots", strempty(vm->info.name),
                                         vm_snapshot_merge_job(vm->manager, vm->info.uuid, NULL)->id);
        why = vm_busy_with(vm->manager, vm->info.uuid, VM_BUSY_BACKUP | VM_BUSY_MIGRATION, NULL, busy, sizeof busy);
        if (why)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_STATE, "Cannot snapshot VM %s: %s",
                                         strempty(vm->info.name), why);
        if (o->memory > 0 && !active)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_STATE, "options.memory: VM %s is not running: "
                                         "it has no RAM state", strempty(vm->info.name));
        if (o->quiesce > 0 && !active)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_STATE, "options.quiesce: VM %s is not running",
                                         strempty(vm->info.name));
        return 0;
}

static CreateCall *create_call_new(Manager *m, Vm *vm, sd_bus_message *msg, const char *name, SnapshotOptions *o) {
        CreateCall *c = calloc(1, sizeof *c);

        if (!c)
                return NULL;
        libvirt_call_init(&c->base, m, msg);
        memcpy(c->uuid, vm->info.uuid, sizeof c->uuid);
        c->o = *o;
        *o = (SnapshotOptions) {};
        c->name = strdup(name);
        c->vm_name = strdup(strempty(vm->info.name));
        if (c->o.memory > 0 && asprintf(&c->memory_file, "%s/snapshots/%s.%s.memory", m->options->state_dir,
                                        vm->info.uuid, name) < 0)
                c->memory_file = NULL;
        if (!c->name || !c->vm_name || (c->o.memory > 0 && !c->memory_file)) {
                create_call_free(c);
                return NULL;
        }
        return c;
}

int method_vm_create_snapshot(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        SnapshotOptions o = { .memory = -1, .quiesce = -1 };
        Vm *vm = userdata;
        Manager *m = vm->manager;
        const char *name;
        CreateCall *c;
        int r;

        BUS_AUTHORIZE_OR_RETURN(msg, BUS_ACTION_VM_SNAPSHOT, VM_AUTH_DETAILS(vm), error);
        r = sd_bus_message_read(msg, "s", &name);
        if (r >= 0)
                r = bus_options_read(msg, read_option, &o, error);
        if (r >= 0)
                r = create_refusal(vm, name, &o, error);
        if (r < 0) {
                strv_free(o.disks);
                return r;
        }
        c = create_call_new(m, vm, msg, name, &o);
        if (!c) {
                strv_free(o.disks);
                return -ENOMEM;
        }
        r = libvirt_call_submit(&c->base, create_check_work, create_check_done, error);
        if (r < 0) {
                create_call_free(c);
                return r;
        }
        log_fields(LOG_INFO, LOG_FIELDS("VM_UUID", vm->info.uuid, "OBJECT_PATH", vm->path),
                   "Request to snapshot VM %s as %s", strempty(vm->info.name), name);
        return 1;
}
