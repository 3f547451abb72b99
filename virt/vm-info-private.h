/* What vm-info.c shares with vm-info-devices.c, and nobody else */
#pragma once

#include <libxml/tree.h>
#include <stdint.h>

#include "vm-info.h"

xmlNodePtr vm_xml_child(xmlNodePtr parent, const char *name);
/* An attribute or the text of N, made safe for D-Bus strings; NULL when absent. */
char *vm_xml_prop(xmlNodePtr n, const char *name);
char *vm_xml_content(xmlNodePtr n);
uint64_t vm_xml_memory_kib(xmlNodePtr n);
/* Where a <disk>'s data is (file, device, nfs://host/path), or NULL. */
char *vm_xml_disk_source(xmlNodePtr disk);

/* Disks, NICs and the machine type of the <domain> ROOT into INFO. */
void vm_info_parse_devices(xmlNodePtr root, VmInfo *info);
void vm_info_devices_done(VmInfo *info);
