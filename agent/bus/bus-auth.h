/* Authorization: the one place that decides who may change the host */
#pragma once

#include <systemd/sd-bus.h>

/* Installs the filter that learns each caller's uid before its call is
 * dispatched: the first call of a connection waits (off the loop) for the
 * bus daemon's answer to GetConnectionUnixUser, then runs as if it had just
 * arrived; later calls find the answer remembered. Call it after every other
 * sd_bus_add_filter(): sd-bus runs the newest filter first, and the others
 * may authorize. One bus per process. */
int bus_auth_install(sd_bus *bus);
/* Drops the remembered callers, and the calls still waiting for the bus's
 * answer (unanswered: this is shutdown). Before the bus is closed. */
void bus_auth_done(void);

/* Every mutating method and property write asks here first. ACTION names
 * what is being done, for the denial message and the log ("set LogLevel").
 * For now only root may mutate; others get org.freedesktop.DBus.Error.
 * AccessDenied. Never blocks: the caller's uid was learned by the filter.
 * Returns 0 when allowed, a negative errno otherwise (ERROR set). */
int bus_authorize(sd_bus_message *m, const char *action, sd_bus_error *error);
