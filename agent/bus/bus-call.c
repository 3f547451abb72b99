/* A method call answered later, from the loop, exactly once */
#include "bus-call.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-audit.h"
#include "log.h"

void bus_call_init(BusCall *c, sd_bus_message *request) {
        c->request = sd_bus_message_ref(request);
        c->answered = false;
        bus_audit_adopt(request);
}

void bus_call_done(BusCall *c) {
        c->request = sd_bus_message_unref(c->request);
        free(c->expiry_name);
        free(c->expiry_message);
        c->expiry_name = c->expiry_message = NULL;
}

int bus_call_set_deadline(BusCall *c, uint64_t timeout_usec, const char *name, const char *format, ...) {
        va_list ap;
        int k;

        free(c->expiry_name);
        free(c->expiry_message);
        c->expiry_message = NULL;
        c->expiry_name = strdup(name);
        va_start(ap, format);
        k = vasprintf(&c->expiry_message, format, ap);
        va_end(ap);
        if (k < 0)
                c->expiry_message = NULL;   /* undefined after a failed vasprintf() */
        if (!c->expiry_name || k < 0)
                return -ENOMEM;
        c->timeout_usec = timeout_usec;
        return 0;
}

static int answered(BusCall *c, int r, const char *error_name) {
        c->answered = true;
        bus_audit_answered(c->request, error_name);
        /* The caller may have gone away; nothing else to do about it. */
        if (r < 0)
                log_debug_errno(r, "Cannot answer %s: %m", sd_bus_message_get_member(c->request) ?: "a call");
        return r;
}

int bus_call_reply(BusCall *c, sd_bus_message *reply) {
        if (c->answered)
                return 0;
        return answered(c, sd_bus_send(NULL, reply, NULL),
                        sd_bus_message_is_method_error(reply, NULL) ? sd_bus_message_get_error(reply)->name : NULL);
}

int bus_call_reply_error(BusCall *c, const sd_bus_error *error) {
        if (c->answered)
                return 0;
        return answered(c, sd_bus_reply_method_error(c->request, error), error->name);
}

int bus_call_reply_empty(BusCall *c) {
        if (c->answered)
                return 0;
        return answered(c, sd_bus_reply_method_return(c->request, NULL), NULL);
}

int bus_call_reply_path(BusCall *c, const char *path) {
        if (c->answered)
                return 0;
        return answered(c, sd_bus_reply_method_return(c->request, "o", path), NULL);
}

void bus_call_expired(void *state) {
        BusCall *c = state;
        sd_bus_error e = SD_BUS_ERROR_MAKE_CONST(c->expiry_name ?: SD_BUS_ERROR_TIMEOUT,
                                                 c->expiry_message ?: "Timed out");

        log_notice("%s: %s", sd_bus_message_get_member(c->request) ?: "call", e.message);
        (void) bus_call_reply_error(c, &e);
}
