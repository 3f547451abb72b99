/* VM.Autostart writes: Properties.Set answered after libvirt, not before */
#pragma once

#include <systemd/sd-bus.h>

/* An sd-bus filter: takes Properties.Set of org.hostagent1.VM.Autostart,
 * which needs a libvirt call, off the synchronous property-setter path. */
int vm_autostart_filter(sd_bus_message *m, void *userdata, sd_bus_error *ret_error);

/* The vtable's setter: only reached if the filter did not take the call. */
int vm_autostart_set_refused(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *value, void *userdata, sd_bus_error *error);
