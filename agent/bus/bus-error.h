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
#define HOSTAGENT_ERROR_GUEST_AGENT_UNAVAILABLE "org.hostagent1.Error.GuestAgentUnavailable"

/* What one call makes of the errnos whose name depends on what the call was given (the table
 * in bus-error.c says which). INVALID names "the caller's input is wrong" (-EINVAL, -ENOTDIR):
 * InvalidSpec for a spec, InvalidArgs for plain arguments, or NULL for a call whose input no
 * library checks, so that such an errno is the agent's own failure: Failed. MISSING names
 * "what the caller named is not there" (-ENOENT): NoSuchVM, NoSuchObject, or NULL for the
 * same name as INVALID (the caller named it in its input). */
typedef struct BusErrorContext {
        const char *invalid;
        const char *missing;
} BusErrorContext;

/* The VM methods' context, which bus_error_set() uses: InvalidSpec, NoSuchVM. */
extern const BusErrorContext bus_error_context_vm;

/* Registers the name <-> errno map with sd-bus, once per process. */
int bus_error_register(void);

/* What a call cut short by the daemon's stop is answered with. */
int bus_error_set_shutting_down(sd_bus_error *error);

/* The one name of the -errno R in CONTEXT (NULL: no input, nothing named). */
const char *bus_error_name(int r, const BusErrorContext *context);

/* Fills ERROR with bus_error_name(R, CONTEXT) and the message "WHAT: WHY" (WHAT NULL: "WHY";
 * WHY NULL: what R means); ShuttingDown and NoMemory get their fixed texts. Returns R. */
int bus_error_set_errno(sd_bus_error *error, int r, const BusErrorContext *context, const char *what,
                        const char *why);

/* Fills ERROR with the named error for the -errno R (bus_error_context_vm), and a message that
 * says what failed (FORMAT) and why (DETAIL, e.g. libvirt's own text, may be
 * NULL). Returns R, so handlers can "return bus_error_set(...)". */
int bus_error_set(sd_bus_error *error, int r, const char *detail, const char *format, ...)
        __attribute__((format(printf, 4, 5)));

/* ERROR becomes NAME with the message "WHAT: WHY" (WHAT NULL: "WHY"), where anything in WHY a
 * D-Bus string cannot carry is replaced. Returns sd_bus_error_set()'s value. */
int bus_error_set_text(sd_bus_error *error, const char *name, const char *what, const char *why);
