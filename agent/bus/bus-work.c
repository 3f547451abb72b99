/* Blocking work for a bus call: the one path from a method to a worker and back, and what a
 * refusal answers */
#include "bus-work.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-error.h"
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

/* The call path's half of every completion, before the method's own. */
static void bus_work_done(int result, void *userdata) {
        BusCall *call = userdata;

        call->done(result, userdata);
}

int bus_work_submit(Manager *m, BusCall *call, worker_work_fn work, worker_done_fn done, sd_bus_error *error) {
        int r;

        call->done = done;
        r = worker_pool_submit_with_deadline(m->pool, WORKER_NORMAL, call->timeout_usec, work, bus_work_done,
                                             call->timeout_usec > 0 ? bus_call_expired : NULL, call);
        if (r < 0)
                return bus_work_error_submit(m, r, error);
        return 1;
}

void libvirt_call_init(LibvirtCall *c, Manager *m, sd_bus_message *msg) {
        c->manager = m;
        bus_call_init(&c->call, msg);
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
