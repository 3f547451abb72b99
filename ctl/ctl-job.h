/* Following a job to its end */
#pragma once

#include <systemd/sd-bus.h>

/* With --no-wait, prints JOB's path and returns. Otherwise shows its Progress (a bar on a
 * terminal, a line per change otherwise) until it ends: 0 when its Result is "done" or "forced",
 * and an error line naming OBJECT and ACTION when it ended any other way. */
int ctl_job_follow(sd_bus *bus, const char *job, const char *object, const char *action);

/* The same for the job a call answered with ("o"). */
int ctl_job_follow_reply(sd_bus *bus, sd_bus_message *reply, const char *object, const char *action);
