/* VM run states and their reasons as strings, from libvirt's states and events */
#include "vm-state.h"

#include <libvirt/libvirt.h>

static const char *const vm_state_table[_VM_STATE_MAX] = {
        [VM_STATE_NOSTATE] = "nostate",
        [VM_STATE_RUNNING] = "running",
        [VM_STATE_BLOCKED] = "blocked",
        [VM_STATE_PAUSED] = "paused",
        [VM_STATE_SHUTDOWN] = "shutdown",
        [VM_STATE_SHUTOFF] = "shutoff",
        [VM_STATE_CRASHED] = "crashed",
        [VM_STATE_PMSUSPENDED] = "pmsuspended",
};

DEFINE_STRING_TABLE_LOOKUP(vm_state, VmState)

/* Reasons by state, indexed by libvirt's virDomain<State>Reason values. */
static const char *const running_reasons[] = {
        [VIR_DOMAIN_RUNNING_UNKNOWN] = "unknown",
        [VIR_DOMAIN_RUNNING_BOOTED] = "booted",
        [VIR_DOMAIN_RUNNING_MIGRATED] = "migrated",
        [VIR_DOMAIN_RUNNING_RESTORED] = "restored",
        [VIR_DOMAIN_RUNNING_FROM_SNAPSHOT] = "from-snapshot",
        [VIR_DOMAIN_RUNNING_UNPAUSED] = "unpaused",
        [VIR_DOMAIN_RUNNING_MIGRATION_CANCELED] = "migration-canceled",
        [VIR_DOMAIN_RUNNING_SAVE_CANCELED] = "save-canceled",
        [VIR_DOMAIN_RUNNING_WAKEUP] = "wakeup",
        [VIR_DOMAIN_RUNNING_CRASHED] = "crashed",
        [VIR_DOMAIN_RUNNING_POSTCOPY] = "postcopy",
        [VIR_DOMAIN_RUNNING_POSTCOPY_FAILED] = "postcopy-failed",
};

static const char *const paused_reasons[] = {
        [VIR_DOMAIN_PAUSED_UNKNOWN] = "unknown",
        [VIR_DOMAIN_PAUSED_USER] = "user",
        [VIR_DOMAIN_PAUSED_MIGRATION] = "migration",
        [VIR_DOMAIN_PAUSED_SAVE] = "save",
        [VIR_DOMAIN_PAUSED_DUMP] = "dump",
        [VIR_DOMAIN_PAUSED_IOERROR] = "io-error",
        [VIR_DOMAIN_PAUSED_WATCHDOG] = "watchdog",
        [VIR_DOMAIN_PAUSED_FROM_SNAPSHOT] = "from-snapshot",
        [VIR_DOMAIN_PAUSED_SHUTTING_DOWN] = "shutting-down",
        [VIR_DOMAIN_PAUSED_SNAPSHOT] = "snapshot",
        [VIR_DOMAIN_PAUSED_CRASHED] = "crashed",
        [VIR_DOMAIN_PAUSED_STARTING_UP] = "starting-up",
        [VIR_DOMAIN_PAUSED_POSTCOPY] = "postcopy",
        [VIR_DOMAIN_PAUSED_POSTCOPY_FAILED] = "postcopy-failed",
};

static const char *const shutdown_reasons[] = {
        [VIR_DOMAIN_SHUTDOWN_UNKNOWN] = "unknown",
        [VIR_DOMAIN_SHUTDOWN_USER] = "user",
};

static const char *const shutoff_reasons[] = {
        [VIR_DOMAIN_SHUTOFF_UNKNOWN] = "unknown",
        [VIR_DOMAIN_SHUTOFF_SHUTDOWN] = "shutdown",
        [VIR_DOMAIN_SHUTOFF_DESTROYED] = "destroyed",
        [VIR_DOMAIN_SHUTOFF_CRASHED] = "crashed",
        [VIR_DOMAIN_SHUTOFF_MIGRATED] = "migrated",
        [VIR_DOMAIN_SHUTOFF_SAVED] = "saved",
        [VIR_DOMAIN_SHUTOFF_FAILED] = "failed",
        [VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT] = "from-snapshot",
        [VIR_DOMAIN_SHUTOFF_DAEMON] = "daemon",
};

static const char *const crashed_reasons[] = {
        [VIR_DOMAIN_CRASHED_UNKNOWN] = "unknown",
        [VIR_DOMAIN_CRASHED_PANICKED] = "panicked",
};

static const char *pick(const char *const *table, size_t n, int i) {
        if (i < 0 || (size_t) i >= n || !table[i])
                return "unknown";
        return table[i];
}

#define PICK(table, i) pick(table, ELEMENTSOF(table), i)

const char *vm_reason_from_libvirt(int state, int reason) {
        switch (state) {
        case VIR_DOMAIN_RUNNING:
                return PICK(running_reasons, reason);
        case VIR_DOMAIN_PAUSED:
                return PICK(paused_reasons, reason);
        case VIR_DOMAIN_SHUTDOWN:
                return PICK(shutdown_reasons, reason);
        case VIR_DOMAIN_SHUTOFF:
                return PICK(shutoff_reasons, reason);
        case VIR_DOMAIN_CRASHED:
                return PICK(crashed_reasons, reason);
        default:
                return "unknown";
        }
}

/* Event details, by event type, as the reason the state then has. */
static const char *const started_details[] = {
        [VIR_DOMAIN_EVENT_STARTED_BOOTED] = "booted",
        [VIR_DOMAIN_EVENT_STARTED_MIGRATED] = "migrated",
        [VIR_DOMAIN_EVENT_STARTED_RESTORED] = "restored",
        [VIR_DOMAIN_EVENT_STARTED_FROM_SNAPSHOT] = "from-snapshot",
        [VIR_DOMAIN_EVENT_STARTED_WAKEUP] = "wakeup",
};

static const char *const suspended_details[] = {
        [VIR_DOMAIN_EVENT_SUSPENDED_PAUSED] = "user",
        [VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED] = "migration",
        [VIR_DOMAIN_EVENT_SUSPENDED_IOERROR] = "io-error",
        [VIR_DOMAIN_EVENT_SUSPENDED_WATCHDOG] = "watchdog",
        [VIR_DOMAIN_EVENT_SUSPENDED_RESTORED] = "restored",
        [VIR_DOMAIN_EVENT_SUSPENDED_FROM_SNAPSHOT] = "from-snapshot",
        [VIR_DOMAIN_EVENT_SUSPENDED_API_ERROR] = "api-error",
        [VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY] = "postcopy",
        [VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY_FAILED] = "postcopy-failed",
};

static const char *const resumed_details[] = {
        [VIR_DOMAIN_EVENT_RESUMED_UNPAUSED] = "unpaused",
        [VIR_DOMAIN_EVENT_RESUMED_MIGRATED] = "migrated",
        [VIR_DOMAIN_EVENT_RESUMED_FROM_SNAPSHOT] = "from-snapshot",
        [VIR_DOMAIN_EVENT_RESUMED_POSTCOPY] = "postcopy",
        [VIR_DOMAIN_EVENT_RESUMED_POSTCOPY_FAILED] = "postcopy-failed",
};

static const char *const stopped_details[] = {
        [VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN] = "shutdown",
        [VIR_DOMAIN_EVENT_STOPPED_DESTROYED] = "destroyed",
        [VIR_DOMAIN_EVENT_STOPPED_CRASHED] = "crashed",
        [VIR_DOMAIN_EVENT_STOPPED_MIGRATED] = "migrated",
        [VIR_DOMAIN_EVENT_STOPPED_SAVED] = "saved",
        [VIR_DOMAIN_EVENT_STOPPED_FAILED] = "failed",
        [VIR_DOMAIN_EVENT_STOPPED_FROM_SNAPSHOT] = "from-snapshot",
};

static const char *const crashed_details[] = {
        [VIR_DOMAIN_EVENT_CRASHED_PANICKED] = "panicked",
        [VIR_DOMAIN_EVENT_CRASHED_CRASHLOADED] = "crashloaded",
};

bool vm_state_from_event(int event, int detail, VmState *ret_state, const char **ret_reason) {
        switch (event) {
        case VIR_DOMAIN_EVENT_STARTED:
                /* A domain started for an incoming migration waits, paused,
                 * for the memory; RESUMED_MIGRATED follows. */
                *ret_state = detail == VIR_DOMAIN_EVENT_STARTED_MIGRATED ? VM_STATE_PAUSED : VM_STATE_RUNNING;
                *ret_reason = detail == VIR_DOMAIN_EVENT_STARTED_MIGRATED ? "incoming" : PICK(started_details, detail);
                return true;
        case VIR_DOMAIN_EVENT_SUSPENDED:
                *ret_state = VM_STATE_PAUSED;
                *ret_reason = PICK(suspended_details, detail);
                return true;
        case VIR_DOMAIN_EVENT_RESUMED:
                *ret_state = VM_STATE_RUNNING;
                *ret_reason = PICK(resumed_details, detail);
                return true;
        case VIR_DOMAIN_EVENT_STOPPED:
                *ret_state = VM_STATE_SHUTOFF;
                *ret_reason = PICK(stopped_details, detail);
                return true;
        case VIR_DOMAIN_EVENT_SHUTDOWN:
                /* The guest is shutting down (or has finished); STOPPED follows. */
                *ret_state = VM_STATE_SHUTDOWN;
                *ret_reason = "user";
                return true;
        case VIR_DOMAIN_EVENT_PMSUSPENDED:
                *ret_state = VM_STATE_PMSUSPENDED;
                *ret_reason = detail == VIR_DOMAIN_EVENT_PMSUSPENDED_DISK ? "disk" : "memory";
                return true;
        case VIR_DOMAIN_EVENT_CRASHED:
                *ret_state = VM_STATE_CRASHED;
                *ret_reason = PICK(crashed_details, detail);
                return true;
        default:
                return false;
        }
}

bool vm_state_is_active(VmState s) {
        return s != VM_STATE_SHUTOFF && s != VM_STATE_NOSTATE && s >= 0;
}
