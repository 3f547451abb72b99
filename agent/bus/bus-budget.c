/* Fair share: the blocking work each caller has in flight, by connection and by uid.
 *
 * The pool's cap bounds the work of everyone together; these budgets bound
 * each caller's part of it, so that a caller over its budget is refused Busy
 * alone. A connection's uid is the one the authorization filter learned from
 * the bus daemon (bus_auth_identify(): asked once per connection,
 * asynchronously), kept here while the connection has work in flight or held;
 * unique names are never reused on a bus, so an answer never goes stale. */
#include "bus-budget.h"

#include <errno.h>
#include <stdlib.h>

#include "macro.h"

#define UID_UNKNOWN ((uid_t) -1)

struct BusCaller {
        char *name;              /* unique bus name, ":1.42" */
        uid_t uid;               /* UID_UNKNOWN until the bus said */
        unsigned in_flight;
        unsigned unidentified;   /* of IN_FLIGHT, charged to the unidentified share */
        bool unknowable;         /* the bus could not say (the caller left) */
        unsigned held;           /* calls held: for identity, polkit or a slot */
        BusCaller *next;
};

/* What one unprivileged uid has in flight, over all its connections. */
typedef struct UidShare {
        uid_t uid;
        unsigned in_flight;
        struct UidShare *next;
} UidShare;

static struct {
        BusBudgetIdentify identify;
        void (*identified)(const char *name);
        unsigned connection_max, uid_max;
        BusCaller *callers;      /* those with work in flight or held */
        UidShare *uids;
        unsigned unidentified;   /* in flight for connections not identified yet */
} budget;

int bus_budget_setup(unsigned max_in_flight, BusBudgetIdentify identify, void (*identified)(const char *name)) {
        budget.identify = identify;
        budget.identified = identified;
        budget.connection_max = max_in_flight / 8 ?: 1;
        budget.uid_max = max_in_flight / 4 ?: 1;
        return 0;
}

static UidShare *uid_share(uid_t uid, bool create) {
        UidShare *s;

        for (s = budget.uids; s; s = s->next)
                if (s->uid == uid)
                        return s;
        if (!create || !(s = calloc(1, sizeof *s)))
                return NULL;
        s->uid = uid;
        s->next = budget.uids;
        budget.uids = s;
        return s;
}

static void uid_share_drop(UidShare *s) {
        for (UidShare **p = &budget.uids; *p; p = &(*p)->next)
                if (*p == s) {
                        *p = s->next;
                        free(s);
                        return;
                }
}

/* What C's uid (or the unidentified) has in flight; NULL for root, who has no share. */
static unsigned *share_of(BusCaller *c, bool create) {
        UidShare *s;

        if (c->uid == UID_UNKNOWN)
                return &budget.unidentified;
        if (c->uid == 0)
                return NULL;
        s = uid_share(c->uid, create);
        return s ? &s->in_flight : NULL;
}

/* Work charged to a caller the bus could not identify stays in the
 * unidentified share until it ends, even when the caller is identified
 * later: moving it could take its uid past its budget. */
static void share_charge(BusCaller *c) {
        unsigned *share = share_of(c, true);

        if (c->uid == UID_UNKNOWN)
                c->unidentified++;
        if (share)
                (*share)++;
}

static void share_release(BusCaller *c) {
        UidShare *s;

        if (c->unidentified > 0) {
                c->unidentified--;
                budget.unidentified--;
                return;
        }
        if (c->uid == 0 || !(s = uid_share(c->uid, false)))
                return;
        if (--s->in_flight == 0)
                uid_share_drop(s);
}

static BusCaller *caller_find(const char *name) {
        for (BusCaller *c = budget.callers; c; c = c->next)
                if (streq(c->name, name))
                        return c;
        return NULL;
}

static BusCaller *caller_get(const char *name) {
        BusCaller *c = caller_find(name);

        if (c)
                return c;
        c = calloc(1, sizeof *c);
        if (!c || !(c->name = strdup(name))) {
                free(c);
                return NULL;
        }
        c->uid = UID_UNKNOWN;   /* asked at its first charge */
        c->next = budget.callers;
        budget.callers = c;
        return c;
}

static void caller_free_if_idle(BusCaller *c) {
        if (c->in_flight > 0 || c->held > 0)
                return;
        for (BusCaller **p = &budget.callers; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        break;
                }
        free(c->name);
        free(c);
}

/* C's calls held meanwhile are started again (the callback releases them,
 * and with the last C may go: C is not touched after it). */
static void caller_identified(BusCaller *c) {
        _cleanup_(freep) char *name = NULL;

        if (c->held == 0 || !budget.identified || !(name = strdup(c->name))) {
                caller_free_if_idle(c);
                return;
        }
        budget.identified(name);
}

/* Learns C's uid: 0, or -EAGAIN while the bus is asked. A caller that
 * cannot be identified now draws from the unidentified share. */
static int caller_identify(BusCaller *c) {
        uid_t uid = UID_UNKNOWN;
        int r;

        if (c->uid != UID_UNKNOWN || c->unknowable)
                return 0;
        r = budget.identify ? budget.identify(c->name, &uid) : 1;
        if (r == 0)
                return -EAGAIN;
        if (r > 0 && uid != UID_UNKNOWN)
                c->uid = uid;
        else if (r > 0)
                c->unknowable = true;   /* the bus could not say (the caller left) */
        /* r < 0: this call goes to the unidentified share; asked again at the next */
        return 0;
}

/* The budget C is at, or 0 when it may have one more operation in flight. */
static unsigned caller_at_limit(BusCaller *c) {
        unsigned *share;

        if (c->uid == 0)
                return 0;
        if (c->in_flight >= budget.connection_max)
                return budget.connection_max;
        share = share_of(c, false);
        if (share && *share >= budget.uid_max)
                return budget.uid_max;
        return 0;
}

int bus_budget_charge(const char *sender, BusCaller **ret, unsigned *ret_limit) {
        BusCaller *c;
        unsigned limit;

        *ret = NULL;
        if (!sender || budget.connection_max == 0)   /* the agent's own, or a direct connection */
                return 0;
        c = caller_get(sender);
        if (!c)
                return -ENOMEM;
        if (caller_identify(c) == -EAGAIN) {
                caller_free_if_idle(c);   /* kept by the hold that follows */
                return -EAGAIN;
        }
        limit = caller_at_limit(c);
        if (limit > 0) {
                caller_free_if_idle(c);
                *ret_limit = limit;
                return -EBUSY;
        }
        c->in_flight++;
        share_charge(c);
        *ret = c;
        return 0;
}

void bus_budget_release(BusCaller *c) {
        if (!c)
                return;
        c->in_flight--;
        share_release(c);
        caller_free_if_idle(c);
}

void bus_budget_identified(const char *name, uid_t uid) {
        BusCaller *c = caller_find(name);

        /* Not here: it has nothing in flight or held, and its next charge asks. */
        if (!c || c->uid != UID_UNKNOWN || c->unknowable)
                return;
        if (uid != UID_UNKNOWN)
                c->uid = uid;
        else
                c->unknowable = true;
        caller_identified(c);
}

int bus_budget_hold(const char *name) {
        BusCaller *c = caller_get(name);

        if (!c)
                return -ENOMEM;
        if (c->held >= BUS_BUDGET_HELD_PER_CONNECTION)
                return -EBUSY;
        c->held++;
        return 0;
}

int bus_budget_hold_call(const char *name, sd_bus_message ***held, size_t *n_held, sd_bus_message *m) {
        sd_bus_message **grown = realloc(*held, (*n_held + 1) * sizeof *grown);
        int r;

        if (!grown)
                return -ENOMEM;
        *held = grown;
        r = bus_budget_hold(name);
        if (r < 0)
                return r;
        grown[(*n_held)++] = sd_bus_message_ref(m);
        return 0;
}

void bus_budget_unhold(const char *name) {
        BusCaller *c = caller_find(name);

        if (!c || c->held == 0)
                return;
        c->held--;
        caller_free_if_idle(c);
}

void bus_budget_done(void) {
        while (budget.callers) {
                BusCaller *c = budget.callers;

                budget.callers = c->next;
                free(c->name);
                free(c);
        }
        while (budget.uids) {
                UidShare *s = budget.uids;

                budget.uids = s->next;
                free(s);
        }
        budget = (typeof(budget)) {};
}
