/* Named D-Bus errors: what a client sees when a call fails */
#pragma once

#include <systemd/sd-bus.h>

#define HOSTAGENT_ERROR_NO_SUCH_VM           "org.hostagent1.Error.NoSuchVM"
#define HOSTAGENT_ERROR_NO_SUCH_OBJECT       "org.hostagent1.Error.NoSuchObject"
#define HOSTAGENT_ERROR_INVALID_SPEC         "org.hostagent1.Error.InvalidSpec"
#define HOSTAGENT_ERROR_INVALID_ARGS         "org.hostagent1.Error.InvalidArgs"
#define HOSTAGENT_ERROR_BUSY                 "org.hostagent1.Error.Busy"
#define HOSTAGENT_ERROR_LIBVIRT_UNAVAILABLE  "org.hostagent1.Error.LibvirtUnavailable"
#define HOSTAGENT_ERROR_NOT_SUPPORTED        "org.hostagent1.Error.NotSupported"
#define HOSTAGENT_ERROR_INVALID_STATE        "org.hostagent1.Error.InvalidState"
#define HOSTAGENT_ERROR_TIMEOUT              "org.hostagent1.Error.Timeout"
#define HOSTAGENT_ERROR_SHUTTING_DOWN        "org.hostagent1.Error.ShuttingDown"
#define HOSTAGENT_ERROR_FAILED               "org.hostagent1.Error.Failed"
#define HOSTAGENT_ERROR_STORAGE_UNREACHABLE  "org.hostagent1.Error.StorageUnreachable"
#define HOSTAGENT_ERROR_EXISTS               "org.hostagent1.Error.Exists"
#define HOSTAGENT_ERROR_IN_USE               "org.hostagent1.Error.InUse"

/* Registers the name <-> errno map with sd-bus, once per process. */
int bus_error_register(void);

/* What a call cut short by the daemon's stop is answered with. */
int bus_error_set_shutting_down(sd_bus_error *error);

/* Fills ERROR with the named error for the -errno R, and a message that
 * says what failed (FORMAT) and why (DETAIL, e.g. libvirt's own text, may be
 * NULL). Returns R, so handlers can "return bus_error_set(...)". */
int bus_error_set(sd_bus_error *error, int r, const char *detail, const char *format, ...)
        __attribute__((format(printf, 4, 5)));

/* ERROR becomes NAME with the message "WHAT: WHY", where anything in WHY a
 * D-Bus string cannot carry is replaced. Returns sd_bus_error_set()'s value. */
int bus_error_set_text(sd_bus_error *error, const char *name, const char *what, const char *why);
