/* Blocking work for a bus call: the one path from a method to a worker and back, and what a
 * refusal answers */
#include "bus-work.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-auth.h"
#include "bus-budget.h"
#include "bus-error.h"
#include "bus-pace.h"
#include "macro.h"
#include "virt-cleanup.h"

int bus_work_error_libvirt_unavailable(Manager *m, sd_bus_error *error) {
        return sd_bus_error_setf(error, HOSTAGENT_ERROR_LIBVIRT_UNAVAILABLE,
                                 "libvirt at %s is not connected: %s", libvirt_conn_uri(m->libvirt),
                                 libvirt_conn_last_error(m->libvirt) ?: "connecting");
}

int bus_work_error_submit(Manager *m, int r, sd_bus_error *error) {
        if (r == -EBUSY)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_BUSY,
                                         "Too many operations in flight (limit %u); retry later",
                                         worker_pool_max_in_flight(m->pool));
        if (r == -ESHUTDOWN)
                return bus_error_set_shutting_down(error);
        return r;
}

static int bus_work_error_refused(Manager *m, BusCall *call, int r, sd_bus_error *error) {
        if (r == -EBUSY && call->read)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_BUSY,
                                         "Too many operations in flight (limit %u, of which reads may take %u); "
                                         "retry later",
                                         worker_pool_max_in_flight(m->pool), worker_pool_max_reads(m->pool));
        return bus_work_error_submit(m, r, error);
}

/* The call path's half of every completion, before the method's own. */
static void bus_work_done(int result, void *userdata) {
        BusCall *call = userdata;

        bus_budget_release(TAKE_PTR(call->caller));
        call->done(result, userdata);
}

/* A call refused Busy for its caller's own share or hold cap, answered at
 * the pace of bus-pace.h (its DONE then runs with -ECANCELED). */
typedef struct PacedRefusal {
        BusCall *call;
        unsigned limit;   /* 0: the hold cap, else the share */
} PacedRefusal;

static void paced_refusal_release(void *userdata, BusPaceEnd end) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        PacedRefusal *p = userdata;

        if (end == BUS_PACE_GONE)
                p->call->answered = true;   /* nobody to answer */
        if (end != BUS_PACE_ANSWER)
                (void) bus_error_set_shutting_down(&error);
        else if (p->limit > 0)
                (void) sd_bus_error_setf(&error, HOSTAGENT_ERROR_BUSY,
                                         "Too many operations in flight for this caller (its share: %u); retry "
                                         "when one ends", p->limit);
        else
                (void) sd_bus_error_setf(&error, HOSTAGENT_ERROR_BUSY,
                                         "Too many calls of this caller are waiting (limit %d); retry later",
                                         BUS_BUDGET_HELD_PER_CONNECTION);
        (void) bus_call_reply_error(p->call, &error);
        p->call->done(-ECANCELED, p->call);
        free(p);
}

/* 1: CALL is answered Busy later (or now, when pacing cannot hold it). */
static int bus_work_refuse_paced(BusCall *call, unsigned limit) {
        const char *sender = sd_bus_message_get_sender(call->request);
        PacedRefusal *p = calloc(1, sizeof *p);
        uid_t uid = (uid_t) -1;

        if (!p)
                return -ENOMEM;
        if (!sender || bus_auth_identify(sender, &uid) <= 0)
                uid = (uid_t) -1;   /* the unidentified are paced together */
        *p = (PacedRefusal) { .call = call, .limit = limit };
        bus_pace_refusal(call->request, uid, paced_refusal_release, p);
        return 1;
}

/* Calls held while the bus is asked who their callers are, in arrival order. */
static struct {
        BusCall *head, *tail;
} waiting;

static int bus_work_wait(BusCall *call, sd_bus_error *error) {
        int r = bus_budget_hold(sd_bus_message_get_sender(call->request));

        if (r == -EBUSY)
                return bus_work_refuse_paced(call, 0);
        if (r < 0)
                return r;
        call->next_waiting = NULL;
        if (waiting.tail)
                waiting.tail->next_waiting = call;
        else
                waiting.head = call;
        waiting.tail = call;
        return 1;
}

/* Charges the caller and submits: 1, or -errno with ERROR set. */
static int bus_work_start(BusCall *call, sd_bus_error *error) {
        Manager *m = call->manager;
        unsigned limit = 0;
        int r;

        r = bus_budget_charge(call->request ? sd_bus_message_get_sender(call->request) : NULL, &call->caller,
                              &limit);
        if (r == -EAGAIN)
                return bus_work_wait(call, error);
        if (r == -EBUSY)
                return bus_work_refuse_paced(call, limit);
        if (r < 0)
                return r;
        r = worker_pool_submit_with_deadline(m->pool, call->read ? WORKER_READ : WORKER_NORMAL, call->timeout_usec,
                                             call->work, bus_work_done,
                                             call->timeout_usec > 0 ? bus_call_expired : NULL, call);
        if (r < 0) {
                bus_budget_release(TAKE_PTR(call->caller));
                return bus_work_error_refused(m, call, r, error);
        }
        return 1;
}

/* A held call that cannot start: answered here, then freed by its method's DONE. */
static void bus_work_refuse(BusCall *call, int r, sd_bus_error *error) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

        if (!sd_bus_error_is_set(error)) {
                (void) sd_bus_error_set_errno(&e, r);
                error = &e;
        }
        (void) bus_call_reply_error(call, error);
        call->done(-ECANCELED, call);
}

/* The bus said who NAME is: its held calls start, in the order they came. */
static void bus_work_identified(const char *name) {
        BusCall *mine = NULL, **tail = &mine;

        for (BusCall **p = &waiting.head; *p;) {
                BusCall *call = *p;

                if (!streq_ptr(sd_bus_message_get_sender(call->request), name)) {
                        p = &call->next_waiting;
                        continue;
                }
                *p = call->next_waiting;
                call->next_waiting = NULL;
                *tail = call;
                tail = &call->next_waiting;
        }
        waiting.tail = NULL;
        for (BusCall *c = waiting.head; c; c = c->next_waiting)
                waiting.tail = c;

        while (mine) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                BusCall *call = mine;
                int r;

                mine = call->next_waiting;
                r = bus_work_start(call, &error);
                bus_budget_unhold(name);
                if (r < 0)
                        bus_work_refuse(call, r, &error);
        }
}

int bus_work_setup(Manager *m) {
        return bus_budget_setup(worker_pool_max_in_flight(m->pool), bus_auth_identify, bus_work_identified);
}

void bus_work_stop(void) {
        bus_pace_done();   /* the paced refusals are answered ShuttingDown */
        while (waiting.head) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                BusCall *call = waiting.head;

                waiting.head = call->next_waiting;
                bus_budget_unhold(sd_bus_message_get_sender(call->request));
                (void) bus_error_set_shutting_down(&error);
                bus_work_refuse(call, -ESHUTDOWN, &error);
        }
        waiting.tail = NULL;
}

int bus_work_submit(Manager *m, BusCall *call, worker_work_fn work, worker_done_fn done, sd_bus_error *error) {
        call->manager = m;
        call->work = work;
        call->done = done;
        return bus_work_start(call, error);
}

void libvirt_call_init(LibvirtCall *c, Manager *m, sd_bus_message *msg) {
        c->manager = m;
        bus_call_init(&c->call, msg);
}

void libvirt_call_init_read(LibvirtCall *c, Manager *m, sd_bus_message *msg) {
        libvirt_call_init(c, m, msg);
        c->call.read = true;
}

void libvirt_call_done(LibvirtCall *c) {
        virConnectClosep(&c->conn);
        c->conn = NULL;
        bus_call_done(&c->call);
        c->error = mfree(c->error);
}

int libvirt_call_submit(LibvirtCall *c, worker_work_fn work, worker_done_fn done, sd_bus_error *error) {
        Manager *m = c->manager;
        unsigned sec = m->options->call_timeout_sec;
        int r;

        /* The worker uses its own reference: the connection may be replaced meanwhile. */
        c->conn = libvirt_conn_ref(m->libvirt);
        if (!c->conn)
                return bus_work_error_libvirt_unavailable(m, error);
        r = bus_call_set_deadline(&c->call, (uint64_t) sec * 1000 * 1000, HOSTAGENT_ERROR_LIBVIRT_UNAVAILABLE,
                                  "libvirt at %s did not answer within %u s; the request may still take "
                                  "effect when it does", libvirt_conn_uri(m->libvirt), sec);
        if (r < 0)
                return r;
        return bus_work_submit(m, &c->call, work, done, error);
}
