/* Sends several calls to the agent at once, on one new connection, before
 * reading any reply; prints each reply in order. Shows whether calls of one
 * caller are answered in the order they were sent.
 * Arguments: "set PROPERTY VALUE" or "get PROPERTY" (string properties of
 * org.hostagent1.Manager). Prints, as the replies arrive, the number of the
 * call each answers and "ok", the value, or the error name: "1:ok". */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-bus.h>

#define MAX_CALLS 16

int main(int argc, char *argv[]) {
        sd_bus *bus = NULL;
        uint64_t cookies[MAX_CALLS];
        int n = argc - 1, r;

        if (n < 1 || n > MAX_CALLS || sd_bus_open_system(&bus) < 0)
                return 2;
        for (int i = 0; i < n; i++) {
                char verb[8], property[64], value[64] = "";
                sd_bus_message *m = NULL;

                if (sscanf(argv[i + 1], "%7s %63s %63s", verb, property, value) < 2)
                        return 2;
                r = sd_bus_message_new_method_call(bus, &m, "org.hostagent1", "/org/hostagent1",
                                                   "org.freedesktop.DBus.Properties",
                                                   strcmp(verb, "set") == 0 ? "Set" : "Get");
                if (r >= 0)
                        r = sd_bus_message_append(m, "ss", "org.hostagent1.Manager", property);
                if (r >= 0 && strcmp(verb, "set") == 0)
                        r = sd_bus_message_append(m, "v", "s", value);
                if (r >= 0)
                        r = sd_bus_send(bus, m, &cookies[i]);
                sd_bus_message_unref(m);
                if (r < 0)
                        return 1;
        }
        for (int answered = 0; answered < n;) {
                sd_bus_message *reply = NULL;
                uint64_t cookie;
                int i = n;

                r = sd_bus_process(bus, &reply);
                if (r < 0)
                        return 1;
                if (!reply) {
                        if (r == 0 && sd_bus_wait(bus, 10 * 1000 * 1000) <= 0)
                                return 1;
                        continue;
                }
                if (sd_bus_message_get_reply_cookie(reply, &cookie) >= 0)
                        for (i = 0; i < n && cookies[i] != cookie; i++)
                                ;
                if (i == n) {   /* NameAcquired and the like */
                        sd_bus_message_unref(reply);
                        continue;
                }
                if (sd_bus_message_is_method_error(reply, NULL)) {
                        printf("%d:%s\n", i + 1, sd_bus_message_get_error(reply)->name);
                } else if (strcmp(sd_bus_message_get_signature(reply, true), "v") == 0) {
                        const char *s = NULL;
                        (void) sd_bus_message_read(reply, "v", "s", &s);
                        printf("%d:%s\n", i + 1, s ? s : "?");
                } else {
                        printf("%d:ok\n", i + 1);
                }
                sd_bus_message_unref(reply);
                answered++;
        }
        sd_bus_flush_close_unref(bus);
        return 0;
}
