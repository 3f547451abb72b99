/* hostagentctl: changing VMs while they run (disks, NICs, memory, vCPUs) and ApplyVM */
#include <json-c/json.h>
#include <stdio.h>

#include "ctl.h"
#include "ctl-bus.h"
#include "ctl-error.h"
#include "ctl-job.h"
#include "ctl-output.h"
#include "json-cleanup.h"

/* A device argument: JSON as it is when it starts with "{", else a file (or "-"). */
static int device_text(const char *argument, char **ret) {
        if (argument[0] == '{') {
                *ret = strdup(argument);
                return *ret ? 0 : -ENOMEM;
        }
        return ctl_read_file(argument, ret);
}

/* --live-only and --config-only as the attach methods' options. */
static int append_scope(sd_bus_message *m) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && arg.config_only)
                r = sd_bus_message_append(m, "{sv}", "live", "b", 0);
        if (r >= 0 && arg.live_only)
                r = sd_bus_message_append(m, "{sv}", "persistent", "b", 0);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

static int attach(sd_bus *bus, const char *vm, const char *method, const char *argument, const char *action) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(freep) char *path = NULL, *text = NULL;
        const char *answer;
        int r;

        r = device_text(argument, &text);
        if (r >= 0)
                r = ctl_vm_path(bus, vm, &path);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &m, CTL_SERVICE, path, CTL_VM, method);
        if (r >= 0)
                r = sd_bus_message_append(m, "s", text);
        if (r >= 0)
                r = append_scope(m);
        if (r < 0)
                return r;
        r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r < 0)
                return ctl_error_report("VM", vm, action, &error);
        r = sd_bus_message_read(reply, "s", &answer);
        if (r >= 0 && !arg.quiet)
                puts(answer);   /* the target or the MAC: what detach takes */
        return r < 0 ? r : 0;
}

/* DetachDisk(s target) and DetachNIC(s mac) take no options: the scope is the running VM and its
 * definition, and how long the guest gets is the daemon's --detach-timeout, which ends the job we
 * wait for. */
static int detach(sd_bus *bus, const char *vm, const char *method, const char *key, const char *action) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(freep) char *path = NULL;
        const char *job;
        int r;

        if (arg.live_only || arg.config_only)
                return ctl_fail(vm, "--live-only and --config-only do not apply to a detach: it is from the "
                                "running VM and from its definition");
        r = ctl_vm_path(bus, vm, &path);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &m, CTL_SERVICE, path, CTL_VM, method);
        if (r >= 0)
                r = sd_bus_message_append(m, "s", key);
        if (r < 0)
                return r;
        r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r < 0)
                return ctl_error_report("VM", vm, action, &error);
        r = sd_bus_message_read(reply, "o", &job);
        if (r < 0)
                return r;
        return ctl_job_follow(bus, job, vm, action);
}

int verb_attach_disk(int argc, char **argv, sd_bus *bus) {
        return attach(bus, argv[1], "AttachDisk", argv[2], "attach the disk");
}

int verb_attach_nic(int argc, char **argv, sd_bus *bus) {
        return attach(bus, argv[1], "AttachNIC", argv[2], "attach the NIC");
}

int verb_detach_disk(int argc, char **argv, sd_bus *bus) {
        return detach(bus, argv[1], "DetachDisk", argv[2], "detach the disk");
}

int verb_detach_nic(int argc, char **argv, sd_bus *bus) {
        return detach(bus, argv[1], "DetachNIC", argv[2], "detach the NIC");
}

static int set_amount(sd_bus *bus, const char *vm, const char *method, const char *type, uint64_t value,
                      const char *action) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(freep) char *path = NULL;
        int r;

        r = ctl_vm_path(bus, vm, &path);
        if (r < 0)
                return r;
        if (streq(type, "t"))
                r = sd_bus_call_method(bus, CTL_SERVICE, path, CTL_VM, method, &error, NULL, "t", value);
        else
                r = sd_bus_call_method(bus, CTL_SERVICE, path, CTL_VM, method, &error, NULL, "u", (uint32_t) value);
        if (r < 0)
                return ctl_error_report("VM", vm, action, &error);
        return 0;
}

int verb_set_memory(int argc, char **argv, sd_bus *bus) {
        uint64_t bytes;

        /* A plain number is MiB, as the spec's memory_mib; units as everywhere else. */
        if (ctl_parse_size(argv[2], &bytes) < 0)
                return ctl_fail(argv[1], "memory '%s': must be a size like 2048 (MiB), 512M or 4G", argv[2]);
        if (strspn(argv[2], "0123456789") == strlen(argv[2]))
                bytes <<= 20;
        return set_amount(bus, argv[1], "SetMemory", "t", bytes >> 20, "set the memory");
}

int verb_set_vcpus(int argc, char **argv, sd_bus *bus) {
        char *end;
        unsigned long n = strtoul(argv[2], &end, 10);

        if (*end || end == argv[2] || n == 0 || n > UINT32_MAX)
                return ctl_fail(argv[1], "vCPUs '%s': must be a positive number", argv[2]);
        return set_amount(bus, argv[1], "SetVCPUs", "u", n, "set the vCPUs");
}

static const char *step_what(json_object *step, char *buf, size_t size) {
        json_object *v;

        for (const char *const *k = (const char *const[]) { "target", "mac", "mib", "vcpus", "autostart", "field", NULL };
             *k; k++)
                if (json_object_object_get_ex(step, *k, &v)) {
                        json_object *from, *to;
                        if (streq(*k, "field") && json_object_object_get_ex(step, "from", &from) &&
                            json_object_object_get_ex(step, "to", &to))
                                snprintf(buf, size, "%s: %s -> %s", json_object_get_string(v),
                                         json_object_to_json_string(from), json_object_to_json_string(to));
                        else
                                snprintf(buf, size, "%s", json_object_get_string(v));
                        return buf;
                }
        return "";
}

/* ApplyVM's plan as a table: what each step does, and whether now or at the next start. */
static int print_apply_plan(const char *text) {
        static const CtlColumn columns[] = {
                CTL_COLUMN("STEP", "step", CTL_NUMBER),
                CTL_COLUMN("ACTION", "action", CTL_STRING),
                CTL_COLUMN("WHAT", "what", CTL_STRING),
                CTL_COLUMN("WHEN", "when", CTL_STRING),
                {}
        };
        _cleanup_(json_object_putp) json_object *plan = json_tokener_parse(text);
        _cleanup_(ctl_table_freep) CtlTable *t = ctl_table_new("plan", columns);
        json_object *steps, *v;
        int r = 0;

        if (!t)
                return -ENOMEM;
        if (!plan || !json_object_object_get_ex(plan, "steps", &steps) || !json_object_is_type(steps, json_type_array))
                return ctl_fail(NULL, "the agent's plan has no steps: %s", text);
        for (size_t i = 0; r >= 0 && i < json_object_array_length(steps); i++) {
                json_object *step = json_object_array_get_idx(steps, i);
                char what[256];
                bool live = json_object_object_get_ex(step, "live", &v) && json_object_get_boolean(v);

                r = ctl_table_add_row(t);
                if (r >= 0) r = ctl_table_set(t, 0, (uint64_t) (i + 1));
                if (r >= 0) r = ctl_table_set(t, 1, json_object_object_get_ex(step, "action", &v) ? json_object_get_string(v) : "");
                if (r >= 0) r = ctl_table_set(t, 2, step_what(step, what, sizeof what));
                if (r >= 0) r = ctl_table_set(t, 3, live ? "now" : "next start");
        }
        if (r < 0)
                return r;
        if (ctl_table_rows(t) == 0 && arg.json == JSON_OFF) {
                if (!arg.quiet)
                        puts("Nothing to change.");
                return 0;
        }
        return arg.quiet && arg.json == JSON_OFF ? 0 : ctl_table_print(t);
}

int verb_apply(int argc, char **argv, sd_bus *bus) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(freep) char *text = NULL;
        const char *vm, *plan;
        int r;

        r = ctl_read_file(argv[1], &text);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &m, CTL_SERVICE, CTL_ROOT, CTL_MANAGER, "ApplyVM");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", text);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && arg.dry_run)
                r = sd_bus_message_append(m, "{sv}", "dry_run", "b", 1);
        if (r >= 0 && arg.restart)
                r = sd_bus_message_append(m, "{sv}", "restart", "b", 1);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r < 0)
                return ctl_error_report_spec("VM", text, argv[1], "apply the spec", &error);
        r = sd_bus_message_read(reply, "os", &vm, &plan);
        if (r < 0)
                return r;
        return print_apply_plan(plan);
}
