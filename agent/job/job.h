/* Jobs: long operations as objects with progress, a result and Cancel() */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

typedef struct Manager Manager;
typedef struct Vm Vm;
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
        /* The VM this job is about changed state. */
        void (*vm_state_changed)(Job *job, Vm *vm);
        /* Releases the job's own data; the job is finished or the agent exits. */
        void (*free)(void *data);
} JobOps;

struct Job {
        Manager *manager;
        Job *next;
        uint32_t id;
        char *path;
        char *type;         /* "shutdown", ... */
        char *object;       /* the object it works on */
        unsigned progress;  /* percent */
        bool finished;
        char *result;       /* "" while running; "done", "forced", "cancelled", "failed" */
        char *error;        /* "" or the failure, as "org.hostagent1.Error.X: message" */
        const JobOps *ops;
        void *data;
        sd_event_source *linger;
};

/* Creates and announces a job (InterfacesAdded, Manager.JobNew). -EBUSY
 * past JOBS_MAX running jobs. */
int job_new(Manager *m, const char *type, const char *object, const JobOps *ops, void *data, Job **ret);

void job_set_progress(Job *job, unsigned percent);

/* Ends the job: PropertiesChanged, Manager.JobRemoved(job, result); the
 * object goes away after JOB_LINGER_USEC. ERROR is NULL on success. */
void job_finish(Job *job, const char *result, const char *error_name, const char *error_message);

Job *job_find_by_path(Manager *m, const char *path);

/* Tells the running jobs about VM that concern it. */
void job_vm_state_changed(Manager *m, Vm *vm);

void job_free_all(Manager *m);
