/* VM.Migrate: a live migration as a Job, followed once a second, steered by its convergence policy.
 *
 * libvirt's migration call blocks for the whole migration, so each running
 * migration gets a thread of its own (vm-migrate-thread.c). Everything else (the
 * statistics read once a second, the policy's steps, abort) is a short call
 * on the worker pool. With peer-to-peer migration libvirt carries the
 * migration on when the agent goes: the job is recorded, and the next
 * agent follows the migration by its statistics until libvirt ends it. */
#include "vm-migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-audit.h"
#include "bus-error.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "vm-migrate-dbus.h"
#include "vm-migrate-thread.h"
#include "virt-cleanup.h"

static const char *const phase_table[_MIGRATION_PHASE_MAX] = {
        [MIGRATION_PHASE_QUEUED] = "queued",
        [MIGRATION_PHASE_PRECOPY] = "precopy",
        [MIGRATION_PHASE_POSTCOPY] = "postcopy",
        [MIGRATION_PHASE_COMPLETING] = "completing",
        [MIGRATION_PHASE_DONE] = "done",
        [MIGRATION_PHASE_CANCELLED] = "cancelled",
        [MIGRATION_PHASE_FAILED] = "failed",
};

const char *migration_phase_to_string(MigrationPhase p) {
        return p >= 0 && p < _MIGRATION_PHASE_MAX ? phase_table[p] : NULL;
}

static VmMigration *migration_ref(VmMigration *mig) {
        mig->n_ref++;
        return mig;
}

static void migration_unref(VmMigration *mig) {
        if (!mig || --mig->n_ref > 0)
                return;
        sd_event_source_disable_unref(mig->poll);
        sd_event_source_disable_unref(mig->linger);
        sd_bus_message_unref(mig->call);
        migration_options_done(&mig->options);
        free(mig->job_path);
        free(mig->vm_path);
        free(mig->vm_name);
        free(mig->destination);
        free(mig);
}

static void migration_ended(VmMigration *mig, int result, const char *error);

/* Loop thread: libvirt's migration call returned. */
static void on_thread_done(int result, const char *error, void *userdata) {
        VmMigration *mig = userdata;

        mig->thread = NULL;
        migration_ended(mig, result, error);
        migration_unref(mig);
}

/* The thread holds a reference until it is done or orphaned. */
static int migration_thread_start(VmMigration *mig) {
        Manager *m = mig->manager;
        int r;

        r = migrate_thread_start(m->mailbox, libvirt_conn_ref(m->libvirt), mig->uuid, mig->destination,
                                 &mig->options, on_thread_done, mig, &mig->thread);
        if (r >= 0)
                migration_ref(mig);
        return r;
}

static void migration_thread_orphan(VmMigration *mig) {
        if (!mig->thread)
                return;
        migrate_thread_orphan(TAKE_PTR(mig->thread));
        migration_unref(mig);
}

/* Short libvirt calls on the pool: statistics, the policy's steps, abort. */
typedef enum MigrationCallKind {
        MIGRATION_CALL_STATS,
        MIGRATION_CALL_DOWNTIME,
        MIGRATION_CALL_POSTCOPY,
        MIGRATION_CALL_ABORT,
} MigrationCallKind;

typedef struct MigrationCall {
        VmMigration *migration;
        MigrationCallKind kind;
        virConnectPtr conn;
        uint64_t value;
        MigrationStats stats;
        char *error;
} MigrationCall;

static int migration_call_work(void *userdata) {
        MigrationCall *c = userdata;
        const char *uuid = c->migration->uuid;   /* constant once made */

        switch (c->kind) {
        case MIGRATION_CALL_STATS:
                return migration_stats_read(c->conn, uuid, &c->stats, &c->error);
        case MIGRATION_CALL_DOWNTIME:
                return migration_set_max_downtime(c->conn, uuid, c->value, &c->error);
        case MIGRATION_CALL_POSTCOPY:
                return migration_start_postcopy(c->conn, uuid, &c->error);
        case MIGRATION_CALL_ABORT:
                return migration_abort(c->conn, uuid, &c->error);
        }
        return -EINVAL;
}

static void migration_stats_done(MigrationCall *c, int result);
static void migration_step_done(MigrationCall *c, int result);

static void migration_call_done(int result, void *userdata) {
        MigrationCall *c = userdata;

        if (c->kind == MIGRATION_CALL_STATS)
                migration_stats_done(c, result);
        else if (c->migration->job)
                migration_step_done(c, result);
        virConnectClosep(&c->conn);
        migration_unref(c->migration);
        free(c->error);
        free(c);
}

/* INTERNAL: the agent's own follow-up of a migration it accepted is never
 * refused for load, and there is at most one of each in flight. */
static int migration_call(VmMigration *mig, MigrationCallKind kind, uint64_t value) {
        MigrationCall *c = calloc(1, sizeof *c);
        int r;

        if (!c)
                return -ENOMEM;
        c->kind = kind;
        c->value = value;
        c->conn = libvirt_conn_ref(mig->manager->libvirt);
        if (!c->conn) {
                free(c);
                return -ENOTCONN;
        }
        c->migration = migration_ref(mig);
        r = worker_pool_submit(mig->manager->pool, WORKER_INTERNAL, migration_call_work, migration_call_done, c);
        if (r < 0) {
                virConnectClosep(&c->conn);
                migration_unref(mig);
                free(c);
        }
        return r;
}

static void migration_set_phase(VmMigration *mig, MigrationPhase phase) {
        if (mig->phase == phase)
                return;
        mig->phase = phase;
        vm_migration_bus_emit(mig, (const char *[]) { "Phase", NULL });
}

static int migration_abort_for(VmMigration *mig, MigrationAbort why) {
        int r;

        if (mig->abort == MIGRATION_ABORT_NONE)
                mig->abort = why;
        r = migration_call(mig, MIGRATION_CALL_ABORT, 0);
        if (r < 0)
                log_warning_errno(r, "Job %u: cannot ask libvirt to abort the migration: %m", mig->job->id);
        return r;
}

/* What the policy says after a fresh look at the statistics. */
static void migration_apply_policy(VmMigration *mig, uint64_t now) {
        MigrationAction a = migration_policy_step(&mig->policy, &mig->stats, now);
        int r = 0;

        switch (a) {
        case MIGRATION_ACTION_SET_DOWNTIME:
                log_fields(LOG_INFO, LOG_FIELDS("OBJECT_PATH", mig->job_path),
                           "Job %u: no progress for %u s; allowing %llu ms of downtime", mig->job->id,
                           mig->options.stall_timeout_sec, (unsigned long long) mig->policy.downtime_ms);
                r = migration_call(mig, MIGRATION_CALL_DOWNTIME, mig->policy.downtime_ms);
                break;
        case MIGRATION_ACTION_START_POSTCOPY:
                log_fields(LOG_INFO, LOG_FIELDS("OBJECT_PATH", mig->job_path),
                           "Job %u: no progress for %u s; switching to post-copy", mig->job->id,
                           mig->options.stall_timeout_sec);
                r = migration_call(mig, MIGRATION_CALL_POSTCOPY, 0);
                break;
        case MIGRATION_ACTION_ABORT_STALLED:
                (void) migration_abort_for(mig, MIGRATION_ABORT_STALLED);
                break;
        case MIGRATION_ACTION_ABORT_TIMEOUT:
                (void) migration_abort_for(mig, MIGRATION_ABORT_TIMEOUT);
                break;
        default:
                break;
        }
        if (r < 0)
                log_warning_errno(r, "Job %u: cannot take the policy's step: %m", mig->job->id);
}

/* A migration the previous agent started ended while no agent followed it. */
static void migration_resumed_ended(VmMigration *mig, bool domain_gone) {
        Vm *vm = vm_find(mig->manager, mig->uuid);

        if (!domain_gone && !mig->manager->vm_synced)
                return;   /* judged once the VMs are read */
        if (domain_gone || !vm || !vm_state_is_active(vm->info.state))
                migration_ended(mig, 0, NULL);
        else
                migration_ended(mig, -EIO, "the migration ended while the agent was restarting; the VM runs "
                                           "on at the source");
}

static void migration_accept(VmMigration *mig);

static void migration_stats_done(MigrationCall *c, int result) {
        VmMigration *mig = c->migration;
        uint64_t now;

        mig->polling = false;
        /* QEMU's memory stream runs only once the destination's libvirtd has
         * prepared the incoming domain (its networks, its disks): accepted. */
        if (!mig->job && mig->call && result >= 0 && c->stats.active && c->stats.data_total > 0)
                migration_accept(mig);
        if (!mig->job)
                return;
        if (result < 0) {
                if (mig->resumed && result == -ENOENT)
                        migration_resumed_ended(mig, true);   /* undefined at the source: it moved */
                return;   /* the thread's end says what happened */
        }
        if (!c->stats.active) {
                if (mig->resumed)
                        migration_resumed_ended(mig, false);
                return;
        }
        mig->stats = c->stats;
        if (c->stats.postcopy && mig->phase == MIGRATION_PHASE_PRECOPY)
                migration_set_phase(mig, MIGRATION_PHASE_POSTCOPY);
        vm_migration_bus_emit(mig, (const char *[]) { "DataTotalBytes", "DataProcessedBytes", "DataRemainingBytes",
                                                      "DirtyRateBytesPerSec", "Iteration", NULL });
        job_set_progress(mig->job, migration_stats_percent(&mig->stats));
        if (!mig->downtime_set && !mig->resumed) {
                /* libvirt takes a downtime only while the migration runs. */
                mig->downtime_set = true;
                if (migration_call(mig, MIGRATION_CALL_DOWNTIME, mig->policy.downtime_ms) < 0)
                        log_warning("Job %u: cannot set the allowed downtime", mig->job->id);
        }
        if (mig->abort == MIGRATION_ABORT_NONE && !mig->resumed &&
            sd_event_now(mig->manager->event, CLOCK_MONOTONIC, &now) >= 0)
                migration_apply_policy(mig, now);
}

static void migration_step_done(MigrationCall *c, int result) {
        VmMigration *mig = c->migration;

        if (result < 0) {
                log_fields(LOG_WARNING, LOG_FIELDS("OBJECT_PATH", mig->job_path), "Job %u: libvirt refused a step "
                           "of the migration: %s", mig->job->id, strempty(c->error));
                return;
        }
        if (c->kind == MIGRATION_CALL_DOWNTIME && c->value != mig->policy.downtime_ms) {
                /* A caller's SetMaxDowntime came meanwhile, and libvirt may have
                 * taken the two in either order: its value again, last. */
                if (migration_call(mig, MIGRATION_CALL_DOWNTIME, mig->policy.downtime_ms) < 0)
                        log_warning("Job %u: cannot set the allowed downtime", mig->job->id);
        } else if (c->kind == MIGRATION_CALL_DOWNTIME) {
                mig->downtime_ms = c->value;
                vm_migration_bus_emit(mig, (const char *[]) { "DowntimeMs", NULL });
        } else if (c->kind == MIGRATION_CALL_POSTCOPY)
                migration_set_phase(mig, MIGRATION_PHASE_POSTCOPY);
}

/* Until the destination accepted it the Migrate call waits: the statistics
 * are read more often then, so that it is answered soon after. */
static uint64_t migration_poll_interval(const VmMigration *mig) {
        return mig->job ? MIGRATION_POLL_USEC : MIGRATION_PREPARE_POLL_USEC;
}

/* Once a second: ElapsedMs from the loop's clock (a subscriber hears of the
 * migration every second, even while libvirt is slow to answer), and a
 * statistics read unless one is in flight. */
static int on_poll(sd_event_source *s, uint64_t usec, void *userdata) {
        VmMigration *mig = userdata;
        uint64_t elapsed;

        if (!mig->job && !mig->call)
                return 0;
        if (!mig->job && usec - mig->start_usec >= MIGRATION_ACCEPT_WAIT_USEC) {
                log_fields(LOG_INFO, LOG_FIELDS("VM_UUID", mig->uuid), "No answer from %s about VM %s in %llu s: "
                           "the Migrate call gets its job now", mig->destination, mig->vm_name,
                           MIGRATION_ACCEPT_WAIT_USEC / (1000ULL * 1000));
                migration_accept(mig);
                if (!mig->job)
                        return 0;   /* it could not have one: aborted, its timer gone */
        }
        if (mig->job) {
                elapsed = (usec - mig->start_usec) / 1000;
                mig->elapsed_ms = elapsed > mig->stats.elapsed_ms ? elapsed : mig->stats.elapsed_ms;
                vm_migration_bus_emit(mig, (const char *[]) { "ElapsedMs", NULL });
        }
        if (!mig->polling && migration_call(mig, MIGRATION_CALL_STATS, 0) >= 0)
                mig->polling = true;
        (void) sd_event_source_set_time(s, usec + migration_poll_interval(mig));
        return sd_event_source_set_enabled(s, SD_EVENT_ON);
}

static int migration_poll_start(VmMigration *mig) {
        return sd_event_add_time_relative(mig->manager->event, &mig->poll, CLOCK_MONOTONIC,
                                          migration_poll_interval(mig),
                                          1000 /* not sd-event's default 250 ms slack: once a second */,
                                          on_poll, mig);
}

/* Running, or waiting for the destination to accept it. */
static bool migration_live(const VmMigration *x) {
        return x->job || x->call;
}

static unsigned migrations_running(Manager *m) {
        unsigned n = 0;

        for (VmMigration *x = m->migrations; x; x = x->next)
                if (migration_live(x) && x->phase != MIGRATION_PHASE_QUEUED)
                        n++;
        return n;
}

/* libvirt's call starts, followed by its statistics. */
static int migration_launch(VmMigration *mig) {
        uint64_t now;
        int r;

        r = sd_event_now(mig->manager->event, CLOCK_MONOTONIC, &now);
        if (r < 0)
                return r;
        mig->start_usec = now;
        migration_policy_init(&mig->policy, &mig->options, now);
        r = migration_thread_start(mig);
        if (r < 0)
                return r;
        r = migration_poll_start(mig);
        if (r < 0)
                log_warning_errno(r, "Cannot follow the migration of VM %s: %m", mig->vm_name);
        return 0;
}

/* A queued migration's turn came: its job exists already. */
static int migration_begin(VmMigration *mig) {
        int r;

        r = migration_launch(mig);
        if (r < 0)
                return r;
        log_fields(LOG_INFO, LOG_FIELDS("OBJECT_PATH", mig->job_path, "VM_UUID", mig->uuid),
                   "Job %u: migrating VM %s to %s", mig->job->id, mig->vm_name, mig->destination);
        migration_set_phase(mig, MIGRATION_PHASE_PRECOPY);
        job_record_changed(mig->job);   /* now the next agent can follow it */
        return 0;
}

static void migration_fail(VmMigration *mig, int r, const char *detail, const char *what) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

        (void) bus_error_set(&e, r, detail, "%s", what);
        migration_set_phase(mig, MIGRATION_PHASE_FAILED);
        job_finish(mig->job, "failed", e.name, e.message);
}

/* Starts the queued migrations, in order, while --max-migrations allows. */
static void migrations_start_queued(Manager *m) {
        VmMigration *next;

        for (VmMigration *x = m->migrations; x; x = next) {
                next = x->next;   /* a failed start ends X */
                if (m->stopping || migrations_running(m) >= m->options->max_migrations)
                        return;
                if (!x->job || x->phase != MIGRATION_PHASE_QUEUED)
                        continue;
                int r = migration_begin(x);
                if (r < 0)
                        migration_fail(x, r, NULL, "Cannot start the migration");
        }
}

static void migration_unlink(VmMigration *mig) {
        for (VmMigration **p = &mig->manager->migrations; *p; p = &(*p)->next)
                if (*p == mig) {
                        *p = mig->next;
                        migration_unref(mig);
                        return;
                }
}

static int on_linger_end(sd_event_source *s, uint64_t usec, void *userdata) {
        migration_unlink(userdata);
        return 0;
}

/* The migration stays readable as long as its job object. */
static void migration_linger(VmMigration *mig) {
        if (sd_event_add_time_relative(mig->manager->event, &mig->linger, CLOCK_MONOTONIC, JOB_LINGER_USEC, 0,
                                       on_linger_end, mig) < 0)
                log_debug("The migration of VM %s stays until exit", mig->vm_name);
}

/* The job's result, from how libvirt's call ended and why the agent aborted it. */
static void migration_finish(VmMigration *mig, int result, const char *error) {
        char what[256];

        if (result >= 0) {
                migration_set_phase(mig, MIGRATION_PHASE_DONE);
                job_finish(mig->job, "done", NULL, NULL);
        } else if (mig->abort == MIGRATION_ABORT_CANCEL || mig->abort == MIGRATION_ABORT_DESTROY) {
                migration_set_phase(mig, MIGRATION_PHASE_CANCELLED);
                job_finish(mig->job, "cancelled", NULL, NULL);
        } else if (mig->abort == MIGRATION_ABORT_STALLED) {
                snprintf(what, sizeof what, "no progress for %u s at the largest allowed downtime (%llu ms); "
                         "aborted, the VM runs on at the source", mig->options.stall_timeout_sec,
                         (unsigned long long) mig->downtime_ms);
                migration_set_phase(mig, MIGRATION_PHASE_FAILED);
                job_finish(mig->job, "failed", HOSTAGENT_ERROR_TIMEOUT, what);
        } else if (mig->abort == MIGRATION_ABORT_TIMEOUT) {
                snprintf(what, sizeof what, "not done within timeout_sec (%u s); aborted, the VM runs on at the "
                         "source", mig->options.timeout_sec);
                migration_set_phase(mig, MIGRATION_PHASE_FAILED);
                job_finish(mig->job, "failed", HOSTAGENT_ERROR_TIMEOUT, what);
        } else {
                snprintf(what, sizeof what, "Cannot migrate VM %s to %s", mig->vm_name, mig->destination);
                migration_fail(mig, result, error, what);
        }
}

/* The destination refused the migration before it was accepted: the
 * Migrate call gets libvirt's words and the migration goes, with no job. */
static void migration_refused(VmMigration *mig, const char *error) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = TAKE_PTR(mig->call);
        char what[256];

        snprintf(what, sizeof what, "Cannot migrate VM %s to %s", mig->vm_name, mig->destination);
        (void) bus_error_set_text(&e, HOSTAGENT_ERROR_FAILED, what, error ?: "libvirt refused the migration");
        log_fields(LOG_WARNING, LOG_FIELDS("VM_UUID", mig->uuid), "%s", e.message);
        if (sd_bus_reply_method_error(call, &e) < 0)
                log_debug("Cannot answer the Migrate call of VM %s", mig->vm_name);
        bus_audit_answered(call, e.name);
        mig->poll = sd_event_source_disable_unref(mig->poll);
        migration_unlink(mig);
}

static void migration_ended(VmMigration *mig, int result, const char *error) {
        Manager *m = mig->manager;

        if (!mig->job && mig->call && result < 0) {
                migration_refused(mig, error);
                migrations_start_queued(m);
                return;
        }
        if (!mig->job && mig->call)
                migration_accept(mig);   /* done before a statistics read saw it run */
        if (!mig->job) {
                migrations_start_queued(m);   /* its slot is free */
                return;
        }
        mig->poll = sd_event_source_disable_unref(mig->poll);
        migration_finish(mig, result, error);   /* frees the job's data: mig->job is NULL now */
        migrations_start_queued(m);
}

static int on_cancel(Job *job, sd_bus_error *error) {
        VmMigration *mig = job->data;
        int r;

        if (mig->phase == MIGRATION_PHASE_QUEUED) {
                migration_set_phase(mig, MIGRATION_PHASE_CANCELLED);
                job_finish(job, "cancelled", NULL, NULL);
                return 0;
        }
        if (mig->phase == MIGRATION_PHASE_POSTCOPY)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_STATE, "Cannot cancel job %u: in post-copy "
                                         "the VM runs at the destination already", job->id);
        if (mig->abort == MIGRATION_ABORT_CANCEL)
                return 0;   /* asked already */
        r = migration_abort_for(mig, MIGRATION_ABORT_CANCEL);
        if (r < 0)
                return bus_error_set(error, r, NULL, "Cannot cancel job %u", job->id);
        mig->abort = MIGRATION_ABORT_CANCEL;
        return 0;
}

void vm_migration_note_destroy(VmMigration *mig) {
        if (mig->abort == MIGRATION_ABORT_NONE)
                mig->abort = MIGRATION_ABORT_DESTROY;
}

/* The source pauses the guest for the last pass: that is the final phase. */
static bool vm_paused_for_migration(const Vm *vm) {
        return vm && vm->info.state == VM_STATE_PAUSED && streq_ptr(vm->info.reason, "migration");
}

static bool migration_vm_paused_for_it(VmMigration *mig) {
        return vm_paused_for_migration(vm_find(mig->manager, mig->uuid));
}

static void on_vm_changed(Job *job, void *object) {
        VmMigration *mig = job->data;

        if (mig->phase == MIGRATION_PHASE_PRECOPY && vm_paused_for_migration(object))
                migration_set_phase(mig, MIGRATION_PHASE_COMPLETING);
}

/* {"uuid", "destination"}: what the next agent needs to follow it. A queued
 * migration has not reached libvirt: it cannot be followed. */
static json_object *migration_resume_data(Job *job) {
        VmMigration *mig = job->data;
        json_object *data;

        if (mig->phase == MIGRATION_PHASE_QUEUED)
                return NULL;
        data = json_object_new_object();
        if (!data)
                return NULL;
        json_object_object_add(data, "uuid", json_object_new_string(mig->uuid));
        json_object_object_add(data, "destination", json_object_new_string(mig->destination));
        json_object_object_add(data, "vm_name", json_object_new_string(mig->vm_name));
        return data;
}

/* The job's data goes: the job ended (the migration stays readable as long
 * as the job object), or the agent stops (libvirt carries it on). */
static void migration_job_free(void *data) {
        VmMigration *mig = data;

        mig->job = NULL;
        mig->poll = sd_event_source_disable_unref(mig->poll);
        migration_thread_orphan(mig);
        if (!mig->manager->stopping)
                vm_migration_bus_emit_vm(mig->manager, mig->vm_path);   /* "/" now */
        migration_linger(mig);
}

static const JobOps migration_ops = {
        .cancel = on_cancel,
        .object_changed = on_vm_changed,
        .resume_data = migration_resume_data,
        .free = migration_job_free,
};

static VmMigration *migration_alloc(Manager *m, const char *uuid, const char *vm_path, const char *name,
                                    const char *destination) {
        VmMigration *mig = calloc(1, sizeof *mig);

        if (!mig)
                return NULL;
        mig->n_ref = 1;   /* the manager's list, once linked */
        mig->manager = m;
        snprintf(mig->uuid, sizeof mig->uuid, "%s", uuid);
        mig->vm_path = strdup(vm_path);
        mig->vm_name = strdup(name);
        mig->destination = strdup(destination);
        if (!mig->vm_path || !mig->vm_name || !mig->destination) {
                migration_unref(mig);
                return NULL;
        }
        return mig;
}

/* Appended: the list keeps the order of the requests, which the queue follows. */
static void migration_link(VmMigration *mig, Job *job) {
        VmMigration **p = &mig->manager->migrations;

        mig->job = job;
        while (*p)
                p = &(*p)->next;
        *p = mig;
}

/* MIG's job, announced. Findable by the job's path before job_new()
 * announces it, so that its InterfacesAdded carries the Migration interface
 * too. -EBUSY past JOBS_MAX. */
static int migration_job_new(VmMigration *mig) {
        Manager *m = mig->manager;
        Job *job;
        int r;

        if (asprintf(&mig->job_path, "%s/%u", JOB_PATH_PREFIX, m->last_job_id + 1) < 0) {
                mig->job_path = NULL;
                return -ENOMEM;
        }
        r = job_new(m, "migrate", mig->vm_path, &migration_ops, mig, &job);
        if (r < 0) {
                mig->job_path = mfree(mig->job_path);
                return r;
        }
        mig->job = job;
        vm_migration_bus_emit_vm(m, mig->vm_path);
        return 0;
}

static int busy_error(int r, sd_bus_error *error) {
        if (r == -EBUSY)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_BUSY, "Too many jobs running (limit %d); retry later",
                                         JOBS_MAX);
        return r;
}

/* The destination accepted the migration (or it is done already): now it
 * gets its job, and the call its path once the job is on disk. Without a job
 * it cannot be followed: aborted. */
static void migration_accept(VmMigration *mig) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = TAKE_PTR(mig->call);
        int r;

        if (migration_vm_paused_for_it(mig))
                mig->phase = MIGRATION_PHASE_COMPLETING;   /* its pre-copy was over before a read saw it */
        r = migration_job_new(mig);
        if (r >= 0) {
                log_fields(LOG_INFO, LOG_FIELDS("OBJECT_PATH", mig->job_path, "VM_UUID", mig->uuid),
                           "Job %u: migrating VM %s to %s", mig->job->id, mig->vm_name, mig->destination);
                r = job_start(mig->job, call, NULL);   /* a failed record cancels it */
                if (r < 0)
                        (void) sd_bus_reply_method_errno(call, r, NULL);
                return;
        }
        mig->abort = MIGRATION_ABORT_CANCEL;
        if (migration_call(mig, MIGRATION_CALL_ABORT, 0) < 0)
                log_warning("Cannot abort the migration of VM %s, which has no job", mig->vm_name);
        (void) bus_error_set(&e, busy_error(r, &e), NULL, "Cannot make the job of the migration of VM %s",
                             mig->vm_name);
        (void) sd_bus_reply_method_error(call, &e);
        bus_audit_answered(call, e.name);
        mig->poll = sd_event_source_disable_unref(mig->poll);
        migration_linger(mig);
}

static int migration_job_start(Job *job, sd_bus_error *error);

/* No free slot: a job at once, queued. */
static int migration_request_queued(VmMigration *mig, sd_bus_message *msg, sd_bus_error *error) {
        int r;

        mig->phase = MIGRATION_PHASE_QUEUED;
        migration_link(mig, NULL);
        r = migration_job_new(mig);
        if (r < 0) {
                migration_unlink(mig);
                return busy_error(r, error);
        }
        return job_start(mig->job, msg, migration_job_start);
}

int vm_migration_request(Manager *m, Vm *vm, const char *destination, MigrationOptions *options,
                         sd_bus_message *msg, sd_bus_error *error) {
        VmMigration *mig;
        int r;

        mig = migration_alloc(m, vm->info.uuid, vm->path, strempty(vm->info.name), destination);
        if (!mig)
                return -ENOMEM;
        mig->options = *options;
        *options = (MigrationOptions) {};
        mig->bandwidth_mib = mig->options.bandwidth_mib;
        if (migrations_running(m) >= m->options->max_migrations)
                return migration_request_queued(mig, msg, error);
        mig->phase = MIGRATION_PHASE_PRECOPY;
        mig->call = sd_bus_message_ref(msg);
        migration_link(mig, NULL);
        r = migration_launch(mig);
        if (r < 0) {
                mig->call = sd_bus_message_unref(mig->call);
                migration_unlink(mig);
        }
        if (r == -ENOTCONN)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_LIBVIRT_UNAVAILABLE, "libvirt is not connected");
        if (r < 0)
                return bus_error_set(error, r, NULL, "Cannot start the migration of VM %s", strempty(vm->info.name));
        bus_audit_adopt(msg);
        return 1;   /* answered once the destination accepted or refused it */
}

static int migration_job_start(Job *job, sd_bus_error *error) {
        VmMigration *mig = job->data;
        Manager *m = job->manager;
        int r;

        if (migrations_running(m) >= m->options->max_migrations) {
                log_fields(LOG_INFO, LOG_FIELDS("OBJECT_PATH", job->path),
                           "Job %u: %u migrations run already; queued", job->id, migrations_running(m));
                return 0;
        }
        r = migration_begin(mig);
        if (r < 0)
                migration_set_phase(mig, MIGRATION_PHASE_FAILED);   /* the job ends "failed" */
        if (r == -ENOTCONN)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_LIBVIRT_UNAVAILABLE, "libvirt is not connected");
        if (r < 0)
                return bus_error_set(error, r, NULL, "Cannot start the migration of VM %s", mig->vm_name);
        return 0;
}

static const char *json_string_of(json_object *data, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(data, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

int vm_migration_resume(Job *job, json_object *data) {
        const char *uuid = json_string_of(data, "uuid"), *dest = json_string_of(data, "destination");
        const char *name = json_string_of(data, "vm_name");
        VmMigration *mig;
        int r;

        if (!uuid || strlen(uuid) != VIR_UUID_STRING_BUFLEN - 1 || !dest)
                return -EINVAL;
        mig = migration_alloc(job->manager, uuid, job->object, name ?: uuid, dest);
        if (!mig)
                return -ENOMEM;
        migration_options_init(&mig->options, 0);
        mig->resumed = true;
        mig->phase = MIGRATION_PHASE_PRECOPY;
        mig->job_path = strdup(job->path);
        mig->job = job;   /* polled once a second */
        (void) sd_event_now(job->manager->event, CLOCK_MONOTONIC, &mig->start_usec);
        r = mig->job_path ? migration_poll_start(mig) : -ENOMEM;
        if (r < 0) {
                migration_unref(mig);
                return r;
        }
        job->ops = &migration_ops;
        job->data = mig;
        migration_link(mig, job);
        return 0;
}

VmMigration *vm_migration_find_by_vm(Manager *m, const char *uuid) {
        for (VmMigration *x = m->migrations; x; x = x->next)
                if (migration_live(x) && streq(x->uuid, uuid))
                        return x;
        return NULL;
}

VmMigration *vm_migration_find_by_job_path(Manager *m, const char *path) {
        for (VmMigration *x = m->migrations; x; x = x->next)
                if (streq_ptr(x->job_path, path))
                        return x;
        return NULL;
}

void vm_migrations_free(Manager *m) {
        while (m->migrations) {
                VmMigration *x = m->migrations;

                m->migrations = x->next;
                /* A Migrate call still waiting for the destination: libvirt carries the
                 * migration on, and the next agent shows it; the caller hears why now. */
                if (x->call)
                        (void) sd_bus_reply_method_errorf(x->call, HOSTAGENT_ERROR_SHUTTING_DOWN,
                                                          "The agent is stopping before the destination answered: "
                                                          "libvirt carries the migration of VM %s on, and the next "
                                                          "agent shows its job", x->vm_name);
                migration_thread_orphan(x);
                migration_unref(x);
        }
}
