/* The VM spec: JSON in, validated, turned into libvirt domain XML */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "vm-spec-types.h"

#define VM_SPEC_MAX_DISKS 16
#define VM_SPEC_MAX_NICS  16
#define VM_SPEC_MAX_BYTES (64 * 1024)
/* VNC authentication uses 8 bytes of a password; the lock must fit. */
#define VM_SPEC_CONSOLE_PASSWORD_LEN 8

typedef struct VmSpec {
        char *name;
        char *uuid;             /* NULL: libvirt picks one */
        const char *type;       /* "kvm", "qemu", "test" (libvirt's test driver) */
        char *machine;          /* NULL: the hypervisor's default */
        const char *firmware;   /* "bios", "uefi" */
        uint64_t memory_mib;
        uint64_t max_memory_mib;     /* the balloon's ceiling; memory_mib unless given */
        unsigned vcpus;
        unsigned max_vcpus;          /* vCPUs that can be brought online; vcpus unless given */
        VmSpecDisk disks[VM_SPEC_MAX_DISKS];
        size_t n_disks;
        VmSpecNic nics[VM_SPEC_MAX_NICS];
        size_t n_nics;
        const char *graphics_type;   /* NULL, "vnc", "spice" */
        char *graphics_listen;
        bool autostart;
        bool start;
        bool guest_agent;            /* the virtio-serial channel of qemu-ga (default true) */
        json_object *normalized;     /* the spec as stored: defaults filled in, MACs chosen */
} VmSpec;

void vm_spec_done(VmSpec *spec);

/* Parses and validates TEXT without touching anything outside the process.
 * On failure returns -EINVAL and RET_ERROR says which field is wrong and why
 * ("disks[0].bus: must be one of virtio, sata, scsi, ide"). */
int vm_spec_parse(const char *text, VmSpec *ret, char **ret_error);

/* What polkit rules are told of a parsed spec: metadata.owner (NULL when
 * unset; points into SPEC), and whether the spec reaches host files or
 * devices directly (a disk by path, a NIC on a bridge by name) rather than
 * through the agent's pools and networks. Before the pools and networks are
 * resolved. */
const char *vm_spec_owner(const VmSpec *spec);
bool vm_spec_reaches_host(const VmSpec *spec);
/* metadata.owner of a stored spec's TEXT, copied into BUF (NULL when unset,
 * not a string, or longer than SIZE - 1). */
const char *vm_spec_text_owner(const char *text, char *buf, size_t size);
/* One disk object as in the spec's "disks" (AttachDisk's argument), errors
 * named FIELD.key ("disk.bus"). Its target stays "" unless given. */
int vm_spec_disk_parse(const char *text, const char *field, VmSpecDisk *ret, char **ret_error);
void vm_spec_disk_done(VmSpecDisk *d);
/* One NIC object as in "nics" (AttachNIC's argument); a MAC is picked when none is given. */
int vm_spec_nic_parse(const char *text, const char *field, VmSpecNic *ret, char **ret_error);
void vm_spec_nic_done(VmSpecNic *n);

/* The first target of BUS's kind (vd*, sd*, hd*) that USED (NULL-terminated,
 * may be NULL) does not hold, into RET; -ENOSPC when there is none left. */
int vm_spec_next_target(const char *bus, char *const *used, char ret[8]);
/* Whether TARGET is a target name BUS can have ("vdb" on virtio). */
bool vm_spec_target_valid(const char *bus, const char *target);

/* The stored (normalized) form of one disk or NIC, as in Spec's lists. */
json_object *vm_spec_disk_json(const VmSpecDisk *d);
json_object *vm_spec_nic_json(const VmSpecNic *n);

/* The <disk> or <interface> element alone, for virDomainAttachDeviceFlags(). */
int vm_spec_disk_xml(const VmSpecDisk *d, char **ret_xml);
int vm_spec_nic_xml(const VmSpecNic *n, char **ret_xml);

/* Turns the pool disk D into what the volume is: LOCATION (a path or an
 * nfs://host/path URI) in FORMAT. Returns -EINVAL with RET_ERROR naming the
 * disk (PREFIX: "disks[1]") when that cannot be a disk. */
int vm_spec_resolve_volume(VmSpecDisk *d, const char *prefix, const char *location, const char *format,
                           char **ret_error);

/* Checks what needs the file system (disk paths exist). Blocks on a dead
 * mount: worker threads only. Same error convention. */
int vm_spec_check_paths(const VmSpec *spec, char **ret_error);

/* The domain XML for SPEC, built with libxml2 (every name and path escaped
 * by construction), with the normalized spec in the agent's metadata. */
int vm_spec_to_xml(const VmSpec *spec, char **ret_xml);
