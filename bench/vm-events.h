/* Event latency side by side: libvirt in-process, libvirt-dbus, hostagentd */
#pragma once

/* N pauses and resumes of DOMAIN (running) at URI, made by a libvirt client
 * of its own; prints, for each, when libvirt's in-process callback,
 * libvirt-dbus's DomainEvent (for its LV_PATH) and hostagentd's
 * PropertiesChanged and StateChanged (for HA_PATH) arrived, and each one's
 * difference to libvirt's callback. 0, or -1 when a round failed. */
int events_side_by_side(const char *uri, const char *domain, const char *ha_path, const char *lv_path, unsigned n);
