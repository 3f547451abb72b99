/* A network change as an ordered list of steps, each with its undo */
#pragma once

#include <json-c/json.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include "agent-errno.h"
#include "host-state.h"
#include "net-spec.h"
#include "ovsdb.h"

struct nl_sock;

typedef enum NetStepKind {
        NET_STEP_BRIDGE_ADD,    /* link */
        NET_STEP_VLAN_ADD,      /* link on parent arg, id value */
        NET_STEP_BOND_ADD,      /* link, mode arg */
        NET_STEP_LINK_DEL,      /* link; how to make it again: old_arg (kind), arg (parent or mode), value (id), old_value (mtu) */
        NET_STEP_SET_MASTER,    /* link into arg ("" releases), old_arg the master before */
        NET_STEP_SET_MTU,       /* link to value, old_value before */
        NET_STEP_SET_UP,        /* link up (value 1) or down (0), old_value before */
        NET_STEP_ADDR_ADD,      /* arg on link */
        NET_STEP_ADDR_DEL,      /* arg from link */
        NET_STEP_OVS_BRIDGE_ADD,  /* link, datapath type arg, internal port tag value */
        NET_STEP_OVS_BRIDGE_DEL,  /* link; to make it again: datapath type arg, tag value */
        NET_STEP_OVS_PORT_ADD,    /* port link on bridge arg, tag value */
        NET_STEP_OVS_PORT_DEL,    /* port link from bridge arg; to put it back: tag value */
        NET_STEP_OVS_BOND_ADD,    /* bond port link on bridge old_arg, of slaves arg ("a,b"), mode in value */
        NET_STEP_OVS_BOND_DEL,    /* bond port link from bridge old_arg; to make it again: slaves arg, mode value */
        _NET_STEP_MAX,
} NetStepKind;

/* "create bridge", "add address", ...: how steps are named to people; NULL when out of range. */
const char *net_step_kind_to_string(NetStepKind kind);

/* An OVS bond step keeps its bond mode by number (NetStep.value): its name, "active-backup" when unknown. */
const char *net_ovs_bond_mode_name(unsigned index);

typedef struct NetStep {
        NetStepKind kind;
        char link[IFNAMSIZ];
        char arg[160];          /* long enough for a bond's slaves, comma-separated */
        char old_arg[IFNAMSIZ];
        unsigned value;
        unsigned old_value;
} NetStep;

typedef struct NetPlan {
        NetStep *steps;
        size_t n_steps;
} NetPlan;

void net_plan_done(NetPlan *p);

/* What the kernel of this host can build; probed before anything is touched. */
typedef struct NetKernel {
        bool vlan;      /* 802.1Q devices */
        bool bonding;
        bool ovs_datapath;  /* Open vSwitch's kernel datapath */
} NetKernel;

/* Where and how steps run. */
typedef struct NetEnv {
        struct nl_sock *sk;           /* for links and addresses */
        const char *ovsdb;            /* "unix:/run/openvswitch/db.sock" */
        const char *ovs_datapath;     /* "system" or "netdev" */
        unsigned ovs_timeout_ms;
} NetEnv;

void net_kernel_probe(NetKernel *ret);   /* net-probe.c */

/* The steps that take HOST from the networks CURRENT (the agent's, N_CURRENT
 * of them) to DESIRED. Refuses, before any step, what cannot work: an
 * uplink that is missing or another bridge's port, a name taken by something
 * not the agent's (-EINVAL: the desired state cannot be, whatever holds the
 * name), a network with other ports still attached (-ERRNO_IN_USE), what the
 * kernel lacks (-EOPNOTSUPP); RET_ERROR names the field. */
int net_plan_build(const NetConfig *current, size_t n_current, const NetDesired *desired, const NetHost *host,
                   const OvsState *ovs, const NetKernel *kernel, const NetEnv *env, NetPlan *ret, char **ret_error);

/* The plan for people: a JSON array of {"step":n,"action":"...","link":"..."}. */
char *net_plan_describe(const NetPlan *p);

/* Called before each step with its index: the agent's journal, and test failpoints. */
typedef int (*net_step_hook)(size_t index, void *userdata);

/* Runs the steps in order from FROM; stops at the first failure. Returns 0,
 * or -errno with RET_ERROR saying which step failed and why; *RET_DONE is
 * how many steps took effect. */
int net_plan_apply(const NetEnv *env, const NetPlan *p, size_t from, net_step_hook hook, void *userdata,
                   size_t *ret_done, char **ret_error);

/* Undoes steps DONE-1 .. 0. BEST_EFFORT (crash recovery: step DONE may or
 * may not have happened) goes on past errors. Returns the first error. */
int net_plan_undo(const NetEnv *env, const NetPlan *p, size_t done, bool best_effort, char **ret_error);

json_object *net_plan_to_json(const NetPlan *p);
int net_plan_from_json(json_object *o, NetPlan *ret);
