/* hostagentctl backup: VM.Backup with its options, then the job followed to its end */
#include <stdio.h>
#include <string.h>

#include "ctl-bus.h"
#include "ctl-error.h"
#include "ctl-job.h"
#include "ctl.h"

#define CTL_BACKUP "org.hostagent1.Backup"

/* The options given on the command line, as VM.Backup's a{sv}. */
static int backup_append_options(sd_bus_message *m) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && arg.quiesce)
                r = sd_bus_message_append(m, "{sv}", "quiesce", "b", 1);
        if (r >= 0 && arg.incremental)
                r = sd_bus_message_append(m, "{sv}", "incremental", "s", arg.incremental);
        if (r >= 0 && arg.bandwidth_mib >= 0)
                r = sd_bus_message_append(m, "{sv}", "bandwidth_mib", "u", (uint32_t) arg.bandwidth_mib);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

int verb_backup(int argc, char **argv, sd_bus *bus) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL, *reply = NULL;
        _cleanup_(freep) char *path = NULL, *checkpoint = NULL;
        const char *job;
        int r;

        r = ctl_vm_path(bus, argv[1], &path);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &call, CTL_SERVICE, path, CTL_VM, "Backup");
        if (r >= 0)
                r = sd_bus_message_append(call, "s", argv[2]);
        if (r >= 0)
                r = backup_append_options(call);
        if (r < 0)
                return ctl_fail(argv[1], "cannot build the call: %s", strerror(-r));
        r = sd_bus_call(bus, call, 0, &error, &reply);
        if (r < 0)
                return ctl_error_report("VM", argv[1], "back up", &error);
        r = sd_bus_message_read(reply, "o", &job);
        if (r < 0)
                return r;
        /* The name a later --incremental takes: read now, while the job object is sure to be there. */
        (void) sd_bus_get_property_string(bus, CTL_SERVICE, job, CTL_BACKUP, "Checkpoint", NULL, &checkpoint);
        /* Progress is the percent of the disks copied; a bar on a terminal. */
        r = ctl_job_follow(bus, job, argv[1], "back up");
        if (r == 0 && arg.wait && !arg.quiet && checkpoint && *checkpoint)
                printf("checkpoint %s\n", checkpoint);
        return r;
}
