/* --bus-introspect: the XML of our vtables, exactly as the bus would serve it */
#pragma once

/* WHAT is "list" (print the interface names) or an interface name (print
 * its XML). Returns 0, or -errno after printing why to stderr. */
int bus_introspect_print(const char *what);
