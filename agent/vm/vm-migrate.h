/* VM.Migrate: a live migration as a Job, followed once a second, steered by its convergence policy */
#pragma once

#include <json-c/json.h>
#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "job.h"
#include "migration.h"
#include "vm-migrate-thread.h"
#include "vm.h"

#define MIGRATION_INTERFACE "org.hostagent1.Migration"
#define MIGRATION_POLL_USEC (1000ULL * 1000)
#define MIGRATION_PREPARE_POLL_USEC (50ULL * 1000)
/* The Migrate call waits at most this long for the destination's answer
 * (libvirt's statistics can take seconds to come while a migration starts):
 * well within a caller's default D-Bus timeout (25 s). Then it gets its job
 * anyway, and a refusal after that ends the job "failed". */
#define MIGRATION_ACCEPT_WAIT_USEC (10ULL * 1000 * 1000)

typedef enum MigrationPhase {
        MIGRATION_PHASE_QUEUED,
        MIGRATION_PHASE_PRECOPY,
        MIGRATION_PHASE_POSTCOPY,
        MIGRATION_PHASE_COMPLETING,
        MIGRATION_PHASE_DONE,
        MIGRATION_PHASE_CANCELLED,
        MIGRATION_PHASE_FAILED,
        _MIGRATION_PHASE_MAX,
        _MIGRATION_PHASE_INVALID = -22,
} MigrationPhase;

const char *migration_phase_to_string(MigrationPhase p);

/* Why the agent asked libvirt to abort: the result the job ends with. */
typedef enum MigrationAbort {
        MIGRATION_ABORT_NONE,
        MIGRATION_ABORT_CANCEL,     /* Job.Cancel() */
        MIGRATION_ABORT_DESTROY,    /* VM.Destroy() */
        MIGRATION_ABORT_STALLED,    /* the policy's last step did not help */
        MIGRATION_ABORT_TIMEOUT,    /* timeout_sec */
} MigrationAbort;

typedef struct VmMigration VmMigration;

struct VmMigration {
        unsigned n_ref;              /* the manager's list, the thread, each worker call */
        Manager *manager;
        VmMigration *next;           /* the manager's list, in the order of the requests */
        Job *job;                    /* NULL until the destination accepted it, and once ended */
        sd_bus_message *call;        /* the Migrate call, answered once the destination accepted it */
        char *job_path;              /* the Migration interface stays as long as the job object */
        char uuid[VIR_UUID_STRING_BUFLEN];
        char *vm_path;
        char *vm_name;
        char *destination;
        MigrationOptions options;
        MigrationPolicy policy;
        MigrationPhase phase;
        MigrationStats stats;
        uint64_t downtime_ms;        /* allowed now */
        uint32_t bandwidth_mib;      /* 0: no cap */
        uint64_t start_usec;         /* CLOCK_MONOTONIC, when it began (or was carried on) */
        uint64_t elapsed_ms;         /* counted on the loop, so that it moves every second */
        MigrateThread *thread;       /* in libvirt's migration call */
        sd_event_source *poll;
        sd_event_source *linger;
        bool polling;                /* a statistics read in flight */
        bool downtime_set;           /* the first allowed downtime is applied */
        bool resumed;                /* a previous agent started it: followed, not run */
        MigrationAbort abort;
};

/* The migration of the VM UUID that is queued or running, or NULL. */
VmMigration *vm_migration_find_by_vm(Manager *m, const char *uuid);
/* The migration behind the job at PATH, running or ended, or NULL. */
VmMigration *vm_migration_find_by_job_path(Manager *m, const char *path);

/* VM.Migrate of VM to DESTINATION with OPTIONS (moved into it), answering
 * MSG later. With a free slot (--max-migrations) the migration starts at
 * once and MSG waits, without a job, until the destination has accepted it
 * (the memory stream started): then the job is made, recorded, and MSG gets
 * its path; a destination libvirt refuses (unreachable, a missing bridge)
 * gets MSG org.hostagent1.Error.Failed with libvirt's words, and no job is
 * ever published (past MIGRATION_ACCEPT_WAIT_USEC, the job is made anyway). Without a free slot MSG gets a queued job at once; a
 * refusal then ends that job "failed". Returns 1 (answered later) or
 * -errno with ERROR set. */
int vm_migration_request(Manager *m, Vm *vm, const char *destination, MigrationOptions *options,
                         sd_bus_message *msg, sd_bus_error *error);


/* The job carried on by the next agent (job_register_resumable()). */
int vm_migration_resume(Job *job, json_object *data);

/* VM.Destroy on a migrating VM: the migration ends "cancelled", not failed. */
void vm_migration_note_destroy(VmMigration *mig);

/* At exit, after job_free_all(). */
void vm_migrations_free(Manager *m);
