/* One disk and one NIC of a VM spec: the types alone, for what vm-spec-private.h shares */
#pragma once

#include <stdbool.h>

typedef struct VmSpecDisk {
        char *path;             /* file or device; for an NFS network disk the path on the server */
        char *pool;             /* a disk from a storage pool: resolved by vm_spec_resolve_volume() */
        char *volume;
        char *nfs_host;         /* set for an nfs:// network disk */
        const char *format;     /* "raw", "qcow2" */
        const char *bus;        /* "virtio", "sata", "scsi", "ide" */
        const char *device;     /* "disk", "cdrom" */
        bool readonly;
        char target[8];         /* "vdb": given, or picked by the parser ("" for a lone disk until placed) */
        bool target_given;      /* the caller named it */
} VmSpecDisk;

typedef struct VmSpecNic {
        char *bridge;           /* a bridge by name, or the agent network's once resolved */
        char *network;          /* an agent network: resolved by the caller into BRIDGE */
        bool openvswitch;       /* the bridge is Open vSwitch's (set when resolved) */
        unsigned vlan;          /* and the network's tag, 0 for none */
        const char *model;      /* "virtio", "e1000", "rtl8139" */
        char mac[18];
        bool mac_generated;     /* the caller gave none: the parser picked it */
} VmSpecNic;
