/* One storage operation in flight: the call, the pool it holds, and what the worker found */
#pragma once

#include "bus-call.h"
#include "storage.h"

typedef struct StorageCall {
        BusCall call;            /* first: answered through it */
        Pool *pool;              /* a reference: the pool outlives the call */
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
} StorageCall;

/* Holds POOL (and counts an operation on it) for the call MSG. */
StorageCall *storage_call_new(Pool *pool, sd_bus_message *msg);
/* Releases the volume's busy mark, the operation and the pool. */
void storage_call_free(StorageCall *c);

/* Worker threads: the blocking halves of the pool and volume methods (USERDATA is the
 * StorageCall). Each returns 0 or -errno with MESSAGE set to the backend's why. */
int storage_call_create_volume_work(void *userdata);
int storage_call_resize_work(void *userdata);
int storage_call_delete_volume_work(void *userdata);
/* The pool's status and volumes, prepared first when ACTIVATE, leftovers removed when CLEAN. */
int storage_call_refresh_work(void *userdata);
/* Deactivate, or Delete when DELETE. */
int storage_call_release_work(void *userdata);
/* The storage as the state file has it again after a release that could not be kept. */
int storage_call_release_undo_work(void *userdata);
