/* A VM's devices as read from its domain XML, and what waits for its next start */
#pragma once

#include <libxml/tree.h>
#include <stdint.h>

#include "vm-info-types.h"

/* Disks, NICs and the machine type of the <domain> ROOT into INFO (for vm-info.c). */
void vm_info_parse_devices(xmlNodePtr root, VmInfo *info);
void vm_info_devices_done(VmInfo *info);

/* What the persistent definition CONFIG has that the running LIVE does not
 * (or differently): one line per difference ("machine: pc-i440fx-7.2 ->
 * q35", "disk vdc: added", "memory maximum: 512 -> 1024 MiB"), or NULL when
 * none. Exposed for tests. */
char **vm_info_pending(const VmInfo *live, const VmInfo *config);

bool vm_disks_equal(const VmDiskInfo *a, size_t n_a, const VmDiskInfo *b, size_t n_b);
bool vm_nics_equal(const VmNicInfo *a, size_t n_a, const VmNicInfo *b, size_t n_b);
bool vm_strv_equal(char **a, char **b);
