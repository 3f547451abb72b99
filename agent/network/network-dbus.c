/* org.hostagent1.Network: the configuration, and what the kernel makes of it, read live */
#include "network-dbus.h"

#include <stdio.h>

#include "bus-collection.h"
#include "json-cleanup.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "strv.h"

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

/* The kernel-side properties, from the agent's last read of the links. */
static int view_property(sd_bus_message *reply, NetworkObject *o, const char *property) {
        NetView v = {};
        int r;

        r = net_view_build(o->config, &o->manager->networks->read.host, &o->manager->networks->read.ovs, &v);
        if (r < 0)
                return r;
        if (streq(property, "MTU"))
                r = sd_bus_message_append(reply, "u", v.mtu);
        else if (streq(property, "OperState"))
                r = sd_bus_message_append(reply, "s", v.operstate);
        else if (streq(property, "Carrier"))
                r = sd_bus_message_append(reply, "b", v.carrier);
        else if (streq(property, "Addresses"))
                r = sd_bus_message_append_strv(reply, v.addresses);
        else if (streq(property, "Ports"))
                r = sd_bus_message_append_strv(reply, v.ports);
        else if (streq(property, "State"))
                r = sd_bus_message_append(reply, "s", v.problem ? "degraded" : "ok");
        else if (streq(property, "StateMessage"))
                r = sd_bus_message_append(reply, "s", strempty(v.problem));
        else
                r = -EINVAL;
        net_view_done(&v);
        return r;
}

static int property_get_view(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return view_property(reply, userdata, property);
}

static int property_get_spec(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        _cleanup_(json_object_putp) json_object *o = net_config_to_json(((NetworkObject *) userdata)->config);

        return sd_bus_message_append(reply, "s", o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                                                          JSON_C_TO_STRING_NOSLASHESCAPE)
                                                   : "{}");
}

static void network_bus_announce(Manager *m, const char *path) {
        int r = sd_bus_emit_object_added(m->bus, path);
        if (r < 0)
                log_debug_errno(r, "Cannot emit InterfacesAdded for %s: %m", path);
}

static void network_bus_withdraw(Manager *m, const char *path) {
        int r = sd_bus_emit_object_removed(m->bus, path);
        if (r < 0)
                log_debug_errno(r, "Cannot emit InterfacesRemoved for %s: %m", path);
}

static void network_bus_emit_changed(Manager *m, const NetConfig *c, bool config) {
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
        SD_BUS_PROPERTY("MTU", "u", property_get_view, 0, CHANGES),
        SD_BUS_PROPERTY("Addresses", "as", property_get_view, 0, CHANGES),
        SD_BUS_PROPERTY("OperState", "s", property_get_view, 0, CHANGES),
        SD_BUS_PROPERTY("Carrier", "b", property_get_view, 0, CHANGES),
        SD_BUS_PROPERTY("Ports", "as", property_get_view, 0, CHANGES),
        SD_BUS_PROPERTY("State", "s", property_get_view, 0, CHANGES),
        SD_BUS_PROPERTY("StateMessage", "s", property_get_view, 0, CHANGES),
        SD_BUS_VTABLE_END,
};

static const NetworkListener network_bus_listener = {
        .added = network_bus_announce,
        .removed = network_bus_withdraw,
        .changed = network_bus_emit_changed,
};

int network_bus_register(Manager *m) {
        networks_set_listener(m, &network_bus_listener);
        return bus_add_collection(m->bus, NETWORK_PATH_PREFIX, NETWORK_INTERFACE, network_vtable, network_object_find,
                                  network_node_enumerator, m);
}
