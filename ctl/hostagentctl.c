/* hostagentctl: the agent's command line. Options, the verb table, the bus connection */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl-bus.h"
#include "ctl-error.h"
#include "ctl-output.h"
#include "ctl.h"
#include "strv.h"

CtlArgs arg = {
        .legend = true,
        .wait = true,
        .ask_password = true,
        .timeout_sec = 60,
        .ttl_sec = 60,
        .format = "qcow2",
        .bandwidth_mib = -1,
        .max_downtime_ms = -1,
};

typedef int (*VerbFunc)(int argc, char **argv, sd_bus *bus);

typedef struct Verb {
        const char *name;
        int min_args, max_args;     /* the words after the verb; -1: any number */
        VerbFunc func;
        const char *usage;          /* the arguments, and the options only it takes */
        const char *summary;
} Verb;

#define ANY (-1)

/* The verb table, in the order of --help: each command, what it takes and what it does. */
static const Verb verbs[] = {
        { "status",          0, 0,   verb_status,           "", "Show the agent: version, libvirt, readiness, counts" },
        { "host-info",       0, 0,   verb_host_info,        "", "Show the host's CPU, memory and versions" },
        { "host-stats",      0, 0,   verb_host_stats,       "", "Show the host's CPU times and free memory now" },
        { "list",            0, 0,   verb_list,             "", "List VMs" },
        { "show",            1, 1,   verb_show,             "VM", "Show a VM's properties" },
        { "create",          1, 1,   verb_create,           "FILE|-", "Create a VM from a JSON spec" },
        { "create-xml",      1, 1,   verb_create_xml,       "FILE|-", "Define a VM from libvirt domain XML" },
        { "start",           1, ANY, verb_vm_action,        "VM...", "Start VMs" },
        { "destroy",         1, ANY, verb_vm_action,        "VM...", "Power VMs off at once" },
        { "pause",           1, ANY, verb_vm_action,        "VM...", "Pause VMs" },
        { "resume",          1, ANY, verb_vm_action,        "VM...", "Resume paused VMs" },
        { "reboot",          1, ANY, verb_vm_action,        "VM...", "Ask VMs' guests to reboot" },
        { "reset",           1, ANY, verb_vm_action,        "VM...", "Reset VMs (a hard reboot)" },
        { "undefine",        1, ANY, verb_vm_action,        "VM...", "Remove VMs' definitions" },
        { "shutdown",        1, 1,   verb_shutdown,         "VM [--timeout=SEC]",
          "Ask the guest to shut down, force it off after SEC (60); waits for the job" },
        { "migrate",         2, 2,   verb_migrate,          "VM DESTINATION-URI [--bandwidth=MIB] [--max-downtime=MS] "
          "[--convergence=POLICY] [--stall-timeout=SEC] [--migration-uri=URI] [--allow-unsafe]",
          "Migrate a running VM live to another host; waits for the job, showing its progress" },
        { "backup",          2, 2,   verb_backup,           "VM POOL [--quiesce] [--incremental=CHECKPOINT] [--bandwidth=MIB]",
          "Copy a running VM's disks into new volumes of POOL; waits, showing progress; prints the checkpoint" },
        { "console-ticket",  1, 1,   verb_console_ticket,   "VM [--ttl=SEC] [--password=P]",
          "Set the console's password for SEC (60); prints a random one unless given" },
        { "stats",           0, 1,   verb_stats,            "[VM]", "Show VM statistics (all VMs, or one in full)" },
        { "attach-disk",     2, 2,   verb_attach_disk,      "VM JSON|FILE|- [--live-only|--config-only]",
          "Attach a disk ({\"pool\":\"P\",\"volume\":\"V\"} or {\"path\":...}); prints its target" },
        { "detach-disk",     2, 2,   verb_detach_disk,      "VM TARGET",
          "Detach a disk, waiting until the guest lets go (or the agent's detach timeout)" },
        { "attach-nic",      2, 2,   verb_attach_nic,       "VM JSON|FILE|- [--live-only|--config-only]",
          "Attach a NIC ({\"network\":\"N\"}); prints its MAC" },
        { "detach-nic",      2, 2,   verb_detach_nic,       "VM MAC",
          "Detach a NIC, waiting until the guest lets go (or the agent's detach timeout)" },
        { "set-memory",      2, 2,   verb_set_memory,       "VM SIZE", "Set a VM's memory (MiB, or with a unit: 1G)" },
        { "set-vcpus",       2, 2,   verb_set_vcpus,        "VM N", "Set a VM's vCPUs online" },
        { "snapshot",        2, 2,   verb_snapshot,         "VM NAME [--memory] [--quiesce] [--disk=TARGET...]",
          "Snapshot a VM's disks (overlays beside them); waits for the job" },
        { "snapshots",       1, 1,   verb_snapshots,        "VM", "List a VM's snapshots" },
        { "revert",          2, 2,   verb_revert,           "VM NAME", "Revert a VM to a snapshot" },
        { "delete-snapshot", 2, 2,   verb_delete_snapshot,  "VM NAME",
          "Delete a snapshot, merging its overlays (live if the VM runs); waits, showing progress" },
        { "apply",           1, 1,   verb_apply,            "FILE|- [--dry-run] [--restart]",
          "Create or change a VM to match a JSON spec; prints the plan" },
        { "guest-info",      1, 1,   verb_guest_info,       "VM",
          "Show what a VM's guest agent says: OS, hostname, addresses" },
        { "freeze",          1, 1,   verb_guest_freeze,     "VM", "Freeze a running guest's filesystems (its agent)" },
        { "thaw",            1, 1,   verb_guest_freeze,     "VM", "Thaw a guest's frozen filesystems" },
        { "networks",        0, 0,   verb_networks,         "", "List host networks" },
        { "show-network",    1, 1,   verb_show_network,     "NAME", "Show a network's properties" },
        { "setup-networks",  1, 1,   verb_setup_networks,   "FILE|- [--dry-run] [--confirm-timeout=SEC]",
          "Set up host networks as one transaction; prints the plan" },
        { "confirm-networks", 0, 0,  verb_confirm_networks, "", "Keep the networks set up with --confirm-timeout" },
        { "network-caps",    0, 0,   verb_network_caps,     "", "Show the host's interfaces and what it can build" },
        { "pools",           0, 0,   verb_pools,            "", "List storage pools" },
        { "show-pool",       1, 1,   verb_show_pool,        "POOL", "Show a pool's properties" },
        { "create-pool",     1, 1,   verb_create_pool,      "FILE|-", "Create a storage pool from a JSON spec" },
        { "volumes",         1, 1,   verb_volumes,          "POOL", "List a pool's volumes" },
        { "create-volume",   3, 3,   verb_create_volume,    "POOL NAME SIZE [--format=qcow2|raw] [--backing=VOL]",
          "Create a volume (SIZE takes units: 10G, 512M)" },
        { "resize-volume",   3, 3,   verb_resize_volume,    "POOL VOLUME SIZE", "Grow a volume" },
        { "clone-volume",    3, 3,   verb_clone_volume,     "POOL VOLUME NEW-NAME",
          "Copy a volume; waits for the job" },
        { "delete-volume",   2, 2,   verb_delete_volume,    "POOL VOLUME", "Delete a volume" },
        { "activate-pool",   1, 1,   verb_pool_action,      "POOL", "Activate a pool" },
        { "deactivate-pool", 1, 1,   verb_pool_action,      "POOL", "Deactivate a pool" },
        { "refresh-pool",    1, 1,   verb_pool_action,      "POOL", "Read a pool's volumes again" },
        { "delete-pool",     1, 1,   verb_pool_action,      "POOL", "Delete a pool" },
        { "jobs",            0, 0,   verb_jobs,             "", "List jobs" },
        { "cancel",          1, ANY, verb_cancel,           "JOB...", "Cancel jobs" },
        { "wait",            1, 1,   verb_wait,             "JOB", "Wait for a job, showing its progress" },
        { "monitor",         0, 0,   verb_monitor,          "[--json[=pretty|short]]",
          "Print every signal of the agent as one line (JSON: an object a line, unless pretty)" },
        {}
};

static const Verb *verb_find(const char *name) {
        for (const Verb *v = verbs; v->name; v++)
                if (streq(v->name, name))
                        return v;
        return NULL;
}

static void help(void) {
        printf("hostagentctl [OPTIONS...] COMMAND [ARGS...]\n\n"
               "Drive hostagentd, the virtualization host agent.\n\n"
               "Commands:\n");
        for (const Verb *v = verbs; v->name; v++) {
                char synopsis[128];

                /* A synopsis too long for its column puts the summary on a line of its own. */
                snprintf(synopsis, sizeof synopsis, "%s %s", v->name, v->usage);
                if (strlen(synopsis) > 38)
                        printf("  %s\n  %-38s %s\n", synopsis, "", v->summary);
                else
                        printf("  %-38s %s\n", synopsis, v->summary);
        }
        printf("\nOptions:\n"
               "  -h --help              Show this help, or a command's with COMMAND -h\n"
               "     --version           Show the version\n"
               "  -H --host=[USER@]HOST  Talk to the agent on HOST, over SSH\n"
               "     --json=pretty|short Print JSON\n"
               "     --no-legend         Print no column headers\n"
               "  -q --quiet             Print less\n"
               "     --no-wait           Do not wait for jobs: print the job's path\n"
               "     --no-ask-password   Do not ask for authentication\n"
               "\nVMs are named by name, UUID or object path; JOB by number or path.\n"
               "Exit status: 0 success, 1 failure, 4 no such object.\n");
}

static void help_verb(const Verb *v) {
        printf("hostagentctl [OPTIONS...] %s %s\n\n%s.\n", v->name, v->usage, v->summary);
}

enum {
        ARG_VERSION = 0x100,
        ARG_JSON,
        ARG_NO_LEGEND,
        ARG_NO_WAIT,
        ARG_NO_ASK_PASSWORD,
        ARG_TIMEOUT,
        ARG_TTL,
        ARG_PASSWORD,
        ARG_FORMAT,
        ARG_BACKING,
        ARG_DRY_RUN,
        ARG_CONFIRM_TIMEOUT,
        ARG_LIVE_ONLY,
        ARG_CONFIG_ONLY,
        ARG_RESTART,
        ARG_BANDWIDTH,
        ARG_MAX_DOWNTIME,
        ARG_CONVERGENCE,
        ARG_STALL_TIMEOUT,
        ARG_MIGRATION_URI,
        ARG_ALLOW_UNSAFE,
        ARG_MEMORY,
        ARG_QUIESCE,
        ARG_DISK,
        ARG_INCREMENTAL,
};

static const struct option options[] = {
        { "help",            no_argument,       NULL, 'h' },
        { "version",         no_argument,       NULL, ARG_VERSION },
        { "host",            required_argument, NULL, 'H' },
        { "json",            optional_argument, NULL, ARG_JSON },
        { "no-legend",       no_argument,       NULL, ARG_NO_LEGEND },
        { "quiet",           no_argument,       NULL, 'q' },
        { "no-wait",         no_argument,       NULL, ARG_NO_WAIT },
        { "no-ask-password", no_argument,       NULL, ARG_NO_ASK_PASSWORD },
        { "timeout",         required_argument, NULL, ARG_TIMEOUT },
        { "ttl",             required_argument, NULL, ARG_TTL },
        { "password",        required_argument, NULL, ARG_PASSWORD },
        { "format",          required_argument, NULL, ARG_FORMAT },
        { "backing",         required_argument, NULL, ARG_BACKING },
        { "dry-run",         no_argument,       NULL, ARG_DRY_RUN },
        { "confirm-timeout", required_argument, NULL, ARG_CONFIRM_TIMEOUT },
        { "live-only",       no_argument,       NULL, ARG_LIVE_ONLY },
        { "config-only",     no_argument,       NULL, ARG_CONFIG_ONLY },
        { "restart",         no_argument,       NULL, ARG_RESTART },
        { "bandwidth",       required_argument, NULL, ARG_BANDWIDTH },
        { "max-downtime",    required_argument, NULL, ARG_MAX_DOWNTIME },
        { "convergence",     required_argument, NULL, ARG_CONVERGENCE },
        { "stall-timeout",   required_argument, NULL, ARG_STALL_TIMEOUT },
        { "migration-uri",   required_argument, NULL, ARG_MIGRATION_URI },
        { "allow-unsafe",    no_argument,       NULL, ARG_ALLOW_UNSAFE },
        { "memory",          no_argument,       NULL, ARG_MEMORY },
        { "quiesce",         no_argument,       NULL, ARG_QUIESCE },
        { "disk",            required_argument, NULL, ARG_DISK },
        { "incremental",     required_argument, NULL, ARG_INCREMENTAL },
        {}
};

static int parse_json(const char *value) {
        arg.json_bare = !value;
        if (!value || streq(value, "pretty"))
                arg.json = JSON_PRETTY;
        else if (streq(value, "short"))
                arg.json = JSON_SHORT;
        else if (streq(value, "help")) {
                puts("pretty\nshort");
                return 0;
        } else
                return ctl_fail(NULL, "--json=%s: must be pretty or short", value);
        return 1;
}

static int parse_seconds_option(const char *name, const char *value, uint32_t *ret) {
        if (ctl_parse_seconds(value, ret) < 0)
                return ctl_fail(NULL, "--%s=%s: must be a number of seconds", name, value);
        return 1;
}

static int parse_number_option(const char *name, const char *value, int64_t *ret) {
        char *end;
        unsigned long long n;

        errno = 0;
        n = strtoull(value, &end, 10);
        if (errno != 0 || end == value || *end || value[0] == '-' || n > UINT32_MAX)
                return ctl_fail(NULL, "--%s=%s: must be a number", name, value);
        *ret = (int64_t) n;
        return 1;
}

/* --disk, as often as given. */
static int parse_disk_option(const char *value) {
        size_t n = strv_length(arg.snapshot_disks);
        char **v = reallocarray(arg.snapshot_disks, n + 2, sizeof(char *));

        if (!v)
                return ctl_fail(NULL, "out of memory");
        arg.snapshot_disks = v;
        v[n] = (char *) value;   /* argv's: not freed */
        v[n + 1] = NULL;
        return 1;
}

/* One option into arg; returns 0 when the program is done (help, version), 1 to go on. */
static int parse_one(int c, bool *help_wanted) {
        switch (c) {
        case 'h': *help_wanted = true; return 1;
        case ARG_VERSION: puts("hostagentctl " PROJECT_VERSION); return 0;
        case 'H': arg.host = optarg; return 1;
        case ARG_JSON: return parse_json(optarg);
        case ARG_NO_LEGEND: arg.legend = false; return 1;
        case 'q': arg.quiet = true; return 1;
        case ARG_NO_WAIT: arg.wait = false; return 1;
        case ARG_NO_ASK_PASSWORD: arg.ask_password = false; return 1;
        case ARG_TIMEOUT: return parse_seconds_option("timeout", optarg, &arg.timeout_sec);
        case ARG_TTL: return parse_seconds_option("ttl", optarg, &arg.ttl_sec);
        case ARG_PASSWORD: arg.password = optarg; return 1;
        case ARG_FORMAT: arg.format = optarg; return 1;
        case ARG_BACKING: arg.backing = optarg; return 1;
        case ARG_DRY_RUN: arg.dry_run = true; return 1;
        case ARG_CONFIRM_TIMEOUT: return parse_seconds_option("confirm-timeout", optarg, &arg.confirm_sec);
        case ARG_LIVE_ONLY: arg.live_only = true; return 1;
        case ARG_CONFIG_ONLY: arg.config_only = true; return 1;
        case ARG_RESTART: arg.restart = true; return 1;
        case ARG_BANDWIDTH: return parse_number_option("bandwidth", optarg, &arg.bandwidth_mib);
        case ARG_MAX_DOWNTIME: return parse_number_option("max-downtime", optarg, &arg.max_downtime_ms);
        case ARG_CONVERGENCE: arg.convergence = optarg; return 1;
        case ARG_STALL_TIMEOUT: return parse_seconds_option("stall-timeout", optarg, &arg.stall_timeout_sec);
        case ARG_MIGRATION_URI: arg.migration_uri = optarg; return 1;
        case ARG_ALLOW_UNSAFE: arg.allow_unsafe = true; return 1;
        case ARG_MEMORY: arg.snapshot_memory = true; return 1;
        case ARG_QUIESCE: arg.quiesce = true; return 1;
        case ARG_DISK: return parse_disk_option(optarg);
        case ARG_INCREMENTAL: arg.incremental = optarg; return 1;
        default: return -EINVAL;    /* getopt said what */
        }
}

/* Options go anywhere on the line, as systemctl's do: "shutdown web1 --timeout=5". */
static int parse_argv(int argc, char **argv, bool *help_wanted) {
        int c, r;

        while ((c = getopt_long(argc, argv, "hH:q", options, NULL)) >= 0) {
                r = parse_one(c, help_wanted);
                if (r <= 0)
                        return r;
        }
        return 1;
}

static int bus_open(sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        r = arg.host ? sd_bus_open_system_remote(&bus, arg.host) : sd_bus_open_system(&bus);
        if (r < 0)
                return ctl_fail(arg.host, "cannot connect to the system bus: %s", strerror(-r));
        (void) sd_bus_set_method_call_timeout(bus, CTL_CALL_TIMEOUT_USEC);
        /* As systemctl: a person at a terminal may be asked to authenticate by polkit. */
        if (arg.ask_password && isatty(STDIN_FILENO))
                (void) sd_bus_set_allow_interactive_authorization(bus, true);
        *ret = TAKE_PTR(bus);
        return 0;
}

static int dispatch(int argc, char **argv, bool help_wanted) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int n_args = argc - optind - 1;
        const Verb *v;
        int r;

        if (optind >= argc) {
                if (help_wanted) {
                        help();
                        return 0;
                }
                return ctl_fail(NULL, "a command is needed (see --help)");
        }
        v = verb_find(argv[optind]);
        if (!v)
                return ctl_fail(argv[optind], "unknown command (see --help)");
        if (help_wanted) {
                help_verb(v);
                return 0;
        }
        if (n_args < v->min_args || (v->max_args != ANY && n_args > v->max_args))
                return ctl_fail(v->name, "%s arguments; usage: hostagentctl %s %s",
                                n_args < v->min_args ? "too few" : "too many", v->name, v->usage);
        r = bus_open(&bus);
        if (r < 0)
                return r;
        return v->func(argc - optind, argv + optind, bus);
}

int main(int argc, char **argv) {
        bool help_wanted = false;
        int r;

        r = parse_argv(argc, argv, &help_wanted);
        if (r <= 0)
                return r < 0 ? 1 : 0;
        r = dispatch(argc, argv, help_wanted);
        if (r == CTL_NO_SUCH_OBJECT)
                return 4;
        return r < 0 ? 1 : 0;
}

int ctl_read_file(const char *name, char **ret) {
        _cleanup_(fclosep) FILE *owned = NULL;
        char *text = NULL;
        size_t size = 0, n;
        FILE *f, *out;
        char buf[8192];

        f = streq(name, "-") ? stdin : (owned = fopen(name, "re"));
        if (!f)
                return ctl_fail(name, "cannot read it: %m");
        out = open_memstream(&text, &size);
        if (!out)
                return -ENOMEM;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
                fwrite(buf, 1, n, out);
        if (ferror(f)) {
                fclose(out);
                free(text);
                return ctl_fail(name, "cannot read it: %m");
        }
        if (fclose(out) != 0)
                return -ENOMEM;
        *ret = text;
        return 0;
}
