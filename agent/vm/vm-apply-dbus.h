/* Manager.ApplyVM: a VM as a spec says it should be, created or changed to match */
#pragma once

#include <systemd/sd-bus.h>

int method_apply_vm(sd_bus_message *msg, void *userdata, sd_bus_error *error);
