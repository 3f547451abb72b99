/* SetupNetworks as one transaction: applied step by step off the loop, undone on failure,
 * rolled back unless confirmed, recovered after a crash */
#include "network-setup.h"

#include <netlink/socket.h>
#include <stdio.h>

#include "atomic-file.h"
#include "bus-auth.h"
#include "bus-call.h"
#include "bus-error.h"
#include "bus-options.h"
#include "error-text.h"
#include "json-cleanup.h"
#include "log.h"
#include "macro.h"
#include "bus-work.h"
#include "manager.h"
#include "net-capabilities.h"
#include "network.h"
#include "network-transaction.h"

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

static int on_confirm_timeout(sd_event_source *s, uint64_t usec, void *userdata);

/* A plan the host refuses is the caller's desired state that cannot be: its errno named by the
 * one table, the input being the spec (a missing uplink is named in it too). */
static const BusErrorContext network_input_context = {
        .invalid = HOSTAGENT_ERROR_INVALID_SPEC,
};

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
                        (void) bus_error_set_errno(&error, result, &network_input_context, NULL, t->message);
                else    /* a step failed on the host and was undone: the kernel's errno is only its why */
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

        _cleanup_(freep) char *touched = net_configs_changed_names(n->configs, n->n_configs, n->previous, n->n_previous);
        BUS_AUTHORIZE_OR_RETURN(msg, BUS_ACTION_NETWORK_SETUP, BUS_DETAILS("networks", touched), error);
        if (!n->awaiting_confirm)
                return sd_bus_error_set(error, HOSTAGENT_ERROR_INVALID_STATE,
                                        "No network change is waiting for confirmation");
        if (n->busy)
                return sd_bus_error_set(error, HOSTAGENT_ERROR_BUSY, "A network change is being applied; retry");
        t = transaction_new(m, msg);
        if (!t)
                return -ENOMEM;
        r = bus_work_submit(m, &t->call, transaction_confirm_work, confirm_done, error);
        if (r < 0) {
                transaction_free(t);
                return r;
        }
        n->busy = true;
        return 1;
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
        r = worker_pool_submit(m->pool, WORKER_INTERNAL, transaction_rollback_work, rollback_done, t);
        if (r < 0) {
                transaction_free(t);
                return log_error_errno(r, "Cannot roll back the unconfirmed network change: %m");
        }
        n->busy = true;
        return 0;
}

/* SetupNetworks */

static int read_option(sd_bus_message *msg, const char *key, void *userdata, sd_bus_error *error) {
        Transaction *t = userdata;
        int b, r;

        if (streq(key, "dry_run")) {
                r = sd_bus_message_read(msg, "v", "b", &b);
                if (r < 0)
                        return sd_bus_error_set(error, HOSTAGENT_ERROR_INVALID_ARGS, "options.dry_run: must be a boolean");
                t->dry_run = b;
                return 0;
        }
        if (streq(key, "confirm_timeout_sec")) {
                r = sd_bus_message_read(msg, "v", "u", &t->confirm_sec);
                if (r < 0 || t->confirm_sec == 0 || t->confirm_sec > NETWORK_CONFIRM_MAX_SEC)
                        return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS,
                                                 "options.confirm_timeout_sec: must be a uint32 from 1 to %d",
                                                 NETWORK_CONFIRM_MAX_SEC);
                return 0;
        }
        return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS,
                                 "options.%s: unknown option (known: dry_run, confirm_timeout_sec)", TEXT_CUT(key));
}

static int read_options(sd_bus_message *msg, Transaction *t, sd_bus_error *error) {
        return bus_options_read(msg, read_option, t, error);
}

int method_setup_networks(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(freep) char *why = NULL;
        Manager *m = userdata;
        Networks *n = m->networks;
        const char *text;
        Transaction *t;
        int r;

        r = sd_bus_message_read(msg, "s", &text);
        if (r < 0)
                return r;
        _cleanup_(freep) char *touched = net_desired_names(text);
        BUS_AUTHORIZE_OR_RETURN(msg, BUS_ACTION_NETWORK_SETUP, BUS_DETAILS("networks", touched), error);
        if (n->unreadable)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_FAILED, "%s", n->unreadable);
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
        r = transaction_compute_next(t);
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
        r = bus_work_submit(m, &t->call, transaction_apply_work, setup_done, error);
        if (r < 0)
                goto fail;
        n->busy = true;
        return 1;
fail:
        transaction_free(t);
        return r;
}

/* Recovery at start */

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
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

                if (bus_work_submit(m, &queued->call, transaction_apply_work, setup_done, &error) < 0) {
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
        r = worker_pool_submit(m->pool, WORKER_INTERNAL, transaction_recover_work, recover_done, t);
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
