/* A VM's snapshots as objects, kept current by re-reading libvirt's list; CreateSnapshot, Revert and Delete (live merge) */
#pragma once

#include <json-c/json.h>
#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "job.h"
#include "snapshot.h"
#include "vm.h"

#define SNAPSHOT_INTERFACE "org.hostagent1.Snapshot"
/* libvirt has no snapshot events: the list is read again after the VM's
 * events and the agent's own jobs, and at this pace for what virsh made. */
#define SNAPSHOT_RELIST_USEC (60ULL * 1000 * 1000)

typedef struct VmSnapshot VmSnapshot;

struct VmSnapshot {
        Manager *manager;
        VmSnapshot *next;
        char *path;                      /* <vm path>/snapshot/<name, path-encoded> */
        char *vm_path;
        char uuid[VIR_UUID_STRING_BUFLEN];
        SnapshotInfo info;
        Job *job;                        /* a Delete or Revert working on it, or NULL */
        bool announced;                  /* its InterfacesAdded went out */
};

/* The agent's snapshots: every VM's, and the reads of libvirt's lists in flight. */
typedef struct VmSnapshots {
        VmSnapshot *list;
        struct SnapshotRelist *relists;  /* one per VM being read; "again" when asked meanwhile */
        struct SnapshotMerge *merges;    /* Delete()s running (vm-snapshot-merge.c) */
        sd_event_source *timer;
        uint64_t interval_usec;
        uint64_t reads;                  /* reads of lists asked for so far (Vm.snapshots_read) */
        bool all_running;
} VmSnapshots;

VmSnapshot *vm_snapshot_find(Manager *m, const char *uuid, const char *name);
VmSnapshot *vm_snapshot_find_by_path(Manager *m, const char *path);
size_t vm_snapshot_count(Manager *m, const char *uuid);

/* Reads the snapshots of the VM UUID again, off the loop (a read in flight is followed by one more). */
void vm_snapshots_relist(Manager *m, const char *uuid);
/* A list a snapshot job reads itself on its worker, right after its change,
 * so that its end finds its snapshot there (or gone): begun on the loop
 * before the work is submitted (0 without snapshots), applied (LIST taken)
 * on the loop before the job ends. */
uint64_t vm_snapshots_read_begin(Manager *m);
void vm_snapshots_read_apply(Manager *m, const char *uuid, uint64_t started, SnapshotInfo *list, size_t n);
/* The VM went: its snapshot objects go too. */
void vm_snapshots_vm_removed(Manager *m, const char *uuid);

/* The bus glue (vm-snapshot-dbus.c): objects came, went or changed. */
void vm_snapshot_bus_added(VmSnapshot *s);
void vm_snapshot_bus_removed(VmSnapshot *s);
void vm_snapshot_bus_changed(VmSnapshot *s, const char **names);
void vm_snapshot_bus_vm_changed(Manager *m, const char *uuid);

/* org.hostagent1.Snapshot, and org.hostagent1.VM's members for snapshots (beside vm_vtable). */
extern const sd_bus_vtable snapshot_vtable[];
extern const sd_bus_vtable vm_snapshot_vtable[];

/* Registers the Snapshot objects, the VM's snapshot members and the merge job's resume. */
int vm_snapshot_bus_register(Manager *m);
int vm_snapshots_start(Manager *m);
void vm_snapshots_free(Manager *m);

/* The methods (vm-snapshot-job.c, vm-snapshot-merge.c, vm-snapshot-revert.c). */
int method_vm_create_snapshot(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_snapshot_delete(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_snapshot_revert(sd_bus_message *msg, void *userdata, sd_bus_error *error);
/* The merge job carried on by the next agent (job_register_resumable()). */
int vm_snapshot_merge_resume(Job *job, json_object *data);

/* The refusal of VERB ("delete", "revert to") on a snapshot kept inside the
 * disk images: the agent's snapshots are external (overlay files), and
 * taking only their metadata away, or reverting nothing, is no answer. */
int vm_snapshot_internal_refusal(VmSnapshot *s, const char *verb, sd_bus_error *error);

/* The merge job running on the VM UUID (of its snapshot NAME; NULL: any), or NULL. */
Job *vm_snapshot_merge_job(Manager *m, const char *uuid, const char *name);

/* libvirt's block job event for the VM UUID's disk (a path or target). */
void vm_snapshot_block_job_event(Manager *m, const char *uuid, const char *disk, int type, int status);

/* After a snapshot's job: its pools list their volumes again (overlays came or went). */
void vm_snapshot_refresh_pools(Manager *m, char *const *files);
