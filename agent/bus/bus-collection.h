/* Collections of same-typed objects under a path prefix (VMs, jobs, ...), and the ObjectManager listing them */
#pragma once

#include <systemd/sd-bus.h>

/* Serves INTERFACE on every object below PREFIX that FIND resolves, and lets
 * ENUMERATOR list them (introspection, ObjectManager). Logs and returns
 * -errno on failure. */
int bus_add_collection(sd_bus *bus, const char *prefix, const char *interface, const sd_bus_vtable *vtable,
                       sd_bus_object_find_t find, sd_bus_node_enumerator_t enumerator, void *userdata);
/* The same for a collection whose every property change is announced
 * (PROPERTY_CONST or EMITS_CHANGE, and bus_collection_changed() called with
 * each announcement): GetManagedObjects keeps its objects' entries ready
 * between changes. */
int bus_add_cached_collection(sd_bus *bus, const char *prefix, const char *interface, const sd_bus_vtable *vtable,
                              sd_bus_object_find_t find, sd_bus_node_enumerator_t enumerator, void *userdata);
/* More properties and methods of a collection's INTERFACE (a second vtable),
 * registered with the collection's find and userdata: GetManagedObjects
 * lists them with the first vtable's. */
int bus_add_collection_vtable(sd_bus *bus, const char *prefix, const char *interface, const sd_bus_vtable *vtable);
/* A second interface on objects below PREFIX, listed by another
 * collection's enumerator. */
int bus_add_collection_interface(sd_bus *bus, const char *prefix, const char *interface, const sd_bus_vtable *vtable,
                                 sd_bus_object_find_t find, void *userdata);

/* The ObjectManager at PATH: GetManagedObjects answered from the
 * collections above (entries of cached collections kept between changes),
 * org.freedesktop.DBus.ObjectManager and its signals as sd-bus serves them. */
int bus_add_object_manager(sd_bus *bus, const char *path);
/* The object at PATH of a cached collection changed (its entry is built
 * again when next asked for), came, or went. */
void bus_collection_changed(const char *path);
void bus_collection_added(const char *path);
void bus_collection_removed(const char *path);
