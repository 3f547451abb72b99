/* Sends the agent one call in which a caller's string is BYTES long (more than a command line
 * may carry), and prints what comes back: the error's name, its message's length, and the
 * message with each run of the filler 'x' longer than 8 shown as "x{N}".
 * Usage: huge-arg BYTES KIND [OBJECT-PATH], KIND one of get-vm, get-pool, log-level,
 * setup-option, create-vm-key, create-volume-option (on the pool at OBJECT-PATH). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#define DEST "org.hostagent1"
#define ROOT "/org/hostagent1"
#define MANAGER "org.hostagent1.Manager"

static int new_call(sd_bus *bus, const char *path, const char *interface, const char *member,
                    sd_bus_message **ret) {
        return sd_bus_message_new_method_call(bus, ret, DEST, path, interface, member);
}

static int build(sd_bus *bus, const char *kind, const char *huge, const char *path, sd_bus_message **m) {
        char *spec;
        int r;

        if (strcmp(kind, "get-vm") == 0 || strcmp(kind, "get-pool") == 0) {
                r = new_call(bus, ROOT, MANAGER, kind[4] == 'v' ? "GetVM" : "GetStoragePool", m);
                return r < 0 ? r : sd_bus_message_append(*m, "s", huge);
        }
        if (strcmp(kind, "log-level") == 0) {
                r = new_call(bus, ROOT, "org.freedesktop.DBus.Properties", "Set", m);
                return r < 0 ? r : sd_bus_message_append(*m, "ssv", MANAGER, "LogLevel", "s", huge);
        }
        if (strcmp(kind, "setup-option") == 0) {
                r = new_call(bus, ROOT, MANAGER, "SetupNetworks", m);
                return r < 0 ? r : sd_bus_message_append(*m, "sa{sv}", "{\"networks\":{\"hx0\":{\"remove\":true}}}",
                                                         1, huge, "b", 1);
        }
        if (strcmp(kind, "create-vm-key") == 0) {
                if (asprintf(&spec, "{\"%s\":1}", huge) < 0)
                        return -1;
                r = new_call(bus, ROOT, MANAGER, "CreateVM", m);
                if (r >= 0)
                        r = sd_bus_message_append(*m, "s", spec);
                free(spec);
                return r;
        }
        if (strcmp(kind, "create-volume-option") == 0 && path) {
                r = new_call(bus, path, "org.hostagent1.StoragePool", "CreateVolume", m);
                return r < 0 ? r : sd_bus_message_append(*m, "stsa{sv}", "v1", (uint64_t) 1048576, "raw", 1, huge,
                                                         "s", "x");
        }
        return -1;
}

static void print_shortened(const char *s) {
        while (*s) {
                size_t n = strspn(s, "x");

                if (n > 8) {
                        printf("x{%zu}", n);
                        s += n;
                } else
                        putchar(*s++);
        }
        putchar('\n');
}

int main(int argc, char *argv[]) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *m = NULL, *reply = NULL;
        sd_bus *bus = NULL;
        char *huge = NULL;
        size_t bytes;
        int r, rc = 2;

        if (argc < 3 || sd_bus_open_system(&bus) < 0)
                return 2;
        bytes = strtoul(argv[1], NULL, 10);
        huge = malloc(bytes + 1);
        if (!huge)
                goto out;
        memset(huge, 'x', bytes);
        huge[bytes] = 0;
        if (build(bus, argv[2], huge, argc > 3 ? argv[3] : NULL, &m) < 0)
                goto out;
        r = sd_bus_call(bus, m, 60 * 1000 * 1000, &error, &reply);
        if (r >= 0)
                printf("ok\n");
        else {
                printf("%s\n%zu\n", error.name ? error.name : "(none)", error.message ? strlen(error.message) : 0);
                print_shortened(error.message ? error.message : "");
        }
        rc = 0;
out:
        sd_bus_error_free(&error);
        sd_bus_message_unref(reply);
        sd_bus_message_unref(m);
        sd_bus_flush_close_unref(bus);
        free(huge);
        return rc;
}
