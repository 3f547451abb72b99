/* Expensive replies take turns: written while the agent's way to the bus is short (bus-fair.h) */
#include "bus-fair.h"

#include <linux/sockios.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <systemd/sd-event.h>

#include "log.h"
#include "macro.h"

/* How often a waiting reply looks whether the bus has read enough: the
 * kernel says nothing when the bus daemon reads our socket, and sd-bus's
 * send buffer is too large for its writability to mean a short queue. */
#define FAIR_POLL_USEC 1000ULL
/* A caller in debt looks again at least this often: the bus may have said
 * meanwhile that it is root, never paced. */
#define FAIR_POLL_MAX_USEC (100ULL * 1000)
/* Earnings are counted over at most this long at a time (1000 s). */
#define FAIR_ELAPSED_MAX_USEC (1000ULL * 1000 * 1000)

typedef struct Waiting {
        sd_bus_message *call;
        BusFairAnswer answer;
        void *userdata;
        struct Waiting *next;
} Waiting;

/* One caller's listing bytes, when a rate is set: a bucket of
 * BUS_FAIR_BURST_SEC seconds of the rate, refilled as time goes; a caller
 * whose bucket is below zero waits for its turn until it is not. */
typedef struct Spend {
        char *name;
        int64_t tokens;
        uint64_t stamp;
        struct Spend *next;
} Spend;

/* One caller with replies waiting, in the ring of turns. */
typedef struct Turn {
        char *name;
        Waiting *head, *tail;
        struct Turn *next;
} Turn;

static struct {
        size_t backlog;
        uint64_t rate;          /* bytes a second per caller; 0: none */
        BusFairIdentify identify;
        Turn *first, *last;     /* the next turn is FIRST's */
        size_t n_waiting;
        Spend *spends;
        sd_event_source *poll;
} fair = { .backlog = BUS_FAIR_DEFAULT_BACKLOG, .rate = BUS_FAIR_DEFAULT_RATE };

void bus_fair_set_backlog(size_t bytes) {
        fair.backlog = bytes;
}

void bus_fair_set_rate(uint64_t bytes_per_sec, BusFairIdentify identify) {
        fair.rate = bytes_per_sec;
        fair.identify = identify;
}

/* Root is never paced; a caller is, until the bus said it is root (its
 * burst covers its first listings meanwhile). */
static bool caller_paced(const char *name) {
        uid_t uid;

        if (fair.rate == 0 || !*name)
                return false;   /* no rate, or no bus daemon to ask (a direct connection) */
        return !fair.identify || fair.identify(name, &uid) <= 0 || uid != 0;
}

static uint64_t fair_now(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static Spend *spend_free(Spend *p) {
        if (p)
                free(p->name);
        free(p);
        return NULL;
}

/* What P earned since it was last refilled: whole bytes, its clock moved by
 * the time they took (a low rate asked often still earns). */
static void spend_refill(Spend *p, uint64_t now) {
        uint64_t elapsed = now - p->stamp, add;

        if (elapsed > FAIR_ELAPSED_MAX_USEC) {     /* no overflow below */
                p->stamp = now - FAIR_ELAPSED_MAX_USEC;
                elapsed = FAIR_ELAPSED_MAX_USEC;
        }
        add = elapsed * fair.rate / 1000000;
        p->tokens += (int64_t) add;
        p->stamp += add * 1000000 / fair.rate;
}

/* NAME's bucket, refilled to now; NULL when it is full (nothing to keep). */
static Spend *spend_find(const char *name) {
        int64_t burst = (int64_t) (fair.rate * BUS_FAIR_BURST_SEC);
        uint64_t now = fair_now();

        for (Spend **q = &fair.spends; *q;) {
                Spend *p = *q;

                spend_refill(p, now);
                if (p->tokens >= burst) {       /* full again: forgotten */
                        *q = p->next;
                        spend_free(p);
                        continue;
                }
                if (streq(p->name, name))
                        return p;
                q = &p->next;
        }
        return NULL;
}

/* NAME may have a listing written now. */
static bool spend_allows(const char *name) {
        Spend *p = caller_paced(name) ? spend_find(name) : NULL;

        return !p || p->tokens >= 0;
}

/* How long until NAME may (0: now). */
static uint64_t spend_wait_usec(const char *name) {
        Spend *p = caller_paced(name) ? spend_find(name) : NULL;

        return !p || p->tokens >= 0 ? 0 : (uint64_t) -p->tokens * 1000000 / fair.rate + 1;
}

/* NAME's listing of BYTES was written. */
static void spend_charge(const char *name, int bytes) {
        Spend *p;

        if (bytes <= 0 || !caller_paced(name))
                return;
        p = spend_find(name);
        if (!p) {
                p = calloc(1, sizeof *p);
                if (!p || !(p->name = strdup(name))) {
                        spend_free(p);
                        return;         /* not counted: it goes unpaced, as without a rate */
                }
                *p = (Spend) { .name = p->name, .tokens = (int64_t) (fair.rate * BUS_FAIR_BURST_SEC),
                               .stamp = fair_now(), .next = fair.spends };
                fair.spends = p;
        }
        p->tokens -= bytes;
}

/* Nothing queued in sd-bus, and at most the backlog unread by the bus. */
static bool fair_way_short(sd_bus *bus) {
        uint64_t queued = 0;
        int unread = 0, fd;

        if (sd_bus_get_n_queued_write(bus, &queued) < 0 || queued > 0)
                return false;
        fd = sd_bus_get_fd(bus);
        if (fd < 0 || ioctl(fd, SIOCOUTQ, &unread) < 0)
                return true;    /* not a socket we can ask: as before */
        return (size_t) unread <= fair.backlog;
}

static Turn *turn_free(Turn *t) {
        if (!t)
                return NULL;
        while (t->head) {
                Waiting *w = t->head;

                t->head = w->next;
                sd_bus_message_unref(w->call);
                free(w);
                fair.n_waiting--;
        }
        free(t->name);
        free(t);
        return NULL;
}

static const char *call_sender(sd_bus_message *call) {
        return strempty(sd_bus_message_get_sender(call));
}

static int fair_answer(sd_bus_message *call, BusFairAnswer answer, void *userdata) {
        int r = answer(call, userdata);

        spend_charge(call_sender(call), r);
        return r;
}

static int waiting_answer(Waiting *w) {
        int r = fair_answer(w->call, w->answer, w->userdata);

        if (r < 0) {
                log_debug_errno(r, "Cannot answer %s in turn: %m", strempty(sd_bus_message_get_member(w->call)));
                (void) sd_bus_reply_method_errno(w->call, r, NULL);
        }
        sd_bus_message_unref(w->call);
        free(w);
        return r;
}

/* The oldest call of the first caller in the ring that may have one
 * written (NULL: none may, yet); that caller goes to the end of the ring,
 * or leaves it when that was its last. */
static Waiting *fair_next(void) {
        Turn *t, *prev = NULL;
        Waiting *w;

        for (t = fair.first; t && !spend_allows(t->name); t = t->next)
                prev = t;
        if (!t)
                return NULL;
        w = t->head;
        t->head = w->next;
        if (!t->head)
                t->tail = NULL;
        if (prev)
                prev->next = t->next;
        else
                fair.first = t->next;
        if (fair.last == t)
                fair.last = prev;
        t->next = NULL;
        if (t->head) {
                if (fair.last)
                        fair.last->next = t;
                else
                        fair.first = t;
                fair.last = t;
        } else
                turn_free(t);
        fair.n_waiting--;
        return w;
}

/* Until the first waiting caller may have a listing written again. */
static uint64_t fair_debt_usec(void) {
        uint64_t least = UINT64_MAX;

        for (Turn *t = fair.first; t && least > 0; t = t->next) {
                uint64_t u = spend_wait_usec(t->name);

                if (u < least)
                        least = u;
        }
        return least;
}

static int fair_poll_arm(sd_bus *bus, uint64_t usec);

static int on_poll(sd_event_source *s, uint64_t usec, void *userdata) {
        sd_bus *bus = userdata;
        Waiting *w;

        while (fair.first && fair_way_short(bus) && (w = fair_next()))
                (void) waiting_answer(w);
        if (!fair.first)
                return 0;
        usec = fair_debt_usec();
        return fair_poll_arm(bus, usec < FAIR_POLL_USEC ? FAIR_POLL_USEC :
                                  usec > FAIR_POLL_MAX_USEC ? FAIR_POLL_MAX_USEC : usec);
}

static int fair_poll_arm(sd_bus *bus, uint64_t usec) {
        int r;

        if (!fair.poll)
                return sd_event_add_time_relative(sd_bus_get_event(bus), &fair.poll, CLOCK_MONOTONIC, usec,
                                                  FAIR_POLL_USEC / 10, on_poll, bus);
        if (sd_event_source_get_enabled(fair.poll, NULL) > 0) {
                uint64_t at, now;

                r = sd_event_now(sd_bus_get_event(bus), CLOCK_MONOTONIC, &now);
                if (r >= 0)
                        r = sd_event_source_get_time(fair.poll, &at);
                if (r < 0 || at <= now + usec)
                        return r;       /* armed already, as early as needed */
        }
        r = sd_event_source_set_time_relative(fair.poll, usec);
        return r < 0 ? r : sd_event_source_set_enabled(fair.poll, SD_EVENT_ONESHOT);
}

static Turn *fair_turn(const char *name) {
        Turn *t;

        for (t = fair.first; t; t = t->next)
                if (streq(t->name, name))
                        return t;
        t = calloc(1, sizeof *t);
        if (!t || !(t->name = strdup(name)))
                return turn_free(t);
        if (fair.last)
                fair.last->next = t;
        else
                fair.first = t;
        fair.last = t;
        return t;
}

static int fair_wait(sd_bus_message *call, BusFairAnswer answer, void *userdata) {
        sd_bus *bus = sd_bus_message_get_bus(call);
        Waiting *w;
        Turn *t;
        int r;

        if (!bus || !sd_bus_get_event(bus) || fair.n_waiting >= BUS_FAIR_WAITING_MAX)
                return -EBUSY;
        r = fair_poll_arm(bus, FAIR_POLL_USEC);
        if (r < 0)
                return r;
        w = calloc(1, sizeof *w);
        t = w ? fair_turn(strempty(sd_bus_message_get_sender(call))) : NULL;
        if (!t) {
                free(w);
                return -ENOMEM;
        }
        *w = (Waiting) { .call = sd_bus_message_ref(call), .answer = answer, .userdata = userdata };
        if (t->tail)
                t->tail->next = w;
        else
                t->head = w;
        t->tail = w;
        fair.n_waiting++;
        return 1;
}

int bus_fair_reply(sd_bus_message *call, BusFairAnswer answer, void *userdata) {
        sd_bus *bus = sd_bus_message_get_bus(call);

        if (!fair.first && (!bus || fair_way_short(bus)) && spend_allows(call_sender(call)))
                return fair_answer(call, answer, userdata);
        if (fair_wait(call, answer, userdata) > 0)
                return 1;
        return fair_answer(call, answer, userdata);     /* cannot wait: answered at once, as before */
}

void bus_fair_forget(const char *name) {
        Turn **p = &fair.first, *prev = NULL;

        for (Spend **q = &fair.spends; *q; q = &(*q)->next)
                if (streq((*q)->name, name)) {
                        Spend *gone = *q;
                        *q = gone->next;
                        spend_free(gone);
                        break;
                }

        while (*p && !streq((*p)->name, name)) {
                prev = *p;
                p = &(*p)->next;
        }
        if (!*p)
                return;
        {
                Turn *t = *p;

                *p = t->next;
                if (fair.last == t)
                        fair.last = prev;
                turn_free(t);
        }
}

void bus_fair_done(void) {
        while (fair.first) {
                Turn *t = fair.first;

                fair.first = t->next;
                turn_free(t);
        }
        fair.last = NULL;
        while (fair.spends) {
                Spend *p = fair.spends;

                fair.spends = p->next;
                spend_free(p);
        }
        fair.poll = sd_event_source_disable_unref(fair.poll);
}
