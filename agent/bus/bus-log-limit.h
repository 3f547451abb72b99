/* Refusals in the log: one audit entry per caller per interval, with a count of the rest */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* Every refused call would otherwise be an entry of its own: an unprivileged caller could flood
 * the journal (11,738 lines in six minutes). The first refusal of a uid in each interval gets
 * its full audit entry (bus-audit.h), which is its denial line; the ones after it within the
 * interval are counted, and when the interval ends one structured entry tells how many there
 * were and which actions they asked for (bus_audit_refusals_counted()). Every refusal is thus an
 * entry or in a count. On the loop thread (its default sd-event); never blocks. */
#define BUS_LOG_DENIED_INTERVAL_SEC 10

/* A call of UID ((uid_t) -1: unknown, one caller for this) was refused ACTION. True when it is
 * the first of UID's interval: its audit entry is to be written now; false when it was counted
 * instead. */
bool bus_log_denied(uid_t uid, const char *action);

/* Tells the counts still pending and drops the timer. At shutdown, before the event loop goes. */
void bus_log_denied_done(void);
