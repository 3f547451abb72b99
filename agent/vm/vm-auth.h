/* What polkit rules see of a VM: its name, UUID and owner */
#pragma once

#include "bus-auth.h"
#include "vm.h"

/* The details of an action on VM: action.lookup("vm"), ("uuid"), ("owner"). */
#define VM_AUTH_DETAILS(vm) \
        BUS_DETAILS("vm", (vm)->info.name, "uuid", (vm)->info.uuid, "owner", vm_auth_owner(vm))

/* metadata.owner of the spec VM was created from, or NULL. Loop thread:
 * the text lives until the next call. */
const char *vm_auth_owner(const Vm *vm);
