/* Audit: one journal entry for every mutating call, allowed or not */
#pragma once

#include <sys/types.h>
#include <systemd/sd-bus.h>

/* Who called, as the bus daemon said it (the kernel's word). */
typedef struct AuditCaller {
        uid_t uid;              /* (uid_t) -1: unknown */
        pid_t pid;              /* 0: unknown */
        const char *unit;       /* the caller's systemd unit, or NULL */
} AuditCaller;

/* The entry's fields: CALLER_UID, CALLER_PID, CALLER_UNIT (when there is
 * one), ACTION, OBJECT_PATH, METHOD, RESULT, and DETAIL_<KEY> for each of
 * DETAILS (pairs ended by a NULL key, as polkit gets them). */

/* M was refused before it ran: the entry is written now, with RESULT. It is
 * the denial's one line: bus-auth.c writes it for the first refusal of a uid
 * per interval and counts the others (bus-log-limit.h). */
void bus_audit_refused(sd_bus_message *m, const AuditCaller *caller, const char *action,
                       const char *const *details, const char *result);
/* M was allowed: its entry is written once it has been answered. */
void bus_audit_allowed(sd_bus_message *m, const AuditCaller *caller, const char *action,
                       const char *const *details);

/* M will be answered later, from the loop (a BusCall or a job took it). */
void bus_audit_adopt(sd_bus_message *m);
/* M was answered: ERROR_NAME, or NULL when it was done. */
void bus_audit_answered(sd_bus_message *m, const char *error_name);
/* M's handler returned (R, ERROR): unless the call was adopted and
 * returned no error, that was its answer. */
void bus_audit_returned(sd_bus_message *m, int r, const sd_bus_error *error);

/* The refused calls of UID counted in an interval of INTERVAL_SEC instead of
 * written one by one: COUNT of them, asking for ACTIONS (NULL-ended, each
 * once, at most BUS_AUDIT_ACTIONS_MAX). One entry with CALLER_UID,
 * RESULT=denied, DENIED_COUNT and an ACTION field for each action. */
#define BUS_AUDIT_ACTIONS_MAX 9   /* as many as the .policy declares */
void bus_audit_refusals_counted(uid_t uid, unsigned count, const char *const *actions, unsigned interval_sec);

/* Writes the entries of calls never answered (RESULT=unanswered). */
void bus_audit_done(void);
