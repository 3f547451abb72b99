/* External disk snapshots of a domain: read from libvirt, planned, made and reverted (worker threads only) */
#pragma once

#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SNAPSHOT_NAME_MAX 64
/* What the agent writes into a snapshot's <description> when the guest's filesystems were frozen. */
#define SNAPSHOT_QUIESCED_MARK "hostagent: quiesced"

/* One disk a snapshot took: the overlay made on top of BASE. */
typedef struct SnapshotDisk {
        char *target;           /* "vdb" */
        char *overlay;          /* the new active layer (a file) */
        char *base;             /* what it was before: the overlay's backing file ("" when unknown) */
        char *base_format;      /* "qcow2", "raw" ("" when unknown) */
} SnapshotDisk;

/* One snapshot as libvirt keeps it. */
typedef struct SnapshotInfo {
        char *name;
        uint64_t creation_usec;  /* since the epoch */
        char *parent;            /* its parent's name, or NULL */
        char *state;             /* the domain's state when taken: "running", "paused", "shutoff", "disk-snapshot" */
        char *memory_file;       /* the RAM state, or NULL */
        bool quiesced;
        bool current;
        bool internal;           /* its RAM or a disk is kept inside the images (virsh's default, qcow2) */
        SnapshotDisk *disks;     /* the disks it made overlays for */
        size_t n_disks;
} SnapshotInfo;

void snapshot_disk_done(SnapshotDisk *d);
void snapshot_info_done(SnapshotInfo *s);
void snapshot_info_list_free(SnapshotInfo *list, size_t n);

/* True when NAME may name a snapshot: 1 to SNAPSHOT_NAME_MAX of [A-Za-z0-9_.+-], not starting with '.' or '-'. */
bool snapshot_name_valid(const char *name);

/* A snapshot's XML (virDomainSnapshotGetXMLDesc) into RET; -EINVAL when it is not one. */
int snapshot_parse_xml(const char *xml, SnapshotInfo *ret);

/* Every snapshot of the domain UUID, current one marked. */
int snapshot_list(virConnectPtr conn, const char *uuid, SnapshotInfo **ret, size_t *ret_n, char **ret_error);

/* Which disks of DOMAIN_XML a snapshot NAME takes and where their overlays go
 * (<source>.<NAME>, beside it, in the same pool): the file disks that are
 * writable, or only TARGETS (NULL: all). -EINVAL with RET_WHY ("disks: ...")
 * when a target is not such a disk or none is left; -EEXIST when an overlay's
 * file is there already. */
int snapshot_plan(const char *domain_xml, const char *name, char *const *targets, SnapshotDisk **ret, size_t *ret_n,
                  char **ret_why);

/* The <domainsnapshot> that makes overlays for DISKS (every other disk of
 * ALL_TARGETS gets none), with the RAM state into MEMORY_FILE when not NULL. */
char *snapshot_xml(const char *name, const SnapshotDisk *disks, size_t n, char *const *all_targets,
                   const char *memory_file, bool quiesce);

/* Whether the domain's guest agent channel is connected now (live XML). */
int snapshot_guest_agent_connected(virConnectPtr conn, const char *uuid, bool *ret, char **ret_error);

typedef struct SnapshotRequest {
        const char *name;
        bool memory;            /* with RAM state into MEMORY_FILE; the VM keeps running */
        const char *memory_file;
        bool quiesce;           /* frozen through the guest agent; -ENOLINK (ERRNO_NO_GUEST_AGENT) without one */
        char *const *targets;   /* NULL: every file disk */
} SnapshotRequest;

/* What snapshot_create() would do, checked against the domain as it is now:
 * -EEXIST (the name), -ENOLINK (no connected guest agent to quiesce), or
 * snapshot_plan()'s answers. RET_DISKS gets the plan. */
int snapshot_check(virConnectPtr conn, const char *uuid, const SnapshotRequest *req, SnapshotDisk **ret_disks,
                   size_t *ret_n, char **ret_error);

/* Makes the snapshot, all or nothing. The filesystems are thawed whatever
 * happens. RET_DISKS (may be NULL) gets its disks. -EEXIST when the name is
 * taken. */
int snapshot_create(virConnectPtr conn, const char *uuid, const SnapshotRequest *req, SnapshotDisk **ret_disks,
                    size_t *ret_n, char **ret_error);

/* Reverts the shut-off domain to snapshot NAME: each disk's overlay is
 * made afresh on its base (what the disk was at the snapshot), when it is
 * the disk's active layer; with a memory state, the domain is restored from
 * it, running or paused as it was. -ERRNO_INVALID_STATE (RET_ERROR says
 * why) when a later snapshot builds on an overlay. */
int snapshot_revert(virConnectPtr conn, const char *uuid, const char *name, char **ret_error);

/* The VM spec kept in the domain's metadata (if any) follows the domain:
 * each of DISKS' targets named there is the file the domain's disk runs on
 * now (the overlay after a snapshot, the base after a merge). */
int snapshot_spec_follow(virConnectPtr conn, const char *uuid, const SnapshotDisk *disks, size_t n,
                         char **ret_error);

/* Drops the snapshot's metadata (its overlays are the caller's). */
int snapshot_forget(virConnectPtr conn, const char *uuid, const char *name, char **ret_error);
