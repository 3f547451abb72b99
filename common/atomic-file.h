/* Atomic file replacement: a reader sees the old content or the new, never a mix */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Write DATA to PATH through a temporary file in the same directory that is
 * fsync()ed and renamed over PATH; the directory is fsync()ed too, so the
 * rename survives a crash. Returns 0 or -errno; on failure PATH is untouched. */
int atomic_file_write(const char *path, const void *data, size_t size, mode_t mode);

/* Read all of PATH into a NUL-terminated buffer. Returns 0 or -errno. */
int atomic_file_read(const char *path, char **ret_data, size_t *ret_size);
