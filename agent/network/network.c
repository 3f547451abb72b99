/* Host networks: the agent's configuration, and the kernel's links seen live through netlink */
#include "network.h"

#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <stdatomic.h>
#include <stdio.h>

#include "atomic-file.h"
#include "failpoint.h"
#include "json-cleanup.h"
#include "log.h"
#include "netlink-cleanup.h"
#include "macro.h"
#include "manager.h"
#include "ovs-monitor.h"

void networks_set_listener(Manager *m, const NetworkListener *listener) {
        m->network_listener = listener;
}

static void network_notify_added(Manager *m, const char *path) {
        const NetworkListener *l = m->network_listener;

        if (l && l->added)
                l->added(m, path);
}

static void network_notify_removed(Manager *m, const char *path) {
        const NetworkListener *l = m->network_listener;

        if (l && l->removed)
                l->removed(m, path);
}

static void network_notify_changed(Manager *m, const NetConfig *c, bool config) {
        const NetworkListener *l = m->network_listener;

        if (l && l->changed)
                l->changed(m, c, config);
}

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

static const NetConfig *find_in(const NetConfig *configs, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (streq(configs[i].name, name))
                        return &configs[i];
        return NULL;
}

static bool config_equal(const NetConfig *a, const NetConfig *b) {
        _cleanup_(json_object_putp) json_object *ja = net_config_to_json(a), *jb = net_config_to_json(b);

        return ja && jb && json_object_equal(ja, jb);
}

/* Reads of the links are stamped as they begin, on whichever worker: a read that began later saw
 * the kernel later, and one that began earlier never replaces it. */
static atomic_uint_fast64_t read_clock;

int networks_read(const char *ovsdb, int timeout_ms, NetworksRead *ret) {
        _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
        int r;

        r = net_socket_open(&sk);
        if (r < 0)
                return r;
        ret->stamp = atomic_fetch_add(&read_clock, 1) + 1;
        r = net_host_read(sk, &ret->host);
        if (r < 0)
                return r;
        if (ovs_state_read(ovsdb, timeout_ms, &ret->ovs, NULL) < 0)
                ret->ovs = (OvsState) { .reachable = false };
        return 0;
}

void networks_read_done(NetworksRead *r) {
        net_host_done(&r->host);
        ovs_state_done(&r->ovs);
        *r = (NetworksRead) {};
}

/* Installs READ (taking it) unless it began before the one in place; the one it replaces goes to RET_OLD. */
static bool install_read(Networks *n, NetworksRead *read, NetworksRead *ret_old) {
        if (!read || read->stamp <= n->read.stamp)
                return false;
        *ret_old = n->read;
        n->read = *read;
        *read = (NetworksRead) {};
        return true;
}

/* Does what the kernel shows of C differ between two reads? */
static bool view_changed(const NetConfig *c, const NetworksRead *a, const NetworksRead *b) {
        NetView va = {}, vb = {};
        bool same = net_view_build(c, &a->host, &a->ovs, &va) >= 0 && net_view_build(c, &b->host, &b->ovs, &vb) >= 0 &&
                    net_view_equal(&va, &vb);

        net_view_done(&va);
        net_view_done(&vb);
        return !same;
}

void networks_take_read(Manager *m, NetworksRead *read) {
        Networks *n = m->networks;
        NetworksRead old = {};

        if (!install_read(n, read, &old))
                return;
        for (size_t i = 0; i < n->n_configs; i++)
                if (view_changed(&n->configs[i], &old, &n->read))
                        network_notify_changed(m, &n->configs[i], false);
        networks_read_done(&old);
}

/* Every network comes and goes through here, with the read of the links made after the change
 * (READ, or NULL): withdrawn while the old set still serves it (so InterfacesRemoved names
 * org.hostagent1.Network), announced once the new set does, with the kernel's state as it is now
 * (so InterfacesAdded carries it with its properties, as GetManagedObjects shows them). */
void networks_set_configs(Manager *m, NetConfig *configs, size_t n_configs, NetworksRead *read) {
        Networks *n = m->networks;
        NetworkObject *objects = calloc(n_configs + 1, sizeof *objects);
        NetConfig *old = n->configs;
        size_t n_old = n->n_configs;
        NetworksRead old_read = {};
        bool fresh;

        if (!objects) {
                log_error("Out of memory publishing networks");
                networks_free_configs(configs, n_configs);
                return;
        }
        for (size_t i = 0; i < n_configs; i++) {
                objects[i] = (NetworkObject) { .manager = m, .config = &configs[i] };
                (void) network_bus_path(configs[i].name, &objects[i].path);
        }
        for (size_t i = 0; i < n_old; i++)
                if (!find_in(configs, n_configs, old[i].name) && n->objects[i].path)
                        network_notify_removed(m, n->objects[i].path);
        fresh = install_read(n, read, &old_read);
        objects_free(n->objects, n_old);
        n->configs = configs;
        n->n_configs = n_configs;
        n->objects = objects;
        for (size_t j = 0; j < n_configs; j++) {
                const NetConfig *before = find_in(old, n_old, configs[j].name);
                if (!before && objects[j].path)
                        network_notify_added(m, objects[j].path);
                else if (before && !config_equal(before, &configs[j]))
                        network_notify_changed(m, &configs[j], true);
                else if (before && fresh && view_changed(&configs[j], &old_read, &n->read))
                        network_notify_changed(m, &configs[j], false);
        }
        networks_free_configs(old, n_old);
        networks_read_done(&old_read);
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

/* Entries of networks.json this agent could not read go back into it as they were, unless a
 * network of that name is saved now. */
static int add_unrestored(json_object *networks, const char *unrestored) {
        _cleanup_(json_object_putp) json_object *kept = unrestored ? json_tokener_parse(unrestored) : NULL;

        if (unrestored && !kept)
                return -ENOMEM;
        if (!kept)
                return 0;
        json_object_object_foreach(kept, name, o)
                if (!json_object_object_get_ex(networks, name, NULL) &&
                    json_object_object_add(networks, name, json_object_get(o)) < 0)
                        return -ENOMEM;
        return 0;
}

int networks_save(const char *state_dir, const NetConfig *configs, size_t n, const char *unrestored) {
        _cleanup_(json_object_putp) json_object *root = json_object_new_object();
        _cleanup_(freep) char *path = state_path(state_dir, NETWORK_STATE_FILE);
        json_object *networks = configs_to_json(configs, n);
        const char *text;
        int r;

        if (!root || !path || !networks) {
                json_object_put(networks);
                return -ENOMEM;
        }
        json_object_object_add(root, "networks", networks);
        r = add_unrestored(networks, unrestored);
        if (r < 0)
                return r;
        text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        return atomic_file_write(path, text, strlen(text), 0600);
}

void networks_saved(Manager *m) {
        Networks *n = m->networks;
        _cleanup_(json_object_putp) json_object *kept = n->unrestored ? json_tokener_parse(n->unrestored) : NULL;
        json_object *left = json_object_new_object();

        if (!kept || !left) {
                json_object_put(left);
                return;
        }
        json_object_object_foreach(kept, name, o)
                if (!network_find(m, name))
                        json_object_object_add(left, name, json_object_get(o));
        free(n->unrestored);
        n->unrestored = json_object_object_length(left) > 0 ? strdup(json_object_to_json_string(left)) : NULL;
        json_object_put(left);
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

/* A journal as networks_journal_write() wrote it, or -EBADMSG and why not. */
static int journal_parse(const char *text, NetPlan *ret_plan, size_t *ret_done, const char **ret_why) {
        _cleanup_(json_object_putp) json_object *root = json_tokener_parse(text);
        json_object *plan_json, *done_json, *phase_json;
        const char *phase;
        NetPlan plan = {};
        int64_t done;
        int r;

        if (!json_object_is_type(root, json_type_object))
                return *ret_why = "not a JSON object", -EBADMSG;
        if (!json_object_object_get_ex(root, "phase", &phase_json) || !json_object_is_type(phase_json, json_type_string) ||
            (!streq(phase = json_object_get_string(phase_json), "applying") && !streq(phase, "awaiting-confirm")))
                return *ret_why = "phase: must be \"applying\" or \"awaiting-confirm\"", -EBADMSG;
        r = json_object_object_get_ex(root, "plan", &plan_json) ? net_plan_from_json(plan_json, &plan) : -EBADMSG;
        if (r < 0)
                return *ret_why = r == -ENOMEM ? "out of memory" : "plan: not steps this agent writes", r;
        if (!json_object_object_get_ex(root, "done", &done_json) || !json_object_is_type(done_json, json_type_int) ||
            (done = json_object_get_int64(done_json)) < 0 || (uint64_t) done > plan.n_steps) {
                net_plan_done(&plan);
                return *ret_why = "done: must count steps of the plan", -EBADMSG;
        }
        /* While applying, the step after the last one journaled may have half happened. */
        if (streq(phase, "applying") && (size_t) done < plan.n_steps)
                done++;
        *ret_plan = plan;
        *ret_done = (size_t) done;
        return 0;
}

int networks_journal_read(const char *state_dir, NetPlan *ret_plan, size_t *ret_done) {
        _cleanup_(freep) char *path = state_path(state_dir, NETWORK_JOURNAL_FILE), *text = NULL, *aside = NULL;
        const char *why = NULL;
        size_t size;
        int r;

        if (!path)
                return -ENOMEM;
        r = atomic_file_read(path, &text, &size);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return log_error_errno(r, "Cannot read %s: %m; nothing is rolled back", path);
        r = journal_parse(text, ret_plan, ret_done, &why);
        if (r >= 0)
                return 1;
        if (r == -ENOMEM)
                return r;
        /* Undoing steps it cannot trust could delete links the change never made (a null name, a
         * count past the plan): nothing is undone, and the journal is kept for a person to read. */
        if (asprintf(&aside, "%s.damaged", path) < 0)
                return -ENOMEM;
        if (rename(path, aside) < 0)
                return log_error_errno(-errno, "%s is damaged (%s); nothing is rolled back, and it cannot be moved "
                                       "aside: %m", path, why);
        log_error("%s is damaged (%s); nothing is rolled back, and it is kept as %s", path, why, aside);
        return -EBADMSG;
}

/* The networks of ROOT ({"networks": {...}}) into RET; the entries this agent cannot read, as they
 * are, into RET_UNRESTORED (a JSON object's text, NULL when none), so that saving does not erase them. */
static int parse_configs(const char *path, json_object *root, NetConfig **ret, size_t *ret_n, char **ret_unrestored) {
        _cleanup_(json_object_putp) json_object *unrestored = json_object_new_object();
        json_object *networks;
        NetConfig *c;
        size_t n = 0;

        if (!root || !json_object_object_get_ex(root, "networks", &networks) ||
            !json_object_is_type(networks, json_type_object))
                return -EBADMSG;
        c = calloc((size_t) json_object_object_length(networks) + 1, sizeof *c);
        if (!c || !unrestored) {
                free(c);
                return -ENOMEM;
        }
        json_object_object_foreach(networks, name, o) {
                _cleanup_(freep) char *why = NULL;
                if (net_config_from_json(name, o, &c[n], &why) < 0) {
                        log_error("%s: network %s cannot be restored: %s; it stays in the file as it is", path, name,
                                  strempty(why));
                        json_object_object_add(unrestored, name, json_object_get(o));
                        continue;
                }
                n++;
        }
        *ret_unrestored = NULL;
        if (json_object_object_length(unrestored) > 0 &&
            !(*ret_unrestored = strdup(json_object_to_json_string(unrestored)))) {
                networks_free_configs(c, n);
                return -ENOMEM;
        }
        *ret = c;
        *ret_n = n;
        return 0;
}

static int load_configs(const char *state_dir, NetConfig **ret, size_t *ret_n, char **ret_unrestored) {
        _cleanup_(freep) char *path = state_path(state_dir, NETWORK_STATE_FILE), *text = NULL;
        _cleanup_(json_object_putp) json_object *root = NULL;
        size_t size;
        int r;

        *ret = NULL;
        *ret_n = 0;
        *ret_unrestored = NULL;
        if (!path)
                return -ENOMEM;
        r = atomic_file_read(path, &text, &size);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        root = json_tokener_parse(text);
        r = parse_configs(path, root, ret, ret_n, ret_unrestored);
        if (r < 0)
                return r;
        /* All are kept: dropping some would erase them from the file at the next change and leave
         * their bridges unmanaged. Changes that would add to them are refused instead. */
        if (*ret_n > NET_MAX_NETWORKS)
                log_warning("%s holds %zu networks, more than the %d SetupNetworks allows: all are kept, and changes "
                            "that add networks are refused until there are fewer",
                            path, *ret_n, NET_MAX_NETWORKS);
        return 0;
}

/* The live view: a netlink subscription on the loop tells that something
 * changed; a worker reads the links again; what differs is signalled. */

typedef struct Refresh {
        Manager *manager;
        char *ovsdb;
        NetworksRead read;
} Refresh;

static void refresh_free(Refresh *f) {
        networks_read_done(&f->read);
        free(f->ovsdb);
        free(f);
}

static int refresh_work(void *userdata) {
        Refresh *f = userdata;

        return networks_read(f->ovsdb, NETWORKS_OVS_READ_MS, &f->read);
}

static void refresh_done(int result, void *userdata) {
        Refresh *f = userdata;
        Manager *m = f->manager;
        Networks *n = m->networks;

        if (!n) {
                refresh_free(f);
                return;
        }
        n->refreshing = false;
        if (result >= 0)
                networks_take_read(m, &f->read);
        else if (result != -ECANCELED)
                log_warning_errno(result, "Cannot read the kernel's links: %m");
        refresh_free(f);
        if (n->refresh_again) {
                n->refresh_again = false;
                networks_refresh(m);
        }
}

void networks_refresh(Manager *m) {
        Networks *n = m->networks;
        Refresh *f;

        if (n->refreshing) {
                n->refresh_again = true;
                return;
        }
        f = calloc(1, sizeof *f);
        if (!f)
                return;
        f->manager = m;
        f->ovsdb = strdup(m->options->ovsdb);
        if (!f->ovsdb) {
                free(f);
                return;
        }
        /* INTERNAL: keeping the view current is the agent's own work, never refused for load. */
        if (worker_pool_submit(m->pool, WORKER_INTERNAL, refresh_work, refresh_done, f) < 0) {
                refresh_free(f);
                return;
        }
        n->refreshing = true;
}

static int on_netlink_message(struct nl_msg *msg, void *userdata) {
        return NL_OK;   /* what changed is read again whole: the message itself is not needed */
}

static int on_netlink(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        int r;

        /* Drain; an overflow (ENOBUFS) lost messages, which the re-read covers too. */
        do
                r = nl_recvmsgs_default(m->networks->events);
        while (r >= 0);
        networks_refresh(m);
        return 0;
}

static int start_events(Manager *m) {
        Networks *n = m->networks;
        int r;

        n->events = nl_socket_alloc();
        if (!n->events)
                return -ENOMEM;
        nl_socket_disable_seq_check(n->events);
        nl_socket_modify_cb(n->events, NL_CB_VALID, NL_CB_CUSTOM, on_netlink_message, m);
        r = nl_connect(n->events, NETLINK_ROUTE);
        if (r >= 0)
                r = nl_socket_add_memberships(n->events, RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, 0);
        if (r >= 0)
                r = nl_socket_set_nonblocking(n->events);
        if (r < 0)
                return log_error_errno(net_errno(r), "Cannot watch the kernel's links: %s", nl_geterror(r));
        r = sd_event_add_io(m->event, &n->io, nl_socket_get_fd(n->events), EPOLLIN, on_netlink, m);
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
        fp = failpoint_get("HOSTAGENT_NET_FAILPOINT");
        if (fp && !(n->failpoint = strdup(fp)))
                return -ENOMEM;
        r = start_events(m);
        if (r < 0)
                return r;
        networks_refresh(m);
        r = ovs_monitor_start(m, networks_refresh, &n->monitor);
        if (r < 0)
                return r;
        r = load_configs(m->options->state_dir, &configs, &n_configs, &n->unrestored);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                /* Overwriting it would lose every network in it: changes are refused until someone looks. */
                if (asprintf(&n->unreadable, "%s/%s cannot be read (%s); it is not overwritten: repair or remove it, "
                             "then restart the agent", m->options->state_dir, NETWORK_STATE_FILE, strerror(-r)) < 0)
                        return -ENOMEM;
                log_error("%s; no networks restored", n->unreadable);
        }
        networks_set_configs(m, configs ?: calloc(1, sizeof(NetConfig)), n_configs, NULL);
        return 0;
}

void networks_free(Manager *m) {
        Networks *n = m->networks;

        if (!n)
                return;
        sd_event_source_disable_unref(n->io);
        sd_event_source_disable_unref(n->confirm_timer);
        if (n->events)
                nl_socket_free(n->events);
        networks_read_done(&n->read);
        ovs_monitor_free(n->monitor);
        objects_free(n->objects, n->n_configs);
        networks_free_configs(n->configs, n->n_configs);
        networks_free_configs(n->previous, n->n_previous);
        net_plan_done(&n->pending_plan);
        free(n->failpoint);
        free(n->unrestored);
        free(n->unreadable);
        free(n);
        m->networks = NULL;
}
