/* VM statistics on the bus: Manager.GetAllVMStats and VM.GetStats */
#pragma once

#include <systemd/sd-bus.h>

int method_get_all_vm_stats(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_vm_get_stats(sd_bus_message *msg, void *userdata, sd_bus_error *error);
