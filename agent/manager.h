/* The Manager: the daemon's top object, owning the loop, the bus and libvirt */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "domain-events.h"
#include "libvirt-conn.h"
#include "mailbox.h"
#include "options.h"
#include "vm-clock.h"
#include "worker-pool.h"

#define HOSTAGENT_BUS_NAME "org.hostagent1"
#define HOSTAGENT_ROOT_PATH "/org/hostagent1"
#define MANAGER_INTERFACE "org.hostagent1.Manager"

/* Quiet time before freed heap is handed back to the kernel. */
#define MANAGER_TRIM_DELAY_USEC (2ULL * 1000 * 1000)

/* How long a stop waits for blocking work before it leaves it behind. */
#define MANAGER_STOP_TIMEOUT_USEC (5ULL * 1000 * 1000)

typedef struct Manager {
        const Options *options;
        sd_event *event;
        sd_bus *bus;
        Mailbox *mailbox;
        WorkerPool *pool;
        LibvirtConn *libvirt;
        bool ready;       /* initial state loaded: what the Ready property says */
        bool stopping;
        sd_event_source *trim;
        uint64_t sequence; /* one counter over all typed signals, for gap detection */

        /* VMs (vm.c) */
        void *vms;                   /* tsearch() tree of Vm *, by UUID */
        size_t n_vms;
        unsigned vm_sync_mark;       /* counts full syncs */
        VmClock vm_clock;            /* events and removals against the reads in flight */
        const struct VmListener *vm_listener; /* the bus glue's, told of every change */
        bool vm_sync_running;
        bool vm_synced;              /* the first full sync has finished */
        unsigned vm_events_conn;     /* libvirt connection generation the callbacks are on */
        DomainEventSubscriber vm_events; /* what libvirt's domain events are told to */
        sd_event_source *vm_reconcile;
        sd_event_source *guest_timer;  /* vm-guest.c: agents read every --guest-info-interval */
        unsigned guest_reads;          /* agent reads in flight */

        /* Storage (storage.c) */
        struct Pool *pools;
        bool pool_creating;          /* one CreateStoragePool at a time */
        struct StateFile *storage_file; /* storage-save.c: <state-dir>/storage-pools.json */
        struct json_object *storage_unrestored_writing; /* what the write in flight keeps of storage_unrestored */
        struct json_object *storage_unrestored;  /* entries of the state file this agent cannot read (an
                                                  * array, or NULL): written back as they are */
        char *storage_unreadable;    /* why the state file could not be read at all: it is never overwritten */
        size_t storage_volumes_max;  /* STORAGE_VOLUMES_MAX, or lower for tests (HOSTAGENT_STORAGE_VOLUMES_MAX) */

        /* Networks (network.c) */
        struct Networks *networks;
        const struct NetworkListener *network_listener; /* the bus glue's */

        /* Jobs (job.c) */
        struct Job *jobs;
        uint32_t last_job_id;
        char boot_id[40];            /* the host's boot, as the jobs record names it */
        struct StateFile *jobs_record; /* <state-dir>/jobs.json */

        /* Migrations (vm-migrate.c): queued, running and lingering, in the order asked */
        struct VmMigration *migrations;

        /* Snapshots (vm-snapshot.c): every VM's, and the reads of them in flight */
        struct VmSnapshots *snapshots;
        /* Backups (vm-backup.c): running and lingering */
        struct VmBackup *backups;
} Manager;

/* Returns freed heap to the kernel once the daemon has been quiet a while. */
void manager_schedule_trim(Manager *m);

/* The initial state is loaded (or cannot be): Ready turns true, once. */
void manager_set_ready(Manager *m);

int manager_new(const Options *options, Manager **ret);
Manager *manager_free(Manager *m);

/* True once manager_free() had to leave threads blocked in a library call:
 * the process must then end with _exit(), without running the libraries'
 * destructors under those threads. */
bool manager_left_threads_behind(void);

/* Connects to the bus, publishes the objects, owns the name, starts the
 * libvirt connection and tells systemd READY=1, in that order. */
int manager_startup(Manager *m);

/* Runs the loop until SIGTERM/SIGINT or the bus goes away. */
int manager_run(Manager *m);

/* STATUS= for systemd, from what the manager is doing now. */
void manager_update_status(Manager *m);
