/* org.hostagent1.VM on the bus */
#pragma once

#include <systemd/sd-bus.h>

#include "manager.h"
#include "vm.h"

extern const sd_bus_vtable vm_vtable[];

/* Serves every VM, and shows the model's changes as signals from now on.
 * LIST_CHANGED (may be NULL) is called when a VM comes, goes, or changes
 * what ListVMs shows (name, state): the Manager's kept reply is then stale. */
int vm_bus_register(Manager *m, void (*list_changed)(void));
