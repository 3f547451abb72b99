/* org.hostagent1.Network on the bus */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "network.h"

extern const sd_bus_vtable network_vtable[];

/* Serves every network, and shows the model's changes as signals from now on. */
int network_bus_register(Manager *m);
