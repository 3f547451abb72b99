/* hostagentctl: a VM's guest agent (guest-info) and its filesystems (freeze, thaw) */
#include <stdio.h>

#include "ctl.h"
#include "ctl-bus.h"
#include "ctl-error.h"
#include "ctl-output.h"
#include "strv.h"

/* GuestInfo's keys as people read them; a key the agent did not say is left out. */
static const struct {
        const char *key, *label;
} guest_info_labels[] = {
        { "hostname", "Hostname" },
        { "os_id", "OS ID" },
        { "os_name", "OS" },
        { "os_version", "OS version" },
        { "kernel_release", "Kernel" },
        { "kernel_version", "Kernel version" },
        { "timezone", "Timezone" },
        { "timezone_offset", "UTC offset (s)" },
        { "users", "Users" },
};

static const char *guest_info_label(const char *key) {
        for (size_t i = 0; i < ELEMENTSOF(guest_info_labels); i++)
                if (streq(guest_info_labels[i].key, key))
                        return guest_info_labels[i].label;
        return key;   /* a key newer than us: as it is */
}

static int guest_info_value(sd_bus_message *m, const char *key, void *userdata) {
        CtlFields *f = userdata;
        const char *label = guest_info_label(key), *contents, *s;
        _cleanup_(strv_freep) char **users = NULL;
        int32_t i;
        char type;
        int r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
                return r;
        if (streq(contents, "s")) {
                r = sd_bus_message_read(m, "v", "s", &s);
                return r < 0 ? r : ctl_fields_add(f, label, key, CTL_STRING, s);
        }
        if (streq(contents, "i")) {
                r = sd_bus_message_read(m, "v", "i", &i);
                return r < 0 ? r : ctl_fields_add(f, label, key, CTL_SIGNED, (int64_t) i);
        }
        if (streq(contents, "as")) {
                r = sd_bus_message_enter_container(m, 'v', "as");
                if (r >= 0)
                        r = sd_bus_message_read_strv(m, &users);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                return r < 0 ? r : ctl_fields_add(f, label, key, CTL_STRINGS, users);
        }
        return sd_bus_message_skip(m, "v");
}

/* GuestAddresses as "eth0 52:54:00:12:34:56 192.0.2.5/24", one a line. */
static int guest_addresses_read(sd_bus *bus, const char *path, char ***ret, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(strv_freep) char **lines = calloc(1, sizeof(char *));
        const char *iface, *mac, *address;
        size_t n = 0;
        int r;

        if (!lines)
                return -ENOMEM;
        r = sd_bus_get_property(bus, CTL_SERVICE, path, CTL_VM, "GuestAddresses", error, &reply, "a(sss)");
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "(sss)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(sss)", &iface, &mac, &address)) > 0) {
                char **grown = realloc(lines, (n + 2) * sizeof(char *));

                if (!grown)
                        return -ENOMEM;
                lines = grown;
                if (asprintf(&lines[n], "%s %s %s", iface, isempty(mac) ? "-" : mac, address) < 0)
                        return -ENOMEM;
                lines[++n] = NULL;
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(lines);
        return 0;
}

static int guest_info_fields(sd_bus *bus, const char *vm, const char *path, CtlFields *f) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *info = NULL;
        _cleanup_(strv_freep) char **addresses = NULL;
        _cleanup_(freep) char *agent = NULL;
        int r;

        r = sd_bus_get_property_string(bus, CTL_SERVICE, path, CTL_VM, "GuestAgent", &error, &agent);
        if (r >= 0)
                r = sd_bus_get_property(bus, CTL_SERVICE, path, CTL_VM, "GuestInfo", &error, &info, "a{sv}");
        if (r >= 0)
                r = guest_addresses_read(bus, path, &addresses, &error);
        if (r < 0)
                return sd_bus_error_is_set(&error) ? ctl_error_report("VM", vm, "read its guest agent", &error) : r;
        r = ctl_fields_add(f, "Guest agent", "agent", CTL_STATE, agent);
        if (r >= 0)
                r = ctl_read_dict(info, guest_info_value, f);
        if (r >= 0)
                r = ctl_fields_add(f, "Addresses", "addresses", CTL_STRINGS, addresses);
        return r;
}

int verb_guest_info(int argc, char **argv, sd_bus *bus) {
        _cleanup_(ctl_fields_freep) CtlFields *f = ctl_fields_new();
        _cleanup_(freep) char *path = NULL;
        int r;

        if (!f)
                return -ENOMEM;
        r = ctl_vm_path(bus, argv[1], &path);
        if (r < 0)
                return r;
        r = guest_info_fields(bus, argv[1], path, f);
        if (r < 0)
                return r;
        return ctl_fields_print(f);
}

/* freeze and thaw: print how many filesystems the agent froze or thawed. */
int verb_guest_freeze(int argc, char **argv, sd_bus *bus) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) char *path = NULL;
        bool thaw = streq(argv[0], "thaw");
        uint32_t count;
        int r;

        r = ctl_vm_path(bus, argv[1], &path);
        if (r < 0)
                return r;
        r = ctl_call(bus, path, CTL_VM, thaw ? "ThawFilesystems" : "FreezeFilesystems",
                     CTL_ABOUT("VM", argv[1], thaw ? "thaw its filesystems" : "freeze its filesystems"), &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "u", &count);
        if (r < 0)
                return r;
        if (!arg.quiet)
                printf("%" PRIu32 "\n", count);
        return 0;
}
