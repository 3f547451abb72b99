/* Network plans from a host snapshot: the steps, their order, and what is refused before any step */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "macro.h"
#include "net-plan.h"
#include "net-spec.h"

static NetLink link_of(int ifindex, const char *name, const char *kind, int master, unsigned mtu, bool up) {
        NetLink l = { .ifindex = ifindex, .master = master, .mtu = mtu, .up = up, .speed_mbps = -1 };

        snprintf(l.name, sizeof l.name, "%s", name);
        snprintf(l.kind, sizeof l.kind, "%s", kind);
        return l;
}

/* eth0, eth1 (up, MTU 1500), and someone else's bridge br9 with eth2 in it. */
static NetHost sample_host(void) {
        NetHost h = { .links = calloc(8, sizeof(NetLink)) };

        h.links[h.n_links++] = link_of(1, "lo", "", 0, 65536, true);
        h.links[h.n_links++] = link_of(2, "eth0", "veth", 0, 1500, true);
        h.links[h.n_links++] = link_of(3, "eth1", "veth", 0, 1500, true);
        h.links[h.n_links++] = link_of(4, "br9", "bridge", 0, 1500, true);
        h.links[h.n_links++] = link_of(5, "eth2", "veth", 4, 1500, true);
        return h;
}

static const NetKernel no_extras = { .vlan = false, .bonding = false, .ovs_datapath = false };
static const NetKernel everything = { .vlan = true, .bonding = true, .ovs_datapath = true };
static const OvsState no_ovs = { .reachable = false };
static const NetEnv env = { .ovsdb = "unix:/nowhere", .ovs_datapath = "system", .ovs_timeout_ms = 1000 };

static int plan(const char *desired_json, const NetKernel *k, char **ret_text, char **ret_error) {
        NetDesired d = {};
        NetHost h = sample_host();
        NetPlan p = {};
        int r;

        r = net_desired_parse(desired_json, &d, ret_error);
        if (r >= 0)
                r = net_plan_build(NULL, 0, &d, &h, &no_ovs, k, &env, &p, ret_error);
        if (r >= 0)
                *ret_text = net_plan_describe(&p);
        net_plan_done(&p);
        net_desired_done(&d);
        net_host_done(&h);
        return r;
}

static void test_new_bridge_steps_in_order(void **state) {
        _cleanup_(freep) char *text = NULL, *error = NULL;

        assert_int_equal(plan("{\"networks\":{\"vmnet\":{\"uplink\":\"eth0\",\"mtu\":9000,"
                              "\"addresses\":[\"192.0.2.1/24\"]}}}", &no_extras, &text, &error), 0);
        /* Create, raise the uplink's MTU before it joins, join, the bridge's MTU, up, address last. */
        assert_string_equal(text,
                "[{\"step\":1,\"action\":\"create bridge\",\"link\":\"vmnet\"},"
                "{\"step\":2,\"action\":\"set mtu\",\"link\":\"eth0\",\"value\":\"9000\"},"
                "{\"step\":3,\"action\":\"set master\",\"link\":\"eth0\",\"value\":\"vmnet\"},"
                "{\"step\":4,\"action\":\"set mtu\",\"link\":\"vmnet\",\"value\":\"9000\"},"
                "{\"step\":5,\"action\":\"set state\",\"link\":\"vmnet\",\"value\":\"up\"},"
                "{\"step\":6,\"action\":\"add address\",\"link\":\"vmnet\",\"value\":\"192.0.2.1/24\"}]");
}

static void test_refusals_before_any_step(void **state) {
        static const struct { const char *desired; const NetKernel *kernel; int r; const char *error; } cases[] = {
                { "{\"networks\":{\"n\":{\"uplink\":\"eth7\"}}}", &no_extras, -EINVAL,
                  "networks.n.uplink: there is no interface eth7" },
                { "{\"networks\":{\"n\":{\"uplink\":\"eth2\"}}}", &no_extras, -EINVAL,
                  "networks.n.uplink: eth2 is a port of br9 already" },
                { "{\"networks\":{\"br9\":{}}}", &no_extras, -EINVAL,
                  "networks.br9: an interface named br9 exists and is not one of the agent's networks" },
                { "{\"networks\":{\"n\":{\"uplink\":\"eth0\",\"vlan\":7}}}", &no_extras, -EOPNOTSUPP,
                  "networks.n.vlan: this kernel has no 802.1Q VLAN support" },
                { "{\"networks\":{\"n\":{\"uplink\":\"bond0\",\"bond\":{\"slaves\":[\"eth0\",\"eth1\"]}}}}", &no_extras,
                  -EOPNOTSUPP, "networks.n.bond: this kernel has no bonding support" },
                { "{\"networks\":{\"n\":{\"uplink\":\"bond0\",\"bond\":{\"slaves\":[\"eth0\",\"eth2\"]}}}}", &everything,
                  -EINVAL, "networks.n.bond.slaves[1]: eth2 is a port of br9" },
                { "{\"networks\":{\"n\":{\"switch\":\"ovs\",\"uplink\":\"eth0\"}}}", &everything, -EOPNOTSUPP,
                  "networks.n.switch: Open vSwitch is not running here" },
                { "{\"networks\":{\"gone\":{\"remove\":true}}}", &no_extras, -EINVAL,
                  "networks.gone: no network gone of the agent's to remove" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(freep) char *text = NULL, *error = NULL;
                int r = plan(cases[i].desired, cases[i].kernel, &text, &error);

                if (r != cases[i].r || !error || strstr(error, cases[i].error) != error)
                        fail_msg("%s: wanted %d '%s', got %d '%s'", cases[i].desired, cases[i].r, cases[i].error, r,
                                 strempty(error));
                assert_null(text);
        }
}

static void test_vlan_and_bond_where_the_kernel_has_them(void **state) {
        _cleanup_(freep) char *text = NULL, *error = NULL, *bond = NULL;

        assert_int_equal(plan("{\"networks\":{\"t\":{\"uplink\":\"eth0\",\"vlan\":7}}}", &everything, &text, &error), 0);
        assert_non_null(strstr(text, "{\"step\":2,\"action\":\"create vlan\",\"link\":\"eth0.7\",\"value\":\"id 7 on eth0\"}"));
        assert_non_null(strstr(text, "\"action\":\"set master\",\"link\":\"eth0.7\",\"value\":\"t\""));
        assert_int_equal(plan("{\"networks\":{\"b\":{\"uplink\":\"bond0\",\"bond\":{\"slaves\":[\"eth0\",\"eth1\"],"
                              "\"mode\":\"802.3ad\"}}}}", &everything, &bond, &error), 0);
        /* Slaves go down before they join the bond, and come up after. */
        assert_non_null(strstr(bond, "\"action\":\"create bond\",\"link\":\"bond0\",\"value\":\"mode 802.3ad\""));
        assert_true(strstr(bond, "\"set state\",\"link\":\"eth0\",\"value\":\"down\"") <
                    strstr(bond, "\"set master\",\"link\":\"eth0\",\"value\":\"bond0\""));
        assert_true(strstr(bond, "\"set master\",\"link\":\"eth0\",\"value\":\"bond0\"") <
                    strstr(bond, "\"set state\",\"link\":\"eth0\",\"value\":\"up\""));
}

static void test_plan_survives_the_journal(void **state) {
        _cleanup_(freep) char *a = NULL, *b = NULL;
        NetDesired d = {};
        NetHost h = sample_host();
        NetPlan p = {}, back = {};
        char *error = NULL;
        json_object *j;

        assert_int_equal(net_desired_parse("{\"networks\":{\"v\":{\"uplink\":\"eth1\",\"addresses\":[\"2001:DB8::1/64\"]}}}",
                                           &d, &error), 0);
        assert_int_equal(net_plan_build(NULL, 0, &d, &h, &no_ovs, &no_extras, &env, &p, &error), 0);
        j = net_plan_to_json(&p);
        assert_int_equal(net_plan_from_json(j, &back), 0);
        a = net_plan_describe(&p);
        b = net_plan_describe(&back);
        assert_string_equal(a, b);
        assert_non_null(strstr(a, "2001:db8::1/64"));   /* canonical form */
        json_object_put(j);
        net_plan_done(&p);
        net_plan_done(&back);
        net_desired_done(&d);
        net_host_done(&h);
}

/* A journal's steps are read only as net_plan_to_json() writes them: a null or over-long name, a
 * number that is not one, or a missing key refuses the whole plan (a rollback would otherwise act
 * on "(null)", or on a name cut to fit: another link). */
static void test_plan_from_a_damaged_journal_is_refused(void **state) {
        static const char *const damaged[] = {
                "[{\"kind\":0,\"link\":null,\"arg\":\"\",\"old_arg\":\"\",\"value\":0,\"old_value\":0}]",
                "[{\"kind\":0,\"link\":\"br0\",\"arg\":null,\"old_arg\":\"\",\"value\":0,\"old_value\":0}]",
                "[{\"kind\":0,\"link\":\"a-name-longer-than-ifnamsiz\",\"arg\":\"\",\"old_arg\":\"\",\"value\":0,"
                "\"old_value\":0}]",
                "[{\"kind\":0,\"link\":\"br\\u0000x\",\"arg\":\"\",\"old_arg\":\"\",\"value\":0,\"old_value\":0}]",
                "[{\"kind\":\"0\",\"link\":\"br0\",\"arg\":\"\",\"old_arg\":\"\",\"value\":0,\"old_value\":0}]",
                "[{\"kind\":0,\"link\":\"br0\",\"arg\":\"\",\"old_arg\":\"\",\"value\":-1,\"old_value\":0}]",
                "[{\"kind\":0,\"link\":\"br0\",\"arg\":\"\",\"old_arg\":\"\",\"value\":0}]",
                "[{\"kind\":99,\"link\":\"br0\",\"arg\":\"\",\"old_arg\":\"\",\"value\":0,\"old_value\":0}]",
                "[null]",
                "{}",
        };
        NetPlan p = {};

        for (size_t i = 0; i < ELEMENTSOF(damaged); i++) {
                json_object *j = json_tokener_parse(damaged[i]);

                assert_non_null(j);
                assert_int_equal(net_plan_from_json(j, &p), -EBADMSG);
                json_object_put(j);
        }
        json_object *j = json_tokener_parse(
                "[{\"kind\":0,\"link\":\"br0\",\"arg\":\"\",\"old_arg\":\"\",\"value\":0,\"old_value\":0}]");
        assert_int_equal(net_plan_from_json(j, &p), 0);
        assert_int_equal(p.n_steps, 1);
        assert_string_equal(p.steps[0].link, "br0");
        net_plan_done(&p);
        json_object_put(j);
}

/* eth0 at MTU 9000 under the VLAN network big (VLAN 100, 9000), and with
 * WITH_SMALL the VLAN network small (VLAN 200, 1500) too. */
static NetHost vlan_host(bool with_small) {
        NetHost h = sample_host();

        h.links = realloc(h.links, 12 * sizeof(NetLink));
        h.links[1].mtu = 9000;
        h.links[h.n_links++] = link_of(6, "big", "bridge", 0, 9000, true);
        h.links[h.n_links++] = link_of(7, "eth0.100", "vlan", 6, 9000, true);
        if (with_small) {
                h.links[h.n_links++] = link_of(8, "small", "bridge", 0, 1500, true);
                h.links[h.n_links++] = link_of(9, "eth0.200", "vlan", 8, 1500, true);
        }
        return h;
}

static char *plan_over(const char *current_json, const char *desired_json) {
        NetDesired current = {}, d = {};
        NetHost h = vlan_host(strstr(current_json, "small") != NULL);
        NetPlan p = {};
        char *error = NULL, *text = NULL;

        assert_int_equal(net_desired_parse(current_json, &current, &error), 0);
        assert_int_equal(net_desired_parse(desired_json, &d, &error), 0);
        if (net_plan_build(current.networks, current.n_networks, &d, &h, &no_ovs, &everything, &env, &p, &error) < 0)
                fail_msg("%s", strempty(error));
        text = net_plan_describe(&p);
        net_plan_done(&p);
        net_desired_done(&d);
        net_desired_done(&current);
        net_host_done(&h);
        return text;
}

#define BIG "\"big\":{\"uplink\":\"eth0\",\"vlan\":100,\"mtu\":9000}"
#define SMALL "\"small\":{\"uplink\":\"eth0\",\"vlan\":200,\"mtu\":1500}"

/* A lower device carries all the networks on it: its MTU is the largest they
 * ask for, and goes back to Ethernet's default when the last one is gone. */
static void test_uplink_mtu_follows_the_networks_on_it(void **state) {
        _cleanup_(freep) char *add_small = NULL, *remove_big = NULL, *remove_last = NULL, *swap = NULL;

        add_small = plan_over("{\"networks\":{" BIG "}}", "{\"networks\":{" SMALL "}}");
        assert_null(strstr(add_small, "\"set mtu\",\"link\":\"eth0\""));   /* big keeps its 9000 */
        assert_non_null(strstr(add_small, "\"set mtu\",\"link\":\"eth0.200\",\"value\":\"1500\""));

        remove_big = plan_over("{\"networks\":{" BIG "," SMALL "}}", "{\"networks\":{\"big\":{\"remove\":true}}}");
        assert_non_null(strstr(remove_big, "\"set mtu\",\"link\":\"eth0\",\"value\":\"1500\""));

        remove_last = plan_over("{\"networks\":{" BIG "}}", "{\"networks\":{\"big\":{\"remove\":true}}}");
        assert_non_null(strstr(remove_last, "\"set mtu\",\"link\":\"eth0\",\"value\":\"1500\""));
        /* After the VLAN device is gone, not before. */
        assert_true(strstr(remove_last, "\"delete link\",\"link\":\"eth0.100\"") <
                    strstr(remove_last, "\"set mtu\",\"link\":\"eth0\""));

        /* Removed and taken again in one plan: never lowered on the way. */
        swap = plan_over("{\"networks\":{" BIG "}}",
                         "{\"networks\":{\"big\":{\"remove\":true},"
                         "\"other\":{\"uplink\":\"eth0\",\"vlan\":300,\"mtu\":9000}}}");
        assert_null(strstr(swap, "\"set mtu\",\"link\":\"eth0\""));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_new_bridge_steps_in_order),
                cmocka_unit_test(test_refusals_before_any_step),
                cmocka_unit_test(test_vlan_and_bond_where_the_kernel_has_them),
                cmocka_unit_test(test_plan_survives_the_journal),
                cmocka_unit_test(test_plan_from_a_damaged_journal_is_refused),
                cmocka_unit_test(test_uplink_mtu_follows_the_networks_on_it),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
