/* Fair share: the blocking work each caller has in flight, by connection and by uid, and the
 * budgets no caller may pass */
#pragma once

#include <sys/types.h>
#include <systemd/sd-bus.h>

typedef struct BusCaller BusCaller;

/* Where the budgets learn the uid of the connection NAME (bus_auth_identify():
 * the agent asks the bus one question per connection): 1 with *RET_UID
 * ((uid_t) -1: the bus could not say); 0 while it is asked, and the answer
 * then comes through bus_budget_identified(); <0 when it cannot be asked. */
typedef int (*BusBudgetIdentify)(const char *name, uid_t *ret_uid);

/* Sets the budgets from the pool's cap MAX_IN_FLIGHT: an unprivileged caller
 * (any uid but 0) may have MAX_IN_FLIGHT/8 (at least 1) operations in flight
 * per connection and MAX_IN_FLIGHT/4 (at least 1) per uid, and hold
 * BUS_BUDGET_HELD_PER_CONNECTION calls per connection; root is bounded by the
 * pool alone. IDENTIFY (NULL: nobody is identified) tells a connection's
 * uid; IDENTIFIED runs once its answer came for a connection that has calls
 * held. */
int bus_budget_setup(unsigned max_in_flight, BusBudgetIdentify identify, void (*identified)(const char *name));
/* Forgets every caller (this is shutdown). */
void bus_budget_done(void);

/* Loop thread: charges one operation of the caller SENDER (a unique name;
 * NULL: the agent's own work, not charged). Returns 0 and what
 * to release in *RET (NULL: nothing charged); -EBUSY with *RET_LIMIT the
 * budget the caller is at (it alone is refused); or -EAGAIN while the bus is
 * asked who the caller is (IDENTIFY said so): hold the call
 * (bus_budget_hold()) and charge it again once IDENTIFIED has run. A caller
 * the bus cannot identify draws from one budget, the size of a uid's, shared
 * by all such. */
int bus_budget_charge(const char *sender, BusCaller **ret, unsigned *ret_limit);
/* The operation has ended. */
void bus_budget_release(BusCaller *c);

/* The one cap of calls held in the agent per connection: waiting for the
 * bus to say who the caller is, for polkit, or for a worker slot. */
#define BUS_BUDGET_HELD_PER_CONNECTION 32
/* The bus said the connection NAME is UID ((uid_t) -1: it could not say), as
 * IDENTIFY had promised: its calls held for it are started (IDENTIFIED). */
void bus_budget_identified(const char *name, uid_t uid);
/* One more call of NAME is held: 0, or -EBUSY when NAME holds
 * BUS_BUDGET_HELD_PER_CONNECTION already; the call is then answered Busy
 * instead of held. */
int bus_budget_hold(const char *name);
void bus_budget_unhold(const char *name);
/* bus_budget_hold() for the call M, added to the array *HELD of *N_HELD
 * calls (with a reference) when NAME may hold it: 0, -EBUSY or -ENOMEM. */
int bus_budget_hold_call(const char *name, sd_bus_message ***held, size_t *n_held, sd_bus_message *m);
