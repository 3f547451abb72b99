/* Block commit jobs: a snapshot's overlay merged into its base, live (libvirt's block job) or offline (qemu-img) */
#include "block-job.h"

#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "command.h"
#include "libvirt-error.h"
#include "macro.h"
#include "qemu-img.h"
#include "virt-cleanup.h"
#include "vm-xml.h"

#define BLOCK_COMMAND_TIMEOUT_USEC (3600ULL * 1000 * 1000)   /* an offline commit of a large image */
#define BLOCK_CHAIN_MAX 64

static inline void xmlFreeDocp(xmlDocPtr *p) {
        if (*p)
                xmlFreeDoc(*p);
}

int block_chain_position(const char *domain_xml, const char *target, const char *file, bool *ret_ready) {
        _cleanup_(xmlFreeDocp) xmlDocPtr doc = vm_xml_read(domain_xml, "domain.xml");
        xmlNodePtr disk = vm_xml_disk_by_target(doc, target), layer = disk;
        _cleanup_(freep) char *ready = vm_xml_prop(vm_xml_child(disk, "mirror"), "ready");

        if (!disk)
                return -ENODEV;
        if (ret_ready)
                *ret_ready = streq_ptr(ready, "yes");
        for (int depth = 0; layer && depth < BLOCK_CHAIN_MAX; depth++) {
                _cleanup_(freep) char *source = vm_xml_prop(vm_xml_child(layer, "source"), "file");

                if (streq_ptr(source, file))
                        return depth;
                layer = vm_xml_child(layer, "backingStore");
        }
        return -ENOENT;
}

unsigned block_job_percent(const BlockJobState *s) {
        if (s->end == 0)
                return 0;
        return s->cur >= s->end ? 100 : (unsigned) (s->cur * 100 / s->end);
}

int block_commit_start(virConnectPtr conn, const char *uuid, const char *target, const char *top, bool active,
                       uint64_t bandwidth_bytes, char **ret_error) {
        _cleanup_(virDomainFreep) virDomainPtr dom = virDomainLookupByUUIDString(conn, uuid);
        unsigned flags = VIR_DOMAIN_BLOCK_COMMIT_SHALLOW;   /* into the file right below TOP */

        if (!dom)
                return libvirt_error_take(ret_error);
        if (active)
                flags |= VIR_DOMAIN_BLOCK_COMMIT_ACTIVE;
        if (bandwidth_bytes)
                flags |= VIR_DOMAIN_BLOCK_COMMIT_BANDWIDTH_BYTES;
        if (virDomainBlockCommit(dom, target, NULL, active ? NULL : top, bandwidth_bytes, flags) < 0)
                return libvirt_error_take(ret_error);
        return 0;
}

int block_job_read(virConnectPtr conn, const char *uuid, const char *target, const char *file, BlockJobState *ret,
                   int *ret_position, char **ret_error) {
        _cleanup_(virDomainFreep) virDomainPtr dom = virDomainLookupByUUIDString(conn, uuid);
        _cleanup_(freep) char *xml = NULL;
        virDomainBlockJobInfo info = {};
        BlockJobState s = {};
        int k;

        if (!dom)
                return libvirt_error_take(ret_error);
        k = virDomainGetBlockJobInfo(dom, target, &info, 0);
        if (k < 0)
                return libvirt_error_take(ret_error);
        s.active = k > 0;
        s.cur = info.cur;
        s.end = info.end;
        xml = virDomainGetXMLDesc(dom, 0);
        if (!xml)
                return libvirt_error_take(ret_error);
        k = block_chain_position(xml, target, file, &s.ready);
        if (k == -ENODEV)
                return k;
        if (ret_position)
                *ret_position = k;
        *ret = s;
        return 0;
}

int block_job_pivot(virConnectPtr conn, const char *uuid, const char *target, char **ret_error) {
        _cleanup_(virDomainFreep) virDomainPtr dom = virDomainLookupByUUIDString(conn, uuid);

        if (!dom || virDomainBlockJobAbort(dom, target, VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT) < 0)
                return libvirt_error_take(ret_error);
        return 0;
}

/* The image of CHAIN_TOP's chain whose backing file is FILE, into RET (NULL: none). */
static int chain_child(const char *chain_top, const char *file, char **ret, char **ret_error) {
        _cleanup_(freep) char *at = strdup(chain_top);

        *ret = NULL;
        for (int depth = 0; at && depth < BLOCK_CHAIN_MAX; depth++) {
                VolumeInfo info = {};
                int r = qemu_img_info(at, BLOCK_COMMAND_TIMEOUT_USEC, &info, ret_error);

                if (r < 0)
                        return r;
                if (streq_ptr(info.backing, file)) {
                        volume_info_done(&info);
                        *ret = TAKE_PTR(at);
                        return 0;
                }
                free(at);
                at = TAKE_PTR(info.backing);
                volume_info_done(&info);
        }
        return 0;
}

/* The definition's disk TARGET is FILE of FORMAT now. */
static int definition_set_source(virConnectPtr conn, virDomainPtr dom, const char *target, const char *file,
                                 const char *format, char **ret_error) {
        _cleanup_(freep) char *xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE);
        _cleanup_(xmlFreeDocp) xmlDocPtr doc = xml ? vm_xml_read(xml, "domain.xml") : NULL;
        xmlNodePtr disk = vm_xml_disk_by_target(doc, target);
        _cleanup_(freep) char *text = NULL;
        virDomainPtr defined;

        if (!xml)
                return libvirt_error_take(ret_error);
        if (!disk || !vm_xml_child(disk, "source"))
                return -ENODEV;
        xmlSetProp(vm_xml_child(disk, "source"), BAD_CAST "file", BAD_CAST file);
        if (vm_xml_child(disk, "driver"))
                xmlSetProp(vm_xml_child(disk, "driver"), BAD_CAST "type", BAD_CAST format);
        text = vm_xml_doc_text(doc);
        if (!text)
                return -ENOMEM;
        defined = virDomainDefineXML(conn, text);
        if (!defined)
                return libvirt_error_take(ret_error);
        (void) virDomainFree(defined);
        return 0;
}

static int disk_source(virDomainPtr dom, const char *target, char **ret, char **ret_error) {
        _cleanup_(freep) char *xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
        _cleanup_(xmlFreeDocp) xmlDocPtr doc = xml ? vm_xml_read(xml, "domain.xml") : NULL;
        xmlNodePtr disk = vm_xml_disk_by_target(doc, target);

        if (!xml)
                return libvirt_error_take(ret_error);
        if (!disk)
                return -ENODEV;
        *ret = vm_xml_prop(vm_xml_child(disk, "source"), "file");
        return *ret ? 0 : -ENODEV;
}

int block_backing_of(const char *image, char **ret_backing, char **ret_format, char **ret_error) {
        VolumeInfo info = {}, below = {};
        int r;

        r = qemu_img_info(image, BLOCK_COMMAND_TIMEOUT_USEC, &info, ret_error);
        if (r >= 0 && !info.backing)
                r = -ENOENT;
        if (r >= 0)
                r = qemu_img_info(info.backing, BLOCK_COMMAND_TIMEOUT_USEC, &below, ret_error);
        if (r >= 0) {
                *ret_backing = TAKE_PTR(info.backing);
                *ret_format = TAKE_PTR(below.format);
        }
        volume_info_done(&info);
        volume_info_done(&below);
        return r;
}

int block_commit_offline(virConnectPtr conn, const char *uuid, const char *target, const char *overlay,
                         char **ret_error) {
        _cleanup_(virDomainFreep) virDomainPtr dom = virDomainLookupByUUIDString(conn, uuid);
        _cleanup_(freep) char *top = NULL, *child = NULL, *base = NULL, *base_format = NULL;
        int r;

        if (!dom)
                return libvirt_error_take(ret_error);
        r = disk_source(dom, target, &top, ret_error);
        if (r >= 0 && !streq(top, overlay))
                r = chain_child(top, overlay, &child, ret_error);
        if (r < 0)
                return r;
        if (!streq(top, overlay) && !child)
                return -ENOENT;   /* not in the disk's chain any more */
        r = block_backing_of(overlay, &base, &base_format, ret_error);
        if (r < 0)
                return r;
        r = command_run_simple((char *[]) { (char *) "qemu-img", (char *) "commit", (char *) "-q", (char *) "-f",
                                            (char *) "qcow2", (char *) overlay, NULL },
                               BLOCK_COMMAND_TIMEOUT_USEC, NULL, ret_error);
        if (r >= 0 && child)
                r = command_run_simple((char *[]) { (char *) "qemu-img", (char *) "rebase", (char *) "-u",
                                                    (char *) "-b", (char *) base, (char *) "-F",
                                                    (char *) base_format, (char *) child, NULL },
                                       BLOCK_COMMAND_TIMEOUT_USEC, NULL, ret_error);
        else if (r >= 0)
                r = definition_set_source(conn, dom, target, base, base_format, ret_error);
        if (r >= 0 && unlink(overlay) < 0 && errno != ENOENT)
                r = -errno;
        return r;
}
