/* What long operation runs on a VM. A backup, a live merge and a migration each hold the VM's
 * disks in QEMU for long; libvirt lets some of them start beside another and then waits on its
 * job lock or fails half-way (a snapshot taken under a backup, a migration of a VM whose disk is
 * being copied). Each method asks here first and is refused up front with InvalidState naming the
 * job that runs. */
#include "vm-busy.h"

#include <stdio.h>

#include "macro.h"
#include "vm-backup.h"
#include "vm-snapshot.h"

static bool backup_copies(const VmBackup *b, const char *disk) {
        if (!disk)
                return true;
        for (size_t i = 0; i < b->plan.n_disks; i++)
                if (b->plan.disks[i].include && streq_ptr(b->plan.disks[i].target, disk))
                        return true;
        return false;
}

/* Told by the migration room (vm-migrate-dbus.c), which asks here itself: no circle. */
static VmBusyMigrationProbe migration_probe;

void vm_busy_set_migration_probe(VmBusyMigrationProbe probe) {
        migration_probe = probe;
}

const char *vm_busy_with(Manager *m, const char *uuid, unsigned kinds, const char *disk, char *buf, size_t size) {
        if (kinds & VM_BUSY_BACKUP) {
                VmBackup *b = vm_backup_find_by_vm(m, uuid);

                if (b && backup_copies(b, disk)) {
                        snprintf(buf, size, "backup job %s runs", b->job_path);
                        return buf;
                }
        }
        if (kinds & VM_BUSY_MERGE) {
                Job *job = vm_snapshot_merge_job(m, uuid, NULL);

                if (job) {
                        snprintf(buf, size, "merge job %s runs", job->path);
                        return buf;
                }
        }
        if (kinds & VM_BUSY_MIGRATION) {
                const char *job_path = NULL;

                if (migration_probe && migration_probe(m, uuid, &job_path)) {
                        snprintf(buf, size, "it is migrating (%s)",
                                 job_path ?: "its destination has not accepted it yet");
                        return buf;
                }
        }
        return NULL;
}
