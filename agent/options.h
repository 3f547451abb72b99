/* Daemon options: command line over configuration file over built-in defaults */
#pragma once

#include <stdbool.h>

/* Where cmake --install puts it: /etc/hostagent/hostagentd.conf for prefix /usr. */
#define OPTIONS_DEFAULT_CONFIG      HOSTAGENT_CONFIG_FILE
#define OPTIONS_DEFAULT_LIBVIRT_URI "qemu:///system"
#define OPTIONS_DEFAULT_STATE_DIR   "/var/lib/hostagent"
#define OPTIONS_DEFAULT_OVSDB       "unix:/run/openvswitch/db.sock"
#define OPTIONS_DEFAULT_WORKERS     4
#define OPTIONS_DEFAULT_MAX_OPERATIONS 64
#define OPTIONS_DEFAULT_CALL_TIMEOUT_SEC 60
#define OPTIONS_DEFAULT_DETACH_TIMEOUT_SEC 30
#define OPTIONS_DEFAULT_RUN_DIR     "/run/hostagent"
#define OPTIONS_DEFAULT_STORAGE_CHECK_INTERVAL_SEC 10
#define OPTIONS_DEFAULT_OVS_DATAPATH "system"
#define OPTIONS_DEFAULT_MAX_MIGRATIONS 2
#define OPTIONS_DEFAULT_GUEST_INFO_INTERVAL_SEC 30
#define OPTIONS_DEFAULT_REPLY_BACKLOG_KIB 64
#define OPTIONS_DEFAULT_LISTING_RATE_KIB 256

typedef enum OptionsAction {
        OPTIONS_RUN,            /* start the daemon */
        OPTIONS_SHOW_HELP,
        OPTIONS_SHOW_VERSION,
        OPTIONS_BUS_INTROSPECT, /* print vtable XML and exit */
} OptionsAction;

typedef struct Options {
        OptionsAction action;
        bool user_bus;
        char *config_file;
        char *libvirt_uri;
        char *state_dir;
        char *run_dir;          /* runtime files: NFS mount points */
        char *ovsdb;
        char *ovs_datapath;     /* "system" (the kernel's) or "netdev" (user space) */
        char *bus_introspect;   /* "list" or an interface name */
        int log_level;
        unsigned workers;       /* threads that run blocking work */
        unsigned max_operations;/* operations in flight before Busy */
        unsigned call_timeout_sec; /* how long a caller waits for libvirt */
        unsigned detach_timeout_sec; /* how long a detach job waits for the guest to let go */
        unsigned storage_check_interval_sec; /* between two health checks of a pool */
        unsigned migration_bandwidth_mib; /* a migration's cap when its caller sets none; 0: none */
        unsigned max_migrations;  /* outgoing migrations at once */
        unsigned guest_info_interval_sec; /* between two reads of each guest agent; 0: never */
        unsigned reply_backlog_kib; /* replies on their way to the bus before a listing waits its turn */
        unsigned listing_rate_kib; /* KiB/s of listings per unprivileged caller; 0: no rate */
} Options;

void options_init(Options *o);
void options_done(Options *o);

/* Parses ARGV, reading the configuration file named by --config= (or the
 * default one, which may be missing) for whatever ARGV does not set.
 * Returns 0, or -errno with a message for a person already printed. */
int options_parse(Options *o, int argc, char *argv[]);

/* Reads "key = value" lines; keys are the long option names. Exposed for tests. */
int options_load_config(Options *o, const char *path, bool must_exist);

void options_print_help(const char *program);
