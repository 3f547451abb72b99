/* Jobs: long operations as objects with progress, a result and Cancel() */
#include "job.h"

#include <stdio.h>

#include "bus-text.h"
#include "job-dbus.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "vm.h"

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

int job_new(Manager *m, const char *type, const char *object, const JobOps *ops, void *data, Job **ret) {
        Job *job;

        if (jobs_running(m) >= JOBS_MAX)
                return -EBUSY;
        job = calloc(1, sizeof *job);
        if (!job)
                return -ENOMEM;
        job->manager = m;
        job->id = ++m->last_job_id;
        job->ops = ops;
        job->data = data;
        if (asprintf(&job->path, "%s/%u", JOB_PATH_PREFIX, job->id) < 0 || !(job->type = strdup(type)) ||
            !(job->object = strdup(object)) || !(job->result = strdup("")) || !(job->error = strdup(""))) {
                job->data = NULL;   /* the caller still owns it */
                job_free(job);
                return -ENOMEM;
        }
        job->next = m->jobs;
        m->jobs = job;
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

void job_finish(Job *job, const char *result, const char *error_name, const char *error_message) {
        char *error = NULL;

        if (job->finished)
                return;
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
        job_bus_emit_changed(job, (const char *[]) { "State", "Progress", "Result", "Error", NULL });
        job_bus_emit_removed(job);
        if (sd_event_add_time_relative(job->manager->event, &job->linger, CLOCK_MONOTONIC, JOB_LINGER_USEC,
                                       0, on_linger_end, job) < 0)
                log_debug("Job %u will stay until exit", job->id);
}

Job *job_find_by_path(Manager *m, const char *path) {
        for (Job *j = m->jobs; j; j = j->next)
                if (streq(j->path, path))
                        return j;
        return NULL;
}

void job_vm_state_changed(Manager *m, Vm *vm) {
        Job *next;

        for (Job *j = m->jobs; j; j = next) {
                next = j->next;   /* the callback may finish J */
                if (!j->finished && j->ops && j->ops->vm_state_changed && streq(j->object, vm->path))
                        j->ops->vm_state_changed(j, vm);
        }
}

void job_free_all(Manager *m) {
        while (m->jobs) {
                Job *j = m->jobs;

                m->jobs = j->next;
                job_free(j);
        }
}
