/* The jobs record: the format of the file that keeps running jobs for the next agent.
 *
 * <state-dir>/jobs.json holds {"boot_id": "...", "next_id": N, "jobs":
 * [{"id": 5, "type": "shutdown", "object": "/org/hostagent1/vm/...",
 * "resume": {...}}]}: every running job, with what its type needs to carry
 * it on. What goes in and what comes out of it is the job model's
 * (job.c), which writes it through a StateFile. */
#include "job-record.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "atomic-file.h"
#include "json-cleanup.h"
#include "log.h"
#include "macro.h"

/* A job recorded in another boot of the host is not carried on (its guests
 * and copies stopped with the host; a deadline on the monotonic clock means
 * nothing now). */
void job_record_boot_id(char *buf, size_t size) {
        _cleanup_(freep) char *text = NULL;

        buf[0] = '\0';
        if (atomic_file_read("/proc/sys/kernel/random/boot_id", &text, NULL) < 0)
                return;
        text[strcspn(text, "\n")] = '\0';
        snprintf(buf, size, "%s", text);
}

static json_object *entry_format(const JobRecordEntry *e) {
        json_object *entry = json_object_new_object();

        if (!entry)
                return NULL;
        json_object_object_add(entry, "id", json_object_new_int64(e->id));
        json_object_object_add(entry, "type", json_object_new_string(e->type));
        json_object_object_add(entry, "object", json_object_new_string(e->object));
        if (e->resume)
                json_object_object_add(entry, "resume", json_object_get(e->resume));
        return entry;
}

char *job_record_format(const char *boot_id, int64_t next_id, const JobRecordEntry *entries, size_t n) {
        _cleanup_(json_object_putp) json_object *root = json_object_new_object();
        json_object *jobs = json_object_new_array();
        const char *text;

        if (!root || !jobs) {
                json_object_put(jobs);
                return NULL;
        }
        json_object_object_add(root, "boot_id", json_object_new_string(boot_id));
        json_object_object_add(root, "next_id", json_object_new_int64(next_id));
        json_object_object_add(root, "jobs", jobs);
        for (size_t i = 0; i < n; i++) {
                json_object *entry = entry_format(&entries[i]);

                if (!entry)
                        return NULL;
                json_object_array_add(jobs, entry);
        }
        text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        return text ? strdup(text) : NULL;
}

static bool type_valid(const char *s) {
        if (!s || !*s || strlen(s) > 32)
                return false;
        for (; *s; s++)
                if (!(*s >= 'a' && *s <= 'z') && *s != '-')
                        return false;
        return true;
}

/* One recorded job; false when it lacks a valid id, type or object. */
static bool entry_parse(json_object *entry, JobRecordEntry *ret) {
        json_object *v, *data = NULL;
        const char *type = NULL, *object = NULL;
        int64_t id = 0;

        if (json_object_object_get_ex(entry, "id", &v) && json_object_is_type(v, json_type_int))
                id = json_object_get_int64(v);
        if (json_object_object_get_ex(entry, "type", &v) && json_object_is_type(v, json_type_string))
                type = json_object_get_string(v);
        if (json_object_object_get_ex(entry, "object", &v) && json_object_is_type(v, json_type_string))
                object = json_object_get_string(v);
        (void) json_object_object_get_ex(entry, "resume", &data);
        if (id < 1 || id > UINT32_MAX || !type_valid(type) || !object || !sd_bus_object_path_is_valid(object))
                return false;
        *ret = (JobRecordEntry) { .id = (uint32_t) id, .type = type, .object = object, .resume = data };
        return true;
}

static int entries_parse(json_object *root, JobRecord *record) {
        json_object *jobs;
        size_t n;

        if (!json_object_object_get_ex(root, "jobs", &jobs) || !json_object_is_type(jobs, json_type_array))
                return 0;
        n = json_object_array_length(jobs);
        record->entries = calloc(n ?: 1, sizeof *record->entries);
        if (!record->entries)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (entry_parse(json_object_array_get_idx(jobs, i), &record->entries[record->n_entries]))
                        record->n_entries++;
                else
                        log_warning("%s: a job entry without a valid id, type and object is skipped",
                                    JOB_RECORD_FILE);
        }
        return 0;
}

int job_record_read(const char *path, JobRecord *ret) {
        _cleanup_(freep) char *text = NULL;
        JobRecord record = {};
        json_object *v;
        int r;

        r = atomic_file_read(path, &text, NULL);
        if (r < 0)
                return r;
        record.root = json_tokener_parse(text);
        if (!json_object_is_type(record.root, json_type_object)) {
                json_object_put(record.root);
                return -EBADMSG;
        }
        if (json_object_object_get_ex(record.root, "next_id", &v) && json_object_is_type(v, json_type_int)) {
                int64_t next = json_object_get_int64(v);
                if (next > 1 && next <= UINT32_MAX)
                        record.next_id = next;
        }
        if (json_object_object_get_ex(record.root, "boot_id", &v))
                record.boot_id = json_object_get_string(v);
        r = entries_parse(record.root, &record);
        if (r < 0) {
                job_record_done(&record);
                return r;
        }
        *ret = record;
        return 0;
}

void job_record_done(JobRecord *record) {
        free(record->entries);
        json_object_put(record->root);
        *record = (JobRecord) {};
}
