/* External disk snapshots of a domain: read from libvirt, planned, made and reverted (worker threads only) */
#include "snapshot.h"

#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-errno.h"
#include "domain-devices.h"
#include "libvirt-error.h"
#include "macro.h"
#include "strv.h"
#include "virt-cleanup.h"
#include "vm-info.h"
#include "vm-spec-edit.h"
#include "vm-xml.h"

static inline void xmlFreeDocp(xmlDocPtr *p) {
        if (*p)
                xmlFreeDoc(*p);
}

static inline void virDomainSnapshotFreep(virDomainSnapshotPtr *p) {
        if (*p)
                (void) virDomainSnapshotFree(*p);
}

void snapshot_disk_done(SnapshotDisk *d) {
        free(d->target);
        free(d->overlay);
        free(d->base);
        free(d->base_format);
        *d = (SnapshotDisk) {};
}

static void disks_free(SnapshotDisk *disks, size_t n) {
        for (size_t i = 0; i < n; i++)
                snapshot_disk_done(&disks[i]);
        free(disks);
}

void snapshot_info_done(SnapshotInfo *s) {
        free(s->name);
        free(s->parent);
        free(s->state);
        free(s->memory_file);
        disks_free(s->disks, s->n_disks);
        *s = (SnapshotInfo) {};
}

void snapshot_info_list_free(SnapshotInfo *list, size_t n) {
        for (size_t i = 0; i < n; i++)
                snapshot_info_done(&list[i]);
        free(list);
}

bool snapshot_name_valid(const char *name) {
        size_t n = strlen(name);

        if (n == 0 || n > SNAPSHOT_NAME_MAX || name[0] == '.' || name[0] == '-')
                return false;
        return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+-") == n;
}

static bool is_element(xmlNodePtr n, const char *name) {
        return n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST name);
}

/* The <disk> of DOMAIN (a <domain> element) with target TARGET, or NULL. */
static xmlNodePtr domain_disk(xmlNodePtr domain, const char *target) {
        for (xmlNodePtr d = vm_xml_child(vm_xml_child(domain, "devices"), "disk"); d; d = d->next) {
                _cleanup_(freep) char *dev = NULL;

                if (!is_element(d, "disk"))
                        continue;
                dev = vm_xml_prop(vm_xml_child(d, "target"), "dev");
                if (streq_ptr(dev, target))
                        return d;
        }
        return NULL;
}

static char *strdup_or_empty(char *s) {
        return s ?: strdup("");
}

/* One <disks><disk snapshot='external'>, its base read from the snapshot's <domain>. */
static int parse_disk(xmlNodePtr d, xmlNodePtr domain, SnapshotDisk *ret, bool *internal) {
        _cleanup_(freep) char *mode = vm_xml_prop(d, "snapshot");
        xmlNodePtr base;

        if (streq_ptr(mode, "internal"))
                *internal = true;
        if (!streq_ptr(mode, "external"))
                return 0;
        ret->target = vm_xml_prop(d, "name");
        ret->overlay = vm_xml_prop(vm_xml_child(d, "source"), "file");
        if (!ret->target || !ret->overlay)
                return -EINVAL;
        base = domain_disk(domain, ret->target);
        ret->base = strdup_or_empty(base ? vm_xml_disk_source(base) : NULL);
        ret->base_format = strdup_or_empty(base ? vm_xml_prop(vm_xml_child(base, "driver"), "type") : NULL);
        return ret->base && ret->base_format ? 1 : -ENOMEM;
}

static int parse_disks(xmlNodePtr disks, xmlNodePtr domain, SnapshotInfo *s) {
        size_t n = 0;
        int r;

        for (xmlNodePtr d = disks ? disks->children : NULL; d; d = d->next)
                n += is_element(d, "disk");
        s->disks = n ? calloc(n, sizeof *s->disks) : NULL;
        if (n && !s->disks)
                return -ENOMEM;
        for (xmlNodePtr d = disks ? disks->children : NULL; d; d = d->next) {
                if (!is_element(d, "disk"))
                        continue;
                r = parse_disk(d, domain, &s->disks[s->n_disks], &s->internal);
                if (r < 0) {
                        snapshot_disk_done(&s->disks[s->n_disks]);
                        return r;
                }
                s->n_disks += r;
        }
        return 0;
}

static int parse_root(xmlNodePtr root, SnapshotInfo *s) {
        _cleanup_(freep) char *created = vm_xml_content(vm_xml_child(root, "creationTime"));
        _cleanup_(freep) char *description = vm_xml_content(vm_xml_child(root, "description"));
        _cleanup_(freep) char *memory = vm_xml_prop(vm_xml_child(root, "memory"), "snapshot");
        xmlNodePtr parent = vm_xml_child(root, "parent");

        s->name = vm_xml_content(vm_xml_child(root, "name"));
        if (!s->name || !*s->name)
                return -EINVAL;
        s->creation_usec = created ? strtoull(created, NULL, 10) * 1000000ULL : 0;
        s->parent = parent ? vm_xml_content(vm_xml_child(parent, "name")) : NULL;
        s->state = strdup_or_empty(vm_xml_content(vm_xml_child(root, "state")));
        s->quiesced = description && strstr(description, SNAPSHOT_QUIESCED_MARK);
        if (streq_ptr(memory, "external"))
                s->memory_file = vm_xml_prop(vm_xml_child(root, "memory"), "file");
        s->internal = streq_ptr(memory, "internal");
        if (!s->state)
                return -ENOMEM;
        return parse_disks(vm_xml_child(root, "disks"), vm_xml_child(root, "domain"), s);
}

int snapshot_parse_xml(const char *xml, SnapshotInfo *ret) {
        _cleanup_(xmlFreeDocp) xmlDocPtr doc = NULL;
        SnapshotInfo s = {};
        xmlNodePtr root;
        int r;

        doc = vm_xml_read(xml, "snapshot.xml");
        root = doc ? xmlDocGetRootElement(doc) : NULL;
        if (!root || !is_element(root, "domainsnapshot"))
                return -EINVAL;
        r = parse_root(root, &s);
        if (r < 0) {
                snapshot_info_done(&s);
                return r;
        }
        *ret = s;
        return 0;
}

static int snapshot_read(virDomainSnapshotPtr snap, SnapshotInfo *ret, char **ret_error) {
        _cleanup_(freep) char *xml = virDomainSnapshotGetXMLDesc(snap, 0);
        int current, r;

        if (!xml)
                return libvirt_error_take(ret_error);
        r = snapshot_parse_xml(xml, ret);
        if (r < 0)
                return r;
        current = virDomainSnapshotIsCurrent(snap, 0);
        if (current < 0)
                virResetLastError();
        ret->current = current > 0;
        return 0;
}

int snapshot_list(virConnectPtr conn, const char *uuid, SnapshotInfo **ret, size_t *ret_n, char **ret_error) {
        _cleanup_(virDomainFreep) virDomainPtr dom = virDomainLookupByUUIDString(conn, uuid);
        virDomainSnapshotPtr *snaps = NULL;
        SnapshotInfo *list;
        size_t n = 0;
        int k, r = 0;

        if (!dom)
                return libvirt_error_take(ret_error);
        k = virDomainListAllSnapshots(dom, &snaps, 0);
        if (k < 0)
                return libvirt_error_take(ret_error);
        list = k ? calloc(k, sizeof *list) : NULL;
        if (k && !list)
                r = -ENOMEM;
        for (int i = 0; i < k; i++) {
                /* One that went meanwhile (deleted by another client) is left out. */
                if (r >= 0 && snapshot_read(snaps[i], &list[n], NULL) >= 0)
                        n++;
                virDomainSnapshotFreep(&snaps[i]);
        }
        free(snaps);
        if (r < 0) {
                snapshot_info_list_free(list, n);
                return r;
        }
        *ret = list;
        *ret_n = n;
        return 0;
}

/* The spec in the domain's metadata, or NULL (none: not the agent's VM). */
static int spec_read(virDomainPtr dom, unsigned affect, char **ret, char **ret_error) {
        _cleanup_(freep) char *xml = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, VM_METADATA_NS, affect);
        _cleanup_(xmlFreeDocp) xmlDocPtr doc = NULL;
        virErrorPtr e;

        *ret = NULL;
        if (!xml) {
                e = virGetLastError();
                if (e && e->code == VIR_ERR_NO_DOMAIN_METADATA) {
                        virResetLastError();
                        return 0;
                }
                return libvirt_error_take(ret_error);
        }
        doc = vm_xml_read(xml, "metadata.xml");
        if (doc && xmlDocGetRootElement(doc))
                *ret = vm_xml_content(vm_xml_child(xmlDocGetRootElement(doc), "spec"));
        return 0;
}

/* Each of DISKS' targets in SPEC named as the domain (DOMAIN_XML) has it now: the overlay after a
 * snapshot, the base after the merge of the active layer, unchanged after an intermediate one. */
static int spec_edit_disks(char **spec, const char *domain_xml, const SnapshotDisk *disks, size_t n) {
        _cleanup_(xmlFreeDocp) xmlDocPtr doc = vm_xml_read(domain_xml, "domain.xml");
        xmlNodePtr domain = doc ? xmlDocGetRootElement(doc) : NULL;

        for (size_t i = 0; domain && i < n; i++) {
                xmlNodePtr d = domain_disk(domain, disks[i].target);
                _cleanup_(freep) char *file = d ? vm_xml_prop(vm_xml_child(d, "source"), "file") : NULL;
                _cleanup_(freep) char *format = d ? vm_xml_prop(vm_xml_child(d, "driver"), "type") : NULL;
                VmSpecDisk now = { .path = file, .format = format ?: "raw" };
                char *edited = NULL;
                int r;

                if (!file)
                        continue;
                r = vm_spec_edit(*spec, &(VmSpecEdit) { .kind = VM_SPEC_EDIT_DISK_FILE, .key = disks[i].target,
                                                        .disk = &now }, &edited);
                if (r == -ENOENT)
                        continue;   /* a disk the spec does not name */
                if (r < 0)
                        return r;
                free(*spec);
                *spec = edited;
        }
        return 0;
}

int snapshot_spec_follow(virConnectPtr conn, const char *uuid, const SnapshotDisk *disks, size_t n,
                         char **ret_error) {
        _cleanup_(virDomainFreep) virDomainPtr dom = virDomainLookupByUUIDString(conn, uuid);
        _cleanup_(freep) char *spec = NULL, *xml = NULL;
        int active, persistent, r;
        DomainChange change = { .kind = DOMAIN_CHANGE_SPEC };

        if (!dom)
                return libvirt_error_take(ret_error);
        active = virDomainIsActive(dom);
        persistent = virDomainIsPersistent(dom);
        if (active < 0 || persistent < 0)
                return libvirt_error_take(ret_error);
        r = spec_read(dom, persistent ? VIR_DOMAIN_AFFECT_CONFIG : VIR_DOMAIN_AFFECT_LIVE, &spec, ret_error);
        if (r < 0 || !spec)
                return r;
        xml = virDomainGetXMLDesc(dom, persistent ? VIR_DOMAIN_XML_INACTIVE : 0);
        if (!xml)
                return libvirt_error_take(ret_error);
        r = spec_edit_disks(&spec, xml, disks, n);
        if (r < 0)
                return r;
        change.live = active;
        change.config = persistent;
        change.spec = spec;
        return domain_change_apply(dom, &change, ret_error);
}
