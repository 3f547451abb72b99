/* Operations on one libvirt domain, found by its UUID: for worker threads only */
#pragma once

#include <libvirt/libvirt.h>
#include <stdbool.h>

#include "vm-info.h"

typedef enum DomainAction {
        DOMAIN_ACTION_START,
        DOMAIN_ACTION_DESTROY,
        DOMAIN_ACTION_PAUSE,
        DOMAIN_ACTION_RESUME,
        DOMAIN_ACTION_REBOOT,
        DOMAIN_ACTION_RESET,
        DOMAIN_ACTION_UNDEFINE,
        DOMAIN_ACTION_SHUTDOWN,      /* asks the guest (ACPI) */
        _DOMAIN_ACTION_MAX,
        _DOMAIN_ACTION_INVALID = -22,
} DomainAction;

/* Each returns 0, or the -errno of libvirt_error_take() with RET_ERROR
 * (may be NULL) set to libvirt's own text. */
int domain_action(virConnectPtr conn, const char *uuid, DomainAction action, char **ret_error);
int domain_set_autostart(virConnectPtr conn, const char *uuid, bool autostart, char **ret_error);

/* Defines the domain XML (checked against libvirt's schema where the driver
 * can), then marks it to start with the host and starts it, as asked: all
 * or nothing, a step that fails undefines it again. RET_INFO gets the
 * domain as defined. RET_INPUT_ERROR (set on failure) tells that libvirt
 * refused the definition itself: the caller's input is wrong. */
int domain_define(virConnectPtr conn, const char *xml, bool autostart, bool start, VmInfo *ret_info,
                  bool *ret_input_error, char **ret_error);

/* libvirt's statistics of the domain UUID, or of every domain when UUID is
 * NULL, in one call that does not wait for a VM whose QEMU is busy (a hung
 * NFS disk must not stall the rest). Returns the number of records (free
 * them with virDomainStatsRecordListFree()), or -errno. */
int domain_stats_read(virConnectPtr conn, const char *uuid, virDomainStatsRecordPtr **ret_records, char **ret_error);

/* Sets PASSWORD, refused by the console after VALID_TO (UTC,
 * "YYYY-MM-DDTHH:MM:SS"), on the domain's first graphics console, live.
 * -ENODEV when it has no console; -E2BIG when it is VNC and PASSWORD is
 * longer than VNC_MAX (VNC authentication uses only that many bytes). */
int domain_set_console_ticket(virConnectPtr conn, const char *uuid, const char *password, const char *valid_to,
                              size_t vnc_max, char **ret_error);

/* Sets PASSWORD and VALID_TO on the first <graphics> of DOMAIN_XML and
 * returns that element alone, ready for virDomainUpdateDeviceFlags(), and
 * its type. -ENOENT when there is no console. Exposed for tests. */
int domain_console_ticket_xml(const char *domain_xml, const char *password, const char *valid_to,
                              char **ret_type, char **ret_device_xml);
