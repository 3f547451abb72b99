/* One storage operation in flight: the call, the pool it holds, and what the worker found */
#pragma once

#include <stdatomic.h>

#include "bus-call.h"
#include "storage.h"

typedef struct StorageCall {
        BusCall call;            /* first: answered through it */
        Pool *pool;              /* a reference: the pool outlives the call */
        void *data;              /* the method's own (a Clone's job) */
        Volume *volume;          /* the volume worked on, busy meanwhile (or reserved) */
        PoolEnv env;
        /* arguments */
        char *name;
        char *format;
        char *backing;
        char *preallocation;
        uint64_t size;
        bool enabled;            /* the pool is to be active (the worker's copy, for an undo) */
        bool activate;           /* Refresh that prepares the pool first (Activate) */
        bool delete;             /* release that removes the pool's storage (Delete, not Deactivate) */
        bool clean;              /* remove what a previous agent left half-made (pool_clean_begin()) */
        bool cleaned;            /* the worker got to it */
        /* results */
        char *message;
        PoolStatus status;
        VolumeInfo info;
        VolumeInfo *volumes;
        size_t n_volumes;
        int save_result;         /* why the state file could not keep the change */
        /* a copy's, shared with its worker */
        atomic_uint progress;    /* percent */
        atomic_bool cancel;
} StorageCall;

/* CreateStoragePool in flight: the spec, and what the worker found when it made the pool. */
typedef struct PoolCreateCall {
        BusCall call;            /* first: answered through it */
        Manager *manager;
        PoolEnv env;
        PoolSpec spec;
        PoolStatus status;
        VolumeInfo *volumes;
        size_t n_volumes;
        char *message;
        Pool *pool;              /* the new pool, answered once it is kept */
        int save_result;         /* why the state file could not keep it */
        bool creating;           /* submitted: it holds the one creation slot */
} PoolCreateCall;

/* Holds POOL (and counts an operation on it) for the call MSG. */
StorageCall *storage_call_new(Pool *pool, sd_bus_message *msg);
/* Releases the volume's busy mark, the operation and the pool. */
void storage_call_free(StorageCall *c);

/* Runs WORK for C through the bus's one path for blocking work (bus_work_submit()):
 * 1, or a negative errno with ERROR set (Busy, ShuttingDown); the caller then frees C. */
int storage_call_submit(StorageCall *c, worker_work_fn work, worker_done_fn done, sd_bus_error *error);

PoolCreateCall *pool_create_call_new(Manager *m, sd_bus_message *msg);
/* Releases the creation slot too, when C held it. */
void pool_create_call_free(PoolCreateCall *c);
/* Submits the creation; C then holds the one creation slot (Manager.pool_creating). */
int pool_create_call_submit(PoolCreateCall *c, worker_done_fn done, sd_bus_error *error);
/* Worker threads (USERDATA is the PoolCreateCall): the pool made all or nothing from its
 * spec; and taken down again, when the state file could not keep it. */
int pool_create_call_work(void *userdata);
int pool_create_call_undo_work(void *userdata);

/* Worker threads: the blocking halves of the pool and volume methods (USERDATA is the
 * StorageCall). Each returns 0 or -errno with MESSAGE set to the backend's why. */
int storage_call_create_volume_work(void *userdata);
int storage_call_resize_work(void *userdata);
int storage_call_delete_volume_work(void *userdata);
/* NAME copied to BACKING (the target's name), with PROGRESS kept current and CANCEL heeded;
 * INFO is the copy's. */
int storage_call_clone_work(void *userdata);
/* The pool's status and volumes, prepared first when ACTIVATE, leftovers removed when CLEAN. */
int storage_call_refresh_work(void *userdata);
/* Deactivate, or Delete when DELETE. */
int storage_call_release_work(void *userdata);
/* The storage as the state file has it again after a release that could not be kept. */
int storage_call_release_undo_work(void *userdata);
