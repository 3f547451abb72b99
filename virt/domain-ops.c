/* Operations on one libvirt domain, found by its UUID: for worker threads only */
#include "domain-ops.h"

#include <errno.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

#include "libvirt-error.h"
#include "macro.h"
#include "virt-cleanup.h"

static int domain_undefine(virDomainPtr dom) {
        /* Leave nothing behind that would block defining the name again. */
        unsigned flags = VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
                         VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA | VIR_DOMAIN_UNDEFINE_NVRAM;

        if (virDomainUndefineFlags(dom, flags) == 0)
                return 0;
        /* Drivers without those flags (the test driver) take the plain call. */
        if (virGetLastErrorCode() != VIR_ERR_NO_SUPPORT && virGetLastErrorCode() != VIR_ERR_INVALID_ARG)
                return -1;
        return virDomainUndefine(dom);
}

/* libvirt's status: 0, or -1 with its error set. */
static int domain_run_action(virDomainPtr dom, DomainAction action) {
        switch (action) {
        case DOMAIN_ACTION_START:    return virDomainCreate(dom);
        case DOMAIN_ACTION_DESTROY:  return virDomainDestroy(dom);
        case DOMAIN_ACTION_PAUSE:    return virDomainSuspend(dom);
        case DOMAIN_ACTION_RESUME:   return virDomainResume(dom);
        case DOMAIN_ACTION_REBOOT:   return virDomainReboot(dom, 0);
        case DOMAIN_ACTION_RESET:    return virDomainReset(dom, 0);
        case DOMAIN_ACTION_UNDEFINE: return domain_undefine(dom);
        case DOMAIN_ACTION_SHUTDOWN: return virDomainShutdown(dom);
        default:                     return 0;   /* refused before the lookup */
        }
}

int domain_action(virConnectPtr conn, const char *uuid, DomainAction action, char **ret_error) {
        _cleanup_(virDomainFreep) virDomainPtr dom = NULL;

        if (action < 0 || action >= _DOMAIN_ACTION_MAX)
                return -EINVAL;
        dom = virDomainLookupByUUIDString(conn, uuid);
        if (!dom)
                return libvirt_error_take(ret_error);
        return domain_run_action(dom, action) < 0 ? libvirt_error_take(ret_error) : 0;
}

int domain_set_autostart(virConnectPtr conn, const char *uuid, bool autostart, char **ret_error) {
        _cleanup_(virDomainFreep) virDomainPtr dom = virDomainLookupByUUIDString(conn, uuid);

        if (!dom)
                return libvirt_error_take(ret_error);
        return virDomainSetAutostart(dom, autostart) < 0 ? libvirt_error_take(ret_error) : 0;
}

int domain_console_ticket_xml(const char *domain_xml, const char *password, const char *valid_to,
                              char **ret_type, char **ret_device_xml) {
        xmlDocPtr doc = xmlReadMemory(domain_xml, (int) strlen(domain_xml), "domain.xml", NULL,
                                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL, devices = NULL, g = NULL;
        xmlBufferPtr buf;
        xmlChar *type;
        int r = -ENOENT;

        for (xmlNodePtr n = root ? root->children : NULL; n && !devices; n = n->next)
                if (n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST "devices"))
                        devices = n;
        for (xmlNodePtr n = devices ? devices->children : NULL; n && !g; n = n->next)
                if (n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST "graphics"))
                        g = n;
        if (!g)
                goto out;
        type = xmlGetProp(g, BAD_CAST "type");
        *ret_type = strdup(type ? (const char *) type : "");
        /* VNC cannot drop clients on a password change; SPICE can, and should. */
        xmlSetProp(g, BAD_CAST "connected",
                   BAD_CAST (type && xmlStrEqual(type, BAD_CAST "vnc") ? "keep" : "disconnect"));
        xmlFree(type);
        xmlSetProp(g, BAD_CAST "passwd", BAD_CAST password);
        xmlSetProp(g, BAD_CAST "passwdValidTo", BAD_CAST valid_to);
        buf = xmlBufferCreate();
        xmlNodeDump(buf, doc, g, 0, 0);
        *ret_device_xml = strdup((const char *) xmlBufferContent(buf));
        xmlBufferFree(buf);
        r = *ret_device_xml && *ret_type ? 0 : -ENOMEM;
out:
        xmlFreeDoc(doc);
        return r;
}

/* What libvirt collects: everything a manager graphs, in one call. */
#define DOMAIN_STATS_GROUPS (VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL | VIR_DOMAIN_STATS_BALLOON | \
                             VIR_DOMAIN_STATS_VCPU | VIR_DOMAIN_STATS_INTERFACE | VIR_DOMAIN_STATS_BLOCK)

int domain_stats_read(virConnectPtr conn, const char *uuid, virDomainStatsRecordPtr **ret_records, char **ret_error) {
        virDomainPtr doms[2] = {};
        int n;

        if (!uuid)
                n = virConnectGetAllDomainStats(conn, DOMAIN_STATS_GROUPS, ret_records,
                                                VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT);
        else {
                doms[0] = virDomainLookupByUUIDString(conn, uuid);
                if (!doms[0])
                        return libvirt_error_take(ret_error);
                n = virDomainListGetStats(doms, DOMAIN_STATS_GROUPS, ret_records,
                                          VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT);
                virDomainFreep(&doms[0]);
        }
        return n < 0 ? libvirt_error_take(ret_error) : n;
}

static virDomainPtr define_xml(virConnectPtr conn, const char *xml) {
        virDomainPtr dom = virDomainDefineXMLFlags(conn, xml, VIR_DOMAIN_DEFINE_VALIDATE);

        /* Drivers without schema validation (the test driver) take it plain. */
        if (!dom && virGetLastErrorCode() == VIR_ERR_NO_SUPPORT)
                dom = virDomainDefineXML(conn, xml);
        return dom;
}

/* libvirt's own parser or schema refused the definition. */
static bool define_error_is_input(int code) {
        return code == VIR_ERR_XML_ERROR || code == VIR_ERR_XML_DETAIL || code == VIR_ERR_CONFIG_UNSUPPORTED ||
               code == VIR_ERR_XML_INVALID_SCHEMA || code == VIR_ERR_INVALID_ARG;
}

int domain_define(virConnectPtr conn, const char *xml, bool autostart, bool start, VmInfo *ret_info,
                  bool *ret_input_error, char **ret_error) {
        _cleanup_(virDomainFreep) virDomainPtr dom = define_xml(conn, xml);
        int r;

        if (!dom) {
                *ret_input_error = define_error_is_input(virGetLastErrorCode());
                return libvirt_error_take(ret_error);
        }
        *ret_input_error = false;
        if ((autostart && virDomainSetAutostart(dom, 1) < 0) || (start && virDomainCreate(dom) < 0)) {
                r = libvirt_error_take(ret_error);
                (void) virDomainUndefine(dom);
                virResetLastError();
                return r;
        }
        return vm_info_read(dom, ret_info, ret_error);
}

/* The device XML carries the password: it is wiped before it is freed. */
static int domain_apply_ticket(virDomainPtr dom, const char *password, const char *valid_to, size_t vnc_max,
                               char **ret_error) {
        _cleanup_(freep) char *xml = NULL, *type = NULL;
        _cleanup_(erase_and_freep) char *device = NULL;
        int r;

        xml = virDomainGetXMLDesc(dom, 0);
        if (!xml)
                return libvirt_error_take(ret_error);
        r = domain_console_ticket_xml(xml, password, valid_to, &type, &device);
        if (r < 0)
                return r == -ENOENT ? -ENODEV : r;
        if (streq(type, "vnc") && strlen(password) > vnc_max)
                return -E2BIG;
        if (virDomainUpdateDeviceFlags(dom, device, VIR_DOMAIN_AFFECT_LIVE) < 0)
                return libvirt_error_take(ret_error);
        return 0;
}

int domain_set_console_ticket(virConnectPtr conn, const char *uuid, const char *password, const char *valid_to,
                              size_t vnc_max, char **ret_error) {
        _cleanup_(virDomainFreep) virDomainPtr dom = virDomainLookupByUUIDString(conn, uuid);

        if (!dom)
                return libvirt_error_take(ret_error);
        return domain_apply_ticket(dom, password, valid_to, vnc_max, ret_error);
}
