/* org.hostagent1.VM's guest agent members: GuestAgent, GuestInfo, GuestAddresses, freeze and thaw */
#pragma once

#include <systemd/sd-bus.h>

/* Served beside vm_vtable on the same objects (bus_add_collection_vtable). */
extern const sd_bus_vtable vm_guest_vtable[];
