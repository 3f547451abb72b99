/* What the host offers for networks, as the JSON that Manager.GetNetworkCapabilities answers */
#pragma once

#include <json-c/json.h>

#include "host-state.h"
#include "net-plan.h"
#include "net-spec.h"
#include "ovsdb.h"

/* {"interfaces": [...], "kernel": {...}, "networks": [names], "ovs_bridges": [...]}: the links
 * of HOST, what KERNEL can do, the agent's NETWORKS and Open vSwitch's bridges in OVS. NULL when
 * memory runs out. */
json_object *net_capabilities_to_json(const NetHost *host, const NetKernel *kernel, const OvsState *ovs,
                                      const NetConfig *networks, size_t n_networks);
