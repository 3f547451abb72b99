/* Reading a call's a{sv} options, one key at a time: the walk every method
 * with options shares, so each keeps only what its keys mean. */
#include "bus-options.h"

int bus_options_read(sd_bus_message *msg, bus_option_read_t read_one, void *userdata, sd_bus_error *error) {
        int r;

        r = sd_bus_message_enter_container(msg, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
                const char *key;

                r = sd_bus_message_read(msg, "s", &key);
                if (r >= 0)
                        r = read_one(msg, key, userdata, error);
                if (r >= 0)
                        r = sd_bus_message_exit_container(msg);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(msg);
}
