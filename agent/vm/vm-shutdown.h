/* VM.Shutdown: a graceful shutdown as a Job, forced once its timeout passes */
#pragma once

#include <json-c/json.h>
#include <systemd/sd-bus.h>

typedef struct Job Job;

#define VM_SHUTDOWN_TIMEOUT_MAX_SEC (24U * 3600)

int method_vm_shutdown(sd_bus_message *msg, void *userdata, sd_bus_error *error);

/* A job_resume_fn (job.h): carries on a shutdown job of the previous agent from DATA
 * (what it recorded): the guest is forced off at the same deadline, unless
 * it is off by the time the VMs are read. Returns 0 or -errno. */
int vm_shutdown_resume(Job *job, json_object *data);
