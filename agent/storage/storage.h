/* Storage pools and volumes: the model, kept current by checks off the loop */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "pool-backend.h"
#include "pool-spec.h"
#include "volume-info.h"

typedef struct Manager Manager;
typedef struct Pool Pool;

#define STORAGE_PATH_PREFIX "/org/hostagent1/storage"
#define STORAGE_POOL_INTERFACE "org.hostagent1.StoragePool"
#define STORAGE_VOLUME_INTERFACE "org.hostagent1.Volume"
#define STORAGE_STATE_FILE "storage-pools.json"

#define STORAGE_POOLS_MAX 64
#define STORAGE_VOLUMES_MAX 4096           /* per pool */
#define STORAGE_VOLUME_SIZE_MAX (1ULL << 50) /* 1 PiB: past it, a typo */
/* How long one user-space NFS call may wait for a server. */
#define STORAGE_NFS_TIMEOUT_MS 5000
/* How long one helper command (qemu-img, lvcreate, mount) may run. */
#define STORAGE_COMMAND_TIMEOUT_USEC (120ULL * 1000 * 1000)

typedef enum PoolState {
        POOL_STATE_ACTIVE,
        POOL_STATE_INACTIVE,     /* Deactivate(), or not prepared yet */
        POOL_STATE_DEGRADED,     /* usable but not whole */
        POOL_STATE_UNREACHABLE,  /* the storage does not answer */
        _POOL_STATE_MAX,
        _POOL_STATE_INVALID = -EINVAL,
} PoolState;

const char *pool_state_to_string(PoolState s);

typedef struct Volume {
        Pool *pool;
        char *path;              /* object path */
        char *location;          /* file path, device or nfs:// URI */
        VolumeInfo info;
        bool pending;            /* being created: its name is taken, the object not published */
        bool busy;               /* an operation runs on it */
} Volume;

struct Pool {
        unsigned n_ref;          /* the manager's list, and each operation in flight */
        Manager *manager;
        Pool *next;
        PoolSpec spec;
        char *path;              /* object path */
        char *source;
        PoolState state;
        char *state_message;     /* why it is not active, or "" */
        bool enabled;            /* to be active: cleared by Deactivate(), kept in the state file */
        bool prepared;           /* mounted / reached since the last failure */
        bool removed;            /* deleted: off the bus, waiting for operations to end */
        bool on_disk;            /* in the state file: loaded from it, or its creation kept */
        PoolStatus status;
        Volume **volumes;
        size_t n_volumes;
        unsigned operations;     /* pool-changing operations in flight */
        bool checking;
        bool reading_usage;      /* what the volumes take is being read, after a check */
        bool refresh_wanted;     /* list the volumes again at the next check */
        bool partials_removed;   /* what a previous agent left half-made is gone (or cannot be any more) */
        bool cleaning;           /* a removal of those leftovers runs (a check's, a Refresh's, an Activate's) */
        bool listing_cut;        /* the last listing found more volumes than STORAGE_VOLUMES_MAX: logged once */
        unsigned volume_updates; /* counts pool_volume_update(): a check's older look must not undo one */
        sd_event_source *check_timer;
};

Pool *pool_ref(Pool *p);
Pool *pool_unref(Pool *p);

/* The name an entry of the state file gives its pool ({"spec":{"name":...}}), or NULL. */
const char *storage_entry_name(struct json_object *entry);

/* Loads the kept pools and starts checking them. */
int storage_start(Manager *m);
void storage_stop(Manager *m);

PoolEnv storage_env(Manager *m);

Pool *storage_pool_find(Manager *m, const char *name);
Pool *storage_pool_find_by_path(Manager *m, const char *path);
size_t storage_pool_count(Manager *m);

/* Adds a new pool (prepared by the caller) to the model and the bus; the
 * caller keeps it with storage_save(). */
int storage_pool_add(Manager *m, PoolSpec *spec, const PoolStatus *status, VolumeInfo *volumes, size_t n_volumes,
                     Pool **ret);
/* Takes the pool off the bus and out of the model; the caller drops it from
 * the state file with storage_save(). */
void storage_pool_remove(Pool *p);
/* Puts a pool taken away by storage_pool_remove() back (its removal could
 * not be kept in the state file): on the bus again, inactive until the
 * caller has prepared its storage again and armed its checks. */
void storage_pool_restore(Pool *p);

/* Whether work about to start on P first removes what a previous agent left half-made
 * (pool_leftovers_remove() on the worker); pool_clean_end() follows, with whether it got to it. */
bool pool_clean_begin(Pool *p);
void pool_clean_end(Pool *p, bool removed);
/* Worker thread: removes those leftovers; a failure is only logged (hidden files, never volumes). */
void pool_leftovers_remove(const PoolSpec *spec, const PoolEnv *env);
/* No call may make a volume in P (its file is named as those leftovers are) until they are
 * gone and no removal of them runs any more. */
bool pool_leftovers_pending(Pool *p);

void pool_set_state(Pool *p, PoolState state, const char *message);
/* A check now (after an operation, or Refresh()), volumes listed again. */
void pool_check_soon(Pool *p, bool refresh);
void pool_set_enabled(Pool *p, bool enabled);
/* Schedules the next health check one interval from now. */
void storage_pool_arm_checks(Pool *p);

Volume *pool_volume_find(Pool *p, const char *name);
Volume *storage_volume_find_by_path(Manager *m, const char *path);
/* Adds (or updates) the volume from INFO, publishing it. */
Volume *pool_volume_update(Pool *p, VolumeInfo *info);
/* Reserves NAME for a volume being made; NULL when taken or at the cap. */
Volume *pool_volume_reserve(Pool *p, const char *name, int *ret_error);
void pool_volume_remove(Volume *v);
void pool_update_status(Pool *p, const PoolStatus *status);
/* A fresh listing: new volumes are announced, vanished ones withdrawn,
 * volumes with an operation in flight left to it. */
void storage_pool_apply_listing(Pool *p, VolumeInfo *list, size_t n);
/* What the volumes take now (a health check's cheap look): changes are
 * signalled. Only listings add or remove volumes. */
void storage_pool_apply_usage(Pool *p, const VolumeUsage *usage, size_t n);

/* The object paths of the VMs whose disks are VOLUME, NULL-terminated. */
char **volume_users(Volume *v);
