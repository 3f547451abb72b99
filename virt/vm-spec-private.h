/* What vm-spec.c shares with vm-spec-device.c, and nobody else */
#pragma once

#include <json-c/json.h>
#include <libxml/tree.h>

#include "vm-spec-types.h"

/* One "disks" or "nics" entry O, errors named PREFIX.key. */
int vm_spec_disk_parse_object(json_object *o, const char *prefix, VmSpecDisk *d, char **ret_error);
int vm_spec_nic_parse_object(json_object *o, const char *prefix, VmSpecNic *n, char **ret_error);
int vm_spec_mac_generate(char out[18]);
void vm_spec_add_disk(xmlNodePtr devices, const VmSpecDisk *d);
void vm_spec_add_nic(xmlNodePtr devices, const VmSpecNic *nic);
bool vm_spec_target_taken(char *const *used, const char *target);
