/* VM backups: libvirt's calls, for worker threads */
#include <fcntl.h>
#include <libvirt/virterror.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent-errno.h"
#include "backup.h"
#include "libvirt-error.h"
#include "macro.h"
#include "virt-cleanup.h"

static void checkpoint_freep(virDomainCheckpointPtr *p) {
        if (*p)
                (void) virDomainCheckpointFree(*p);
}

static int domain_lookup(virConnectPtr conn, const char *uuid, virDomainPtr *ret, char **ret_error) {
        *ret = virDomainLookupByUUIDString(conn, uuid);
        return *ret ? 0 : libvirt_error_take(ret_error);
}

static int set_error(char **ret_error, int r, const char *format, ...) _printf_(3, 4);
static int set_error(char **ret_error, int r, const char *format, ...) {
        va_list ap;

        if (ret_error) {
                free(*ret_error);
                va_start(ap, format);
                if (vasprintf(ret_error, format, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return r;
}

/* 1 when DOM has the checkpoint NAME, 0 when not. */
static int checkpoint_exists(virDomainPtr dom, const char *name, char **ret_error) {
        _cleanup_(checkpoint_freep) virDomainCheckpointPtr c = virDomainCheckpointLookupByName(dom, name, 0);
        virErrorPtr e;

        if (c)
                return 1;
        e = virGetLastError();
        if (e && e->code == VIR_ERR_NO_DOMAIN_CHECKPOINT) {
                virResetLastError();
                return 0;
        }
        return libvirt_error_take(ret_error);
}

int backup_domain_read(virConnectPtr conn, const char *uuid, const char *checkpoint, BackupDomain *ret,
                       bool *ret_checkpoint_exists, char **ret_error) {
        _cleanup_(virDomainFreep) virDomainPtr dom = NULL;
        _cleanup_(freep) char *xml = NULL;
        int active, r;

        r = domain_lookup(conn, uuid, &dom, ret_error);
        if (r < 0)
                return r;
        active = virDomainIsActive(dom);
        if (active < 0)
                return libvirt_error_take(ret_error);
        if (!active)
                return set_error(ret_error, -ERRNO_INVALID_STATE, "the VM is not running");
        if (checkpoint) {
                r = checkpoint_exists(dom, checkpoint, ret_error);
                if (r < 0)
                        return r;
                *ret_checkpoint_exists = r > 0;
        }
        xml = virDomainGetXMLDesc(dom, 0);
        if (!xml)
                return libvirt_error_take(ret_error);
        r = backup_domain_parse(xml, ret);
        if (r == -E2BIG)
                return set_error(ret_error, -EOPNOTSUPP, "the VM has more than %d disks", BACKUP_DISKS_MAX);
        return r < 0 ? set_error(ret_error, r, "cannot read the VM's XML") : 0;
}

/* 1 when any of P's files (partial or published) is there already. */
static int files_in_way(const BackupPlan *p, char **ret_error) {
        for (size_t i = 0; i < p->n_disks; i++) {
                const BackupDisk *d = &p->disks[i];

                if (!d->include)
                        continue;
                if (access(d->partial, F_OK) == 0 || access(d->path, F_OK) == 0) {
                        set_error(ret_error, 0, "pool has a volume %s already", d->name);
                        return 1;
                }
        }
        return 0;
}

#define CHECKPOINT_NAME_TRIES 20

int backup_plan_finish(virConnectPtr conn, const char *uuid, time_t when, BackupPlan *p, char **ret_error) {
        _cleanup_(virDomainFreep) virDomainPtr dom = NULL;
        int r;

        r = domain_lookup(conn, uuid, &dom, ret_error);
        if (r < 0)
                return r;
        /* Two backups in one second get "-2": a name is never a checkpoint's twice. */
        for (unsigned n = 1; n <= CHECKPOINT_NAME_TRIES; n++) {
                free(p->checkpoint);
                p->checkpoint = NULL;
                r = backup_checkpoint_name(when, n, &p->checkpoint);
                if (r < 0)
                        return r;
                r = checkpoint_exists(dom, p->checkpoint, ret_error);
                if (r < 0)
                        return r;
                if (r > 0)
                        continue;
                r = backup_plan_name_disks(p);
                if (r < 0)
                        return set_error(ret_error, r, "cannot name the backup's volumes");
                if (files_in_way(p, ret_error) == 0)
                        return 0;
        }
        return -EEXIST;
}

static int fs_thaw(virDomainPtr dom) {
        int r = virDomainFSThaw(dom, NULL, 0, 0);

        if (r < 0)
                virResetLastError();   /* the freeze's or the backup's error is the one to report */
        return r;
}

/* Any refusal of the freeze means the guest's agent cannot do it now. */
static int fs_freeze(virDomainPtr dom, char **ret_error) {
        _cleanup_(freep) char *why = NULL;

        if (virDomainFSFreeze(dom, NULL, 0, 0) >= 0)
                return 0;
        (void) libvirt_error_take(&why);
        return set_error(ret_error, -ERRNO_NO_GUEST_AGENT, "cannot freeze the guest's file systems: %s",
                         strempty(why));
}

#define SPEED_TRIES 40
#define SPEED_RETRY_USEC 5000

/* libvirt takes a disk's copy for a block job only once QEMU has said it runs, a moment
 * after the backup began: "does not have an active block job" until then. */
static int speed_set(virDomainPtr dom, const char *target, uint32_t mib) {
        for (unsigned i = 0;; i++) {
                virErrorPtr e;

                if (virDomainBlockJobSetSpeed(dom, target, mib, 0) >= 0)
                        return 0;
                e = virGetLastError();
                if (i + 1 >= SPEED_TRIES || !e || e->code != VIR_ERR_INVALID_ARG)
                        return -1;
                virResetLastError();
                (void) usleep(SPEED_RETRY_USEC);
        }
}

/* 1 when a disk's copy could not be capped (it may have ended already): the backup runs on. */
static int bandwidth_set(virDomainPtr dom, const BackupPlan *p, char **ret_error) {
        int r = 0;

        for (size_t i = 0; p->bandwidth_mib > 0 && i < p->n_disks; i++)
                if (p->disks[i].include && speed_set(dom, p->disks[i].target, p->bandwidth_mib) < 0) {
                        (void) libvirt_error_take(ret_error);
                        r = 1;
                }
        return r;
}

int backup_begin(virConnectPtr conn, const char *uuid, const BackupPlan *p, char **ret_error) {
        _cleanup_(virDomainFreep) virDomainPtr dom = NULL;
        _cleanup_(freep) char *backup_xml = NULL, *checkpoint_xml = NULL;
        int r;

        r = backup_xml_build(p, &backup_xml);
        if (r < 0)
                return r;
        r = backup_checkpoint_xml_build(p, &checkpoint_xml);
        if (r < 0 && r != -ENOENT)
                return r;
        r = domain_lookup(conn, uuid, &dom, ret_error);
        if (r < 0)
                return r;
        if (p->quiesce) {
                r = fs_freeze(dom, ret_error);
                if (r < 0)
                        return r;
        }
        r = virDomainBackupBegin(dom, backup_xml, checkpoint_xml, 0) < 0 ? libvirt_error_take(ret_error) : 0;
        if (p->quiesce)
                (void) fs_thaw(dom);
        if (r >= 0)
                r = bandwidth_set(dom, p, ret_error);
        return r;
}

static uint64_t param_ull(virTypedParameterPtr params, int n, const char *name) {
        unsigned long long v = 0;

        (void) virTypedParamsGetULLong(params, n, name, &v);
        return v;
}

static BackupJobState completed_state(int type) {
        switch (type) {
        case VIR_DOMAIN_JOB_COMPLETED:
                return BACKUP_JOB_COMPLETED;
        case VIR_DOMAIN_JOB_FAILED:
                return BACKUP_JOB_FAILED;
        case VIR_DOMAIN_JOB_CANCELLED:
                return BACKUP_JOB_CANCELLED;
        default:
                return BACKUP_JOB_UNKNOWN;
        }
}

/* One look at the domain's job: FLAGS 0 the running one, or the last completed one. */
static int job_stats(virDomainPtr dom, unsigned flags, BackupStats *ret, char **ret_error) {
        virTypedParameterPtr params = NULL;
        int type = VIR_DOMAIN_JOB_NONE, n = 0, op = 0;
        const char *msg = NULL;

        if (virDomainGetJobStats(dom, &type, &params, &n, flags) < 0)
                return libvirt_error_take(ret_error);
        if (virTypedParamsGetInt(params, n, VIR_DOMAIN_JOB_OPERATION, &op) != 1 ||
            op != VIR_DOMAIN_JOB_OPERATION_BACKUP)
                type = VIR_DOMAIN_JOB_NONE;   /* not a backup: not ours */
        *ret = (BackupStats) {
                .state = flags == 0 ? (type == VIR_DOMAIN_JOB_NONE ? BACKUP_JOB_UNKNOWN : BACKUP_JOB_RUNNING)
                                    : completed_state(type),
                .total = param_ull(params, n, VIR_DOMAIN_JOB_DISK_TOTAL),
                .processed = param_ull(params, n, VIR_DOMAIN_JOB_DISK_PROCESSED),
        };
        if (virTypedParamsGetString(params, n, VIR_DOMAIN_JOB_ERRMSG, &msg) == 1 && msg)
                ret->error = strdup(msg);
        virTypedParamsFree(params, n);
        return 0;
}

int backup_stats_read(virConnectPtr conn, const char *uuid, BackupStats *ret, char **ret_error) {
        _cleanup_(virDomainFreep) virDomainPtr dom = NULL;
        int r;

        r = domain_lookup(conn, uuid, &dom, ret_error);
        if (r < 0)
                return r;
        r = job_stats(dom, 0, ret, ret_error);
        if (r < 0 || ret->state == BACKUP_JOB_RUNNING)
                return r;
        /* Kept for whoever else asks (a virsh domjobinfo --completed). */
        return job_stats(dom, VIR_DOMAIN_JOB_STATS_COMPLETED | VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED, ret, ret_error);
}

void backup_stats_done(BackupStats *s) {
        free(s->error);
        *s = (BackupStats) {};
}

int backup_running_read(virConnectPtr conn, const char *uuid, BackupRunning *ret, char **ret_error) {
        _cleanup_(virDomainFreep) virDomainPtr dom = NULL;
        _cleanup_(freep) char *xml = NULL;
        int r;

        r = domain_lookup(conn, uuid, &dom, ret_error);
        if (r < 0)
                return r;
        xml = virDomainBackupGetXMLDesc(dom, 0);
        if (!xml)
                return libvirt_error_take(ret_error);
        r = backup_running_parse(xml, ret);
        return r < 0 ? set_error(ret_error, r, "cannot read libvirt's description of the backup") : 0;
}

int backup_abort(virConnectPtr conn, const char *uuid, char **ret_error) {
        _cleanup_(virDomainFreep) virDomainPtr dom = NULL;
        int r = domain_lookup(conn, uuid, &dom, ret_error);

        if (r < 0)
                return r;
        return virDomainAbortJob(dom) < 0 ? libvirt_error_take(ret_error) : 0;
}

int backup_checkpoint_delete(virConnectPtr conn, const char *uuid, const char *checkpoint, char **ret_error) {
        _cleanup_(virDomainFreep) virDomainPtr dom = NULL;
        _cleanup_(checkpoint_freep) virDomainCheckpointPtr c = NULL;
        virErrorPtr e;
        int r;

        if (!checkpoint)
                return 0;
        r = domain_lookup(conn, uuid, &dom, ret_error);
        if (r < 0)
                return r;
        c = virDomainCheckpointLookupByName(dom, checkpoint, 0);
        if (!c) {
                e = virGetLastError();
                if (e && e->code == VIR_ERR_NO_DOMAIN_CHECKPOINT) {
                        virResetLastError();
                        return 0;
                }
                return libvirt_error_take(ret_error);
        }
        return virDomainCheckpointDelete(c, 0) < 0 ? libvirt_error_take(ret_error) : 0;
}

/* Renames FROM to TO unless TO exists (a volume made meanwhile is never replaced). */
static int publish(const char *from, const char *to) {
        if (link(from, to) < 0)
                return -errno;
        (void) unlink(from);
        return 0;
}

int backup_files_finish(char *const *partials, char *const *paths, size_t n, bool completed, char **ret_error) {
        int result = 0;

        for (size_t i = 0; i < n; i++) {
                int r;

                if (!completed) {
                        if (unlink(partials[i]) < 0 && errno != ENOENT && result == 0)
                                result = set_error(ret_error, -errno, "cannot remove %s: %m", partials[i]);
                        continue;
                }
                r = publish(partials[i], paths[i]);
                if (r == -ENOENT && access(paths[i], F_OK) == 0)
                        continue;   /* published already (by an agent that died right after) */
                if (r < 0 && result == 0)
                        result = set_error(ret_error, r, "cannot publish %s as %s: %s", partials[i], paths[i],
                                           strerror(-r));
        }
        return result;
}
