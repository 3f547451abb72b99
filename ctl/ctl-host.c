/* hostagentctl's host commands: status, host-info, host-stats */
#include <stddef.h>
#include <stdio.h>

#include "ctl-bus.h"
#include "ctl-error.h"
#include "ctl-output.h"
#include "ctl.h"

typedef struct ManagerInfo {
        char *version, *hostname, *libvirt_uri, *log_level;
        bool libvirt_connected, ready;
        uint32_t max_operations, operations;
} ManagerInfo;

static const CtlProperty manager_map[] = {
        { "Version",            's', offsetof(ManagerInfo, version) },
        { "Hostname",           's', offsetof(ManagerInfo, hostname) },
        { "LibvirtURI",         's', offsetof(ManagerInfo, libvirt_uri) },
        { "LogLevel",           's', offsetof(ManagerInfo, log_level) },
        { "LibvirtConnected",   'b', offsetof(ManagerInfo, libvirt_connected) },
        { "Ready",              'b', offsetof(ManagerInfo, ready) },
        { "MaxOperations",      'u', offsetof(ManagerInfo, max_operations) },
        { "OperationsInFlight", 'u', offsetof(ManagerInfo, operations) },
        {}
};

/* What status counts: objects of one interface, and how many are in each state. */
#define STATES_MAX 16
typedef struct Census {
        unsigned total;
        struct { char *state; unsigned n; } states[STATES_MAX];
        unsigned n_states;
} Census;

typedef struct StateOnly {
        char *state;
} StateOnly;

static const CtlProperty state_map[] = {
        { "State", 's', offsetof(StateOnly, state) },
        {}
};

static int census_add(const char *path, void *object, void *userdata) {
        Census *c = userdata;
        const char *state = strempty(((StateOnly *) object)->state);

        c->total++;
        for (unsigned i = 0; i < c->n_states; i++)
                if (streq(c->states[i].state, state)) {
                        c->states[i].n++;
                        return 0;
                }
        if (c->n_states == STATES_MAX)
                return 0;
        c->states[c->n_states].state = strdup(state);
        if (!c->states[c->n_states].state)
                return -ENOMEM;
        c->states[c->n_states++].n = 1;
        return 0;
}

static void census_clear(Census *c) {
        for (unsigned i = 0; i < c->n_states; i++)
                free(c->states[i].state);
}

static unsigned census_count(const Census *c, const char *state) {
        for (unsigned i = 0; i < c->n_states; i++)
                if (streq(c->states[i].state, state))
                        return c->states[i].n;
        return 0;
}

/* "3 (2 running, 1 shutoff)" */
static char *census_text(const Census *c) {
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        if (!f)
                return NULL;
        fprintf(f, "%u", c->total);
        for (unsigned i = 0; i < c->n_states; i++)
                fprintf(f, "%s%u %s", i ? ", " : " (", c->states[i].n, c->states[i].state);
        if (c->n_states > 0)
                fputc(')', f);
        if (fclose(f) != 0) {
                free(text);
                return NULL;
        }
        return text;
}

static int status_count(CtlFields *f, const char *label, const char *json, const Census *c) {
        _cleanup_(freep) char *text = NULL;
        char key[64];
        int r;

        if (arg.json == JSON_OFF) {
                text = census_text(c);
                return text ? ctl_fields_add(f, label, json, CTL_STRING, text) : -ENOMEM;
        }
        r = ctl_fields_add(f, label, json, CTL_NUMBER, (uint64_t) c->total);
        for (unsigned i = 0; r >= 0 && i < c->n_states; i++) {
                snprintf(key, sizeof key, "%s_%s", json, c->states[i].state);
                r = ctl_fields_add(f, label, key, CTL_NUMBER, (uint64_t) c->states[i].n);
        }
        return r;
}

/* For people: "test:///default (connected)", "3 (2 running, 1 shutoff)", "0 of 64 in flight". */
static int status_fields_human(CtlFields *f, const ManagerInfo *info, Census counts[4]) {
        char ops[64], jobs[64], libvirt[512];
        int r;

        snprintf(libvirt, sizeof libvirt, "%s (%s)", strempty(info->libvirt_uri),
                 info->libvirt_connected ? "connected" : "not connected");
        snprintf(ops, sizeof ops, "%u of %u in flight", info->operations, info->max_operations);
        snprintf(jobs, sizeof jobs, "%u running", census_count(&counts[3], "running"));
        r = ctl_fields_add(f, "Version", "version", CTL_STRING, info->version);
        if (r >= 0) r = ctl_fields_add(f, "Host", "hostname", CTL_STRING, info->hostname);
        if (r >= 0) r = ctl_fields_add(f, "Libvirt", "libvirt", CTL_STRING, libvirt);
        if (r >= 0) r = ctl_fields_add(f, "Ready", "ready", CTL_BOOLEAN, info->ready);
        if (r >= 0) r = status_count(f, "VMs", "vms", &counts[0]);
        if (r >= 0) r = status_count(f, "Networks", "networks", &counts[1]);
        if (r >= 0) r = status_count(f, "Pools", "pools", &counts[2]);
        if (r >= 0) r = ctl_fields_add(f, "Jobs", "jobs", CTL_STRING, jobs);
        if (r >= 0) r = ctl_fields_add(f, "Operations", "operations", CTL_STRING, ops);
        if (r >= 0) r = ctl_fields_add(f, "Log level", "log_level", CTL_STRING, info->log_level);
        return r;
}

/* For scripts: every value on its own key, counts as numbers ("vms", "vms_running", ...). */
static int status_fields_json(CtlFields *f, const ManagerInfo *info, Census counts[4]) {
        uint64_t jobs = census_count(&counts[3], "running");
        int r;

        r = ctl_fields_add(f, "Version", "version", CTL_STRING, info->version);
        if (r >= 0) r = ctl_fields_add(f, "Host", "hostname", CTL_STRING, info->hostname);
        if (r >= 0) r = ctl_fields_add(f, "Libvirt", "libvirt_uri", CTL_STRING, info->libvirt_uri);
        if (r >= 0) r = ctl_fields_add(f, "Connected", "libvirt_connected", CTL_BOOLEAN, info->libvirt_connected);
        if (r >= 0) r = ctl_fields_add(f, "Ready", "ready", CTL_BOOLEAN, info->ready);
        if (r >= 0) r = status_count(f, "VMs", "vms", &counts[0]);
        if (r >= 0) r = status_count(f, "Networks", "networks", &counts[1]);
        if (r >= 0) r = status_count(f, "Pools", "pools", &counts[2]);
        if (r >= 0) r = ctl_fields_add(f, "Jobs", "jobs_running", CTL_NUMBER, jobs);
        if (r >= 0) r = ctl_fields_add(f, "Operations", "operations_in_flight", CTL_NUMBER,
                                       (uint64_t) info->operations);
        if (r >= 0) r = ctl_fields_add(f, "Max", "max_operations", CTL_NUMBER, (uint64_t) info->max_operations);
        if (r >= 0) r = ctl_fields_add(f, "Log level", "log_level", CTL_STRING, info->log_level);
        return r;
}

int verb_status(int argc, char **argv, sd_bus *bus) {
        static const char *const interfaces[4] = { CTL_VM, CTL_NETWORK, CTL_POOL, CTL_JOB };
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(ctl_fields_freep) CtlFields *f = ctl_fields_new();
        ManagerInfo info = {};
        Census counts[4] = {};
        int r;

        if (!f)
                return -ENOMEM;
        r = ctl_get_all(bus, CTL_ROOT, CTL_MANAGER, manager_map, &info, &error);
        if (r < 0) {
                ctl_properties_clear(manager_map, &info);
                return ctl_error_report(NULL, NULL, "read the agent's status", &error);
        }
        for (int i = 0; r >= 0 && i < 4; i++)
                r = ctl_for_each_object(bus, interfaces[i], state_map, sizeof(StateOnly), census_add, &counts[i]);
        if (r >= 0)
                r = arg.json != JSON_OFF ? status_fields_json(f, &info, counts) : status_fields_human(f, &info, counts);
        if (r >= 0)
                r = ctl_fields_print(f);
        for (int i = 0; i < 4; i++)
                census_clear(&counts[i]);
        ctl_properties_clear(manager_map, &info);
        return r;
}

static int print_dict(sd_bus *bus, const char *method, const char *action) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(ctl_fields_freep) CtlFields *f = ctl_fields_new();
        int r;

        if (!f)
                return -ENOMEM;
        r = ctl_call(bus, CTL_ROOT, CTL_MANAGER, method, CTL_ABOUT(NULL, NULL, action), &reply, NULL);
        if (r < 0)
                return r;
        r = ctl_dict_fields(reply, f);
        if (r < 0)
                return r;
        return ctl_fields_print(f);
}

int verb_host_info(int argc, char **argv, sd_bus *bus) {
        return print_dict(bus, "GetHostInfo", "read the host's information");
}

int verb_host_stats(int argc, char **argv, sd_bus *bus) {
        return print_dict(bus, "GetHostStats", "read the host's statistics");
}
