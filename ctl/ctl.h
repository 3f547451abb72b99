/* hostagentctl: the options every command reads, the verb table, the commands */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "macro.h"

#define CTL_SERVICE "org.hostagent1"
#define CTL_ROOT "/org/hostagent1"
#define CTL_MANAGER "org.hostagent1.Manager"
#define CTL_VM "org.hostagent1.VM"
#define CTL_JOB "org.hostagent1.Job"
#define CTL_NETWORK "org.hostagent1.Network"
#define CTL_POOL "org.hostagent1.StoragePool"
#define CTL_VOLUME "org.hostagent1.Volume"

/* A command that found no such object returns this; main() exits with 4 for it, as systemctl
 * does for a unit it does not know. Every other failure is reported where it happens and exits 1. */
#define CTL_NO_SUCH_OBJECT (-ENXIO)

typedef enum JsonMode {
        JSON_OFF,
        JSON_PRETTY,
        JSON_SHORT,
} JsonMode;

/* The command line, read once by main(). */
typedef struct CtlArgs {
        const char *host;
        JsonMode json;
        bool json_bare;            /* --json without a mode: pretty, but a stream (monitor) keeps
                                    * one object a line, as scripts read it */
        bool legend;
        bool quiet;
        bool wait;
        bool ask_password;
        /* per command */
        uint32_t timeout_sec;      /* shutdown */
        uint32_t ttl_sec;          /* console-ticket */
        const char *password;      /* console-ticket */
        const char *format;        /* create-volume */
        const char *backing;       /* create-volume */
        bool dry_run;              /* setup-networks */
        uint32_t confirm_sec;      /* setup-networks */
        bool live_only;            /* attach-disk, ...: not to the definition */
        bool config_only;          /* attach-disk, ...: not to the running VM */
        bool restart;              /* apply */
        int64_t bandwidth_mib;     /* migrate: -1 when not given */
        int64_t max_downtime_ms;
        const char *convergence;
        uint32_t stall_timeout_sec; /* 0: not given */
        const char *migration_uri;
        bool allow_unsafe;
        bool snapshot_memory;      /* snapshot */
        char **snapshot_disks;     /* --disk, each time given; NULL: all */
        bool quiesce;              /* backup, snapshot */
        const char *incremental;   /* backup: a checkpoint */
} CtlArgs;

extern CtlArgs arg;

/* host */
int verb_status(int argc, char **argv, sd_bus *bus);
int verb_host_info(int argc, char **argv, sd_bus *bus);
int verb_host_stats(int argc, char **argv, sd_bus *bus);
/* VMs */
int verb_list(int argc, char **argv, sd_bus *bus);
int verb_show(int argc, char **argv, sd_bus *bus);
int verb_create(int argc, char **argv, sd_bus *bus);
int verb_create_xml(int argc, char **argv, sd_bus *bus);
int verb_vm_action(int argc, char **argv, sd_bus *bus);
int verb_shutdown(int argc, char **argv, sd_bus *bus);
int verb_console_ticket(int argc, char **argv, sd_bus *bus);
int verb_migrate(int argc, char **argv, sd_bus *bus);
int verb_backup(int argc, char **argv, sd_bus *bus);
int verb_stats(int argc, char **argv, sd_bus *bus);
int verb_attach_disk(int argc, char **argv, sd_bus *bus);
int verb_detach_disk(int argc, char **argv, sd_bus *bus);
int verb_attach_nic(int argc, char **argv, sd_bus *bus);
int verb_detach_nic(int argc, char **argv, sd_bus *bus);
int verb_set_memory(int argc, char **argv, sd_bus *bus);
int verb_set_vcpus(int argc, char **argv, sd_bus *bus);
int verb_apply(int argc, char **argv, sd_bus *bus);
int verb_guest_info(int argc, char **argv, sd_bus *bus);
int verb_guest_freeze(int argc, char **argv, sd_bus *bus);
/* snapshots */
int verb_snapshot(int argc, char **argv, sd_bus *bus);
int verb_snapshots(int argc, char **argv, sd_bus *bus);
int verb_revert(int argc, char **argv, sd_bus *bus);
int verb_delete_snapshot(int argc, char **argv, sd_bus *bus);
/* networks */
int verb_networks(int argc, char **argv, sd_bus *bus);
int verb_show_network(int argc, char **argv, sd_bus *bus);
int verb_setup_networks(int argc, char **argv, sd_bus *bus);
int verb_confirm_networks(int argc, char **argv, sd_bus *bus);
int verb_network_caps(int argc, char **argv, sd_bus *bus);
/* storage */
int verb_pools(int argc, char **argv, sd_bus *bus);
int verb_show_pool(int argc, char **argv, sd_bus *bus);
int verb_create_pool(int argc, char **argv, sd_bus *bus);
int verb_volumes(int argc, char **argv, sd_bus *bus);
int verb_create_volume(int argc, char **argv, sd_bus *bus);
int verb_resize_volume(int argc, char **argv, sd_bus *bus);
int verb_clone_volume(int argc, char **argv, sd_bus *bus);
int verb_delete_volume(int argc, char **argv, sd_bus *bus);
int verb_pool_action(int argc, char **argv, sd_bus *bus);
/* jobs */
int verb_jobs(int argc, char **argv, sd_bus *bus);
int verb_cancel(int argc, char **argv, sd_bus *bus);
int verb_wait(int argc, char **argv, sd_bus *bus);
/* monitor */
int verb_monitor(int argc, char **argv, sd_bus *bus);

static inline bool isempty(const char *s) {
        return !s || !*s;
}

/* A file's whole text, "-" being stdin (specs, XML). Reports its own failure. */
int ctl_read_file(const char *name, char **ret);
