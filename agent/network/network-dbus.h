/* org.hostagent1.Network on the bus */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "network.h"

extern const sd_bus_vtable network_vtable[];

int network_bus_register(Manager *m);

/* PropertiesChanged for what the kernel decides (and, with CONFIG, what the configuration does). */
void network_bus_emit_changed(Manager *m, const NetConfig *c, bool config);
