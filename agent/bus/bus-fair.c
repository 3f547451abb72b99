/* Expensive replies take turns: written while the agent's way to the bus is short (bus-fair.h) */
#include "bus-fair.h"

#include <linux/sockios.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <systemd/sd-event.h>

#include "log.h"
#include "macro.h"

/* How often a waiting reply looks whether the bus has read enough: the
 * kernel says nothing when the bus daemon reads our socket, and sd-bus's
 * send buffer is too large for its writability to mean a short queue. */
#define FAIR_POLL_USEC 1000ULL

typedef struct Waiting {
        sd_bus_message *call;
        BusFairAnswer answer;
        void *userdata;
        struct Waiting *next;
} Waiting;

/* One caller with replies waiting, in the ring of turns. */
typedef struct Turn {
        char *name;
        Waiting *head, *tail;
        struct Turn *next;
} Turn;

static struct {
        size_t backlog;
        Turn *first, *last;     /* the next turn is FIRST's */
        size_t n_waiting;
        sd_event_source *poll;
} fair = { .backlog = BUS_FAIR_DEFAULT_BACKLOG };

void bus_fair_set_backlog(size_t bytes) {
        fair.backlog = bytes;
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

static int waiting_answer(Waiting *w) {
        int r = w->answer(w->call, w->userdata);

        if (r < 0) {
                log_debug_errno(r, "Cannot answer %s in turn: %m", strempty(sd_bus_message_get_member(w->call)));
                (void) sd_bus_reply_method_errno(w->call, r, NULL);
        }
        sd_bus_message_unref(w->call);
        free(w);
        return r;
}

/* The oldest call of the caller whose turn it is; the caller goes to the
 * end of the ring, or leaves it when that was its last. */
static Waiting *fair_next(void) {
        Turn *t = fair.first;
        Waiting *w = t->head;

        t->head = w->next;
        if (!t->head)
                t->tail = NULL;
        fair.first = t->next;
        if (!fair.first)
                fair.last = NULL;
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

static int fair_poll_arm(sd_bus *bus);

static int on_poll(sd_event_source *s, uint64_t usec, void *userdata) {
        sd_bus *bus = userdata;

        while (fair.first && fair_way_short(bus))
                (void) waiting_answer(fair_next());
        if (fair.first)
                return fair_poll_arm(bus);
        return 0;
}

static int fair_poll_arm(sd_bus *bus) {
        int r;

        if (!fair.poll)
                return sd_event_add_time_relative(sd_bus_get_event(bus), &fair.poll, CLOCK_MONOTONIC, FAIR_POLL_USEC,
                                                  FAIR_POLL_USEC / 10, on_poll, bus);
        r = sd_event_source_set_time_relative(fair.poll, FAIR_POLL_USEC);
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
        r = fair_poll_arm(bus);
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

        if (!fair.first && (!bus || fair_way_short(bus)))
                return answer(call, userdata);
        if (fair_wait(call, answer, userdata) > 0)
                return 1;
        return answer(call, userdata);     /* cannot wait: answered at once, as before */
}

void bus_fair_forget(const char *name) {
        Turn **p = &fair.first, *prev = NULL;

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
        fair.poll = sd_event_source_disable_unref(fair.poll);
}
