/* What vm-info.c shares with vm-info-devices.c, and nobody else */
#pragma once

#include <libxml/tree.h>
#include <stdint.h>

#include "vm-info.h"

/* Disks, NICs and the machine type of the <domain> ROOT into INFO. */
void vm_info_parse_devices(xmlNodePtr root, VmInfo *info);
void vm_info_devices_done(VmInfo *info);
