/* VM backups: libvirt's push-mode backup of a running domain's disks into files of a pool's directory */
#pragma once

#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* A checkpoint a backup makes is named "backup-<UTC time>" ("backup-20261127T203015Z",
 * "-2", "-3" after it when that name is taken); each new volume is
 * "<VM name>-<disk target>-<checkpoint>", the VM's name cut (and characters a volume name
 * cannot have made '_') so that the whole fits BACKUP_NAME_MAX. */
#define BACKUP_CHECKPOINT_PREFIX "backup-"
#define BACKUP_NAME_MAX 64
/* libvirt writes each volume under this hidden name (no listing takes it for a volume, and the
 * start-up removal of half-made volumes leaves it alone: QEMU may still be writing it after a
 * restart of the agent); it is renamed to its name once the backup is whole. */
#define BACKUP_PARTIAL_PREFIX ".hostagent-backup."
#define BACKUP_DISKS_MAX 64
#define BACKUP_BANDWIDTH_MAX_MIB 100000u
#define GUEST_AGENT_CHANNEL "org.qemu.guest_agent.0"

/* One disk of the domain as the backup sees it. */
typedef struct BackupDisk {
        char *target;        /* "vda" */
        char *format;        /* the driver's type: "qcow2", "raw", "" */
        bool include;        /* copied: a disk (not a cdrom or floppy) with a source, writable */
        char *name;          /* the new volume's name (included disks) */
        char *partial;       /* the file libvirt writes: <dir>/.hostagent-backup.<name> */
        char *path;          /* where it is published: <dir>/<name> */
} BackupDisk;

/* What the domain's live XML says that a backup needs. */
typedef struct BackupDomain {
        BackupDisk *disks;
        size_t n_disks;
        bool has_agent;        /* a guest agent channel */
        bool agent_connected;  /* ... and its agent is connected now */
} BackupDomain;

typedef struct BackupPlan {
        char *vm_name;
        char *dir;             /* the pool's directory */
        char *checkpoint;      /* the checkpoint this backup makes */
        char *incremental;     /* the checkpoint it copies the changes since, or NULL: all */
        bool quiesce;
        uint32_t bandwidth_mib;   /* 0: as fast as it goes */
        BackupDisk *disks;     /* every disk of the domain, included or not */
        size_t n_disks;
} BackupPlan;

void backup_domain_done(BackupDomain *d);
void backup_plan_done(BackupPlan *p);
size_t backup_plan_included(const BackupPlan *p);

/* Reads a domain's live XML: its disks and its guest agent channel. -EBADMSG when it is not a
 * domain's XML, -E2BIG past BACKUP_DISKS_MAX disks. */
int backup_domain_parse(const char *xml, BackupDomain *ret);

/* "backup-20261127T203015Z" for WHEN, with "-N" (N >= 2) appended when N > 1. */
int backup_checkpoint_name(time_t when, unsigned n, char **ret);
/* "<VM>-<target>-<checkpoint>", fit to BACKUP_NAME_MAX and made a valid volume name. */
int backup_volume_name(const char *vm_name, const char *target, const char *checkpoint, char **ret);
/* Names every included disk of P (P->disks, P->dir and P->checkpoint set): name, partial, path. */
int backup_plan_name_disks(BackupPlan *p);

/* <domainbackup mode='push'>: every disk listed, each included one with its file (qcow2),
 * <incremental> when P says; a raw disk of an incremental backup is copied whole. */
int backup_xml_build(const BackupPlan *p, char **ret_xml);
/* <domaincheckpoint>: a bitmap on every included qcow2 disk; -ENOENT when no disk can
 * have one (the backup then makes no checkpoint). */
int backup_checkpoint_xml_build(const BackupPlan *p, char **ret_xml);

/* A running backup as libvirt describes it (virDomainBackupGetXMLDesc): push or pull, the
 * checkpoint it is incremental to, and each disk's target file. */
typedef struct BackupRunning {
        bool push;
        char *incremental;
        char **targets;        /* "vda", ... (disks with backup='yes') */
        char **files;          /* their files, in the same order */
        size_t n;
} BackupRunning;

int backup_running_parse(const char *xml, BackupRunning *ret);
void backup_running_done(BackupRunning *r);

/* Worker thread: libvirt's calls (backup-ops.c). Each returns 0 or -errno with
 * RET_ERROR (may be NULL) set to libvirt's or our own words. */

/* What Backup() needs of a running domain: its disks and agent, and whether CHECKPOINT
 * (may be NULL) exists. -ERRNO_INVALID_STATE when it is not running. */
int backup_domain_read(virConnectPtr conn, const char *uuid, const char *checkpoint, BackupDomain *ret,
                       bool *ret_checkpoint_exists, char **ret_error);
/* Picks P's checkpoint name from WHEN (the first one the domain does not have) and names
 * the disks; -EEXIST when a file of theirs is in the way. */
int backup_plan_finish(virConnectPtr conn, const char *uuid, time_t when, BackupPlan *p, char **ret_error);
/* Freezes the guest's file systems when P->quiesce (thawed right after the backup began,
 * whatever happened), begins the backup and its checkpoint, and sets P's bandwidth: 0, 1
 * when it began but a disk's copy could not be capped (RET_ERROR says why), or -errno
 * (-ERRNO_NO_GUEST_AGENT when the freeze cannot be asked). */
int backup_begin(virConnectPtr conn, const char *uuid, const BackupPlan *p, char **ret_error);

typedef enum BackupJobState {
        BACKUP_JOB_RUNNING,
        BACKUP_JOB_COMPLETED,
        BACKUP_JOB_FAILED,
        BACKUP_JOB_CANCELLED,
        BACKUP_JOB_UNKNOWN,      /* no backup runs, and libvirt keeps no word of how it ended */
} BackupJobState;

typedef struct BackupStats {
        BackupJobState state;
        uint64_t total;          /* bytes to copy */
        uint64_t processed;
        char *error;             /* how it failed, when libvirt says */
} BackupStats;

/* The domain's backup job now, or how the last one ended. */
int backup_stats_read(virConnectPtr conn, const char *uuid, BackupStats *ret, char **ret_error);
void backup_stats_done(BackupStats *s);
/* The running backup's description. */
int backup_running_read(virConnectPtr conn, const char *uuid, BackupRunning *ret, char **ret_error);
int backup_abort(virConnectPtr conn, const char *uuid, char **ret_error);
/* Deletes the checkpoint a backup that did not complete made (0 when there is none). */
int backup_checkpoint_delete(virConnectPtr conn, const char *uuid, const char *checkpoint, char **ret_error);
/* After the backup: each partial file renamed to its name (COMPLETED), or removed. */
int backup_files_finish(char *const *partials, char *const *paths, size_t n, bool completed, char **ret_error);
