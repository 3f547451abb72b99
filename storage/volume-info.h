/* What the agent knows of one volume, however the pool stores it */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct VolumeInfo {
        char *name;
        char *format;           /* "qcow2", "raw" */
        uint64_t capacity;      /* what the guest sees, bytes */
        uint64_t allocation;    /* what it takes on the pool, bytes */
        char *backing;          /* the backing file's location, or NULL */
} VolumeInfo;

void volume_info_done(VolumeInfo *v);
void volume_info_array_free(VolumeInfo *v, size_t n);

/* A volume's progress while it is copied, in percent. */
typedef void (*volume_progress_fn)(unsigned percent, void *userdata);

/* What a volume takes now, as a cheap look sees it (a stat, one lvs report),
 * without qemu-img. */
typedef struct VolumeUsage {
        char *name;
        uint64_t size;          /* the file's or LV's length: a raw volume's capacity */
        uint64_t allocation;    /* what it takes on the pool, bytes */
} VolumeUsage;

void volume_usage_array_free(VolumeUsage *v, size_t n);
