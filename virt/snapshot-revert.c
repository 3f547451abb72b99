/* Reverting to an external snapshot, which libvirt 9.0 cannot: fresh overlays on the snapshot's bases, the RAM state restored */
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent-errno.h"
#include "block-job.h"
#include "command.h"
#include "libvirt-error.h"
#include "macro.h"
#include "snapshot.h"
#include "virt-cleanup.h"
#include "vm-xml.h"

#define REVERT_COMMAND_TIMEOUT_USEC (120ULL * 1000 * 1000)

static inline void xmlFreeDocp(xmlDocPtr *p) {
        if (*p)
                xmlFreeDoc(*p);
}

/* Each disk of S must run on S's overlay: a later snapshot's overlay on top would lose its base. */
static int revert_check(virDomainPtr dom, const SnapshotInfo *s, char **ret_error) {
        _cleanup_(freep) char *xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
        _cleanup_(xmlFreeDocp) xmlDocPtr doc = xml ? vm_xml_read(xml, "domain.xml") : NULL;

        if (!xml)
                return libvirt_error_take(ret_error);
        for (size_t i = 0; i < s->n_disks; i++) {
                xmlNodePtr d = vm_xml_disk_by_target(doc, s->disks[i].target);
                _cleanup_(freep) char *source = d ? vm_xml_prop(vm_xml_child(d, "source"), "file") : NULL;

                if (streq_ptr(source, s->disks[i].overlay))
                        continue;
                if (asprintf(ret_error, "disk %s runs on %s, not on the snapshot's overlay: a later snapshot builds on "
                             "it (delete that first)", s->disks[i].target, source ? source : "nothing") < 0)
                        *ret_error = NULL;
                return -ERRNO_INVALID_STATE;
        }
        return 0;
}

/* The overlay made afresh, empty, on the file below it now (the recorded base
 * is gone when a merge below took it away). */
static int overlay_renew(const SnapshotDisk *d, char **ret_error) {
        _cleanup_(freep) char *base = NULL, *format = NULL;
        int r;

        r = block_backing_of(d->overlay, &base, &format, ret_error);
        if (r < 0)
                return r;
        return command_run_simple((char *[]) { (char *) "qemu-img", (char *) "create", (char *) "-q", (char *) "-f",
                                               (char *) "qcow2", (char *) "-b", base, (char *) "-F", format,
                                               d->overlay, NULL },
                                  REVERT_COMMAND_TIMEOUT_USEC, NULL, ret_error);
}

/* The domain XML kept in the RAM state, with the snapshot's disks on their overlays. */
static char *restore_xml(virConnectPtr conn, const SnapshotInfo *s, char **ret_error) {
        _cleanup_(freep) char *xml = virDomainSaveImageGetXMLDesc(conn, s->memory_file, VIR_DOMAIN_XML_SECURE);
        _cleanup_(xmlFreeDocp) xmlDocPtr doc = xml ? vm_xml_read(xml, "domain.xml") : NULL;

        if (!xml) {
                (void) libvirt_error_take(ret_error);
                return NULL;
        }
        for (size_t i = 0; doc && i < s->n_disks; i++) {
                xmlNodePtr d = vm_xml_disk_by_target(doc, s->disks[i].target), b;

                if (!d || !vm_xml_child(d, "source"))
                        continue;
                xmlSetProp(vm_xml_child(d, "source"), BAD_CAST "file", BAD_CAST s->disks[i].overlay);
                if (vm_xml_child(d, "driver"))
                        xmlSetProp(vm_xml_child(d, "driver"), BAD_CAST "type", BAD_CAST "qcow2");
                while ((b = vm_xml_child(d, "backingStore"))) {
                        xmlUnlinkNode(b);
                        xmlFreeNode(b);
                }
        }
        return doc ? vm_xml_doc_text(doc) : NULL;
}

static int revert_memory(virConnectPtr conn, virDomainPtr dom, const SnapshotInfo *s, char **ret_error) {
        _cleanup_(freep) char *xml = NULL;
        unsigned flags = streq(s->state, "paused") ? VIR_DOMAIN_SAVE_PAUSED : VIR_DOMAIN_SAVE_RUNNING;

        xml = restore_xml(conn, s, ret_error);
        if (!xml)
                return *ret_error ? -EIO : -ENOMEM;
        if (virDomainRestoreFlags(conn, s->memory_file, xml, flags) < 0)
                return libvirt_error_take(ret_error);
        return 0;
}

static int revert_read(virDomainPtr dom, const char *name, SnapshotInfo *ret, char **ret_error) {
        virDomainSnapshotPtr snap = virDomainSnapshotLookupByName(dom, name, 0);
        _cleanup_(freep) char *xml = NULL;

        if (!snap)
                return libvirt_error_take(ret_error);
        xml = virDomainSnapshotGetXMLDesc(snap, VIR_DOMAIN_SNAPSHOT_XML_SECURE);
        (void) virDomainSnapshotFree(snap);
        if (!xml)
                return libvirt_error_take(ret_error);
        return snapshot_parse_xml(xml, ret);
}

int snapshot_revert(virConnectPtr conn, const char *uuid, const char *name, char **ret_error) {
        _cleanup_(virDomainFreep) virDomainPtr dom = virDomainLookupByUUIDString(conn, uuid);
        SnapshotInfo s = {};
        int active, r;

        if (!dom)
                return libvirt_error_take(ret_error);
        r = revert_read(dom, name, &s, ret_error);
        if (r < 0)
                return r;
        if (s.internal) {   /* it has no overlays to renew: nothing would go back */
                *ret_error = strdup("it is kept inside the disk images (an internal snapshot); nothing was changed");
                snapshot_info_done(&s);
                return -EOPNOTSUPP;
        }
        active = virDomainIsActive(dom);
        if (active < 0)
                r = libvirt_error_take(ret_error);
        else if (active && !s.memory_file) {
                *ret_error = strdup("the VM runs: shut it off first (the snapshot has no RAM state to go back to)");
                r = -ERRNO_INVALID_STATE;
        }
        if (r >= 0)
                r = revert_check(dom, &s, ret_error);
        /* The RAM state replaces the running guest: it goes first. */
        if (r >= 0 && active && virDomainDestroy(dom) < 0)
                r = libvirt_error_take(ret_error);
        for (size_t i = 0; r >= 0 && i < s.n_disks; i++)
                r = overlay_renew(&s.disks[i], ret_error);
        if (r >= 0 && s.memory_file)
                r = revert_memory(conn, dom, &s, ret_error);
        snapshot_info_done(&s);
        return r;
}
