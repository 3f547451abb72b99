/* VM.Backup and org.hostagent1.Backup on the bus: the glue reads, checks, authorizes and hands over */
#include <string.h>
#include <time.h>

#include "agent-errno.h"
#include "bus-auth.h"
#include "bus-collection.h"
#include "bus-error.h"
#include "bus-options.h"
#include "bus-work.h"
#include "error-text.h"
#include "log.h"
#include "macro.h"
#include "storage.h"
#include "vm-backup.h"
#include "vm-busy.h"
#include "virt-cleanup.h"

#define CHECKPOINT_NAME_MAX 256

void vm_backup_bus_emit(VmBackup *b, const char **names) {
        int r;

        if (!b->job_path || b->manager->stopping)
                return;
        r = sd_bus_emit_properties_changed_strv(b->manager->bus, b->job_path, BACKUP_INTERFACE, (char **) names);
        if (r < 0)
                log_debug_errno(r, "Cannot emit PropertiesChanged for %s: %m", b->job_path);
}

static int option_read(sd_bus_message *msg, const char *key, void *userdata, sd_bus_error *error) {
        BackupPlan *p = userdata;
        const char *s;
        uint32_t u;
        int b, r;

        if (streq(key, "quiesce")) {
                r = sd_bus_message_read(msg, "v", "b", &b);
                if (r < 0)
                        return sd_bus_error_set(error, HOSTAGENT_ERROR_INVALID_ARGS, "options.quiesce: must be a boolean");
                p->quiesce = b;
                return 0;
        }
        if (streq(key, "incremental")) {
                r = sd_bus_message_read(msg, "v", "s", &s);
                if (r < 0 || !*s || strlen(s) > CHECKPOINT_NAME_MAX || strchr(s, '/'))
                        return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS, "options.incremental: must be the "
                                                 "name of a checkpoint of an earlier backup (1 to %d characters, no '/')",
                                                 CHECKPOINT_NAME_MAX);
                free(p->incremental);
                p->incremental = strdup(s);
                return p->incremental ? 0 : -ENOMEM;
        }
        if (streq(key, "bandwidth_mib")) {
                r = sd_bus_message_read(msg, "v", "u", &u);
                if (r < 0 || u > BACKUP_BANDWIDTH_MAX_MIB)
                        return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS, "options.bandwidth_mib: must be "
                                                 "between 0 and %u (0: no cap)", BACKUP_BANDWIDTH_MAX_MIB);
                p->bandwidth_mib = u;
                return 0;
        }
        return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS, "options.%s: unknown option (known: quiesce, "
                                 "incremental, bandwidth_mib)", TEXT_CUT(key));
}

/* The pool's directory: backups go into file-based pools the host mounts. */
static int pool_dir(Manager *m, const char *name, char **ret, sd_bus_error *error) {
        Pool *p = storage_pool_find(m, name);
        PoolEnv env = storage_env(m);
        char *loc;
        size_t n;

        if (!p)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS, "pool: no storage pool named '%s'",
                                         TEXT_CUT(name));
        if (p->spec.type == POOL_LVM || (p->spec.type == POOL_NFS && p->spec.access == NFS_ACCESS_LIBNFS))
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_NOT_SUPPORTED, "pool: %s is a%s pool; backups go into "
                                         "dir pools and NFS pools the host mounts", name,
                                         p->spec.type == POOL_LVM ? "n lvm" : " libnfs");
        if (p->state != POOL_STATE_ACTIVE && p->state != POOL_STATE_DEGRADED)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_STATE, "pool: %s is %s", name,
                                         pool_state_to_string(p->state));
        loc = pool_backend_volume_location(&p->spec, &env, "");
        if (!loc)
                return -ENOMEM;
        n = strlen(loc);
        if (n > 1 && loc[n - 1] == '/')
                loc[n - 1] = 0;
        *ret = loc;
        return 0;
}

/* What refuses the call before anything is asked of libvirt: the VM's state, and a backup,
 * merge or migration of it that runs (QEMU holds its disks for that one). */
static int backup_refusal(Vm *vm, sd_bus_error *error) {
        Manager *m = vm->manager;
        char busy[VM_BUSY_TEXT_MAX];
        const char *why;

        if (!vm_state_is_active(vm->info.state))
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_STATE, "Cannot back up VM %s: it is not "
                                         "running", strempty(vm->info.name));
        why = vm_busy_with(m, vm->info.uuid, VM_BUSY_ALL, NULL, busy, sizeof busy);
        if (why)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_STATE, "Cannot back up VM %s: %s",
                                         strempty(vm->info.name), why);
        if (m->stopping)
                return bus_work_error_submit(m, -ESHUTDOWN, error);
        if (!libvirt_conn_is_connected(m->libvirt))
                return bus_work_error_libvirt_unavailable(m, error);
        return 0;
}

/* The plan is made on a worker (the domain's disks and agent, the checkpoints), then the job. */
typedef struct PrepareCall {
        LibvirtCall base;   /* first */
        char uuid[VIR_UUID_STRING_BUFLEN];
        char *pool;
        BackupPlan plan;
        time_t when;
        bool input_error;   /* the worker found the options wrong */
} PrepareCall;

static void prepare_free(PrepareCall *c) {
        libvirt_call_done(&c->base);
        backup_plan_done(&c->plan);
        free(c->pool);
        free(c);
}

static int prepare_check(PrepareCall *c, const BackupDomain *d, bool checkpoint_exists) {
        BackupPlan *p = &c->plan;
        size_t n = 0;

        for (size_t i = 0; i < d->n_disks; i++)
                n += d->disks[i].include;
        c->input_error = true;
        if (p->incremental && !checkpoint_exists)
                return asprintf(&c->base.error, "options.incremental: VM %s has no checkpoint '%s'", p->vm_name,
                                p->incremental) < 0 ? -ENOMEM : -EINVAL;
        c->input_error = false;
        if (p->quiesce && !d->agent_connected)
                return asprintf(&c->base.error, "options.quiesce: VM %s %s", p->vm_name,
                                d->has_agent ? "has no guest agent connected now" : "has no guest agent channel") < 0
                               ? -ENOMEM
                               : -ERRNO_NO_GUEST_AGENT;
        if (n == 0)
                return asprintf(&c->base.error, "VM %s has no disk to back up", p->vm_name) < 0
                               ? -ENOMEM
                               : -ERRNO_INVALID_STATE;
        return 0;
}

static int prepare_work(void *userdata) {
        PrepareCall *c = userdata;
        BackupDomain d = {};
        bool exists = false;
        int r;

        r = backup_domain_read(c->base.conn, c->uuid, c->plan.incremental, &d, &exists, &c->base.error);
        if (r >= 0)
                r = prepare_check(c, &d, exists);
        if (r >= 0) {
                c->plan.disks = TAKE_PTR(d.disks);
                c->plan.n_disks = d.n_disks;
                d.n_disks = 0;
                r = backup_plan_finish(c->base.conn, c->uuid, c->when, &c->plan, &c->base.error);
        }
        backup_domain_done(&d);
        return r;
}

static void prepare_fail(PrepareCall *c, int result) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

        if (result == -ECANCELED)
                (void) bus_error_set_shutting_down(&e);
        else if (c->input_error)
                (void) sd_bus_error_set(&e, HOSTAGENT_ERROR_INVALID_ARGS, c->base.error);
        else if (result == -ERRNO_NO_GUEST_AGENT)
                (void) sd_bus_error_set(&e, HOSTAGENT_ERROR_GUEST_AGENT_UNAVAILABLE, c->base.error);
        else if (result == -EEXIST)
                (void) sd_bus_error_setf(&e, HOSTAGENT_ERROR_EXISTS, "pool: %s: %s", c->pool,
                                         strempty(c->base.error));
        else
                (void) bus_error_set(&e, result, c->base.error, "Cannot back up VM %s", strempty(c->plan.vm_name));
        (void) bus_call_reply_error(&c->base.call, &e);
}

static void prepare_done(int result, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        PrepareCall *c = userdata;
        Manager *m = c->base.manager;
        Vm *vm = vm_find(m, c->uuid);
        Job *job;
        int r = result;

        if (c->base.call.answered)
                ; /* a deadline answered: nothing was begun */
        else if (r < 0)
                prepare_fail(c, r);
        else if (!vm || (r = backup_refusal(vm, &e)) < 0)
                (void) bus_call_reply_error(&c->base.call, sd_bus_error_is_set(&e) ? &e : &SD_BUS_ERROR_MAKE_CONST(
                        HOSTAGENT_ERROR_NO_SUCH_VM, "The VM went away"));
        else if ((r = vm_backup_new(m, vm, c->pool, &c->plan, &job)) < 0) {
                if (r == -EBUSY)
                        (void) sd_bus_error_setf(&e, HOSTAGENT_ERROR_BUSY, "Too many jobs running (limit %d); retry "
                                                 "later", JOBS_MAX);
                else
                        (void) bus_error_set(&e, r, NULL, "Cannot back up VM %s", strempty(vm->info.name));
                (void) bus_call_reply_error(&c->base.call, &e);
        } else {
                /* Answered once the job is on disk and libvirt is asked to begin it. */
                c->base.call.answered = true;
                ((VmBackup *) job->data)->reply_to = sd_bus_message_ref(c->base.call.request);
                (void) job_start(job, c->base.call.request, vm_backup_job_start);
        }
        prepare_free(c);
}

static int prepare_submit(sd_bus_message *msg, Vm *vm, const char *pool, char *dir, BackupPlan *plan,
                          sd_bus_error *error) {
        PrepareCall *c = calloc(1, sizeof *c);
        int r;

        if (!c) {
                free(dir);
                return -ENOMEM;
        }
        libvirt_call_init(&c->base, vm->manager, msg);
        memcpy(c->uuid, vm->info.uuid, sizeof c->uuid);
        c->plan = *plan;
        *plan = (BackupPlan) {};
        c->plan.dir = dir;
        c->plan.vm_name = strdup(strempty(vm->info.name));
        c->pool = strdup(pool);
        c->when = time(NULL);
        r = c->plan.vm_name && c->pool ? libvirt_call_submit(&c->base, prepare_work, prepare_done, error) : -ENOMEM;
        if (r < 0)
                prepare_free(c);
        return r;
}

int method_vm_backup(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(backup_plan_done) BackupPlan plan = {};
        Vm *vm = userdata;
        const char *pool;
        char *dir = NULL;
        int r;

        r = sd_bus_message_read(msg, "s", &pool);
        if (r < 0)
                return r;
        BUS_AUTHORIZE_OR_RETURN(msg, BUS_ACTION_VM_SNAPSHOT,
                                BUS_DETAILS("vm", vm->info.name, "uuid", vm->info.uuid, "pool", pool), error);
        r = bus_options_read(msg, option_read, &plan, error);
        if (r < 0)
                return r;
        r = pool_dir(vm->manager, pool, &dir, error);
        if (r < 0)
                return r;
        r = backup_refusal(vm, error);
        if (r < 0) {
                free(dir);
                return r;
        }
        log_fields(LOG_INFO, LOG_FIELDS("VM_UUID", vm->info.uuid, "OBJECT_PATH", vm->path),
                   "Request to back up VM %s into pool %s", strempty(vm->info.name), pool);
        return prepare_submit(msg, vm, pool, dir, &plan, error);
}

static int backup_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                              sd_bus_error *error) {
        VmBackup *b = vm_backup_find_by_job_path(userdata, path);

        if (!b)
                return 0;
        *found = b;
        return 1;
}

#define BACKUP_PROPERTY_GETTER(name, type, expr)                                                  \
        static int property_get_##name(sd_bus *bus, const char *path, const char *interface,    \
                                       const char *property, sd_bus_message *reply,             \
                                       void *userdata, sd_bus_error *error) {                   \
                VmBackup *b = userdata;                                                          \
                return sd_bus_message_append(reply, type, expr);                                 \
        }

BACKUP_PROPERTY_GETTER(pool, "s", b->pool)
BACKUP_PROPERTY_GETTER(checkpoint, "s", strempty(b->plan.checkpoint))
BACKUP_PROPERTY_GETTER(incremental, "s", strempty(b->plan.incremental))
BACKUP_PROPERTY_GETTER(quiesced, "b", b->plan.quiesce)
BACKUP_PROPERTY_GETTER(data_total, "t", b->total)
BACKUP_PROPERTY_GETTER(data_processed, "t", b->processed)

static int property_get_volumes(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        VmBackup *b = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "s");
        for (size_t i = 0; r >= 0 && i < b->plan.n_disks; i++)
                if (b->plan.disks[i].include)
                        r = sd_bus_message_append(reply, "s", b->plan.disks[i].name);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

#define CONST SD_BUS_VTABLE_PROPERTY_CONST
#define CHANGES SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE

const sd_bus_vtable backup_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Pool", "s", property_get_pool, 0, CONST),
        SD_BUS_PROPERTY("Checkpoint", "s", property_get_checkpoint, 0, CONST),
        SD_BUS_PROPERTY("Incremental", "s", property_get_incremental, 0, CONST),
        SD_BUS_PROPERTY("Quiesced", "b", property_get_quiesced, 0, CONST),
        SD_BUS_PROPERTY("Volumes", "as", property_get_volumes, 0, CONST),
        SD_BUS_PROPERTY("DataTotalBytes", "t", property_get_data_total, 0, CHANGES),
        SD_BUS_PROPERTY("DataProcessedBytes", "t", property_get_data_processed, 0, CHANGES),
        SD_BUS_VTABLE_END
};

/* VM.Backup: a fragment of org.hostagent1.VM beside vm_vtable. */
const sd_bus_vtable vm_backup_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("Backup", SD_BUS_ARGS("s", pool, "a{sv}", options), SD_BUS_RESULT("o", job),
                                method_vm_backup, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

int vm_backup_bus_register(Manager *m) {
        int r;

        r = job_register_resumable("backup", vm_backup_resume);
        if (r < 0)
                return r;
        /* On the job objects; the jobs' own enumerator lists them. */
        return bus_add_collection_interface(m->bus, JOB_PATH_PREFIX, BACKUP_INTERFACE, backup_vtable,
                                            backup_object_find, m);
}
