/* VMs: every libvirt domain as an object, kept current by events */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "guest-agent.h"
#include "vm-clock.h"
#include "vm-info.h"

typedef struct Manager Manager;

#define VM_PATH_PREFIX "/org/hostagent1/vm"
#define VM_INTERFACE "org.hostagent1.VM"
/* A full re-read of every domain catches whatever events were missed. */
#define VM_RECONCILE_USEC (60ULL * 1000 * 1000)

typedef struct Vm Vm;

/* What the model tells whoever shows VMs (the bus glue registers it with
 * vm_set_listener()): the model never calls up into the glue itself. */
typedef struct VmListener {
        void (*added)(Vm *vm);                                 /* fully readable now */
        void (*removed)(Vm *vm);                               /* still readable */
        void (*changed)(Vm *vm, const char **names, size_t n); /* properties */
        void (*state_changed)(Vm *vm);                         /* State and StateReason */
        /* Beyond the bus: published, or its state or guest agent changed (the
         * agent's reads, vm-guest.c); libvirt's agent and block job events
         * (vm-guest.c, vm-snapshot-merge.c), and its job-completed event (a
         * backup's end, vm-backup.c). Told here, so that the registry needs
         * none of them. */
        void (*follow)(Vm *vm);
        void (*agent_event)(Manager *m, const char *uuid, bool connected);
        void (*block_job)(Manager *m, const char *uuid, const char *disk, int type, int status);
        void (*job_completed)(Manager *m, const char *uuid);
} VmListener;

struct Vm {
        Manager *manager;
        char *path;
        VmInfo info;
        uint64_t event_clock;   /* the registry's event clock at this VM's last event */
        uint64_t define_clock;  /* ... at its last (un)define event: a rename is one */
        unsigned sync_mark;     /* last full sync that saw it */
        bool enospc_pending;    /* an I/O error said ENOSPC; the pause that follows says why */
        GuestInfo guest;        /* what its guest agent said last (vm-guest.c) */
        uint64_t agent_clock;   /* the registry's event clock at its last agent lifecycle event */
        bool guest_reading;     /* a read of its agent is in flight */
        bool guest_wanted;      /* another read is wanted when one can start */
        uint64_t snapshots_read; /* the newest read of its snapshots applied (VmSnapshots.reads then) */
};

void vm_set_listener(Manager *m, const VmListener *listener);

/* /org/hostagent1/vm/<uuid, path-encoded> and back. */
int vm_path_from_uuid(const char *uuid, char **ret_path);
int vm_uuid_from_path(const char *path, char **ret_uuid);

/* PropertiesChanged for NAMES of VM, through the listener. */
void vm_emit_changed(Vm *vm, const char **names, size_t n);

/* Autostart as libvirt now has it: PropertiesChanged when it changed. */
void vm_set_autostart(Vm *vm, bool autostart);

/* Loop thread. Called when libvirt connects: registers for domain events
 * (once per connection) and reads every domain, then keeps reconciling. */
int vm_registry_connected(Manager *m);
void vm_registry_free(Manager *m);

Vm *vm_find(Manager *m, const char *uuid);
Vm *vm_find_by_name(Manager *m, const char *name);
Vm *vm_find_by_path(Manager *m, const char *path);
size_t vm_count(Manager *m);

/* The object paths of the VMs with a disk at LOCATION (a path or an
 * nfs:// URI), NULL-terminated; NULL when out of memory. */
char **vm_paths_using_disk(Manager *m, const char *location);

/* Calls FN for every VM, in UUID order. */
void vm_foreach(Manager *m, void (*fn)(Vm *vm, void *userdata), void *userdata);

/* Every read from libvirt whose snapshot goes to vm_apply_info() is in
 * flight from vm_read_begin() (before it is submitted) to vm_read_end()
 * (after it is applied, or when it never ran); ending twice is harmless. */
void vm_read_begin(Manager *m, VmClockRead *read);
void vm_read_end(Manager *m, VmClockRead *read);

/* Merges INFO, a snapshot taken by READ, and consumes it: creates and
 * announces the object when new, emits what changed otherwise. What
 * happened since READ began wins: a newer event's run state or definition
 * is not overwritten, and a VM removed since is not brought back (-ENOENT).
 * -EAGAIN: that cannot be known (too much happened meanwhile), and the VM is
 * being read again. RET (may be NULL) gets the object. */
int vm_apply_info(Manager *m, VmInfo *info, const VmClockRead *read, Vm **ret);

/* Loop thread: what libvirt's lifecycle EVENT (virDomainEventType, with its
 * DETAIL) for the domain UUID says. Exposed for tests. */
void vm_lifecycle_event(Manager *m, const char *uuid, int event, int detail);

/* A state we know from an event or a completed call. Emits PropertiesChanged
 * and StateChanged when it differs from what we had. */
void vm_set_state(Vm *vm, VmState state, const char *reason);

/* Withdraws the object and frees it; reads in flight cannot bring it back. */
void vm_remove(Vm *vm);

/* Re-reads one domain off the loop and merges it. */
int vm_refresh(Manager *m, const char *uuid);
