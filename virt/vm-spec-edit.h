/* Edits of a stored VM spec (JSON text), so that Spec says what the VM is after each change */
#pragma once

#include <stdint.h>

#include "vm-spec.h"

typedef enum VmSpecEditKind {
        VM_SPEC_EDIT_ADD_DISK,       /* DISK, with its target */
        VM_SPEC_EDIT_REMOVE_DISK,    /* KEY: the target */
        VM_SPEC_EDIT_ADD_NIC,        /* NIC */
        VM_SPEC_EDIT_REMOVE_NIC,     /* KEY: the MAC */
        VM_SPEC_EDIT_MEMORY,         /* VALUE MiB */
        VM_SPEC_EDIT_VCPUS,          /* VALUE */
        VM_SPEC_EDIT_DISK_FILE,      /* KEY: the target; DISK->path the file it runs on now, DISK->format its
                                      * format (a pool's volume: the file's name is the volume's) */
} VmSpecEditKind;

typedef struct VmSpecEdit {
        VmSpecEditKind kind;
        const VmSpecDisk *disk;
        const VmSpecNic *nic;
        const char *key;
        uint64_t value;
} VmSpecEdit;

/* SPEC (a stored spec) with EDIT made, every disk's target written out (a
 * disk removed must not move the others), into RET. -EINVAL when SPEC is
 * not a spec; -ENOENT when what EDIT removes is not in it. */
int vm_spec_edit(const char *spec, const VmSpecEdit *edit, char **ret);
