/* The storage pool spec: JSON in, validated, normalized for keeping */
#pragma once

#include <json-c/json.h>
#include <errno.h>
#include <stddef.h>

#define POOL_SPEC_MAX_BYTES (16 * 1024)
#define POOL_SPEC_MAX_DEVICES 16

typedef enum PoolType {
        POOL_DIR,
        POOL_NFS,
        POOL_LVM,
        _POOL_TYPE_MAX,
        _POOL_TYPE_INVALID = -EINVAL,
} PoolType;

typedef enum NfsAccess {
        NFS_ACCESS_MOUNT,   /* the kernel client, mounted under the agent's run directory */
        NFS_ACCESS_LIBNFS,  /* the user-space client: no mount, nfs:// disks for QEMU */
        _NFS_ACCESS_MAX,
        _NFS_ACCESS_INVALID = -EINVAL,
} NfsAccess;

typedef struct PoolSpec {
        char *name;
        PoolType type;
        char *path;             /* dir */
        char *server;           /* nfs */
        char *export_path;      /* nfs */
        unsigned nfs_version;   /* nfs: 3 or 4 */
        NfsAccess access;       /* nfs */
        char *devices[POOL_SPEC_MAX_DEVICES];  /* lvm: the PVs */
        size_t n_devices;
        json_object *normalized;   /* the spec as kept: defaults filled in */
} PoolSpec;

const char *pool_type_to_string(PoolType t);
PoolType pool_type_from_string(const char *s);
const char *nfs_access_to_string(NfsAccess a);
NfsAccess nfs_access_from_string(const char *s);

void pool_spec_done(PoolSpec *spec);

/* Parses and validates TEXT without touching anything outside the process.
 * On failure returns -EINVAL with RET_ERROR naming the field and the reason
 * ("nfs.version: must be 3 or 4"). */
int pool_spec_parse(const char *text, PoolSpec *ret, char **ret_error);
/* The "name" TEXT gives, unchecked, for polkit rules before the spec is
 * parsed; NULL when there is none (the parse then says why). */
char *pool_spec_text_name(const char *text);

/* The same for a spec already parsed (the agent's saved state). */
int pool_spec_from_json(json_object *o, PoolSpec *ret, char **ret_error);

/* What the pool is made of, for the Source property: "/srv/pool1",
 * "server:/export", "/dev/loop3,/dev/loop4". */
char *pool_spec_source(const PoolSpec *spec);
