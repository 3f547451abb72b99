/* What the host offers for networks, as the JSON that Manager.GetNetworkCapabilities answers */
#include "net-capabilities.h"

#include "json-cleanup.h"
#include "macro.h"

static json_object *link_to_json(const NetHost *host, const NetLink *l) {
        const NetLink *master = l->master ? net_host_find_index(host, l->master) : NULL;
        json_object *o = json_object_new_object(), *a = json_object_new_array();

        if (!o || !a) {
                json_object_put(o);
                json_object_put(a);
                return NULL;
        }
        json_object_object_add(o, "name", json_object_new_string(l->name));
        json_object_object_add(o, "kind", json_object_new_string(*l->kind ? l->kind : "device"));
        json_object_object_add(o, "mac", json_object_new_string(l->mac));
        json_object_object_add(o, "mtu", json_object_new_int((int) l->mtu));
        json_object_object_add(o, "operstate", json_object_new_string(l->operstate));
        json_object_object_add(o, "carrier", json_object_new_boolean(l->carrier));
        json_object_object_add(o, "speed_mbps", json_object_new_int(l->speed_mbps));
        json_object_object_add(o, "master", json_object_new_string(master ? master->name : ""));
        for (size_t j = 0; j < l->n_addresses; j++)
                json_object_array_add(a, json_object_new_string(l->addresses[j]));
        json_object_object_add(o, "addresses", a);
        return o;
}

static json_object *bridge_to_json(const OvsBridge *b) {
        json_object *o = json_object_new_object(), *ports = json_object_new_array();

        if (!o || !ports) {
                json_object_put(o);
                json_object_put(ports);
                return NULL;
        }
        json_object_object_add(o, "name", json_object_new_string(b->name));
        json_object_object_add(o, "datapath_type", json_object_new_string(b->datapath_type));
        for (size_t j = 0; j < b->n_ports; j++) {
                json_object *p = json_object_new_object();
                json_object_object_add(p, "name", json_object_new_string(b->ports[j].name));
                json_object_object_add(p, "tag", json_object_new_int((int) b->ports[j].tag));
                json_object_array_add(ports, p);
        }
        json_object_object_add(o, "ports", ports);
        return o;
}

static json_object *kernel_to_json(const NetKernel *kernel, const OvsState *ovs) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "vlan", json_object_new_boolean(kernel->vlan));
        json_object_object_add(o, "bonding", json_object_new_boolean(kernel->bonding));
        json_object_object_add(o, "ovs_datapath", json_object_new_boolean(kernel->ovs_datapath));
        json_object_object_add(o, "ovs_running", json_object_new_boolean(ovs->reachable));
        return o;
}

json_object *net_capabilities_to_json(const NetHost *host, const NetKernel *kernel, const OvsState *ovs,
                                      const NetConfig *networks, size_t n_networks) {
        _cleanup_(json_object_putp) json_object *root = json_object_new_object();
        json_object *ifaces = json_object_new_array(), *nets = json_object_new_array(),
                    *bridges = json_object_new_array(), *k = kernel_to_json(kernel, ovs);

        if (!root || !ifaces || !nets || !bridges || !k) {
                json_object_put(ifaces);
                json_object_put(nets);
                json_object_put(bridges);
                json_object_put(k);
                return NULL;
        }
        json_object_object_add(root, "interfaces", ifaces);
        json_object_object_add(root, "kernel", k);
        json_object_object_add(root, "networks", nets);
        json_object_object_add(root, "ovs_bridges", bridges);
        for (size_t i = 0; i < host->n_links; i++)
                json_object_array_add(ifaces, link_to_json(host, &host->links[i]));
        for (size_t i = 0; i < n_networks; i++)
                json_object_array_add(nets, json_object_new_string(networks[i].name));
        for (size_t i = 0; i < ovs->n_bridges; i++)
                json_object_array_add(bridges, bridge_to_json(&ovs->bridges[i]));
        return TAKE_PTR(root);
}
