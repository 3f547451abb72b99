/* What long operation runs on a VM: one answer for every method that must not start beside it */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "manager.h"

typedef enum VmBusyKind {
        VM_BUSY_BACKUP    = 1 << 0,
        VM_BUSY_MERGE     = 1 << 1,
        VM_BUSY_MIGRATION = 1 << 2,
        VM_BUSY_ALL       = VM_BUSY_BACKUP | VM_BUSY_MERGE | VM_BUSY_MIGRATION,
} VmBusyKind;

/* NULL when none of the KINDS runs on the VM UUID, else a phrase naming the one that does and
 * its job ("backup job /org/hostagent1/job/7 runs"), written into BUF. DISK, when set, counts a
 * backup only when it copies that disk (its target). */
const char *vm_busy_with(Manager *m, const char *uuid, unsigned kinds, const char *disk, char *buf, size_t size);

#define VM_BUSY_TEXT_MAX 160

/* Whether VM UUID migrates now, and its job's path (NULL while the destination has not
 * accepted it yet). */
typedef bool (*VmBusyMigrationProbe)(Manager *m, const char *uuid, const char **ret_job_path);
void vm_busy_set_migration_probe(VmBusyMigrationProbe probe);
