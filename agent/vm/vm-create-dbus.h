/* Manager.CreateVM and CreateVMFromXML: define (and start) a VM off the loop */
#pragma once

#include <systemd/sd-bus.h>

/* Largest domain XML accepted from a caller. */
#define VM_CREATE_MAX_XML (1024 * 1024)

int method_create_vm(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_create_vm_from_xml(sd_bus_message *msg, void *userdata, sd_bus_error *error);
