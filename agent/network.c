/* Host networks: the agent's configuration, and the kernel's links seen live through netlink */
#include "network.h"

#include <arpa/inet.h>
#include <netlink/cache.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <stdio.h>

#include "atomic-file.h"
#include "json-cleanup.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "network-dbus.h"
#include "network-setup.h"

int network_bus_path(const char *name, char **ret) {
        return sd_bus_path_encode(NETWORK_PATH_PREFIX, name, ret);
}

const NetConfig *network_find(Manager *m, const char *name) {
        Networks *n = m->networks;

        for (size_t i = 0; n && i < n->n_configs; i++)
                if (streq(n->configs[i].name, name))
                        return &n->configs[i];
        return NULL;
}

NetworkObject *network_find_by_path(Manager *m, const char *path) {
        Networks *n = m->networks;

        for (size_t i = 0; n && i < n->n_configs; i++)
                if (n->objects[i].path && streq(n->objects[i].path, path))
                        return &n->objects[i];
        return NULL;
}

static void objects_free(NetworkObject *o, size_t n) {
        for (size_t i = 0; o && i < n; i++)
                free(o[i].path);
        free(o);
}

void networks_free_configs(NetConfig *c, size_t n) {
        for (size_t i = 0; i < n; i++)
                net_config_done(&c[i]);
        free(c);
}

int networks_copy_configs(const NetConfig *src, size_t n, NetConfig **ret) {
        NetConfig *c = calloc(n ?: 1, sizeof *c);

        if (!c)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (net_config_copy(&src[i], &c[i]) < 0) {
                        networks_free_configs(c, i);
                        return -ENOMEM;
                }
        *ret = c;
        return 0;
}

void networks_set_configs(Manager *m, NetConfig *configs, size_t n_configs) {
        Networks *n = m->networks;
        NetworkObject *objects = calloc(n_configs + 1, sizeof *objects);

        if (!objects) {
                log_error("Out of memory publishing networks");
                networks_free_configs(configs, n_configs);
                return;
        }
        for (size_t i = 0; i < n_configs; i++) {
                objects[i] = (NetworkObject) { .manager = m, .config = &configs[i] };
                (void) network_bus_path(configs[i].name, &objects[i].path);
        }
        /* Withdraw what went, announce what came, tell the rest they may have changed. */
        for (size_t i = 0; i < n->n_configs; i++) {
                bool kept = false;
                for (size_t j = 0; j < n_configs; j++)
                        kept = kept || streq(n->configs[i].name, configs[j].name);
                if (!kept && n->objects[i].path)
                        (void) sd_bus_emit_object_removed(m->bus, n->objects[i].path);
        }
        for (size_t j = 0; j < n_configs; j++) {
                bool existed = false;
                for (size_t i = 0; i < n->n_configs; i++)
                        existed = existed || streq(n->configs[i].name, configs[j].name);
                if (!existed && objects[j].path)
                        (void) sd_bus_emit_object_added(m->bus, objects[j].path);
        }
        objects_free(n->objects, n->n_configs);
        networks_free_configs(n->configs, n->n_configs);
        n->configs = configs;
        n->n_configs = n_configs;
        n->objects = objects;
        for (size_t i = 0; i < n_configs; i++)
                network_bus_emit_changed(m, &configs[i], true);
}

/* Files */

static char *state_path(const char *state_dir, const char *file) {
        char *p;

        return asprintf(&p, "%s/%s", state_dir, file) < 0 ? NULL : p;
}

static json_object *configs_to_json(const NetConfig *configs, size_t n) {
        json_object *o = json_object_new_object();

        for (size_t i = 0; o && i < n; i++)
                json_object_object_add(o, configs[i].name, net_config_to_json(&configs[i]));
        return o;
}

int networks_save(const char *state_dir, const NetConfig *configs, size_t n) {
        _cleanup_(json_object_putp) json_object *root = json_object_new_object();
        _cleanup_(freep) char *path = state_path(state_dir, NETWORK_STATE_FILE);
        const char *text;

        if (!root || !path)
                return -ENOMEM;
        json_object_object_add(root, "networks", configs_to_json(configs, n));
        text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        return atomic_file_write(path, text, strlen(text), 0600);
}

int networks_journal_write(const char *state_dir, const NetPlan *plan, size_t done, const char *phase) {
        _cleanup_(json_object_putp) json_object *root = json_object_new_object();
        _cleanup_(freep) char *path = state_path(state_dir, NETWORK_JOURNAL_FILE);
        const char *text;

        if (!root || !path)
                return -ENOMEM;
        json_object_object_add(root, "phase", json_object_new_string(phase));
        json_object_object_add(root, "done", json_object_new_int64((int64_t) done));
        json_object_object_add(root, "plan", net_plan_to_json(plan));
        text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        return atomic_file_write(path, text, strlen(text), 0600);
}

int networks_journal_remove(const char *state_dir) {
        _cleanup_(freep) char *path = state_path(state_dir, NETWORK_JOURNAL_FILE);

        if (!path)
                return -ENOMEM;
        return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

static int load_configs(const char *state_dir, NetConfig **ret, size_t *ret_n) {
        _cleanup_(freep) char *path = state_path(state_dir, NETWORK_STATE_FILE), *text = NULL;
        _cleanup_(json_object_putp) json_object *root = NULL;
        json_object *networks;
        NetConfig *c;
        size_t size, n = 0;
        int r;

        *ret = NULL;
        *ret_n = 0;
        if (!path)
                return -ENOMEM;
        r = atomic_file_read(path, &text, &size);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        root = json_tokener_parse(text);
        if (!root || !json_object_object_get_ex(root, "networks", &networks) ||
            !json_object_is_type(networks, json_type_object))
                return -EBADMSG;
        c = calloc((size_t) json_object_object_length(networks) + 1, sizeof *c);
        if (!c)
                return -ENOMEM;
        json_object_object_foreach(networks, name, o) {
                _cleanup_(freep) char *why = NULL;
                if (n >= NET_MAX_NETWORKS || net_config_from_json(name, o, &c[n], &why) < 0) {
                        log_error("%s: network %s cannot be restored: %s", path, name, why ?: "too many networks");
                        continue;
                }
                n++;
        }
        *ret = c;
        *ret_n = n;
        return 0;
}

/* The live view: libnl's cache manager on the loop */

/* The kernel also announces bridges and their ports as AF_BRIDGE messages, which
 * the cache keeps as objects of their own: a link may be there twice, and once
 * only as its AF_BRIDGE view. The AF_UNSPEC one is preferred, either will do. */
struct rtnl_link *networks_link(Manager *m, const char *name) {
        Networks *n = m->networks;
        struct rtnl_link *found = NULL;

        if (!n || !n->links || !*name)
                return NULL;
        for (struct nl_object *o = nl_cache_get_first(n->links); o; o = nl_cache_get_next(o)) {
                struct rtnl_link *l = (struct rtnl_link *) o;
                if (!streq(strempty(rtnl_link_get_name(l)), name))
                        continue;
                if (!found || rtnl_link_get_family(l) == AF_UNSPEC)
                        found = l;
        }
        if (found)
                nl_object_get((struct nl_object *) found);
        return found;
}

typedef struct Collect {
        int ifindex;
        char **list;
        size_t n;
        bool oom;
} Collect;

static void collect_push(Collect *c, char *s) {
        char **grown;

        if (!s) {
                c->oom = true;
                return;
        }
        grown = realloc(c->list, (c->n + 2) * sizeof(char *));
        if (!grown) {
                free(s);
                c->oom = true;
                return;
        }
        c->list = grown;
        c->list[c->n++] = s;
        c->list[c->n] = NULL;
}

static void collect_address(struct nl_object *obj, void *userdata) {
        struct rtnl_addr *a = (struct rtnl_addr *) obj;
        Collect *c = userdata;
        struct nl_addr *local = rtnl_addr_get_local(a);
        char ip[INET6_ADDRSTRLEN], *cidr;
        int family = rtnl_addr_get_family(a);

        if (rtnl_addr_get_ifindex(a) != c->ifindex || !local || rtnl_addr_get_scope(a) != RT_SCOPE_UNIVERSE ||
            (family != AF_INET && family != AF_INET6) ||
            !inet_ntop(family, nl_addr_get_binary_addr(local), ip, sizeof ip))
                return;
        collect_push(c, asprintf(&cidr, "%s/%d", ip, rtnl_addr_get_prefixlen(a)) < 0 ? NULL : cidr);
}

static void collect_port(struct nl_object *obj, void *userdata) {
        struct rtnl_link *l = (struct rtnl_link *) obj;
        const char *name = strempty(rtnl_link_get_name(l));
        Collect *c = userdata;

        if (rtnl_link_get_master(l) != c->ifindex || c->ifindex <= 0)
                return;
        for (size_t i = 0; i < c->n; i++)
                if (streq(c->list[i], name))
                        return;   /* its AF_BRIDGE view, seen already */
        collect_push(c, strdup(name));
}

static char **collect(struct nl_cache *cache, int ifindex, void (*fn)(struct nl_object *, void *)) {
        Collect c = { .ifindex = ifindex, .list = calloc(1, sizeof(char *)) };

        if (!c.list)
                return NULL;
        if (cache && ifindex > 0)
                nl_cache_foreach(cache, fn, &c);
        return c.list;   /* on OOM, what could be collected */
}

char **networks_addresses(Manager *m, int ifindex) {
        return collect(m->networks ? m->networks->addrs : NULL, ifindex, collect_address);
}

char **networks_ports(Manager *m, int ifindex) {
        return collect(m->networks ? m->networks->links : NULL, ifindex, collect_port);
}

/* Which networks a changed link concerns: its bridge, its port, its uplink,
 * a bond slave, or anything plugged into the bridge. */
static void link_changed(Manager *m, const char *name, int master) {
        Networks *n = m->networks;

        for (size_t i = 0; i < n->n_configs; i++) {
                const NetConfig *c = &n->configs[i];
                struct rtnl_link *bridge = master > 0 ? networks_link(m, c->name) : NULL;
                bool ours = streq(name, c->name) || streq(name, c->uplink) ||
                            (bridge && rtnl_link_get_ifindex(bridge) == master);
                char port[IFNAMSIZ];

                net_config_port(c, port);
                ours = ours || streq(name, port);
                for (size_t s = 0; !ours && s < c->n_bond_slaves; s++)
                        ours = streq(name, c->bond_slaves[s]);
                if (bridge)
                        rtnl_link_put(bridge);
                if (ours)
                        network_bus_emit_changed(m, c, false);
        }
}

static void on_cache_change(struct nl_cache *cache, struct nl_object *obj, int action, void *userdata) {
        Manager *m = userdata;
        const char *type = nl_object_get_type(obj);

        if (!m->networks)
                return;
        if (type && streq(type, "route/link")) {
                struct rtnl_link *l = (struct rtnl_link *) obj;
                /* A deleted port still names the bridge it was in: that bridge's Ports changed. */
                link_changed(m, strempty(rtnl_link_get_name(l)), rtnl_link_get_master(l));
        } else if (type && streq(type, "route/addr")) {
                struct rtnl_link *l = m->networks->links
                                              ? rtnl_link_get(m->networks->links, rtnl_addr_get_ifindex((struct rtnl_addr *) obj))
                                              : NULL;
                if (l) {
                        link_changed(m, strempty(rtnl_link_get_name(l)), 0);
                        rtnl_link_put(l);
                }
        }
}

static int on_netlink(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        int r = nl_cache_mngr_data_ready(m->networks->mngr);

        if (r < 0)
                log_debug("netlink: %s", nl_geterror(r));
        return 0;
}

static int start_cache(Manager *m) {
        Networks *n = m->networks;
        int r;

        r = nl_cache_mngr_alloc(NULL, NETLINK_ROUTE, NL_AUTO_PROVIDE, &n->mngr);
        if (r >= 0)
                r = nl_cache_mngr_add(n->mngr, "route/link", on_cache_change, m, &n->links);
        if (r >= 0)
                r = nl_cache_mngr_add(n->mngr, "route/addr", on_cache_change, m, &n->addrs);
        if (r < 0)
                return log_error_errno(net_errno(r), "Cannot watch the kernel's links: %s", nl_geterror(r));
        r = sd_event_add_io(m->event, &n->io, nl_cache_mngr_get_fd(n->mngr), EPOLLIN, on_netlink, m);
        if (r < 0)
                return log_error_errno(r, "Cannot watch the netlink socket: %m");
        return 0;
}

int networks_start(Manager *m) {
        Networks *n;
        NetConfig *configs = NULL;
        size_t n_configs = 0;
        const char *fp;
        int r;

        n = calloc(1, sizeof *n);
        if (!n)
                return -ENOMEM;
        n->manager = m;
        m->networks = n;
        fp = getenv("HOSTAGENT_NET_FAILPOINT");
        if (fp && *fp && !(n->failpoint = strdup(fp)))
                return -ENOMEM;
        r = start_cache(m);
        if (r < 0)
                return r;
        r = load_configs(m->options->state_dir, &configs, &n_configs);
        if (r < 0)
                log_error_errno(r, "Cannot read %s: %m; no networks restored", NETWORK_STATE_FILE);
        networks_set_configs(m, configs ?: calloc(1, sizeof(NetConfig)), n_configs);
        /* A transaction cut short by a crash is rolled back, then what is kept is made true again. */
        return network_recover(m);
}

void networks_free(Manager *m) {
        Networks *n = m->networks;

        if (!n)
                return;
        sd_event_source_disable_unref(n->io);
        sd_event_source_disable_unref(n->confirm_timer);
        if (n->mngr)
                nl_cache_mngr_free(n->mngr);
        objects_free(n->objects, n->n_configs);
        networks_free_configs(n->configs, n->n_configs);
        networks_free_configs(n->previous, n->n_previous);
        net_plan_done(&n->pending_plan);
        free(n->failpoint);
        free(n);
        m->networks = NULL;
}
