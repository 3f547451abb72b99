/* hostagentctl's network commands: networks, show-network, setup-networks, confirm, capabilities */
#include <json-c/json.h>
#include <stddef.h>
#include <stdio.h>

#include "ctl-bus.h"
#include "ctl-error.h"
#include "ctl-output.h"
#include "ctl.h"
#include "json-cleanup.h"

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
        CTL_COLUMN("NAME", "name", CTL_STRING),
        CTL_COLUMN("SWITCH", "switch", CTL_STRING),
        CTL_COLUMN("STATE", "state", CTL_STATE),
        CTL_COLUMN("LINK", "oper_state", CTL_STRING),
        CTL_COLUMN("UPLINK", "uplink", CTL_STRING),
        CTL_COLUMN("VLAN", "vlan_tag", CTL_NUMBER),
        CTL_COLUMN("MTU", "mtu", CTL_NUMBER),
        CTL_COLUMN("ADDRESSES", "addresses", CTL_STRINGS),
        CTL_JSON_COLUMN("BRIDGE", "bridge", CTL_STRING),
        CTL_JSON_COLUMN("CARRIER", "carrier", CTL_BOOLEAN),
        CTL_JSON_COLUMN("PORTS", "ports", CTL_STRINGS),
        CTL_JSON_COLUMN("MESSAGE", "state_message", CTL_STRING),
        CTL_JSON_COLUMN("PATH", "path", CTL_STRING),
        {}
};

static int network_row(const char *path, void *object, void *userdata) {
        NetworkInfo *n = object;
        CtlTable *t = userdata;
        int r;

        r = ctl_table_add_row(t);
        if (r >= 0) r = ctl_table_set(t, 0, n->name);
        if (r >= 0) r = ctl_table_set(t, 1, n->switch_type);
        if (r >= 0) r = ctl_table_set(t, 2, n->state);
        if (r >= 0) r = ctl_table_set(t, 3, n->oper_state);
        if (r >= 0) r = ctl_table_set(t, 4, n->uplink);
        if (r >= 0) r = ctl_table_set(t, 5, (uint64_t) n->vlan);
        if (r >= 0) r = ctl_table_set(t, 6, (uint64_t) n->mtu);
        if (r >= 0) r = ctl_table_set(t, 7, n->addresses);
        if (r >= 0) r = ctl_table_set(t, 8, n->bridge);
        if (r >= 0) r = ctl_table_set(t, 9, (int) n->carrier);
        if (r >= 0) r = ctl_table_set(t, 10, n->ports);
        if (r >= 0) r = ctl_table_set(t, 11, n->message);
        if (r >= 0) r = ctl_table_set(t, 12, path);
        return r;
}

int verb_networks(int argc, char **argv, sd_bus *bus) {
        _cleanup_(ctl_table_freep) CtlTable *t = ctl_table_new("networks", network_columns);
        int r;

        if (!t)
                return -ENOMEM;
        r = ctl_for_each_object(bus, CTL_NETWORK, network_map, sizeof(NetworkInfo), network_row, t);
        if (r < 0)
                return r;
        return ctl_table_print(t);
}

static int network_fields(CtlFields *f, const char *path, const NetworkInfo *n) {
        int r;

        r = ctl_fields_add(f, "Name", "name", CTL_STRING, n->name);
        if (r >= 0) r = ctl_fields_add(f, "Path", "path", CTL_STRING, path);
        if (r >= 0) r = ctl_fields_add(f, "Switch", "switch", CTL_STRING, n->switch_type);
        if (r >= 0) r = ctl_fields_add(f, "Bridge", "bridge", CTL_STRING, n->bridge);
        if (r >= 0) r = ctl_fields_add(f, "Uplink", "uplink", CTL_STRING, n->uplink);
        if (r >= 0) r = ctl_fields_add(f, "VLAN", "vlan_tag", CTL_NUMBER, (uint64_t) n->vlan);
        if (r >= 0) r = ctl_fields_add(f, "MTU", "mtu", CTL_NUMBER, (uint64_t) n->mtu);
        if (r >= 0) r = ctl_fields_add(f, "Addresses", "addresses", CTL_STRINGS, n->addresses);
        if (r >= 0) r = ctl_fields_add(f, "Link", "oper_state", CTL_STRING, n->oper_state);
        if (r >= 0) r = ctl_fields_add(f, "Carrier", "carrier", CTL_BOOLEAN, (int) n->carrier);
        if (r >= 0) r = ctl_fields_add(f, "Ports", "ports", CTL_STRINGS, n->ports);
        if (r >= 0) r = ctl_fields_add(f, "State", "state", CTL_STATE, n->state);
        if (r >= 0) r = ctl_fields_add(f, "Message", "state_message", CTL_STRING, n->message);
        if (r >= 0) r = ctl_fields_add(f, "Spec", "spec", CTL_STRING, n->spec);
        return r;
}

int verb_show_network(int argc, char **argv, sd_bus *bus) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(ctl_fields_freep) CtlFields *f = ctl_fields_new();
        _cleanup_(freep) char *path = NULL;
        NetworkInfo n = {};
        int r;

        if (!f)
                return -ENOMEM;
        r = ctl_network_path(argv[1], &path);
        if (r < 0)
                return r;
        r = ctl_get_all(bus, path, CTL_NETWORK, network_map, &n, &error);
        if (r < 0)
                r = ctl_error_report("network", argv[1], "read it", &error);
        if (r >= 0)
                r = network_fields(f, path, &n);
        if (r >= 0)
                r = ctl_fields_print(f);
        ctl_properties_clear(network_map, &n);
        return r;
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
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
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
        r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r < 0)
                return ctl_error_report(NULL, argv[1], "set up the networks", &error);
        r = sd_bus_message_read(reply, "s", &plan);
        if (r < 0)
                return r;
        r = print_plan(plan);
        if (r >= 0 && arg.confirm_sec > 0 && !arg.dry_run && !arg.quiet && arg.json == JSON_OFF)
                printf("Run 'hostagentctl confirm-networks' within %u s to keep the change.\n", arg.confirm_sec);
        return r;
}

int verb_confirm_networks(int argc, char **argv, sd_bus *bus) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call_method(bus, CTL_SERVICE, CTL_ROOT, CTL_MANAGER, "ConfirmNetworks", &error, NULL, NULL);
        if (r < 0)
                return ctl_error_report(NULL, NULL, "confirm the networks", &error);
        return 0;
}

int verb_network_caps(int argc, char **argv, sd_bus *bus) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        JsonMode mode = arg.json;
        const char *caps;
        int r;

        r = sd_bus_call_method(bus, CTL_SERVICE, CTL_ROOT, CTL_MANAGER, "GetNetworkCapabilities", &error, &reply,
                               NULL);
        if (r < 0)
                return ctl_error_report(NULL, NULL, "read the network capabilities", &error);
        r = sd_bus_message_read(reply, "s", &caps);
        if (r < 0)
                return r;
        /* The capabilities are JSON already: shown pretty unless --json=short asks otherwise. */
        if (arg.json == JSON_OFF)
                arg.json = JSON_PRETTY;
        r = ctl_print_json_text(caps);
        arg.json = mode;
        return r;
}
