/* Named D-Bus errors: what a client sees when a call fails */
#include "bus-error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bus-text.h"
#include "macro.h"

/* Both directions: our errno for a name (for clients built on sd-bus), and
 * the name we send for an errno. The first entry for an errno wins. */
static const sd_bus_error_map hostagent_errors[] = {
        SD_BUS_ERROR_MAP(HOSTAGENT_ERROR_NO_SUCH_VM,          ENOENT),
        SD_BUS_ERROR_MAP(HOSTAGENT_ERROR_NO_SUCH_OBJECT,      ENOENT),
        SD_BUS_ERROR_MAP(HOSTAGENT_ERROR_INVALID_SPEC,        EINVAL),
        SD_BUS_ERROR_MAP(HOSTAGENT_ERROR_INVALID_ARGS,        EINVAL),
        SD_BUS_ERROR_MAP(HOSTAGENT_ERROR_BUSY,                EBUSY),
        SD_BUS_ERROR_MAP(HOSTAGENT_ERROR_LIBVIRT_UNAVAILABLE, ENOTCONN),
        SD_BUS_ERROR_MAP(HOSTAGENT_ERROR_NOT_SUPPORTED,       EOPNOTSUPP),
        SD_BUS_ERROR_MAP(HOSTAGENT_ERROR_INVALID_STATE,       EBADRQC),
        SD_BUS_ERROR_MAP(HOSTAGENT_ERROR_TIMEOUT,             ETIMEDOUT),
        SD_BUS_ERROR_MAP(HOSTAGENT_ERROR_SHUTTING_DOWN,       ESHUTDOWN),
        SD_BUS_ERROR_MAP(HOSTAGENT_ERROR_FAILED,              EIO),
        SD_BUS_ERROR_MAP(HOSTAGENT_ERROR_STORAGE_UNREACHABLE, EHOSTUNREACH),
        SD_BUS_ERROR_MAP(HOSTAGENT_ERROR_EXISTS,              EEXIST),
        SD_BUS_ERROR_MAP(HOSTAGENT_ERROR_IN_USE,              ETXTBSY),
        SD_BUS_ERROR_MAP_END
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

static const char *name_for_errno(int r) {
        switch (-r) {
        case EACCES:
        case EPERM:
                return SD_BUS_ERROR_ACCESS_DENIED;
        case ENOMEM:
                return SD_BUS_ERROR_NO_MEMORY;
        }
        for (const sd_bus_error_map *m = hostagent_errors; m->name; m++)
                if (m->code == -r)
                        return m->name;
        return HOSTAGENT_ERROR_FAILED;
}

int bus_error_set(sd_bus_error *error, int r, const char *detail, const char *format, ...) {
        char what[512];
        va_list ap;

        va_start(ap, format);
        (void) vsnprintf(what, sizeof what, format, ap);
        va_end(ap);

        (void) bus_error_set_text(error, name_for_errno(r), what, detail ?: strerror(-r));
        return r;
}

int bus_error_set_text(sd_bus_error *error, const char *name, const char *what, const char *why) {
        _cleanup_(freep) char *text = NULL, *safe = NULL;

        /* WHY is often someone else's text (libvirt, qemu-img, lvm, the
         * kernel): with bytes sd-bus refuses, the reply itself would fail and
         * the caller would wait for nothing. */
        if (asprintf(&text, "%s: %s", what, why) < 0 || !(safe = bus_text_dup(text)))
                return sd_bus_error_set(error, SD_BUS_ERROR_NO_MEMORY, "Out of memory");
        return sd_bus_error_set(error, name, safe);
}

int bus_error_set_shutting_down(sd_bus_error *error) {
        return sd_bus_error_set(error, HOSTAGENT_ERROR_SHUTTING_DOWN,
                                "hostagentd is shutting down; retry when it is back");
}
