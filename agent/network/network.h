/* Host networks: the agent's configuration, and the kernel's links seen live through netlink */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

#include "host-state.h"
#include "net-plan.h"
#include "net-spec.h"
#include "net-view.h"

typedef struct Manager Manager;

#define NETWORK_PATH_PREFIX "/org/hostagent1/network"
#define NETWORK_INTERFACE "org.hostagent1.Network"
#define NETWORK_STATE_FILE "networks.json"
#define NETWORK_JOURNAL_FILE "networks-journal.json"
#define NETWORK_CONFIRM_MAX_SEC 3600

/* What the bus serves at a network's path: the configuration, and the manager to read the kernel through. */
typedef struct NetworkObject {
        Manager *manager;
        const NetConfig *config;
        char *path;
} NetworkObject;

/* One read of the kernel's links and of Open vSwitch, made on a worker; STAMP orders reads by when they began. */
typedef struct NetworksRead {
        uint64_t stamp;
        NetHost host;
        OvsState ovs;
} NetworksRead;

/* How long a read of Open vSwitch may take. */
#define NETWORKS_OVS_READ_MS 5000

/* What the model tells whoever shows networks (the bus glue registers it
 * with networks_set_listener()): the model never calls up into the glue. */
typedef struct NetworkListener {
        void (*added)(Manager *m, const char *path);    /* served whole now */
        void (*removed)(Manager *m, const char *path);  /* still served */
        /* What the kernel decides changed (and, with CONFIG, what the configuration does). */
        void (*changed)(Manager *m, const NetConfig *c, bool config);
} NetworkListener;

typedef struct Networks {
        Manager *manager;
        struct nl_sock *events;      /* subscribed to link and address changes */
        sd_event_source *io;
        NetworksRead read;           /* the kernel's links and Open vSwitch's bridges, re-read off the loop after each change */
        struct OvsMonitor *monitor;  /* tells when Open vSwitch changed */
        bool refreshing;
        bool refresh_again;          /* changes came while a read ran */
        NetConfig *configs;          /* what the agent manages now (applied, maybe not confirmed) */
        size_t n_configs;
        NetworkObject *objects;      /* one per config, same order */
        bool busy;                   /* a transaction runs on a worker */
        bool recovering;             /* the start's recovery runs: calls wait for it */
        void *queued;                /* the one SetupNetworks that waits for the recovery */
        bool awaiting_confirm;       /* applied, rolled back unless confirmed */
        NetPlan pending_plan;        /* what awaits confirmation */
        NetConfig *previous;         /* the configuration to return to */
        size_t n_previous;
        sd_event_source *confirm_timer;
        char *unrestored;            /* networks.json's entries this agent cannot read (JSON): saved back as they are */
        char *unreadable;            /* why networks.json could not be read at all: then it is never overwritten */
        char *failpoint;             /* tests: "fail:N" or "pause:N" (HOSTAGENT_NET_FAILPOINT) */
} Networks;

int networks_start(Manager *m);
void networks_set_listener(Manager *m, const NetworkListener *listener);
void networks_free(Manager *m);

int network_bus_path(const char *name, char **ret);
const NetConfig *network_find(Manager *m, const char *name);
NetworkObject *network_find_by_path(Manager *m, const char *path);

/* Replaces the managed set (taking CONFIGS), publishing and withdrawing objects; READ (taken, or
 * NULL) is the read of the links made after the change, unless a later one is in place. */
void networks_set_configs(Manager *m, NetConfig *configs, size_t n, NetworksRead *read);

/* On a worker: reads the links and Open vSwitch (at OVSDB, waiting at most TIMEOUT_MS). */
int networks_read(const char *ovsdb, int timeout_ms, NetworksRead *ret);
void networks_read_done(NetworksRead *r);
/* On the loop: READ (taken) becomes the agent's view unless a later one is in place; the networks
 * whose view changed are signalled. */
void networks_take_read(Manager *m, NetworksRead *read);

/* Copies of the managed set, for a worker. */
int networks_copy_configs(const NetConfig *src, size_t n, NetConfig **ret);
void networks_free_configs(NetConfig *c, size_t n);

/* The state file and the journal: written by workers. */
int networks_save(const char *state_dir, const NetConfig *configs, size_t n, const char *unrestored);
/* On the loop, once the managed set is saved: entries it replaced are no longer kept aside. */
void networks_saved(Manager *m);
int networks_journal_write(const char *state_dir, const NetPlan *plan, size_t done, const char *phase);
int networks_journal_remove(const char *state_dir);
/* The journal of a change cut short, for recovery: 1 with its plan and how many of its steps to
 * undo, 0 when there is none, < 0 when it cannot be trusted (logged: then nothing is to be undone,
 * and a damaged journal is moved aside to <journal>.damaged). */
int networks_journal_read(const char *state_dir, NetPlan *ret_plan, size_t *ret_done);

/* Reads the kernel's links again, off the loop; properties that changed are signalled. */
void networks_refresh(Manager *m);
