/* Fair share: the blocking work each caller has in flight, by connection and by uid, and the
 * budgets no caller may pass */
#pragma once

#include <sys/types.h>
#include <systemd/sd-bus.h>

typedef struct BusCaller BusCaller;

/* Sets the budgets from the pool's cap MAX_IN_FLIGHT: an unprivileged caller
 * (any uid but 0) may have MAX_IN_FLIGHT/8 (at least 1) operations in flight
 * per connection and MAX_IN_FLIGHT/4 (at least 1) per uid, and hold
 * BUS_BUDGET_HELD_PER_CONNECTION calls per connection; root is bounded by the
 * pool alone. BUS is where a connection's uid is asked for; IDENTIFIED runs
 * once the bus has answered for a connection that has calls held. One bus
 * per process. */
int bus_budget_setup(sd_bus *bus, unsigned max_in_flight, void (*identified)(const char *name));
/* Forgets every caller (this is shutdown). */
void bus_budget_done(void);

/* Loop thread: charges one operation of the caller SENDER (a unique name;
 * NULL: the agent's own work, not charged). Returns 0 and what
 * to release in *RET (NULL: nothing charged); -EBUSY with *RET_LIMIT the
 * budget the caller is at (it alone is refused); or -EAGAIN while the bus is
 * asked who the caller is (asked here, at its first charge, unless
 * bus_budget_identified() told already): hold the call (bus_budget_hold())
 * and charge it again once IDENTIFIED has run. A caller the bus cannot
 * identify draws from one budget, the size of a uid's, shared by all such. */
int bus_budget_charge(const char *sender, BusCaller **ret, unsigned *ret_limit);
/* The operation has ended. */
void bus_budget_release(BusCaller *c);

/* For the filter that learns who callers are and holds their calls meanwhile (bus-auth.c): */
#define BUS_BUDGET_HELD_PER_CONNECTION 32
/* The connection NAME is UID: its work draws from its uid's budget from now on. */
void bus_budget_identified(const char *name, uid_t uid);
/* One more call of NAME is held (waiting for authorization): 0, or -EBUSY
 * when NAME holds BUS_BUDGET_HELD_PER_CONNECTION already; the filter then
 * answers Busy instead of holding it. */
int bus_budget_hold(const char *name);
void bus_budget_unhold(const char *name);
