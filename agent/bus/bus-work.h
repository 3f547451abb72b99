/* Blocking work for a bus call: submitted off the loop with a deadline, and what a refusal answers */
#pragma once

#include <libvirt/libvirt.h>
#include <systemd/sd-bus.h>

#include "bus-call.h"
#include "manager.h"
#include "worker-pool.h"

/* What every call that needs libvirt answers while it is down. */
int bus_work_error_libvirt_unavailable(Manager *m, sd_bus_error *error);

/* Turns worker_pool_submit()'s refusal into the error a caller can act on. */
int bus_work_error_submit(Manager *m, int r, sd_bus_error *error);

/* Takes a libvirt connection reference into RET_CONN for the worker and
 * submits blocking work for the bus call CALL with the configured call
 * timeout: past it, CALL is answered LibvirtUnavailable (the work goes on
 * and its DONE still runs, but answers nobody). Returns 1, or a negative
 * errno with ERROR set (LibvirtUnavailable, Busy, ShuttingDown); the caller
 * then frees its state, RET_CONN included. */
int bus_work_submit_libvirt(Manager *m, BusCall *call, virConnectPtr *ret_conn, worker_work_fn work,
                            worker_done_fn done, void *userdata, sd_bus_error *error);
