/* Reading a call's a{sv} options, one key at a time */
#pragma once

#include <systemd/sd-bus.h>

/* Reads the variant of KEY (the message stands before it) into USERDATA, or
 * refuses it with a named error in ERROR (an unknown key, a wrong type). */
typedef int (*bus_option_read_t)(sd_bus_message *msg, const char *key, void *userdata, sd_bus_error *error);

/* Walks MSG's next argument, an a{sv}, handing each entry to READ_ONE; the
 * first negative answer ends the walk and is returned. */
int bus_options_read(sd_bus_message *msg, bus_option_read_t read_one, void *userdata, sd_bus_error *error);
