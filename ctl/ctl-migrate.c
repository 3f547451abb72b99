/* hostagentctl migrate: VM.Migrate with its options, then the job followed to its end */
#include <stdio.h>
#include <string.h>

#include "ctl-bus.h"
#include "ctl-error.h"
#include "ctl-job.h"
#include "ctl.h"

/* The options given on the command line, as VM.Migrate's a{sv}. */
static int migrate_append_options(sd_bus_message *m) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && arg.bandwidth_mib >= 0)
                r = sd_bus_message_append(m, "{sv}", "bandwidth_mib", "u", (uint32_t) arg.bandwidth_mib);
        if (r >= 0 && arg.max_downtime_ms >= 0)
                r = sd_bus_message_append(m, "{sv}", "max_downtime_ms", "t", (uint64_t) arg.max_downtime_ms);
        if (r >= 0 && arg.convergence)
                r = sd_bus_message_append(m, "{sv}", "convergence", "s", arg.convergence);
        if (r >= 0 && arg.stall_timeout_sec > 0)
                r = sd_bus_message_append(m, "{sv}", "stall_timeout_sec", "u", arg.stall_timeout_sec);
        if (r >= 0 && arg.migration_uri)
                r = sd_bus_message_append(m, "{sv}", "migration_uri", "s", arg.migration_uri);
        if (r >= 0 && arg.allow_unsafe)
                r = sd_bus_message_append(m, "{sv}", "allow_unsafe", "b", 1);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

int verb_migrate(int argc, char **argv, sd_bus *bus) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL, *reply = NULL;
        _cleanup_(freep) char *path = NULL;
        const char *job;
        int r;

        r = ctl_vm_path(bus, argv[1], &path);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &call, CTL_SERVICE, path, CTL_VM, "Migrate");
        if (r >= 0)
                r = sd_bus_message_append(call, "s", argv[2]);
        if (r >= 0)
                r = migrate_append_options(call);
        if (r < 0)
                return ctl_fail(argv[1], "cannot build the call: %s", strerror(-r));
        r = sd_bus_call(bus, call, 0, &error, &reply);
        if (r < 0)
                return ctl_error_report("VM", argv[1], "migrate", &error);
        r = sd_bus_message_read(reply, "o", &job);
        if (r < 0)
                return r;
        /* Progress is the percent of the data sent; a bar on a terminal. */
        return ctl_job_follow(bus, job, argv[1], "migrate");
}
