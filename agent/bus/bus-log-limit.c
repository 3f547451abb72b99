/* Refusals in the log: one audit entry per caller per interval, with a count of the rest.
 *
 * A small table of the uids refused lately, each with the end of its interval, how many
 * refusals it has had since its entry and the actions they asked for. A uid not in the table
 * (new, or evicted by others) gets an entry at once: the table's size bounds memory, and only
 * many accounts taking turns could get more than an entry per interval each. One timer, armed
 * at the earliest end of an interval that has a count, tells the counts, so the last of a flood
 * is told too. */
#include "bus-log-limit.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "bus-audit.h"
#include "failpoint.h"
#include "log.h"
#include "macro.h"

#define CALLERS_TRACKED 64
#define ACTION_NAME_MAX 64      /* "org.hostagent1.storage.manage" and the like */

typedef struct Denials {
        bool used;
        uid_t uid;
        uint64_t until;         /* CLOCK_MONOTONIC: the end of the interval its last entry opened */
        unsigned counted;       /* refusals since that entry, not written one by one */
        uint64_t last_seen;     /* the least recently refused uid is the one evicted */
        /* The actions the counted refusals asked for, each once (past the cap, not named). */
        char actions[BUS_AUDIT_ACTIONS_MAX][ACTION_NAME_MAX];
        unsigned n_actions;
} Denials;

static struct {
        Denials callers[CALLERS_TRACKED];
        sd_event_source *timer;
} limit;

static uint64_t now_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 * 1000 + (uint64_t) ts.tv_nsec / 1000;
}

/* BUS_LOG_DENIED_INTERVAL_SEC, or what a test asks for (an hour: the counts wait for the stop,
 * so that what the test sees does not depend on how fast the machine is). */
static unsigned interval_sec(void) {
        static unsigned sec;
        const char *e;

        if (sec == 0) {
                e = failpoint_get("HOSTAGENT_DENIED_LOG_INTERVAL_SEC");
                sec = e ? (unsigned) strtoul(e, NULL, 10) : 0;
                if (sec == 0 || sec > 24 * 3600)
                        sec = BUS_LOG_DENIED_INTERVAL_SEC;
        }
        return sec;
}

static void log_counted(Denials *d) {
        const char *actions[BUS_AUDIT_ACTIONS_MAX + 1] = {};

        if (d->counted == 0)
                return;
        for (unsigned i = 0; i < d->n_actions; i++)
                actions[i] = d->actions[i];
        bus_audit_refusals_counted(d->uid, d->counted, actions, interval_sec());
        d->counted = 0;
        d->n_actions = 0;
}

static void action_note(Denials *d, const char *action) {
        for (unsigned i = 0; i < d->n_actions; i++)
                if (strncmp(d->actions[i], action, ACTION_NAME_MAX - 1) == 0)
                        return;
        if (d->n_actions < BUS_AUDIT_ACTIONS_MAX)
                snprintf(d->actions[d->n_actions++], ACTION_NAME_MAX, "%s", action);
}

static Denials *denials_find(uid_t uid) {
        Denials *victim = NULL;

        for (size_t i = 0; i < CALLERS_TRACKED; i++) {
                Denials *d = &limit.callers[i];

                if (d->used && d->uid == uid)
                        return d;
                if (!victim || (victim->used && (!d->used || d->last_seen < victim->last_seen)))
                        victim = d;
        }
        log_counted(victim);    /* evicted: what it counted is told now */
        *victim = (Denials) { .used = true, .uid = uid };
        return victim;
}

static void timer_arm(void);

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        uint64_t now = now_usec();

        for (size_t i = 0; i < CALLERS_TRACKED; i++)
                if (limit.callers[i].used && limit.callers[i].until <= now)
                        log_counted(&limit.callers[i]);
        timer_arm();
        return 0;
}

static void timer_arm(void) {
        uint64_t next = UINT64_MAX;
        int r;

        for (size_t i = 0; i < CALLERS_TRACKED; i++)
                if (limit.callers[i].used && limit.callers[i].counted > 0 && limit.callers[i].until < next)
                        next = limit.callers[i].until;
        if (next == UINT64_MAX) {
                if (limit.timer)
                        (void) sd_event_source_set_enabled(limit.timer, SD_EVENT_OFF);
                return;
        }
        if (limit.timer) {
                r = sd_event_source_set_time(limit.timer, next);
                if (r >= 0)
                        r = sd_event_source_set_enabled(limit.timer, SD_EVENT_ONESHOT);
        } else {
                sd_event *e = NULL;

                r = sd_event_default(&e);
                if (r >= 0)
                        r = sd_event_add_time(e, &limit.timer, CLOCK_MONOTONIC, next, 0, on_timer, NULL);
                sd_event_unref(e);
        }
        if (r < 0)
                log_debug_errno(r, "Cannot arm the timer that tells counted denials: %m");
}

bool bus_log_denied(uid_t uid, const char *action) {
        uint64_t now = now_usec();
        Denials *d = denials_find(uid);

        d->last_seen = now;
        if (now < d->until) {
                action_note(d, action);
                if (d->counted++ == 0)
                        timer_arm();
                return false;
        }
        log_counted(d);         /* its interval is over, the timer not yet run */
        d->until = now + (uint64_t) interval_sec() * 1000 * 1000;
        return true;
}

void bus_log_denied_done(void) {
        for (size_t i = 0; i < CALLERS_TRACKED; i++)
                log_counted(&limit.callers[i]);
        limit.timer = sd_event_source_disable_unref(limit.timer);
        limit = (typeof(limit)) {};
}
