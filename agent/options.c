/* Daemon options: command line over configuration file over built-in defaults */
#include "options.h"

#include <ctype.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#include "bus-text.h"
#include "log.h"
#include "macro.h"

enum {
        ARG_USER = 0x100,
        ARG_CONFIG,
        ARG_LIBVIRT_URI,
        ARG_STATE_DIR,
        ARG_OVSDB,
        ARG_BUS_INTROSPECT,
        ARG_LOG_LEVEL,
        ARG_WORKERS,
        ARG_MAX_OPERATIONS,
        ARG_CALL_TIMEOUT,
        ARG_DETACH_TIMEOUT,
        ARG_RUN_DIR,
        ARG_STORAGE_CHECK_INTERVAL,
        ARG_OVS_DATAPATH,
        ARG_MIGRATION_BANDWIDTH,
        ARG_MAX_MIGRATIONS,
        ARG_GUEST_INFO_INTERVAL,
        ARG_REPLY_BACKLOG,
        ARG_LISTING_RATE,
        ARG_VERSION,
};

static const struct option long_options[] = {
        { "help",           no_argument,       NULL, 'h' },
        { "version",        no_argument,       NULL, ARG_VERSION },
        { "user",           no_argument,       NULL, ARG_USER },
        { "config",         required_argument, NULL, ARG_CONFIG },
        { "libvirt-uri",    required_argument, NULL, ARG_LIBVIRT_URI },
        { "state-dir",      required_argument, NULL, ARG_STATE_DIR },
        { "ovsdb",          required_argument, NULL, ARG_OVSDB },
        { "bus-introspect", required_argument, NULL, ARG_BUS_INTROSPECT },
        { "log-level",      required_argument, NULL, ARG_LOG_LEVEL },
        { "workers",        required_argument, NULL, ARG_WORKERS },
        { "max-operations", required_argument, NULL, ARG_MAX_OPERATIONS },
        { "call-timeout",   required_argument, NULL, ARG_CALL_TIMEOUT },
        { "detach-timeout", required_argument, NULL, ARG_DETACH_TIMEOUT },
        { "run-dir",        required_argument, NULL, ARG_RUN_DIR },
        { "storage-check-interval", required_argument, NULL, ARG_STORAGE_CHECK_INTERVAL },
        { "ovs-datapath",   required_argument, NULL, ARG_OVS_DATAPATH },
        { "migration-bandwidth", required_argument, NULL, ARG_MIGRATION_BANDWIDTH },
        { "max-migrations", required_argument, NULL, ARG_MAX_MIGRATIONS },
        { "guest-info-interval", required_argument, NULL, ARG_GUEST_INFO_INTERVAL },
        { "reply-backlog",  required_argument, NULL, ARG_REPLY_BACKLOG },
        { "listing-rate",   required_argument, NULL, ARG_LISTING_RATE },
        {}
};

void options_init(Options *o) {
        *o = (Options) {
                .action = OPTIONS_RUN,
                .log_level = LOG_INFO,
                .workers = OPTIONS_DEFAULT_WORKERS,
                .max_operations = OPTIONS_DEFAULT_MAX_OPERATIONS,
                .call_timeout_sec = OPTIONS_DEFAULT_CALL_TIMEOUT_SEC,
                .detach_timeout_sec = OPTIONS_DEFAULT_DETACH_TIMEOUT_SEC,
                .storage_check_interval_sec = OPTIONS_DEFAULT_STORAGE_CHECK_INTERVAL_SEC,
                .max_migrations = OPTIONS_DEFAULT_MAX_MIGRATIONS,
                .guest_info_interval_sec = OPTIONS_DEFAULT_GUEST_INFO_INTERVAL_SEC,
                .reply_backlog_kib = OPTIONS_DEFAULT_REPLY_BACKLOG_KIB,
                .listing_rate_kib = OPTIONS_DEFAULT_LISTING_RATE_KIB,
        };
}

void options_done(Options *o) {
        free(o->config_file);
        free(o->libvirt_uri);
        free(o->state_dir);
        free(o->run_dir);
        free(o->ovsdb);
        free(o->ovs_datapath);
        free(o->bus_introspect);
        options_init(o);
}

static int set_string(char **field, const char *value) {
        char *copy = strdup(value);
        if (!copy)
                return -ENOMEM;
        free(*field);
        *field = copy;
        return 0;
}

static int parse_unsigned(const char *value, unsigned min, unsigned max, unsigned *ret) {
        unsigned long v;
        char *end;

        errno = 0;
        v = strtoul(value, &end, 10);
        if (errno != 0 || end == value || *end != '\0' || value[0] == '-' || v < min || v > max)
                return -ERANGE;
        *ret = (unsigned) v;
        return 0;
}

/* One setting: its long option name, where it lands, and how it is checked. */
typedef struct OptionSpec OptionSpec;
struct OptionSpec {
        const char *key;
        int (*set)(Options *o, const OptionSpec *spec, const char *value, const char *origin);
        size_t offset;           /* of the field in Options */
        unsigned min, max;       /* numbers */
        const char *unit;        /* numbers: "a number", "a number of seconds" */
};

#define OPTION_FIELD(o, spec, type) ((type *) ((char *) (o) + (spec)->offset))

static int set_text(Options *o, const OptionSpec *spec, const char *value, const char *origin) {
        return set_string(OPTION_FIELD(o, spec, char *), value);
}

static int set_absolute_path(Options *o, const OptionSpec *spec, const char *value, const char *origin) {
        if (value[0] != '/') {
                fprintf(stderr, "%s: %s must be an absolute path, got '%s'\n", origin, spec->key, value);
                return -EINVAL;
        }
        return set_text(o, spec, value, origin);
}

static int set_number(Options *o, const OptionSpec *spec, const char *value, const char *origin) {
        if (parse_unsigned(value, spec->min, spec->max, OPTION_FIELD(o, spec, unsigned)) < 0) {
                fprintf(stderr, "%s: %s must be %s from %u to %u, got '%s'\n", origin, spec->key, spec->unit,
                        spec->min, spec->max, value);
                return -EINVAL;
        }
        return 0;
}

static int set_ovs_datapath(Options *o, const OptionSpec *spec, const char *value, const char *origin) {
        if (!streq(value, "system") && !streq(value, "netdev")) {
                fprintf(stderr, "%s: ovs-datapath must be system or netdev, got '%s'\n", origin, value);
                return -EINVAL;
        }
        return set_text(o, spec, value, origin);
}

static int set_ovsdb(Options *o, const OptionSpec *spec, const char *value, const char *origin) {
        if (strncmp(value, "unix:", 5) != 0 || value[5] != '/') {
                fprintf(stderr, "%s: ovsdb must be unix:/absolute/path, got '%s'\n", origin, value);
                return -EINVAL;
        }
        return set_text(o, spec, value, origin);
}

static int set_log_level(Options *o, const OptionSpec *spec, const char *value, const char *origin) {
        int r = log_level_from_string(value);

        if (r < 0) {
                fprintf(stderr, "%s: log-level must be one of emerg, alert, crit, err, "
                        "warning, notice, info, debug; got '%s'\n", origin, value);
                return r;
        }
        o->log_level = r;
        return 0;
}

static const OptionSpec option_specs[] = {
        { .key = "libvirt-uri", .set = set_text, .offset = offsetof(Options, libvirt_uri) },
        { .key = "state-dir", .set = set_absolute_path, .offset = offsetof(Options, state_dir) },
        { .key = "run-dir", .set = set_absolute_path, .offset = offsetof(Options, run_dir) },
        { .key = "storage-check-interval", .set = set_number, .offset = offsetof(Options, storage_check_interval_sec),
          .min = 1, .max = 3600, .unit = "a number of seconds" },
        { .key = "ovs-datapath", .set = set_ovs_datapath, .offset = offsetof(Options, ovs_datapath) },
        { .key = "ovsdb", .set = set_ovsdb, .offset = offsetof(Options, ovsdb) },
        { .key = "log-level", .set = set_log_level },
        { .key = "workers", .set = set_number, .offset = offsetof(Options, workers),
          .min = 1, .max = 256, .unit = "a number" },
        { .key = "max-operations", .set = set_number, .offset = offsetof(Options, max_operations),
          .min = 1, .max = 65536, .unit = "a number" },
        { .key = "call-timeout", .set = set_number, .offset = offsetof(Options, call_timeout_sec),
          .min = 1, .max = 3600, .unit = "a number of seconds" },
        { .key = "detach-timeout", .set = set_number, .offset = offsetof(Options, detach_timeout_sec),
          .min = 1, .max = 3600, .unit = "a number of seconds" },
        { .key = "migration-bandwidth", .set = set_number, .offset = offsetof(Options, migration_bandwidth_mib),
          .min = 0, .max = 100000, .unit = "a number of MiB/s (0: no cap)," },
        { .key = "max-migrations", .set = set_number, .offset = offsetof(Options, max_migrations),
          .min = 1, .max = 64, .unit = "a number" },
        { .key = "guest-info-interval", .set = set_number, .offset = offsetof(Options, guest_info_interval_sec),
          .min = 0, .max = 86400, .unit = "a number of seconds (0: never)," },
        { .key = "reply-backlog", .set = set_number, .offset = offsetof(Options, reply_backlog_kib),
          .min = 0, .max = 1048576, .unit = "a number of KiB" },
        { .key = "listing-rate", .set = set_number, .offset = offsetof(Options, listing_rate_kib),
          .min = 0, .max = 1048576, .unit = "a number of KiB/s (0: no rate)," },
};

/* One setting by its long option name; shared by argv and the config file. */
static int options_set(Options *o, const char *key, const char *value, const char *origin) {
        /* Settings are shown on the bus (LibvirtURI, StateDirectory): text it can carry. */
        if (!bus_text_valid(value)) {
                fprintf(stderr, "%s: %s must be UTF-8 text without Unicode noncharacters\n", origin, key);
                return -EINVAL;
        }
        for (size_t i = 0; i < ELEMENTSOF(option_specs); i++)
                if (streq(key, option_specs[i].key))
                        return option_specs[i].set(o, &option_specs[i], value, origin);
        fprintf(stderr, "%s: unknown setting '%s'\n", origin, key);
        return -EINVAL;
}

static char *strip(char *s) {
        char *end;

        while (isspace((unsigned char) *s))
                s++;
        end = s + strlen(s);
        while (end > s && isspace((unsigned char) end[-1]))
                *--end = '\0';
        return s;
}

int options_load_config(Options *o, const char *path, bool must_exist) {
        _cleanup_(freep) char *line = NULL;
        size_t allocated = 0;
        unsigned lineno = 0;
        FILE *f;
        int r = 0;

        f = fopen(path, "re");
        if (!f) {
                if (errno == ENOENT && !must_exist)
                        return 0;
                r = -errno;
                fprintf(stderr, "Cannot read configuration file %s: %s\n", path, strerror(errno));
                return r;
        }
        while (getline(&line, &allocated, f) >= 0) {
                char origin[PATH_MAX + 32], *key, *value, *eq;

                lineno++;
                key = strip(line);
                if (*key == '\0' || *key == '#')
                        continue;
                snprintf(origin, sizeof origin, "%s:%u", path, lineno);
                eq = strchr(key, '=');
                if (!eq) {
                        fprintf(stderr, "%s: expected 'key = value'\n", origin);
                        r = -EINVAL;
                        break;
                }
                *eq = '\0';
                key = strip(key);
                value = strip(eq + 1);
                r = options_set(o, key, value, origin);
                if (r < 0)
                        break;
        }
        fclose(f);
        return r;
}

static int fill_defaults(Options *o) {
        if (!o->libvirt_uri && set_string(&o->libvirt_uri, OPTIONS_DEFAULT_LIBVIRT_URI) < 0)
                return -ENOMEM;
        if (!o->state_dir && set_string(&o->state_dir, OPTIONS_DEFAULT_STATE_DIR) < 0)
                return -ENOMEM;
        if (!o->run_dir && set_string(&o->run_dir, OPTIONS_DEFAULT_RUN_DIR) < 0)
                return -ENOMEM;
        if (!o->ovsdb && set_string(&o->ovsdb, OPTIONS_DEFAULT_OVSDB) < 0)
                return -ENOMEM;
        if (!o->ovs_datapath && set_string(&o->ovs_datapath, OPTIONS_DEFAULT_OVS_DATAPATH) < 0)
                return -ENOMEM;
        return 0;
}

/* Pass one: only what decides which configuration file to read, then that file. */
static int options_parse_config(Options *o, int argc, char *argv[]) {
        bool config_given = false;
        int c;

        opterr = 0;
        optind = 0;
        while ((c = getopt_long(argc, argv, "h", long_options, NULL)) >= 0)
                if (c == ARG_CONFIG) {
                        if (set_string(&o->config_file, optarg) < 0)
                                return -ENOMEM;
                        config_given = true;
                }
        if (!o->config_file && set_string(&o->config_file, OPTIONS_DEFAULT_CONFIG) < 0)
                return -ENOMEM;
        return options_load_config(o, o->config_file, config_given);
}

/* A setting given on the command line (--libvirt-uri=...), by its long option's name. */
static int options_set_from_option(Options *o, int c, const char *value) {
        for (const struct option *opt = long_options; opt->name; opt++)
                if (opt->val == c)
                        return options_set(o, opt->name, value, "command line");
        return -EINVAL;
}

/* One option of pass two. */
static int options_parse_one(Options *o, int c) {
        switch (c) {
        case 'h':
                o->action = OPTIONS_SHOW_HELP;
                return 0;
        case ARG_VERSION:
                o->action = OPTIONS_SHOW_VERSION;
                return 0;
        case ARG_USER:
                o->user_bus = true;
                return 0;
        case ARG_CONFIG:
                return 0;       /* read in pass one */
        case ARG_BUS_INTROSPECT:
                o->action = OPTIONS_BUS_INTROSPECT;
                return set_string(&o->bus_introspect, optarg) < 0 ? -ENOMEM : 0;
        case '?':
                return -EINVAL;
        default:
                return options_set_from_option(o, c, optarg);
        }
}

int options_parse(Options *o, int argc, char *argv[]) {
        int c, r;

        r = options_parse_config(o, argc, argv);
        if (r < 0)
                return r;

        /* Pass two: the command line wins over the file. */
        opterr = 1;
        optind = 0;
        while ((c = getopt_long(argc, argv, "h", long_options, NULL)) >= 0) {
                r = options_parse_one(o, c);
                if (r < 0)
                        return r;
        }
        if (optind < argc) {
                fprintf(stderr, "Unexpected argument '%s'; see --help\n", argv[optind]);
                return -EINVAL;
        }
        return fill_defaults(o);
}

void options_print_help(const char *program) {
        printf("%s [OPTIONS...]\n\n"
               "Virtualization host agent: VMs, networks and storage on the D-Bus system bus\n"
               "as org.hostagent1.\n\n"
               "  -h --help                 Show this help\n"
               "     --version              Show the version\n"
               "     --user                 Connect to the user bus instead of the system bus\n"
               "     --config=FILE          Configuration file (default %s)\n"
               "     --libvirt-uri=URI      libvirt connection (default %s)\n"
               "     --state-dir=DIR        Persistent state (default %s)\n"
               "     --run-dir=DIR          Runtime files, NFS mount points (default %s)\n"
               "     --ovsdb=unix:PATH      Open vSwitch database socket (default %s)\n"
               "     --ovs-datapath=TYPE    system (the kernel's) or netdev (user space)\n"
               "     --log-level=LEVEL      emerg, alert, crit, err, warning, notice, info, debug\n"
               "     --workers=N            Threads for blocking work (default %d)\n"
               "     --max-operations=N     Operations in flight before Busy (default %d)\n"
               "     --call-timeout=SEC     How long a caller waits for libvirt before\n"
               "                            LibvirtUnavailable (default %d)\n"
               "     --detach-timeout=SEC   How long a DetachDisk/DetachNIC job waits for\n"
               "                            the guest to let go before it fails (default %d)\n"
               "     --storage-check-interval=SEC\n"
               "                            How often each storage pool's health is checked\n"
               "                            (default %d)\n"
               "     --migration-bandwidth=MIB\n"
               "                            Bandwidth cap of a migration that sets none, in\n"
               "                            MiB/s (default 0: none)\n"
               "     --max-migrations=N     Outgoing migrations at once; more wait (default %d)\n"
               "     --guest-info-interval=SEC\n"
               "                            How often each guest agent is asked for GuestInfo\n"
               "                            and GuestAddresses (default %d; 0: only on its\n"
               "                            events)\n"
               "     --reply-backlog=KIB    Replies on their way to the bus daemon before a\n"
               "                            GetManagedObjects or ListVMs reply waits its turn\n"
               "                            (default %d)\n"
               "     --listing-rate=KIB     Bytes of GetManagedObjects and ListVMs replies a\n"
               "                            second per unprivileged caller, in KiB, after a\n"
               "                            burst of 4 s of it; more waits its turn\n"
               "                            (default %d; 0: no rate)\n"
               "     --bus-introspect=list|INTERFACE\n"
               "                            Print the interfaces served, or one's XML, and exit\n\n"
               "The configuration file holds 'key = value' lines with the long option names;\n"
               "options on the command line win over it.\n",
               program, OPTIONS_DEFAULT_CONFIG, OPTIONS_DEFAULT_LIBVIRT_URI,
               OPTIONS_DEFAULT_STATE_DIR, OPTIONS_DEFAULT_RUN_DIR, OPTIONS_DEFAULT_OVSDB, OPTIONS_DEFAULT_WORKERS,
               OPTIONS_DEFAULT_MAX_OPERATIONS, OPTIONS_DEFAULT_CALL_TIMEOUT_SEC,
               OPTIONS_DEFAULT_DETACH_TIMEOUT_SEC, OPTIONS_DEFAULT_STORAGE_CHECK_INTERVAL_SEC,
               OPTIONS_DEFAULT_MAX_MIGRATIONS, OPTIONS_DEFAULT_GUEST_INFO_INTERVAL_SEC,
               OPTIONS_DEFAULT_REPLY_BACKLOG_KIB, OPTIONS_DEFAULT_LISTING_RATE_KIB);
}
