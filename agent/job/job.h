/* Jobs: long operations as objects with progress, a result and Cancel() */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

typedef struct Manager Manager;
typedef struct Job Job;

#define JOB_PATH_PREFIX "/org/hostagent1/job"
#define JOB_INTERFACE "org.hostagent1.Job"
#define JOBS_MAX 256
/* A finished job stays readable this long, so its Error can be read. */
#define JOB_LINGER_USEC (30ULL * 1000 * 1000)

typedef struct JobOps {
        /* Loop thread: Cancel() was called. Returns 0 when the job will
         * finish as "cancelled", or a negative errno (ERROR set) to refuse. */
        int (*cancel)(Job *job, sd_bus_error *error);
        /* The object this job is about (its model's type: a Vm for a VM's
         * job) changed state. */
        void (*object_changed)(Job *job, void *object);
        /* Every object of the kind jobs wait on was read again (the VMs, at
         * start, on reconnect and at each periodic re-read): one missing now
         * is gone. */
        void (*objects_read)(Job *job);
        /* What the next agent needs to carry the job on after a restart
         * (the jobs record); NULL when the job cannot be resumed: the next agent
         * then reports it "interrupted". */
        json_object *(*resume_data)(Job *job);
        /* Releases the job's own data; the job is finished or the agent exits. */
        void (*free)(void *data);
} JobOps;

struct Job {
        Manager *manager;
        Job *next;
        uint32_t id;
        char *path;
        char *type;         /* "shutdown", "clone" */
        char *object;       /* the object it works on */
        unsigned progress;  /* percent */
        bool finished;
        char *result;       /* "" while running; "done", "forced", "cancelled", "failed", "interrupted" */
        char *error;        /* "" or the failure, as "org.hostagent1.Error.X: message" */
        const JobOps *ops;
        void *data;
        sd_event_source *linger;
        bool reply_deferred;  /* its start_fn answers the call that started it (job_start()) */
};

/* Creates and announces a job (InterfacesAdded, Manager.JobNew). -EBUSY
 * past JOBS_MAX running jobs. */
int job_new(Manager *m, const char *type, const char *object, const JobOps *ops, void *data, Job **ret);

/* Loop thread. The job's work as started by a method call: START (may be
 * NULL) begins the work and may set ERROR. When it succeeds having set the
 * job's reply_deferred, it answers the call itself, later (it keeps its own
 * reference to the call): a job whose work must have begun before the caller
 * hears of it (a backup's point in time). */
typedef int (*job_start_fn)(Job *job, sd_bus_error *error);

/* Records JOB in the state directory (off the loop), so that the job's
 * promise outlives this agent; once that is on disk, runs START and answers
 * MSG with the job's path. When the record cannot be written, or START
 * fails, the job ends "failed" (cancelled first when its work runs already
 * and it can be) and MSG gets an error that says why. Returns 1, what a
 * method handler returns for a call answered later, or -ENOMEM (the job has
 * ended "failed"). */
int job_start(Job *job, sd_bus_message *msg, job_start_fn start);

void job_set_progress(Job *job, unsigned percent);

/* What the job's resume_data() says changed (a queued job started): the
 * record is written again, off the loop. */
void job_record_changed(Job *job);

/* Ends the job: PropertiesChanged, Manager.JobRemoved(job, result); the
 * object goes away after JOB_LINGER_USEC. ERROR is NULL on success. */
void job_finish(Job *job, const char *result, const char *error_name, const char *error_message);

Job *job_find_by_path(Manager *m, const char *path);

/* Tells the running jobs about OBJECT (at path PATH) that concern it. */
void job_object_changed(Manager *m, const char *path, void *object);

/* Tells the running jobs that their objects were all read just now. */
void job_objects_read(Manager *m);

#define JOB_RESUMABLE_TYPES_MAX 8

/* Carries JOB (published again, its type's data taken from the record) on.
 * Returns 0, or -errno: then the job is reported "interrupted". */
typedef int (*job_resume_fn)(Job *job, json_object *data);

/* A job type whose jobs the next agent carries on, registered by its room
 * before job_resume_recorded(); any other type is reported "interrupted".
 * TYPE is static. -E2BIG past JOB_RESUMABLE_TYPES_MAX types. */
int job_register_resumable(const char *type, job_resume_fn resume);

/* At start, once the name is owned (so clients see the signals): the jobs
 * the previous agent recorded (job-record.c) are published again, with their
 * ids. A type that can resume carries its job on (JobNew); any other job, or
 * any job of an earlier boot of the host, is reported once, JobRemoved(job,
 * "interrupted"). Job ids go on from where the previous agent stopped. */
void job_resume_recorded(Manager *m);

/* After the worker pool is stopped: the jobs and their record go. */
void job_free_all(Manager *m);
