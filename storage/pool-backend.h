/* What each pool type does on the host: the blocking half of storage pools */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent-errno.h"
#include "pool-spec.h"
#include "volume-info.h"

typedef struct PoolEnv {
        const char *run_dir;      /* NFS mount points go under <run_dir>/storage/ */
        uint64_t timeout_usec;    /* for each helper command */
        uint64_t check_timeout_usec; /* for a look at a mounted file system, which may be dead */
        unsigned nfs_timeout_ms;  /* for each user-space NFS call */
} PoolEnv;

typedef struct PoolStatus {
        uint64_t capacity;
        uint64_t allocation;
        uint64_t available;
        bool degraded;            /* usable, but not whole (an LVM PV is missing) */
} PoolStatus;

/* Every function here blocks: worker threads only. Each returns 0 or -errno
 * with RET_MESSAGE saying what went wrong, in words. The errno tells the
 * kind: -EHOSTUNREACH the storage does not answer, -EOPNOTSUPP this host
 * cannot do it, -EEXIST the name is taken, -ENOENT no such thing,
 * -ERRNO_INVALID_STATE not the agent's, -EINVAL bad argument (a device named
 * that is held or another volume group's too: the spec cannot be). */

/* Makes the pool usable: CREATE builds it (mkdir, vgcreate), otherwise it
 * must already be there (a restart); NFS exports are mounted or reached. */
int pool_backend_prepare(const PoolSpec *spec, const PoolEnv *env, bool create, char **ret_message);

/* A new pool, all or nothing: built (prepare with CREATE), then its status and volumes read;
 * taken down again (remove) when it cannot be read. */
int pool_backend_create(const PoolSpec *spec, const PoolEnv *env, PoolStatus *ret_status, VolumeInfo **ret_volumes,
                        size_t *ret_n, char **ret_message);

/* Undoes prepare without touching data: unmounts NFS. */
int pool_backend_release(const PoolSpec *spec, const PoolEnv *env, char **ret_message);

/* Releases and takes down what prepare built, when it is empty: the
 * agent's VG and its PVs. A dir pool's directory stays. */
int pool_backend_remove(const PoolSpec *spec, const PoolEnv *env, char **ret_message);

int pool_backend_status(const PoolSpec *spec, const PoolEnv *env, PoolStatus *ret, char **ret_message);

int pool_backend_list(const PoolSpec *spec, const PoolEnv *env, VolumeInfo **ret, size_t *ret_n,
                      char **ret_message);

/* What the volumes take now, read cheaply enough for every health check:
 * a stat of each file (in a child with a deadline on a mounted export), one
 * READDIRPLUS listing over libnfs, one lvs report. No qemu-img: a qcow2's
 * capacity is not known this way, only a raw one's (its length). */
int pool_backend_usage(const PoolSpec *spec, const PoolEnv *env, VolumeUsage **ret, size_t *ret_n,
                       char **ret_message);

/* Removes what this host's agent left half-made in the pool (a copy or a
 * creation cut short by a crash; see pool-files.h). Only while nothing is
 * being made in the pool: before it is first used after a start. */
int pool_backend_remove_partials(const PoolSpec *spec, const PoolEnv *env, char **ret_message);

/* Where a volume lives: a path (dir, NFS mount, LV) or an nfs:// URI. */
char *pool_backend_volume_location(const PoolSpec *spec, const PoolEnv *env, const char *name);

int pool_backend_volume_info(const PoolSpec *spec, const PoolEnv *env, const char *name, VolumeInfo *ret,
                             char **ret_message);

/* BACKING names a volume of the same pool (qcow2 overlays), or NULL. The
 * file is made under another name and renamed into place once whole. */
int pool_backend_volume_create(const PoolSpec *spec, const PoolEnv *env, const char *name, uint64_t size,
                               const char *format, const char *backing, const char *preallocation,
                               VolumeInfo *ret, char **ret_message);

int pool_backend_volume_resize(const PoolSpec *spec, const PoolEnv *env, const char *name, const char *format,
                               uint64_t size, char **ret_message);

int pool_backend_volume_delete(const PoolSpec *spec, const PoolEnv *env, const char *name, char **ret_message);

/* Copies NAME into a new volume NEW_NAME of the same format; setting
 * CANCEL stops it (-ECANCELED) and removes the partial copy. The copy is
 * no volume (not listed) until it is whole. */
int pool_backend_volume_clone(const PoolSpec *spec, const PoolEnv *env, const char *name, const char *format,
                              const char *new_name, volume_progress_fn progress, void *userdata,
                              const atomic_bool *cancel, char **ret_message);
