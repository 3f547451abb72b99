/* Desired host networks: the JSON of SetupNetworks, validated */
#pragma once

#include <json-c/json.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#define NET_MAX_NETWORKS 64           /* the most the agent keeps, and so the most one request names */
#define NET_MAX_ADDRESSES 16
#define NET_MAX_BOND_SLAVES 8
#define NET_DEFAULT_MTU 1500          /* Ethernet's: what an uplink gets back when its networks are gone */
#define NET_SPEC_MAX_BYTES (64 * 1024)

typedef enum NetSwitch {
        NET_SWITCH_LINUX,
        NET_SWITCH_OVS,
} NetSwitch;

typedef struct NetConfig {
        char name[IFNAMSIZ];          /* the network's name, and its bridge's */
        NetSwitch sw;
        char uplink[IFNAMSIZ];        /* "" for a bridge with no way out */
        unsigned vlan;                /* 0: untagged */
        unsigned mtu;                 /* 0: leave as it is */
        char *addresses[NET_MAX_ADDRESSES];   /* normalized CIDR text */
        size_t n_addresses;
        char bond_slaves[NET_MAX_BOND_SLAVES][IFNAMSIZ];  /* set: the uplink is a bond of these */
        size_t n_bond_slaves;
        char bond_mode[24];
} NetConfig;

typedef struct NetDesired {
        NetConfig *networks;          /* to add or change */
        size_t n_networks;
        char (*remove)[IFNAMSIZ];     /* to remove */
        size_t n_remove;
} NetDesired;

void net_config_done(NetConfig *c);
void net_desired_done(NetDesired *d);

/* Parses and validates TEXT: {"networks":{"name":{...}|{"remove":true}}}.
 * -EINVAL with RET_ERROR naming the field ("networks.mgmt.vlan: must be
 * between 1 and 4094"). Touches nothing outside the process. */
int net_desired_parse(const char *text, NetDesired *ret, char **ret_error);

/* The names TEXT's "networks" object sets or removes, comma-separated, for
 * polkit rules; NULL when TEXT says none or is not such JSON (the parse
 * then says why). */
char *net_desired_names(const char *text);
/* The names of the networks that differ between A and B (added, removed or
 * changed), comma-separated; NULL when none or out of memory. */
char *net_configs_changed_names(const NetConfig *a, size_t n_a, const NetConfig *b, size_t n_b);

/* One network's configuration as kept in the state file, and back. */
json_object *net_config_to_json(const NetConfig *c);
int net_config_from_json(const char *name, json_object *o, NetConfig *ret, char **ret_error);

/* The interface carrying the network's traffic out: "eth1", "eth1.100", "bond0". */
void net_config_port(const NetConfig *c, char ret[IFNAMSIZ]);

int net_config_copy(const NetConfig *src, NetConfig *ret);
