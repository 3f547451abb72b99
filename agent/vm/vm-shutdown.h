/* VM.Shutdown: a graceful shutdown as a Job, forced once its timeout passes */
#pragma once

#include <systemd/sd-bus.h>

#define VM_SHUTDOWN_TIMEOUT_MAX_SEC (24U * 3600)

int method_vm_shutdown(sd_bus_message *msg, void *userdata, sd_bus_error *error);
