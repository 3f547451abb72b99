/* Refusals of a flooding caller, answered at a pace the bus can carry (bus-pace.h). */
#include "bus-pace.h"

#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "bus-error.h"
#include "log.h"
#include "macro.h"

#define PACE_TICK_USEC (1000ULL * 1000 / BUS_PACE_PER_SECOND)

typedef struct Refusal {
        sd_bus_message *m;
        BusPaceRelease release;
        void *userdata;
        struct Refusal *next;
} Refusal;

/* One uid's immediate refusals left, and the ones waiting, oldest first. */
typedef struct PaceUid {
        uid_t uid;
        unsigned tokens, queued;
        Refusal *head, *tail;
        struct PaceUid *next;
} PaceUid;

static struct {
        PaceUid *uids;
        sd_event_source *tick;
} pace;

static void refusal_end(Refusal *r, BusPaceEnd end) {
        r->release(r->userdata, end);
        sd_bus_message_unref(r->m);
        free(r);
}

static PaceUid *pace_uid(uid_t uid) {
        PaceUid *p;

        for (p = pace.uids; p; p = p->next)
                if (p->uid == uid)
                        return p;
        p = calloc(1, sizeof *p);
        if (!p)
                return NULL;
        *p = (PaceUid) { .uid = uid, .tokens = BUS_PACE_BURST, .next = pace.uids };
        pace.uids = p;
        return p;
}

/* Each tick every uid may answer one more refusal (the oldest waiting, or a
 * later one at once); the tick stops once every uid is back to its burst. */
static int on_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        bool again = false;
        int r;

        for (PaceUid *p = pace.uids; p; p = p->next) {
                Refusal *first = p->head;

                if (first) {
                        p->head = first->next;
                        if (!p->head)
                                p->tail = NULL;
                        p->queued--;
                        refusal_end(first, BUS_PACE_ANSWER);
                } else if (p->tokens < BUS_PACE_BURST)
                        p->tokens++;
                again = again || p->head || p->tokens < BUS_PACE_BURST;
        }
        if (!again)
                return 0;   /* a oneshot: off now */
        r = sd_event_source_set_time_relative(s, PACE_TICK_USEC);
        return r < 0 ? r : sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

static void pace_tick_start(sd_bus *bus) {
        int r = 0;

        if (!pace.tick)
                r = sd_event_add_time_relative(sd_bus_get_event(bus), &pace.tick, CLOCK_MONOTONIC, PACE_TICK_USEC,
                                               PACE_TICK_USEC / 10,   /* not sd-event's default 250 ms */
                                               on_tick, NULL);
        else if (sd_event_source_get_enabled(pace.tick, NULL) == 0) {
                r = sd_event_source_set_time_relative(pace.tick, PACE_TICK_USEC);
                if (r >= 0)
                        r = sd_event_source_set_enabled(pace.tick, SD_EVENT_ONESHOT);
        }
        if (r < 0)
                log_warning_errno(r, "Cannot pace refusals: %m");
}

void bus_pace_refusal(sd_bus_message *m, uid_t uid, BusPaceRelease release, void *userdata) {
        sd_bus *bus = sd_bus_message_get_bus(m);
        PaceUid *p = uid == 0 || !bus || !sd_bus_get_event(bus) ? NULL : pace_uid(uid);
        Refusal *r;

        if (!p || p->tokens > 0 || p->queued >= BUS_PACE_QUEUED_PER_UID || !(r = calloc(1, sizeof *r))) {
                if (p && p->tokens > 0)
                        p->tokens--;
                if (p)
                        pace_tick_start(bus);
                release(userdata, BUS_PACE_ANSWER);
                return;
        }
        *r = (Refusal) { .m = sd_bus_message_ref(m), .release = release, .userdata = userdata };
        if (p->tail)
                p->tail->next = r;
        else
                p->head = r;
        p->tail = r;
        p->queued++;
        pace_tick_start(bus);
}

void bus_pace_forget(const char *name) {
        for (PaceUid *p = pace.uids; p; p = p->next) {
                Refusal **q = &p->head;

                p->tail = NULL;
                while (*q) {
                        Refusal *r = *q;

                        if (!streq_ptr(sd_bus_message_get_sender(r->m), name)) {
                                p->tail = r;
                                q = &r->next;
                                continue;
                        }
                        *q = r->next;
                        p->queued--;
                        refusal_end(r, BUS_PACE_GONE);
                }
        }
}

typedef struct BusyReply {
        sd_bus_message *m;
        char *text;
} BusyReply;

static void busy_reply_release(void *userdata, BusPaceEnd end) {
        BusyReply *b = userdata;

        if (end == BUS_PACE_ANSWER)
                (void) sd_bus_reply_method_errorf(b->m, HOSTAGENT_ERROR_BUSY, "%s", b->text);
        sd_bus_message_unref(b->m);
        free(b->text);
        free(b);
}

void bus_pace_reply_busy(sd_bus_message *m, uid_t uid, const char *text) {
        BusyReply *b = calloc(1, sizeof *b);

        if (!b || !(b->text = strdup(text))) {
                free(b);
                (void) sd_bus_reply_method_errorf(m, HOSTAGENT_ERROR_BUSY, "%s", text);
                return;
        }
        b->m = sd_bus_message_ref(m);
        bus_pace_refusal(m, uid, busy_reply_release, b);
}

void bus_pace_done(void) {
        while (pace.uids) {
                PaceUid *p = pace.uids;

                pace.uids = p->next;
                while (p->head) {
                        Refusal *r = p->head;

                        p->head = r->next;
                        refusal_end(r, BUS_PACE_SHUTDOWN);
                }
                free(p);
        }
        pace.tick = sd_event_source_disable_unref(pace.tick);
}
