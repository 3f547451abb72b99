/* Desired host networks: the JSON of SetupNetworks, validated */
#include "net-spec.h"

#include <arpa/inet.h>
#include <stdio.h>

#include "ifname.h"
#include "json-cleanup.h"
#include "json-dispatch.h"
#include "json-field.h"
#include "macro.h"

static const char *const switches[] = { "linux", "ovs", NULL };
static const char *const bond_modes[] = { "balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad",
                                          "balance-tlb", "balance-alb", NULL };

void net_config_done(NetConfig *c) {
        for (size_t i = 0; i < c->n_addresses; i++)
                free(c->addresses[i]);
        *c = (NetConfig) {};
}

void net_desired_done(NetDesired *d) {
        for (size_t i = 0; i < d->n_networks; i++)
                net_config_done(&d->networks[i]);
        free(d->networks);
        free(d->remove);
        *d = (NetDesired) {};
}

void net_config_port(const NetConfig *c, char ret[IFNAMSIZ]) {
        char buf[IFNAMSIZ + 16];

        /* The parser keeps "uplink.vlan" within IFNAMSIZ; the copy through BUF says so to the compiler. */
        if (c->vlan && c->sw == NET_SWITCH_LINUX) {
                snprintf(buf, sizeof buf, "%s.%u", c->uplink, c->vlan % 10000);
                memcpy(ret, buf, IFNAMSIZ - 1);
                ret[IFNAMSIZ - 1] = 0;
        } else
                snprintf(ret, IFNAMSIZ, "%s", c->uplink);
}

/* "192.0.2.10/24" or "2001:db8::1/64", written back in canonical form. */
static int parse_cidr(const char *s, char **ret) {
        char ip[INET6_ADDRSTRLEN + 1], canon[INET6_ADDRSTRLEN];
        unsigned char buf[sizeof(struct in6_addr)];
        const char *slash = strchr(s, '/');
        char *end;
        unsigned long prefix;
        int family;

        if (!slash || (size_t) (slash - s) >= sizeof ip)
                return -EINVAL;
        memcpy(ip, s, (size_t) (slash - s));
        ip[slash - s] = 0;
        family = strchr(ip, ':') ? AF_INET6 : AF_INET;
        if (inet_pton(family, ip, buf) != 1)
                return -EINVAL;
        errno = 0;
        prefix = strtoul(slash + 1, &end, 10);
        if (errno || *end || end == slash + 1 || prefix > (family == AF_INET ? 32u : 128u) || prefix == 0)
                return -EINVAL;
        inet_ntop(family, buf, canon, sizeof canon);
        return asprintf(ret, "%s/%lu", canon, prefix) < 0 ? -ENOMEM : 0;
}

static int get_ifname(json_object *v, const char *field, char ret[IFNAMSIZ], char **ret_error) {
        const char *s;
        int r;

        r = json_field_string(v, field, IFNAMSIZ - 1, &s, ret_error);
        if (r < 0)
                return r;
        if (!ifname_valid(s))
                return json_field_fail(ret_error, field, "'%s' is not an interface name", s);
        snprintf(ret, IFNAMSIZ, "%s", s);
        return 0;
}

static int net_dispatch_ifname(json_object *v, const char *field, const JsonDispatch *entry, void *ret,
                               char **ret_error) {
        return get_ifname(v, field, ret, ret_error);
}

static int net_dispatch_bond_mode(json_object *v, const char *field, const JsonDispatch *entry, void *ret,
                                  char **ret_error) {
        const char *mode;
        int r;

        r = json_field_enum(v, field, bond_modes, &mode, ret_error);
        if (r < 0)
                return r;
        snprintf(ret, sizeof_field(NetConfig, bond_mode), "%s", mode);
        return 0;
}

static int net_dispatch_bond_slaves(json_object *v, const char *field, const JsonDispatch *entry, void *ret,
                                    char **ret_error) {
        NetConfig *c = ret;
        char item[128];
        int r;

        if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) < 1 ||
            json_object_array_length(v) > NET_MAX_BOND_SLAVES)
                return json_field_fail(ret_error, field, "%s", entry->missing);
        for (size_t i = 0; i < json_object_array_length(v); i++) {
                snprintf(item, sizeof item, "%s[%zu]", field, i);
                r = get_ifname(json_object_array_get_idx(v, i), item, c->bond_slaves[i], ret_error);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < i; j++)
                        if (streq(c->bond_slaves[i], c->bond_slaves[j]))
                                return json_field_fail(ret_error, item, "is listed twice");
                c->n_bond_slaves = i + 1;
        }
        return 0;
}

/* The slaves are checked after the mode and any unknown key. */
static const JsonDispatch bond_fields[] = {
        { "mode", json_type_string, net_dispatch_bond_mode, .offset = offsetof(NetConfig, bond_mode) },
        { "slaves", JSON_DISPATCH_ANY, net_dispatch_bond_slaves, .offset = 0,
          .flags = JSON_DISPATCH_REQUIRED | JSON_DISPATCH_DEFERRED,
          .missing = "must name 1 to " STRINGIFY(NET_MAX_BOND_SLAVES) " interfaces" },
        {}
};

static int net_dispatch_bond(json_object *v, const char *field, const JsonDispatch *entry, void *ret,
                             char **ret_error) {
        NetConfig *c = ret;

        if (!v)
                return 0;   /* "bond": null has always meant no bond */
        if (!json_object_is_type(v, json_type_object))
                return json_field_fail(ret_error, field, "must be an object with slaves and mode");
        snprintf(c->bond_mode, sizeof c->bond_mode, "active-backup");
        return json_dispatch(v, field, bond_fields, c, ret_error);
}

static int net_dispatch_switch(json_object *v, const char *field, const JsonDispatch *entry, void *ret,
                               char **ret_error) {
        const char *s;
        int r;

        r = json_field_enum(v, field, switches, &s, ret_error);
        if (r < 0)
                return r;
        *(NetSwitch *) ret = streq(s, "ovs") ? NET_SWITCH_OVS : NET_SWITCH_LINUX;
        return 0;
}

static int net_dispatch_addresses(json_object *v, const char *field, const JsonDispatch *entry, void *ret,
                                  char **ret_error) {
        NetConfig *c = ret;
        char item[128];
        const char *s;
        int r;

        if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) > NET_MAX_ADDRESSES)
                return json_field_fail(ret_error, field, "must be an array of at most %d CIDRs", NET_MAX_ADDRESSES);
        for (size_t i = 0; i < json_object_array_length(v); i++) {
                snprintf(item, sizeof item, "%s[%zu]", field, i);
                r = json_field_string(json_object_array_get_idx(v, i), item, 64, &s, ret_error);
                if (r < 0)
                        return r;
                if (parse_cidr(s, &c->addresses[i]) < 0)
                        return json_field_fail(ret_error, item, "'%s' is not an address/prefix", s);
                c->n_addresses = i + 1;
                for (size_t j = 0; j < i; j++)
                        if (streq(c->addresses[i], c->addresses[j]))
                                return json_field_fail(ret_error, item, "is listed twice");
        }
        return 0;
}

/* In the state file or a SetupNetworks call, "remove" stands alone (net_desired_parse takes it). */
static int net_dispatch_remove(json_object *v, const char *field, const JsonDispatch *entry, void *ret,
                               char **ret_error) {
        return json_field_fail(ret_error, field, "a network to remove takes no other keys");
}

/* The bond is read last, so that the other keys' errors come first. */
static const JsonDispatch net_fields[] = {
        { "switch", json_type_string, net_dispatch_switch, .offset = offsetof(NetConfig, sw) },
        { "uplink", json_type_string, net_dispatch_ifname, .offset = offsetof(NetConfig, uplink) },
        { "vlan", json_type_int, json_dispatch_unsigned, .offset = offsetof(NetConfig, vlan), .min = 1, .max = 4094 },
        { "mtu", json_type_int, json_dispatch_unsigned, .offset = offsetof(NetConfig, mtu), .min = 68, .max = 65535 },
        { "addresses", JSON_DISPATCH_ANY, net_dispatch_addresses, .offset = 0 },
        { "bond", JSON_DISPATCH_ANY, net_dispatch_bond, .offset = 0, .flags = JSON_DISPATCH_DEFERRED },
        { "remove", JSON_DISPATCH_ANY, net_dispatch_remove, .offset = 0 },
        {}
};

/* What the keys of a network say together. */
static int net_config_check(const NetConfig *c, const char *prefix, char **ret_error) {
        char field[128];

        snprintf(field, sizeof field, "%s.uplink", prefix);
        if (c->n_bond_slaves) {
                if (!c->uplink[0])
                        return json_field_fail(ret_error, field, "names the bond to make (e.g. \"bond0\")");
                for (size_t i = 0; i < c->n_bond_slaves; i++)
                        if (streq(c->bond_slaves[i], c->uplink))
                                return json_field_fail(ret_error, field, "cannot be one of the bond's slaves");
        }
        snprintf(field, sizeof field, "%s.vlan", prefix);
        if (c->vlan && !c->uplink[0])
                return json_field_fail(ret_error, field, "needs an uplink to tag traffic on");
        if (c->vlan && c->sw == NET_SWITCH_LINUX && strlen(c->uplink) + 1 + 4 >= IFNAMSIZ)
                return json_field_fail(ret_error, field, "the VLAN device name %s.%u would be too long", c->uplink,
                                       c->vlan);
        snprintf(field, sizeof field, "%s.uplink", prefix);
        if (streq(c->uplink, c->name))
                return json_field_fail(ret_error, field, "cannot be the network's own bridge");
        return 0;
}

int net_config_from_json(const char *name, json_object *o, NetConfig *ret, char **ret_error) {
        _cleanup_(net_config_done) NetConfig c = {};
        char prefix[64];
        int r;

        snprintf(prefix, sizeof prefix, "networks.%s", name);
        if (strlen(name) >= IFNAMSIZ || !json_name_valid(name) || !ifname_valid(name))
                return json_field_fail(ret_error, prefix, "a network's name is its bridge's: 1 to %d letters, "
                                       "digits, '.', '_' or '-', starting with a letter or digit", IFNAMSIZ - 1);
        snprintf(c.name, sizeof c.name, "%s", name);
        r = json_dispatch(o, prefix, net_fields, &c, ret_error);
        if (r < 0)
                return r;
        r = net_config_check(&c, prefix, ret_error);
        if (r < 0)
                return r;
        *ret = c;
        c = (NetConfig) {};
        return 0;
}

static int net_dispatch_networks(json_object *v, const char *field, const JsonDispatch *entry, void *ret,
                                 char **ret_error) {
        if (!json_object_is_type(v, json_type_object))
                return json_field_fail(ret_error, field, "%s", entry->missing);
        *(json_object **) ret = v;
        return 0;
}

/* Only "networks", checked after any unknown key. */
static const JsonDispatch desired_fields[] = {
        { "networks", JSON_DISPATCH_ANY, net_dispatch_networks, .offset = 0,
          .flags = JSON_DISPATCH_REQUIRED | JSON_DISPATCH_DEFERRED,
          .missing = "is required: an object of networks by name" },
        {}
};

int net_desired_parse(const char *text, NetDesired *ret, char **ret_error) {
        _cleanup_(json_object_putp) json_object *root = NULL;
        _cleanup_(net_desired_done) NetDesired d = {};
        enum json_tokener_error jerr;
        json_object *networks, *flag;
        size_t n;
        int r;

        if (strlen(text) > NET_SPEC_MAX_BYTES)
                return json_field_fail(ret_error, "desired", "must be at most %d bytes", NET_SPEC_MAX_BYTES);
        root = json_tokener_parse_verbose(text, &jerr);
        if (!root)
                return json_field_fail(ret_error, "desired", "not valid JSON: %s", json_tokener_error_desc(jerr));
        if (!json_object_is_type(root, json_type_object))
                return json_field_fail(ret_error, "desired", "must be a JSON object");
        r = json_dispatch(root, NULL, desired_fields, &networks, ret_error);
        if (r < 0)
                return r;
        n = (size_t) json_object_object_length(networks);
        if (n == 0 || n > NET_MAX_NETWORKS)
                return json_field_fail(ret_error, "networks", "must name 1 to %d networks", NET_MAX_NETWORKS);
        d.networks = calloc(n, sizeof *d.networks);
        d.remove = calloc(n, sizeof *d.remove);
        if (!d.networks || !d.remove)
                return -ENOMEM;
        json_object_object_foreach(networks, name, o) {
                char field[64];

                snprintf(field, sizeof field, "networks.%s", name);
                if (json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, "remove", &flag)) {
                        if (!json_object_is_type(flag, json_type_boolean) || !json_object_get_boolean(flag))
                                return json_field_fail(ret_error, field, "remove: must be true (or left out)");
                        if (json_object_object_length(o) != 1)
                                return json_field_fail(ret_error, field, "a network to remove takes no other keys");
                        if (strlen(name) >= IFNAMSIZ || !ifname_valid(name))
                                return json_field_fail(ret_error, field, "is not a network name");
                        snprintf(d.remove[d.n_remove++], IFNAMSIZ, "%s", name);
                        continue;
                }
                r = net_config_from_json(name, o, &d.networks[d.n_networks], ret_error);
                if (r < 0)
                        return r;
                d.n_networks++;
        }
        /* One port belongs to one network. */
        for (size_t i = 0; i < d.n_networks; i++)
                for (size_t j = 0; j < i; j++) {
                        char a[IFNAMSIZ], b[IFNAMSIZ], field[64];
                        net_config_port(&d.networks[i], a);
                        net_config_port(&d.networks[j], b);
                        snprintf(field, sizeof field, "networks.%s.uplink", d.networks[i].name);
                        if (a[0] && streq(a, b) && d.networks[i].sw == d.networks[j].sw &&
                            d.networks[i].sw == NET_SWITCH_LINUX)
                                return json_field_fail(ret_error, field, "%s is the uplink of %s too", a,
                                                       d.networks[j].name);
                }
        *ret = d;
        d = (NetDesired) {};
        return 0;
}

json_object *net_config_to_json(const NetConfig *c) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "switch", json_object_new_string(c->sw == NET_SWITCH_OVS ? "ovs" : "linux"));
        if (c->uplink[0])
                json_object_object_add(o, "uplink", json_object_new_string(c->uplink));
        if (c->vlan)
                json_object_object_add(o, "vlan", json_object_new_int((int) c->vlan));
        if (c->mtu)
                json_object_object_add(o, "mtu", json_object_new_int((int) c->mtu));
        if (c->n_addresses) {
                json_object *a = json_object_new_array();
                for (size_t i = 0; i < c->n_addresses; i++)
                        json_object_array_add(a, json_object_new_string(c->addresses[i]));
                json_object_object_add(o, "addresses", a);
        }
        if (c->n_bond_slaves) {
                json_object *b = json_object_new_object(), *s = json_object_new_array();
                for (size_t i = 0; i < c->n_bond_slaves; i++)
                        json_object_array_add(s, json_object_new_string(c->bond_slaves[i]));
                json_object_object_add(b, "slaves", s);
                json_object_object_add(b, "mode", json_object_new_string(c->bond_mode));
                json_object_object_add(o, "bond", b);
        }
        return o;
}

int net_config_copy(const NetConfig *src, NetConfig *ret) {
        *ret = *src;
        for (size_t i = 0; i < src->n_addresses; i++)
                if (!(ret->addresses[i] = strdup(src->addresses[i]))) {
                        ret->n_addresses = i;
                        net_config_done(ret);
                        return -ENOMEM;
                }
        return 0;
}

static void names_add(FILE *f, bool *first, const char *name) {
        fprintf(f, "%s%s", *first ? "" : ",", name);
        *first = false;
}

/* *NAMES is F's open_memstream() buffer, final only once F is closed. */
static char *names_close(FILE *f, char **names, bool none) {
        if (fclose(f) != 0 || none) {
                free(*names);
                return NULL;
        }
        return *names;
}

char *net_desired_names(const char *text) {
        _cleanup_(json_object_putp) json_object *root =
                strlen(text) <= NET_SPEC_MAX_BYTES ? json_tokener_parse(text) : NULL;
        json_object *networks;
        char *names = NULL;
        size_t size = 0;
        bool first = true;
        FILE *f;

        if (!json_object_object_get_ex(root, "networks", &networks) ||
            !json_object_is_type(networks, json_type_object) || !(f = open_memstream(&names, &size)))
                return NULL;
        json_object_object_foreach(networks, name, value)
                names_add(f, &first, name);
        return names_close(f, &names, first);
}

static const NetConfig *config_find(const NetConfig *c, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (streq(c[i].name, name))
                        return &c[i];
        return NULL;
}

static bool config_same(const NetConfig *a, const NetConfig *b) {
        _cleanup_(json_object_putp) json_object *ja = a ? net_config_to_json(a) : NULL;
        _cleanup_(json_object_putp) json_object *jb = b ? net_config_to_json(b) : NULL;

        return ja && jb && json_object_equal(ja, jb);
}

char *net_configs_changed_names(const NetConfig *a, size_t n_a, const NetConfig *b, size_t n_b) {
        char *names = NULL;
        size_t size = 0;
        bool first = true;
        FILE *f = open_memstream(&names, &size);

        if (!f)
                return NULL;
        for (size_t i = 0; i < n_a; i++)
                if (!config_same(&a[i], config_find(b, n_b, a[i].name)))
                        names_add(f, &first, a[i].name);
        for (size_t i = 0; i < n_b; i++)
                if (!config_find(a, n_a, b[i].name))
                        names_add(f, &first, b[i].name);
        return names_close(f, &names, first);
}
