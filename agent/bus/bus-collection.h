/* A collection of same-typed objects under one path prefix (VMs, jobs, ...) */
#pragma once

#include <systemd/sd-bus.h>

/* Serves INTERFACE on every object below PREFIX that FIND resolves, and lets
 * ENUMERATOR list them (introspection, ObjectManager). Logs and returns
 * -errno on failure. */
int bus_add_collection(sd_bus *bus, const char *prefix, const char *interface, const sd_bus_vtable *vtable,
                       sd_bus_object_find_t find, sd_bus_node_enumerator_t enumerator, void *userdata);
