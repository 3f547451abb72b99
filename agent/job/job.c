/* Jobs: long operations as objects with progress, a result and Cancel().
 *
 * A job's promise outlives the agent: every running job is in the jobs
 * record (job-record.c), written before the method that started it replies
 * (job_start()) and again when it ends, through a StateFile (atomically, off
 * the loop, one write at a time). The next agent publishes the recorded jobs
 * again and carries on those whose type can resume. */
#include "job.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bus-audit.h"
#include "bus-error.h"
#include "bus-text.h"
#include "job-dbus.h"
#include "job-record.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "state-file.h"

static unsigned jobs_running(Manager *m) {
        unsigned n = 0;

        for (Job *j = m->jobs; j; j = j->next)
                if (!j->finished)
                        n++;
        return n;
}

static Job *job_free(Job *job) {
        if (!job)
                return NULL;
        if (job->ops && job->ops->free && job->data)
                job->ops->free(job->data);
        sd_event_source_disable_unref(job->linger);
        free(job->path);
        free(job->type);
        free(job->object);
        free(job->result);
        free(job->error);
        free(job);
        return NULL;
}

/* A job object with its names, in the list, not announced yet. */
static Job *job_alloc(Manager *m, uint32_t id, const char *type, const char *object) {
        Job *job = calloc(1, sizeof *job);

        if (!job)
                return NULL;
        job->manager = m;
        job->id = id;
        if (asprintf(&job->path, "%s/%u", JOB_PATH_PREFIX, id) < 0) {
                job->path = NULL;
                return job_free(job);
        }
        if (!(job->type = strdup(type)) || !(job->object = strdup(object)) || !(job->result = strdup("")) ||
            !(job->error = strdup("")))
                return job_free(job);
        job->next = m->jobs;
        m->jobs = job;
        return job;
}

/* The record's text: the running jobs as they are now. */
static char *jobs_record_snapshot(void *userdata) {
        Manager *m = userdata;
        _cleanup_(freep) JobRecordEntry *entries = calloc(jobs_running(m) ?: 1, sizeof *entries);
        size_t n = 0;
        char *text;

        if (!entries)
                return NULL;
        for (Job *j = m->jobs; j; j = j->next)
                if (!j->finished)
                        entries[n++] = (JobRecordEntry) {
                                .id = j->id,
                                .type = j->type,
                                .object = j->object,
                                .resume = j->ops && j->ops->resume_data ? j->ops->resume_data(j) : NULL,
                        };
        text = job_record_format(m->boot_id, (int64_t) m->last_job_id + 1, entries, n);
        for (size_t i = 0; i < n; i++)
                json_object_put(entries[i].resume);
        return text;
}

static void jobs_record_written(int result, void *userdata) {
        if (result < 0)
                log_error_errno(result, "Cannot write %s: %m; running jobs would not be carried on after a "
                                "restart", JOB_RECORD_FILE);
}

static const StateFileOps jobs_record_ops = {
        .snapshot = jobs_record_snapshot,
        .written = jobs_record_written,
};

/* <state-dir>/jobs.json, made at first use. */
static StateFile *jobs_record(Manager *m) {
        _cleanup_(freep) char *path = NULL;

        if (m->jobs_record)
                return m->jobs_record;
        if (asprintf(&path, "%s/%s", m->options->state_dir, JOB_RECORD_FILE) < 0)
                return NULL;
        if (state_file_new(m->pool, path, &jobs_record_ops, m, &m->jobs_record) < 0)
                return NULL;
        return m->jobs_record;
}

/* Writes the running jobs as they are now; DONE (may be NULL) as
 * state_file_save() says. */
static void jobs_record_save(Manager *m, state_file_saved_fn done, void *userdata) {
        StateFile *f = jobs_record(m);

        if (!f) {
                log_error_errno(-ENOMEM, "Cannot write %s: %m", JOB_RECORD_FILE);
                if (done)
                        done(-ENOMEM, userdata);
                return;
        }
        state_file_save(f, done, userdata);
}

int job_new(Manager *m, const char *type, const char *object, const JobOps *ops, void *data, Job **ret) {
        Job *job;

        if (jobs_running(m) >= JOBS_MAX)
                return -EBUSY;
        job = job_alloc(m, m->last_job_id + 1, type, object);
        if (!job)
                return -ENOMEM;   /* DATA stays the caller's */
        m->last_job_id = job->id;
        job->ops = ops;
        job->data = data;
        log_fields(LOG_INFO, LOG_FIELDS("OBJECT_PATH", job->path), "Job %u: %s of %s", job->id, type, object);
        job_bus_announce(job);
        *ret = job;
        return 0;
}

void job_set_progress(Job *job, unsigned percent) {
        if (job->finished || job->progress == percent)
                return;
        job->progress = percent;
        job_bus_emit_changed(job, (const char *[]) { "Progress", NULL });
}

void job_record_changed(Job *job) {
        if (!job->finished)
                jobs_record_save(job->manager, NULL, NULL);
}

static void job_unlink(Job *job) {
        Manager *m = job->manager;

        for (Job **p = &m->jobs; *p; p = &(*p)->next)
                if (*p == job) {
                        *p = job->next;
                        return;
                }
}

static int on_linger_end(sd_event_source *s, uint64_t usec, void *userdata) {
        Job *job = userdata;

        job_bus_withdraw(job);
        job_unlink(job);
        job_free(job);
        return 0;
}

/* The job's fields as finished with RESULT; its own data goes. */
static void job_end(Job *job, const char *result, const char *error_name, const char *error_message) {
        char *error = NULL;

        if (error_name && asprintf(&error, "%s: %s", error_name, strempty(error_message)) >= 0) {
                char *safe = bus_text_dup(error);   /* often libvirt's or qemu-img's words */
                free(error);
                error = safe;
        }
        job->finished = true;
        job->progress = 100;
        free(job->result);
        job->result = strdup(result);
        if (error) {
                free(job->error);
                job->error = error;
        }
        log_fields(error ? LOG_WARNING : LOG_INFO, LOG_FIELDS("OBJECT_PATH", job->path),
                   "Job %u (%s of %s) finished: %s%s%s", job->id, job->type, job->object, result,
                   error ? ": " : "", strempty(error));
        /* The job's own data (timers, references) goes now; the object stays
         * a while, finished, for callers that read Result and Error. */
        if (job->ops && job->ops->free && job->data)
                job->ops->free(job->data);
        job->data = NULL;
}

static void job_linger(Job *job) {
        if (sd_event_add_time_relative(job->manager->event, &job->linger, CLOCK_MONOTONIC, JOB_LINGER_USEC,
                                       0, on_linger_end, job) < 0)
                log_debug("Job %u will stay until exit", job->id);
}

void job_finish(Job *job, const char *result, const char *error_name, const char *error_message) {
        if (job->finished)
                return;
        job_end(job, result, error_name, error_message);
        job_bus_emit_changed(job, (const char *[]) { "State", "Progress", "Result", "Error", NULL });
        job_bus_emit_removed(job);
        job_linger(job);
        jobs_record_save(job->manager, NULL, NULL);   /* no longer a promise to keep */
}

Job *job_find_by_path(Manager *m, const char *path) {
        for (Job *j = m->jobs; j; j = j->next)
                if (streq(j->path, path))
                        return j;
        return NULL;
}

void job_object_changed(Manager *m, const char *path, void *object) {
        Job *next;

        for (Job *j = m->jobs; j; j = next) {
                next = j->next;   /* the callback may finish J */
                if (!j->finished && j->ops && j->ops->object_changed && streq(j->object, path))
                        j->ops->object_changed(j, object);
        }
}

void job_objects_read(Manager *m) {
        Job *next;

        for (Job *j = m->jobs; j; j = next) {
                next = j->next;   /* the callback may finish J */
                if (!j->finished && j->ops && j->ops->objects_read)
                        j->ops->objects_read(j);
        }
}

/* A job_start() waiting for the record. */
typedef struct JobStart {
        Manager *manager;
        sd_bus_message *msg;
        char *path;             /* the job may be gone meanwhile: found again by path */
        job_start_fn start;
} JobStart;

static void job_start_free(JobStart *s) {
        sd_bus_message_unref(s->msg);
        free(s->path);
        free(s);
}

/* The work could not start, or its promise could not be made durable. */
static void job_start_failed(Job *job, bool running, const sd_bus_error *e) {
        _cleanup_(sd_bus_error_free) sd_bus_error ignored = SD_BUS_ERROR_NULL;

        if (!job || job->finished)
                return;
        if (running && job->ops && job->ops->cancel)
                (void) job->ops->cancel(job, &ignored);
        if (!job->finished)
                job_finish(job, "failed", e->name, e->message);
}

static void job_recorded(int result, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        JobStart *s = userdata;
        Manager *m = s->manager;
        Job *job = job_find_by_path(m, s->path);
        int r = result;

        if (r < 0) {
                _cleanup_(freep) char *what = NULL;

                /* Not bus_error_set(): EPERM here is the disk's, not the caller's. */
                if (asprintf(&what, "Cannot record %s in %s/%s, so that it outlives a restart", s->path,
                             m->options->state_dir, JOB_RECORD_FILE) < 0)
                        what = NULL;
                (void) bus_error_set_text(&e, HOSTAGENT_ERROR_FAILED, strempty(what), strerror(-r));
        } else if (s->start && job && !job->finished)
                r = s->start(job, &e);
        if (r >= 0 && job && job->reply_deferred) {
                job_start_free(s);   /* START answers the call itself once its work has begun */
                return;
        }
        if (r < 0) {
                if (!sd_bus_error_is_set(&e))
                        (void) bus_error_set(&e, r, NULL, "Cannot start %s", s->path);
                job_start_failed(job, !s->start, &e);
                r = sd_bus_reply_method_error(s->msg, &e);
        } else
                r = sd_bus_reply_method_return(s->msg, "o", s->path);
        bus_audit_answered(s->msg, sd_bus_error_is_set(&e) ? e.name : NULL);
        if (r < 0)
                log_debug_errno(r, "Cannot answer the call that started %s: %m", s->path);
        job_start_free(s);
}

int job_start(Job *job, sd_bus_message *msg, job_start_fn start) {
        JobStart *s = calloc(1, sizeof *s);

        if (!s || !(s->path = strdup(job->path))) {
                const sd_bus_error e = SD_BUS_ERROR_MAKE_CONST(SD_BUS_ERROR_NO_MEMORY, "Out of memory");

                free(s);
                job_start_failed(job, !start, &e);
                return -ENOMEM;
        }
        s->manager = job->manager;
        s->msg = sd_bus_message_ref(msg);
        s->start = start;
        bus_audit_adopt(msg);
        jobs_record_save(job->manager, job_recorded, s);
        return 1;   /* handled: sd-bus must not answer it */
}

/* The job types the next agent carries on, as their rooms registered them. */
static struct {
        const char *type;
        job_resume_fn resume;
} resumable[JOB_RESUMABLE_TYPES_MAX];
static size_t n_resumable;

int job_register_resumable(const char *type, job_resume_fn resume) {
        for (size_t i = 0; i < n_resumable; i++)
                if (streq(resumable[i].type, type)) {
                        resumable[i].resume = resume;
                        return 0;
                }
        if (n_resumable >= ELEMENTSOF(resumable))
                return -E2BIG;
        resumable[n_resumable].type = type;
        resumable[n_resumable++].resume = resume;
        return 0;
}

static job_resume_fn resumer(const char *type) {
        for (size_t i = 0; i < n_resumable; i++)
                if (streq(resumable[i].type, type))
                        return resumable[i].resume;
        return NULL;
}

/* A job of the previous agent, found in the record at start. */
static Job *job_revive(Manager *m, uint32_t id, const char *type, const char *object) {
        Job *job = job_alloc(m, id, type, object);

        if (job && id > m->last_job_id)
                m->last_job_id = id;
        return job;
}

/* Publishes a revived job that its type resumed: InterfacesAdded, JobNew. */
static void job_announce(Job *job) {
        log_fields(LOG_INFO, LOG_FIELDS("OBJECT_PATH", job->path), "Job %u: %s of %s, resumed after a restart",
                   job->id, job->type, job->object);
        job_bus_announce(job);
}

/* Publishes a revived job as ended with RESULT, once: InterfacesAdded,
 * Manager.JobRemoved(job, RESULT), gone after JOB_LINGER_USEC. */
static void job_announce_ended(Job *job, const char *result, const char *error_name,
                               const char *error_message) {
        job_end(job, result, error_name, error_message);
        job_bus_announce_ended(job);
        job_linger(job);
}

static Job *job_find_by_id(Manager *m, uint32_t id) {
        for (Job *j = m->jobs; j; j = j->next)
                if (j->id == id)
                        return j;
        return NULL;
}

/* One recorded job: published again, carried on or reported interrupted. */
static void job_resume_entry(Manager *m, const JobRecordEntry *e, bool same_boot) {
        job_resume_fn resume;
        Job *job;

        if (job_find_by_id(m, e->id))
                return;   /* twice in the file: once is enough */
        job = job_revive(m, e->id, e->type, e->object);
        if (!job) {
                log_error("Out of memory carrying job %" PRIu32 " on", e->id);
                return;
        }
        resume = resumer(e->type);
        if (!same_boot)
                job_announce_ended(job, "interrupted", HOSTAGENT_ERROR_FAILED,
                                   "the host restarted while the job ran");
        else if (!resume || !e->resume)
                job_announce_ended(job, "interrupted", HOSTAGENT_ERROR_FAILED,
                                   "the agent stopped while the job ran, and it cannot be resumed");
        else if (resume(job, e->resume) < 0)
                job_announce_ended(job, "interrupted", HOSTAGENT_ERROR_FAILED,
                                   "the agent stopped while the job ran, and could not carry it on");
        else
                job_announce(job);
}

/* The record the previous agent left: 0, or -errno (logged; -ENOENT: none). */
static int jobs_record_read(Manager *m, JobRecord *ret) {
        StateFile *f = jobs_record(m);
        int r;

        if (!f)
                return log_error_errno(-ENOMEM, "Cannot read %s: %m", JOB_RECORD_FILE);
        r = job_record_read(state_file_path(f), ret);
        if (r == -EBADMSG)
                log_error("%s is not a JSON object; the previous agent's jobs are not carried on",
                          state_file_path(f));
        else if (r < 0 && r != -ENOENT)
                log_error_errno(r, "Cannot read %s: %m; the previous agent's jobs are not carried on",
                                state_file_path(f));
        return r;
}

void job_resume_recorded(Manager *m) {
        _cleanup_(job_record_done) JobRecord record = {};
        bool same_boot;

        job_record_boot_id(m->boot_id, sizeof m->boot_id);
        if (jobs_record_read(m, &record) < 0)
                return;
        if (record.next_id > 0)
                m->last_job_id = (uint32_t) (record.next_id - 1);
        same_boot = m->boot_id[0] && record.boot_id && streq(record.boot_id, m->boot_id);
        for (size_t i = 0; i < record.n_entries; i++)
                job_resume_entry(m, &record.entries[i], same_boot);
        /* The interrupted ones are reported now: not again at the next start. */
        jobs_record_save(m, NULL, NULL);
}

void job_free_all(Manager *m) {
        m->jobs_record = state_file_free(m->jobs_record);
        while (m->jobs) {
                Job *j = m->jobs;

                m->jobs = j->next;
                job_free(j);
        }
}
