/* Running a network plan's steps, and their undo, against the kernel (netlink, sysfs) and Open vSwitch */
#include "net-plan.h"

#include <arpa/inet.h>
#include <netlink/errno.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bonding.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/vlan.h>
#include <stdio.h>

#include "macro.h"
#include "netlink-cleanup.h"

static int link_index(struct nl_sock *sk, const char *name, struct rtnl_link **ret) {
        struct rtnl_link *l = NULL;
        int r = rtnl_link_get_kernel(sk, 0, name, &l);

        if (r < 0)
                return net_errno(r);
        if (ret)
                *ret = l;
        else
                rtnl_link_put(l);
        return 0;
}

static struct rtnl_link *link_alloc(struct nl_sock *sk, const char *kind, const char *arg, unsigned id, int *ret_r) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *parent = NULL;
        struct rtnl_link *l;

        *ret_r = -ENOMEM;
        if (streq(kind, "bridge"))
                return rtnl_link_bridge_alloc();
        if (streq(kind, "bond"))
                return rtnl_link_bond_alloc();
        if (!streq(kind, "vlan")) {
                *ret_r = -EINVAL;
                return NULL;
        }
        *ret_r = link_index(sk, arg, &parent);
        if (*ret_r < 0)
                return NULL;
        *ret_r = -ENOMEM;
        l = rtnl_link_vlan_alloc();
        if (l) {
                rtnl_link_set_link(l, rtnl_link_get_ifindex(parent));
                rtnl_link_vlan_set_id(l, (uint16_t) id);
        }
        return l;
}

static int do_link_add(struct nl_sock *sk, const char *name, const char *kind, const char *arg, unsigned id,
                       unsigned mtu) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *l = NULL;
        int r;

        l = link_alloc(sk, kind, arg, id, &r);
        if (!l)
                return r;
        rtnl_link_set_name(l, name);
        if (mtu)
                rtnl_link_set_mtu(l, mtu);
        return net_errno(rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL));
}

static int do_link_del(struct nl_sock *sk, const char *name) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *l = NULL;
        int r;

        r = link_index(sk, name, &l);
        if (r < 0)
                return r;
        return net_errno(rtnl_link_delete(sk, l));
}

/* The bonding mode is set through sysfs while the bond has no slaves. */
static int set_bond_mode(const char *bond, const char *mode) {
        char path[128];
        FILE *f;
        int r = 0;

        snprintf(path, sizeof path, "/sys/class/net/%s/bonding/mode", bond);
        f = fopen(path, "we");
        if (!f)
                return -errno;
        if (fputs(mode, f) < 0)
                r = -EIO;
        if (fclose(f) != 0 && r == 0)
                r = -errno;
        return r;
}

static int do_link_change(struct nl_sock *sk, const char *name, void (*edit)(struct rtnl_link *, unsigned),
                          unsigned value) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *orig = NULL, *change = NULL;
        int r;

        r = link_index(sk, name, &orig);
        if (r < 0)
                return r;
        change = rtnl_link_alloc();
        if (!change)
                return -ENOMEM;
        edit(change, value);
        return net_errno(rtnl_link_change(sk, orig, change, 0));
}

static void edit_mtu(struct rtnl_link *l, unsigned mtu) {
        rtnl_link_set_mtu(l, mtu);
}

static void edit_up(struct rtnl_link *l, unsigned up) {
        if (up)
                rtnl_link_set_flags(l, IFF_UP);
        else
                rtnl_link_unset_flags(l, IFF_UP);
}

static int do_set_master(struct nl_sock *sk, const char *name, const char *master) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *l = NULL, *m = NULL;
        int r;

        r = link_index(sk, name, &l);
        if (r < 0)
                return r;
        if (!*master)
                return net_errno(rtnl_link_release_ifindex(sk, rtnl_link_get_ifindex(l)));
        r = link_index(sk, master, &m);
        if (r < 0)
                return r;
        return net_errno(rtnl_link_enslave_ifindex(sk, rtnl_link_get_ifindex(m), rtnl_link_get_ifindex(l)));
}

static int do_addr(struct nl_sock *sk, const char *name, const char *cidr, bool add) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *l = NULL;
        _cleanup_(rtnl_addr_putp) struct rtnl_addr *a = NULL;
        _cleanup_(nl_addr_putp) struct nl_addr *local = NULL;
        int r;

        r = link_index(sk, name, &l);
        if (r < 0)
                return r;
        r = net_errno(nl_addr_parse(cidr, AF_UNSPEC, &local));
        if (r < 0)
                return r;
        a = rtnl_addr_alloc();
        if (!a)
                return -ENOMEM;
        rtnl_addr_set_ifindex(a, rtnl_link_get_ifindex(l));
        rtnl_addr_set_local(a, local);
        rtnl_addr_set_prefixlen(a, nl_addr_get_prefixlen(local));
        if (add)
                return net_errno(rtnl_addr_add(sk, a, NLM_F_CREATE | NLM_F_EXCL));
        return net_errno(rtnl_addr_delete(sk, a, 0));
}

/* The Open vSwitch side of a step, through OVSDB. */
static int run_ovs_step(const NetEnv *env, const NetStep *s, bool undo, char **ret_why) {
        switch (s->kind) {
        case NET_STEP_OVS_BRIDGE_ADD:
        case NET_STEP_OVS_BRIDGE_DEL:
                if (undo == (s->kind == NET_STEP_OVS_BRIDGE_ADD))
                        return ovs_del_bridge(env->ovsdb, s->link, env->ovs_timeout_ms, ret_why);
                return ovs_add_bridge(env->ovsdb, s->link, s->arg, s->value, env->ovs_timeout_ms, ret_why);
        case NET_STEP_OVS_PORT_ADD:
        case NET_STEP_OVS_PORT_DEL:
                if (undo == (s->kind == NET_STEP_OVS_PORT_ADD))
                        return ovs_del_port(env->ovsdb, s->arg, s->link, env->ovs_timeout_ms, ret_why);
                return ovs_add_port(env->ovsdb, s->arg, s->link, s->value, env->ovs_timeout_ms, ret_why);
        case NET_STEP_OVS_BOND_ADD:
        case NET_STEP_OVS_BOND_DEL: {
                char slaves_text[sizeof s->arg], *slaves[NET_MAX_BOND_SLAVES], *save = NULL;
                size_t n = 0;

                if (undo == (s->kind == NET_STEP_OVS_BOND_ADD))
                        return ovs_del_port(env->ovsdb, s->old_arg, s->link, env->ovs_timeout_ms, ret_why);
                snprintf(slaves_text, sizeof slaves_text, "%s", s->arg);
                for (char *t = strtok_r(slaves_text, ",", &save); t && n < NET_MAX_BOND_SLAVES;
                     t = strtok_r(NULL, ",", &save))
                        slaves[n++] = t;
                return ovs_add_bond(env->ovsdb, s->old_arg, s->link, slaves, n, net_ovs_bond_mode_name(s->value),
                                    env->ovs_timeout_ms, ret_why);
        }
        default:
                return -EINVAL;
        }
}

/* RET_WHY (may stay NULL) gets what the other side said, beyond the errno: OVSDB's reason. */
static int run_step(const NetEnv *env, const NetStep *s, bool undo, char **ret_why) {
        struct nl_sock *sk = env->sk;
        int r;

        switch (s->kind) {
        case NET_STEP_OVS_BRIDGE_ADD:
        case NET_STEP_OVS_BRIDGE_DEL:
        case NET_STEP_OVS_PORT_ADD:
        case NET_STEP_OVS_PORT_DEL:
        case NET_STEP_OVS_BOND_ADD:
        case NET_STEP_OVS_BOND_DEL:
                return run_ovs_step(env, s, undo, ret_why);
        case NET_STEP_BRIDGE_ADD:
        case NET_STEP_VLAN_ADD:
        case NET_STEP_BOND_ADD:
                if (undo)
                        return do_link_del(sk, s->link);
                r = do_link_add(sk, s->link,
                                s->kind == NET_STEP_BRIDGE_ADD ? "bridge" : s->kind == NET_STEP_VLAN_ADD ? "vlan" : "bond",
                                s->arg, s->value, 0);
                if (r >= 0 && s->kind == NET_STEP_BOND_ADD)
                        r = set_bond_mode(s->link, s->arg);
                return r;
        case NET_STEP_LINK_DEL:
                if (undo) {
                        r = do_link_add(sk, s->link, s->old_arg, s->arg, s->value, s->old_value);
                        if (r >= 0 && streq(s->old_arg, "bond"))
                                r = set_bond_mode(s->link, s->arg);
                        return r;
                }
                return do_link_del(sk, s->link);
        case NET_STEP_SET_MASTER:
                return do_set_master(sk, s->link, undo ? s->old_arg : s->arg);
        case NET_STEP_SET_MTU:
                /* A link this plan creates had no MTU before: its removal undoes it. */
                if (undo && s->old_value == 0)
                        return 0;
                return do_link_change(sk, s->link, edit_mtu, undo ? s->old_value : s->value);
        case NET_STEP_SET_UP:
                return do_link_change(sk, s->link, edit_up, undo ? s->old_value : s->value);
        case NET_STEP_ADDR_ADD:
                return do_addr(sk, s->link, s->arg, !undo);
        case NET_STEP_ADDR_DEL:
                return do_addr(sk, s->link, s->arg, undo);
        default:
                return -EINVAL;
        }
}

static void describe_failure(char **ret_error, size_t index, const NetStep *s, bool undo, int r, const char *why) {
        if (ret_error && asprintf(ret_error, "step %zu (%s%s %s%s%s): %s", index + 1, undo ? "undo " : "",
                                  net_step_kind_to_string(s->kind), s->link, *s->arg ? " " : "", s->arg, why ?: strerror(-r)) < 0)
                *ret_error = NULL;
}

int net_plan_apply(const NetEnv *env, const NetPlan *p, size_t from, net_step_hook hook, void *userdata,
                   size_t *ret_done, char **ret_error) {
        int r;

        *ret_done = from;
        for (size_t i = from; i < p->n_steps; i++) {
                if (hook) {
                        r = hook(i, userdata);
                        if (r < 0) {
                                describe_failure(ret_error, i, &p->steps[i], false, r, NULL);
                                return r;
                        }
                }
                _cleanup_(freep) char *why = NULL;
                r = run_step(env, &p->steps[i], false, &why);
                if (r < 0) {
                        describe_failure(ret_error, i, &p->steps[i], false, r, why);
                        return r;
                }
                *ret_done = i + 1;
        }
        return 0;
}

int net_plan_undo(const NetEnv *env, const NetPlan *p, size_t done, bool best_effort, char **ret_error) {
        int first = 0;

        for (size_t i = done; i > 0; i--) {
                _cleanup_(freep) char *why = NULL;
                int r = run_step(env, &p->steps[i - 1], true, &why);
                /* In recovery a step may never have happened: nothing there to undo. */
                if (r < 0 && best_effort && (r == -ENODEV || r == -EEXIST || r == -EADDRNOTAVAIL))
                        continue;
                if (r < 0 && first == 0) {
                        first = r;
                        describe_failure(ret_error, i - 1, &p->steps[i - 1], true, r, why);
                }
                if (r < 0 && !best_effort)
                        break;
        }
        return first;
}
