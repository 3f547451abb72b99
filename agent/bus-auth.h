/* Authorization: the one place that decides who may change the host */
#pragma once

#include <systemd/sd-bus.h>

/* Every mutating method and property write asks here first. ACTION names
 * what is being done, for the denial message and the log ("set LogLevel").
 * For now only root may mutate; others get org.freedesktop.DBus.Error.
 * AccessDenied. Returns 0 when allowed, a negative errno otherwise (ERROR set). */
int bus_authorize(sd_bus_message *m, const char *action, sd_bus_error *error);
