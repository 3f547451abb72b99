/* A method call answered later, from the loop, exactly once */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

/* Embedded as the FIRST member of a call's state, so a deadline handler
 * given that state can answer the call without knowing its type. */
typedef struct BusCall {
        sd_bus_message *request;
        bool answered;         /* a deadline may answer before the work ends */
        char *expiry_name;     /* the error a deadline answers with */
        char *expiry_message;
} BusCall;

void bus_call_init(BusCall *c, sd_bus_message *request);
void bus_call_done(BusCall *c);

/* Each answers unless the call was answered already; 0 then. */
int bus_call_reply(BusCall *c, sd_bus_message *reply);
int bus_call_reply_error(BusCall *c, const sd_bus_error *error);
int bus_call_reply_empty(BusCall *c);
int bus_call_reply_path(BusCall *c, const char *path);

/* A worker_expired_fn for state that starts with a BusCall: answers it with
 * the expiry error set by whoever armed the deadline. */
void bus_call_expired(void *state);
