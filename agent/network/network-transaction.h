/* A SetupNetworks transaction's state, and its blocking halves run on workers: apply (journalled
 * step by step, undone on failure), keep, roll back, recover after a crash */
#pragma once

#include <stdbool.h>

#include "bus-call.h"
#include "manager.h"
#include "network.h"

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

/* A transaction for the call MSG (NULL for the agent's own), starting from the managed set. */
Transaction *transaction_new(Manager *m, sd_bus_message *msg);
void transaction_free(Transaction *t);

/* The managed set once the desired state is applied to the current one. */
int transaction_compute_next(Transaction *t);

/* Worker threads. Each returns 0 or -errno; what they found stays in the transaction. */
int transaction_apply_work(void *userdata);     /* plans, applies, keeps (or awaits confirmation) */
int transaction_confirm_work(void *userdata);   /* keeps the confirmed set */
int transaction_rollback_work(void *userdata);  /* undoes an unconfirmed change */
int transaction_recover_work(void *userdata);   /* rolls a cut-short change back, makes the kept set true */
