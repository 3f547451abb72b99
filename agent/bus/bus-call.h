/* A method call answered later, from the loop, exactly once */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "worker-pool.h"

/* Embedded as the FIRST member of a call's state, so that the call path
 * (bus_work_submit()) and a deadline handler given that state can answer
 * the call without knowing its type. */
typedef struct BusCall {
        sd_bus_message *request;
        bool answered;         /* a deadline may answer before the work ends */
        bool read;             /* a read: it may not take the share of the pool kept for changes */
        uint64_t timeout_usec; /* the deadline, from submission (0: none) */
        char *expiry_name;     /* the error a deadline answers with */
        char *expiry_message;
        /* the call path's */
        struct Manager *manager;
        worker_work_fn work;
        worker_done_fn done;          /* the method's own completion, run by the call path's */
        struct BusCaller *caller;     /* whose budget the work in flight is charged to */
        struct BusCall *next_waiting; /* held while the bus is asked who the caller is */
} BusCall;

void bus_call_init(BusCall *c, sd_bus_message *request);
void bus_call_done(BusCall *c);

/* Arms C's deadline: once TIMEOUT_USEC have passed since its work was
 * submitted, C is answered NAME with the formatted message (the work goes
 * on; its completion then answers nobody). Returns 0 or -ENOMEM. */
int bus_call_set_deadline(BusCall *c, uint64_t timeout_usec, const char *name, const char *format, ...)
        __attribute__((format(printf, 4, 5)));

/* Each answers unless the call was answered already; 0 then. */
int bus_call_reply(BusCall *c, sd_bus_message *reply);
int bus_call_reply_error(BusCall *c, const sd_bus_error *error);
int bus_call_reply_empty(BusCall *c);
int bus_call_reply_path(BusCall *c, const char *path);

/* A worker_expired_fn for state that starts with a BusCall: answers it with
 * the expiry error set by whoever armed the deadline. */
void bus_call_expired(void *state);
