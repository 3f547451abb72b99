/* The jobs record: the format of the file that keeps running jobs for the next agent */
#pragma once

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#define JOB_RECORD_FILE "jobs.json"

/* One running job as recorded. */
typedef struct JobRecordEntry {
        uint32_t id;
        const char *type;
        const char *object;     /* its object's path */
        json_object *resume;    /* what its type needs to carry it on, or NULL */
} JobRecordEntry;

/* A record as read; everything in it points into ROOT. */
typedef struct JobRecord {
        json_object *root;
        const char *boot_id;    /* the host's boot it was written in, or NULL */
        int64_t next_id;        /* the next job id, or 0 when it does not say */
        JobRecordEntry *entries;
        size_t n_entries;
} JobRecord;

/* This boot of the host, as the record names it; "" when it cannot be read. */
void job_record_boot_id(char *buf, size_t size);

/* The record's text: BOOT_ID, NEXT_ID and the N ENTRIES (their RESUME data
 * referenced, not taken). malloc()ed, NULL when out of memory. */
char *job_record_format(const char *boot_id, int64_t next_id, const JobRecordEntry *entries, size_t n);

/* Reads the record at PATH into RET: 0, -ENOENT when there is none,
 * -EBADMSG when it is not a JSON object, or another -errno. An entry without
 * a valid id, type and object is left out, with a warning. */
int job_record_read(const char *path, JobRecord *ret);

void job_record_done(JobRecord *record);
