/* An error from the agent (or the bus) as one readable line, and the exit status it means */
#pragma once

#include <systemd/sd-bus.h>

/* Prints "hostagentctl: OBJECT: cannot ACTION: why (ErrorName)" on stderr. KIND ("VM", "pool")
 * turns the agent's "it is not running" into "the VM is not running"; OBJECT and ACTION may be
 * NULL. Returns CTL_NO_SUCH_OBJECT when the error says the object does not exist, -EIO otherwise. */
int ctl_error_report(const char *kind, const char *object, const char *action, const sd_bus_error *error);

/* The same for a spec: the line names what the spec calls "name" when it is JSON that has one,
 * the file it came from otherwise. */
int ctl_error_report_spec(const char *kind, const char *spec, const char *file, const char *action,
                          const sd_bus_error *error);

/* "hostagentctl: OBJECT: no such KIND (NAME)": returns CTL_NO_SUCH_OBJECT. */
int ctl_not_found(const char *kind, const char *object, const char *error_name);

/* "hostagentctl: [OBJECT: ]FORMAT...": a failure of our own; returns -EINVAL. */
int ctl_fail(const char *object, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* Whether the error says the object is not there. */
int ctl_error_is_not_found(const sd_bus_error *error);
