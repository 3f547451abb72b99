/* Manager.CreateVM and CreateVMFromXML: define (and start) a VM off the loop */
#pragma once

#include <systemd/sd-bus.h>

#include "manager.h"
#include "vm-spec.h"

/* Largest domain XML accepted from a caller. */
#define VM_CREATE_MAX_XML (1024 * 1024)

int method_create_vm(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_create_vm_from_xml(sd_bus_message *msg, void *userdata, sd_bus_error *error);

/* Loop thread: a disk named by pool and volume made what the volume is, and
 * a NIC on an agent network put on its bridge; InvalidSpec naming FIELD
 * ("disks[1]", "disk") otherwise. */
int vm_resolve_pool_disk(Manager *m, VmSpecDisk *d, const char *field, sd_bus_error *error);
int vm_resolve_network_nic(Manager *m, VmSpecNic *n, const char *field, sd_bus_error *error);

/* Defines (and starts) the VM SPEC describes, taking SPEC; answers MSG with
 * the VM's path, or with (path, PLAN) when PLAN is given (ApplyVM). */
int vm_create_from_spec(Manager *m, sd_bus_message *msg, VmSpec *spec, const char *plan, sd_bus_error *error);
