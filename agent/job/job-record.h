/* The jobs record: the promises of running jobs, kept for the next agent */
#pragma once

typedef struct Manager Manager;

#define JOB_RECORD_FILE "jobs.json"

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
