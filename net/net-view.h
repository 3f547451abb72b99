/* What the kernel makes of one network: the values its bus object shows */
#pragma once

#include <stdbool.h>

#include "host-state.h"
#include "net-spec.h"
#include "ovsdb.h"

typedef struct NetView {
        unsigned mtu;
        char operstate[16];     /* the bridge's; "absent" when it is gone */
        bool carrier;           /* the uplink's (up and with carrier), or the bridge's without one */
        char **addresses;       /* the bridge's global addresses, NULL-terminated */
        char **ports;           /* what is plugged into the bridge, NULL-terminated */
        char *problem;          /* why it is degraded, or NULL: it is as configured */
} NetView;

void net_view_done(NetView *v);

/* OVS may be NULL or unreachable: then an Open vSwitch network is degraded. */
int net_view_build(const NetConfig *c, const NetHost *h, const OvsState *ovs, NetView *ret);

bool net_view_equal(const NetView *a, const NetView *b);
