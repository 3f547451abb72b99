/* hostagentctl monitor: every signal of the agent as one line, with gaps in `sequence` noted */
#include <inttypes.h>
#include <stddef.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl-bus.h"
#include "ctl-error.h"
#include "ctl-output.h"
#include "ctl.h"
#include "json-cleanup.h"

/* The agent's typed signals by their arguments' names; `sequence` counts them all, across
 * interfaces, so one counter follows them (README: "a gap means something was missed"). */
static const struct {
        const char *interface, *member, *args[4];
} known_signals[] = {
        { CTL_VM, "StateChanged", { "state", "reason", "sequence" } },
        { CTL_POOL, "StateChanged", { "state", "message", "sequence" } },
        { CTL_MANAGER, "JobNew", { "job" } },
        { CTL_MANAGER, "JobRemoved", { "job", "result" } },
        { "org.freedesktop.DBus.ObjectManager", "InterfacesAdded", { "object", "interfaces" } },
        { "org.freedesktop.DBus.ObjectManager", "InterfacesRemoved", { "object", "interfaces" } },
        { "org.freedesktop.DBus.Properties", "PropertiesChanged", { "interface", "changed", "invalidated" } },
};

typedef struct Monitor {
        bool have_sequence;
        uint64_t sequence;
} Monitor;

static json_object *read_value(sd_bus_message *m);

/* VM names by path, so that a line says "VM web1" and not its UUID: read at the start, kept by
 * the signals that add a VM or change its Name. */
static json_object *vm_names;

/* A VM's Name in InterfacesAdded or PropertiesChanged: remembered for its later lines. */
static void vm_name_learn(const char *path, json_object *props) {
        json_object *name;

        if (strncmp(path, CTL_ROOT "/vm/", strlen(CTL_ROOT "/vm/")) == 0 && props &&
            json_object_object_get_ex(props, "Name", &name) && json_object_is_type(name, json_type_string))
                json_object_object_add(vm_names, path, json_object_get(name));
}

static json_object *read_container(sd_bus_message *m, char type, const char *contents) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        bool dict = type == 'a' && contents[0] == '{';

        if (sd_bus_message_enter_container(m, type, contents) < 0)
                return NULL;
        o = dict ? json_object_new_object() : json_object_new_array();
        for (;;) {
                const char *inner;
                char t;
                int r = sd_bus_message_peek_type(m, &t, &inner);

                if (r < 0)
                        return NULL;
                if (r == 0)
                        break;
                if (dict) {
                        _cleanup_(json_object_putp) json_object *pair = read_container(m, t, inner);
                        json_object *k = json_object_array_get_idx(pair, 0), *v = json_object_array_get_idx(pair, 1);
                        if (!pair || !k)
                                return NULL;
                        json_object_object_add(o, json_object_get_string(k), json_object_get(v));
                } else {
                        json_object *v = read_value(m);
                        if (!v)
                                return NULL;
                        json_object_array_add(o, v);
                }
        }
        if (sd_bus_message_exit_container(m) < 0)
                return NULL;
        return TAKE_PTR(o);
}

/* Any D-Bus value as JSON: variants unwrapped, dicts as objects, structs and arrays as arrays. */
static json_object *read_value(sd_bus_message *m) {
        union { uint8_t y; int b; int16_t n; uint16_t q; int32_t i; uint32_t u; int64_t x; uint64_t t; double d;
                const char *s; } v = {};
        const char *contents;
        char type;

        if (sd_bus_message_peek_type(m, &type, &contents) <= 0)
                return NULL;
        if (type == 'v' || type == 'a' || type == 'r' || type == 'e') {
                if (type != 'v')
                        return read_container(m, type, contents);
                if (sd_bus_message_enter_container(m, 'v', contents) < 0)
                        return NULL;
                json_object *inner = read_value(m);
                return sd_bus_message_exit_container(m) < 0 ? (json_object_put(inner), NULL) : inner;
        }
        if (sd_bus_message_read_basic(m, type, &v) < 0)
                return NULL;
        switch (type) {
        case 'y': return json_object_new_int(v.y);
        case 'b': return json_object_new_boolean(v.b);
        case 'n': return json_object_new_int(v.n);
        case 'q': return json_object_new_int(v.q);
        case 'i': return json_object_new_int(v.i);
        case 'u': return json_object_new_int64(v.u);
        case 'x': return json_object_new_int64(v.x);
        case 't': return json_object_new_uint64(v.t);
        case 'd': return json_object_new_double(v.d);
        case 'h': return json_object_new_int(v.i);
        default: return json_object_new_string(v.s);
        }
}


static void print_value(FILE *f, json_object *v);

static void print_label_or_value(FILE *f, json_object *v) {
        const char *s = json_object_get_string(v);

        if (json_object_is_type(v, json_type_string) && strncmp(s, CTL_ROOT "/", strlen(CTL_ROOT) + 1) == 0) {
                _cleanup_(freep) char *label = ctl_object_label(s, vm_names);
                fputs(label ?: s, f);
        } else
                print_value(f, v);
}

/* A value for a person: strings bare unless they need quotes, lists in [], dicts in {}. */
static void print_value(FILE *f, json_object *v) {
        switch (json_object_get_type(v)) {
        case json_type_string: {
                const char *s = json_object_get_string(v);
                if (!*s || strpbrk(s, " =,[]{}\"\n"))
                        fputs(json_object_to_json_string_ext(v, JSON_C_TO_STRING_NOSLASHESCAPE), f);
                else
                        fputs(s, f);
                break;
        }
        case json_type_array:
                fputc('[', f);
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        fputs(i ? ", " : "", f);
                        print_label_or_value(f, json_object_array_get_idx(v, i));
                }
                fputc(']', f);
                break;
        case json_type_object: {
                bool first = true;
                fputc('{', f);
                json_object_object_foreach(v, key, val) {
                        fprintf(f, "%s%s=", first ? "" : " ", key);
                        print_label_or_value(f, val);
                        first = false;
                }
                fputc('}', f);
                break;
        }
        default:
                fputs(json_object_to_json_string(v), f);
        }
}

static void print_properties(FILE *f, json_object *props, bool short_form) {
        static const char *const keys[] = { "Name", "State", "Type", "Object", "Result" };

        json_object_object_foreach(props, key, val) {
                bool wanted = !short_form;
                for (size_t i = 0; !wanted && i < ELEMENTSOF(keys); i++)
                        wanted = streq(key, keys[i]);
                if (!wanted)
                        continue;
                fprintf(f, " %s=", key);
                print_label_or_value(f, val);
        }
}

static json_object *arg_get(json_object *args, const char *name) {
        json_object *v;

        return json_object_object_get_ex(args, name, &v) ? v : NULL;
}

/* The agent's interfaces by their short names; the standard ones every object has say nothing. */
static bool print_interface(FILE *f, const char *iface) {
        if (strncmp(iface, "org.freedesktop.DBus.", 21) == 0)
                return false;
        fprintf(f, " %s", strncmp(iface, "org.hostagent1.", 15) == 0 ? iface + 15 : iface);
        return true;
}

static void print_interfaces(FILE *f, json_object *list) {
        for (size_t i = 0; i < json_object_array_length(list); i++)
                (void) print_interface(f, json_object_get_string(json_object_array_get_idx(list, i)));
}

/* What one signal says, after "TIME LABEL:". */
static void print_event(FILE *f, const char *member, json_object *args) {
        json_object *a;

        if (streq(member, "PropertiesChanged")) {
                fputs("changed", f);
                if ((a = arg_get(args, "changed")) && json_object_is_type(a, json_type_object))
                        print_properties(f, a, false);
                if ((a = arg_get(args, "invalidated")) && json_object_array_length(a) > 0) {
                        fputs(" invalidated:", f);
                        for (size_t i = 0; i < json_object_array_length(a); i++)
                                fprintf(f, " %s", json_object_get_string(json_object_array_get_idx(a, i)));
                }
        } else if (streq(member, "InterfacesAdded")) {
                fputs("added", f);
                if ((a = arg_get(args, "interfaces")) && json_object_is_type(a, json_type_object)) {
                        json_object_object_foreach(a, iface, props) {
                                if (print_interface(f, iface) && json_object_is_type(props, json_type_object))
                                        print_properties(f, props, true);
                        }
                }
        } else if (streq(member, "InterfacesRemoved")) {
                fputs("removed", f);
                if ((a = arg_get(args, "interfaces")) && json_object_is_type(a, json_type_array))
                        print_interfaces(f, a);
        } else {
                fputs(member, f);
                json_object_object_foreach(args, key, val) {
                        fprintf(f, " %s=", key);
                        print_label_or_value(f, val);
                }
        }
}

static void timestamp(char *buf, size_t size, bool iso) {
        struct timespec ts;
        struct tm tm;
        size_t n;

        clock_gettime(CLOCK_REALTIME, &ts);
        localtime_r(&ts.tv_sec, &tm);
        n = strftime(buf, size, iso ? "%Y-%m-%dT%H:%M:%S" : "%H:%M:%S", &tm);
        snprintf(buf + n, size - n, ".%06ld", ts.tv_nsec / 1000);
        if (iso)
                strftime(buf + strlen(buf), size - strlen(buf), "%z", &tm);
}

/* One object a line, unless --json=pretty asks for each spread over lines. */
static void emit_json(json_object *o) {
        int flags = JSON_C_TO_STRING_NOSLASHESCAPE;

        flags |= arg.json == JSON_PRETTY && !arg.json_bare ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
                                                           : JSON_C_TO_STRING_PLAIN;
        puts(json_object_to_json_string_ext(o, flags));
        fflush(stdout);
}

static void note_gap(Monitor *mon, uint64_t sequence) {
        char now[64];

        if (mon->have_sequence && sequence > mon->sequence + 1) {
                timestamp(now, sizeof now, arg.json != JSON_OFF);
                if (arg.json != JSON_OFF) {
                        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
                        json_object_object_add(o, "time", json_object_new_string(now));
                        json_object_object_add(o, "gap", json_object_new_uint64(sequence - mon->sequence - 1));
                        json_object_object_add(o, "after_sequence", json_object_new_uint64(mon->sequence));
                        json_object_object_add(o, "sequence", json_object_new_uint64(sequence));
                        emit_json(o);
                } else
                        printf("%s -- gap: %" PRIu64 " signal(s) missed (sequence %" PRIu64 " to %" PRIu64 ")\n", now,
                               sequence - mon->sequence - 1, mon->sequence + 1, sequence - 1);
        }
        mon->have_sequence = true;
        mon->sequence = sequence;
}

/* The signal's arguments by name (arg0, arg1, … where we do not know them). */
static json_object *read_args(sd_bus_message *m) {
        _cleanup_(json_object_putp) json_object *args = json_object_new_object();
        const char *const *names = NULL;

        for (size_t i = 0; i < ELEMENTSOF(known_signals); i++)
                if (sd_bus_message_is_signal(m, known_signals[i].interface, known_signals[i].member))
                        names = known_signals[i].args;
        for (size_t i = 0; ; i++) {
                char key[16];
                json_object *v;

                if (sd_bus_message_at_end(m, false) > 0)
                        break;
                v = read_value(m);
                if (!v)
                        return NULL;
                snprintf(key, sizeof key, "arg%zu", i);
                json_object_object_add(args, names && i < 4 && names[i] ? names[i] : key, v);
        }
        return TAKE_PTR(args);
}

static int on_signal(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(json_object_putp) json_object *args = read_args(m);
        _cleanup_(freep) char *label = NULL;
        Monitor *mon = userdata;
        const char *path = sd_bus_message_get_path(m);
        json_object *v;
        char now[64];

        if (!args)
                return 0;
        if (json_object_object_get_ex(args, "sequence", &v))
                note_gap(mon, json_object_get_uint64(v));
        if (json_object_object_get_ex(args, "object", &v))
                path = json_object_get_string(v);
        if (json_object_object_get_ex(args, "interfaces", &v) && json_object_is_type(v, json_type_object) &&
            json_object_object_get_ex(v, CTL_VM, &v))
                vm_name_learn(path, v);
        if (sd_bus_message_is_signal(m, "org.freedesktop.DBus.Properties", "PropertiesChanged") &&
            json_object_object_get_ex(args, "changed", &v))
                vm_name_learn(path, v);
        timestamp(now, sizeof now, arg.json != JSON_OFF);
        if (arg.json != JSON_OFF) {
                _cleanup_(json_object_putp) json_object *o = json_object_new_object();
                json_object_object_add(o, "time", json_object_new_string(now));
                json_object_object_add(o, "path", json_object_new_string(sd_bus_message_get_path(m)));
                json_object_object_add(o, "interface", json_object_new_string(sd_bus_message_get_interface(m)));
                json_object_object_add(o, "signal", json_object_new_string(sd_bus_message_get_member(m)));
                json_object_object_add(o, "args", json_object_get(args));
                emit_json(o);
                return 0;
        }
        label = ctl_object_label(path, vm_names);
        printf("%s %s: ", now, label ?: path);
        print_event(stdout, sd_bus_message_get_member(m), args);
        putchar('\n');
        fflush(stdout);
        return 0;
}

/* The agent leaving or coming back: a new agent counts its sequence from the start. */
static int on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Monitor *mon = userdata;
        const char *name, *old, *new;
        const char *what;
        char now[64];

        if (sd_bus_message_read(m, "sss", &name, &old, &new) < 0)
                return 0;
        mon->have_sequence = false;
        what = isempty(new) ? "left the bus" : "is on the bus";
        timestamp(now, sizeof now, arg.json != JSON_OFF);
        if (arg.json != JSON_OFF) {
                _cleanup_(json_object_putp) json_object *o = json_object_new_object();
                json_object_object_add(o, "time", json_object_new_string(now));
                json_object_object_add(o, "agent", json_object_new_string(isempty(new) ? "left" : "started"));
                json_object_object_add(o, "owner", json_object_new_string(isempty(new) ? old : new));
                emit_json(o);
        } else {
                printf("%s agent: %s (%s)\n", now, what, isempty(new) ? old : new);
                fflush(stdout);
        }
        return 0;
}

int verb_monitor(int argc, char **argv, sd_bus *bus) {
        _cleanup_(json_object_putp) json_object *names = NULL;
        Monitor mon = {};
        int r;

        r = sd_bus_add_match(bus, NULL, "type='signal',sender='" CTL_SERVICE "'", on_signal, &mon);
        if (r >= 0)
                r = sd_bus_add_match(bus, NULL,
                                     "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
                                     "member='NameOwnerChanged',arg0='" CTL_SERVICE "'",
                                     on_owner_changed, &mon);
        if (r < 0)
                return ctl_fail(NULL, "cannot listen to the agent's signals: %s", strerror(-r));
        /* The matches are in place once added (each waits for the bus's answer): from here on,
         * nothing the agent sends is missed, and a script may go on once we say so. The names of
         * the VMs there already are read after them, so a VM added meanwhile is not missed; an
         * agent not running yet has none. */
        names = ctl_vm_names(bus);
        if (!names)
                return -ENOMEM;
        vm_names = names;
        if (!arg.quiet)
                fprintf(stderr, "Monitoring the signals of %s.\n", CTL_SERVICE);
        for (;;) {
                r = sd_bus_process(bus, NULL);
                if (r == 0)
                        r = sd_bus_wait(bus, UINT64_MAX);
                if (r < 0)
                        return ctl_fail(NULL, "lost the bus: %s", strerror(-r));
        }
}
