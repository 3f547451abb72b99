/* hostagentctl's VM commands: list, show, create, the actions, shutdown, console tickets, stats */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "ctl-bus.h"
#include "ctl-error.h"
#include "ctl-job.h"
#include "ctl-object.h"
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

static int vm_memory_bytes(const char *path, const void *object, void *userdata, CtlValue *ret) {
        const VmInfo *vm = object;

        *ret = (CtlValue) { .number = vm->memory_mib * 1024 * 1024 };
        return 0;
}

/* "vnc on 127.0.0.1:5900", "vnc on 127.0.0.1 (not listening)", "none" */
static int vm_console(const char *path, const void *object, void *userdata, CtlValue *ret) {
        const CtlGraphics *g = &((const VmInfo *) object)->graphics;
        char *text;
        int r;

        if (!isempty(g->type) && g->port >= 0)
                r = asprintf(&text, "%s on %s:%d", g->type, strempty(g->listen), g->port);
        else if (!isempty(g->type))
                r = asprintf(&text, "%s on %s (not listening)", g->type, strempty(g->listen));
        else
                r = asprintf(&text, "none");
        if (r < 0)
                return -ENOMEM;
        *ret = (CtlValue) { .string = text, .owned_string = text };
        return 0;
}

static int vm_graphics_type(const char *path, const void *object, void *userdata, CtlValue *ret) {
        *ret = (CtlValue) { .string = ((const VmInfo *) object)->graphics.type };
        return 0;
}

static int vm_graphics_listen(const char *path, const void *object, void *userdata, CtlValue *ret) {
        *ret = (CtlValue) { .string = ((const VmInfo *) object)->graphics.listen };
        return 0;
}

static int vm_graphics_port(const char *path, const void *object, void *userdata, CtlValue *ret) {
        *ret = (CtlValue) { .signed_number = ((const VmInfo *) object)->graphics.port };
        return 0;
}

static const CtlColumn vm_columns[] = {
        CTL_PROPERTY("NAME", "name", CTL_STRING, "Name"),
        CTL_PROPERTY("STATE", "state", CTL_STATE, "State"),
        CTL_PROPERTY("REASON", "reason", CTL_STRING, "StateReason"),
        CTL_PROPERTY("VCPUS", "vcpus", CTL_NUMBER, "VCPUs"),
        CTL_FORMATTED("MEMORY", "memory_bytes", CTL_SIZE, vm_memory_bytes),
        CTL_PROPERTY("UUID", "uuid", CTL_STRING, "UUID"),
        CTL_PATH_COLUMN,
        {}
};

static const CtlColumn vm_fields[] = {
        CTL_PROPERTY("Name", "name", CTL_STRING, "Name"),
        CTL_PROPERTY("UUID", "uuid", CTL_STRING, "UUID"),
        CTL_FORMATTED("Path", "path", CTL_STRING, ctl_format_path),
        CTL_PROPERTY("State", "state", CTL_STATE, "State"),
        CTL_PROPERTY("Reason", "state_reason", CTL_STRING, "StateReason"),
        CTL_PROPERTY("VCPUs", "vcpus", CTL_NUMBER, "VCPUs"),
        CTL_FORMATTED("Memory", "memory_bytes", CTL_SIZE, vm_memory_bytes),
        CTL_PROPERTY("Autostart", "autostart", CTL_BOOLEAN, "Autostart"),
        CTL_PROPERTY("Persistent", "persistent", CTL_BOOLEAN, "Persistent"),
        /* People read the console in one line; JSON has its parts. */
        CTL_FORMATTED("Console", "console", CTL_STRING, vm_console, .people_only = true),
        CTL_FORMATTED("Console", "graphics_type", CTL_STRING, vm_graphics_type, .json_only = true),
        CTL_FORMATTED("Listen", "graphics_listen", CTL_STRING, vm_graphics_listen, .json_only = true),
        CTL_FORMATTED("Port", "graphics_port", CTL_SIGNED, vm_graphics_port, .json_only = true),
        CTL_PROPERTY("Spec", "spec", CTL_STRING, "Spec"),
        {}
};

static const CtlObjectType vm_type = {
        .interface = CTL_VM,
        .kind = "VM",
        .map = vm_map,
        .size = sizeof(VmInfo),
        .table = "vms",
        .columns = vm_columns,
        .fields = vm_fields,
        .lookup = ctl_vm_path,
};

int verb_list(int argc, char **argv, sd_bus *bus) {
        return ctl_list_objects(bus, &vm_type, NULL);
}

int verb_show(int argc, char **argv, sd_bus *bus) {
        return ctl_show_object(bus, &vm_type, argv[1]);
}

static int create_from(sd_bus *bus, const char *method, const char *file) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) char *text = NULL;
        int r;

        r = ctl_read_file(file, &text);
        if (r < 0)
                return r;
        r = ctl_call(bus, CTL_ROOT, CTL_MANAGER, method, CTL_ABOUT_SPEC("VM", file, "create the VM", text), &reply,
                     "s", text);
        if (r < 0)
                return r;
        return ctl_reply_print_path(reply);
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
        _cleanup_(freep) char *path = NULL;
        int r;

        r = ctl_vm_path(bus, vm, &path);
        if (r < 0)
                return r;
        return ctl_call(bus, path, CTL_VM, method, CTL_ABOUT("VM", vm, action), NULL, NULL);
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
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) char *path = NULL;
        int r;

        r = ctl_vm_path(bus, argv[1], &path);
        if (r < 0)
                return r;
        r = ctl_call(bus, path, CTL_VM, "Shutdown", CTL_ABOUT("VM", argv[1], "shut down"), &reply, "u",
                     arg.timeout_sec);
        if (r < 0)
                return r;
        return ctl_job_follow_reply(bus, reply, argv[1], "shut down");
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
        r = ctl_call(bus, path, CTL_VM, "SetConsoleTicket", CTL_ABOUT("VM", argv[1], "set a console ticket"),
                     NULL, "su", password, arg.ttl_sec);
        if (r < 0)
                return r;
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

static int vm_stat(sd_bus_message *m, const char *key, void *userdata) {
        VmStats *s = userdata;

        return streq(key, "cpu.time") ? read_number(m, &s->cpu_ns)
             : streq(key, "balloon.current") ? read_number(m, &s->balloon_kib)
             : streq(key, "vcpu.current") ? read_number(m, &s->vcpus)
             : sd_bus_message_skip(m, "v");
}

static int stats_row(CtlTable *t, const char *path, VmInfo *vm, const VmStats *s) {
        char cpu[32];
        int r;

        snprintf(cpu, sizeof cpu, "%.1fs", (double) s->cpu_ns / 1e9);
        r = ctl_table_add_row(t);
        if (r >= 0) r = ctl_table_set(t, 0, vm->name);
        if (r >= 0) r = ctl_table_set(t, 1, vm->state);
        if (r >= 0) r = ctl_table_set(t, 2, cpu);
        if (r >= 0) r = ctl_table_set(t, 3, s->cpu_ns);
        if (r >= 0) r = ctl_table_set(t, 4, s->balloon_kib * 1024);
        if (r >= 0) r = ctl_table_set(t, 5, s->vcpus);
        if (r >= 0) r = ctl_table_set(t, 6, path);
        return r;
}

static int stats_vm(sd_bus *bus, const char *path, VmInfo *vm) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        return ctl_get_all(bus, path, CTL_VM, vm_map, vm, &error);
}

static int stats_all(sd_bus *bus) {
        static const CtlColumn columns[] = {
                CTL_COLUMN("NAME", "name", CTL_STRING),
                CTL_COLUMN("STATE", "state", CTL_STATE),
                CTL_PEOPLE_COLUMN("CPU-TIME", "cpu_time", CTL_STRING),
                CTL_JSON_COLUMN("CPU", "cpu_time_ns", CTL_NUMBER),
                CTL_COLUMN("MEMORY", "memory_bytes", CTL_SIZE),
                CTL_COLUMN("VCPUS", "vcpus", CTL_NUMBER),
                CTL_JSON_COLUMN("PATH", "path", CTL_STRING),
                {}
        };
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(ctl_table_freep) CtlTable *t = ctl_table_new("stats", columns);
        const char *path;
        int r;

        if (!t)
                return -ENOMEM;
        r = ctl_call(bus, CTL_ROOT, CTL_MANAGER, "GetAllVMStats", CTL_ABOUT(NULL, NULL, "read the VMs' statistics"),
                     &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(oa{sv})");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'r', "oa{sv}")) > 0) {
                VmStats s = {};
                VmInfo vm = {};

                r = sd_bus_message_read_basic(reply, 'o', &path);
                if (r >= 0) r = ctl_read_dict(reply, vm_stat, &s);
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
        r = ctl_call(bus, path, CTL_VM, "GetStats", CTL_ABOUT("VM", argv[1], "read its statistics"), &reply,
                     NULL);
        if (r < 0)
                return r;
        r = ctl_dict_fields(reply, f);
        if (r < 0)
                return r;
        return ctl_fields_print(f);
}
