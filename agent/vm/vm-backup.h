/* VM.Backup: a push-mode backup of a running VM's disks into a pool, as a Job followed once a second */
#pragma once

#include <json-c/json.h>
#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "backup.h"
#include "job.h"
#include "vm.h"

#define BACKUP_INTERFACE "org.hostagent1.Backup"
#define BACKUP_POLL_USEC (1000ULL * 1000)

typedef struct VmBackup VmBackup;

struct VmBackup {
        unsigned n_ref;              /* the manager's list, each worker call */
        Manager *manager;
        VmBackup *next;
        Job *job;                    /* NULL once ended */
        char *job_path;              /* the Backup interface stays as long as the job object */
        char uuid[VIR_UUID_STRING_BUFLEN];
        char *pool;                  /* the pool's name */
        BackupPlan plan;             /* names, files, options */
        uint64_t total;              /* bytes, as libvirt counts them */
        uint64_t processed;
        sd_bus_message *reply_to;    /* the Backup() call, answered once libvirt has begun it */
        sd_event_source *poll;
        sd_event_source *linger;
        bool begun;                  /* libvirt runs it */
        bool polling;                /* a statistics read in flight */
        bool poll_again;             /* an event came while one was in flight */
        bool ending;                 /* the files and checkpoint are being settled */
        bool cancel;                 /* Cancel() asked */
        bool resumed;                /* a previous agent began it: found again, followed */
};

/* The backup of the VM UUID that runs, or NULL. */
VmBackup *vm_backup_find_by_vm(Manager *m, const char *uuid);
/* The backup behind the job at PATH, running or ended, or NULL. */
VmBackup *vm_backup_find_by_job_path(Manager *m, const char *path);

/* Makes the backup of VM to POOL by PLAN (moved into it) and its job, announced. -EBUSY
 * past JOBS_MAX. */
int vm_backup_new(Manager *m, Vm *vm, const char *pool, BackupPlan *plan, Job **ret);

/* A job_start_fn: the job is recorded; libvirt is asked to begin it, and the call
 * (REPLY_TO, set by the caller) is answered once it has: the backup's point in time is
 * before the reply. */
int vm_backup_job_start(Job *job, sd_bus_error *error);

/* The job carried on by the next agent (job_register_resumable()). */
int vm_backup_resume(Job *job, json_object *data);

/* libvirt says a job of the VM UUID ended (its JOB_COMPLETED event): a look now. */
void vm_backup_job_completed(Manager *m, const char *uuid);

/* At exit, after job_free_all(). */
void vm_backups_free(Manager *m);

/* The glue (vm-backup-dbus.c). */
void vm_backup_bus_emit(VmBackup *b, const char **names);
int vm_backup_bus_register(Manager *m);
int method_vm_backup(sd_bus_message *msg, void *userdata, sd_bus_error *error);
extern const sd_bus_vtable vm_backup_vtable[];
/* org.hostagent1.Backup, on a backup's job object. */
extern const sd_bus_vtable backup_vtable[];
