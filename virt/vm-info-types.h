/* What a VM read from libvirt is: the types alone, for vm-info.c and vm-info-devices.c */
#pragma once

#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm-state.h"

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
        int guest_agent;           /* GuestAgentState (guest-agent.h): its channel, connected in the live XML */
} VmInfo;
