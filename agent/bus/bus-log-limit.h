/* Denials in the log: one line per caller per interval, with a count of the rest */
#pragma once

#include <sys/types.h>

/* Every refused call would otherwise log a line: an unprivileged caller could flood the journal
 * (11,738 lines in six minutes). The first denial of a uid in each interval is logged as it is;
 * the ones after it within the interval are counted, and when the interval ends one line says
 * how many there were. On the loop thread (its default sd-event); never blocks. */
#define BUS_LOG_DENIED_INTERVAL_SEC 10

/* Logs, or counts, that UID was refused ACTION. */
void bus_log_denied(uid_t uid, const char *action);

/* Logs the counts still pending and drops the timer. At shutdown, before the event loop goes. */
void bus_log_denied_done(void);
