/* One connection to the agent whose unique name a test can hand to pkcheck
 * first: prints "NAME :1.N PID", waits for a line on stdin, then makes the call
 * and prints "ok" or the error's name and message on one line.
 * Arguments: [-i] PATH INTERFACE METHOD [ARG...]; each ARG is "s:TEXT",
 * "u:NUMBER", "t:NUMBER", "a{sv}:" (an empty dictionary) or "a{sv}:dry_run"
 * (SetupNetworks' options: plan only). -i sets ALLOW_INTERACTIVE_AUTHORIZATION on the call.
 * -r N (first): the call is made N times on the same connection, each after a line on stdin. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <systemd/sd-bus.h>

static int append_args(sd_bus_message *m, int argc, char *argv[]) {
        int r = 0;

        for (int i = 0; r >= 0 && i < argc; i++) {
                if (strncmp(argv[i], "s:", 2) == 0)
                        r = sd_bus_message_append(m, "s", argv[i] + 2);
                else if (strcmp(argv[i], "a{sv}:") == 0)
                        r = sd_bus_message_append(m, "a{sv}", 0);
                else if (strcmp(argv[i], "a{sv}:dry_run") == 0)
                        r = sd_bus_message_append(m, "a{sv}", 1, "dry_run", "b", 1);
                else if (strncmp(argv[i], "t:", 2) == 0)
                        r = sd_bus_message_append(m, "t", (uint64_t) strtoull(argv[i] + 2, NULL, 10));
                else if (strncmp(argv[i], "u:", 2) == 0)
                        r = sd_bus_message_append(m, "u", (uint32_t) strtoul(argv[i] + 2, NULL, 10));
                else
                        r = -EINVAL;
        }
        return r;
}

/* One call, its result printed on a line. */
static int call_once(sd_bus *bus, bool interactive, int argc, char *argv[]) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *m = NULL, *reply = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, "org.hostagent1", argv[1], argv[2], argv[3]);
        if (r >= 0)
                r = sd_bus_message_set_allow_interactive_authorization(m, interactive);
        if (r >= 0)
                r = append_args(m, argc - 4, argv + 4);
        if (r < 0)
                return 2;
        r = sd_bus_call(bus, m, 120 * 1000000ULL, &error, &reply);
        if (r < 0)
                printf("%s %s\n", error.name ?: "errno", error.message ?: strerror(-r));
        else
                printf("ok\n");
        fflush(stdout);
        sd_bus_error_free(&error);
        sd_bus_message_unref(reply);
        sd_bus_message_unref(m);
        return 0;
}

int main(int argc, char *argv[]) {
        bool interactive;
        const char *name;
        char line[16];
        sd_bus *bus = NULL;
        long calls = 1;

        if (argc > 2 && strcmp(argv[1], "-r") == 0) {
                calls = strtol(argv[2], NULL, 10);
                argc -= 2;
                argv += 2;
        }
        interactive = argc > 1 && strcmp(argv[1], "-i") == 0;
        if (interactive) {
                argc--;
                argv++;
        }
        if (argc < 4 || sd_bus_open_system(&bus) < 0 || sd_bus_get_unique_name(bus, &name) < 0)
                return 2;
        printf("NAME %s %d\n", name, (int) getpid());
        fflush(stdout);
        for (long i = 0; i < calls; i++)
                if (!fgets(line, sizeof line, stdin) || call_once(bus, interactive, argc, argv) != 0)
                        return 2;
        sd_bus_flush_close_unref(bus);
        return 0;
}
