/* Changes to a defined domain: devices, memory, vCPUs and the spec kept in its metadata. Worker threads only. */
#pragma once

#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum DomainChangeKind {
        DOMAIN_CHANGE_ATTACH,          /* DEVICE_XML, live and/or to the definition */
        DOMAIN_CHANGE_DETACH,          /* the device KEY names: from the definition, and the guest asked to let go */
        DOMAIN_CHANGE_MEMORY,          /* VALUE MiB: the balloon's target */
        DOMAIN_CHANGE_VCPUS,           /* VALUE vCPUs online */
        DOMAIN_CHANGE_SPEC,            /* SPEC into the agent's metadata */
        DOMAIN_CHANGE_AUTOSTART,       /* VALUE 0 or 1 */
        DOMAIN_CHANGE_DEFINE,          /* DEVICE_XML is the whole new definition (what only a restart applies) */
        DOMAIN_CHANGE_RESTART,         /* off and on again: the definition becomes the running VM */
        _DOMAIN_CHANGE_MAX,
        _DOMAIN_CHANGE_INVALID = -22,
} DomainChangeKind;

typedef struct DomainChange {
        DomainChangeKind kind;
        bool live;             /* to the running domain */
        bool config;           /* to its persistent definition */
        bool nic;              /* the device is an <interface> (KEY its MAC), else a <disk> (KEY its target) */
        char *key;
        char *device_xml;
        char *spec;            /* the spec JSON */
        uint64_t value;
} DomainChange;

void domain_change_done(DomainChange *c);

/* Makes the change C to DOM. A live detach only asks the guest (libvirt's
 * device-removed event says when it let go): -ENOENT when DOM has no such
 * device. Returns 0 or the -errno of libvirt_error_take(), RET_ERROR set. */
int domain_change_apply(virDomainPtr dom, const DomainChange *c, char **ret_error);

/* The same on the domain UUID. */
int domain_change_apply_uuid(virConnectPtr conn, const char *uuid, const DomainChange *c, char **ret_error);

/* The <disk> (by target) or <interface> (by MAC) element of DOMAIN_XML
 * alone, and its alias; -ENOENT when there is none. Exposed for tests. */
int domain_device_find(const char *domain_xml, bool nic, const char *key, char **ret_xml, char **ret_alias);

/* The <metadata> element content that holds SPEC (escaped). Exposed for tests. */
int domain_spec_metadata_xml(const char *spec, char **ret_xml);
