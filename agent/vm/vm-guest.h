/* A VM's guest agent: GuestAgent, GuestInfo and GuestAddresses kept current off the loop */
#pragma once

#include <stdbool.h>

#include "guest-agent.h"

typedef struct Manager Manager;
typedef struct Vm Vm;

/* Loop thread: after VM's run state or agent state changed (or it was
 * published): reads what its connected agent says, or forgets it when there
 * is no agent to ask. */
void vm_guest_follow(Vm *vm);

/* Loop thread: libvirt's agent lifecycle event for the domain UUID. */
void vm_guest_agent_event(Manager *m, const char *uuid, bool connected);

/* Loop thread: reads again every --guest-info-interval seconds (0: never). */
int vm_guest_timer_start(Manager *m);
void vm_guest_timer_stop(Manager *m);
