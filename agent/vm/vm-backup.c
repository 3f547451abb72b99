/* VM.Backup: a push-mode backup of a running VM's disks into a pool, as a Job followed once a second.
 *
 * libvirt runs the backup (QEMU copies each disk into a file of the pool's
 * directory, under a hidden name) and carries it on when the agent goes.
 * The agent asks libvirt to begin it, reads its statistics once a second
 * and at libvirt's JOB_COMPLETED event, and settles what it leaves: the
 * files renamed to their volume names once whole, or removed with the
 * backup's checkpoint when it failed or was cancelled. Every call is short
 * and runs on the worker pool. The job is recorded with everything the next
 * agent needs to find the backup again in libvirt's job information. */
#include "vm-backup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent-errno.h"
#include "bus-audit.h"
#include "bus-error.h"
#include "command.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "storage.h"
#include "virt-cleanup.h"

static VmBackup *backup_ref(VmBackup *b) {
        b->n_ref++;
        return b;
}

static void backup_unref(VmBackup *b) {
        if (!b || --b->n_ref > 0)
                return;
        sd_event_source_disable_unref(b->poll);
        sd_event_source_disable_unref(b->linger);
        sd_bus_message_unref(b->reply_to);
        backup_plan_done(&b->plan);
        free(b->job_path);
        free(b->pool);
        free(b);
}

typedef enum BackupCallKind {
        BACKUP_CALL_BEGIN,
        BACKUP_CALL_STATS,
        BACKUP_CALL_ABORT,
        BACKUP_CALL_END,
} BackupCallKind;

typedef struct BackupCall {
        VmBackup *backup;
        BackupCallKind kind;
        virConnectPtr conn;
        BackupStats stats;       /* STATS: read; END: how it ended */
        char *error;
} BackupCall;

/* A resumed backup is the one libvirt runs only when it writes our files. */
static bool running_is_ours(const VmBackup *b, const BackupRunning *r) {
        for (size_t i = 0; i < b->plan.n_disks; i++)
                for (size_t k = 0; b->plan.disks[i].include && k < r->n; k++)
                        if (streq(r->files[k], b->plan.disks[i].partial))
                                return true;
        return false;
}

static int stats_work(BackupCall *c) {
        VmBackup *b = c->backup;
        BackupRunning running = {};
        int r;

        r = backup_stats_read(c->conn, b->uuid, &c->stats, &c->error);
        if (r < 0 || c->stats.state != BACKUP_JOB_RUNNING || !b->resumed)
                return r;
        r = backup_running_read(c->conn, b->uuid, &running, &c->error);
        if (r >= 0 && !running_is_ours(b, &running))
                c->stats.state = BACKUP_JOB_UNKNOWN;   /* another backup: ours ended before it */
        backup_running_done(&running);
        return r;
}

#define REBASE_TIMEOUT_USEC (30ULL * 1000 * 1000)

/* libvirt makes an incremental volume an overlay of the VM's disk, which reads as the disk
 * is now, not as it was, and keeps the disk's volume from being deleted. When the backup it
 * follows is in the same pool (<VM>-<target>-<that checkpoint>), the volume is made an
 * overlay of that one instead: the two read as the disk was at this backup. Metadata only
 * (qemu-img rebase -u); a failure leaves libvirt's backing file, logged. */
static void incremental_rebase(const BackupPlan *p, const BackupDisk *d) {
        _cleanup_(freep) char *name = NULL, *previous = NULL, *message = NULL;
        int r;

        if (!streq_ptr(d->format, "qcow2") || backup_volume_name(p->vm_name, d->target, p->incremental, &name) < 0 ||
            asprintf(&previous, "%s/%s", p->dir, name) < 0) {
                previous = NULL;
                return;
        }
        if (access(previous, F_OK) < 0)
                return;   /* not in this pool: libvirt's backing file stays */
        r = command_run_simple((char *const[]) { (char *) "qemu-img", (char *) "rebase", (char *) "-u", (char *) "-f",
                                                 (char *) "qcow2", (char *) "-F", (char *) "qcow2", (char *) "-b",
                                                 previous, d->partial, NULL },
                               REBASE_TIMEOUT_USEC, NULL, &message);
        if (r < 0)
                log_warning("Cannot make %s an overlay of the backup before it, %s: %s", d->name, name,
                            strempty(message));
}

/* The files published (a complete backup) or removed with the checkpoint. */
static int end_work(BackupCall *c) {
        const BackupPlan *p = &c->backup->plan;
        bool completed = c->stats.state == BACKUP_JOB_COMPLETED;
        char *partials[BACKUP_DISKS_MAX], *paths[BACKUP_DISKS_MAX];
        size_t n = 0;
        int r;

        for (size_t i = 0; i < p->n_disks; i++)
                if (p->disks[i].include) {
                        if (completed && p->incremental)
                                incremental_rebase(p, &p->disks[i]);
                        partials[n] = p->disks[i].partial;
                        paths[n++] = p->disks[i].path;
                }
        r = backup_files_finish(partials, paths, n, completed, &c->error);
        if (!completed && backup_checkpoint_delete(c->conn, c->backup->uuid, p->checkpoint, NULL) < 0)
                log_warning("Cannot delete checkpoint %s of the backup %s, which did not complete", p->checkpoint,
                            c->backup->job_path);
        return r;
}

static int backup_call_work(void *userdata) {
        BackupCall *c = userdata;
        VmBackup *b = c->backup;   /* its plan is constant once made */

        switch (c->kind) {
        case BACKUP_CALL_BEGIN:
                return backup_begin(c->conn, b->uuid, &b->plan, &c->error);
        case BACKUP_CALL_STATS:
                return stats_work(c);
        case BACKUP_CALL_ABORT:
                return backup_abort(c->conn, b->uuid, &c->error);
        case BACKUP_CALL_END:
                return end_work(c);
        }
        return -EINVAL;
}

static void backup_answer(VmBackup *b, const sd_bus_error *e);
static void begin_done(VmBackup *b, BackupCall *c, int result);
static void stats_done(VmBackup *b, BackupCall *c, int result);
static void abort_done(VmBackup *b, BackupCall *c, int result);
static void end_done(VmBackup *b, BackupCall *c, int result);

static void backup_call_done(int result, void *userdata) {
        BackupCall *c = userdata;
        VmBackup *b = c->backup;

        if (c->kind == BACKUP_CALL_STATS)
                b->polling = false;
        if (result == -ECANCELED && c->kind == BACKUP_CALL_BEGIN) {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

                (void) bus_error_set_shutting_down(&e);
                backup_answer(b, &e);
        }
        if (b->job && result != -ECANCELED)   /* ECANCELED: the agent stops, libvirt carries on */
                switch (c->kind) {
                case BACKUP_CALL_BEGIN:
                        begin_done(b, c, result);
                        break;
                case BACKUP_CALL_STATS:
                        stats_done(b, c, result);
                        break;
                case BACKUP_CALL_ABORT:
                        abort_done(b, c, result);
                        break;
                case BACKUP_CALL_END:
                        end_done(b, c, result);
                        break;
                }
        virConnectClosep(&c->conn);
        backup_stats_done(&c->stats);
        free(c->error);
        free(c);
        backup_unref(b);
}

/* The agent's own follow-up of a backup it accepted is never refused for load. STATS
 * (may be NULL) is moved into the call. */
static int backup_call(VmBackup *b, BackupCallKind kind, BackupStats *stats) {
        BackupCall *c = calloc(1, sizeof *c);
        int r;

        if (!c)
                return -ENOMEM;
        c->kind = kind;
        c->conn = libvirt_conn_ref(b->manager->libvirt);
        if (!c->conn) {
                free(c);
                return -ENOTCONN;
        }
        if (stats) {
                c->stats = *stats;
                *stats = (BackupStats) {};
        }
        c->backup = backup_ref(b);
        r = worker_pool_submit(b->manager->pool, WORKER_INTERNAL, backup_call_work, backup_call_done, c);
        if (r < 0) {
                virConnectClosep(&c->conn);
                backup_stats_done(&c->stats);
                backup_unref(b);
                free(c);
        }
        return r;
}

static void backup_poll_now(VmBackup *b) {
        if (b->polling) {
                b->poll_again = true;
                return;
        }
        if (b->ending || !b->begun)
                return;
        if (backup_call(b, BACKUP_CALL_STATS, NULL) >= 0) {
                b->polling = true;
                b->poll_again = false;
        }
}

static int on_poll(sd_event_source *s, uint64_t usec, void *userdata) {
        VmBackup *b = userdata;

        if (!b->job)
                return 0;
        backup_poll_now(b);
        (void) sd_event_source_set_time(s, usec + BACKUP_POLL_USEC);
        return sd_event_source_set_enabled(s, SD_EVENT_ON);
}

static int backup_poll_start(VmBackup *b, uint64_t first_usec) {
        return sd_event_add_time_relative(b->manager->event, &b->poll, CLOCK_MONOTONIC, first_usec,
                                          1000 /* once a second, not sd-event's 250 ms slack */, on_poll, b);
}

/* libvirt has no backup of ours any more: its files and checkpoint are settled, then the
 * job ends. STATS is moved. */
static void backup_end(VmBackup *b, BackupStats *stats) {
        int r;

        b->ending = true;
        b->poll = sd_event_source_disable_unref(b->poll);
        r = backup_call(b, BACKUP_CALL_END, stats);
        if (r < 0) {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

                (void) bus_error_set(&e, r, NULL, "Cannot settle the files of the backup");
                job_finish(b->job, "failed", e.name, e.message);
        }
}

/* The Backup() call hears how the begin went: its job's path, or why not. */
static void backup_answer(VmBackup *b, const sd_bus_error *e) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = TAKE_PTR(b->reply_to);
        int r;

        if (!msg)
                return;
        r = e ? sd_bus_reply_method_error(msg, e) : sd_bus_reply_method_return(msg, "o", b->job_path);
        bus_audit_answered(msg, e ? e->name : NULL);
        if (r < 0)
                log_debug_errno(r, "Cannot answer the call that started %s: %m", b->job_path);
}

static void begin_done(VmBackup *b, BackupCall *c, int result) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        if (result < 0) {
                (void) bus_error_set(&e, result, c->error, "Cannot back up VM %s", b->plan.vm_name);
                backup_answer(b, &e);
                job_finish(b->job, "failed", e.name, e.message);
                return;
        }
        backup_answer(b, NULL);
        if (result > 0)
                log_warning("Job %u: the backup runs without its bandwidth cap: %s", b->job->id, strempty(c->error));
        b->begun = true;
        log_fields(LOG_INFO, LOG_FIELDS("OBJECT_PATH", b->job_path, "VM_UUID", b->uuid),
                   "Job %u: backing up VM %s into pool %s (checkpoint %s)", b->job->id, b->plan.vm_name, b->pool,
                   b->plan.checkpoint);
        r = backup_poll_start(b, BACKUP_POLL_USEC);
        if (r < 0)
                log_warning_errno(r, "Job %u: cannot follow the backup's progress: %m", b->job->id);
        if (b->cancel && backup_call(b, BACKUP_CALL_ABORT, NULL) < 0)
                log_warning("Job %u: cannot ask libvirt to abort the backup", b->job->id);
}

static void stats_done(VmBackup *b, BackupCall *c, int result) {
        unsigned percent;

        if (b->ending)
                return;
        if (result == -ENOENT || result == -ERRNO_INVALID_STATE) {
                c->stats = (BackupStats) { .state = BACKUP_JOB_UNKNOWN };   /* the VM stopped or went */
        } else if (result < 0) {
                log_debug("Job %u: cannot read the backup's statistics: %s", b->job->id, strempty(c->error));
                return;   /* the next tick asks again */
        }
        if (c->stats.state != BACKUP_JOB_RUNNING) {
                backup_end(b, &c->stats);
                return;
        }
        if (c->stats.total != b->total || c->stats.processed != b->processed) {
                b->total = c->stats.total;
                b->processed = c->stats.processed;
                vm_backup_bus_emit(b, (const char *[]) { "DataTotalBytes", "DataProcessedBytes", NULL });
        }
        percent = b->total ? (unsigned) (b->processed * 100 / b->total) : 0;
        job_set_progress(b->job, percent > 99 ? 99 : percent);   /* 100 once the files are published */
        if (b->poll_again)
                backup_poll_now(b);
}

static void abort_done(VmBackup *b, BackupCall *c, int result) {
        if (result < 0)   /* it ended meanwhile: the next look says how */
                log_debug("Job %u: libvirt did not abort the backup: %s", b->job->id, strempty(c->error));
        backup_poll_now(b);
}

static void end_done(VmBackup *b, BackupCall *c, int result) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        Pool *p = storage_pool_find(b->manager, b->pool);
        BackupJobState state = c->stats.state;

        if (p)
                pool_check_soon(p, true);   /* the new volumes are listed */
        if (state == BACKUP_JOB_COMPLETED && result >= 0) {
                job_finish(b->job, "done", NULL, NULL);
        } else if (state == BACKUP_JOB_CANCELLED || (b->cancel && state != BACKUP_JOB_COMPLETED)) {
                job_finish(b->job, "cancelled", NULL, NULL);
        } else if (state == BACKUP_JOB_COMPLETED) {
                (void) bus_error_set(&e, result, c->error, "The backup completed, but its volumes");
                job_finish(b->job, "failed", e.name, e.message);
        } else {
                (void) sd_bus_error_setf(&e, HOSTAGENT_ERROR_FAILED, "The backup of VM %s failed: %s", b->plan.vm_name,
                                         c->stats.error ? c->stats.error
                                         : state == BACKUP_JOB_FAILED ? "libvirt does not say why"
                                                                      : "it ended (the VM stopped, or while the agent "
                                                                        "was restarting) and libvirt keeps no word of how");
                job_finish(b->job, "failed", e.name, e.message);
        }
}

static int on_cancel(Job *job, sd_bus_error *error) {
        VmBackup *b = job->data;
        int r;

        if (b->cancel || b->ending)
                return 0;   /* asked already, or ending anyway */
        b->cancel = true;
        if (!b->begun)
                return 0;   /* aborted once libvirt has begun it */
        r = backup_call(b, BACKUP_CALL_ABORT, NULL);
        if (r < 0) {
                b->cancel = false;
                return bus_error_set(error, r, NULL, "Cannot cancel job %u", job->id);
        }
        return 0;
}

/* The VM stopped: a look now rather than at the next tick. */
static void on_vm_changed(Job *job, void *object) {
        Vm *vm = object;

        if (!vm_state_is_active(vm->info.state))
                backup_poll_now(job->data);
}

static json_object *disk_json(const BackupDisk *d) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "target", json_object_new_string(d->target));
        json_object_object_add(o, "name", json_object_new_string(d->name));
        json_object_object_add(o, "partial", json_object_new_string(d->partial));
        json_object_object_add(o, "path", json_object_new_string(d->path));
        json_object_object_add(o, "format", json_object_new_string(strempty(d->format)));
        return o;
}

/* Everything the next agent needs to find the backup in libvirt and settle its files. */
static json_object *backup_resume_data(Job *job) {
        VmBackup *b = job->data;
        json_object *data = json_object_new_object(), *disks = json_object_new_array();

        if (!data || !disks) {
                json_object_put(data);
                json_object_put(disks);
                return NULL;
        }
        json_object_object_add(data, "uuid", json_object_new_string(b->uuid));
        json_object_object_add(data, "vm_name", json_object_new_string(b->plan.vm_name));
        json_object_object_add(data, "pool", json_object_new_string(b->pool));
        json_object_object_add(data, "dir", json_object_new_string(b->plan.dir));
        json_object_object_add(data, "checkpoint", json_object_new_string(strempty(b->plan.checkpoint)));
        if (b->plan.incremental)
                json_object_object_add(data, "incremental", json_object_new_string(b->plan.incremental));
        json_object_object_add(data, "quiesce", json_object_new_boolean(b->plan.quiesce));
        for (size_t i = 0; i < b->plan.n_disks; i++)
                if (b->plan.disks[i].include)
                        json_object_array_add(disks, disk_json(&b->plan.disks[i]));
        json_object_object_add(data, "disks", disks);
        return data;
}

static void backup_unlink(VmBackup *b) {
        for (VmBackup **p = &b->manager->backups; *p; p = &(*p)->next)
                if (*p == b) {
                        *p = b->next;
                        backup_unref(b);
                        return;
                }
}

static int on_linger_end(sd_event_source *s, uint64_t usec, void *userdata) {
        backup_unlink(userdata);
        return 0;
}

/* The job's data goes: the job ended (the Backup interface stays as long as the job
 * object), or the agent stops (libvirt carries the backup on). */
static void backup_job_free(void *data) {
        VmBackup *b = data;

        b->job = NULL;
        b->poll = sd_event_source_disable_unref(b->poll);
        if (sd_event_add_time_relative(b->manager->event, &b->linger, CLOCK_MONOTONIC, JOB_LINGER_USEC, 0,
                                       on_linger_end, b) < 0)
                log_debug("The backup of %s stays until exit", b->job_path);
}

static const JobOps backup_ops = {
        .cancel = on_cancel,
        .object_changed = on_vm_changed,
        .resume_data = backup_resume_data,
        .free = backup_job_free,
};

static VmBackup *backup_alloc(Manager *m, const char *uuid, const char *pool) {
        VmBackup *b = calloc(1, sizeof *b);

        if (!b)
                return NULL;
        b->n_ref = 1;   /* the manager's list, once linked */
        b->manager = m;
        snprintf(b->uuid, sizeof b->uuid, "%s", uuid);
        b->pool = strdup(pool);
        if (!b->pool) {
                backup_unref(b);
                return NULL;
        }
        return b;
}

static void backup_link(VmBackup *b, Job *job) {
        b->job = job;
        b->next = b->manager->backups;
        b->manager->backups = b;
}

int vm_backup_new(Manager *m, Vm *vm, const char *pool, BackupPlan *plan, Job **ret) {
        VmBackup *b = backup_alloc(m, vm->info.uuid, pool);
        Job *job;
        int r;

        if (!b)
                return -ENOMEM;
        b->plan = *plan;
        *plan = (BackupPlan) {};
        /* Findable by the job's path before job_new() announces it, so that its
         * InterfacesAdded carries the Backup interface too. */
        if (asprintf(&b->job_path, "%s/%u", JOB_PATH_PREFIX, m->last_job_id + 1) < 0) {
                b->job_path = NULL;
                backup_unref(b);
                return -ENOMEM;
        }
        backup_link(b, NULL);
        r = job_new(m, "backup", vm->path, &backup_ops, b, &job);
        if (r < 0) {
                backup_unlink(b);
                return r;
        }
        b->job = job;
        *ret = job;
        return 0;
}

int vm_backup_job_start(Job *job, sd_bus_error *error) {
        VmBackup *b = job->data;
        int r;

        if (b->cancel) {   /* Cancel() came while the job was being recorded */
                job_finish(job, "cancelled", NULL, NULL);
                return 0;
        }
        r = backup_call(b, BACKUP_CALL_BEGIN, NULL);
        if (r == -ENOTCONN)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_LIBVIRT_UNAVAILABLE, "libvirt is not connected");
        if (r < 0)
                return bus_error_set(error, r, NULL, "Cannot begin the backup of VM %s", b->plan.vm_name);
        job->reply_deferred = b->reply_to != NULL;   /* answered by begin_done() */
        return 0;
}

static const char *json_string_of(json_object *data, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(data, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static int dup_to(char **dst, const char *s) {
        if (!s)
                return -EINVAL;
        *dst = strdup(s);
        return *dst ? 0 : -ENOMEM;
}

static int resume_disks(BackupPlan *p, json_object *disks) {
        size_t n = json_object_is_type(disks, json_type_array) ? json_object_array_length(disks) : 0;

        if (n == 0 || n > BACKUP_DISKS_MAX)
                return -EINVAL;
        p->disks = calloc(n, sizeof *p->disks);
        if (!p->disks)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *d = json_object_array_get_idx(disks, i);
                BackupDisk *x = &p->disks[p->n_disks++];
                int r;

                x->include = true;
                if ((r = dup_to(&x->target, json_string_of(d, "target"))) < 0 ||
                    (r = dup_to(&x->name, json_string_of(d, "name"))) < 0 ||
                    (r = dup_to(&x->partial, json_string_of(d, "partial"))) < 0 ||
                    (r = dup_to(&x->path, json_string_of(d, "path"))) < 0 || (r = dup_to(&x->format, json_string_of(d, "format") ?: "")) < 0)
                        return r;
        }
        return 0;
}

static int resume_plan(BackupPlan *p, json_object *data) {
        const char *incremental = json_string_of(data, "incremental"), *checkpoint = json_string_of(data, "checkpoint");
        json_object *v;
        int r;

        if ((r = dup_to(&p->vm_name, json_string_of(data, "vm_name"))) < 0 ||
            (r = dup_to(&p->dir, json_string_of(data, "dir"))) < 0)
                return r;
        if (checkpoint && *checkpoint && (r = dup_to(&p->checkpoint, checkpoint)) < 0)
                return r;
        if (incremental && (r = dup_to(&p->incremental, incremental)) < 0)
                return r;
        p->quiesce = json_object_object_get_ex(data, "quiesce", &v) && json_object_get_boolean(v);
        return json_object_object_get_ex(data, "disks", &v) ? resume_disks(p, v) : -EINVAL;
}

int vm_backup_resume(Job *job, json_object *data) {
        const char *uuid = json_string_of(data, "uuid"), *pool = json_string_of(data, "pool");
        VmBackup *b;
        int r;

        if (!uuid || strlen(uuid) != VIR_UUID_STRING_BUFLEN - 1 || !pool)
                return -EINVAL;
        b = backup_alloc(job->manager, uuid, pool);
        if (!b)
                return -ENOMEM;
        r = resume_plan(&b->plan, data);
        b->resumed = b->begun = true;
        if (r >= 0)
                r = (b->job_path = strdup(job->path)) ? 0 : -ENOMEM;
        if (r >= 0)
                r = backup_poll_start(b, 1 /* at once: libvirt says whether it still runs */);
        if (r < 0) {
                backup_unref(b);
                return r;
        }
        job->ops = &backup_ops;
        job->data = b;
        backup_link(b, job);
        return 0;
}

void vm_backup_job_completed(Manager *m, const char *uuid) {
        VmBackup *b = vm_backup_find_by_vm(m, uuid);

        if (b)
                backup_poll_now(b);
}

VmBackup *vm_backup_find_by_vm(Manager *m, const char *uuid) {
        for (VmBackup *b = m->backups; b; b = b->next)
                if (b->job && streq(b->uuid, uuid))
                        return b;
        return NULL;
}

VmBackup *vm_backup_find_by_job_path(Manager *m, const char *path) {
        for (VmBackup *b = m->backups; b; b = b->next)
                if (streq_ptr(b->job_path, path))
                        return b;
        return NULL;
}

void vm_backups_free(Manager *m) {
        while (m->backups) {
                VmBackup *b = m->backups;

                m->backups = b->next;
                backup_unref(b);
        }
}
