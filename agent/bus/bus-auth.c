/* Authorization: the one place that decides who may change the host.
 *
 * dbus-daemon does not attach credentials to messages, so sd-bus would ask
 * for them with a synchronous GetConnectionCredentials call: the loop would
 * wait on the bus daemon inside a method handler. Instead a filter holds a
 * caller's calls until the bus daemon has said, asynchronously, which uid
 * the connection has (its answer comes from SO_PEERCRED: the kernel's word,
 * not the caller's), and then puts them back in the read queue with
 * sd_bus_enqueue_for_read(), as systemd does after a polkit check. Unique
 * names are never reused on a bus, so a remembered answer never goes stale;
 * the memory is a ring, and an evicted caller is simply asked again. */
#include "bus-auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-log-limit.h"
#include "log.h"
#include "macro.h"

#define CALLERS_REMEMBERED 256
#define HELD_CALLS_MAX 64          /* per caller, while the bus is asked who it is */
#define UID_UNKNOWN ((uid_t) -1)

typedef struct Caller {
        char *name;          /* unique bus name, ":1.42" */
        uid_t uid;           /* UID_UNKNOWN: the bus could not say (the caller left) */
} Caller;

/* Calls of one caller, held while the bus is asked who it is. */
typedef struct Lookup {
        char *name;
        sd_bus_slot *slot;
        sd_bus_message **held;
        size_t n_held;
        struct Lookup *next;
} Lookup;

static struct {
        sd_bus *bus;
        sd_bus_slot *filter;
        Caller callers[CALLERS_REMEMBERED];
        size_t next_slot;
        Lookup *lookups;
} auth;

/* Newest first: a caller making many calls was remembered lately. */
static const Caller *caller_find(const char *name) {
        for (size_t k = 1; k <= CALLERS_REMEMBERED; k++) {
                const Caller *c = &auth.callers[(auth.next_slot + CALLERS_REMEMBERED - k) % CALLERS_REMEMBERED];
                if (!c->name)
                        return NULL;   /* the ring has not wrapped yet: nothing older */
                if (streq(c->name, name))
                        return c;
        }
        return NULL;
}

static void caller_remember(const char *name, uid_t uid) {
        Caller *c = &auth.callers[auth.next_slot];
        char *copy = strdup(name);

        if (!copy)
                return;   /* the held calls are then denied: identity unknown */
        free(c->name);
        *c = (Caller) { .name = copy, .uid = uid };
        auth.next_slot = (auth.next_slot + 1) % CALLERS_REMEMBERED;
}

static Lookup *lookup_find(const char *name) {
        for (Lookup *l = auth.lookups; l; l = l->next)
                if (streq(l->name, name))
                        return l;
        return NULL;
}

static void lookup_unlink(Lookup *l) {
        for (Lookup **p = &auth.lookups; *p; p = &(*p)->next)
                if (*p == l) {
                        *p = l->next;
                        return;
                }
}

static void lookup_free(Lookup *l) {
        for (size_t i = 0; i < l->n_held; i++)
                sd_bus_message_unref(l->held[i]);
        free(l->held);
        sd_bus_slot_unref(l->slot);
        free(l->name);
        free(l);
}

static int lookup_hold(Lookup *l, sd_bus_message *m) {
        sd_bus_message **grown;

        /* A caller flooding us before the bus has answered gets its extra
         * calls dispatched at once (and denied for want of an identity). */
        if (l->n_held >= HELD_CALLS_MAX)
                return -ENOBUFS;
        grown = realloc(l->held, (l->n_held + 1) * sizeof *grown);
        if (!grown)
                return -ENOMEM;
        l->held = grown;
        l->held[l->n_held++] = sd_bus_message_ref(m);
        return 0;
}

static int on_unix_user(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Lookup *l = userdata;
        uint32_t uid;

        if (sd_bus_message_is_method_error(reply, NULL) || sd_bus_message_read(reply, "u", &uid) < 0)
                uid = UID_UNKNOWN;
        caller_remember(l->name, uid);
        lookup_unlink(l);
        /* In arrival order, ahead of anything read later. */
        for (size_t i = 0; i < l->n_held; i++) {
                int r = sd_bus_message_rewind(l->held[i], true);
                if (r >= 0)
                        r = sd_bus_enqueue_for_read(auth.bus, l->held[i]);
                if (r < 0)
                        log_warning_errno(r, "Cannot requeue a call from %s: %m", l->name);
        }
        lookup_free(l);
        return 0;
}

/* Our own interfaces and property writes may need to know the caller;
 * Peer, Introspectable, property reads and the ObjectManager never do. */
static bool may_need_identity(sd_bus_message *m) {
        const char *interface = sd_bus_message_get_interface(m);

        if (!interface)
                return true;
        if (streq(interface, "org.freedesktop.DBus.Properties"))
                return streq_ptr(sd_bus_message_get_member(m), "Set");
        return strncmp(interface, "org.hostagent1.", strlen("org.hostagent1.")) == 0;
}

static int identity_filter(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        const char *sender = sd_bus_message_get_sender(m);
        Lookup *l;
        int r;

        if (!sd_bus_message_is_method_call(m, NULL, NULL) || !sender || sender[0] != ':')
                return 0;
        l = lookup_find(sender);
        if (l)   /* behind an earlier call of the same caller, to keep its order */
                return lookup_hold(l, m) < 0 ? 0 : 1;
        if (!may_need_identity(m) || caller_find(sender))
                return 0;

        l = calloc(1, sizeof *l);
        if (!l || !(l->name = strdup(sender)) || lookup_hold(l, m) < 0) {
                if (l)
                        lookup_free(l);
                return 0;   /* dispatched now, and denied for want of an identity */
        }
        r = sd_bus_call_method_async(auth.bus, &l->slot, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                     "org.freedesktop.DBus", "GetConnectionUnixUser", on_unix_user, l, "s",
                                     sender);
        if (r < 0) {
                log_warning_errno(r, "Cannot ask the bus who %s is: %m", sender);
                lookup_free(l);
                return 0;
        }
        l->next = auth.lookups;
        auth.lookups = l;
        return 1;   /* held: on_unix_user() puts it back */
}

int bus_auth_install(sd_bus *bus) {
        auth.bus = bus;
        return sd_bus_add_filter(bus, &auth.filter, identity_filter, NULL);
}

void bus_auth_done(void) {
        while (auth.lookups) {
                Lookup *l = auth.lookups;
                auth.lookups = l->next;
                lookup_free(l);
        }
        for (size_t i = 0; i < CALLERS_REMEMBERED; i++)
                free(auth.callers[i].name);
        auth.filter = sd_bus_slot_unref(auth.filter);
        auth = (typeof(auth)) {};
        bus_log_denied_done();
}

int bus_authorize(sd_bus_message *m, const char *action, sd_bus_error *error) {
        const char *sender = sd_bus_message_get_sender(m);
        const Caller *c = sender ? caller_find(sender) : NULL;

        if (!c || c->uid == UID_UNKNOWN)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Cannot %s: the caller's identity is unknown", action);
        if (c->uid == 0)
                return 0;

        bus_log_denied(c->uid, action);
        return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                 "Permission denied: only root may %s (caller uid %u)", action,
                                 (unsigned) c->uid);
}
