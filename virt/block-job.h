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

/* Offline: OVERLAY (with base BASE of format BASE_FORMAT) merged into BASE
 * for the shut-off domain UUID's disk TARGET. When OVERLAY is the disk's
 * image, the definition is pointed at BASE; when another image builds on it,
 * that image is rebased onto BASE. OVERLAY is removed. */
int block_commit_offline(virConnectPtr conn, const char *uuid, const char *target, const char *overlay,
                         const char *base, const char *base_format, char **ret_error);
