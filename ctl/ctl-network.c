/* hostagentctl's network commands: networks, show-network, setup-networks, confirm, capabilities */
#include <inttypes.h>
#include <json-c/json.h>
#include <stddef.h>
#include <stdio.h>

#include "ctl-bus.h"
#include "ctl-error.h"
#include "ctl-object.h"
#include "ctl-output.h"
#include "ctl.h"
#include "json-cleanup.h"
#include "strv.h"

typedef struct NetworkInfo {
        char *name, *bridge, *switch_type, *uplink, *spec, *oper_state, *state, *message;
        uint32_t vlan, mtu;
        bool carrier;
        char **addresses, **ports;
} NetworkInfo;

static const CtlProperty network_map[] = {
        { "Name",         's', offsetof(NetworkInfo, name) },
        { "Bridge",       's', offsetof(NetworkInfo, bridge) },
        { "Switch",       's', offsetof(NetworkInfo, switch_type) },
        { "Uplink",       's', offsetof(NetworkInfo, uplink) },
        { "Spec",         's', offsetof(NetworkInfo, spec) },
        { "OperState",    's', offsetof(NetworkInfo, oper_state) },
        { "State",        's', offsetof(NetworkInfo, state) },
        { "StateMessage", 's', offsetof(NetworkInfo, message) },
        { "VlanTag",      'u', offsetof(NetworkInfo, vlan) },
        { "MTU",          'u', offsetof(NetworkInfo, mtu) },
        { "Carrier",      'b', offsetof(NetworkInfo, carrier) },
        { "Addresses",    'a', offsetof(NetworkInfo, addresses) },
        { "Ports",        'a', offsetof(NetworkInfo, ports) },
        {}
};

static const CtlColumn network_columns[] = {
        CTL_PROPERTY("NAME", "name", CTL_STRING, "Name"),
        CTL_PROPERTY("SWITCH", "switch", CTL_STRING, "Switch"),
        CTL_PROPERTY("STATE", "state", CTL_STATE, "State"),
        CTL_PROPERTY("LINK", "oper_state", CTL_STRING, "OperState"),
        CTL_PROPERTY("UPLINK", "uplink", CTL_STRING, "Uplink"),
        CTL_PROPERTY("VLAN", "vlan_tag", CTL_NUMBER, "VlanTag"),
        CTL_PROPERTY("MTU", "mtu", CTL_NUMBER, "MTU"),
        CTL_PROPERTY("ADDRESSES", "addresses", CTL_STRINGS, "Addresses"),
        CTL_PROPERTY("BRIDGE", "bridge", CTL_STRING, "Bridge", .json_only = true),
        CTL_PROPERTY("CARRIER", "carrier", CTL_BOOLEAN, "Carrier", .json_only = true),
        CTL_PROPERTY("PORTS", "ports", CTL_STRINGS, "Ports", .json_only = true),
        CTL_PROPERTY("MESSAGE", "state_message", CTL_STRING, "StateMessage", .json_only = true),
        CTL_PATH_COLUMN,
        {}
};

static const CtlColumn network_fields[] = {
        CTL_PROPERTY("Name", "name", CTL_STRING, "Name"),
        CTL_FORMATTED("Path", "path", CTL_STRING, ctl_format_path),
        CTL_PROPERTY("Switch", "switch", CTL_STRING, "Switch"),
        CTL_PROPERTY("Bridge", "bridge", CTL_STRING, "Bridge"),
        CTL_PROPERTY("Uplink", "uplink", CTL_STRING, "Uplink"),
        CTL_PROPERTY("VLAN", "vlan_tag", CTL_NUMBER, "VlanTag"),
        CTL_PROPERTY("MTU", "mtu", CTL_NUMBER, "MTU"),
        CTL_PROPERTY("Addresses", "addresses", CTL_STRINGS, "Addresses"),
        CTL_PROPERTY("Link", "oper_state", CTL_STRING, "OperState"),
        CTL_PROPERTY("Carrier", "carrier", CTL_BOOLEAN, "Carrier"),
        CTL_PROPERTY("Ports", "ports", CTL_STRINGS, "Ports"),
        CTL_PROPERTY("State", "state", CTL_STATE, "State"),
        CTL_PROPERTY("Message", "state_message", CTL_STRING, "StateMessage"),
        CTL_PROPERTY("Spec", "spec", CTL_STRING, "Spec"),
        {}
};

static int network_lookup(sd_bus *bus, const char *name, char **ret) {
        return ctl_network_path(name, ret);
}

static const CtlObjectType network_type = {
        .interface = CTL_NETWORK,
        .kind = "network",
        .map = network_map,
        .size = sizeof(NetworkInfo),
        .table = "networks",
        .columns = network_columns,
        .fields = network_fields,
        .lookup = network_lookup,
};

int verb_networks(int argc, char **argv, sd_bus *bus) {
        return ctl_list_objects(bus, &network_type, NULL);
}

int verb_show_network(int argc, char **argv, sd_bus *bus) {
        return ctl_show_object(bus, &network_type, argv[1]);
}

static const char *json_string(json_object *o, const char *key) {
        json_object *v;

        return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
}

/* The plan SetupNetworks answers, a JSON array of steps, as a table. */
static int print_plan(const char *text) {
        static const CtlColumn columns[] = {
                CTL_COLUMN("STEP", "step", CTL_NUMBER),
                CTL_COLUMN("ACTION", "action", CTL_STRING),
                CTL_COLUMN("LINK", "link", CTL_STRING),
                CTL_COLUMN("VALUE", "value", CTL_STRING),
                {}
        };
        _cleanup_(json_object_putp) json_object *plan = json_tokener_parse(text);
        _cleanup_(ctl_table_freep) CtlTable *t = ctl_table_new("plan", columns);
        int r = 0;

        if (!t)
                return -ENOMEM;
        if (!plan || !json_object_is_type(plan, json_type_array))
                return ctl_fail(NULL, "the agent's plan is not a JSON array: %s", text);
        for (size_t i = 0; r >= 0 && i < json_object_array_length(plan); i++) {
                json_object *step = json_object_array_get_idx(plan, i);

                r = ctl_table_add_row(t);
                if (r >= 0) r = ctl_table_set(t, 0, (uint64_t) (i + 1));
                if (r >= 0) r = ctl_table_set(t, 1, json_string(step, "action"));
                if (r >= 0) r = ctl_table_set(t, 2, json_string(step, "link"));
                if (r >= 0) r = ctl_table_set(t, 3, json_string(step, "value"));
        }
        if (r < 0)
                return r;
        if (ctl_table_rows(t) == 0 && arg.json == JSON_OFF) {
                if (!arg.quiet)
                        puts("Nothing to change.");
                return 0;
        }
        return arg.quiet && arg.json == JSON_OFF ? 0 : ctl_table_print(t);
}

static int append_setup_options(sd_bus_message *m) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && arg.dry_run)
                r = sd_bus_message_append(m, "{sv}", "dry_run", "b", 1);
        if (r >= 0 && arg.confirm_sec > 0)
                r = sd_bus_message_append(m, "{sv}", "confirm_timeout_sec", "u", arg.confirm_sec);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

int verb_setup_networks(int argc, char **argv, sd_bus *bus) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(freep) char *text = NULL;
        const char *plan;
        int r;

        r = ctl_read_file(argv[1], &text);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &m, CTL_SERVICE, CTL_ROOT, CTL_MANAGER, "SetupNetworks");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", text);
        if (r >= 0)
                r = append_setup_options(m);
        if (r < 0)
                return r;
        r = ctl_call_message(bus, m, CTL_ABOUT(NULL, argv[1], "set up the networks"), &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "s", &plan);
        if (r < 0)
                return r;
        r = print_plan(plan);
        if (r >= 0 && arg.confirm_sec > 0 && !arg.dry_run && !arg.quiet && arg.json == JSON_OFF)
                printf("Run 'hostagentctl confirm-networks' within %u s to keep the change.\n", arg.confirm_sec);
        return r;
}

int verb_confirm_networks(int argc, char **argv, sd_bus *bus) {
        return ctl_call(bus, CTL_ROOT, CTL_MANAGER, "ConfirmNetworks", CTL_ABOUT(NULL, NULL, "confirm the networks"),
                        NULL, NULL);
}

static int json_flag(json_object *o, const char *key) {
        json_object *v;

        return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

/* A JSON array of strings as a list ("a, b" in a cell). */
static char **json_strings(json_object *o, const char *key) {
        json_object *a;
        size_t n;
        char **list;

        if (!json_object_object_get_ex(o, key, &a) || !json_object_is_type(a, json_type_array))
                return calloc(1, sizeof(char *));
        n = json_object_array_length(a);
        list = calloc(n + 1, sizeof(char *));
        for (size_t i = 0; list && i < n; i++)
                if (!(list[i] = strdup(strempty(json_object_get_string(json_object_array_get_idx(a, i))))))
                        return strv_free(list);
        return list;
}

static int interface_row(CtlTable *t, json_object *link) {
        _cleanup_(strv_freep) char **addresses = json_strings(link, "addresses");
        json_object *v;
        int64_t speed = json_object_object_get_ex(link, "speed_mbps", &v) ? json_object_get_int64(v) : -1;
        int64_t mtu = json_object_object_get_ex(link, "mtu", &v) ? json_object_get_int64(v) : 0;
        char speed_text[32] = "";
        int r;

        if (!addresses)
                return -ENOMEM;
        /* The kernel says -1 (or nothing) for a link whose speed it does not know. */
        if (speed > 0)
                snprintf(speed_text, sizeof speed_text, "%" PRIi64 "Mb/s", speed);
        r = ctl_table_add_row(t);
        if (r >= 0) r = ctl_table_set(t, 0, json_string(link, "name"));
        if (r >= 0) r = ctl_table_set(t, 1, json_string(link, "kind"));
        if (r >= 0) r = ctl_table_set(t, 2, json_string(link, "operstate"));
        if (r >= 0) r = ctl_table_set(t, 3, json_flag(link, "carrier"));
        if (r >= 0) r = ctl_table_set(t, 4, (uint64_t) (mtu < 0 ? 0 : mtu));
        if (r >= 0) r = ctl_table_set(t, 5, speed_text);
        if (r >= 0) r = ctl_table_set(t, 6, json_string(link, "mac"));
        if (r >= 0) r = ctl_table_set(t, 7, json_string(link, "master"));
        if (r >= 0) r = ctl_table_set(t, 8, addresses);
        return r;
}

static int print_interfaces(json_object *caps) {
        static const CtlColumn columns[] = {
                CTL_COLUMN("INTERFACE", "name", CTL_STRING),
                CTL_COLUMN("KIND", "kind", CTL_STRING),
                CTL_COLUMN("STATE", "operstate", CTL_STRING),
                CTL_COLUMN("CARRIER", "carrier", CTL_BOOLEAN),
                CTL_COLUMN("MTU", "mtu", CTL_NUMBER),
                CTL_COLUMN("SPEED", "speed", CTL_STRING),
                CTL_COLUMN("MAC", "mac", CTL_STRING),
                CTL_COLUMN("MASTER", "master", CTL_STRING),
                CTL_COLUMN("ADDRESSES", "addresses", CTL_STRINGS),
                {}
        };
        _cleanup_(ctl_table_freep) CtlTable *t = ctl_table_new("interfaces", columns);
        json_object *links;
        int r = 0;

        if (!t)
                return -ENOMEM;
        if (json_object_object_get_ex(caps, "interfaces", &links) && json_object_is_type(links, json_type_array))
                for (size_t i = 0; r >= 0 && i < json_object_array_length(links); i++)
                        r = interface_row(t, json_object_array_get_idx(links, i));
        if (r < 0)
                return r;
        return ctl_table_print(t);
}

/* "br0 (p1, p2)" */
static void print_bridge(FILE *f, json_object *bridge) {
        json_object *ports;

        fprintf(f, "%s (", json_string(bridge, "name"));
        if (json_object_object_get_ex(bridge, "ports", &ports) && json_object_is_type(ports, json_type_array))
                for (size_t i = 0; i < json_object_array_length(ports); i++)
                        fprintf(f, "%s%s", i ? ", " : "", json_string(json_object_array_get_idx(ports, i), "name"));
        fputc(')', f);
}

/* Open vSwitch's bridges with their ports: "br0 (p1, p2), br1 ()". */
static char *ovs_bridges_text(json_object *caps) {
        _cleanup_(freep) char *text = NULL;
        json_object *bridges;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        if (!f)
                return NULL;
        if (json_object_object_get_ex(caps, "ovs_bridges", &bridges) && json_object_is_type(bridges, json_type_array))
                for (size_t i = 0; i < json_object_array_length(bridges); i++) {
                        fputs(i ? ", " : "", f);
                        print_bridge(f, json_object_array_get_idx(bridges, i));
                }
        if (fclose(f) != 0)
                return NULL;
        if (isempty(text))
                return strdup("none");
        return TAKE_PTR(text);
}

/* Below the table: what the kernel can build, Open vSwitch, the agent's networks. */
static int print_abilities(json_object *caps) {
        _cleanup_(ctl_fields_freep) CtlFields *f = ctl_fields_new();
        _cleanup_(strv_freep) char **networks = json_strings(caps, "networks");
        _cleanup_(freep) char *bridges = ovs_bridges_text(caps);
        json_object *kernel = NULL;
        int r;

        if (!f || !networks || !bridges)
                return -ENOMEM;
        (void) json_object_object_get_ex(caps, "kernel", &kernel);
        r = ctl_fields_add(f, "VLANs", "vlan", CTL_BOOLEAN, json_flag(kernel, "vlan"));
        if (r >= 0) r = ctl_fields_add(f, "Bonds", "bonding", CTL_BOOLEAN, json_flag(kernel, "bonding"));
        if (r >= 0) r = ctl_fields_add(f, "OVS datapath", "ovs_datapath", CTL_BOOLEAN,
                                       json_flag(kernel, "ovs_datapath"));
        if (r >= 0) r = ctl_fields_add(f, "OVS running", "ovs_running", CTL_BOOLEAN, json_flag(kernel, "ovs_running"));
        if (r >= 0) r = ctl_fields_add(f, "OVS bridges", "ovs_bridges", CTL_STRING, bridges);
        if (r >= 0) r = ctl_fields_add(f, "Networks", "networks", CTL_STRINGS, networks);
        if (r >= 0) r = ctl_fields_print(f);
        return r;
}

int verb_network_caps(int argc, char **argv, sd_bus *bus) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(json_object_putp) json_object *o = NULL;
        const char *caps;
        int r;

        r = ctl_call(bus, CTL_ROOT, CTL_MANAGER, "GetNetworkCapabilities",
                     CTL_ABOUT(NULL, NULL, "read the network capabilities"), &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "s", &caps);
        if (r < 0)
                return r;
        /* Scripts get the agent's JSON as it is; people a table of the interfaces, then the rest. */
        if (arg.json != JSON_OFF)
                return ctl_print_json_text(caps);
        o = json_tokener_parse(caps);
        if (!o)
                return ctl_fail(NULL, "the agent's capabilities are not JSON: %s", caps);
        r = print_interfaces(o);
        if (r < 0)
                return r;
        putchar('\n');
        return print_abilities(o);
}
