/* The jobs record: the promises of running jobs, kept for the next agent */
#pragma once

#include <json-c/json.h>

typedef struct Manager Manager;
typedef struct Job Job;

#define JOB_RECORD_FILE "jobs.json"
#define JOB_RECORD_TYPES_MAX 8

/* Carries JOB (published again, its type's data taken from the record) on.
 * Returns 0, or -errno: then the job is reported "interrupted". */
typedef int (*job_resume_fn)(Job *job, json_object *data);

/* A job type whose jobs the next agent carries on, registered by its room
 * before job_record_resume(); any other type is reported "interrupted".
 * TYPE is static. -E2BIG past JOB_RECORD_TYPES_MAX types. */
int job_record_register_type(const char *type, job_resume_fn resume);

typedef void (*job_recorded_fn)(Manager *m, int result, void *userdata);

/* Loop thread. Writes the running jobs as they are now (and the next job id)
 * to <state-dir>/jobs.json, atomically, on a worker. DONE (may be NULL) runs
 * on the loop once a write that includes this moment's state has finished,
 * with 0 or the -errno why it failed. Writes never overlap: requests made
 * while one runs share the next. */
void job_record_save(Manager *m, job_recorded_fn done, void *userdata);

/* At start, once the name is owned (so clients see the signals): the jobs
 * the previous agent recorded are published again, with their ids. A type
 * that can resume carries its job on (JobNew); any other job, or any job of
 * an earlier boot of the host, is reported once, JobRemoved(job,
 * "interrupted"). Job ids go on from where the previous agent stopped. */
void job_record_resume(Manager *m);
