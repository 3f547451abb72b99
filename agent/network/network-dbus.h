/* org.hostagent1.Network on the bus */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "network.h"

extern const sd_bus_vtable network_vtable[];

int network_bus_register(Manager *m);

/* The one announce and the one withdraw of a network object: announce once the object at PATH
 * is served whole, withdraw while it still is (sd-bus lists the interfaces it finds there). */
void network_bus_announce(Manager *m, const char *path);
void network_bus_withdraw(Manager *m, const char *path);

/* PropertiesChanged for what the kernel decides (and, with CONFIG, what the configuration does). */
void network_bus_emit_changed(Manager *m, const NetConfig *c, bool config);
