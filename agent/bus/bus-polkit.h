/* polkit: CheckAuthorization asked without waiting, answers kept briefly */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

typedef enum PolkitVerdict {
        POLKIT_ALLOWED,
        POLKIT_DENIED,
        POLKIT_CHALLENGE,   /* not allowed now; an authentication could allow it */
        POLKIT_ABSENT,      /* polkitd is not on the bus */
        POLKIT_FAILED,      /* polkit answered with an error: RET_ERROR says which */
} PolkitVerdict;

/* Asks polkit whether the sender of M may do ACTION with DETAILS (pairs of
 * key and value, ended by a NULL key; a NULL value leaves its key out).
 * Returns 1 with RET_VERDICT when polkit has answered for this caller,
 * action and details lately; 0 when M is held instead: once polkit answers,
 * M is put back in the bus's read queue and dispatched again, and the same
 * question then finds the answer. -EBUSY when the caller has too many calls
 * waiting, -EAGAIN instead of holding when !MAY_HOLD, another negative
 * errno when polkit cannot be asked. */
int polkit_check(sd_bus_message *m, const char *action, const char *const *details, bool interactive,
                 bool may_hold, PolkitVerdict *ret_verdict, sd_bus_error *ret_error);

/* Holds M when polkit is still thinking about an earlier call of the same
 * caller: M then runs after it, in the order the caller sent them. Returns
 * true when held (put back with that call), false to dispatch M now. */
bool polkit_hold_behind(sd_bus_message *m);

/* The caller NAME left the bus: its answers and held calls are dropped. */
void polkit_forget_caller(const char *name);
/* Drops every answer and held call (unanswered: this is shutdown). */
void polkit_done(void);
