/* VM.SetConsoleTicket: a console password that expires, as vdsm's setTicket */
#pragma once

#include <systemd/sd-bus.h>

#define VM_TICKET_TTL_MAX_SEC (7U * 24 * 3600)
#define VM_TICKET_VNC_MAX 8      /* VNC authentication uses 8 bytes of it */
#define VM_TICKET_MAX 64

int method_vm_set_console_ticket(sd_bus_message *msg, void *userdata, sd_bus_error *error);
