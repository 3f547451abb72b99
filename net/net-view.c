/* What the kernel makes of one network: the values its bus object shows */
#include "net-view.h"

#include <stdio.h>

#include "macro.h"
#include "strv.h"

void net_view_done(NetView *v) {
        strv_free(v->addresses);
        strv_free(v->ports);
        free(v->problem);
        *v = (NetView) {};
}

static char **strv_new(size_t n) {
        return calloc(n + 1, sizeof(char *));
}

static const char *problem_of(const NetConfig *c, const NetHost *h, const NetLink *bridge, char *buf, size_t size) {
        char portname[IFNAMSIZ];
        const NetLink *port;

        net_config_port(c, portname);
        if (!bridge)
                snprintf(buf, size, "the bridge %s is missing", c->name);
        else if (!bridge->up)
                snprintf(buf, size, "the bridge %s is down", c->name);
        else if (portname[0] && !(port = net_host_find(h, portname)))
                snprintf(buf, size, "the uplink %s is missing", portname);
        else if (portname[0] && port->master != bridge->ifindex)
                snprintf(buf, size, "the uplink %s is not a port of %s", portname, c->name);
        else if (portname[0] && !port->up)
                snprintf(buf, size, "the uplink %s is down", portname);
        else if (c->mtu && bridge->mtu != c->mtu)
                snprintf(buf, size, "the MTU is %u, not %u", bridge->mtu, c->mtu);
        else {
                for (size_t i = 0; i < c->n_addresses; i++)
                        if (!net_link_has_address(bridge, c->addresses[i])) {
                                snprintf(buf, size, "the address %s is missing", c->addresses[i]);
                                return buf;
                        }
                return NULL;
        }
        return buf;
}

static const char *ovs_problem_of(const NetConfig *c, const NetHost *h, const OvsState *ovs, char *buf, size_t size) {
        const OvsBridge *b = ovs && ovs->reachable ? ovs_state_bridge(ovs, c->name) : NULL;
        const NetLink *internal = net_host_find(h, c->name);

        if (!ovs || !ovs->reachable)
                snprintf(buf, size, "Open vSwitch does not answer");
        else if (!b)
                snprintf(buf, size, "the Open vSwitch bridge %s is missing", c->name);
        else if (c->uplink[0] && !ovs_bridge_port(b, c->uplink))
                snprintf(buf, size, "the uplink %s is not a port of %s", c->uplink, c->name);
        else if (c->uplink[0] && !c->n_bond_slaves && !net_host_find(h, c->uplink))
                snprintf(buf, size, "the uplink %s is missing", c->uplink);
        else if (!internal)
                snprintf(buf, size, "the bridge's own port %s is missing", c->name);
        else {
                for (size_t i = 0; i < c->n_addresses; i++)
                        if (!net_link_has_address(internal, c->addresses[i])) {
                                snprintf(buf, size, "the address %s is missing", c->addresses[i]);
                                return buf;
                        }
                return NULL;
        }
        return buf;
}

int net_view_build(const NetConfig *c, const NetHost *h, const OvsState *ovs, NetView *ret) {
        const NetLink *bridge = net_host_find(h, c->name), *way_out;
        NetView v = {};
        char portname[IFNAMSIZ], buf[128];
        const char *problem;
        size_t n = 0;

        net_config_port(c, portname);
        v.mtu = bridge ? bridge->mtu : c->mtu;
        snprintf(v.operstate, sizeof v.operstate, "%s", bridge ? bridge->operstate : "absent");
        way_out = portname[0] ? net_host_find(h, portname) : bridge;
        v.carrier = way_out && way_out->up && way_out->carrier;
        v.addresses = strv_new(bridge ? bridge->n_addresses : 0);
        v.ports = strv_new(h->n_links);
        if (!v.addresses || !v.ports)
                goto oom;
        for (size_t i = 0; bridge && i < bridge->n_addresses; i++)
                if (!(v.addresses[i] = strdup(bridge->addresses[i])))
                        goto oom;
        if (c->sw == NET_SWITCH_OVS) {
                const OvsBridge *b = ovs && ovs->reachable ? ovs_state_bridge(ovs, c->name) : NULL;
                char **grown = b ? realloc(v.ports, (b->n_ports + 1) * sizeof(char *)) : v.ports;
                if (!grown)
                        goto oom;
                v.ports = grown;
                for (size_t i = 0; b && i < b->n_ports; i++)
                        if (!streq(b->ports[i].name, c->name) && !(v.ports[n++] = strdup(b->ports[i].name)))
                                goto oom;
                v.ports[n] = NULL;
                problem = ovs_problem_of(c, h, ovs, buf, sizeof buf);
        } else {
                for (size_t i = 0; bridge && i < h->n_links; i++)
                        if (h->links[i].master == bridge->ifindex && !(v.ports[n++] = strdup(h->links[i].name)))
                                goto oom;
                problem = problem_of(c, h, bridge, buf, sizeof buf);
        }
        if (problem && !(v.problem = strdup(problem)))
                goto oom;
        *ret = v;
        return 0;
oom:
        net_view_done(&v);
        return -ENOMEM;
}

bool net_view_equal(const NetView *a, const NetView *b) {
        return a->mtu == b->mtu && streq(a->operstate, b->operstate) && a->carrier == b->carrier &&
               strv_equal(a->addresses, b->addresses) && strv_equal(a->ports, b->ports) &&
               streq_ptr(a->problem, b->problem);
}
