/* The jobs record: the promises of running jobs, kept for the next agent.
 *
 * <state-dir>/jobs.json holds {"boot_id": "...", "next_id": N, "jobs":
 * [{"id": 5, "type": "shutdown", "object": "/org/hostagent1/vm/...",
 * "resume": {...}}]}: every running job, with what its type needs to carry
 * it on. A job is recorded before its method replies (job_start()) and
 * dropped when it ends. Written like storage-pools.json (storage-save.c):
 * atomically and off the loop, since fsync() can take long; one write at a
 * time, each of the whole state as it is when it starts, so an older state
 * never lands after a newer one, and whoever asks meanwhile shares the next
 * write. */
#include "job-record.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic-file.h"
#include "bus-error.h"
#include "job.h"
#include "json-cleanup.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "worker-pool.h"

/* The job types that can be carried on by the next agent, as their rooms
 * registered them. */
static struct {
        const char *type;
        job_resume_fn resume;
} resumable[JOB_RECORD_TYPES_MAX];
static size_t n_resumable;

int job_record_register_type(const char *type, job_resume_fn resume) {
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

typedef struct RecordWaiter {
        job_recorded_fn done;
        void *userdata;
        struct RecordWaiter *next;
} RecordWaiter;

typedef struct RecordWrite {
        Manager *manager;
        char *path;
        char *text;
        RecordWaiter *waiters;    /* newest first */
} RecordWrite;

static json_object *record_entry(Job *j) {
        json_object *entry = json_object_new_object();
        json_object *data;

        if (!entry)
                return NULL;
        json_object_object_add(entry, "id", json_object_new_int64(j->id));
        json_object_object_add(entry, "type", json_object_new_string(j->type));
        json_object_object_add(entry, "object", json_object_new_string(j->object));
        data = j->ops && j->ops->resume_data ? j->ops->resume_data(j) : NULL;
        if (data)
                json_object_object_add(entry, "resume", data);
        return entry;
}

static char *record_text(Manager *m) {
        _cleanup_(json_object_putp) json_object *root = json_object_new_object();
        json_object *jobs = json_object_new_array();
        const char *text;

        if (!root || !jobs) {
                json_object_put(jobs);
                return NULL;
        }
        json_object_object_add(root, "boot_id", json_object_new_string(m->boot_id));
        json_object_object_add(root, "next_id", json_object_new_int64((int64_t) m->last_job_id + 1));
        json_object_object_add(root, "jobs", jobs);
        for (Job *j = m->jobs; j; j = j->next) {
                json_object *entry;

                if (j->finished)
                        continue;
                entry = record_entry(j);
                if (!entry)
                        return NULL;
                json_object_array_add(jobs, entry);
        }
        text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        return text ? strdup(text) : NULL;
}

static int write_work(void *userdata) {
        RecordWrite *w = userdata;

        return atomic_file_write(w->path, w->text, strlen(w->text), 0600);
}

static void write_start(Manager *m);

/* Runs the waiters, oldest first. */
static void write_finish(Manager *m, RecordWaiter *waiters, int result) {
        RecordWaiter *in_order = NULL;

        while (waiters) {
                RecordWaiter *w = waiters;
                waiters = w->next;
                w->next = in_order;
                in_order = w;
        }
        while (in_order) {
                RecordWaiter *w = in_order;
                in_order = w->next;
                if (w->done)
                        w->done(m, result, w->userdata);
                free(w);
        }
}

static void write_done(int result, void *userdata) {
        RecordWrite *w = userdata;
        Manager *m = w->manager;

        /* Cancelled: the daemon is stopping and the workers with it. The
         * replies still wait for the file, so write it here, once. */
        if (result == -ECANCELED && w->path)
                result = write_work(w);
        if (result < 0)
                log_error_errno(result, "Cannot write %s: %m; running jobs would not be carried on after a "
                                "restart", JOB_RECORD_FILE);
        m->jobs_writing = false;
        write_finish(m, w->waiters, result);
        free(w->path);
        free(w->text);
        free(w);
        if (m->jobs_write_wanted)
                write_start(m);
}

static void write_start(Manager *m) {
        RecordWrite *w = calloc(1, sizeof *w);
        int r;

        if (!w) {
                RecordWaiter *waiters = m->jobs_write_waiting;

                /* Answer the waiters rather than leave them hanging. */
                m->jobs_write_waiting = NULL;
                m->jobs_write_wanted = false;
                log_error_errno(-ENOMEM, "Cannot write %s: %m", JOB_RECORD_FILE);
                write_finish(m, waiters, -ENOMEM);
                return;
        }
        w->manager = m;
        w->waiters = m->jobs_write_waiting;
        m->jobs_write_waiting = NULL;
        m->jobs_write_wanted = false;
        m->jobs_writing = true;
        w->text = record_text(m);
        if (!w->text || asprintf(&w->path, "%s/%s", m->options->state_dir, JOB_RECORD_FILE) < 0) {
                w->path = NULL;
                write_done(-ENOMEM, w);
                return;
        }
        r = worker_pool_submit(m->pool, WORKER_INTERNAL, write_work, write_done, w);
        if (r < 0)
                write_done(-ECANCELED, w);   /* stopping: written here instead */
}

void job_record_save(Manager *m, job_recorded_fn done, void *userdata) {
        if (done) {
                RecordWaiter *w = calloc(1, sizeof *w);

                if (!w) {
                        done(m, -ENOMEM, userdata);
                        return;
                }
                *w = (RecordWaiter) { .done = done, .userdata = userdata, .next = m->jobs_write_waiting };
                m->jobs_write_waiting = w;
        }
        m->jobs_write_wanted = true;
        if (!m->jobs_writing)
                write_start(m);
}

/* This boot of the host: a job recorded in another one is not carried on
 * (its guests and copies stopped with the host; a deadline on the monotonic
 * clock means nothing now). */
static void read_boot_id(Manager *m) {
        _cleanup_(freep) char *text = NULL;

        m->boot_id[0] = '\0';
        if (atomic_file_read("/proc/sys/kernel/random/boot_id", &text, NULL) < 0)
                return;
        text[strcspn(text, "\n")] = '\0';
        snprintf(m->boot_id, sizeof m->boot_id, "%s", text);
}

static json_object *record_read(Manager *m) {
        _cleanup_(freep) char *path = NULL, *text = NULL;
        json_object *root;
        int r;

        if (asprintf(&path, "%s/%s", m->options->state_dir, JOB_RECORD_FILE) < 0)
                return NULL;
        r = atomic_file_read(path, &text, NULL);
        if (r < 0) {
                if (r != -ENOENT)
                        log_error_errno(r, "Cannot read %s: %m; the previous agent's jobs are not carried on", path);
                return NULL;
        }
        root = json_tokener_parse(text);
        if (!json_object_is_type(root, json_type_object)) {
                log_error("%s is not a JSON object; the previous agent's jobs are not carried on", path);
                json_object_put(root);
                return NULL;
        }
        return root;
}

static job_resume_fn resumer(const char *type) {
        for (size_t i = 0; i < n_resumable; i++)
                if (streq(resumable[i].type, type))
                        return resumable[i].resume;
        return NULL;
}

static bool type_valid(const char *s) {
        if (!s || !*s || strlen(s) > 32)
                return false;
        for (; *s; s++)
                if (!(*s >= 'a' && *s <= 'z') && *s != '-')
                        return false;
        return true;
}

/* One recorded job: published again, carried on or reported interrupted. */
static void resume_entry(Manager *m, json_object *entry, bool same_boot) {
        json_object *v, *data = NULL;
        const char *type = NULL, *object = NULL;
        job_resume_fn resume;
        int64_t id = 0;
        Job *job;

        if (json_object_object_get_ex(entry, "id", &v) && json_object_is_type(v, json_type_int))
                id = json_object_get_int64(v);
        if (json_object_object_get_ex(entry, "type", &v) && json_object_is_type(v, json_type_string))
                type = json_object_get_string(v);
        if (json_object_object_get_ex(entry, "object", &v) && json_object_is_type(v, json_type_string))
                object = json_object_get_string(v);
        (void) json_object_object_get_ex(entry, "resume", &data);
        if (id < 1 || id > UINT32_MAX || !type_valid(type) || !object || !sd_bus_object_path_is_valid(object)) {
                log_warning("%s: a job entry without a valid id, type and object is skipped", JOB_RECORD_FILE);
                return;
        }
        for (Job *j = m->jobs; j; j = j->next)
                if (j->id == id)
                        return;   /* twice in the file: once is enough */
        job = job_revive(m, (uint32_t) id, type, object);
        if (!job) {
                log_error("Out of memory carrying job %" PRIi64 " on", id);
                return;
        }
        resume = resumer(type);
        if (!same_boot)
                job_announce_ended(job, "interrupted", HOSTAGENT_ERROR_FAILED,
                                   "the host restarted while the job ran");
        else if (!resume || !data)
                job_announce_ended(job, "interrupted", HOSTAGENT_ERROR_FAILED,
                                   "the agent stopped while the job ran, and it cannot be resumed");
        else if (resume(job, data) < 0)
                job_announce_ended(job, "interrupted", HOSTAGENT_ERROR_FAILED,
                                   "the agent stopped while the job ran, and could not carry it on");
        else
                job_announce(job);
}

void job_record_resume(Manager *m) {
        _cleanup_(json_object_putp) json_object *root = NULL;
        json_object *v, *jobs;
        bool same_boot;

        read_boot_id(m);
        root = record_read(m);
        if (!root)
                return;
        if (json_object_object_get_ex(root, "next_id", &v) && json_object_is_type(v, json_type_int)) {
                int64_t next = json_object_get_int64(v);
                if (next > 1 && next <= UINT32_MAX)
                        m->last_job_id = (uint32_t) (next - 1);
        }
        same_boot = m->boot_id[0] && json_object_object_get_ex(root, "boot_id", &v) &&
                    streq(json_object_get_string(v), m->boot_id);
        if (json_object_object_get_ex(root, "jobs", &jobs) && json_object_is_type(jobs, json_type_array))
                for (size_t i = 0; i < json_object_array_length(jobs); i++)
                        resume_entry(m, json_object_array_get_idx(jobs, i), same_boot);
        /* The interrupted ones are reported now: not again at the next start. */
        job_record_save(m, NULL, NULL);
}
