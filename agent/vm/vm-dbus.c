/* org.hostagent1.VM on the bus */
#include "vm-dbus.h"


#include "bus-auth.h"
#include "vm-auth.h"
#include "bus-collection.h"
#include "bus-error.h"
#include "log.h"
#include "macro.h"
#include "bus-work.h"
#include "domain-ops.h"
#include "job.h"
#include "vm-autostart.h"
#include "vm-backup.h"
#include "vm-console.h"
#include "vm-devices.h"
#include "vm-guest.h"
#include "vm-guest-dbus.h"
#include "vm-migrate-dbus.h"
#include "vm-shutdown.h"
#include "vm-snapshot.h"
#include "vm-stats-dbus.h"

/* What the Manager keeps built from the VMs (the ListVMs reply) and must
 * hear of when a VM comes, goes or changes its name or state: told through
 * the callback the Manager hands to vm_bus_register(), as the model tells
 * this glue through its VmListener. */
static void (*vm_bus_list_changed)(void);

static void vm_bus_tell_list_changed(void) {
        if (vm_bus_list_changed)
                vm_bus_list_changed();
}

/* Each announcement tells GetManagedObjects that the VM's kept entry is
 * out of date: the next one reads it afresh. */
static void vm_bus_announce(Vm *vm) {
        int r;

        bus_collection_added(vm->path);
        vm_bus_tell_list_changed();
        if (vm->manager->vm_synced)
                vm_snapshots_relist(vm->manager, vm->info.uuid);   /* the first ones come with the first full read */
        r = sd_bus_emit_object_added(vm->manager->bus, vm->path);
        if (r < 0)
                log_debug_errno(r, "Cannot emit InterfacesAdded for %s: %m", vm->path);
}

static void vm_bus_withdraw(Vm *vm) {
        int r;

        bus_collection_removed(vm->path);
        vm_bus_tell_list_changed();
        vm_snapshots_vm_removed(vm->manager, vm->info.uuid);
        r = sd_bus_emit_object_removed(vm->manager->bus, vm->path);
        if (r < 0)
                log_debug_errno(r, "Cannot emit InterfacesRemoved for %s: %m", vm->path);
}

/* ListVMs shows a VM's path, UUID (both for life), name and state. */
static bool vm_bus_listed(const char **names, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (streq(names[i], "Name") || streq(names[i], "State"))
                        return true;
        return false;
}

/* A snapshot made or merged by another client moves a disk to another file. */
static bool vm_bus_disks_changed(const char **names, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (streq(names[i], "Disks"))
                        return true;
        return false;
}

static void vm_bus_emit_changed(Vm *vm, const char **names, size_t n) {
        const char *strv[25];
        int r;

        n = n < ELEMENTSOF(strv) - 1 ? n : ELEMENTSOF(strv) - 1;
        memcpy(strv, names, n * sizeof *names);
        strv[n] = NULL;
        bus_collection_changed(vm->path);
        if (vm_bus_disks_changed(names, n))
                vm_snapshots_relist(vm->manager, vm->info.uuid);   /* libvirt tells no snapshot events */
        if (vm_bus_listed(names, n))
                vm_bus_tell_list_changed();
        r = sd_bus_emit_properties_changed_strv(vm->manager->bus, vm->path, VM_INTERFACE, (char **) strv);
        if (r < 0)
                log_debug_errno(r, "Cannot emit PropertiesChanged for %s: %m", vm->path);
}

static void vm_bus_emit_state(Vm *vm) {
        Manager *m = vm->manager;
        int r;

        /* NICs shows a tap only while the VM runs: a NIC's value follows the state. */
        vm_bus_emit_changed(vm, (const char *[]) { "State", "StateReason", "NICs" }, vm->info.n_nics > 0 ? 3 : 2);
        vm_snapshots_relist(m, vm->info.uuid);   /* a revert by another client, a merge that ended */
        r = sd_bus_emit_signal(m->bus, vm->path, VM_INTERFACE, "StateChanged", "sst",
                               vm_state_to_string(vm->info.state), vm->info.reason, ++m->sequence);
        if (r < 0)
                log_debug_errno(r, "Cannot emit StateChanged for %s: %m", vm->path);
}

static int vm_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                          void **found, sd_bus_error *error) {
        Vm *vm = vm_find_by_path(userdata, path);

        if (!vm)
                return 0;
        *found = vm;
        return 1;
}

typedef struct NodeList {
        char **nodes;
        size_t n;
} NodeList;

static void add_node(Vm *vm, void *userdata) {
        NodeList *l = userdata;
        char *copy = strdup(vm->path);

        if (copy)
                l->nodes[l->n++] = copy;
}

static int vm_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                              sd_bus_error *error) {
        Manager *m = userdata;
        NodeList l = { .nodes = calloc(vm_count(m) + 1, sizeof(char *)) };

        if (!l.nodes)
                return -ENOMEM;
        vm_foreach(m, add_node, &l);
        *nodes = l.nodes;
        return 0;
}

/* Properties: served from the model, never from libvirt. */

#define VM_PROPERTY_GETTER(name, type, expr)                                                    \
        static int property_get_##name(sd_bus *bus, const char *path, const char *interface,  \
                                       const char *property, sd_bus_message *reply,           \
                                       void *userdata, sd_bus_error *error) {                 \
                Vm *vm = userdata;                                                             \
                return sd_bus_message_append(reply, type, expr);                               \
        }

VM_PROPERTY_GETTER(uuid, "s", vm->info.uuid)
VM_PROPERTY_GETTER(name, "s", strempty(vm->info.name))
VM_PROPERTY_GETTER(state, "s", vm_state_to_string(vm->info.state) ?: "nostate")
VM_PROPERTY_GETTER(state_reason, "s", strempty(vm->info.reason))
VM_PROPERTY_GETTER(vcpus, "u", vm->info.vcpus)
VM_PROPERTY_GETTER(memory_mib, "t", vm->info.memory_mib)
VM_PROPERTY_GETTER(autostart, "b", vm->info.autostart)
VM_PROPERTY_GETTER(persistent, "b", vm->info.persistent)
VM_PROPERTY_GETTER(spec, "s", strempty(vm->info.spec))

static int property_get_graphics(sd_bus *bus, const char *path, const char *interface,
                                 const char *property, sd_bus_message *reply, void *userdata,
                                 sd_bus_error *error) {
        Vm *vm = userdata;

        return sd_bus_message_append(reply, "(ssi)", strempty(vm->info.graphics_type),
                                     strempty(vm->info.graphics_listen), vm->info.graphics_port);
}

/* Lifecycle methods: checked against the state we know, run on a worker,
 * answered when libvirt has done it. */

typedef DomainAction VmAction;

typedef struct VmActionInfo {
        const char *verb;
        VmState result_state;      /* what libvirt's success means, or _VM_STATE_INVALID */
        const char *result_reason;
} VmActionInfo;

static const VmActionInfo vm_actions[_DOMAIN_ACTION_MAX] = {
        [DOMAIN_ACTION_START]    = { "start",    VM_STATE_RUNNING, "booted" },
        [DOMAIN_ACTION_DESTROY]  = { "destroy",  VM_STATE_SHUTOFF, "destroyed" },
        [DOMAIN_ACTION_PAUSE]    = { "pause",    VM_STATE_PAUSED,  "user" },
        [DOMAIN_ACTION_RESUME]   = { "resume",   VM_STATE_RUNNING, "unpaused" },
        [DOMAIN_ACTION_REBOOT]   = { "reboot",   _VM_STATE_INVALID, NULL },
        [DOMAIN_ACTION_RESET]    = { "reset",    _VM_STATE_INVALID, NULL },
        [DOMAIN_ACTION_UNDEFINE] = { "undefine", _VM_STATE_INVALID, NULL },
};

/* NULL when ACTION makes sense in the VM's state, else why not. */
static const char *vm_action_refusal(Vm *vm, VmAction action) {
        VmState s = vm->info.state;

        /* Destroy aborts the migration first (vm_call_work()). */
        if (action != DOMAIN_ACTION_DESTROY && vm_migration_find_by_vm(vm->manager, vm->info.uuid))
                return "it is migrating (cancel the migration job first)";

        switch (action) {
        case DOMAIN_ACTION_START:
                return vm_state_is_active(s) ? "it is already running" : NULL;
        case DOMAIN_ACTION_DESTROY:
                return vm_state_is_active(s) ? NULL : "it is not running";
        case DOMAIN_ACTION_PAUSE:
                return s == VM_STATE_RUNNING || s == VM_STATE_BLOCKED ? NULL
                       : s == VM_STATE_PAUSED ? "it is already paused" : "it is not running";
        case DOMAIN_ACTION_RESUME:
                return s == VM_STATE_PAUSED ? NULL : "it is not paused";
        case DOMAIN_ACTION_REBOOT:
                return s == VM_STATE_RUNNING || s == VM_STATE_BLOCKED ? NULL : "it is not running";
        case DOMAIN_ACTION_RESET:
                return vm_state_is_active(s) ? NULL : "it is not running";
        case DOMAIN_ACTION_UNDEFINE:
                return vm->info.persistent ? NULL : "it is transient and goes away when it stops";
        default:
                return "unknown action";
        }
}

typedef struct VmCall {
        LibvirtCall base;   /* first: answered and submitted through it */
        VmAction action;
        bool abort_migration;   /* Destroy of a migrating VM */
        char uuid[VIR_UUID_STRING_BUFLEN];
        char *name;
} VmCall;

static void vm_call_free(VmCall *c) {
        if (!c)
                return;
        libvirt_call_done(&c->base);
        free(c->name);
        free(c);
}

static int vm_call_work(void *userdata) {
        VmCall *c = userdata;

        /* Its end is the migration thread's to report. */
        if (c->abort_migration)
                (void) migration_abort(c->base.conn, c->uuid, NULL);

        return domain_action(c->base.conn, c->uuid, c->action, &c->base.error);
}

static void vm_call_done(int result, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        VmCall *c = userdata;
        const VmActionInfo *a = &vm_actions[c->action];
        Vm *vm = vm_find(c->base.manager, c->uuid);

        if (result == -ECANCELED) {
                (void) bus_error_set_shutting_down(&error);
                (void) bus_call_reply_error(&c->base.call, &error);
        } else if (result < 0) {
                (void) bus_error_set(&error, result, c->base.error, "Cannot %s VM %s", a->verb, c->name);
                (void) bus_call_reply_error(&c->base.call, &error);
        } else {
                /* Answer with the state already in place: a client that reads
                 * State right after the reply sees the result, and the event
                 * that follows finds nothing left to change. */
                if (vm && a->result_state >= 0)
                        vm_set_state(vm, a->result_state, a->result_reason);
                if (vm && c->action == DOMAIN_ACTION_UNDEFINE) {
                        if (vm_state_is_active(vm->info.state))
                                (void) vm_refresh(c->base.manager, c->uuid);
                        else
                                vm_remove(vm);
                }
                (void) bus_call_reply_empty(&c->base.call);
        }
        vm_call_free(c);
}

static int vm_call_start(sd_bus_message *msg, Vm *vm, VmAction action, sd_bus_error *error) {
        Manager *m = vm->manager;
        const VmActionInfo *a = &vm_actions[action];
        const char *refusal;
        VmCall *c;
        int r;

        BUS_AUTHORIZE_OR_RETURN(msg, action == DOMAIN_ACTION_UNDEFINE ? BUS_ACTION_VM_CREATE : BUS_ACTION_VM_MANAGE,
                                VM_AUTH_DETAILS(vm), error);
        refusal = vm_action_refusal(vm, action);
        if (refusal)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_STATE, "Cannot %s VM %s: %s",
                                         a->verb, strempty(vm->info.name), refusal);

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->action = action;
        memcpy(c->uuid, vm->info.uuid, sizeof c->uuid);
        if (action == DOMAIN_ACTION_DESTROY) {
                VmMigration *mig = vm_migration_find_by_vm(m, vm->info.uuid);
                if (mig) {
                        vm_migration_note_destroy(mig);
                        c->abort_migration = true;
                }
        }
        c->name = strdup(strempty(vm->info.name));
        libvirt_call_init(&c->base, m, msg);
        if (!c->name) {
                vm_call_free(c);
                return -ENOMEM;
        }
        r = libvirt_call_submit(&c->base, vm_call_work, vm_call_done, error);
        if (r < 0) {
                vm_call_free(c);
                return r;
        }
        log_fields(LOG_INFO, LOG_FIELDS("VM_UUID", vm->info.uuid, "OBJECT_PATH", vm->path),
                   "Request to %s VM %s", a->verb, strempty(vm->info.name));
        return 1;
}

#define VM_METHOD(fname, action)                                                             \
        static int method_##fname(sd_bus_message *msg, void *userdata, sd_bus_error *error) { \
                return vm_call_start(msg, userdata, action, error);                          \
        }

VM_METHOD(start, DOMAIN_ACTION_START)
VM_METHOD(destroy, DOMAIN_ACTION_DESTROY)
VM_METHOD(pause, DOMAIN_ACTION_PAUSE)
VM_METHOD(resume, DOMAIN_ACTION_RESUME)
VM_METHOD(reboot, DOMAIN_ACTION_REBOOT)
VM_METHOD(reset, DOMAIN_ACTION_RESET)
VM_METHOD(undefine, DOMAIN_ACTION_UNDEFINE)

#define CHANGES SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE

const sd_bus_vtable vm_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("UUID", "s", property_get_uuid, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Name", "s", property_get_name, 0, CHANGES),
        SD_BUS_PROPERTY("State", "s", property_get_state, 0, CHANGES),
        SD_BUS_PROPERTY("StateReason", "s", property_get_state_reason, 0, CHANGES),
        SD_BUS_PROPERTY("VCPUs", "u", property_get_vcpus, 0, CHANGES),
        SD_BUS_PROPERTY("MemoryMiB", "t", property_get_memory_mib, 0, CHANGES),
        /* Writes are taken by vm_autostart_filter(), which answers after libvirt. */
        SD_BUS_WRITABLE_PROPERTY("Autostart", "b", property_get_autostart, vm_autostart_set_refused, 0,
                                 CHANGES | SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_PROPERTY("Persistent", "b", property_get_persistent, 0, CHANGES),
        SD_BUS_PROPERTY("Spec", "s", property_get_spec, 0, CHANGES),
        SD_BUS_PROPERTY("Graphics", "(ssi)", property_get_graphics, 0, CHANGES),
        SD_BUS_PROPERTY("Migration", "o", vm_migration_property_get, 0, CHANGES),
        SD_BUS_SIGNAL_WITH_ARGS("StateChanged", SD_BUS_ARGS("s", state, "s", reason, "t", sequence), 0),
        SD_BUS_METHOD_WITH_ARGS("Start", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_start,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Destroy", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_destroy,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Pause", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_pause,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Resume", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_resume,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Reboot", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_reboot,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Reset", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_reset,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Undefine", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_undefine,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Shutdown", SD_BUS_ARGS("u", timeout_sec), SD_BUS_RESULT("o", job),
                                method_vm_shutdown, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetConsoleTicket", SD_BUS_ARGS("s", password, "u", ttl_sec), SD_BUS_NO_RESULT,
                                method_vm_set_console_ticket, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("GetStats", SD_BUS_NO_ARGS, SD_BUS_RESULT("a{sv}", stats),
                                method_vm_get_stats, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Migrate", SD_BUS_ARGS("s", destination, "a{sv}", options), SD_BUS_RESULT("o", job),
                                method_vm_migrate, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

static const VmListener vm_bus_listener = {
        .added = vm_bus_announce,
        .removed = vm_bus_withdraw,
        .changed = vm_bus_emit_changed,
        .state_changed = vm_bus_emit_state,
        .follow = vm_guest_follow,
        .agent_event = vm_guest_agent_event,
        .block_job = vm_snapshot_block_job_event,
        .job_completed = vm_backup_job_completed,
};

int vm_bus_register(Manager *m, void (*list_changed)(void)) {
        int r;

        vm_bus_list_changed = list_changed;
        vm_set_listener(m, &vm_bus_listener);
        r = job_register_resumable("shutdown", vm_shutdown_resume);
        if (r < 0)
                return r;
        r = vm_migration_bus_register(m);
        if (r < 0)
                return r;
        r = vm_backup_bus_register(m);
        if (r < 0)
                return r;
        r = bus_add_cached_collection(m->bus, VM_PATH_PREFIX, VM_INTERFACE, vm_vtable, vm_object_find,
                                      vm_node_enumerator, m);
        if (r < 0)
                return r;
        /* Devices, memory and vCPUs (vm-devices-dbus.c): more of the same interface. */
        r = bus_add_collection_vtable(m->bus, VM_PATH_PREFIX, VM_INTERFACE, vm_devices_vtable);
        if (r < 0)
                return r;
        /* The guest agent (vm-guest-dbus.c). */
        r = bus_add_collection_vtable(m->bus, VM_PATH_PREFIX, VM_INTERFACE, vm_guest_vtable);
        if (r < 0)
                return r;
        /* Snapshots (vm-snapshot-dbus.c): more of the VM, and the Snapshot objects. */
        r = vm_snapshot_bus_register(m);
        if (r < 0)
                return r;
        /* Backup (vm-backup-dbus.c). */
        r = bus_add_collection_vtable(m->bus, VM_PATH_PREFIX, VM_INTERFACE, vm_backup_vtable);
        if (r < 0)
                return r;
        r = sd_bus_add_filter(m->bus, NULL, vm_autostart_filter, m);
        if (r < 0)
                return log_error_errno(r, "Cannot install the Autostart filter: %m");
        return 0;
}
