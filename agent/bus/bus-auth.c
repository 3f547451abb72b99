/* Authorization: the one place that decides who may change the host.
 *
 * dbus-daemon does not attach credentials to messages, so sd-bus would ask
 * for them with a synchronous GetConnectionCredentials call: the loop would
 * wait on the bus daemon inside a method handler. Instead a filter holds a
 * caller's calls until the bus daemon has said, asynchronously, which uid
 * and pid the connection has (its answer comes from SO_PEERCRED: the
 * kernel's word, not the caller's), and then puts them back in the read
 * queue with sd_bus_enqueue_for_read(). The question goes over a second
 * connection of our own: on the agent's connection, its answer would queue in
 * the bus daemon behind every call sent to us before it, so a flood of calls
 * (30 MB arguments, thousands pending) would keep root waiting for its own
 * identity as long as the flood lasted, and past the question's timeout. Unique names are never reused on a
 * bus, so a remembered answer never goes stale; the memory is a ring, and an
 * evicted caller is simply asked again. This is the agent's one question
 * about a caller: the budgets of blocking work (bus-budget.c) are told the
 * answer and ask through bus_auth_identify(). Calls held here, behind polkit
 * or for a worker slot count against one cap per connection
 * (BUS_BUDGET_HELD_PER_CONNECTION); past it a call is answered Busy.
 *
 * Root may do anything at once. Anyone else is asked about in polkit
 * (bus-polkit.c), per action, the same way: the call is held while polkit
 * thinks and dispatched again once it has answered, as systemd's
 * bus_verify_polkit_async() does. */
#include "bus-auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-login.h>

#include "bus-audit.h"
#include "bus-budget.h"
#include "bus-error.h"
#include "bus-log-limit.h"
#include "bus-fair.h"
#include "bus-pace.h"
#include "bus-polkit.h"
#include "failpoint.h"
#include "log.h"
#include "macro.h"

#define CALLERS_REMEMBERED 256
#define UID_UNKNOWN ((uid_t) -1)
#define MANAGER_INTERFACE_NAME "org.hostagent1.Manager"

typedef struct Caller {
        char *name;          /* unique bus name, ":1.42" */
        uid_t uid;           /* UID_UNKNOWN: the bus could not say */
        pid_t pid;           /* 0: unknown */
        char *unit;          /* its systemd unit, NULL when it has none */
        /* Not 0: the bus failed to answer (a timeout under a flood, say), not
         * because the caller left. Only its calls held for that answer, up to
         * this cookie, are dispatched without an identity; its next call
         * asks again, so a passing failure does not lock the caller out. */
        uint64_t retry_after_cookie;
} Caller;

/* Calls of one caller, held while the bus is asked who it is (none when
 * only the budgets asked). */
typedef struct Lookup {
        char *name;
        sd_bus_slot *slot;
        sd_bus_message **held;
        size_t n_held;
        struct Lookup *next;
} Lookup;

static struct {
        sd_bus *bus;
        sd_bus *ask;         /* where the bus daemon is asked (auth.bus when it cannot be opened) */
        sd_bus_slot *filter;
        sd_bus_slot *name_owner_changed;
        Caller callers[CALLERS_REMEMBERED];
        size_t next_slot;
        Lookup *lookups;
} auth;

/* Newest first: a caller making many calls was remembered lately. */
static Caller *caller_find(const char *name) {
        for (size_t k = 1; k <= CALLERS_REMEMBERED; k++) {
                Caller *c = &auth.callers[(auth.next_slot + CALLERS_REMEMBERED - k) % CALLERS_REMEMBERED];
                if (!c->name)
                        return NULL;   /* the ring has not wrapped yet: nothing older */
                if (streq(c->name, name))
                        return c;
        }
        return NULL;
}

static void caller_remember(const char *name, uid_t uid, pid_t pid, uint64_t retry_after_cookie) {
        Caller *c = &auth.callers[auth.next_slot];
        char *copy = strdup(name), *unit = NULL;

        if (!copy)
                return;   /* the held calls are then denied: identity unknown */
        /* A small file read (/proc/PID/cgroup), for the audit entries. */
        if (pid > 0 && sd_pid_get_unit(pid, &unit) < 0)
                unit = NULL;
        free(c->name);
        free(c->unit);
        *c = (Caller) { .name = copy, .uid = uid, .pid = pid, .unit = unit, .retry_after_cookie = retry_after_cookie };
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

/* The held calls go: answered already, put back in the read queue, or left
 * unanswered at shutdown. */
static void lookup_free(Lookup *l) {
        for (size_t i = 0; i < l->n_held; i++) {
                bus_budget_unhold(l->name);
                sd_bus_message_unref(l->held[i]);
        }
        free(l->held);
        sd_bus_slot_unref(l->slot);
        free(l->name);
        free(l);
}

/* A call that may not be held: the caller holds too many already. */
static int reply_busy(sd_bus_message *m) {
        const Caller *c = caller_find(sd_bus_message_get_sender(m));
        char text[96];

        (void) snprintf(text, sizeof text, "Too many calls of this caller are waiting (limit %d); retry later",
                        BUS_BUDGET_HELD_PER_CONNECTION);
        /* paced (bus-pace.h): answered at once, it would bring the next call at once */
        bus_pace_reply_busy(m, c ? c->uid : UID_UNKNOWN, text);
        return 1;
}

/* Held for identity: 1, or 0 to dispatch M now (no memory: it is then
 * refused for want of an identity), or answered Busy (1). */
static int lookup_hold_or_refuse(Lookup *l, sd_bus_message *m) {
        int r = bus_budget_hold_call(l->name, &l->held, &l->n_held, m);

        if (r == -EBUSY)
                return reply_busy(m);
        return r < 0 ? 0 : 1;
}

/* GetConnectionCredentials' a{sv}: UnixUserID and ProcessID. */
static int read_credentials(sd_bus_message *reply, uid_t *ret_uid, pid_t *ret_pid) {
        const char *key;
        uint32_t value;
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                r = sd_bus_message_read(reply, "s", &key);
                if (r >= 0 && (streq(key, "UnixUserID") || streq(key, "ProcessID"))) {
                        r = sd_bus_message_read(reply, "v", "u", &value);
                        if (r >= 0 && streq(key, "UnixUserID"))
                                *ret_uid = value;
                        else if (r >= 0)
                                *ret_pid = (pid_t) value;
                } else if (r >= 0)
                        r = sd_bus_message_skip(reply, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        return r < 0 ? r : sd_bus_message_exit_container(reply);
}

/* A test build may make the first N answers fail (HOSTAGENT_AUTH_FAILPOINT=
 * "lookup-fail:N"), as a bus daemon that times out under a flood does. */
static bool lookup_failpoint_fires(void) {
        static unsigned fired;
        const char *fp = failpoint_get("HOSTAGENT_AUTH_FAILPOINT");

        if (!fp || strncmp(fp, "lookup-fail:", strlen("lookup-fail:")) != 0)
                return false;
        if (fired >= strtoul(fp + strlen("lookup-fail:"), NULL, 10))
                return false;
        fired++;
        return true;
}

/* The newest cookie of the calls held for L's answer. */
static uint64_t lookup_last_cookie(const Lookup *l) {
        uint64_t last = 0, cookie;

        for (size_t i = 0; i < l->n_held; i++)
                if (sd_bus_message_get_cookie(l->held[i], &cookie) >= 0 && cookie > last)
                        last = cookie;
        return last;
}

/* The answer is remembered, and so is "the caller left" (its name never
 * comes back); a failure of the bus is remembered only for the calls held
 * meanwhile (or not at all when none are). */
static void lookup_settle(Lookup *l, sd_bus_message *reply) {
        uid_t uid = UID_UNKNOWN;
        pid_t pid = 0;
        uint64_t last;

        if (!sd_bus_message_is_method_error(reply, NULL) && !lookup_failpoint_fires() &&
            read_credentials(reply, &uid, &pid) >= 0) {
                caller_remember(l->name, uid, pid, 0);
                return;
        }
        if (sd_bus_message_is_method_error(reply, "org.freedesktop.DBus.Error.NameHasNoOwner")) {
                caller_remember(l->name, UID_UNKNOWN, 0, 0);
                return;
        }
        log_warning("Cannot learn who %s is now (%s); asked again at its next call", l->name,
                    sd_bus_message_is_method_error(reply, NULL) ? sd_bus_message_get_error(reply)->name :
                                                                  "no usable answer");
        last = lookup_last_cookie(l);
        if (last > 0)
                caller_remember(l->name, UID_UNKNOWN, 0, last);
}

static int on_credentials(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Lookup *l = userdata;
        const Caller *c;

        lookup_settle(l, reply);
        c = caller_find(l->name);
        lookup_unlink(l);
        bus_budget_identified(l->name, c ? c->uid : UID_UNKNOWN);   /* its calls waiting for a worker slot start */
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

/* Asks the bus who SENDER is; on_credentials() remembers the answer. */
static int lookup_start(const char *sender, Lookup **ret) {
        Lookup *l = calloc(1, sizeof *l);
        int r;

        if (!l || !(l->name = strdup(sender))) {
                free(l);
                return -ENOMEM;
        }
        r = sd_bus_call_method_async(auth.ask, &l->slot, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                     "org.freedesktop.DBus", "GetConnectionCredentials", on_credentials, l,
                                     "s", sender);
        if (r < 0) {
                log_warning_errno(r, "Cannot ask the bus who %s is: %m", sender);
                lookup_free(l);
                return r;
        }
        l->next = auth.lookups;
        auth.lookups = l;
        *ret = l;
        return 0;
}

static int identity_lookup(sd_bus_message *m, const char *sender) {
        Lookup *l;

        if (lookup_start(sender, &l) < 0)
                return 0;   /* dispatched now, and denied for want of an identity */
        /* held: on_credentials() puts it back (the answer is still asked for
         * when M cannot be held: the budgets want it too) */
        return lookup_hold_or_refuse(l, m);
}

int bus_auth_identify(const char *name, uid_t *ret_uid) {
        const Caller *c = caller_find(name);
        Lookup *l;
        int r;

        if (c) {
                *ret_uid = c->uid;
                return 1;
        }
        if (lookup_find(name))
                return 0;
        if (!auth.bus)
                return -ENOTCONN;
        r = lookup_start(name, &l);
        return r < 0 ? r : 0;
}

static int authorize(sd_bus_message *m, const char *action, const char *const *details, bool may_hold,
                     bool audit_allowed, sd_bus_error *error);

/* A host setting is a Properties.Set on the Manager. Its setter cannot be
 * held, so polkit is asked here, before dispatch; the setter then finds the
 * answer (bus_authorize_property()). 1: held or answered here. */
static int host_setting_check(sd_bus_message *m) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *interface, *property;
        int r;

        if (!sd_bus_message_is_method_call(m, "org.freedesktop.DBus.Properties", "Set"))
                return 0;
        r = sd_bus_message_read(m, "ss", &interface, &property);
        (void) sd_bus_message_rewind(m, true);
        if (r < 0 || !streq(interface, MANAGER_INTERFACE_NAME))
                return 0;
        r = authorize(m, BUS_ACTION_HOST_CONFIGURE, BUS_DETAILS("property", property), true, false, &error);
        if (r > 0)
                return 0;   /* dispatched now: the setter finds the answer */
        if (r < 0)
                (void) sd_bus_reply_method_error(m, &error);
        return 1;
}

/* Whether SENDER's identity is known for M: a failure of the bus holds only
 * for the calls that waited for that answer; a later call asks again. */
static bool caller_known(const char *sender, sd_bus_message *m) {
        Caller *c = caller_find(sender);
        uint64_t cookie;

        if (!c)
                return false;
        if (c->retry_after_cookie == 0 || sd_bus_message_get_cookie(m, &cookie) < 0 ||
            cookie <= c->retry_after_cookie)
                return true;
        c->name[0] = '\0';   /* forgotten: no unique name is empty */
        return false;
}

static int identity_filter(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        const char *sender = sd_bus_message_get_sender(m);
        Lookup *l;

        if (!sd_bus_message_is_method_call(m, NULL, NULL) || !sender || sender[0] != ':')
                return 0;
        l = lookup_find(sender);
        /* Behind an earlier call of the same caller, to keep its order; a
         * call that never needs the answer passes a question nothing waits
         * for (the listings' rate asks it: bus-fair.c). */
        if (l && (l->n_held > 0 || may_need_identity(m)))
                return lookup_hold_or_refuse(l, m);
        if (polkit_hold_behind(m))   /* behind its call that polkit is asked about */
                return 1;
        if (!may_need_identity(m))
                return 0;
        if (!caller_known(sender, m))
                return identity_lookup(m, sender);
        return host_setting_check(m);
}

/* The caller left: polkit's answers about it go (its identity stays in the
 * ring until pushed out; its name never comes back). */
static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        const char *name, *old_owner, *new_owner;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0)
                return 0;
        if (name[0] == ':' && !*new_owner) {
                polkit_forget_caller(name);
                bus_pace_forget(name);
                bus_fair_forget(name);
        }
        return 0;
}

/* A second connection to the bus BUS is on, in the same loop, served
 * before it: only the bus daemon's answers about callers arrive there. */
static int ask_bus_open(sd_bus *bus, sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *ask = NULL;
        const char *address;
        int r;

        r = sd_bus_get_address(bus, &address);
        if (r >= 0)
                r = sd_bus_new(&ask);
        if (r >= 0)
                r = sd_bus_set_address(ask, address);
        if (r >= 0)
                r = sd_bus_set_bus_client(ask, true);
        if (r >= 0)
                r = sd_bus_set_description(ask, "hostagentd-identities");
        if (r >= 0)
                r = sd_bus_start(ask);
        if (r >= 0)
                r = sd_bus_attach_event(ask, sd_bus_get_event(bus), SD_EVENT_PRIORITY_NORMAL - 1);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(ask);
        return 0;
}

int bus_auth_install(sd_bus *bus) {
        int r;

        auth.bus = bus;
        r = ask_bus_open(bus, &auth.ask);
        if (r < 0) {
                log_warning_errno(r, "Cannot open a second bus connection for the callers' identities, "
                                  "asked on the agent's own (behind the calls queued to it): %m");
                auth.ask = sd_bus_ref(bus);
        }
        r = sd_bus_add_match_async(bus, &auth.name_owner_changed,
                                   "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                                   "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg2=''",
                                   on_name_owner_changed, NULL, NULL);
        if (r < 0)
                return r;
        return sd_bus_add_filter(bus, &auth.filter, identity_filter, NULL);
}

void bus_auth_done(void) {
        while (auth.lookups) {
                Lookup *l = auth.lookups;
                auth.lookups = l->next;
                lookup_free(l);
        }
        for (size_t i = 0; i < CALLERS_REMEMBERED; i++) {
                free(auth.callers[i].name);
                free(auth.callers[i].unit);
        }
        bus_pace_done();
        bus_fair_done();
        polkit_done();
        bus_audit_done();
        auth.filter = sd_bus_slot_unref(auth.filter);
        auth.name_owner_changed = sd_bus_slot_unref(auth.name_owner_changed);
        if (auth.ask != auth.bus)
                auth.ask = sd_bus_flush_close_unref(auth.ask);
        else
                auth.ask = sd_bus_unref(auth.ask);
        auth = (typeof(auth)) {};
        bus_log_denied_done();
}

/* The one place a refusal is decided and logged: its audit entry is its
 * denial line, written for the first refusal of the caller's uid in an
 * interval; the others are counted and told in one entry when it ends. */
static int refuse(sd_bus_message *m, const Caller *c, const char *action, const char *const *details,
                  sd_bus_error *error) {
        AuditCaller who = { .uid = c ? c->uid : UID_UNKNOWN, .pid = c ? c->pid : 0, .unit = c ? c->unit : NULL };

        if (bus_log_denied(who.uid, action))
                bus_audit_refused(m, &who, action, details,
                                  sd_bus_error_has_name(error, SD_BUS_ERROR_ACCESS_DENIED) ? "denied" : error->name);
        return -EACCES;
}

static int refusal_set(sd_bus_error *error, int r, PolkitVerdict verdict, const sd_bus_error *polkit_error,
                       const char *action, uid_t uid) {
        if (r == -EBUSY || r == -EAGAIN)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_BUSY,
                                         r == -EBUSY ? "Too many calls are waiting for authorization (%s); retry"
                                                     : "The authorization for %s is not known yet; retry",
                                         action);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Permission denied: %s: cannot ask polkit: %s", action, strerror(-r));
        switch (verdict) {
        case POLKIT_CHALLENGE:
                return sd_bus_error_setf(error, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                                         "Authentication is required for %s: call with interactive "
                                         "authorization allowed", action);
        case POLKIT_ABSENT:
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Permission denied: %s: polkit is not running, only root may (caller uid %u)",
                                         action, (unsigned) uid);
        case POLKIT_FAILED:
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Permission denied: %s: polkit failed (%s)", action,
                                         strempty(polkit_error->name));
        default:
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Permission denied: %s is not allowed to uid %u", action, (unsigned) uid);
        }
}

static int authorize(sd_bus_message *m, const char *action, const char *const *details, bool may_hold,
                     bool audit_allowed, sd_bus_error *error) {
        _cleanup_(sd_bus_error_free) sd_bus_error polkit_error = SD_BUS_ERROR_NULL;
        const char *sender = sd_bus_message_get_sender(m);
        const Caller *c = sender ? caller_find(sender) : NULL;
        PolkitVerdict verdict = POLKIT_DENIED;
        int r;

        if (!c || c->uid == UID_UNKNOWN) {
                (void) sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Permission denied: %s: the caller's identity is unknown%s", action,
                                         c && c->retry_after_cookie ? " (the bus could not say now; retry)" : "");
                return refuse(m, c, action, details, error);
        }
        if (c->uid != 0) {
                r = polkit_check(m, action, details, sd_bus_message_get_allow_interactive_authorization(m) > 0,
                                 may_hold, &verdict, &polkit_error);
                if (r == 0)
                        return 0;   /* held: dispatched again once polkit answers */
                if (r < 0 || verdict != POLKIT_ALLOWED) {
                        (void) refusal_set(error, r, verdict, &polkit_error, action, c->uid);
                        return refuse(m, c, action, details, error);
                }
        }
        if (audit_allowed)
                bus_audit_allowed(m, &(AuditCaller) { .uid = c->uid, .pid = c->pid, .unit = c->unit }, action,
                                  details);
        return 1;
}

int bus_authorize(sd_bus_message *m, const char *action, const char *const *details, sd_bus_error *error) {
        return authorize(m, action, details, true, true, error);
}

int bus_authorize_property(sd_bus_message *m, const char *action, const char *const *details,
                           sd_bus_error *error) {
        return authorize(m, action, details, false, true, error);
}

void bus_auth_scope_end(BusAuthScope *s) {
        bus_audit_returned(s->m, 0, s->error);
}
