/* Reading libvirt's domain XML: children, attributes and text made safe for D-Bus */
#pragma once

#include <libxml/tree.h>
#include <stdint.h>

/* XML from libvirt parsed, without network access or messages on stderr; NULL when it is not
 * XML. NAME is what libxml2 calls the document ("domain.xml"). */
xmlDocPtr vm_xml_read(const char *xml, const char *name);
/* DOC as text (malloc'd), or NULL for out of memory. */
char *vm_xml_doc_text(xmlDocPtr doc);
/* DOC as text into *RET_XML, freeing DOC: 0 or -ENOMEM. */
int vm_xml_doc_dump(xmlDocPtr doc, char **ret_xml);

/* The first element child of PARENT called NAME, or NULL. */
xmlNodePtr vm_xml_child(xmlNodePtr parent, const char *name);
/* An attribute or the text of N, made safe for D-Bus strings; NULL when absent. */
char *vm_xml_prop(xmlNodePtr n, const char *name);
char *vm_xml_content(xmlNodePtr n);
uint64_t vm_xml_memory_kib(xmlNodePtr n);
/* Where a <disk>'s data is (file, device, nfs://host/path), or NULL. */
char *vm_xml_disk_source(xmlNodePtr disk);
/* The <disk> of domain DOC whose target is TARGET ("vda"), or NULL. */
xmlNodePtr vm_xml_disk_by_target(xmlDocPtr doc, const char *target);
