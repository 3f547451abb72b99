/* Named D-Bus errors: what a client sees when a call fails */
#include "bus-error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "agent-errno.h"
#include "bus-text.h"
#include "error-text.h"
#include "macro.h"

/* What sd-bus clients get back from a name (sd_bus_error_get_errno()). Names whose errno is
 * shared (ENOENT, EINVAL) are the ones a call's context picks between; test-bus-error checks
 * that each name comes back as itself through errno_names[] below. */
static const sd_bus_error_map hostagent_errors[] = {
        SD_BUS_ERROR_MAP(HOSTAGENT_ERROR_NO_SUCH_VM,          ENOENT),
        SD_BUS_ERROR_MAP(HOSTAGENT_ERROR_NO_SUCH_OBJECT,      ENOENT),
        SD_BUS_ERROR_MAP(HOSTAGENT_ERROR_INVALID_SPEC,        EINVAL),
        SD_BUS_ERROR_MAP(HOSTAGENT_ERROR_INVALID_ARGS,        EINVAL),
        SD_BUS_ERROR_MAP(HOSTAGENT_ERROR_BUSY,                EBUSY),
        SD_BUS_ERROR_MAP(HOSTAGENT_ERROR_LIBVIRT_UNAVAILABLE, ENOTCONN),
        SD_BUS_ERROR_MAP(HOSTAGENT_ERROR_NOT_SUPPORTED,       EOPNOTSUPP),
        SD_BUS_ERROR_MAP(HOSTAGENT_ERROR_INVALID_STATE,       ERRNO_INVALID_STATE),
        SD_BUS_ERROR_MAP(HOSTAGENT_ERROR_TIMEOUT,             ETIMEDOUT),
        SD_BUS_ERROR_MAP(HOSTAGENT_ERROR_SHUTTING_DOWN,       ESHUTDOWN),
        SD_BUS_ERROR_MAP(HOSTAGENT_ERROR_FAILED,              EIO),
        SD_BUS_ERROR_MAP(HOSTAGENT_ERROR_STORAGE_UNREACHABLE, EHOSTUNREACH),
        SD_BUS_ERROR_MAP(HOSTAGENT_ERROR_EXISTS,              EEXIST),
        SD_BUS_ERROR_MAP(HOSTAGENT_ERROR_IN_USE,              ERRNO_IN_USE),
        SD_BUS_ERROR_MAP(HOSTAGENT_ERROR_GUEST_AGENT_UNAVAILABLE, ERRNO_NO_GUEST_AGENT),
        SD_BUS_ERROR_MAP_END
};

/* The most of another program's text an error carries. */
#define BUS_ERROR_WHY_MAX 4096

typedef enum NameFrom {
        NAME_FIXED,             /* the entry's own */
        NAME_INVALID,           /* the call's BusErrorContext.invalid */
        NAME_MISSING,           /* the call's BusErrorContext.missing */
} NameFrom;

/* The one errno -> name table: every glue file names a failure through it, so an errno means
 * the same in every call. Libraries return the errno whose meaning fits (common/agent-errno.h
 * for the two the kernel has none for); one whose meaning depends on the call (what its input
 * is, what it names) takes its name from the call's context. WHY replaces strerror() where that
 * would mislead. Anything not here (-EIO, -ENOSPC, ...) is Failed. */
static const struct {
        int code;
        NameFrom from;
        const char *name;
        const char *why;
} errno_names[] = {
        /* The caller's input is wrong (a path in it is not a directory, too). */
        { .code = EINVAL, .from = NAME_INVALID },
        { .code = ENOTDIR, .from = NAME_INVALID },
        /* What the caller named is not there. */
        { .code = ENOENT, .from = NAME_MISSING },
        /* The agent is busy now (work in flight, jobs, a change being applied): retry. */
        { .code = EBUSY, .name = HOSTAGENT_ERROR_BUSY, .why = "the agent is busy; retry later" },
        /* Held by something else: a VM's disk, a guest's tap, a volume under another. */
        { .code = ERRNO_IN_USE, .name = HOSTAGENT_ERROR_IN_USE, .why = "in use" },
        { .code = EEXIST, .name = HOSTAGENT_ERROR_EXISTS },
        /* The guest has no agent channel, or its agent does not answer now. */
        { .code = ERRNO_NO_GUEST_AGENT, .name = HOSTAGENT_ERROR_GUEST_AGENT_UNAVAILABLE,
          .why = "the guest agent is not connected" },
        /* The object is not in a state that allows the request. */
        { .code = ERRNO_INVALID_STATE, .name = HOSTAGENT_ERROR_INVALID_STATE,
          .why = "not in a state that allows this" },
        /* The caller may not do this at all. */
        { .code = EPERM, .name = SD_BUS_ERROR_ACCESS_DENIED },
        { .code = EACCES, .name = SD_BUS_ERROR_ACCESS_DENIED },
        { .code = EOPNOTSUPP, .name = HOSTAGENT_ERROR_NOT_SUPPORTED },
        { .code = ENOTCONN, .name = HOSTAGENT_ERROR_LIBVIRT_UNAVAILABLE },
        { .code = EHOSTUNREACH, .name = HOSTAGENT_ERROR_STORAGE_UNREACHABLE },
        { .code = ETIMEDOUT, .name = HOSTAGENT_ERROR_TIMEOUT },
        { .code = ETIME, .name = HOSTAGENT_ERROR_TIMEOUT },     /* a helper command's deadline */
        /* The agent is stopping: refused (ESHUTDOWN) or dropped from the worker pool (ECANCELED). */
        { .code = ESHUTDOWN, .name = HOSTAGENT_ERROR_SHUTTING_DOWN },
        { .code = ECANCELED, .name = HOSTAGENT_ERROR_SHUTTING_DOWN },
        { .code = ENOMEM, .name = SD_BUS_ERROR_NO_MEMORY },
};

const BusErrorContext bus_error_context_vm = {
        .invalid = HOSTAGENT_ERROR_INVALID_SPEC,
        .missing = HOSTAGENT_ERROR_NO_SUCH_VM,
};

int bus_error_register(void) {
        static bool done;
        int r;

        if (done)
                return 0;
        r = sd_bus_error_add_map(hostagent_errors);
        if (r >= 0)
                done = true;
        return r;
}

static int errno_index(int r) {
        for (size_t i = 0; i < ELEMENTSOF(errno_names); i++)
                if (errno_names[i].code == -r)
                        return (int) i;
        return -1;
}

const char *bus_error_name(int r, const BusErrorContext *context) {
        const char *name = NULL;
        int i = errno_index(r);

        if (i < 0)
                return HOSTAGENT_ERROR_FAILED;
        switch (errno_names[i].from) {
        case NAME_FIXED:
                name = errno_names[i].name;
                break;
        case NAME_MISSING:
                name = context ? context->missing ?: context->invalid : NULL;
                break;
        case NAME_INVALID:
                name = context ? context->invalid : NULL;
                break;
        }
        return name ?: HOSTAGENT_ERROR_FAILED;
}

static const char *errno_why(int r) {
        int i = errno_index(r);

        return i >= 0 && errno_names[i].why ? errno_names[i].why : strerror(-r);
}

int bus_error_set_errno(sd_bus_error *error, int r, const BusErrorContext *context, const char *what,
                        const char *why) {
        const char *name = bus_error_name(r, context);

        if (streq(name, HOSTAGENT_ERROR_SHUTTING_DOWN))
                (void) bus_error_set_shutting_down(error);
        else if (streq(name, SD_BUS_ERROR_NO_MEMORY))
                (void) sd_bus_error_set(error, SD_BUS_ERROR_NO_MEMORY, "Out of memory");
        else
                (void) bus_error_set_text(error, name, what, why ?: errno_why(r));
        return r;
}

int bus_error_set(sd_bus_error *error, int r, const char *detail, const char *format, ...) {
        char what[512];
        va_list ap;

        va_start(ap, format);
        (void) vsnprintf(what, sizeof what, format, ap);
        va_end(ap);

        return bus_error_set_errno(error, r, &bus_error_context_vm, what, detail);
}

int bus_error_set_text(sd_bus_error *error, const char *name, const char *what, const char *why) {
        _cleanup_(freep) char *text = NULL, *safe = NULL;
        char cut[BUS_ERROR_WHY_MAX + sizeof(TEXT_CUT_MARKER)];

        /* WHY is often someone else's text (libvirt, qemu-img, lvm, the
         * kernel): with bytes sd-bus refuses, the reply itself would fail and
         * the caller would wait for nothing. It may quote what the caller
         * sent (a domain XML), so it is cut too, past a page. */
        why = text_cut_n(why, BUS_ERROR_WHY_MAX, cut);
        if (asprintf(&text, "%s%s%s", strempty(what), what ? ": " : "", why) < 0 || !(safe = bus_text_dup(text)))
                return sd_bus_error_set(error, SD_BUS_ERROR_NO_MEMORY, "Out of memory");
        return sd_bus_error_set(error, name, safe);
}

int bus_error_set_shutting_down(sd_bus_error *error) {
        return sd_bus_error_set(error, HOSTAGENT_ERROR_SHUTTING_DOWN,
                                "hostagentd is shutting down; retry when it is back");
}
