/* One disk or NIC of a VM spec at a time: what AttachDisk and AttachNIC take */
#include "vm-spec.h"

#include <libxml/tree.h>
#include <string.h>

#include "json-cleanup.h"
#include "json-field.h"
#include "macro.h"
#include "vm-spec-private.h"
#include "vm-xml.h"

static const char *target_prefix(const char *bus) {
        return streq(bus, "virtio") ? "vd" : streq(bus, "ide") ? "hd" : "sd";
}

bool vm_spec_target_valid(const char *bus, const char *target) {
        char last = streq(bus, "ide") ? 'd' : 'z';

        return strlen(target) == 3 && strncmp(target, target_prefix(bus), 2) == 0 && target[2] >= 'a' &&
               target[2] <= last;
}

bool vm_spec_target_taken(char *const *used, const char *target) {
        for (char *const *u = used; u && *u; u++)
                if (streq(*u, target))
                        return true;
        return false;
}

int vm_spec_next_target(const char *bus, char *const *used, char ret[8]) {
        char last = streq(bus, "ide") ? 'd' : 'z';

        for (char c = 'a'; c <= last; c++) {
                char t[8];

                snprintf(t, sizeof t, "%s%c", target_prefix(bus), c);
                if (!vm_spec_target_taken(used, t)) {
                        memcpy(ret, t, sizeof t);
                        return 0;
                }
        }
        return -ENOSPC;
}

static int device_object(const char *text, const char *field, json_object **ret, char **ret_error) {
        enum json_tokener_error jerr;
        json_object *o;

        if (strlen(text) > VM_SPEC_MAX_BYTES)
                return json_field_fail(ret_error, field, "larger than %d bytes", VM_SPEC_MAX_BYTES);
        o = json_tokener_parse_verbose(text, &jerr);
        if (!o)
                return json_field_fail(ret_error, field, "not valid JSON: %s", json_tokener_error_desc(jerr));
        if (!json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return json_field_fail(ret_error, field, "must be a JSON object");
        }
        *ret = o;
        return 0;
}

void vm_spec_disk_done(VmSpecDisk *d) {
        free(d->path);
        free(d->pool);
        free(d->volume);
        free(d->nfs_host);
        *d = (VmSpecDisk) {};
}

void vm_spec_nic_done(VmSpecNic *n) {
        free(n->bridge);
        free(n->network);
        *n = (VmSpecNic) {};
}

int vm_spec_disk_parse(const char *text, const char *field, VmSpecDisk *ret, char **ret_error) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        VmSpecDisk d = {};
        int r;

        r = device_object(text, field, &o, ret_error);
        if (r < 0)
                return r;
        r = vm_spec_disk_parse_object(o, field, &d, ret_error);
        if (r < 0) {
                vm_spec_disk_done(&d);
                return r;
        }
        *ret = d;
        return 0;
}

int vm_spec_nic_parse(const char *text, const char *field, VmSpecNic *ret, char **ret_error) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        VmSpecNic n = {};
        int r;

        r = device_object(text, field, &o, ret_error);
        if (r < 0)
                return r;
        r = vm_spec_nic_parse_object(o, field, &n, ret_error);
        if (r >= 0 && !n.mac[0])
                r = vm_spec_mac_generate(n.mac);
        if (r < 0) {
                vm_spec_nic_done(&n);
                return r;
        }
        *ret = n;
        return 0;
}

json_object *vm_spec_disk_json(const VmSpecDisk *disk) {
        json_object *d = json_object_new_object();

        if (disk->pool) {
                /* The format is the volume's, whatever it is when the VM starts. */
                json_object_object_add(d, "pool", json_object_new_string(disk->pool));
                json_object_object_add(d, "volume", json_object_new_string(disk->volume));
        } else {
                json_object_object_add(d, "path", json_object_new_string(disk->path));
                json_object_object_add(d, "format", json_object_new_string(disk->format));
        }
        json_object_object_add(d, "bus", json_object_new_string(disk->bus));
        json_object_object_add(d, "device", json_object_new_string(disk->device));
        json_object_object_add(d, "readonly", json_object_new_boolean(disk->readonly));
        if (disk->target[0])
                json_object_object_add(d, "target", json_object_new_string(disk->target));
        return d;
}

json_object *vm_spec_nic_json(const VmSpecNic *nic) {
        json_object *n = json_object_new_object();

        if (nic->network)
                json_object_object_add(n, "network", json_object_new_string(nic->network));
        else
                json_object_object_add(n, "bridge", json_object_new_string(nic->bridge));
        json_object_object_add(n, "model", json_object_new_string(nic->model));
        json_object_object_add(n, "mac", json_object_new_string(nic->mac));
        return n;
}

/* A document whose root is the element ADD_FN makes under a scratch parent. */
static int device_xml(const void *dev, void (*add_fn)(xmlNodePtr devices, const void *dev), char **ret_xml) {
        xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
        xmlNodePtr scratch, element;

        if (!doc)
                return -ENOMEM;
        scratch = xmlNewNode(NULL, BAD_CAST "devices");
        xmlDocSetRootElement(doc, scratch);
        add_fn(scratch, dev);
        element = scratch->children;
        xmlUnlinkNode(element);
        xmlDocSetRootElement(doc, element);
        xmlFreeNode(scratch);
        return vm_xml_doc_dump(doc, ret_xml);
}

static void add_disk_any(xmlNodePtr devices, const void *d) {
        vm_spec_add_disk(devices, d);
}

static void add_nic_any(xmlNodePtr devices, const void *n) {
        vm_spec_add_nic(devices, n);
}

int vm_spec_disk_xml(const VmSpecDisk *d, char **ret_xml) {
        return device_xml(d, add_disk_any, ret_xml);
}

int vm_spec_nic_xml(const VmSpecNic *n, char **ret_xml) {
        return device_xml(n, add_nic_any, ret_xml);
}
