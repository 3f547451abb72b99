/* The user-space NFS client (libnfs): no mount, so no process can hang in D state */
#pragma once

#include <stdint.h>

#include "volume-info.h"

typedef struct NfsExport {
        const char *server;
        const char *export_path;
        unsigned version;
        unsigned timeout_ms;    /* per RPC: how long a dead server may keep us */
} NfsExport;

typedef struct NfsSpace {
        uint64_t capacity;
        uint64_t used;
        uint64_t available;
} NfsSpace;

/* All block (worker threads only) for at most a few TIMEOUT_MS. They return
 * 0, -EHOSTUNREACH when the server does not answer or refuses the export,
 * or -errno with RET_MESSAGE set to libnfs's explanation. */
int nfs_export_space(const NfsExport *e, NfsSpace *ret, char **ret_message);

/* The regular files at the top of the export that pool_file_wanted(PREFIX),
 * with their sizes and allocations, from one listing. */
int nfs_export_files(const NfsExport *e, const char *prefix, VolumeUsage **ret, size_t *ret_n, char **ret_message);

/* Renames FROM to TO, only if TO does not exist (-EEXIST). */
int nfs_export_publish(const NfsExport *e, const char *from, const char *to, char **ret_message);

int nfs_export_unlink(const NfsExport *e, const char *name, char **ret_message);

/* nfs://server/export/name, as QEMU and qemu-img take it. */
char *nfs_export_uri(const NfsExport *e, const char *name);

/* Whether NAME exists at the top of the export: 1, 0, or -errno. */
int nfs_export_exists(const NfsExport *e, const char *name, char **ret_message);
