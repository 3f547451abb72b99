/* org.hostagent1.Manager on the bus */
#pragma once

#include <systemd/sd-bus.h>

#include "bus-call.h"
#include "manager.h"

extern const sd_bus_vtable manager_vtable[];

int manager_bus_register(Manager *m);

/* What every call that needs libvirt answers while it is down. */
int manager_error_libvirt_unavailable(Manager *m, sd_bus_error *error);

/* Turns worker_pool_submit()'s refusal into the error a caller can act on. */
int manager_error_submit(Manager *m, int r, sd_bus_error *error);

/* Takes a libvirt connection reference into RET_CONN for the worker and
 * submits blocking work for the bus call CALL with the configured call
 * timeout: past it, CALL is answered LibvirtUnavailable (the work goes on
 * and its DONE still runs, but answers nobody). Returns 1, or a negative
 * errno with ERROR set (LibvirtUnavailable, Busy, ShuttingDown); the caller
 * then frees its state, RET_CONN included. */
int manager_submit_call(Manager *m, BusCall *call, virConnectPtr *ret_conn, worker_work_fn work,
                        worker_done_fn done, void *userdata, sd_bus_error *error);

/* Sends PropertiesChanged for the NULL-terminated property NAMES. */
int manager_emit_changed(Manager *m, const char *name, ...) __attribute__((sentinel));
