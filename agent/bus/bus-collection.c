/* A collection of same-typed objects under one path prefix (VMs, jobs, ...) */
#include "bus-collection.h"

#include "log.h"

int bus_add_collection(sd_bus *bus, const char *prefix, const char *interface, const sd_bus_vtable *vtable,
                       sd_bus_object_find_t find, sd_bus_node_enumerator_t enumerator, void *userdata) {
        int r;

        r = sd_bus_add_fallback_vtable(bus, NULL, prefix, interface, vtable, find, userdata);
        if (r < 0)
                return log_error_errno(r, "Cannot publish %s: %m", interface);
        r = sd_bus_add_node_enumerator(bus, NULL, prefix, enumerator, userdata);
        if (r < 0)
                return log_error_errno(r, "Cannot publish the objects under %s: %m", prefix);
        return 0;
}
