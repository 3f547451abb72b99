/* Making an external snapshot: which disks, where the overlays go, libvirt's call */
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-errno.h"
#include "libvirt-error.h"
#include "macro.h"
#include "snapshot.h"
#include "strv.h"
#include "virt-cleanup.h"
#include "vm-xml.h"

static inline void xmlFreeDocp(xmlDocPtr *p) {
        if (*p)
                xmlFreeDoc(*p);
}

static bool is_element(xmlNodePtr n, const char *name) {
        return n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST name);
}

static bool strv_has(char *const *v, const char *s) {
        for (; v && *v; v++)
                if (streq(*v, s))
                        return true;
        return false;
}

/* A disk an overlay can go on: a writable file disk (not a cdrom, not an NFS URI). */
static bool disk_snapshottable(xmlNodePtr d) {
        _cleanup_(freep) char *type = vm_xml_prop(d, "type"), *device = vm_xml_prop(d, "device");
        _cleanup_(freep) char *file = vm_xml_prop(vm_xml_child(d, "source"), "file");

        return streq_ptr(type, "file") && (!device || streq(device, "disk")) && file && *file &&
               !vm_xml_child(d, "readonly");
}

static int plan_disk(xmlNodePtr d, const char *name, const char *target, SnapshotDisk *ret) {
        ret->target = strdup(target);
        ret->base = vm_xml_prop(vm_xml_child(d, "source"), "file");
        ret->base_format = vm_xml_prop(vm_xml_child(d, "driver"), "type") ?: strdup("raw");
        if (!ret->target || !ret->base || !ret->base_format ||
            asprintf(&ret->overlay, "%s.%s", ret->base, name) < 0) {
                ret->overlay = NULL;
                return -ENOMEM;
        }
        return access(ret->overlay, F_OK) == 0 ? -EEXIST : 0;
}

static int plan_walk(xmlNodePtr devices, const char *name, char *const *targets, SnapshotDisk *disks, size_t *n,
                     char **ret_why) {
        int r;

        for (xmlNodePtr d = devices ? devices->children : NULL; d; d = d->next) {
                _cleanup_(freep) char *target = NULL;

                if (!is_element(d, "disk"))
                        continue;
                target = vm_xml_prop(vm_xml_child(d, "target"), "dev");
                if (!target || (targets && !strv_has(targets, target)))
                        continue;
                if (!disk_snapshottable(d)) {
                        if (!targets)
                                continue;
                        if (asprintf(ret_why, "disks: %s is not a writable file disk; no overlay can go on it",
                                     target) < 0)
                                *ret_why = NULL;
                        return -EINVAL;
                }
                r = plan_disk(d, name, target, &disks[*n]);
                (*n)++;
                if (r == -EEXIST && asprintf(ret_why, "%s: the overlay %s exists already", target,
                                             disks[*n - 1].overlay) < 0)
                        *ret_why = NULL;
                if (r < 0)
                        return r;
        }
        return 0;
}

static int plan_check_targets(char *const *targets, const SnapshotDisk *disks, size_t n, char **ret_why) {
        for (char *const *t = targets; t && *t; t++) {
                bool found = false;

                for (size_t i = 0; i < n && !found; i++)
                        found = streq(disks[i].target, *t);
                if (!found) {
                        if (asprintf(ret_why, "disks: the VM has no disk %s", *t) < 0)
                                *ret_why = NULL;
                        return -EINVAL;
                }
        }
        if (n == 0) {
                *ret_why = strdup("disks: the VM has no writable file disk to snapshot");
                return -EINVAL;
        }
        return 0;
}

int snapshot_plan(const char *domain_xml, const char *name, char *const *targets, SnapshotDisk **ret, size_t *ret_n,
                  char **ret_why) {
        _cleanup_(xmlFreeDocp) xmlDocPtr doc = NULL;
        xmlNodePtr devices;
        SnapshotDisk *disks;
        size_t n = 0, max = 0;
        int r;

        doc = vm_xml_read(domain_xml, "domain.xml");
        devices = doc ? vm_xml_child(xmlDocGetRootElement(doc), "devices") : NULL;
        if (!devices)
                return -EINVAL;
        for (xmlNodePtr d = devices->children; d; d = d->next)
                max += is_element(d, "disk");
        disks = calloc(max + 1, sizeof *disks);
        if (!disks)
                return -ENOMEM;
        r = plan_walk(devices, name, targets, disks, &n, ret_why);
        if (r >= 0)
                r = plan_check_targets(targets, disks, n, ret_why);
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        snapshot_disk_done(&disks[i]);
                free(disks);
                return r;
        }
        *ret = disks;
        *ret_n = n;
        return 0;
}

static const SnapshotDisk *disk_of(const SnapshotDisk *disks, size_t n, const char *target) {
        for (size_t i = 0; i < n; i++)
                if (streq(disks[i].target, target))
                        return &disks[i];
        return NULL;
}

char *snapshot_xml(const char *name, const SnapshotDisk *disks, size_t n, char *const *all_targets,
                   const char *memory_file, bool quiesce) {
        _cleanup_(xmlFreeDocp) xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
        xmlNodePtr root, memory, list;

        if (!doc || !(root = xmlNewNode(NULL, BAD_CAST "domainsnapshot")))
                return NULL;
        xmlDocSetRootElement(doc, root);
        xmlNewTextChild(root, NULL, BAD_CAST "name", BAD_CAST name);
        if (quiesce)
                xmlNewTextChild(root, NULL, BAD_CAST "description", BAD_CAST SNAPSHOT_QUIESCED_MARK);
        memory = xmlNewChild(root, NULL, BAD_CAST "memory", NULL);
        xmlNewProp(memory, BAD_CAST "snapshot", BAD_CAST (memory_file ? "external" : "no"));
        if (memory_file)
                xmlNewProp(memory, BAD_CAST "file", BAD_CAST memory_file);
        list = xmlNewChild(root, NULL, BAD_CAST "disks", NULL);
        for (char *const *t = all_targets; t && *t; t++) {
                const SnapshotDisk *d = disk_of(disks, n, *t);
                xmlNodePtr x = xmlNewChild(list, NULL, BAD_CAST "disk", NULL);

                xmlNewProp(x, BAD_CAST "name", BAD_CAST *t);
                xmlNewProp(x, BAD_CAST "snapshot", BAD_CAST (d ? "external" : "no"));
                if (!d)
                        continue;
                xmlNewProp(x, BAD_CAST "type", BAD_CAST "file");
                xmlNewProp(xmlNewChild(x, NULL, BAD_CAST "driver", NULL), BAD_CAST "type", BAD_CAST "qcow2");
                xmlNewProp(xmlNewChild(x, NULL, BAD_CAST "source", NULL), BAD_CAST "file", BAD_CAST d->overlay);
        }
        return vm_xml_doc_text(doc);
}

/* Every disk target of DOMAIN_XML, NULL-terminated. */
static char **domain_targets(const char *domain_xml) {
        _cleanup_(xmlFreeDocp) xmlDocPtr doc = NULL;
        xmlNodePtr devices;
        char **v;
        size_t n = 0;

        doc = vm_xml_read(domain_xml, "domain.xml");
        devices = doc ? vm_xml_child(xmlDocGetRootElement(doc), "devices") : NULL;
        v = calloc(xmlChildElementCount(devices) + 1, sizeof *v);
        for (xmlNodePtr d = devices ? devices->children : NULL; v && d; d = d->next) {
                char *t = is_element(d, "disk") ? vm_xml_prop(vm_xml_child(d, "target"), "dev") : NULL;

                if (t)
                        v[n++] = t;
        }
        return v;
}

static int agent_state(const char *domain_xml, bool *ret) {
        _cleanup_(xmlFreeDocp) xmlDocPtr doc = NULL;
        xmlNodePtr devices;

        doc = vm_xml_read(domain_xml, "domain.xml");
        devices = doc ? vm_xml_child(xmlDocGetRootElement(doc), "devices") : NULL;
        if (!devices)
                return -EINVAL;
        *ret = false;
        for (xmlNodePtr c = devices->children; c; c = c->next) {
                _cleanup_(freep) char *name = NULL, *state = NULL;

                if (!is_element(c, "channel"))
                        continue;
                name = vm_xml_prop(vm_xml_child(c, "target"), "name");
                state = vm_xml_prop(vm_xml_child(c, "target"), "state");
                if (streq_ptr(name, "org.qemu.guest_agent.0") && streq_ptr(state, "connected"))
                        *ret = true;
        }
        return 0;
}

int snapshot_guest_agent_connected(virConnectPtr conn, const char *uuid, bool *ret, char **ret_error) {
        _cleanup_(virDomainFreep) virDomainPtr dom = virDomainLookupByUUIDString(conn, uuid);
        _cleanup_(freep) char *xml = NULL;

        if (!dom || !(xml = virDomainGetXMLDesc(dom, 0)))
                return libvirt_error_take(ret_error);
        return agent_state(xml, ret);
}

static int create_call(virDomainPtr dom, const SnapshotRequest *req, const char *xml, char **ret_error) {
        unsigned flags = VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC;
        virDomainSnapshotPtr snap;
        int r;

        flags |= req->memory ? VIR_DOMAIN_SNAPSHOT_CREATE_LIVE : VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY;
        if (req->quiesce)
                flags |= VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE;
        snap = virDomainSnapshotCreateXML(dom, xml, flags);
        if (snap) {
                (void) virDomainSnapshotFree(snap);
                return 0;
        }
        r = libvirt_error_take(ret_error);
        /* libvirt thaws what it froze when it fails after the freeze; a thaw
         * more is harmless and covers a failure between the two. */
        if (req->quiesce && virDomainFSThaw(dom, NULL, 0, 0) < 0)
                virResetLastError();
        return r;
}

static int snapshot_exists(virDomainPtr dom, const char *name) {
        virDomainSnapshotPtr s = virDomainSnapshotLookupByName(dom, name, 0);

        if (!s) {
                virResetLastError();
                return 0;
        }
        (void) virDomainSnapshotFree(s);
        return -EEXIST;
}

/* The checks both share, on DOMAIN_XML as read now. */
static int create_check(virDomainPtr dom, const char *domain_xml, const SnapshotRequest *req, SnapshotDisk **ret_disks,
                        size_t *ret_n, char **ret_error) {
        bool connected;
        int r;

        r = snapshot_exists(dom, req->name);
        if (r < 0)
                return r;
        if (req->quiesce && (agent_state(domain_xml, &connected) < 0 || !connected)) {
                *ret_error = strdup("quiesce: the VM's guest agent is not connected");
                return -ERRNO_NO_GUEST_AGENT;
        }
        return snapshot_plan(domain_xml, req->name, req->targets, ret_disks, ret_n, ret_error);
}

int snapshot_check(virConnectPtr conn, const char *uuid, const SnapshotRequest *req, SnapshotDisk **ret_disks,
                   size_t *ret_n, char **ret_error) {
        _cleanup_(virDomainFreep) virDomainPtr dom = virDomainLookupByUUIDString(conn, uuid);
        _cleanup_(freep) char *domain_xml = NULL;

        if (!dom || !(domain_xml = virDomainGetXMLDesc(dom, 0)))
                return libvirt_error_take(ret_error);
        return create_check(dom, domain_xml, req, ret_disks, ret_n, ret_error);
}

int snapshot_create(virConnectPtr conn, const char *uuid, const SnapshotRequest *req, SnapshotDisk **ret_disks,
                    size_t *ret_n, char **ret_error) {
        _cleanup_(virDomainFreep) virDomainPtr dom = virDomainLookupByUUIDString(conn, uuid);
        _cleanup_(freep) char *domain_xml = NULL, *xml = NULL;
        _cleanup_(strv_freep) char **targets = NULL;
        SnapshotDisk *disks = NULL;
        size_t n = 0;
        int r;

        if (!dom || !(domain_xml = virDomainGetXMLDesc(dom, 0)))
                return libvirt_error_take(ret_error);
        r = create_check(dom, domain_xml, req, &disks, &n, ret_error);
        if (r < 0)
                return r;
        targets = domain_targets(domain_xml);
        xml = targets ? snapshot_xml(req->name, disks, n, targets, req->memory ? req->memory_file : NULL,
                                     req->quiesce) : NULL;
        r = xml ? create_call(dom, req, xml, ret_error) : -ENOMEM;
        if (r >= 0 && ret_disks) {
                *ret_disks = disks;
                *ret_n = n;
                return 0;
        }
        for (size_t i = 0; i < n; i++)
                snapshot_disk_done(&disks[i]);
        free(disks);
        return r;
}

int snapshot_forget(virConnectPtr conn, const char *uuid, const char *name, char **ret_error) {
        _cleanup_(virDomainFreep) virDomainPtr dom = virDomainLookupByUUIDString(conn, uuid);
        virDomainSnapshotPtr snap;
        int r = 0;

        if (!dom)
                return libvirt_error_take(ret_error);
        snap = virDomainSnapshotLookupByName(dom, name, 0);
        if (!snap)
                return libvirt_error_take(ret_error);
        if (virDomainSnapshotDelete(snap, VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY) < 0)
                r = libvirt_error_take(ret_error);
        (void) virDomainSnapshotFree(snap);
        return r;
}
