/* hostagentctl's VM commands: list, show, create, the actions, shutdown, console tickets, stats */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "ctl-bus.h"
#include "ctl-error.h"
#include "ctl-job.h"
#include "ctl-output.h"
#include "ctl.h"

typedef struct VmInfo {
        char *uuid, *name, *state, *reason, *spec;
        uint32_t vcpus;
        uint64_t memory_mib;
        bool autostart, persistent;
        CtlGraphics graphics;
} VmInfo;

static const CtlProperty vm_map[] = {
        { "UUID",        's', offsetof(VmInfo, uuid) },
        { "Name",        's', offsetof(VmInfo, name) },
        { "State",       's', offsetof(VmInfo, state) },
        { "StateReason", 's', offsetof(VmInfo, reason) },
        { "Spec",        's', offsetof(VmInfo, spec) },
        { "VCPUs",       'u', offsetof(VmInfo, vcpus) },
        { "MemoryMiB",   't', offsetof(VmInfo, memory_mib) },
        { "Autostart",   'b', offsetof(VmInfo, autostart) },
        { "Persistent",  'b', offsetof(VmInfo, persistent) },
        { "Graphics",    'G', offsetof(VmInfo, graphics) },
        {}
};

static const CtlColumn vm_columns[] = {
        CTL_COLUMN("NAME", "name", CTL_STRING),
        CTL_COLUMN("STATE", "state", CTL_STATE),
        CTL_COLUMN("REASON", "reason", CTL_STRING),
        CTL_COLUMN("VCPUS", "vcpus", CTL_NUMBER),
        CTL_COLUMN("MEMORY", "memory_bytes", CTL_SIZE),
        CTL_COLUMN("UUID", "uuid", CTL_STRING),
        CTL_JSON_COLUMN("PATH", "path", CTL_STRING),
        {}
};

static int vm_row(const char *path, void *object, void *userdata) {
        VmInfo *vm = object;
        CtlTable *t = userdata;
        int r;

        r = ctl_table_add_row(t);
        if (r >= 0) r = ctl_table_set(t, 0, vm->name);
        if (r >= 0) r = ctl_table_set(t, 1, vm->state);
        if (r >= 0) r = ctl_table_set(t, 2, vm->reason);
        if (r >= 0) r = ctl_table_set(t, 3, (uint64_t) vm->vcpus);
        if (r >= 0) r = ctl_table_set(t, 4, vm->memory_mib * 1024 * 1024);
        if (r >= 0) r = ctl_table_set(t, 5, vm->uuid);
        if (r >= 0) r = ctl_table_set(t, 6, path);
        return r;
}

int verb_list(int argc, char **argv, sd_bus *bus) {
        _cleanup_(ctl_table_freep) CtlTable *t = ctl_table_new("vms", vm_columns);
        int r;

        if (!t)
                return -ENOMEM;
        r = ctl_for_each_object(bus, CTL_VM, vm_map, sizeof(VmInfo), vm_row, t);
        if (r < 0)
                return r;
        return ctl_table_print(t);
}

static int vm_fields(CtlFields *f, const char *path, const VmInfo *vm) {
        char console[512];
        int r;

        if (!isempty(vm->graphics.type) && vm->graphics.port >= 0)
                snprintf(console, sizeof console, "%s on %s:%d", vm->graphics.type, strempty(vm->graphics.listen),
                         vm->graphics.port);
        else if (!isempty(vm->graphics.type))
                snprintf(console, sizeof console, "%s on %s (not listening)", vm->graphics.type,
                         strempty(vm->graphics.listen));
        else
                snprintf(console, sizeof console, "none");
        r = ctl_fields_add(f, "Name", "name", CTL_STRING, vm->name);
        if (r >= 0) r = ctl_fields_add(f, "UUID", "uuid", CTL_STRING, vm->uuid);
        if (r >= 0) r = ctl_fields_add(f, "Path", "path", CTL_STRING, path);
        if (r >= 0) r = ctl_fields_add(f, "State", "state", CTL_STATE, vm->state);
        if (r >= 0) r = ctl_fields_add(f, "Reason", "state_reason", CTL_STRING, vm->reason);
        if (r >= 0) r = ctl_fields_add(f, "VCPUs", "vcpus", CTL_NUMBER, (uint64_t) vm->vcpus);
        if (r >= 0) r = ctl_fields_add(f, "Memory", "memory_bytes", CTL_SIZE, vm->memory_mib * 1024 * 1024);
        if (r >= 0) r = ctl_fields_add(f, "Autostart", "autostart", CTL_BOOLEAN, vm->autostart);
        if (r >= 0) r = ctl_fields_add(f, "Persistent", "persistent", CTL_BOOLEAN, vm->persistent);
        if (arg.json == JSON_OFF) {
                if (r >= 0) r = ctl_fields_add(f, "Console", "console", CTL_STRING, console);
        } else {
                if (r >= 0) r = ctl_fields_add(f, "Console", "graphics_type", CTL_STRING, vm->graphics.type);
                if (r >= 0) r = ctl_fields_add(f, "Listen", "graphics_listen", CTL_STRING, vm->graphics.listen);
                if (r >= 0) r = ctl_fields_add(f, "Port", "graphics_port", CTL_SIGNED, (int64_t) vm->graphics.port);
        }
        if (r >= 0) r = ctl_fields_add(f, "Spec", "spec", CTL_STRING, vm->spec);
        return r;
}

int verb_show(int argc, char **argv, sd_bus *bus) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(ctl_fields_freep) CtlFields *f = ctl_fields_new();
        _cleanup_(freep) char *path = NULL;
        VmInfo vm = {};
        int r;

        if (!f)
                return -ENOMEM;
        r = ctl_vm_path(bus, argv[1], &path);
        if (r < 0)
                return r;
        r = ctl_get_all(bus, path, CTL_VM, vm_map, &vm, &error);
        if (r < 0)
                r = ctl_error_report("VM", argv[1], "read it", &error);
        if (r >= 0)
                r = vm_fields(f, path, &vm);
        if (r >= 0)
                r = ctl_fields_print(f);
        ctl_properties_clear(vm_map, &vm);
        return r;
}

static int create_from(sd_bus *bus, const char *method, const char *file) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) char *text = NULL;
        const char *path;
        int r;

        r = ctl_read_file(file, &text);
        if (r < 0)
                return r;
        r = sd_bus_call_method(bus, CTL_SERVICE, CTL_ROOT, CTL_MANAGER, method, &error, &reply, "s", text);
        if (r < 0)
                return ctl_error_report_spec("VM", text, file, "create the VM", &error);
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return r;
        if (!arg.quiet)
                puts(path);
        return 0;
}

int verb_create(int argc, char **argv, sd_bus *bus) {
        return create_from(bus, "CreateVM", argv[1]);
}

int verb_create_xml(int argc, char **argv, sd_bus *bus) {
        return create_from(bus, "CreateVMFromXML", argv[1]);
}

/* The command's name, the method it calls, and the words of its error line. */
static const struct {
        const char *verb, *method, *action;
} vm_actions[] = {
        { "start",    "Start",    "start" },
        { "destroy",  "Destroy",  "destroy" },
        { "pause",    "Pause",    "pause" },
        { "resume",   "Resume",   "resume" },
        { "reboot",   "Reboot",   "reboot" },
        { "reset",    "Reset",    "reset" },
        { "undefine", "Undefine", "undefine" },
};

static int vm_action(sd_bus *bus, const char *vm, const char *method, const char *action) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(freep) char *path = NULL;
        int r;

        r = ctl_vm_path(bus, vm, &path);
        if (r < 0)
                return r;
        r = sd_bus_call_method(bus, CTL_SERVICE, path, CTL_VM, method, &error, NULL, NULL);
        if (r < 0)
                return ctl_error_report("VM", vm, action, &error);
        return 0;
}

int verb_vm_action(int argc, char **argv, sd_bus *bus) {
        int ret = 0;

        for (size_t i = 0; i < ELEMENTSOF(vm_actions); i++) {
                if (!streq(argv[0], vm_actions[i].verb))
                        continue;
                /* Each VM in turn; the first failure is the exit status, the others still run. */
                for (int k = 1; k < argc; k++) {
                        int r = vm_action(bus, argv[k], vm_actions[i].method, vm_actions[i].action);
                        if (r < 0 && ret == 0)
                                ret = r;
                }
                return ret;
        }
        return -EINVAL;
}

int verb_shutdown(int argc, char **argv, sd_bus *bus) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) char *path = NULL;
        const char *job;
        int r;

        r = ctl_vm_path(bus, argv[1], &path);
        if (r < 0)
                return r;
        r = sd_bus_call_method(bus, CTL_SERVICE, path, CTL_VM, "Shutdown", &error, &reply, "u", arg.timeout_sec);
        if (r < 0)
                return ctl_error_report("VM", argv[1], "shut down", &error);
        r = sd_bus_message_read(reply, "o", &job);
        if (r < 0)
                return r;
        return ctl_job_follow(bus, job, argv[1], "shut down");
}

/* 8 characters (what a VNC console takes) from an alphabet without look-alikes. */
static int random_password(char buf[static 9]) {
        static const char alphabet[] = "abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY34679";
        uint8_t bytes[8];

        if (getrandom(bytes, sizeof bytes, 0) != sizeof bytes)
                return -errno;
        for (size_t i = 0; i < 8; i++)
                buf[i] = alphabet[bytes[i] % (sizeof alphabet - 1)];
        buf[8] = 0;
        return 0;
}

int verb_console_ticket(int argc, char **argv, sd_bus *bus) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(freep) char *path = NULL;
        char made[9];
        const char *password = arg.password;
        int r;

        if (!password) {
                r = random_password(made);
                if (r < 0)
                        return ctl_fail(NULL, "cannot make a password: %s", strerror(-r));
                password = made;
        }
        r = ctl_vm_path(bus, argv[1], &path);
        if (r < 0)
                return r;
        r = sd_bus_call_method(bus, CTL_SERVICE, path, CTL_VM, "SetConsoleTicket", &error, NULL, "su", password,
                               arg.ttl_sec);
        if (r < 0)
                return ctl_error_report("VM", argv[1], "set a console ticket", &error);
        if (!arg.password)
                puts(password);
        return 0;
}

/* The few statistics of GetAllVMStats a table shows, from libvirt's names. */
typedef struct VmStats {
        uint64_t cpu_ns, balloon_kib, vcpus;
} VmStats;

static int read_number(sd_bus_message *m, uint64_t *ret) {
        const char *contents;
        union { uint32_t u; int32_t i; uint64_t t; int64_t x; } v = {};
        char type;
        int r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
                return r;
        if (!strchr("uitx", contents[0]) || contents[1])
                return sd_bus_message_skip(m, "v");
        r = sd_bus_message_read(m, "v", contents, &v);
        if (r < 0)
                return r;
        *ret = contents[0] == 'u' ? v.u : contents[0] == 'i' ? (uint64_t) (v.i < 0 ? 0 : v.i) : v.t;
        return 0;
}

static int read_vm_stats(sd_bus_message *m, VmStats *s) {
        const char *key;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read_basic(m, 's', &key);
                if (r < 0)
                        return r;
                r = streq(key, "cpu.time") ? read_number(m, &s->cpu_ns)
                  : streq(key, "balloon.current") ? read_number(m, &s->balloon_kib)
                  : streq(key, "vcpu.current") ? read_number(m, &s->vcpus)
                  : sd_bus_message_skip(m, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int stats_row(CtlTable *t, const char *path, VmInfo *vm, const VmStats *s) {
        char cpu[32];
        int r;

        snprintf(cpu, sizeof cpu, "%.1fs", (double) s->cpu_ns / 1e9);
        r = ctl_table_add_row(t);
        if (r >= 0) r = ctl_table_set(t, 0, vm->name);
        if (r >= 0) r = ctl_table_set(t, 1, vm->state);
        if (r >= 0 && arg.json == JSON_OFF) r = ctl_table_set(t, 2, cpu);
        if (r >= 0 && arg.json != JSON_OFF) r = ctl_table_set(t, 2, s->cpu_ns);
        if (r >= 0) r = ctl_table_set(t, 3, s->balloon_kib * 1024);
        if (r >= 0) r = ctl_table_set(t, 4, s->vcpus);
        if (r >= 0) r = ctl_table_set(t, 5, path);
        return r;
}

static int stats_vm(sd_bus *bus, const char *path, VmInfo *vm) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        return ctl_get_all(bus, path, CTL_VM, vm_map, vm, &error);
}

static int stats_all(sd_bus *bus) {
        static const CtlColumn human[] = {
                CTL_COLUMN("NAME", "name", CTL_STRING),
                CTL_COLUMN("STATE", "state", CTL_STATE),
                CTL_COLUMN("CPU-TIME", "cpu_time", CTL_STRING),
                CTL_COLUMN("MEMORY", "memory_bytes", CTL_SIZE),
                CTL_COLUMN("VCPUS", "vcpus", CTL_NUMBER),
                CTL_JSON_COLUMN("PATH", "path", CTL_STRING),
                {}
        };
        static const CtlColumn json[] = {
                CTL_COLUMN("NAME", "name", CTL_STRING),
                CTL_COLUMN("STATE", "state", CTL_STATE),
                CTL_COLUMN("CPU", "cpu_time_ns", CTL_NUMBER),
                CTL_COLUMN("MEMORY", "memory_bytes", CTL_SIZE),
                CTL_COLUMN("VCPUS", "vcpus", CTL_NUMBER),
                CTL_JSON_COLUMN("PATH", "path", CTL_STRING),
                {}
        };
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(ctl_table_freep) CtlTable *t = ctl_table_new("stats", arg.json != JSON_OFF ? json : human);
        const char *path;
        int r;

        if (!t)
                return -ENOMEM;
        r = sd_bus_call_method(bus, CTL_SERVICE, CTL_ROOT, CTL_MANAGER, "GetAllVMStats", &error, &reply, NULL);
        if (r < 0)
                return ctl_error_report(NULL, NULL, "read the VMs' statistics", &error);
        r = sd_bus_message_enter_container(reply, 'a', "(oa{sv})");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'r', "oa{sv}")) > 0) {
                VmStats s = {};
                VmInfo vm = {};

                r = sd_bus_message_read_basic(reply, 'o', &path);
                if (r >= 0) r = read_vm_stats(reply, &s);
                /* A VM gone since the statistics were read is left out. */
                if (r >= 0 && stats_vm(bus, path, &vm) >= 0)
                        r = stats_row(t, path, &vm, &s);
                ctl_properties_clear(vm_map, &vm);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        if (r < 0)
                return r;
        return ctl_table_print(t);
}

int verb_stats(int argc, char **argv, sd_bus *bus) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(ctl_fields_freep) CtlFields *f = NULL;
        _cleanup_(freep) char *path = NULL;
        int r;

        if (argc < 2)
                return stats_all(bus);
        f = ctl_fields_new();
        if (!f)
                return -ENOMEM;
        r = ctl_vm_path(bus, argv[1], &path);
        if (r < 0)
                return r;
        r = sd_bus_call_method(bus, CTL_SERVICE, path, CTL_VM, "GetStats", &error, &reply, NULL);
        if (r < 0)
                return ctl_error_report("VM", argv[1], "read its statistics", &error);
        r = ctl_dict_fields(reply, f);
        if (r < 0)
                return r;
        return ctl_fields_print(f);
}
