/* Reading libvirt's domain XML: children, attributes and text made safe for D-Bus */
#include "vm-xml.h"

#include <errno.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>

#include "bus-text.h"
#include "macro.h"

xmlDocPtr vm_xml_read(const char *xml, const char *name) {
        return xmlReadMemory(xml, (int) strlen(xml), name, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
                             XML_PARSE_NOWARNING);
}

char *vm_xml_doc_text(xmlDocPtr doc) {
        xmlChar *out = NULL;
        int size = 0;
        char *text;

        xmlDocDumpFormatMemoryEnc(doc, &out, &size, "UTF-8", 1);
        if (!out)
                return NULL;
        text = strndup((const char *) out, (size_t) size);
        xmlFree(out);
        return text;
}

int vm_xml_doc_dump(xmlDocPtr doc, char **ret_xml) {
        *ret_xml = vm_xml_doc_text(doc);
        xmlFreeDoc(doc);
        return *ret_xml ? 0 : -ENOMEM;
}

xmlNodePtr vm_xml_child(xmlNodePtr parent, const char *name) {
        for (xmlNodePtr n = parent ? parent->children : NULL; n; n = n->next)
                if (n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST name))
                        return n;
        return NULL;
}

/* Everything read from the XML may end up in a D-Bus string: libvirt and
 * XML accept characters sd-bus refuses, and those become U+FFFD here. */
char *vm_xml_prop(xmlNodePtr n, const char *name) {
        xmlChar *v = n ? xmlGetProp(n, BAD_CAST name) : NULL;
        char *r = bus_text_dup((const char *) v);

        xmlFree(v);
        return r;
}

char *vm_xml_content(xmlNodePtr n) {
        xmlChar *v = n ? xmlNodeGetContent(n) : NULL;
        char *r = bus_text_dup((const char *) v);

        xmlFree(v);
        return r;
}

uint64_t vm_xml_memory_kib(xmlNodePtr n) {
        _cleanup_(freep) char *text = vm_xml_content(n), *unit = vm_xml_prop(n, "unit");
        uint64_t v = text ? strtoull(text, NULL, 10) : 0;

        /* libvirt writes KiB; other units only appear in hand-written XML. */
        if (!unit || streq(unit, "KiB") || streq(unit, "k"))
                return v;
        if (streq(unit, "MiB") || streq(unit, "M"))
                return v * 1024;
        if (streq(unit, "GiB") || streq(unit, "G"))
                return v * 1024 * 1024;
        if (streq(unit, "b") || streq(unit, "bytes"))
                return v / 1024;
        return v;
}

xmlNodePtr vm_xml_disk_by_target(xmlDocPtr doc, const char *target) {
        xmlNodePtr devices = doc ? vm_xml_child(xmlDocGetRootElement(doc), "devices") : NULL;

        for (xmlNodePtr d = devices ? devices->children : NULL; d; d = d->next) {
                _cleanup_(freep) char *dev = NULL;

                if (d->type != XML_ELEMENT_NODE || !xmlStrEqual(d->name, BAD_CAST "disk"))
                        continue;
                dev = vm_xml_prop(vm_xml_child(d, "target"), "dev");
                if (streq_ptr(dev, target))
                        return d;
        }
        return NULL;
}

/* Where each disk's data is, spelled as the storage pools spell volume locations. */
char *vm_xml_disk_source(xmlNodePtr disk) {
        _cleanup_(freep) char *type = vm_xml_prop(disk, "type"), *protocol = NULL, *name = NULL, *host = NULL;
        xmlNodePtr source = vm_xml_child(disk, "source");
        char *s = NULL;

        if (!type || !source)
                return NULL;
        if (streq(type, "file"))
                return vm_xml_prop(source, "file");
        if (streq(type, "block"))
                return vm_xml_prop(source, "dev");
        if (!streq(type, "network"))
                return NULL;
        protocol = vm_xml_prop(source, "protocol");
        name = vm_xml_prop(source, "name");
        host = vm_xml_prop(vm_xml_child(source, "host"), "name");
        if (!protocol || !name || !host || !streq(protocol, "nfs"))
                return NULL;
        if (asprintf(&s, "nfs://%s%s%s", host, name[0] == '/' ? "" : "/", name) < 0)
                return NULL;
        return s;
}
