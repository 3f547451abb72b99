/* Expensive replies take turns: written while the agent's way to the bus is short */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

/* A GetManagedObjects of 1000 VMs is a 430 KB reply. Written as soon as
 * asked, the replies of a few callers pulling it back to back pile up
 * between the agent and the bus daemon (sd-bus gives its socket a send
 * buffer of megabytes), and every other reply, a Ping's included, waits
 * behind all of them: the bus relays them in order, at its own speed. So
 * such a reply is written only while the replies still on their way to the
 * bus (sd-bus's write queue and the socket's unread bytes) come to at most a
 * backlog (--reply-backlog); otherwise it waits, and the waiting take
 * turns: one reply per caller in turn, each caller's in the order it asked.
 * Every other reply goes out at once, so it waits behind one such reply at
 * most. A waiting reply is built when its turn comes (it is as fresh as a
 * new call's), never refused and never dropped unless its caller left. */
#define BUS_FAIR_DEFAULT_BACKLOG (64 * 1024)
/* Past this many waiting (the bus bounds a caller's pending calls long
 * before), a reply is written at once. */
#define BUS_FAIR_WAITING_MAX 32768

/* A rate (--listing-rate) paces each unprivileged caller's listings:
 * BUS_FAIR_BURST_SEC seconds of it at once, then at the rate; a caller past
 * it waits its turn until it is back within it (the others take their turns
 * meanwhile). Fewer bytes of listings on their way to the bus leave it more
 * time for everyone's small calls. Root is not paced (as bus-pace.h): its
 * tools may pull a large host's listing back to back. */
#define BUS_FAIR_BURST_SEC 4
#define BUS_FAIR_DEFAULT_RATE (256 * 1024)

/* Builds and sends the reply to CALL: the bytes sent (>= 0), or -errno with
 * nothing sent. */
typedef int (*BusFairAnswer)(sd_bus_message *call, void *userdata);

/* The backlog in bytes (0: a reply waits until the bus has read everything). */
void bus_fair_set_backlog(size_t bytes);
/* Who the caller NAME is, as bus_auth_identify() says: 1 with *RET_UID, 0
 * while the bus is asked, <0 when it cannot be. */
typedef int (*BusFairIdentify)(const char *name, uid_t *ret_uid);
/* Bytes of listings a second each unprivileged caller (connection) may have
 * written (0: no rate), and how to tell root (NULL: everyone is paced). */
void bus_fair_set_rate(uint64_t bytes_per_sec, BusFairIdentify identify);
/* Answers CALL with ANSWER(CALL, USERDATA), now or in turn. Returns ANSWER's
 * result when it ran now; 1 when the call waits (a failure of ANSWER then
 * is answered as the error). */
int bus_fair_reply(sd_bus_message *call, BusFairAnswer answer, void *userdata);
/* The caller NAME left: its calls waiting go, unanswered. */
void bus_fair_forget(const char *name);
/* Drops every call waiting (the agent stops). */
void bus_fair_done(void);
