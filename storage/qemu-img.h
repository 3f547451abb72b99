/* Image work through qemu-img: create, inspect, resize, copy */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "volume-info.h"

/* Every function blocks (worker threads only), runs qemu-img with a
 * deadline of TIMEOUT_USEC and returns 0 or -errno with RET_MESSAGE set to
 * qemu-img's own explanation. LOCATION is a path or an nfs:// URI. */

int qemu_img_create(const char *location, const char *format, uint64_t size, const char *backing,
                    const char *backing_format, const char *preallocation, uint64_t timeout_usec,
                    char **ret_message);

/* Fills capacity, allocation, format and backing of RET (not its name). */
int qemu_img_info(const char *location, uint64_t timeout_usec, VolumeInfo *ret, char **ret_message);

int qemu_img_resize(const char *location, const char *format, uint64_t size, uint64_t timeout_usec,
                    char **ret_message);

/* Copies SOURCE into a new image DEST of FORMAT; with TARGET_EXISTS the
 * destination (a block device) is written in place. Setting CANCEL stops
 * the copy: -ECANCELED. */
int qemu_img_convert(const char *source, const char *source_format, const char *dest, const char *format,
                     bool target_exists, uint64_t timeout_usec, volume_progress_fn progress, void *userdata,
                     const atomic_bool *cancel, char **ret_message);

/* Parses one chunk of "qemu-img convert -p" output ("    (42.17/100%)\r");
 * returns the last percentage in it, or -1. Exposed for tests. */
int qemu_img_parse_progress(const char *chunk, size_t size);
