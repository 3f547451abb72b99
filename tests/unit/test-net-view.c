/* What a network's bus object shows, from the kernel's and Open vSwitch's state: values, ports, and why it is degraded */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "macro.h"
#include "net-view.h"

/* A small host: the bridge vmnet (ifindex 10) with eth1 and a guest's vnet0
 * in it, eth2 elsewhere, and the VLAN device eth1.100. */
typedef struct Host {
        NetHost h;
        NetLink links[8];
        char *bridge_addresses[2];
} Host;

static NetLink *add_link(Host *host, int ifindex, const char *name, const char *kind, int master, bool up,
                         bool carrier) {
        NetLink *l = &host->links[host->h.n_links++];

        *l = (NetLink) { .ifindex = ifindex, .master = master, .mtu = 1500, .up = up, .carrier = carrier,
                         .speed_mbps = -1 };
        snprintf(l->name, sizeof l->name, "%s", name);
        snprintf(l->kind, sizeof l->kind, "%s", kind);
        snprintf(l->operstate, sizeof l->operstate, "%s", up ? "up" : "down");
        return l;
}

static void host_init(Host *host) {
        NetLink *br;

        *host = (Host) {};
        host->h.links = host->links;
        br = add_link(host, 10, "vmnet", "bridge", 0, true, true);
        host->bridge_addresses[0] = (char *) "192.0.2.10/24";
        host->bridge_addresses[1] = (char *) "2001:db8::10/64";
        br->addresses = host->bridge_addresses;
        br->n_addresses = 2;
        add_link(host, 2, "eth1", "", 10, true, true);
        add_link(host, 3, "eth2", "", 0, true, false);
        add_link(host, 11, "vnet0", "tun", 10, true, true);
        add_link(host, 4, "eth1.100", "vlan", 0, true, true);
}

static NetLink *host_link(Host *host, const char *name) {
        return (NetLink *) net_host_find(&host->h, name);
}

static NetConfig config(NetSwitch sw, const char *uplink, unsigned vlan, unsigned mtu) {
        NetConfig c = { .sw = sw, .vlan = vlan, .mtu = mtu };

        snprintf(c.name, sizeof c.name, "vmnet");
        snprintf(c.uplink, sizeof c.uplink, "%s", uplink);
        c.addresses[c.n_addresses++] = strdup("192.0.2.10/24");
        return c;
}

static void assert_strv(char **got, const char *const *wanted) {
        size_t i = 0;

        for (; got && got[i] && wanted[i]; i++)
                assert_string_equal(got[i], wanted[i]);
        if ((got && got[i]) || wanted[i])
                fail_msg("lists differ at %zu: got %s, wanted %s", i, got && got[i] ? got[i] : "(end)",
                         wanted[i] ?: "(end)");
}

/* PROBLEM NULL: it is as configured. */
static void expect_problem(const NetConfig *c, const Host *host, const OvsState *ovs, const char *problem) {
        NetView v = {};

        assert_int_equal(net_view_build(c, &host->h, ovs, &v), 0);
        if (!streq_ptr(v.problem, problem))
                fail_msg("wanted problem '%s', got '%s'", strempty(problem), strempty(v.problem));
        net_view_done(&v);
}

static void test_linux_bridge_as_configured(void **state) {
        Host host;
        NetConfig c;
        NetView v = {};

        host_init(&host);
        c = config(NET_SWITCH_LINUX, "eth1", 0, 1500);
        assert_int_equal(net_view_build(&c, &host.h, NULL, &v), 0);
        assert_null(v.problem);
        assert_int_equal(v.mtu, 1500);
        assert_string_equal(v.operstate, "up");
        assert_true(v.carrier);
        assert_strv(v.addresses, (const char *const[]) { "192.0.2.10/24", "2001:db8::10/64", NULL });
        assert_strv(v.ports, (const char *const[]) { "eth1", "vnet0", NULL });
        net_view_done(&v);
        net_config_done(&c);
}

static void test_linux_bridge_problems(void **state) {
        NetConfig c;
        Host host;

        host_init(&host);
        c = config(NET_SWITCH_LINUX, "eth1", 0, 1500);
        host_link(&host, "eth1")->up = false;
        expect_problem(&c, &host, NULL, "the uplink eth1 is down");
        host_link(&host, "eth1")->master = 0;
        expect_problem(&c, &host, NULL, "the uplink eth1 is not a port of vmnet");
        snprintf(host_link(&host, "eth1")->name, IFNAMSIZ, "eth1-gone");
        expect_problem(&c, &host, NULL, "the uplink eth1 is missing");

        /* The first problem found is the one shown: the bridge before its uplink. */
        host_link(&host, "vmnet")->up = false;
        expect_problem(&c, &host, NULL, "the bridge vmnet is down");
        snprintf(host_link(&host, "vmnet")->name, IFNAMSIZ, "vmnet-gone");
        expect_problem(&c, &host, NULL, "the bridge vmnet is missing");
        net_config_done(&c);

        host_init(&host);
        c = config(NET_SWITCH_LINUX, "eth1", 0, 9000);
        expect_problem(&c, &host, NULL, "the MTU is 1500, not 9000");
        net_config_done(&c);

        host_init(&host);
        c = config(NET_SWITCH_LINUX, "eth1", 0, 0);        /* MTU left as it is */
        expect_problem(&c, &host, NULL, NULL);
        c.addresses[c.n_addresses++] = strdup("198.51.100.1/24");
        expect_problem(&c, &host, NULL, "the address 198.51.100.1/24 is missing");
        net_config_done(&c);

        /* The same address with another prefix is not the address configured. */
        c = config(NET_SWITCH_LINUX, "eth1", 0, 0);
        free(c.addresses[0]);
        c.addresses[0] = strdup("192.0.2.10/25");
        expect_problem(&c, &host, NULL, "the address 192.0.2.10/25 is missing");
        net_config_done(&c);
}

static void test_linux_bridge_gone(void **state) {
        Host host;
        NetConfig c;
        NetView v = {};

        host_init(&host);
        snprintf(host_link(&host, "vmnet")->name, IFNAMSIZ, "other");
        c = config(NET_SWITCH_LINUX, "eth2", 0, 9000);
        assert_int_equal(net_view_build(&c, &host.h, NULL, &v), 0);
        assert_string_equal(v.problem, "the bridge vmnet is missing");
        assert_string_equal(v.operstate, "absent");
        assert_int_equal(v.mtu, 9000);                   /* the configured one, with nothing to measure */
        assert_false(v.carrier);                         /* eth2 has none */
        assert_strv(v.addresses, (const char *const[]) { NULL });
        assert_strv(v.ports, (const char *const[]) { NULL });
        net_view_done(&v);
        net_config_done(&c);
}

static void test_linux_vlan_and_no_uplink(void **state) {
        Host host;
        NetConfig c;
        NetView v = {};

        /* On VLAN 100 the port is eth1.100, not eth1. */
        host_init(&host);
        c = config(NET_SWITCH_LINUX, "eth1", 100, 0);
        expect_problem(&c, &host, NULL, "the uplink eth1.100 is not a port of vmnet");
        host_link(&host, "eth1.100")->master = 10;
        expect_problem(&c, &host, NULL, NULL);
        /* The carrier is the VLAN device's. */
        host_link(&host, "eth1.100")->carrier = false;
        assert_int_equal(net_view_build(&c, &host.h, NULL, &v), 0);
        assert_false(v.carrier);
        net_view_done(&v);
        net_config_done(&c);

        /* No way out: the bridge's own carrier. */
        host_init(&host);
        c = config(NET_SWITCH_LINUX, "", 0, 0);
        assert_int_equal(net_view_build(&c, &host.h, NULL, &v), 0);
        assert_null(v.problem);
        assert_true(v.carrier);
        net_view_done(&v);
        host_link(&host, "vmnet")->carrier = false;
        assert_int_equal(net_view_build(&c, &host.h, NULL, &v), 0);
        assert_false(v.carrier);
        net_view_done(&v);
        net_config_done(&c);
}

/* Open vSwitch: the bridge in the database, its internal port in the kernel. */

typedef struct Ovs {
        OvsState s;
        OvsBridge bridges[1];
        OvsPort ports[3];
} Ovs;

static void ovs_init(Ovs *o) {
        *o = (Ovs) { .s = { .reachable = true, .n_bridges = 1 } };
        o->s.bridges = o->bridges;
        snprintf(o->bridges[0].name, sizeof o->bridges[0].name, "vmnet");
        o->bridges[0].ports = o->ports;
        o->bridges[0].n_ports = 3;
        snprintf(o->ports[0].name, sizeof o->ports[0].name, "eth1");
        snprintf(o->ports[1].name, sizeof o->ports[1].name, "vmnet");
        snprintf(o->ports[1].type, sizeof o->ports[1].type, "internal");
        snprintf(o->ports[2].name, sizeof o->ports[2].name, "vnet7");
        o->ports[2].tag = 7;
}

static void ovs_host_init(Host *host) {
        NetLink *internal;

        *host = (Host) {};
        host->h.links = host->links;
        internal = add_link(host, 20, "vmnet", "openvswitch", 0, true, true);
        host->bridge_addresses[0] = (char *) "192.0.2.10/24";
        internal->addresses = host->bridge_addresses;
        internal->n_addresses = 1;
        add_link(host, 2, "eth1", "", 0, true, true);
}

static void test_ovs_as_configured(void **state) {
        Host host;
        Ovs ovs;
        NetConfig c;
        NetView v = {};

        ovs_host_init(&host);
        ovs_init(&ovs);
        c = config(NET_SWITCH_OVS, "eth1", 0, 0);
        assert_int_equal(net_view_build(&c, &host.h, &ovs.s, &v), 0);
        assert_null(v.problem);
        /* The ports are the database's, without the bridge's own. */
        assert_strv(v.ports, (const char *const[]) { "eth1", "vnet7", NULL });
        assert_strv(v.addresses, (const char *const[]) { "192.0.2.10/24", NULL });
        assert_true(v.carrier);
        net_view_done(&v);
        net_config_done(&c);
}

static void test_ovs_problems(void **state) {
        Host host;
        Ovs ovs;
        NetConfig c;
        NetView v = {};

        ovs_host_init(&host);
        ovs_init(&ovs);
        c = config(NET_SWITCH_OVS, "eth1", 0, 0);
        /* Open vSwitch away: degraded, and no ports can be told. */
        assert_int_equal(net_view_build(&c, &host.h, NULL, &v), 0);
        assert_string_equal(v.problem, "Open vSwitch does not answer");
        assert_strv(v.ports, (const char *const[]) { NULL });
        net_view_done(&v);
        ovs.s.reachable = false;
        expect_problem(&c, &host, &ovs.s, "Open vSwitch does not answer");
        ovs.s.reachable = true;

        snprintf(host_link(&host, "vmnet")->name, IFNAMSIZ, "gone");
        expect_problem(&c, &host, &ovs.s, "the bridge's own port vmnet is missing");
        snprintf(host_link(&host, "gone")->name, IFNAMSIZ, "vmnet");
        host_link(&host, "vmnet")->n_addresses = 0;
        expect_problem(&c, &host, &ovs.s, "the address 192.0.2.10/24 is missing");
        snprintf(host_link(&host, "eth1")->name, IFNAMSIZ, "gone");
        expect_problem(&c, &host, &ovs.s, "the uplink eth1 is missing");
        /* A bond is a port of the database only: no such kernel device to look for. */
        snprintf(c.uplink, sizeof c.uplink, "bond0");
        snprintf(ovs.ports[0].name, sizeof ovs.ports[0].name, "bond0");
        c.n_bond_slaves = 2;
        expect_problem(&c, &host, &ovs.s, "the address 192.0.2.10/24 is missing");
        ovs.bridges[0].n_ports = 0;
        expect_problem(&c, &host, &ovs.s, "the uplink bond0 is not a port of vmnet");
        snprintf(ovs.bridges[0].name, sizeof ovs.bridges[0].name, "other");
        expect_problem(&c, &host, &ovs.s, "the Open vSwitch bridge vmnet is missing");
        net_config_done(&c);
}

static void test_equal(void **state) {
        Host host;
        NetConfig c;
        NetView a = {}, b = {};

        host_init(&host);
        c = config(NET_SWITCH_LINUX, "eth1", 0, 1500);
        assert_int_equal(net_view_build(&c, &host.h, NULL, &a), 0);
        assert_int_equal(net_view_build(&c, &host.h, NULL, &b), 0);
        assert_true(net_view_equal(&a, &b));
        net_view_done(&b);

        /* Each change the bus object would show makes them differ. */
        host_link(&host, "vmnet")->mtu = 1400;
        assert_int_equal(net_view_build(&c, &host.h, NULL, &b), 0);
        assert_false(net_view_equal(&a, &b));           /* MTU, and now a problem */
        net_view_done(&b);
        host_init(&host);
        host_link(&host, "vnet0")->master = 0;
        assert_int_equal(net_view_build(&c, &host.h, NULL, &b), 0);
        assert_false(net_view_equal(&a, &b));           /* ports only */
        assert_null(b.problem);
        net_view_done(&b);
        host_init(&host);
        host_link(&host, "vmnet")->n_addresses = 1;
        assert_int_equal(net_view_build(&c, &host.h, NULL, &b), 0);
        assert_false(net_view_equal(&a, &b));           /* addresses only */
        net_view_done(&b);
        host_init(&host);
        host_link(&host, "eth1")->carrier = false;
        assert_int_equal(net_view_build(&c, &host.h, NULL, &b), 0);
        assert_false(net_view_equal(&a, &b));           /* carrier only */
        net_view_done(&b);
        host_init(&host);
        snprintf(host_link(&host, "vmnet")->operstate, 16, "lowerlayerdown");
        assert_int_equal(net_view_build(&c, &host.h, NULL, &b), 0);
        assert_false(net_view_equal(&a, &b));           /* operstate only */
        net_view_done(&b);
        /* Empty lists and no lists are the same. */
        b = (NetView) { .mtu = 1, .operstate = "x" };
        NetView empty = { .mtu = 1, .operstate = "x", .addresses = calloc(1, sizeof(char *)),
                          .ports = calloc(1, sizeof(char *)) };
        assert_true(net_view_equal(&b, &empty));
        net_view_done(&empty);
        net_view_done(&a);
        net_config_done(&c);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_linux_bridge_as_configured),
                cmocka_unit_test(test_linux_bridge_problems),
                cmocka_unit_test(test_linux_bridge_gone),
                cmocka_unit_test(test_linux_vlan_and_no_uplink),
                cmocka_unit_test(test_ovs_as_configured),
                cmocka_unit_test(test_ovs_problems),
                cmocka_unit_test(test_equal),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
