/* A VM as read from libvirt: a snapshot taken on a worker thread */
#pragma once

#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <stdint.h>

#include "vm-info-devices.h"
#include "vm-info-types.h"
#include "vm-state.h"

/* The agent's own metadata element in the domain XML: the spec lives there,
 * so a restart of the agent loses nothing and needs no database. */
#define VM_METADATA_NS  "urn:org.hostagent1:vm:1"
#define VM_METADATA_KEY "hostagent"

void vm_info_done(VmInfo *info);
/* Moves SRC's contents into DST (freeing what DST held). */
void vm_info_move(VmInfo *dst, VmInfo *src);

/* Worker thread: everything about DOM, from libvirt. Returns 0 or -errno
 * (-ENOENT when the domain vanished meanwhile); RET_ERROR gets libvirt's text. */
int vm_info_read(virDomainPtr dom, VmInfo *ret, char **ret_error);

/* Worker thread: the domain UUID, read now. -ENOENT when there is none. */
int vm_info_read_uuid(virConnectPtr conn, const char *uuid, VmInfo *ret, char **ret_error);

/* Worker thread: every domain, in a few calls more than one per domain (the state
 * of every domain, and the autostart and persistent ones, in three calls; then
 * each one's XML, from a few threads at once). A domain undefined meanwhile is
 * left out. RET
 * (free each with vm_info_done(), then the array) and RET_N are set even on
 * failure, with what was read. */
int vm_info_read_all(virConnectPtr conn, VmInfo **ret, size_t *ret_n, char **ret_error);

/* Fills name, vcpus, memory, graphics, disks and spec from domain XML. Exposed for tests. */
int vm_info_parse_xml(const char *xml, VmInfo *info);
