/* VM run states and their reasons as strings, from libvirt's states and events */
#pragma once

#include <stdbool.h>

#include "macro.h"

/* Same order as virDomainState, so a libvirt state converts by value. */
typedef enum VmState {
        VM_STATE_NOSTATE,
        VM_STATE_RUNNING,
        VM_STATE_BLOCKED,
        VM_STATE_PAUSED,
        VM_STATE_SHUTDOWN,
        VM_STATE_SHUTOFF,
        VM_STATE_CRASHED,
        VM_STATE_PMSUSPENDED,
        _VM_STATE_MAX,
        _VM_STATE_INVALID = -EINVAL,
} VmState;

const char *vm_state_to_string(VmState s);
VmState vm_state_from_string(const char *s);

/* The reason string for virDomainGetState()'s (state, reason): "user",
 * "booted", "io-error", "destroyed", ...; "unknown" for what we don't know. */
const char *vm_reason_from_libvirt(int state, int reason);

/* What a lifecycle event (virDomainEventType, detail) says about the run
 * state. Returns false for events that say nothing about it (DEFINED,
 * UNDEFINED), true with RET_STATE and RET_REASON set otherwise. */
bool vm_state_from_event(int event, int detail, VmState *ret_state, const char **ret_reason);

/* Whether a VM in this state has a QEMU process. */
bool vm_state_is_active(VmState s);
