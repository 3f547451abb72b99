/* Block commit jobs: a snapshot's overlay merged into its base, live (libvirt's block job) or offline (qemu-img) */
#pragma once

#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <stdint.h>

/* One disk's block job as libvirt has it now. */
typedef struct BlockJobState {
        bool active;            /* libvirt has a job on the disk */
        bool ready;             /* an active commit copied everything: it waits for the pivot */
        uint64_t cur, end;      /* progress, in libvirt's units */
} BlockJobState;

/* Where FILE is in the chain of disk TARGET of DOMAIN_XML (the live XML, with
 * its <backingStore>s): 0 for the active layer, 1 for its backing file, and
 * so on; -ENOENT when it is not in the chain. RET_READY (may be NULL) tells
 * whether the disk's <mirror> of an active commit is ready. */
int block_chain_position(const char *domain_xml, const char *target, const char *file, bool *ret_ready);

/* The percent a job has done. */
unsigned block_job_percent(const BlockJobState *s);

/* Worker threads only; 0 or -errno with RET_ERROR set to libvirt's text.
 * Commits TOP (a file in the chain of TARGET) into the file below it: an
 * active commit when TOP is the active layer (then it waits for
 * block_job_pivot()). BANDWIDTH_BYTES 0: no cap. */
int block_commit_start(virConnectPtr conn, const char *uuid, const char *target, const char *top, bool active,
                       uint64_t bandwidth_bytes, char **ret_error);
/* The disk's job now; ready read from the live XML. POSITION (may be NULL)
 * gets FILE's place in the chain (block_chain_position()). */
int block_job_read(virConnectPtr conn, const char *uuid, const char *target, const char *file, BlockJobState *ret,
                   int *ret_position, char **ret_error);
/* The active commit's last step: the disk runs on the base from now. */
int block_job_pivot(virConnectPtr conn, const char *uuid, const char *target, char **ret_error);

/* What IMAGE is backed by now and that file's format (qemu-img, offline): a
 * snapshot's recorded base goes stale when a merge below it removes it. */
int block_backing_of(const char *image, char **ret_backing, char **ret_format, char **ret_error);

/* Offline: OVERLAY merged into the file below it (block_backing_of()) for
 * the shut-off domain UUID's disk TARGET. When OVERLAY is the disk's image,
 * the definition is pointed at that file; when another image builds on it,
 * that image is rebased onto it. OVERLAY is removed. */
int block_commit_offline(virConnectPtr conn, const char *uuid, const char *target, const char *overlay,
                         char **ret_error);
