/* A VM as read from libvirt: a snapshot taken on a worker thread */
#pragma once

#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <stdint.h>

#include "vm-state.h"

/* The agent's own metadata element in the domain XML: the spec lives there,
 * so a restart of the agent loses nothing and needs no database. */
#define VM_METADATA_NS  "urn:org.hostagent1:vm:1"
#define VM_METADATA_KEY "hostagent"

/* One <disk> of the domain, as the VM's Disks property shows it. */
typedef struct VmDiskInfo {
        char *target;              /* "vdb" */
        char *bus;
        char *source;              /* file, device or nfs://host/path; "" for an empty cdrom */
        char *format;              /* the driver's type, "" when not said */
        char *alias;               /* libvirt's device alias ("virtio-disk1"), live only; "" otherwise */
        bool readonly;
} VmDiskInfo;

/* One <interface>, as NICs shows it. */
typedef struct VmNicInfo {
        char *mac;
        char *model;               /* "" when not said */
        char *type;                /* libvirt's: "bridge", "network", ... */
        char *source;              /* the bridge or network name, "" otherwise */
        char *tap;                 /* the host's tap device while running, "" otherwise */
        char *alias;
} VmNicInfo;

typedef struct VmInfo {
        char uuid[VIR_UUID_STRING_BUFLEN];
        char *name;
        VmState state;
        const char *reason;        /* static string */
        unsigned vcpus;
        uint64_t memory_mib;
        bool autostart;
        bool persistent;
        char *spec;                /* the JSON spec the agent stored, or NULL */
        char *graphics_type;       /* "vnc", "spice", or NULL */
        char *graphics_listen;
        int graphics_port;         /* -1 when not listening */
        char **disk_sources;       /* file, device or nfs://host/path of each disk; NULL-terminated or NULL */
        VmDiskInfo *disks;         /* the domain's disks now (live while it runs) */
        size_t n_disks;
        VmNicInfo *nics;
        size_t n_nics;
        uint64_t current_memory_mib;  /* what the balloon gives the guest */
        uint64_t max_memory_mib;      /* the balloon's ceiling (<memory>) */
        unsigned max_vcpus;           /* <vcpu>: what can be brought online */
        char *machine;
        char **pending;            /* what the definition has that takes effect at the next start; NULL-terminated */
} VmInfo;

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

/* What the persistent definition CONFIG has that the running LIVE does not
 * (or differently): one line per difference ("machine: pc-i440fx-7.2 ->
 * q35", "disk vdc: added", "memory maximum: 512 -> 1024 MiB"), or NULL when
 * none. Exposed for tests. */
char **vm_info_pending(const VmInfo *live, const VmInfo *config);

bool vm_disks_equal(const VmDiskInfo *a, size_t n_a, const VmDiskInfo *b, size_t n_b);
bool vm_nics_equal(const VmNicInfo *a, size_t n_a, const VmNicInfo *b, size_t n_b);
bool vm_strv_equal(char **a, char **b);
