/* The files of file-based pools (dir, NFS): which are volumes, what they take, and volumes half-made */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "volume-info.h"

/* A volume is made (created, copied) under a name that is no volume's, and
 * renamed into place only once it is whole: a crash, kill -9 or power loss
 * in between leaves no volume, only a leftover the next start removes. The
 * name is hidden (listings skip dot files, and volume names cannot start
 * with a dot) and carries this host's machine ID, so that a start removes
 * only what this host's agent left, never a copy another host sharing the
 * export is still writing. */

/* ".hostagent-partial.<host>.": the prefix of this host's half-made files. */
const char *pool_partial_prefix(void);
/* What marks this host's half-made logical volumes (lvm pools). */
const char *pool_partial_tag(void);
/* The name NAME is made under; NULL when out of memory. */
char *pool_partial_name(const char *name);

/* Which files a listing wants: PREFIX NULL, the volumes (not hidden, a name
 * a D-Bus string can carry); otherwise the files whose names begin with it. */
bool pool_file_wanted(const char *name, const char *prefix);

/* Appends an entry to a growing array; -ENOMEM. */
int volume_usage_append(VolumeUsage **v, size_t *n, const char *name, uint64_t size, uint64_t allocation);

/* The regular files of the local directory DIR that pool_file_wanted(). */
int dir_files(const char *dir, const char *prefix, VolumeUsage **ret, size_t *ret_n, char **ret_message);

/* The volumes of DIR, read by a child with a deadline: DIR is a mounted
 * export whose server may be gone, and a stat() there can hang. */
int dir_files_in_child(const char *dir, uint64_t timeout_usec, VolumeUsage **ret, size_t *ret_n,
                       char **ret_message);

/* Renames FROM to TO in DIR, only if TO does not exist (-EEXIST). */
int dir_publish(const char *dir, const char *from, const char *to, char **ret_message);
