/* A SetupNetworks transaction's state, and its blocking halves run on workers: apply (journalled
 * step by step, undone on failure), keep, roll back, recover after a crash */
#include "network-transaction.h"

#include <netlink/socket.h>
#include <stdio.h>

#include "log.h"
#include "macro.h"
#include "netlink-cleanup.h"

/* How long a "pause:N" failpoint holds a transaction: a test kills the daemon meanwhile. */
#define FAILPOINT_PAUSE_SEC 60


void transaction_free(Transaction *t) {
        if (!t)
                return;
        bus_call_done(&t->call);
        free(t->state_dir);
        free(t->failpoint);
        free(t->ovsdb);
        free(t->ovs_datapath);
        free(t->unrestored);
        net_desired_done(&t->desired);
        networks_free_configs(t->current, t->n_current);
        networks_free_configs(t->next, t->n_next);
        net_plan_done(&t->plan);
        free(t->plan_text);
        free(t->message);
        networks_read_done(&t->after);
        free(t);
}

Transaction *transaction_new(Manager *m, sd_bus_message *msg) {
        Networks *n = m->networks;
        Transaction *t = calloc(1, sizeof *t);

        if (!t)
                return NULL;
        bus_call_init(&t->call, msg);
        t->manager = m;
        t->state_dir = strdup(m->options->state_dir);
        t->ovsdb = strdup(m->options->ovsdb);
        t->ovs_datapath = strdup(m->options->ovs_datapath);
        if (n->failpoint)
                t->failpoint = strdup(n->failpoint);
        if (n->unrestored)
                t->unrestored = strdup(n->unrestored);
        if (!t->state_dir || !t->ovsdb || !t->ovs_datapath || (n->failpoint && !t->failpoint) ||
            (n->unrestored && !t->unrestored) ||
            networks_copy_configs(n->configs, n->n_configs, &t->current) < 0) {
                transaction_free(t);
                return NULL;
        }
        t->n_current = n->n_configs;
        return t;
}

/* The managed set once DESIRED is applied to CURRENT. */
int transaction_compute_next(Transaction *t) {
        size_t max = t->n_current + t->desired.n_networks, n = 0;
        NetConfig *next = calloc(max + 1, sizeof *next);

        if (!next)
                return -ENOMEM;
        for (size_t i = 0; i < t->n_current; i++) {
                bool dropped = false;
                for (size_t j = 0; j < t->desired.n_remove; j++)
                        dropped = dropped || streq(t->current[i].name, t->desired.remove[j]);
                for (size_t j = 0; j < t->desired.n_networks; j++)
                        dropped = dropped || streq(t->current[i].name, t->desired.networks[j].name);
                if (!dropped && net_config_copy(&t->current[i], &next[n++]) < 0)
                        goto oom;
        }
        for (size_t j = 0; j < t->desired.n_networks; j++)
                if (net_config_copy(&t->desired.networks[j], &next[n++]) < 0)
                        goto oom;
        t->next = next;
        t->n_next = n;
        return 0;
oom:
        networks_free_configs(next, n - 1);
        return -ENOMEM;
}

/* How long one OVSDB transaction, and ovs-vswitchd applying it, may take. */
#define OVS_TIMEOUT_MS 10000

static NetEnv transaction_env(Transaction *t, struct nl_sock *sk) {
        return (NetEnv) { .sk = sk, .ovsdb = t->ovsdb, .ovs_datapath = t->ovs_datapath, .ovs_timeout_ms = OVS_TIMEOUT_MS };
}

/* Open vSwitch as it is now; not running is a state too (its networks are then refused). */
static void read_ovs(Transaction *t, OvsState *ret) {
        if (ovs_state_read(t->ovsdb, OVS_TIMEOUT_MS, ret, NULL) < 0)
                *ret = (OvsState) { .reachable = false };
}

/* Reads what a plan starts from (the links, Open vSwitch, what the kernel can
 * build) and plans T's desired state against it. HOST and OVS stay the caller's to free. */
static int plan_against_host(Transaction *t, const NetEnv *env, NetHost *host, OvsState *ovs) {
        NetKernel kernel;
        int r;

        r = net_host_read(env->sk, host);
        if (r < 0)
                return r;
        read_ovs(t, ovs);
        net_kernel_probe(&kernel);
        return net_plan_build(t->current, t->n_current, &t->desired, host, ovs, &kernel, env, &t->plan, &t->message);
}

/* The links as the change left them, for the bus to show with the reply (without it, the
 * agent's last read stays until netlink's events bring the next). */
static void read_after(Transaction *t) {
        if (networks_read(t->ovsdb, NETWORKS_OVS_READ_MS, &t->after) < 0)
                networks_read_done(&t->after);
}

/* Journal each step before it runs, and honour the test failpoints. */
static int step_hook(size_t index, void *userdata) {
        Transaction *t = userdata;
        unsigned at;
        int r;

        r = networks_journal_write(t->state_dir, &t->plan, index, "applying");
        if (r < 0)
                return r;
        if (t->failpoint && sscanf(t->failpoint, "fail:%u", &at) == 1 && at == index + 1)
                return -EIO;
        if (t->failpoint && sscanf(t->failpoint, "pause:%u", &at) == 1 && at == index + 1)
                sleep(FAILPOINT_PAUSE_SEC);
        return 0;
}

int transaction_apply_work(void *userdata) {
        Transaction *t = userdata;
        _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
        _cleanup_(freep) char *undo_error = NULL;
        NetHost host = {};
        OvsState ovs = {};
        NetEnv env;
        int r;

        r = net_socket_open(&sk);
        if (r < 0)
                return r;
        env = transaction_env(t, sk);
        r = plan_against_host(t, &env, &host, &ovs);
        if (r < 0) {
                /* A refused plan is the caller's desired state; a failed read is ours. */
                t->input_error = t->message != NULL;
                goto out;
        }
        t->plan_text = net_plan_describe(&t->plan);
        if (!t->plan_text) {
                r = -ENOMEM;
                goto out;
        }
        if (t->dry_run || t->plan.n_steps == 0) {
                if (!t->dry_run)
                        r = networks_save(t->state_dir, t->next, t->n_next, t->unrestored);
                goto out;
        }
        r = net_plan_apply(&env, &t->plan, 0, step_hook, t, &t->done, &t->message);
        if (r < 0) {
                int u = net_plan_undo(&env, &t->plan, t->done, false, &undo_error);
                if (u < 0) {
                        _cleanup_(freep) char *both = t->message;
                        t->message = NULL;
                        (void) asprintf(&t->message, "%s; undoing the steps before it failed too, at %s", strempty(both),
                                        strempty(undo_error));
                } else {
                        _cleanup_(freep) char *first = t->message;
                        t->message = NULL;
                        (void) asprintf(&t->message, "%s; the %zu steps before it were undone", strempty(first),
                                        t->done);
                }
                (void) networks_journal_remove(t->state_dir);
                goto out;
        }
        if (t->confirm_sec > 0)
                r = networks_journal_write(t->state_dir, &t->plan, t->plan.n_steps, "awaiting-confirm");
        else {
                r = networks_save(t->state_dir, t->next, t->n_next, t->unrestored);
                if (r >= 0)
                        r = networks_journal_remove(t->state_dir);
        }
        read_after(t);
out:
        ovs_state_done(&ovs);
        net_host_done(&host);
        return r;
}

int transaction_confirm_work(void *userdata) {
        Transaction *t = userdata;
        int r;

        r = networks_save(t->state_dir, t->current, t->n_current, t->unrestored);
        if (r < 0)
                return r;
        return networks_journal_remove(t->state_dir);
}

int transaction_rollback_work(void *userdata) {
        Transaction *t = userdata;
        _cleanup_(freep) char *why = NULL;
        _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
        NetEnv env;
        int r;

        r = net_socket_open(&sk);
        if (r < 0)
                return r;
        env = transaction_env(t, sk);
        /* Best effort: whatever changed meanwhile, give back all that can be given back. */
        r = net_plan_undo(&env, &t->plan, t->plan.n_steps, true, &why);
        if (r < 0)
                log_error("Rolling back the unconfirmed network change: %s", strempty(why));
        (void) networks_journal_remove(t->state_dir);
        read_after(t);
        return r;
}

int transaction_recover_work(void *userdata) {
        Transaction *t = userdata;
        _cleanup_(freep) char *why = NULL;
        _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
        NetPlan plan = {};
        NetHost host = {};
        OvsState ovs = {};
        NetEnv env;
        size_t done;
        int r;

        r = net_socket_open(&sk);
        if (r < 0)
                return r;
        env = transaction_env(t, sk);
        r = networks_journal_read(t->state_dir, &plan, &done);
        if (r == -ENOMEM)
                goto out;
        if (r > 0) {
                log_notice("A network change was cut short (%zu of %zu steps done); rolling it back", done,
                           plan.n_steps);
                if (net_plan_undo(&env, &plan, done, true, &why) < 0)
                        log_error("Rolling back the interrupted network change: %s", strempty(why));
                net_plan_done(&plan);
                (void) networks_journal_remove(t->state_dir);
        }

        /* The kept networks, made true again where the host lost them. */
        r = plan_against_host(t, &env, &host, &ovs);
        if (r < 0 || t->plan.n_steps == 0)
                goto out;
        log_notice("Re-applying %zu steps to bring back the kept networks", t->plan.n_steps);
        r = net_plan_apply(&env, &t->plan, 0, NULL, NULL, &t->done, &t->message);
        if (r < 0)
                (void) net_plan_undo(&env, &t->plan, t->done, false, NULL);
        read_after(t);
out:
        ovs_state_done(&ovs);
        net_host_done(&host);
        return r;
}
