/* org.hostagent1.Network: the configuration, and what the kernel makes of it, read live */
#include "network-dbus.h"

#include <netlink/route/link.h>
#include <stdio.h>

#include "bus-collection.h"
#include "json-cleanup.h"
#include "log.h"
#include "macro.h"
#include "manager.h"

static void strv_free(char **v) {
        for (char **p = v; p && *p; p++)
                free(*p);
        free(v);
}

static bool strv_contains(char **v, const char *s) {
        for (char **p = v; p && *p; p++)
                if (streq(*p, s))
                        return true;
        return false;
}

/* "ok", or why not, in words: reality drifted from the configuration. */
static char *network_problem(Manager *m, const NetConfig *c) {
        struct rtnl_link *bridge = networks_link(m, c->name), *port = NULL;
        char portname[IFNAMSIZ], *why = NULL, **addrs = NULL;

        net_config_port(c, portname);
        if (!bridge) {
                (void) asprintf(&why, "the bridge %s is missing", c->name);
                goto out;
        }
        if (!(rtnl_link_get_flags(bridge) & IFF_UP)) {
                (void) asprintf(&why, "the bridge %s is down", c->name);
                goto out;
        }
        if (portname[0]) {
                port = networks_link(m, portname);
                if (!port) {
                        (void) asprintf(&why, "the uplink %s is missing", portname);
                        goto out;
                }
                if (rtnl_link_get_master(port) != rtnl_link_get_ifindex(bridge)) {
                        (void) asprintf(&why, "the uplink %s is not a port of %s", portname, c->name);
                        goto out;
                }
                if (!(rtnl_link_get_flags(port) & IFF_UP)) {
                        (void) asprintf(&why, "the uplink %s is down", portname);
                        goto out;
                }
        }
        if (c->mtu && rtnl_link_get_mtu(bridge) != c->mtu) {
                (void) asprintf(&why, "the MTU is %u, not %u", rtnl_link_get_mtu(bridge), c->mtu);
                goto out;
        }
        addrs = networks_addresses(m, rtnl_link_get_ifindex(bridge));
        for (size_t i = 0; i < c->n_addresses; i++)
                if (!strv_contains(addrs, c->addresses[i])) {
                        (void) asprintf(&why, "the address %s is missing", c->addresses[i]);
                        goto out;
                }
out:
        strv_free(addrs);
        if (port)
                rtnl_link_put(port);
        if (bridge)
                rtnl_link_put(bridge);
        return why;
}

static int network_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                               sd_bus_error *error) {
        NetworkObject *o = network_find_by_path(userdata, path);

        if (!o)
                return 0;
        *found = o;
        return 1;
}

static int network_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                                   sd_bus_error *error) {
        Manager *m = userdata;
        Networks *n = m->networks;
        char **l = calloc((n ? n->n_configs : 0) + 1, sizeof(char *));

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; n && i < n->n_configs; i++)
                if (n->objects[i].path && !(l[i] = strdup(n->objects[i].path))) {
                        strv_free(l);
                        return -ENOMEM;
                }
        *nodes = l;
        return 0;
}

/* Properties: USERDATA is the NetworkObject. */

#define NETWORK_PROPERTY_GETTER(name, type, expr)                                                \
        static int property_get_##name(sd_bus *bus, const char *path, const char *interface,   \
                                       const char *property, sd_bus_message *reply,            \
                                       void *userdata, sd_bus_error *error) {                  \
                const NetConfig *c = ((NetworkObject *) userdata)->config;                      \
                return sd_bus_message_append(reply, type, expr);                                \
        }

NETWORK_PROPERTY_GETTER(name, "s", c->name)
NETWORK_PROPERTY_GETTER(switch_type, "s", c->sw == NET_SWITCH_OVS ? "ovs" : "linux")
NETWORK_PROPERTY_GETTER(bridge, "s", c->name)
NETWORK_PROPERTY_GETTER(uplink, "s", c->uplink)
NETWORK_PROPERTY_GETTER(vlan, "u", c->vlan)

static int property_get_mtu(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        NetworkObject *o = userdata;
        const NetConfig *c = o->config;
        struct rtnl_link *l = networks_link(o->manager, c->name);
        unsigned mtu = l ? rtnl_link_get_mtu(l) : c->mtu;

        if (l)
                rtnl_link_put(l);
        return sd_bus_message_append(reply, "u", mtu);
}

static int append_strv(sd_bus_message *reply, char **v) {
        int r;

        if (!v)
                return -ENOMEM;
        r = sd_bus_message_append_strv(reply, v);
        strv_free(v);
        return r;
}

static int bridge_index(NetworkObject *o) {
        struct rtnl_link *l = networks_link(o->manager, o->config->name);
        int ifindex = l ? rtnl_link_get_ifindex(l) : 0;

        if (l)
                rtnl_link_put(l);
        return ifindex;
}

static int property_get_addresses(sd_bus *bus, const char *path, const char *interface, const char *property,
                                  sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        NetworkObject *o = userdata;

        return append_strv(reply, networks_addresses(o->manager, bridge_index(o)));
}

static int property_get_ports(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        NetworkObject *o = userdata;

        return append_strv(reply, networks_ports(o->manager, bridge_index(o)));
}

static int property_get_operstate(sd_bus *bus, const char *path, const char *interface, const char *property,
                                  sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        NetworkObject *o = userdata;
        struct rtnl_link *l = networks_link(o->manager, o->config->name);
        char buf[32] = "absent";

        if (l) {
                rtnl_link_operstate2str(rtnl_link_get_operstate(l), buf, sizeof buf);
                rtnl_link_put(l);
        }
        return sd_bus_message_append(reply, "s", buf);
}

/* The carrier of the way out: the uplink's, or the bridge's for a network without one. */
static int property_get_carrier(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        NetworkObject *o = userdata;
        char port[IFNAMSIZ];
        struct rtnl_link *l;
        bool carrier = false;

        net_config_port(o->config, port);
        l = networks_link(o->manager, port[0] ? port : o->config->name);
        if (l) {
                carrier = rtnl_link_get_carrier(l) && (rtnl_link_get_flags(l) & IFF_UP);
                rtnl_link_put(l);
        }
        return sd_bus_message_append(reply, "b", carrier);
}

static int property_get_state(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        NetworkObject *o = userdata;
        _cleanup_(freep) char *why = network_problem(o->manager, o->config);

        return sd_bus_message_append(reply, "s", why ? "degraded" : "ok");
}

static int property_get_state_message(sd_bus *bus, const char *path, const char *interface, const char *property,
                                      sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        NetworkObject *o = userdata;
        _cleanup_(freep) char *why = network_problem(o->manager, o->config);

        return sd_bus_message_append(reply, "s", strempty(why));
}

static int property_get_spec(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        _cleanup_(json_object_putp) json_object *o = net_config_to_json(((NetworkObject *) userdata)->config);

        return sd_bus_message_append(reply, "s", o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                                                          JSON_C_TO_STRING_NOSLASHESCAPE)
                                                   : "{}");
}

void network_bus_emit_changed(Manager *m, const NetConfig *c, bool config) {
        _cleanup_(freep) char *path = NULL;
        int r;

        if (network_bus_path(c->name, &path) < 0)
                return;
        if (config)
                r = sd_bus_emit_properties_changed(m->bus, path, NETWORK_INTERFACE, "Switch", "Uplink", "VlanTag",
                                                   "Spec", "MTU", "Addresses", "OperState", "Carrier", "Ports",
                                                   "State", "StateMessage", NULL);
        else
                r = sd_bus_emit_properties_changed(m->bus, path, NETWORK_INTERFACE, "MTU", "Addresses", "OperState",
                                                   "Carrier", "Ports", "State", "StateMessage", NULL);
        if (r < 0)
                log_debug_errno(r, "Cannot emit the changes of %s: %m", path);
}

#define CHANGES SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE

const sd_bus_vtable network_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", property_get_name, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Bridge", "s", property_get_bridge, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Switch", "s", property_get_switch_type, 0, CHANGES),
        SD_BUS_PROPERTY("Uplink", "s", property_get_uplink, 0, CHANGES),
        SD_BUS_PROPERTY("VlanTag", "u", property_get_vlan, 0, CHANGES),
        SD_BUS_PROPERTY("Spec", "s", property_get_spec, 0, CHANGES),
        SD_BUS_PROPERTY("MTU", "u", property_get_mtu, 0, CHANGES),
        SD_BUS_PROPERTY("Addresses", "as", property_get_addresses, 0, CHANGES),
        SD_BUS_PROPERTY("OperState", "s", property_get_operstate, 0, CHANGES),
        SD_BUS_PROPERTY("Carrier", "b", property_get_carrier, 0, CHANGES),
        SD_BUS_PROPERTY("Ports", "as", property_get_ports, 0, CHANGES),
        SD_BUS_PROPERTY("State", "s", property_get_state, 0, CHANGES),
        SD_BUS_PROPERTY("StateMessage", "s", property_get_state_message, 0, CHANGES),
        SD_BUS_VTABLE_END,
};

int network_bus_register(Manager *m) {
        return bus_add_collection(m->bus, NETWORK_PATH_PREFIX, NETWORK_INTERFACE, network_vtable, network_object_find,
                                  network_node_enumerator, m);
}
