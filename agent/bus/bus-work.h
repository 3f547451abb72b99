/* Blocking work for a bus call: the one path from a method to a worker and back (submit with a
 * deadline, answer on the loop), and what a refusal answers */
#pragma once

#include <libvirt/libvirt.h>
#include <systemd/sd-bus.h>

#include "bus-call.h"
#include "manager.h"
#include "worker-pool.h"

/* The one way a method runs blocking work. CALL is the first member of the
 * method's state, which WORK (on a worker thread) and DONE (later, on the
 * loop, with WORK's result or -ECANCELED when the agent stopped first) are
 * given; DONE answers CALL and frees the state. A deadline armed with
 * bus_call_set_deadline() answers CALL when WORK takes longer. The work is
 * charged to the caller's budget (bus-budget.h) until it ends, and a read
 * (CALL->read) does not take the pool's share kept for changes. A call whose
 * caller the bus has not identified yet waits for that (without blocking
 * anything), and when it is refused then, it is answered so and DONE runs
 * with -ECANCELED. Returns 1, or a negative errno with ERROR set (Busy past
 * the caller's budget or the pool's cap, ShuttingDown): the caller then
 * frees its state. */
int bus_work_submit(Manager *m, BusCall *call, worker_work_fn work, worker_done_fn done, sd_bus_error *error);

/* The callers' budgets, from the pool's cap (bus-budget.h). */
int bus_work_setup(Manager *m);
/* Shutdown: the calls still held while the bus is asked who their callers
 * are are answered ShuttingDown (their DONE runs with -ECANCELED). */
void bus_work_stop(void);

/* What every method that calls libvirt keeps, as the first member of its
 * own state: the call, and the worker's libvirt reference and error text. */
typedef struct LibvirtCall {
        BusCall call;          /* first: a deadline answers through it */
        Manager *manager;
        virConnectPtr conn;    /* the worker's own reference, taken at submit */
        char *error;           /* libvirt's text, when the work failed */
} LibvirtCall;

/* Starts C for the method call MSG: a change, or, with the _read variant, a
 * read (which may not take the share of the pool kept for changes). */
void libvirt_call_init(LibvirtCall *c, Manager *m, sd_bus_message *msg);
void libvirt_call_init_read(LibvirtCall *c, Manager *m, sd_bus_message *msg);
/* Releases what C holds (C itself is the caller's). */
void libvirt_call_done(LibvirtCall *c);

/* Takes a libvirt connection reference for the worker and submits WORK for
 * C (its USERDATA: the state C is first in) through bus_work_submit() with
 * the configured call timeout: past it, the call is answered
 * LibvirtUnavailable (the work goes on and DONE still runs, but answers
 * nobody). Returns 1, or a negative errno with ERROR set (LibvirtUnavailable,
 * Busy, ShuttingDown); the caller then frees its state. */
int libvirt_call_submit(LibvirtCall *c, worker_work_fn work, worker_done_fn done, sd_bus_error *error);

/* What every call that needs libvirt answers while it is down. */
int bus_work_error_libvirt_unavailable(Manager *m, sd_bus_error *error);

/* Turns worker_pool_submit()'s refusal of a change into the error a caller can act on. */
int bus_work_error_submit(Manager *m, int r, sd_bus_error *error);
