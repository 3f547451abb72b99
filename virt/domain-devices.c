/* Changes to a defined domain: devices, memory, vCPUs and the spec kept in its metadata */
#include "domain-devices.h"

#include <errno.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

#include "libvirt-error.h"
#include "macro.h"
#include "virt-cleanup.h"
#include "vm-info.h"

void domain_change_done(DomainChange *c) {
        free(c->key);
        free(c->device_xml);
        free(c->spec);
        *c = (DomainChange) {};
}

static unsigned affect(const DomainChange *c) {
        return (c->live ? VIR_DOMAIN_AFFECT_LIVE : 0) | (c->config ? VIR_DOMAIN_AFFECT_CONFIG : 0);
}

static xmlNodePtr child(xmlNodePtr parent, const char *name) {
        for (xmlNodePtr n = parent ? parent->children : NULL; n; n = n->next)
                if (n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST name))
                        return n;
        return NULL;
}

static bool attr_is(xmlNodePtr n, const char *name, const char *value) {
        xmlChar *v = n ? xmlGetProp(n, BAD_CAST name) : NULL;
        bool r = v && strcasecmp((const char *) v, value) == 0;

        xmlFree(v);
        return r;
}

static xmlNodePtr find_device(xmlNodePtr devices, bool nic, const char *key) {
        for (xmlNodePtr d = devices ? devices->children : NULL; d; d = d->next) {
                if (d->type != XML_ELEMENT_NODE)
                        continue;
                if (nic && xmlStrEqual(d->name, BAD_CAST "interface") && attr_is(child(d, "mac"), "address", key))
                        return d;
                if (!nic && xmlStrEqual(d->name, BAD_CAST "disk") && attr_is(child(d, "target"), "dev", key))
                        return d;
        }
        return NULL;
}

int domain_device_find(const char *domain_xml, bool nic, const char *key, char **ret_xml, char **ret_alias) {
        xmlDocPtr doc = xmlReadMemory(domain_xml, (int) strlen(domain_xml), "domain.xml", NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        xmlNodePtr dev;
        xmlBufferPtr buf;
        xmlChar *alias;
        int r = 0;

        if (!doc)
                return -EBADMSG;
        dev = find_device(child(xmlDocGetRootElement(doc), "devices"), nic, key);
        if (!dev) {
                xmlFreeDoc(doc);
                return -ENOENT;
        }
        buf = xmlBufferCreate();
        if (!buf || xmlNodeDump(buf, doc, dev, 0, 0) < 0 || !(*ret_xml = strdup((const char *) xmlBufferContent(buf))))
                r = -ENOMEM;
        xmlBufferFree(buf);
        if (r >= 0 && ret_alias) {
                alias = xmlGetProp(child(dev, "alias"), BAD_CAST "name");
                *ret_alias = alias ? strdup((const char *) alias) : NULL;
                xmlFree(alias);
        }
        xmlFreeDoc(doc);
        return r;
}

int domain_spec_metadata_xml(const char *spec, char **ret_xml) {
        xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
        xmlNodePtr vm;
        xmlBufferPtr buf;
        int r = 0;

        if (!doc)
                return -ENOMEM;
        vm = xmlNewNode(NULL, BAD_CAST "vm");
        xmlDocSetRootElement(doc, vm);
        xmlNewTextChild(vm, NULL, BAD_CAST "spec", BAD_CAST spec);
        buf = xmlBufferCreate();
        if (!buf || xmlNodeDump(buf, doc, vm, 0, 0) < 0 || !(*ret_xml = strdup((const char *) xmlBufferContent(buf))))
                r = -ENOMEM;
        xmlBufferFree(buf);
        xmlFreeDoc(doc);
        return r;
}

/* The definition: the device element as it is there. The guest: asked by
 * alias, which does not wait (libvirt's plain detach waits 5 s and then
 * answers as if it were done). */
static int detach(virDomainPtr dom, const DomainChange *c) {
        _cleanup_(freep) char *xml = NULL, *device = NULL, *alias = NULL;
        int r;

        if (c->config) {
                xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
                if (!xml)
                        return -1;
                r = domain_device_find(xml, c->nic, c->key, &device, NULL);
                if (r < 0)
                        return r;
                if (virDomainDetachDeviceFlags(dom, device, VIR_DOMAIN_AFFECT_CONFIG) < 0)
                        return -1;
                xml = mfree(xml);
        }
        if (c->live) {
                xml = virDomainGetXMLDesc(dom, 0);
                if (!xml)
                        return -1;
                r = domain_device_find(xml, c->nic, c->key, &device, &alias);
                if (r < 0)
                        return r;
                if (!alias)
                        return -ENOENT;
                if (virDomainDetachDeviceAlias(dom, alias, VIR_DOMAIN_AFFECT_LIVE) < 0)
                        return -1;
        }
        return 0;
}

static int set_spec(virDomainPtr dom, const DomainChange *c) {
        _cleanup_(freep) char *xml = NULL;
        int r;

        r = domain_spec_metadata_xml(c->spec, &xml);
        if (r < 0)
                return r;
        return virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, xml, VM_METADATA_KEY, VM_METADATA_NS,
                                    affect(c));
}

static int set_amount_flags(virDomainPtr dom, const DomainChange *c, unsigned flags) {
        if (c->kind == DOMAIN_CHANGE_MEMORY)
                return virDomainSetMemoryFlags(dom, (unsigned long) (c->value * 1024), flags);
        return virDomainSetVcpusFlags(dom, (unsigned) c->value, flags);
}

/* Both at once where the driver can (QEMU); one after the other where it
 * takes only one at a time (the test driver). */
static int set_amount(virDomainPtr dom, const DomainChange *c) {
        if (set_amount_flags(dom, c, affect(c)) == 0)
                return 0;
        if (!c->live || !c->config || virGetLastErrorCode() != VIR_ERR_INVALID_ARG)
                return -1;
        if (set_amount_flags(dom, c, VIR_DOMAIN_AFFECT_CONFIG) < 0)
                return -1;
        return set_amount_flags(dom, c, VIR_DOMAIN_AFFECT_LIVE);
}

/* libvirt's status (-1 with its error set), or a -errno of ours. */
static int run(virDomainPtr dom, const DomainChange *c) {
        switch (c->kind) {
        case DOMAIN_CHANGE_ATTACH:
                return virDomainAttachDeviceFlags(dom, c->device_xml, affect(c));
        case DOMAIN_CHANGE_DETACH:
                return detach(dom, c);
        case DOMAIN_CHANGE_MEMORY:
        case DOMAIN_CHANGE_VCPUS:
                return set_amount(dom, c);
        case DOMAIN_CHANGE_SPEC:
                return set_spec(dom, c);
        case DOMAIN_CHANGE_AUTOSTART:
                return virDomainSetAutostart(dom, (int) c->value);
        case DOMAIN_CHANGE_DEFINE: {
                virDomainPtr d = virDomainDefineXML(virDomainGetConnect(dom), c->device_xml);
                if (!d)
                        return -1;
                virDomainFree(d);
                return 0;
        }
        case DOMAIN_CHANGE_RESTART:
                if (virDomainIsActive(dom) == 1 && virDomainDestroy(dom) < 0)
                        return -1;
                return virDomainCreate(dom);
        default:
                return -EINVAL;
        }
}

int domain_change_apply(virDomainPtr dom, const DomainChange *c, char **ret_error) {
        int r = run(dom, c);

        if (r == -1)
                return libvirt_error_take(ret_error);
        if (r == -ENOENT && ret_error)
                *ret_error = strdup(c->nic ? "the VM has no NIC with that MAC address" : "the VM has no disk at that target");
        return r;
}

int domain_change_apply_uuid(virConnectPtr conn, const char *uuid, const DomainChange *c, char **ret_error) {
        _cleanup_(virDomainFreep) virDomainPtr dom = virDomainLookupByUUIDString(conn, uuid);

        if (!dom)
                return libvirt_error_take(ret_error);
        return domain_change_apply(dom, c, ret_error);
}
