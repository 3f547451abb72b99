/* VM.Migrate and org.hostagent1.Migration on the bus: the glue reads, checks, authorizes and hands over */
#include "vm-migrate-dbus.h"

#include <string.h>

#include "bus-auth.h"
#include "bus-collection.h"
#include "bus-error.h"
#include "bus-options.h"
#include "bus-work.h"
#include "error-text.h"
#include "job.h"
#include "log.h"
#include "macro.h"
#include "storage.h"
#include "vm-busy.h"
#include "virt-cleanup.h"

#define DESTINATION_MAX 1024

void vm_migration_bus_emit(VmMigration *mig, const char **names) {
        int r;

        if (!mig->job_path)
                return;
        r = sd_bus_emit_properties_changed_strv(mig->manager->bus, mig->job_path, MIGRATION_INTERFACE,
                                                (char **) names);
        if (r < 0)
                log_debug_errno(r, "Cannot emit PropertiesChanged for %s: %m", mig->job_path);
}

void vm_migration_bus_emit_vm(Manager *m, const char *vm_path) {
        /* The VM may be gone already (undefined at the source once it moved). */
        if (vm_find_by_path(m, vm_path))
                (void) sd_bus_emit_properties_changed(m->bus, vm_path, VM_INTERFACE, "Migration", NULL);
}

int vm_migration_property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        VmMigration *mig = vm_migration_find_by_vm(vm->manager, vm->info.uuid);

        return sd_bus_message_append(reply, "o", mig && mig->job ? mig->job_path : "/");
}

static int destination_check(const char *dest, sd_bus_error *error) {
        if (!*dest || strlen(dest) > DESTINATION_MAX || !strstr(dest, "://") || strpbrk(dest, " \t\r\n"))
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS, "destination: must be the destination "
                                         "host's libvirt URI (qemu+tcp://host/system), got '%s'", TEXT_CUT(dest));
        return 0;
}

/* One option's variant, read by its own type; V->type 0 when it is none of ours. */
static int option_read_value(sd_bus_message *msg, MigrationValue *v) {
        const char *contents;
        int r;

        r = sd_bus_message_peek_type(msg, NULL, &contents);
        if (r < 0)
                return r;
        if (strlen(contents) != 1 || !strchr("sutb", contents[0])) {
                v->type = 0;
                return sd_bus_message_skip(msg, "v");
        }
        v->type = contents[0];
        r = sd_bus_message_enter_container(msg, 'v', contents);
        if (r < 0)
                return r;
        if (v->type == 'b') {
                int b;
                r = sd_bus_message_read_basic(msg, 'b', &b);
                v->b = b;
        } else
                r = sd_bus_message_read_basic(msg, v->type, v->type == 's' ? (void *) &v->s
                                                          : v->type == 'u' ? (void *) &v->u : (void *) &v->t);
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(msg);
}

static int option_read(sd_bus_message *msg, const char *key, void *userdata, sd_bus_error *error) {
        _cleanup_(freep) char *why = NULL;
        MigrationValue v = {};
        int r;

        r = option_read_value(msg, &v);
        if (r < 0)
                return r;
        if (!migration_option_type(key))
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS, "options.%s: unknown option",
                                         TEXT_CUT(key));
        r = migration_options_set(userdata, key, &v, &why);
        if (r == -EINVAL)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS, "options.%s", strempty(why));
        return r;
}

static int options_read(sd_bus_message *msg, MigrationOptions *o, sd_bus_error *error) {
        return bus_options_read(msg, option_read, o, error);
}

static const char *pool_type_of(const char *name, void *userdata) {
        Pool *p = storage_pool_find(userdata, name);

        return p ? pool_type_to_string(p->spec.type) : NULL;
}

/* What refuses the call before a job is made: the VM's state and its disks. */
static int migrate_refusal(Vm *vm, const MigrationOptions *o, sd_bus_error *error) {
        Manager *m = vm->manager;
        _cleanup_(freep) char *why = NULL;
        char busy[VM_BUSY_TEXT_MAX];
        const char *why_busy;
        VmMigration *mig;
        int r;

        if (!vm_state_is_active(vm->info.state))
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_STATE, "Cannot migrate VM %s: it is not "
                                         "running", strempty(vm->info.name));
        mig = vm_migration_find_by_vm(m, vm->info.uuid);
        if (mig)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_STATE, "Cannot migrate VM %s: it is "
                                         "migrating already (%s)", strempty(vm->info.name),
                                         mig->job_path ?: "its destination has not accepted it yet");
        why_busy = vm_busy_with(m, vm->info.uuid, VM_BUSY_BACKUP | VM_BUSY_MERGE, NULL, busy, sizeof busy);
        if (why_busy)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_STATE, "Cannot migrate VM %s: %s",
                                         strempty(vm->info.name), why_busy);
        if (!o->allow_unsafe) {
                r = migration_check_storage(vm->info.spec, pool_type_of, m, &why);
                if (r < 0)
                        return bus_error_set(error, r, why, "Cannot migrate VM %s", strempty(vm->info.name));
        }
        if (m->stopping)
                return bus_work_error_submit(m, -ESHUTDOWN, error);
        if (!libvirt_conn_is_connected(m->libvirt))
                return bus_work_error_libvirt_unavailable(m, error);
        return 0;
}

int method_vm_migrate(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(migration_options_done) MigrationOptions o = {};
        _cleanup_(freep) char *why = NULL;
        Vm *vm = userdata;
        Manager *m = vm->manager;
        const char *dest;
        int r;

        r = sd_bus_message_read(msg, "s", &dest);
        if (r < 0)
                return r;
        BUS_AUTHORIZE_OR_RETURN(msg, BUS_ACTION_VM_MIGRATE,
                                BUS_DETAILS("vm", vm->info.name, "uuid", vm->info.uuid, "destination", dest), error);
        r = destination_check(dest, error);
        if (r < 0)
                return r;
        migration_options_init(&o, m->options->migration_bandwidth_mib);
        r = options_read(msg, &o, error);
        if (r < 0)
                return r;
        if (migration_options_check(&o, &why) < 0)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS, "options.%s", strempty(why));
        r = migrate_refusal(vm, &o, error);
        if (r < 0)
                return r;
        log_fields(LOG_INFO, LOG_FIELDS("VM_UUID", vm->info.uuid, "OBJECT_PATH", vm->path),
                   "Request to migrate VM %s to %s", strempty(vm->info.name), dest);
        /* Answered once the destination accepted it and the job is on disk,
         * or at once with a queued job. */
        return vm_migration_request(m, vm, dest, &o, msg, error);
}

static int migration_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                                 void **found, sd_bus_error *error) {
        VmMigration *mig = vm_migration_find_by_job_path(userdata, path);

        if (!mig)
                return 0;
        *found = mig;
        return 1;
}

#define MIGRATION_PROPERTY_GETTER(name, type, expr)                                               \
        static int property_get_##name(sd_bus *bus, const char *path, const char *interface,    \
                                       const char *property, sd_bus_message *reply,             \
                                       void *userdata, sd_bus_error *error) {                   \
                VmMigration *mig = userdata;                                                     \
                return sd_bus_message_append(reply, type, expr);                                 \
        }

MIGRATION_PROPERTY_GETTER(phase, "s", migration_phase_to_string(mig->phase))
MIGRATION_PROPERTY_GETTER(destination, "s", mig->destination)
MIGRATION_PROPERTY_GETTER(data_total, "t", mig->stats.data_total)
MIGRATION_PROPERTY_GETTER(data_processed, "t", mig->stats.data_processed)
MIGRATION_PROPERTY_GETTER(data_remaining, "t", mig->stats.data_remaining)
MIGRATION_PROPERTY_GETTER(dirty_rate, "t", mig->stats.dirty_rate)
MIGRATION_PROPERTY_GETTER(iteration, "t", mig->stats.iteration)
MIGRATION_PROPERTY_GETTER(downtime, "t", mig->downtime_ms)
MIGRATION_PROPERTY_GETTER(elapsed, "t", mig->elapsed_ms)
MIGRATION_PROPERTY_GETTER(bandwidth, "u", mig->bandwidth_mib)

/* SetMaxDowntime, SetBandwidth, StartPostCopy: libvirt's answer is the reply. */
typedef enum MigrationTune {
        MIGRATION_TUNE_DOWNTIME,
        MIGRATION_TUNE_BANDWIDTH,
        MIGRATION_TUNE_POSTCOPY,
} MigrationTune;

typedef struct TuneCall {
        LibvirtCall base;   /* first */
        MigrationTune what;
        uint64_t value;
        char uuid[VIR_UUID_STRING_BUFLEN];
        char *job_path;     /* the migration may end meanwhile: found again */
} TuneCall;

static int tune_work(void *userdata) {
        TuneCall *c = userdata;

        switch (c->what) {
        case MIGRATION_TUNE_DOWNTIME:
                return migration_set_max_downtime(c->base.conn, c->uuid, c->value, &c->base.error);
        case MIGRATION_TUNE_BANDWIDTH:
                return migration_set_bandwidth(c->base.conn, c->uuid, (uint32_t) c->value, &c->base.error);
        default:
                return migration_start_postcopy(c->base.conn, c->uuid, &c->base.error);
        }
}

static void tune_applied(VmMigration *mig, TuneCall *c) {
        switch (c->what) {
        case MIGRATION_TUNE_DOWNTIME:
                /* The caller's word ends the steps: the next stall is the last. */
                mig->downtime_ms = mig->policy.downtime_ms = mig->policy.max_downtime_ms = c->value;
                mig->policy.step = MIGRATION_DOWNTIME_STEPS;
                vm_migration_bus_emit(mig, (const char *[]) { "DowntimeMs", NULL });
                break;
        case MIGRATION_TUNE_BANDWIDTH:
                mig->bandwidth_mib = (uint32_t) c->value;
                vm_migration_bus_emit(mig, (const char *[]) { "BandwidthMiB", NULL });
                break;
        default:
                mig->policy.postcopy = true;
                mig->phase = MIGRATION_PHASE_POSTCOPY;
                vm_migration_bus_emit(mig, (const char *[]) { "Phase", NULL });
        }
}

static void tune_done(int result, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        TuneCall *c = userdata;
        VmMigration *mig = vm_migration_find_by_job_path(c->base.manager, c->job_path);

        if (result == -ECANCELED)
                (void) bus_error_set_shutting_down(&error);
        else if (result < 0)
                (void) bus_error_set(&error, result, c->base.error, "Cannot change the migration %s", c->job_path);
        else if (mig && mig->job)
                tune_applied(mig, c);
        if (sd_bus_error_is_set(&error))
                (void) bus_call_reply_error(&c->base.call, &error);
        else
                (void) bus_call_reply_empty(&c->base.call);
        libvirt_call_done(&c->base);
        free(c->job_path);
        free(c);
}

static int tune_start(sd_bus_message *msg, VmMigration *mig, MigrationTune what, uint64_t value,
                      sd_bus_error *error) {
        TuneCall *c;
        int r;

        if (!mig->job || mig->phase == MIGRATION_PHASE_QUEUED)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_STATE, "Migration %s is %s, not running",
                                         mig->job_path, migration_phase_to_string(mig->phase));
        if (what == MIGRATION_TUNE_POSTCOPY && mig->phase == MIGRATION_PHASE_POSTCOPY)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_STATE, "Migration %s is in post-copy already",
                                         mig->job_path);
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->what = what;
        c->value = value;
        memcpy(c->uuid, mig->uuid, sizeof c->uuid);
        libvirt_call_init(&c->base, mig->manager, msg);
        c->job_path = strdup(mig->job_path);
        r = c->job_path ? libvirt_call_submit(&c->base, tune_work, tune_done, error) : -ENOMEM;
        if (r < 0) {
                libvirt_call_done(&c->base);
                free(c->job_path);
                free(c);
        }
        return r;
}

/* What polkit rules see of a running migration: its VM and destination. */
#define MIGRATION_AUTH_DETAILS(mig) \
        BUS_DETAILS("vm", (mig)->vm_name, "uuid", (mig)->uuid, "destination", (mig)->destination)

static int method_set_max_downtime(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        VmMigration *mig = userdata;
        uint64_t ms;
        int r;

        BUS_AUTHORIZE_OR_RETURN(msg, BUS_ACTION_VM_MIGRATE, MIGRATION_AUTH_DETAILS(mig), error);
        r = sd_bus_message_read(msg, "t", &ms);
        if (r < 0)
                return r;
        if (ms < 1 || ms > MIGRATION_DOWNTIME_MAX_MS)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS, "ms: must be between 1 and %llu",
                                         (unsigned long long) MIGRATION_DOWNTIME_MAX_MS);
        return tune_start(msg, userdata, MIGRATION_TUNE_DOWNTIME, ms, error);
}

static int method_set_bandwidth(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        VmMigration *mig = userdata;
        uint32_t mib;
        int r;

        BUS_AUTHORIZE_OR_RETURN(msg, BUS_ACTION_VM_MIGRATE, MIGRATION_AUTH_DETAILS(mig), error);
        r = sd_bus_message_read(msg, "u", &mib);
        if (r < 0)
                return r;
        if (mib > MIGRATION_BANDWIDTH_MAX_MIB)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS, "mib: must be at most %u (0: no cap)",
                                         MIGRATION_BANDWIDTH_MAX_MIB);
        return tune_start(msg, userdata, MIGRATION_TUNE_BANDWIDTH, mib, error);
}

static int method_start_post_copy(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        VmMigration *mig = userdata;

        BUS_AUTHORIZE_OR_RETURN(msg, BUS_ACTION_VM_MIGRATE, MIGRATION_AUTH_DETAILS(mig), error);
        if (mig->options.convergence != MIGRATION_CONVERGENCE_POSTCOPY)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_STATE, "Migration %s was not started with "
                                         "convergence postcopy", mig->job_path);
        return tune_start(msg, mig, MIGRATION_TUNE_POSTCOPY, 0, error);
}

#define CHANGES SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE

const sd_bus_vtable migration_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Phase", "s", property_get_phase, 0, CHANGES),
        SD_BUS_PROPERTY("Destination", "s", property_get_destination, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("DataTotalBytes", "t", property_get_data_total, 0, CHANGES),
        SD_BUS_PROPERTY("DataProcessedBytes", "t", property_get_data_processed, 0, CHANGES),
        SD_BUS_PROPERTY("DataRemainingBytes", "t", property_get_data_remaining, 0, CHANGES),
        SD_BUS_PROPERTY("DirtyRateBytesPerSec", "t", property_get_dirty_rate, 0, CHANGES),
        SD_BUS_PROPERTY("Iteration", "t", property_get_iteration, 0, CHANGES),
        SD_BUS_PROPERTY("DowntimeMs", "t", property_get_downtime, 0, CHANGES),
        SD_BUS_PROPERTY("ElapsedMs", "t", property_get_elapsed, 0, CHANGES),
        SD_BUS_PROPERTY("BandwidthMiB", "u", property_get_bandwidth, 0, CHANGES),
        SD_BUS_METHOD_WITH_ARGS("SetMaxDowntime", SD_BUS_ARGS("t", ms), SD_BUS_NO_RESULT, method_set_max_downtime,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetBandwidth", SD_BUS_ARGS("u", mib), SD_BUS_NO_RESULT, method_set_bandwidth,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("StartPostCopy", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_start_post_copy,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

static bool vm_migrating(Manager *m, const char *uuid, const char **ret_job_path) {
        VmMigration *mig = vm_migration_find_by_vm(m, uuid);

        if (mig)
                *ret_job_path = mig->job_path;
        return mig;
}

int vm_migration_bus_register(Manager *m) {
        int r;

        vm_busy_set_migration_probe(vm_migrating);

        r = job_register_resumable("migrate", vm_migration_resume);
        if (r < 0)
                return r;
        /* On the job objects; the jobs' own enumerator lists them. */
        return bus_add_collection_interface(m->bus, JOB_PATH_PREFIX, MIGRATION_INTERFACE, migration_vtable,
                                            migration_object_find, m);
}
