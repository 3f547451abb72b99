/* Authorization: the one place that decides who may change the host */
#pragma once

#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "macro.h"

/* polkit actions, declared in polkit/org.hostagent1.policy. */
#define BUS_ACTION_VM_MANAGE      "org.hostagent1.vm.manage"
#define BUS_ACTION_VM_CREATE      "org.hostagent1.vm.create"
#define BUS_ACTION_VM_CREATE_RAW  "org.hostagent1.vm.create-raw"
#define BUS_ACTION_VM_CONSOLE     "org.hostagent1.vm.console"
#define BUS_ACTION_VM_MIGRATE     "org.hostagent1.vm.migrate"
#define BUS_ACTION_VM_SNAPSHOT    "org.hostagent1.vm.snapshot"
#define BUS_ACTION_NETWORK_SETUP  "org.hostagent1.network.setup"
#define BUS_ACTION_STORAGE_MANAGE "org.hostagent1.storage.manage"
#define BUS_ACTION_HOST_CONFIGURE "org.hostagent1.host.configure"

/* The details polkit rules read (action.lookup("vm")): pairs of key and
 * value; a NULL value leaves its key out. BUS_DETAILS("vm", name, "owner", owner) */
#define BUS_DETAILS(...) ((const char *const[]) { __VA_ARGS__, NULL })

/* Installs the filter that learns each caller's uid, pid and unit before
 * its call is dispatched: the first call of a connection waits (off the
 * loop) for the bus daemon's answer to GetConnectionCredentials, then runs
 * as if it had just arrived; later calls find the answer remembered. A
 * Properties.Set on the Manager (a host setting) is checked with polkit here,
 * before dispatch, because a property setter cannot wait. Call it after
 * every other sd_bus_add_filter(): sd-bus runs the newest filter first, and
 * the others may authorize. One bus per process. */
int bus_auth_install(sd_bus *bus);
/* The uid of the connection NAME as the bus daemon said it, for the budgets
 * (bus-budget.h): 1 with *RET_UID ((uid_t) -1: the bus could not say); 0
 * while the bus is asked (the same one question the filter asks), and
 * bus_budget_identified() is told the answer; <0 when it cannot be asked. */
int bus_auth_identify(const char *name, uid_t *ret_uid);
/* Drops the remembered callers, the calls still waiting for the bus's or
 * polkit's answer (unanswered: this is shutdown), and writes the audit
 * entries of calls never answered. Before the bus is closed. */
void bus_auth_done(void);

/* Every mutating method asks here first, before it changes anything, and
 * returns at once unless this returned 1:
 *   1   allowed: root, or polkit said yes to ACTION with DETAILS;
 *   0   held: polkit is asked without waiting; the call is dispatched again
 *       once it answers (the handler returns 1: handled, no answer yet);
 *   <0  refused, ERROR set: AccessDenied naming ACTION,
 *       InteractiveAuthorizationRequired when an authentication could
 *       allow it and the call did not allow one, Busy when the caller has
 *       too many calls held (BUS_BUDGET_HELD_PER_CONNECTION, one cap for
 *       calls held for identity, polkit or a worker slot). When polkitd is
 *       not on the bus: root only.
 * Either way the call gets its audit entry (bus-audit.h): an allowed call
 * once answered; a refusal now when it is its uid's first in the interval,
 * else in the count told when the interval ends (bus-log-limit.h). Use
 * BUS_AUTHORIZE_OR_RETURN() in handlers, which also notes how the handler
 * answered. */
int bus_authorize(sd_bus_message *m, const char *action, const char *const *details, sd_bus_error *error);
/* The same for a property setter, which cannot be held (sd-bus answers when
 * it returns): the filter asked polkit before dispatch. Never returns 0. */
int bus_authorize_property(sd_bus_message *m, const char *action, const char *const *details,
                           sd_bus_error *error);

/* Ends the audit entry of the handler's call when the handler returns. */
typedef struct BusAuthScope {
        sd_bus_message *m;
        sd_bus_error *error;
} BusAuthScope;
void bus_auth_scope_end(BusAuthScope *s);

#define BUS_AUTH_UNIQ_(a, b) a##b
#define BUS_AUTH_UNIQ(a, b) BUS_AUTH_UNIQ_(a, b)
/* Declares that the handler answering M (with ERROR) ends here, for M's
 * audit entry: before a bus_authorize() whose result is checked by hand. */
#define BUS_AUTH_SCOPE(m, error)                                                                   \
        _cleanup_(bus_auth_scope_end) _unused_ BusAuthScope BUS_AUTH_UNIQ(auth_scope_, __LINE__) = \
                { (m), (error) }
/* In a method handler (or a filter that answers a call), before any change:
 * returns from the handler unless the call is allowed. */
#define BUS_AUTHORIZE_OR_RETURN(m, action, details, error)                                    \
        BUS_AUTH_SCOPE(m, error);                                                            \
        do {                                                                                 \
                int _auth_r = bus_authorize((m), (action), (details), (error));              \
                if (_auth_r <= 0)                                                            \
                        return _auth_r < 0 ? _auth_r : 1; /* 1: held, no answer yet */        \
        } while (0)
