/* Desired networks: every refusal names its field, and with several wrong the same one is named each time */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "macro.h"
#include "net-spec.h"

static void expect_refused(const char *text, const char *error) {
        _cleanup_(freep) char *why = NULL;
        NetDesired d = {};

        assert_int_equal(net_desired_parse(text, &d, &why), -EINVAL);
        if (!why || !streq(why, error))
                fail_msg("%s: wanted '%s', got '%s'", text, error, strempty(why));
        assert_null(d.networks);
}

static void test_refusals(void **state) {
        static const struct { const char *text, *error; } cases[] = {
                { "[]", "desired: must be a JSON object" },
                { "{}", "networks: is required: an object of networks by name" },
                { "{\"networks\":[]}", "networks: is required: an object of networks by name" },
                { "{\"networks\":{}}", "networks: must name 1 to 64 networks" },
                { "{\"networks\":{\"n1\":[]}}", "networks.n1: must be an object" },
                { "{\"networks\":{\"n1\":{\"colour\":\"red\"}}}", "networks.n1.colour: unknown key" },
                { "{\"networks\":{\"n1\":{\"switch\":\"vde\"}}}", "networks.n1.switch: must be one of linux, ovs" },
                { "{\"networks\":{\"n1\":{\"uplink\":7}}}", "networks.n1.uplink: must be a string" },
                { "{\"networks\":{\"n1\":{\"uplink\":\"eth0\",\"vlan\":0}}}", "networks.n1.vlan: must be between 1 and 4094" },
                { "{\"networks\":{\"n1\":{\"mtu\":true}}}", "networks.n1.mtu: must be an integer" },
                { "{\"networks\":{\"n1\":{\"addresses\":\"192.0.2.1/24\"}}}",
                  "networks.n1.addresses: must be an array of at most 16 CIDRs" },
                { "{\"networks\":{\"n1\":{\"addresses\":[\"192.0.2.1\"]}}}",
                  "networks.n1.addresses[0]: '192.0.2.1' is not an address/prefix" },
                { "{\"networks\":{\"n1\":{\"vlan\":5}}}", "networks.n1.vlan: needs an uplink to tag traffic on" },
                { "{\"networks\":{\"n1\":{\"uplink\":\"n1\"}}}", "networks.n1.uplink: cannot be the network's own bridge" },
                { "{\"networks\":{\"n1\":{\"bond\":[]}}}", "networks.n1.bond: must be an object with slaves and mode" },
                { "{\"networks\":{\"n1\":{\"bond\":{}}}}", "networks.n1.bond.slaves: must name 1 to 8 interfaces" },
                { "{\"networks\":{\"n1\":{\"bond\":{\"slaves\":[\"eth1\",\"eth1\"]}}}}",
                  "networks.n1.bond.slaves[1]: is listed twice" },
                { "{\"networks\":{\"n1\":{\"bond\":{\"slaves\":[\"eth1\"]}}}}",
                  "networks.n1.uplink: names the bond to make (e.g. \"bond0\")" },
                { "{\"networks\":{\"n1\":{\"remove\":true,\"mtu\":1500}}}",
                  "networks.n1: a network to remove takes no other keys" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                expect_refused(cases[i].text, cases[i].error);
}

/* The keys are read in the order given, an unknown key where it stands; the
 * list of networks, a bond and its slaves only after the keys around them. */
static void test_first_of_several_errors(void **state) {
        static const struct { const char *text, *error; } cases[] = {
                { "{\"networks\":[],\"colour\":1}", "colour: unknown key" },
                { "{\"networks\":{\"n1\":{\"vlan\":0}},\"colour\":1}", "colour: unknown key" },
                { "{\"networks\":{\"n1\":{\"mtu\":1,\"vlan\":0}}}", "networks.n1.mtu: must be between 68 and 65535" },
                { "{\"networks\":{\"n1\":{\"vlan\":0,\"mtu\":1}}}", "networks.n1.vlan: must be between 1 and 4094" },
                { "{\"networks\":{\"n1\":{\"bond\":[],\"mtu\":1}}}", "networks.n1.mtu: must be between 68 and 65535" },
                { "{\"networks\":{\"n1\":{\"bond\":[],\"colour\":1}}}", "networks.n1.colour: unknown key" },
                { "{\"networks\":{\"n1\":{\"bond\":{\"slaves\":7,\"mode\":\"x\"}}}}",
                  "networks.n1.bond.mode: must be one of balance-rr, active-backup, balance-xor, broadcast, 802.3ad, "
                  "balance-tlb, balance-alb" },
                { "{\"networks\":{\"n1\":{\"bond\":{\"slaves\":7,\"x\":1}}}}", "networks.n1.bond.x: unknown key" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                expect_refused(cases[i].text, cases[i].error);
}

static void test_bond_defaults_and_null(void **state) {
        _cleanup_(freep) char *why = NULL;
        NetDesired d = {};

        assert_int_equal(net_desired_parse("{\"networks\":{\"n1\":{\"uplink\":\"bond0\",\"bond\":{\"slaves\":[\"eth1\","
                                           "\"eth2\"]}},\"n2\":{\"bond\":null,\"mtu\":9000},\"old\":{\"remove\":true}}}",
                                           &d, &why), 0);
        assert_int_equal(d.n_networks, 2);
        assert_int_equal(d.networks[0].n_bond_slaves, 2);
        assert_string_equal(d.networks[0].bond_mode, "active-backup");
        /* "bond": null is no bond, as it always was. */
        assert_int_equal(d.networks[1].n_bond_slaves, 0);
        assert_int_equal(d.networks[1].mtu, 9000);
        assert_int_equal(d.n_remove, 1);
        assert_string_equal(d.remove[0], "old");
        net_desired_done(&d);
}

/* What polkit rules read as action.lookup("networks"). */
static void test_names_for_polkit(void **state) {
        _cleanup_(freep) char *why = NULL, *set = NULL, *changed = NULL, *none = NULL;
        NetDesired a = {}, b = {};

        set = net_desired_names("{\"networks\":{\"n1\":{},\"old\":{\"remove\":true}}}");
        assert_string_equal(set, "n1,old");
        assert_null(net_desired_names("{\"networks\":{}}"));
        assert_null(net_desired_names("not json"));

        assert_int_equal(net_desired_parse("{\"networks\":{\"same\":{},\"grown\":{\"mtu\":1400},\"gone\":{}}}",
                                           &a, &why), 0);
        assert_int_equal(net_desired_parse("{\"networks\":{\"same\":{},\"grown\":{\"mtu\":9000},\"new\":{}}}",
                                           &b, &why), 0);
        changed = net_configs_changed_names(b.networks, b.n_networks, a.networks, a.n_networks);
        assert_string_equal(changed, "grown,new,gone");
        none = net_configs_changed_names(a.networks, a.n_networks, a.networks, a.n_networks);
        assert_null(none);
        net_desired_done(&a);
        net_desired_done(&b);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_refusals),
                cmocka_unit_test(test_first_of_several_errors),
                cmocka_unit_test(test_bond_defaults_and_null),
                cmocka_unit_test(test_names_for_polkit),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
