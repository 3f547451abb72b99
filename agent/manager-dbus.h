/* org.hostagent1.Manager on the bus */
#pragma once

#include <systemd/sd-bus.h>

#include "manager.h"

extern const sd_bus_vtable manager_vtable[];

int manager_bus_register(Manager *m);

/* Sends PropertiesChanged for the NULL-terminated property NAMES. */
int manager_emit_changed(Manager *m, const char *name, ...) __attribute__((sentinel));
