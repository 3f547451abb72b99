/* What polkit rules see of a VM: its name, UUID and owner */
#include "vm-auth.h"

#include "vm-spec.h"

/* Longer owners are not owners: a rule comparing with a group name fails. */
#define VM_OWNER_MAX 256

const char *vm_auth_owner(const Vm *vm) {
        static char owner[VM_OWNER_MAX];

        return vm_spec_text_owner(vm->info.spec, owner, sizeof owner);
}
