/* Authorization: the one place that decides who may change the host */
#include "bus-auth.h"

#include <stdio.h>

#include "log.h"
#include "macro.h"

int bus_authorize(sd_bus_message *m, const char *action, sd_bus_error *error) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        char uid_text[16];
        uid_t uid;
        int r;

        /* On dbus-daemon this asks the bus for the peer's credentials: it is
         * the bus's own answer from SO_PEERCRED, not something the caller says. */
        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID | SD_BUS_CREDS_AUGMENT, &creds);
        if (r >= 0)
                r = sd_bus_creds_get_euid(creds, &uid);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Cannot %s: the caller's identity is unknown", action);
        if (uid == 0)
                return 0;

        snprintf(uid_text, sizeof uid_text, "%u", (unsigned) uid);
        log_fields(LOG_NOTICE, LOG_FIELDS("CALLER_UID", uid_text), "Denied: uid %s may not %s",
                   uid_text, action);
        return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                 "Permission denied: only root may %s (caller uid %u)", action,
                                 (unsigned) uid);
}
