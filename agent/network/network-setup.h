/* SetupNetworks as one transaction: applied step by step off the loop, undone on failure,
 * rolled back unless confirmed, recovered after a crash */
#pragma once

#include <systemd/sd-bus.h>

typedef struct Manager Manager;

int method_setup_networks(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_confirm_networks(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_get_network_capabilities(sd_bus_message *msg, void *userdata, sd_bus_error *error);

/* At start: rolls back a transaction a crash cut short (the journal says
 * how far it got), then makes the kept networks true again (after a
 * reboot, or someone's `ip link del`). Off the loop. */
int network_recover(Manager *m);

/* At exit, before networks_free(): the call that waited for the recovery is
 * answered and dropped. */
void network_setup_stop(Manager *m);
