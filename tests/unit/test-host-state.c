/* The host's links and addresses as the kernel reports them: one snapshot, made from libnl's caches */
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "host-state.h"
#include "macro.h"

/* Caches filled by hand, as the kernel would fill them. */
typedef struct Caches {
        struct nl_cache *links;
        struct nl_cache *addrs;
} Caches;

static int setup(void **state) {
        Caches *c = calloc(1, sizeof *c);

        assert_non_null(c);
        assert_int_equal(nl_cache_alloc_name("route/link", &c->links), 0);
        assert_int_equal(nl_cache_alloc_name("route/addr", &c->addrs), 0);
        *state = c;
        return 0;
}

static int teardown(void **state) {
        Caches *c = *state;

        nl_cache_free(c->links);
        nl_cache_free(c->addrs);
        free(c);
        return 0;
}

/* RFC 2863 operational states, as libnl names them (linux/if.h clashes with net/if.h). */
#define IF_OPER_UP ((uint8_t) rtnl_link_str2operstate("up"))
#define IF_OPER_DOWN ((uint8_t) rtnl_link_str2operstate("down"))
#define IF_OPER_LOWERLAYERDOWN ((uint8_t) rtnl_link_str2operstate("lowerlayerdown"))

static void add_link(Caches *c, int family, int ifindex, const char *name, const char *kind, int master,
                     unsigned flags, uint8_t operstate, const char *mac) {
        struct rtnl_link *l = rtnl_link_alloc();

        assert_non_null(l);
        rtnl_link_set_family(l, family);
        rtnl_link_set_ifindex(l, ifindex);
        rtnl_link_set_name(l, name);
        if (kind)
                assert_int_equal(rtnl_link_set_type(l, kind), 0);
        rtnl_link_set_master(l, master);
        rtnl_link_set_mtu(l, 1500 + (unsigned) ifindex);
        rtnl_link_set_flags(l, flags);
        rtnl_link_set_operstate(l, operstate);
        rtnl_link_set_carrier(l, operstate == IF_OPER_UP);
        if (mac) {
                struct nl_addr *a;
                assert_int_equal(nl_addr_parse(mac, AF_LLC, &a), 0);
                rtnl_link_set_addr(l, a);
                nl_addr_put(a);
        }
        assert_int_equal(nl_cache_add(c->links, (struct nl_object *) l), 0);
        rtnl_link_put(l);
}

static void add_address(Caches *c, int ifindex, const char *cidr, int scope) {
        struct rtnl_addr *a = rtnl_addr_alloc();
        struct nl_addr *local;

        assert_non_null(a);
        assert_int_equal(nl_addr_parse(cidr, AF_UNSPEC, &local), 0);
        rtnl_addr_set_ifindex(a, ifindex);
        rtnl_addr_set_family(a, nl_addr_get_family(local));
        assert_int_equal(rtnl_addr_set_local(a, local), 0);
        rtnl_addr_set_prefixlen(a, (int) nl_addr_get_prefixlen(local));
        rtnl_addr_set_scope(a, scope);
        nl_addr_put(local);
        assert_int_equal(nl_cache_add(c->addrs, (struct nl_object *) a), 0);
        rtnl_addr_put(a);
}

static void test_links(void **state) {
        Caches *c = *state;
        NetHost h = {};
        const NetLink *l;

        add_link(c, AF_UNSPEC, 7, "hatest-br0", "bridge", 0, IFF_UP, IF_OPER_UP, "52:54:00:aa:bb:cc");
        add_link(c, AF_UNSPEC, 8, "hatest-eth1", NULL, 7, IFF_UP, IF_OPER_LOWERLAYERDOWN, "52:54:00:00:00:01");
        add_link(c, AF_UNSPEC, 9, "hatest-down", "veth", 0, 0, IF_OPER_DOWN, NULL);
        assert_int_equal(net_host_from_caches(c->links, c->addrs, &h), 0);
        assert_int_equal(h.n_links, 3);

        l = net_host_find(&h, "hatest-br0");
        assert_non_null(l);
        assert_int_equal(l->ifindex, 7);
        assert_string_equal(l->kind, "bridge");
        assert_int_equal(l->master, 0);
        assert_int_equal(l->mtu, 1507);
        assert_true(l->up);
        assert_string_equal(l->operstate, "up");
        assert_true(l->carrier);
        assert_string_equal(l->mac, "52:54:00:aa:bb:cc");
        assert_int_equal(l->speed_mbps, -1);            /* no such device in sysfs */
        assert_int_equal(l->n_addresses, 0);

        l = net_host_find(&h, "hatest-eth1");
        assert_string_equal(l->kind, "");               /* hardware has no kind */
        assert_int_equal(l->master, 7);
        assert_string_equal(l->operstate, "lowerlayerdown");
        assert_false(l->carrier);

        l = net_host_find_index(&h, 9);
        assert_string_equal(l->name, "hatest-down");
        assert_false(l->up);
        assert_string_equal(l->operstate, "down");
        assert_string_equal(l->mac, "");

        assert_null(net_host_find(&h, "hatest-none"));
        assert_null(net_host_find_index(&h, 99));
        net_host_done(&h);
        assert_int_equal(h.n_links, 0);
        assert_null(h.links);
}

static void test_bridge_view_of_a_link(void **state) {
        /* The kernel also reports bridge ports as AF_BRIDGE links, without their
         * kind: the AF_UNSPEC view wins, whichever comes first. */
        Caches *c = *state;
        NetHost h = {};

        add_link(c, AF_BRIDGE, 8, "hatest-eth1", NULL, 7, IFF_UP, IF_OPER_UP, NULL);
        add_link(c, AF_UNSPEC, 8, "hatest-eth1", "veth", 7, IFF_UP, IF_OPER_UP, NULL);
        add_link(c, AF_UNSPEC, 9, "hatest-eth2", "veth", 7, IFF_UP, IF_OPER_UP, NULL);
        add_link(c, AF_BRIDGE, 9, "hatest-eth2", NULL, 7, IFF_UP, IF_OPER_UP, NULL);
        /* Seen only as a bridge port: still listed. */
        add_link(c, AF_BRIDGE, 10, "hatest-eth3", NULL, 7, IFF_UP, IF_OPER_UP, NULL);
        assert_int_equal(net_host_from_caches(c->links, c->addrs, &h), 0);
        assert_int_equal(h.n_links, 3);
        assert_string_equal(net_host_find(&h, "hatest-eth1")->kind, "veth");
        assert_string_equal(net_host_find(&h, "hatest-eth2")->kind, "veth");
        assert_string_equal(net_host_find(&h, "hatest-eth3")->kind, "");
        net_host_done(&h);
}

static void test_name_not_utf8(void **state) {
        /* Any bytes but '/' and NUL make a kernel name: the snapshot's fit a D-Bus string. */
        Caches *c = *state;
        NetHost h = {};

        add_link(c, AF_UNSPEC, 5, "ha\xff\xfe", NULL, 0, 0, IF_OPER_DOWN, NULL);
        add_link(c, AF_UNSPEC, 6, "ha\xc3\xa9", NULL, 0, 0, IF_OPER_DOWN, NULL);   /* é: fine as it is */
        assert_int_equal(net_host_from_caches(c->links, NULL, &h), 0);
        assert_string_equal(net_host_find_index(&h, 5)->name, "ha??");
        assert_string_equal(net_host_find_index(&h, 6)->name, "ha\xc3\xa9");
        net_host_done(&h);
}

static void test_addresses(void **state) {
        Caches *c = *state;
        NetHost h = {};
        const NetLink *l;

        add_link(c, AF_UNSPEC, 7, "hatest-br0", "bridge", 0, IFF_UP, IF_OPER_UP, NULL);
        add_link(c, AF_UNSPEC, 8, "hatest-eth1", NULL, 0, IFF_UP, IF_OPER_UP, NULL);
        add_address(c, 7, "192.0.2.10/24", RT_SCOPE_UNIVERSE);
        add_address(c, 7, "2001:db8::10/64", RT_SCOPE_UNIVERSE);
        add_address(c, 7, "fe80::1/64", RT_SCOPE_LINK);         /* the kernel's own */
        add_address(c, 7, "127.0.0.2/8", RT_SCOPE_HOST);
        add_address(c, 7, "192.0.2.11/32", RT_SCOPE_UNIVERSE);
        add_address(c, 42, "198.51.100.1/24", RT_SCOPE_UNIVERSE); /* on a link not in the snapshot */
        assert_int_equal(net_host_from_caches(c->links, c->addrs, &h), 0);

        l = net_host_find(&h, "hatest-br0");
        assert_int_equal(l->n_addresses, 3);
        assert_string_equal(l->addresses[0], "192.0.2.10/24");
        assert_string_equal(l->addresses[1], "2001:db8::10/64");
        assert_string_equal(l->addresses[2], "192.0.2.11/32");
        assert_true(net_link_has_address(l, "192.0.2.10/24"));
        assert_true(net_link_has_address(l, "2001:db8::10/64"));
        assert_false(net_link_has_address(l, "192.0.2.10/25"));
        assert_false(net_link_has_address(l, "fe80::1/64"));
        assert_false(net_link_has_address(l, "192.0.2.10"));
        assert_int_equal(net_host_find(&h, "hatest-eth1")->n_addresses, 0);
        net_host_done(&h);
}

static void test_empty(void **state) {
        Caches *c = *state;
        NetHost h = {};

        assert_int_equal(net_host_from_caches(c->links, c->addrs, &h), 0);
        assert_int_equal(h.n_links, 0);
        assert_null(net_host_find(&h, "lo"));
        net_host_done(&h);
}

static void test_errno(void **state) {
        static const struct { int nle, errno_; } cases[] = {
                { 0, 0 },
                { -NLE_EXIST, -EEXIST },
                { NLE_EXIST, -EEXIST },                 /* either sign */
                { -NLE_OBJ_NOTFOUND, -ENODEV },
                { -NLE_NODEV, -ENODEV },
                { -NLE_PERM, -EPERM },
                { -NLE_NOMEM, -ENOMEM },
                { -NLE_BUSY, -EBUSY },
                { -NLE_INVAL, -EINVAL },
                { -NLE_RANGE, -EINVAL },
                { -NLE_OPNOTSUPP, -EOPNOTSUPP },
                { -NLE_AF_NOSUPPORT, -EAFNOSUPPORT },
                { -NLE_BAD_SOCK, -EIO },                /* the rest: an I/O error, never 0 */
                { -NLE_MSG_TRUNC, -EIO },
                { -9999, -EIO },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                if (net_errno(cases[i].nle) != cases[i].errno_)
                        fail_msg("NLE %d: wanted %d, got %d", cases[i].nle, cases[i].errno_, net_errno(cases[i].nle));
}

static void test_read_this_host(void **state) {
        /* The kernel of this test's network namespace: it has a loopback device. */
        struct nl_sock *sk = NULL;
        NetHost h = {};
        const NetLink *lo;

        assert_int_equal(net_socket_open(&sk), 0);
        assert_int_equal(net_host_read(sk, &h), 0);
        nl_socket_free(sk);
        lo = net_host_find(&h, "lo");
        assert_non_null(lo);
        assert_ptr_equal(net_host_find_index(&h, lo->ifindex), lo);
        assert_string_equal(lo->kind, "");
        assert_true(lo->mtu > 0);
        /* 127.0.0.1 and ::1 are host-scoped: not configuration. */
        assert_false(net_link_has_address(lo, "127.0.0.1/8"));
        assert_false(net_link_has_address(lo, "::1/128"));
        net_host_done(&h);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_links, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bridge_view_of_a_link, setup, teardown),
                cmocka_unit_test_setup_teardown(test_name_not_utf8, setup, teardown),
                cmocka_unit_test_setup_teardown(test_addresses, setup, teardown),
                cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
                cmocka_unit_test(test_errno),
                cmocka_unit_test(test_read_this_host),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
