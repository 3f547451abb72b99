/* Audit: one journal entry for every mutating call, allowed or not.
 *
 * A refused call is written at once, or counted (bus-log-limit.c) and told
 * with the other refusals of its caller's interval. An allowed one is written when its
 * answer is known: when its handler returns, or, for a call answered later,
 * when its BusCall or job answers it. The entry goes where every log line
 * goes (log.c): the journal, with these fields, under systemd; stderr with
 * the same KEY=value fields otherwise. Nothing here blocks: the caller's pid
 * and unit were learned with its uid, asynchronously (bus-auth.c). */
#include "bus-audit.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "macro.h"

#define RECORDS_MAX 4096        /* allowed calls not answered yet */
#define DETAILS_MAX 4           /* details written as fields */
#define DETAIL_VALUE_MAX 256      /* the journal's field buffers in log.c are as long */
#define AUDIT_FIELDS_MAX (2 * (7 + DETAILS_MAX) + 1)

typedef struct Record {
        sd_bus_message *m;
        uid_t uid;
        pid_t pid;
        char *unit;
        char *action;
        char **details;         /* pairs, as given, NULL-keyed */
        bool adopted;
        struct Record *next;
} Record;

static struct {
        Record *records;
        size_t n_records;
} audit;

static const char *method_of(sd_bus_message *m) {
        return sd_bus_message_get_member(m) ?: "?";
}

static void write_entry(sd_bus_message *m, uid_t uid, pid_t pid, const char *unit, const char *action,
                        const char *const *details, const char *result) {
        char uid_text[16] = "unknown", pid_text[16] = "unknown";
        char names[DETAILS_MAX][40], values[DETAILS_MAX][DETAIL_VALUE_MAX];
        const char *fields[AUDIT_FIELDS_MAX];
        size_t n = 0, k = 0;

        if (uid != (uid_t) -1)
                snprintf(uid_text, sizeof uid_text, "%u", (unsigned) uid);
        if (pid > 0)
                snprintf(pid_text, sizeof pid_text, "%d", (int) pid);
#define FIELD(key, value) (fields[n++] = (key), fields[n++] = (value))
        FIELD("CALLER_UID", uid_text);
        FIELD("CALLER_PID", pid_text);
        if (unit)
                FIELD("CALLER_UNIT", unit);
        FIELD("ACTION", action);
        FIELD("OBJECT_PATH", strempty(sd_bus_message_get_path(m)));
        FIELD("METHOD", method_of(m));
        FIELD("RESULT", result);
        for (size_t i = 0; details && details[i] && k < DETAILS_MAX; i += 2) {
                if (!details[i + 1])
                        continue;
                snprintf(names[k], sizeof names[k], "DETAIL_%s", details[i]);
                for (char *c = names[k]; *c; c++)
                        *c = isalnum((unsigned char) *c) ? toupper((unsigned char) *c) : '_';
                /* A value (an owner) is the caller's text: on stderr a line
                 * break in it could pass for an entry of its own. */
                snprintf(values[k], sizeof values[k], "%s", details[i + 1]);
                for (char *c = values[k]; *c; c++)
                        if (iscntrl((unsigned char) *c))
                                *c = '?';
                FIELD(names[k], values[k]);
                k++;
        }
#undef FIELD
        fields[n] = NULL;
        log_fields(LOG_NOTICE, fields, "Audit: uid %s %s %s (%s): %s", uid_text, method_of(m),
                   strempty(sd_bus_message_get_path(m)), action, result);
}

void bus_audit_refused(sd_bus_message *m, const AuditCaller *caller, const char *action,
                       const char *const *details, const char *result) {
        write_entry(m, caller->uid, caller->pid, caller->unit, action, details, result);
}

void bus_audit_refusals_counted(uid_t uid, unsigned count, const char *const *actions, unsigned interval_sec) {
        const char *fields[2 * (3 + BUS_AUDIT_ACTIONS_MAX) + 1];
        char uid_text[16] = "unknown", count_text[16], list[BUS_AUDIT_ACTIONS_MAX * 64] = "";
        size_t n = 0, used = 0;

        if (uid != (uid_t) -1)
                snprintf(uid_text, sizeof uid_text, "%u", (unsigned) uid);
        snprintf(count_text, sizeof count_text, "%u", count);
        fields[n++] = "CALLER_UID", fields[n++] = uid_text;
        fields[n++] = "RESULT", fields[n++] = "denied";
        fields[n++] = "DENIED_COUNT", fields[n++] = count_text;
        /* One ACTION field each: journalctl ACTION=... finds the count too. */
        for (size_t i = 0; actions && actions[i] && i < BUS_AUDIT_ACTIONS_MAX; i++) {
                fields[n++] = "ACTION", fields[n++] = actions[i];
                if (used < sizeof list)
                        used += (size_t) snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", actions[i]);
        }
        fields[n] = NULL;
        log_fields(LOG_NOTICE, fields, "Audit: uid %s was refused %u more calls within %u s (%s): denied", uid_text,
                   count, interval_sec, list);
}

static void record_free(Record *r) {
        sd_bus_message_unref(r->m);
        free(r->unit);
        free(r->action);
        for (size_t i = 0; r->details && r->details[i]; i++)
                free(r->details[i]);
        free(r->details);
        free(r);
}

static char **details_copy(const char *const *details) {
        size_t n = 0, j = 0;
        char **copy;

        while (details && details[n])
                n += 2;
        copy = calloc(n + 1, sizeof *copy);
        for (size_t i = 0; copy && i < n; i += 2) {
                if (!details[i + 1])
                        continue;
                copy[j] = strdup(details[i]);
                copy[j + 1] = strdup(details[i + 1]);
                if (!copy[j] || !copy[j + 1]) {
                        free(copy[j + 1]);
                        copy[j + 1] = NULL;
                        break;
                }
                j += 2;
        }
        return copy;
}

void bus_audit_allowed(sd_bus_message *m, const AuditCaller *caller, const char *action,
                       const char *const *details) {
        Record *r;

        /* Past the cap the entry is written now, without the answer. */
        r = audit.n_records < RECORDS_MAX ? calloc(1, sizeof *r) : NULL;
        if (r) {
                r->action = strdup(action);
                r->details = details_copy(details);
                r->unit = caller->unit ? strdup(caller->unit) : NULL;
        }
        if (!r || !r->action || !r->details || (caller->unit && !r->unit)) {
                if (r)
                        record_free(r);
                write_entry(m, caller->uid, caller->pid, caller->unit, action, details, "allowed");
                return;
        }
        r->m = sd_bus_message_ref(m);
        r->uid = caller->uid;
        r->pid = caller->pid;
        r->next = audit.records;
        audit.records = r;
        audit.n_records++;
}

static Record *record_find(sd_bus_message *m) {
        for (Record *r = audit.records; r; r = r->next)
                if (r->m == m)
                        return r;
        return NULL;
}

static void record_end(Record *r, const char *result) {
        write_entry(r->m, r->uid, r->pid, r->unit, r->action, (const char *const *) r->details, result);
        for (Record **p = &audit.records; *p; p = &(*p)->next)
                if (*p == r) {
                        *p = r->next;
                        break;
                }
        audit.n_records--;
        record_free(r);
}

void bus_audit_adopt(sd_bus_message *m) {
        Record *r = record_find(m);

        if (r)
                r->adopted = true;
}

void bus_audit_answered(sd_bus_message *m, const char *error_name) {
        Record *r = record_find(m);

        if (r)
                record_end(r, error_name ?: "done");
}

void bus_audit_returned(sd_bus_message *m, int r, const sd_bus_error *error) {
        _cleanup_(sd_bus_error_free) sd_bus_error mapped = SD_BUS_ERROR_NULL;
        Record *record = record_find(m);

        if (!record)
                return;   /* not allowed here, or answered already */
        if (sd_bus_error_is_set(error))
                record_end(record, error->name);
        else if (r < 0) {
                /* What sd-bus answers with for a bare -errno. */
                (void) sd_bus_error_set_errno(&mapped, r);
                record_end(record, mapped.name ?: "failed");
        } else if (!record->adopted)
                record_end(record, "done");
}

void bus_audit_done(void) {
        while (audit.records)
                record_end(audit.records, "unanswered");
        audit = (typeof(audit)) {};
}
