/* Refusals of a flooding caller, answered at a pace the bus can carry. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

/* A caller refused Busy for its own share or hold cap sends its next call
 * as soon as it has the answer: answered at once, the refusals of a caller
 * keeping thousands of calls pending are a flood of their own, and on their
 * way to the bus daemon (which reads a connection 2 KiB at a time) every
 * other caller's answer waits behind them. So each uid has a small burst of
 * immediate refusals, and past it they are answered BUS_PACE_PER_SECOND a
 * second, oldest first: a flooder's calls stay pending (it can send no more
 * than the bus lets it keep pending) instead of cycling. Root is never
 * paced. At most BUS_PACE_QUEUED_PER_UID refusals wait per uid (the bus's
 * default bound of one uid's pending calls, 256 connections x 128); past
 * it they are answered at once. */
#define BUS_PACE_PER_SECOND 50
#define BUS_PACE_BURST 64
#define BUS_PACE_QUEUED_PER_UID 32768

typedef enum BusPaceEnd {
        BUS_PACE_ANSWER,     /* answer it now */
        BUS_PACE_SHUTDOWN,   /* the agent stops */
        BUS_PACE_GONE,       /* the caller left: nobody to answer */
} BusPaceEnd;

typedef void (*BusPaceRelease)(void *userdata, BusPaceEnd end);

/* The refusal of call M of UID: RELEASE(USERDATA, BUS_PACE_ANSWER) answers
 * it, now or later. */
void bus_pace_refusal(sd_bus_message *m, uid_t uid, BusPaceRelease release, void *userdata);
/* M answered Busy with TEXT, through bus_pace_refusal(). */
void bus_pace_reply_busy(sd_bus_message *m, uid_t uid, const char *text);
/* The caller NAME left: its refusals waiting go (a later caller of its uid
 * does not wait behind them). */
void bus_pace_forget(const char *name);
void bus_pace_done(void);
