/* Blocking work for a bus call: submitted off the loop with a deadline, and what a refusal answers */
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

static int bus_work_submit_libvirt(Manager *m, BusCall *call, virConnectPtr *ret_conn, worker_work_fn work,
                                   worker_done_fn done, void *userdata, sd_bus_error *error) {
        unsigned sec = m->options->call_timeout_sec;
        int r;

        /* The worker uses its own reference: the connection may be replaced meanwhile. */
        *ret_conn = libvirt_conn_ref(m->libvirt);
        if (!*ret_conn)
                return bus_work_error_libvirt_unavailable(m, error);

        call->expiry_name = strdup(HOSTAGENT_ERROR_LIBVIRT_UNAVAILABLE);
        if (!call->expiry_name ||
            asprintf(&call->expiry_message, "libvirt at %s did not answer within %u s; the request may "
                     "still take effect when it does", libvirt_conn_uri(m->libvirt), sec) < 0)
                return -ENOMEM;
        r = worker_pool_submit_with_deadline(m->pool, WORKER_NORMAL, (uint64_t) sec * 1000 * 1000, work, done,
                                             bus_call_expired, userdata);
        if (r < 0)
                return bus_work_error_submit(m, r, error);
        return 1;
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
        return bus_work_submit_libvirt(c->manager, &c->call, &c->conn, work, done, c, error);
}
