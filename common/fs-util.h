/* Small file system helpers */
#pragma once

#include <sys/types.h>

/* mkdir -p: creates PATH and its missing parents with MODE. 0 or -errno
 * (-ENOTDIR when PATH or a parent is there but not a directory). */
int mkdir_parents(const char *path, mode_t mode);
