/* SetupNetworks as one transaction: applied step by step off the loop, undone on failure,
 * rolled back unless confirmed, recovered after a crash */
#include "network-setup.h"

#include <netlink/socket.h>
#include <stdio.h>

#include "atomic-file.h"
#include "bus-auth.h"
#include "bus-call.h"
#include "bus-error.h"
#include "json-cleanup.h"
#include "log.h"
#include "macro.h"
#include "bus-work.h"
#include "manager.h"
#include "net-capabilities.h"
#include "network.h"

/* How long a "pause:N" failpoint holds a transaction: a test kills the daemon meanwhile. */
#define FAILPOINT_PAUSE_SEC 60

typedef struct Transaction {
        BusCall call;           /* first; unused (request NULL) for the agent's own */
        Manager *manager;
        char *state_dir;
        char *failpoint;
        char *ovsdb;
        char *ovs_datapath;
        char *unrestored;       /* the state file's entries the agent cannot read, saved back as they are */
        NetDesired desired;
        NetConfig *current;     /* the managed set before */
        size_t n_current;
        NetConfig *next;        /* and after */
        size_t n_next;
        bool dry_run;
        unsigned confirm_sec;
        NetPlan plan;
        char *plan_text;
        char *message;
        bool input_error;       /* the plan was refused: the caller's desired state cannot be */
        size_t done;
        NetworksRead after;     /* the links once the change is made: what the bus shows with its reply */
} Transaction;

static void transaction_free(Transaction *t) {
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

static Transaction *transaction_new(Manager *m, sd_bus_message *msg) {
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
static int compute_next(Transaction *t) {
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

/* The one limit on how many networks the agent keeps, checked when a change is asked for: a
 * change may not take the set past it. (A start keeps whatever the file holds, even more than
 * this; changes that do not add to such a set still go through.) */
static int check_limit(const Transaction *t, sd_bus_error *error) {
        if (t->n_next <= NET_MAX_NETWORKS || t->n_next <= t->n_current)
                return 0;
        return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_SPEC,
                                 "networks: the agent keeps at most %d networks; it has %zu and this change would make "
                                 "%zu",
                                 NET_MAX_NETWORKS, t->n_current, t->n_next);
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

static int setup_work(void *userdata) {
        Transaction *t = userdata;
        struct nl_sock *sk = NULL;
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
        nl_socket_free(sk);
        return r;
}

static int on_confirm_timeout(sd_event_source *s, uint64_t usec, void *userdata);

static int reply_string(BusCall *call, const char *text) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        if (!call->request || call->answered)
                return 0;
        r = sd_bus_message_new_method_return(call->request, &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", strempty(text));
        if (r < 0)
                return r;
        return bus_call_reply(call, reply);
}

static void setup_done(int result, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        Transaction *t = userdata;
        Manager *m = t->manager;
        Networks *n = m->networks;
        int r;

        n->busy = false;
        if (result < 0) {
                if (result == -ECANCELED)
                        (void) bus_error_set_shutting_down(&error);
                else if (t->input_error)
                        (void) sd_bus_error_setf(&error,
                                                 result == -EOPNOTSUPP ? HOSTAGENT_ERROR_NOT_SUPPORTED
                                                 : result == -EBUSY    ? HOSTAGENT_ERROR_IN_USE
                                                 : result == -ENOMEM   ? SD_BUS_ERROR_NO_MEMORY
                                                                       : HOSTAGENT_ERROR_INVALID_SPEC,
                                                 "%s", strempty(t->message));
                else
                        (void) bus_error_set_text(&error, HOSTAGENT_ERROR_FAILED, "Cannot set up the networks",
                                                  t->message ?: strerror(-result));
                log_warning("SetupNetworks failed: %s", error.message);
                (void) bus_call_reply_error(&t->call, &error);
                transaction_free(t);
                return;
        }
        if (!t->dry_run) {
                log_info("SetupNetworks applied %zu steps%s", t->plan.n_steps,
                         t->confirm_sec ? ", waiting for ConfirmNetworks()" : "");
                networks_set_configs(m, TAKE_PTR(t->next), t->n_next, &t->after);
                t->n_next = 0;
                if (t->confirm_sec == 0 || t->plan.n_steps == 0)
                        networks_saved(m);
                if (t->confirm_sec > 0 && t->plan.n_steps > 0) {
                        n->awaiting_confirm = true;
                        n->pending_plan = t->plan;
                        t->plan = (NetPlan) {};
                        n->previous = TAKE_PTR(t->current);
                        n->n_previous = t->n_current;
                        t->n_current = 0;
                        r = sd_event_add_time_relative(m->event, &n->confirm_timer, CLOCK_MONOTONIC,
                                                       (uint64_t) t->confirm_sec * 1000 * 1000, 0, on_confirm_timeout, m);
                        if (r < 0)
                                log_error_errno(r, "Cannot arm the confirmation timeout: %m");
                }
        }
        (void) reply_string(&t->call, t->plan_text);
        transaction_free(t);
}

/* Confirmation, and the rollback when it does not come */

static int confirm_work(void *userdata) {
        Transaction *t = userdata;
        int r;

        r = networks_save(t->state_dir, t->current, t->n_current, t->unrestored);
        if (r < 0)
                return r;
        return networks_journal_remove(t->state_dir);
}

static void confirm_done(int result, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        Transaction *t = userdata;
        Networks *n = t->manager->networks;

        n->busy = false;
        if (result < 0) {
                (void) bus_error_set(&error, result, NULL, "Cannot keep the networks");
                (void) bus_call_reply_error(&t->call, &error);
        } else {
                n->awaiting_confirm = false;
                n->confirm_timer = sd_event_source_disable_unref(n->confirm_timer);
                net_plan_done(&n->pending_plan);
                networks_free_configs(n->previous, n->n_previous);
                n->previous = NULL;
                n->n_previous = 0;
                networks_saved(t->manager);
                log_info("Network change confirmed");
                (void) bus_call_reply_empty(&t->call);
        }
        transaction_free(t);
}

int method_confirm_networks(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        Networks *n = m->networks;
        Transaction *t;
        int r;

        r = bus_authorize(msg, "confirm network changes", error);
        if (r < 0)
                return r;
        if (!n->awaiting_confirm)
                return sd_bus_error_set(error, HOSTAGENT_ERROR_INVALID_STATE,
                                        "No network change is waiting for confirmation");
        if (n->busy)
                return sd_bus_error_set(error, HOSTAGENT_ERROR_BUSY, "A network change is being applied; retry");
        t = transaction_new(m, msg);
        if (!t)
                return -ENOMEM;
        r = worker_pool_submit(m->pool, WORKER_NORMAL, confirm_work, confirm_done, t);
        if (r < 0) {
                transaction_free(t);
                return bus_work_error_submit(m, r, error);
        }
        n->busy = true;
        return 1;
}

static int rollback_work(void *userdata) {
        Transaction *t = userdata;
        _cleanup_(freep) char *why = NULL;
        struct nl_sock *sk = NULL;
        NetEnv env;
        int r;

        r = net_socket_open(&sk);
        if (r < 0)
                return r;
        env = transaction_env(t, sk);
        /* Best effort: whatever changed meanwhile, give back all that can be given back. */
        r = net_plan_undo(&env, &t->plan, t->plan.n_steps, true, &why);
        nl_socket_free(sk);
        if (r < 0)
                log_error("Rolling back the unconfirmed network change: %s", strempty(why));
        (void) networks_journal_remove(t->state_dir);
        read_after(t);
        return r;
}

static void rollback_done(int result, void *userdata) {
        Transaction *t = userdata;
        Manager *m = t->manager;

        m->networks->busy = false;
        networks_set_configs(m, TAKE_PTR(t->current), t->n_current, &t->after);
        t->n_current = 0;
        log_warning("The network change was not confirmed in time and was rolled back%s",
                    result < 0 ? ", with errors (see above)" : "");
        transaction_free(t);
}

static int on_confirm_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        Networks *n = m->networks;
        Transaction *t;
        int r;

        n->confirm_timer = sd_event_source_disable_unref(n->confirm_timer);
        if (!n->awaiting_confirm)
                return 0;
        t = transaction_new(m, NULL);
        if (!t)
                return log_error_errno(-ENOMEM, "Cannot roll back the unconfirmed network change: %m");
        /* What to return to: the set before the change. */
        networks_free_configs(t->current, t->n_current);
        t->current = TAKE_PTR(n->previous);
        t->n_current = n->n_previous;
        n->n_previous = 0;
        t->plan = n->pending_plan;
        n->pending_plan = (NetPlan) {};
        n->awaiting_confirm = false;
        r = worker_pool_submit(m->pool, WORKER_INTERNAL, rollback_work, rollback_done, t);
        if (r < 0) {
                transaction_free(t);
                return log_error_errno(r, "Cannot roll back the unconfirmed network change: %m");
        }
        n->busy = true;
        return 0;
}

/* SetupNetworks */

static int read_options(sd_bus_message *msg, Transaction *t, sd_bus_error *error) {
        int r;

        r = sd_bus_message_enter_container(msg, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
                const char *key;
                int b;

                r = sd_bus_message_read(msg, "s", &key);
                if (r < 0)
                        return r;
                if (streq(key, "dry_run")) {
                        r = sd_bus_message_read(msg, "v", "b", &b);
                        if (r < 0)
                                return sd_bus_error_set(error, HOSTAGENT_ERROR_INVALID_ARGS,
                                                        "options.dry_run: must be a boolean");
                        t->dry_run = b;
                } else if (streq(key, "confirm_timeout_sec")) {
                        r = sd_bus_message_read(msg, "v", "u", &t->confirm_sec);
                        if (r < 0 || t->confirm_sec == 0 || t->confirm_sec > NETWORK_CONFIRM_MAX_SEC)
                                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS,
                                                         "options.confirm_timeout_sec: must be a uint32 from 1 to %d",
                                                         NETWORK_CONFIRM_MAX_SEC);
                } else
                        return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS,
                                                 "options.%s: unknown option (known: dry_run, confirm_timeout_sec)",
                                                 key);
                r = sd_bus_message_exit_container(msg);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(msg);
}

int method_setup_networks(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(freep) char *why = NULL;
        Manager *m = userdata;
        Networks *n = m->networks;
        const char *text;
        Transaction *t;
        int r;

        r = bus_authorize(msg, "set up networks", error);
        if (r < 0)
                return r;
        if (n->unreadable)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_FAILED, "%s", n->unreadable);
        r = sd_bus_message_read(msg, "s", &text);
        if (r < 0)
                return r;
        t = transaction_new(m, msg);
        if (!t)
                return -ENOMEM;
        r = net_desired_parse(text, &t->desired, &why);
        if (r < 0) {
                r = r == -EINVAL ? sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_SPEC, "%s", strempty(why)) : r;
                goto fail;
        }
        r = read_options(msg, t, error);
        if (r < 0)
                goto fail;
        r = compute_next(t);
        if (r < 0)
                goto fail;
        r = check_limit(t, error);
        if (r < 0)
                goto fail;
        /* Right after a start the recovery runs: the first caller waits for it, not refused. */
        if (n->recovering && !n->queued) {
                n->queued = t;
                return 1;
        }
        /* One transaction at a time, and none while one waits for its confirmation. */
        if (n->busy || n->awaiting_confirm) {
                r = sd_bus_error_set(error, HOSTAGENT_ERROR_BUSY,
                                     n->awaiting_confirm ? "A network change is waiting for ConfirmNetworks(); "
                                                           "confirm it or let it roll back first"
                                                         : "Another network change is being applied; retry when it ends");
                goto fail;
        }
        r = worker_pool_submit(m->pool, WORKER_NORMAL, setup_work, setup_done, t);
        if (r < 0) {
                r = bus_work_error_submit(m, r, error);
                goto fail;
        }
        n->busy = true;
        return 1;
fail:
        transaction_free(t);
        return r;
}

/* Recovery at start */

static int recover_work(void *userdata) {
        Transaction *t = userdata;
        _cleanup_(freep) char *why = NULL;
        struct nl_sock *sk = NULL;
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
        nl_socket_free(sk);
        return r;
}

static void recover_done(int result, void *userdata) {
        Transaction *t = userdata;
        Manager *m = t->manager;
        Networks *n = m->networks;
        Transaction *queued = n->queued;

        n->busy = false;
        n->recovering = false;
        n->queued = NULL;
        if (result < 0)
                log_error("The kept networks could not all be brought back: %s", t->message ?: strerror(-result));
        networks_take_read(m, &t->after);
        transaction_free(t);
        if (queued) {
                /* Planned against the set as it was when it came; the recovery kept that set. */
                int r = worker_pool_submit(m->pool, WORKER_NORMAL, setup_work, setup_done, queued);
                if (r < 0) {
                        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                        (void) bus_work_error_submit(m, r, &error);
                        (void) bus_call_reply_error(&queued->call, &error);
                        transaction_free(queued);
                } else
                        n->busy = true;
        }
}

int network_recover(Manager *m) {
        Transaction *t = transaction_new(m, NULL);
        int r;

        if (!t)
                return -ENOMEM;
        /* Desired: exactly the kept set, so the plan holds only what is missing. */
        t->desired.networks = calloc(t->n_current + 1, sizeof(NetConfig));
        t->desired.remove = calloc(1, sizeof *t->desired.remove);
        if (!t->desired.networks || !t->desired.remove) {
                transaction_free(t);
                return -ENOMEM;
        }
        for (size_t i = 0; i < t->n_current; i++)
                if (net_config_copy(&t->current[i], &t->desired.networks[t->desired.n_networks++]) < 0) {
                        transaction_free(t);
                        return -ENOMEM;
                }
        r = worker_pool_submit(m->pool, WORKER_INTERNAL, recover_work, recover_done, t);
        if (r < 0) {
                transaction_free(t);
                return r;
        }
        m->networks->busy = true;
        m->networks->recovering = true;
        return 0;
}

/* GetNetworkCapabilities: what the host has, from the live caches */

int method_get_network_capabilities(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(json_object_putp) json_object *root = NULL;
        Manager *m = userdata;
        Networks *n = m->networks;
        NetKernel kernel;

        net_kernel_probe(&kernel);
        root = net_capabilities_to_json(&n->read.host, &kernel, &n->read.ovs, n->configs, n->n_configs);
        if (!root)
                return -ENOMEM;
        return sd_bus_reply_method_return(msg, "s",
                                          json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN |
                                                                                       JSON_C_TO_STRING_NOSLASHESCAPE));
}

void network_setup_stop(Manager *m) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        Transaction *t = m->networks ? TAKE_PTR(m->networks->queued) : NULL;

        if (!t)
                return;
        (void) bus_error_set_shutting_down(&error);
        (void) bus_call_reply_error(&t->call, &error);
        transaction_free(t);
}
