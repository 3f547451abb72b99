/* A network change as an ordered list of steps, each with its undo: the plan builder */
#include "net-plan.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>

#include "json-cleanup.h"
#include "json-field.h"
#include "macro.h"

static const char *const step_names[_NET_STEP_MAX] = {
        [NET_STEP_BRIDGE_ADD] = "create bridge",
        [NET_STEP_VLAN_ADD] = "create vlan",
        [NET_STEP_BOND_ADD] = "create bond",
        [NET_STEP_LINK_DEL] = "delete link",
        [NET_STEP_SET_MASTER] = "set master",
        [NET_STEP_SET_MTU] = "set mtu",
        [NET_STEP_SET_UP] = "set state",
        [NET_STEP_ADDR_ADD] = "add address",
        [NET_STEP_ADDR_DEL] = "remove address",
        [NET_STEP_OVS_BRIDGE_ADD] = "create ovs bridge",
        [NET_STEP_OVS_BRIDGE_DEL] = "delete ovs bridge",
        [NET_STEP_OVS_PORT_ADD] = "add ovs port",
        [NET_STEP_OVS_PORT_DEL] = "remove ovs port",
        [NET_STEP_OVS_BOND_ADD] = "add ovs bond",
        [NET_STEP_OVS_BOND_DEL] = "remove ovs bond",
};

const char *net_step_kind_to_string(NetStepKind kind) {
        return kind >= 0 && kind < _NET_STEP_MAX ? step_names[kind] : NULL;
}

void net_plan_done(NetPlan *p) {
        free(p->steps);
        *p = (NetPlan) {};
}

typedef struct Builder {
        NetPlan *plan;
        size_t allocated;
        char **error;
        int r;
        /* The networks now, and what the plan changes: together, the networks after it. */
        const NetConfig *current;
        size_t n_current;
        const NetDesired *desired;
} Builder;

static NetStep *add_step(Builder *b, NetStepKind kind, const char *link) {
        NetStep *grown, *s;

        if (b->r < 0)
                return NULL;
        if (b->plan->n_steps == b->allocated) {
                size_t n = b->allocated ? b->allocated * 2 : 16;
                grown = realloc(b->plan->steps, n * sizeof *grown);
                if (!grown) {
                        b->r = -ENOMEM;
                        return NULL;
                }
                b->plan->steps = grown;
                b->allocated = n;
        }
        s = &b->plan->steps[b->plan->n_steps++];
        *s = (NetStep) { .kind = kind };
        snprintf(s->link, sizeof s->link, "%s", link);
        return s;
}

static void fail(Builder *b, int r, const char *field, const char *format, ...) __attribute__((format(printf, 4, 5)));
static void fail(Builder *b, int r, const char *field, const char *format, ...) {
        _cleanup_(freep) char *why = NULL;
        va_list ap;

        if (b->r < 0)
                return;
        va_start(ap, format);
        if (vasprintf(&why, format, ap) < 0)
                why = NULL;
        va_end(ap);
        if (b->error && asprintf(b->error, "%s: %s", field, why ?: "invalid") < 0)
                *b->error = NULL;
        b->r = r;
}

static const char *master_name(const NetHost *h, const NetLink *l) {
        const NetLink *m = l && l->master ? net_host_find_index(h, l->master) : NULL;

        return m ? m->name : "";
}

static void set_master(Builder *b, const NetHost *h, const char *link, const char *master) {
        const NetLink *l = net_host_find(h, link);
        NetStep *s;

        if (l && streq(master_name(h, l), master))
                return;
        s = add_step(b, NET_STEP_SET_MASTER, link);
        if (!s)
                return;
        snprintf(s->arg, sizeof s->arg, "%s", master);
        snprintf(s->old_arg, sizeof s->old_arg, "%s", master_name(h, l));
}

static void set_mtu(Builder *b, const NetHost *h, const char *link, unsigned mtu) {
        const NetLink *l = net_host_find(h, link);
        NetStep *s;

        if (!mtu || (l && l->mtu == mtu))
                return;
        s = add_step(b, NET_STEP_SET_MTU, link);
        if (s) {
                s->value = mtu;
                s->old_value = l ? l->mtu : 0;
        }
}

static void set_up(Builder *b, const NetHost *h, const char *link, bool up) {
        const NetLink *l = net_host_find(h, link);
        NetStep *s;

        if (l && l->up == up)
                return;
        s = add_step(b, NET_STEP_SET_UP, link);
        if (s) {
                s->value = up;
                s->old_value = l ? l->up : 0;
        }
}

/* Deleting LINK, with what it takes to make it again. */
static void del_link(Builder *b, const NetHost *h, const char *link, const char *kind, const char *arg, unsigned id) {
        const NetLink *l = net_host_find(h, link);
        NetStep *s;

        if (!l)
                return;
        s = add_step(b, NET_STEP_LINK_DEL, link);
        if (!s)
                return;
        snprintf(s->old_arg, sizeof s->old_arg, "%s", kind);
        snprintf(s->arg, sizeof s->arg, "%s", strempty(arg));
        s->value = id;
        s->old_value = l->mtu;
}

static void address_step(Builder *b, NetStepKind kind, const char *link, const char *cidr) {
        NetStep *s = add_step(b, kind, link);

        if (s)
                snprintf(s->arg, sizeof s->arg, "%s", cidr);
}

/* What the agent put on LINK before (OLD) and is no longer asked for (C) goes. */
static void drop_old_addresses(Builder *b, const NetConfig *old, const NetConfig *c, const NetLink *link) {
        for (size_t i = 0; old && link && i < old->n_addresses; i++) {
                bool keep = false;
                for (size_t j = 0; j < c->n_addresses; j++)
                        keep = keep || streq(old->addresses[i], c->addresses[j]);
                if (!keep && net_link_has_address(link, old->addresses[i]))
                        address_step(b, NET_STEP_ADDR_DEL, c->name, old->addresses[i]);
        }
}

/* What C asks for and LINK (NULL: not made yet) lacks is added. */
static void add_new_addresses(Builder *b, const NetConfig *c, const NetLink *link) {
        for (size_t i = 0; i < c->n_addresses; i++)
                if (!link || !net_link_has_address(link, c->addresses[i]))
                        address_step(b, NET_STEP_ADDR_ADD, c->name, c->addresses[i]);
}

static const NetConfig *find_config(const NetConfig *c, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (streq(c[i].name, name))
                        return &c[i];
        return NULL;
}

static bool config_uses(const NetConfig *c, const char *link) {
        if (streq(c->uplink, link))
                return true;
        for (size_t i = 0; i < c->n_bond_slaves; i++)
                if (streq(c->bond_slaves[i], link))
                        return true;
        return false;
}

static bool desired_names(const NetDesired *d, const char *name) {
        for (size_t i = 0; i < d->n_remove; i++)
                if (streq(d->remove[i], name))
                        return true;
        return find_config(d->networks, d->n_networks, name) != NULL;
}

/* The MTU LINK needs once the plan has run: the largest that the networks
 * on it then ask for (a VLAN's or a bond's lower device carries them all),
 * 0 when none asks. *USED says whether any network is on it. */
static unsigned lower_mtu_after(const Builder *b, const char *link, bool *used) {
        unsigned mtu = 0;

        *used = false;
        for (size_t i = 0; i < b->n_current; i++)
                if (!desired_names(b->desired, b->current[i].name) && config_uses(&b->current[i], link)) {
                        *used = true;
                        mtu = b->current[i].mtu > mtu ? b->current[i].mtu : mtu;
                }
        for (size_t i = 0; i < b->desired->n_networks; i++)
                if (config_uses(&b->desired->networks[i], link)) {
                        *used = true;
                        mtu = b->desired->networks[i].mtu > mtu ? b->desired->networks[i].mtu : mtu;
                }
        return mtu;
}

/* The MTU a network gives its uplink (and its bond's slaves): what all the
 * networks on that link ask for. */
static unsigned uplink_mtu(const Builder *b, const NetConfig *c) {
        bool used;

        return c->mtu ? lower_mtu_after(b, c->uplink, &used) : 0;
}

/* Once OLD is off its uplink (or its bond's slaves), their MTU goes back to
 * what the networks still on them ask for, or to Ethernet's default: jumbo
 * frames do not outlive the network that asked for them (as with vdsm). A
 * link that a network of this plan takes gets its MTU from that network. */
static void give_back_mtu(Builder *b, const NetHost *h, const NetConfig *old) {
        const char *links[NET_MAX_BOND_SLAVES + 1];
        size_t n = 0;

        if (!old->mtu || !old->uplink[0])
                return;   /* it never changed an MTU */
        if (old->n_bond_slaves)
                for (size_t i = 0; i < old->n_bond_slaves; i++)
                        links[n++] = old->bond_slaves[i];
        else
                links[n++] = old->uplink;
        for (size_t i = 0; i < n; i++) {
                bool used, taken = false;
                unsigned keep = lower_mtu_after(b, links[i], &used);

                for (size_t k = 0; k < b->desired->n_networks; k++)
                        taken = taken || config_uses(&b->desired->networks[k], links[i]);
                if (taken || !net_host_find(h, links[i]))
                        continue;
                if (!used)
                        set_mtu(b, h, links[i], NET_DEFAULT_MTU);
                else if (keep)
                        set_mtu(b, h, links[i], keep);
        }
}

/* Other ports than the network's own: VM taps, someone's cable. */
static const NetLink *foreign_port(const NetHost *h, const NetLink *bridge, const char *own_port) {
        for (size_t i = 0; i < h->n_links; i++)
                if (h->links[i].master == bridge->ifindex && !streq(h->links[i].name, own_port))
                        return &h->links[i];
        return NULL;
}

/* Releases what OLD used and NEW does not: its port, its VLAN device, its bond. */
static void release_old_port(Builder *b, const NetHost *h, const NetConfig *old, const NetConfig *new) {
        char old_port[IFNAMSIZ], new_port[IFNAMSIZ] = "";

        net_config_port(old, old_port);
        if (new)
                net_config_port(new, new_port);
        if (!old_port[0] || streq(old_port, new_port))
                return;
        if (net_host_find(h, old_port))
                set_master(b, h, old_port, "");
        if (old->vlan)
                del_link(b, h, old_port, "vlan", old->uplink, old->vlan);
        if (old->n_bond_slaves && !(new && streq(new->uplink, old->uplink))) {
                for (size_t i = 0; i < old->n_bond_slaves; i++)
                        if (net_host_find(h, old->bond_slaves[i]))
                                set_master(b, h, old->bond_slaves[i], "");
                del_link(b, h, old->uplink, "bond", old->bond_mode, 0);
        }
        if (!(new && streq(new->uplink, old->uplink)))
                give_back_mtu(b, h, old);
}

static void build_remove(Builder *b, const NetHost *h, const NetConfig *old) {
        const NetLink *bridge = net_host_find(h, old->name), *other;
        char port[IFNAMSIZ];
        char field[64];

        snprintf(field, sizeof field, "networks.%s", old->name);
        net_config_port(old, port);
        if (bridge && (other = foreign_port(h, bridge, port))) {
                fail(b, -ERRNO_IN_USE, field, "%s is still attached to it; detach it (stop the VM) first", other->name);
                return;
        }
        for (size_t i = 0; bridge && i < bridge->n_addresses; i++) {
                NetStep *s = add_step(b, NET_STEP_ADDR_DEL, old->name);
                if (s)
                        snprintf(s->arg, sizeof s->arg, "%s", bridge->addresses[i]);
        }
        release_old_port(b, h, old, NULL);
        if (bridge)
                del_link(b, h, old->name, "bridge", NULL, 0);
}

/* The network's bridge name, the kernel's support and the uplink's state allow C: checked
 * before anything is touched. Leaves B failed when not. */
static void linux_check(Builder *b, const NetHost *h, const NetKernel *k, const NetConfig *old, const NetConfig *c,
                        const char *port) {
        const NetLink *bridge = net_host_find(h, c->name), *uplink, *portl;
        char field[96];

        snprintf(field, sizeof field, "networks.%s", c->name);
        if (bridge && !old)
                return fail(b, -EINVAL, field, "an interface named %s exists and is not one of the agent's networks",
                            c->name);
        if (bridge && !streq(bridge->kind, "bridge"))
                return fail(b, -EINVAL, field, "%s exists and is a %s device, not a bridge", c->name,
                            *bridge->kind ? bridge->kind : "hardware");
        snprintf(field, sizeof field, "networks.%s.vlan", c->name);
        if (c->vlan && !k->vlan && !net_host_find(h, port))
                return fail(b, -EOPNOTSUPP, field, "this kernel has no 802.1Q VLAN support");
        snprintf(field, sizeof field, "networks.%s.bond", c->name);
        if (c->n_bond_slaves && !k->bonding && !net_host_find(h, c->uplink))
                return fail(b, -EOPNOTSUPP, field, "this kernel has no bonding support");

        /* The uplink: there, or a bond we make of slaves that are there and free. */
        uplink = c->uplink[0] ? net_host_find(h, c->uplink) : NULL;
        for (size_t i = 0; i < c->n_bond_slaves; i++) {
                const NetLink *s = net_host_find(h, c->bond_slaves[i]);
                snprintf(field, sizeof field, "networks.%s.bond.slaves[%zu]", c->name, i);
                if (!s)
                        return fail(b, -EINVAL, field, "there is no interface %s", c->bond_slaves[i]);
                if (s->master && !streq(master_name(h, s), c->uplink))
                        return fail(b, -EINVAL, field, "%s is a port of %s", s->name, master_name(h, s));
        }
        snprintf(field, sizeof field, "networks.%s.uplink", c->name);
        if (c->n_bond_slaves && uplink && !streq(uplink->kind, "bond"))
                return fail(b, -EINVAL, field, "%s exists and is not a bond", c->uplink);
        if (!c->n_bond_slaves && c->uplink[0] && !uplink)
                return fail(b, -EINVAL, field, "there is no interface %s", c->uplink);
        portl = port[0] ? net_host_find(h, port) : NULL;
        if (portl && portl->master && !streq(master_name(h, portl), c->name))
                return fail(b, -EINVAL, field, "%s is a port of %s already", port, master_name(h, portl));
}

/* The bond C's uplink is made of (made now unless UPLINK is there), and its slaves in it. */
static void linux_bond_steps(Builder *b, const NetHost *h, const NetConfig *c, const NetLink *uplink) {
        if (!uplink) {
                NetStep *s = add_step(b, NET_STEP_BOND_ADD, c->uplink);
                if (s)
                        snprintf(s->arg, sizeof s->arg, "%s", c->bond_mode);
        }
        for (size_t i = 0; i < c->n_bond_slaves; i++) {
                /* The bonding driver takes slaves that are down; up again once they are in
                 * (the snapshot still says "up", so this step is not left to set_up()). */
                if (!streq(master_name(h, net_host_find(h, c->bond_slaves[i])), c->uplink)) {
                        NetStep *s;

                        set_up(b, h, c->bond_slaves[i], false);
                        set_master(b, h, c->bond_slaves[i], c->uplink);
                        s = add_step(b, NET_STEP_SET_UP, c->bond_slaves[i]);
                        if (s)
                                s->value = 1;
                }
                set_mtu(b, h, c->bond_slaves[i], uplink_mtu(b, c));
        }
}

/* Everything C uses, up, once it is wired. */
static void linux_up_steps(Builder *b, const NetHost *h, const NetConfig *c, const char *port) {
        /* Slaves already in the bond (a change, a start after a reboot) are brought up too. */
        for (size_t i = 0; i < c->n_bond_slaves; i++)
                if (streq(master_name(h, net_host_find(h, c->bond_slaves[i])), c->uplink))
                        set_up(b, h, c->bond_slaves[i], true);
        if (c->uplink[0])
                set_up(b, h, c->uplink, true);
        if (c->vlan)
                set_up(b, h, port, true);
        set_up(b, h, c->name, true);
}

static void build_linux(Builder *b, const NetHost *h, const NetKernel *k, const NetConfig *old, const NetConfig *c) {
        const NetLink *bridge = net_host_find(h, c->name), *portl;
        char port[IFNAMSIZ];

        net_config_port(c, port);
        linux_check(b, h, k, old, c, port);
        if (b->r < 0)
                return;
        portl = port[0] ? net_host_find(h, port) : NULL;
        if (old)
                release_old_port(b, h, old, c);
        if (!bridge)
                add_step(b, NET_STEP_BRIDGE_ADD, c->name);
        if (c->n_bond_slaves)
                linux_bond_steps(b, h, c, net_host_find(h, c->uplink));
        if (c->uplink[0])
                set_mtu(b, h, c->uplink, uplink_mtu(b, c));
        if (c->vlan && !portl) {
                NetStep *s = add_step(b, NET_STEP_VLAN_ADD, port);
                if (s) {
                        snprintf(s->arg, sizeof s->arg, "%s", c->uplink);
                        s->value = c->vlan;
                }
        }
        if (c->vlan)
                set_mtu(b, h, port, c->mtu);
        if (port[0])
                set_master(b, h, port, c->name);
        set_mtu(b, h, c->name, c->mtu);
        drop_old_addresses(b, old, c, bridge);
        linux_up_steps(b, h, c, port);
        add_new_addresses(b, c, bridge);
}

/* Bond modes by number, as an OVS bond step keeps its mode. */
static const char *const bond_modes_ovs[] = { "balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad",
                                              "balance-tlb", "balance-alb", NULL };

const char *net_ovs_bond_mode_name(unsigned index) {
        return index < ELEMENTSOF(bond_modes_ovs) - 1 ? bond_modes_ovs[index] : "active-backup";
}

/* The OVS bridge, if any, that has PORT (a bond's port also has its slaves' interfaces, not as ports). */
static const OvsBridge *ovs_owner(const OvsState *ovs, const char *port) {
        for (size_t i = 0; i < ovs->n_bridges; i++)
                if (ovs_bridge_port(&ovs->bridges[i], port))
                        return &ovs->bridges[i];
        return NULL;
}

static void ovs_port_step(Builder *b, NetStepKind kind, const char *port, const char *bridge, unsigned tag) {
        NetStep *s = add_step(b, kind, port);

        if (s) {
                snprintf(s->arg, sizeof s->arg, "%s", bridge);
                s->value = tag;
        }
}

/* The bond port of network C on its bridge: made, or taken away so that its
 * undo makes it again as the bond it was (not as a plain port). */
static void ovs_bond_step(Builder *b, NetStepKind kind, const NetConfig *c) {
        NetStep *s = add_step(b, kind, c->uplink);
        size_t used = 0;

        if (!s)
                return;
        snprintf(s->old_arg, sizeof s->old_arg, "%s", c->name);
        for (size_t i = 0; i < c->n_bond_slaves; i++)
                used += (size_t) snprintf(s->arg + used, sizeof s->arg - used, "%s%s", i ? "," : "", c->bond_slaves[i]);
        for (size_t i = 0; bond_modes_ovs[i]; i++)
                if (streq(bond_modes_ovs[i], c->bond_mode))
                        s->value = (unsigned) i;
}

/* Takes network OLD's uplink off its bridge. */
static void ovs_uplink_del_step(Builder *b, const OvsBridge *bridge, const NetConfig *old) {
        const OvsPort *p = ovs_bridge_port(bridge, old->uplink);

        if (!p)
                return;
        if (old->n_bond_slaves)
                ovs_bond_step(b, NET_STEP_OVS_BOND_DEL, old);
        else
                ovs_port_step(b, NET_STEP_OVS_PORT_DEL, old->uplink, old->name, p->tag);
}

static void build_ovs_remove(Builder *b, const NetHost *h, const OvsState *ovs, const NetConfig *old) {
        const OvsBridge *bridge = ovs_state_bridge(ovs, old->name);
        const NetLink *internal = net_host_find(h, old->name);
        char field[64];

        snprintf(field, sizeof field, "networks.%s", old->name);
        for (size_t i = 0; bridge && i < bridge->n_ports; i++) {
                const OvsPort *p = &bridge->ports[i];
                if (!streq(p->name, old->name) && !streq(p->name, old->uplink))
                        return fail(b, -ERRNO_IN_USE, field, "%s is still attached to it; detach it (stop the VM) first",
                                    p->name);
        }
        for (size_t i = 0; internal && i < internal->n_addresses; i++) {
                NetStep *s = add_step(b, NET_STEP_ADDR_DEL, old->name);
                if (s)
                        snprintf(s->arg, sizeof s->arg, "%s", internal->addresses[i]);
        }
        if (bridge && old->uplink[0]) {
                ovs_uplink_del_step(b, bridge, old);
                give_back_mtu(b, h, old);
        }
        if (bridge) {
                const OvsPort *own = ovs_bridge_port(bridge, old->name);
                NetStep *s = add_step(b, NET_STEP_OVS_BRIDGE_DEL, old->name);
                if (s) {
                        snprintf(s->arg, sizeof s->arg, "%s", bridge->datapath_type);
                        s->value = own ? own->tag : 0;
                }
        }
}

static void build_ovs(Builder *b, const NetHost *h, const OvsState *ovs, const NetKernel *k, const NetEnv *env,
                      const NetConfig *old, const NetConfig *c) {
        const OvsBridge *bridge = ovs_state_bridge(ovs, c->name), *owner;
        const NetLink *uplink = c->uplink[0] ? net_host_find(h, c->uplink) : NULL;
        char field[96];

        snprintf(field, sizeof field, "networks.%s.switch", c->name);
        if (!ovs->reachable)
                return fail(b, -EOPNOTSUPP, field, "Open vSwitch is not running here (no ovsdb-server at %s)",
                            env->ovsdb);
        if (streq(env->ovs_datapath, "system") && !k->ovs_datapath)
                return fail(b, -EOPNOTSUPP, field, "this kernel has no Open vSwitch datapath; start hostagentd with "
                            "--ovs-datapath=netdev for the user-space one");
        snprintf(field, sizeof field, "networks.%s", c->name);
        if (bridge && !old)
                return fail(b, -EINVAL, field, "an Open vSwitch bridge named %s exists and is not one of the agent's "
                            "networks", c->name);
        if (!bridge && net_host_find(h, c->name) && !old)
                return fail(b, -EINVAL, field, "an interface named %s exists and is not one of the agent's networks",
                            c->name);
        /* A bond is an OVS port of several interfaces: its slaves must be there and free. */
        for (size_t i = 0; i < c->n_bond_slaves; i++) {
                const NetLink *s = net_host_find(h, c->bond_slaves[i]);
                const OvsBridge *o = ovs_owner(ovs, c->bond_slaves[i]);
                snprintf(field, sizeof field, "networks.%s.bond.slaves[%zu]", c->name, i);
                if (!s)
                        return fail(b, -EINVAL, field, "there is no interface %s", c->bond_slaves[i]);
                if (o && !(streq(o->name, c->name) && old && old->n_bond_slaves))
                        return fail(b, -EINVAL, field, "%s is a port of the Open vSwitch bridge %s already",
                                    c->bond_slaves[i], o->name);
                if (s->master && !o && !streq(master_name(h, s), "ovs-system"))
                        return fail(b, -EINVAL, field, "%s is a port of %s already", s->name, master_name(h, s));
        }
        snprintf(field, sizeof field, "networks.%s.uplink", c->name);
        if (c->uplink[0] && !uplink && !c->n_bond_slaves)
                return fail(b, -EINVAL, field, "there is no interface %s", c->uplink);
        if (c->n_bond_slaves && uplink && !(bridge && ovs_bridge_port(bridge, c->uplink)))
                return fail(b, -EINVAL, field, "an interface named %s exists already", c->uplink);
        owner = c->uplink[0] ? ovs_owner(ovs, c->uplink) : NULL;
        if (owner && !streq(owner->name, c->name))
                return fail(b, -EINVAL, field, "%s is a port of the Open vSwitch bridge %s already", c->uplink,
                            owner->name);
        if (uplink && uplink->master && !owner && !streq(master_name(h, uplink), "ovs-system"))
                return fail(b, -EINVAL, field, "%s is a port of %s already", c->uplink, master_name(h, uplink));

        if (old && old->uplink[0] && !streq(old->uplink, c->uplink) && bridge) {
                ovs_uplink_del_step(b, bridge, old);
                give_back_mtu(b, h, old);
        }
        if (!bridge) {
                NetStep *s = add_step(b, NET_STEP_OVS_BRIDGE_ADD, c->name);
                if (s) {
                        snprintf(s->arg, sizeof s->arg, "%s", env->ovs_datapath);
                        s->value = c->vlan;
                }
        }
        /* The uplink is a trunk: the network's VLAN tags its own port and the VMs'. */
        if (c->n_bond_slaves && !(bridge && ovs_bridge_port(bridge, c->uplink))) {
                ovs_bond_step(b, NET_STEP_OVS_BOND_ADD, c);
                for (size_t i = 0; i < c->n_bond_slaves; i++) {
                        set_mtu(b, h, c->bond_slaves[i], uplink_mtu(b, c));
                        set_up(b, h, c->bond_slaves[i], true);
                }
        } else if (c->uplink[0] && !(bridge && ovs_bridge_port(bridge, c->uplink)))
                ovs_port_step(b, NET_STEP_OVS_PORT_ADD, c->uplink, c->name, 0);
        if (c->uplink[0] && !c->n_bond_slaves) {
                set_mtu(b, h, c->uplink, uplink_mtu(b, c));
                set_up(b, h, c->uplink, true);
        }
        set_mtu(b, h, c->name, c->mtu);
        const NetLink *internal = net_host_find(h, c->name);
        drop_old_addresses(b, old, c, internal);
        set_up(b, h, c->name, true);
        add_new_addresses(b, c, internal);
}

int net_plan_build(const NetConfig *current, size_t n_current, const NetDesired *desired, const NetHost *host,
                   const OvsState *ovs, const NetKernel *kernel, const NetEnv *env, NetPlan *ret, char **ret_error) {
        NetPlan plan = {};
        Builder b = { .plan = &plan, .error = ret_error, .current = current, .n_current = n_current,
                      .desired = desired };
        char field[64];

        /* Removals first: they may free the uplinks the others take. */
        for (size_t i = 0; i < desired->n_remove && b.r >= 0; i++) {
                const NetConfig *old = find_config(current, n_current, desired->remove[i]);
                snprintf(field, sizeof field, "networks.%s", desired->remove[i]);
                if (!old)
                        fail(&b, -EINVAL, field, "no network %s of the agent's to remove", desired->remove[i]);
                else if (old->sw == NET_SWITCH_OVS)
                        build_ovs_remove(&b, host, ovs, old);
                else
                        build_remove(&b, host, old);
        }
        for (size_t i = 0; i < desired->n_networks && b.r >= 0; i++) {
                const NetConfig *c = &desired->networks[i], *old = find_config(current, n_current, c->name);
                snprintf(field, sizeof field, "networks.%s.switch", c->name);
                if (old && old->sw != c->sw)
                        fail(&b, -EINVAL, field, "a network cannot change its switch; remove it and add it again");
                else if (c->sw == NET_SWITCH_OVS)
                        build_ovs(&b, host, ovs, kernel, env, old, c);
                else
                        build_linux(&b, host, kernel, old, c);
        }
        if (b.r < 0) {
                net_plan_done(&plan);
                return b.r;
        }
        *ret = plan;
        return 0;
}

char *net_plan_describe(const NetPlan *p) {
        _cleanup_(json_object_putp) json_object *a = json_object_new_array();
        char *text;

        if (!a)
                return NULL;
        for (size_t i = 0; i < p->n_steps; i++) {
                const NetStep *s = &p->steps[i];
                json_object *o = json_object_new_object();
                char detail[200] = "";

                switch (s->kind) {
                case NET_STEP_VLAN_ADD:
                        snprintf(detail, sizeof detail, "id %u on %s", s->value, s->arg);
                        break;
                case NET_STEP_BOND_ADD:
                        snprintf(detail, sizeof detail, "mode %s", s->arg);
                        break;
                case NET_STEP_SET_MASTER:
                        snprintf(detail, sizeof detail, "%s", *s->arg ? s->arg : "none");
                        break;
                case NET_STEP_SET_MTU:
                        snprintf(detail, sizeof detail, "%u", s->value);
                        break;
                case NET_STEP_SET_UP:
                        snprintf(detail, sizeof detail, "%s", s->value ? "up" : "down");
                        break;
                case NET_STEP_ADDR_ADD:
                case NET_STEP_ADDR_DEL:
                        snprintf(detail, sizeof detail, "%s", s->arg);
                        break;
                case NET_STEP_OVS_BRIDGE_ADD:
                        snprintf(detail, sizeof detail, "datapath %s%s", s->arg, s->value ? ", tagged" : "");
                        break;
                case NET_STEP_OVS_PORT_ADD:
                case NET_STEP_OVS_PORT_DEL:
                        snprintf(detail, sizeof detail, "%s", s->arg);
                        break;
                case NET_STEP_OVS_BOND_ADD:
                case NET_STEP_OVS_BOND_DEL:
                        snprintf(detail, sizeof detail, "%.60s of %.30s", s->old_arg, s->arg);
                        break;
                default:
                        break;
                }
                json_object_object_add(o, "step", json_object_new_int((int) i + 1));
                json_object_object_add(o, "action", json_object_new_string(net_step_kind_to_string(s->kind)));
                json_object_object_add(o, "link", json_object_new_string(s->link));
                if (*detail)
                        json_object_object_add(o, "value", json_object_new_string(detail));
                json_object_array_add(a, o);
        }
        text = strdup(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        return text;
}
