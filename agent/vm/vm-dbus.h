/* org.hostagent1.VM on the bus */
#pragma once

#include <systemd/sd-bus.h>

#include "manager.h"
#include "vm.h"

extern const sd_bus_vtable vm_vtable[];

int vm_bus_register(Manager *m);

/* /org/hostagent1/vm/<uuid, path-encoded> and back. */
int vm_bus_path(const char *uuid, char **ret_path);
int vm_bus_path_decode(const char *path, char **ret_uuid);

void vm_bus_announce(Vm *vm);   /* InterfacesAdded */
void vm_bus_withdraw(Vm *vm);   /* InterfacesRemoved */
void vm_bus_emit_changed(Vm *vm, const char **names, size_t n);
/* PropertiesChanged for State and StateReason, then StateChanged. */
void vm_bus_emit_state(Vm *vm);
