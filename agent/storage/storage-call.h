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
