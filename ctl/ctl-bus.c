/* The bus as hostagentctl reads it: properties into structs, the object tree, names to paths */
#include "ctl-bus.h"

#include <ctype.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ctl-error.h"
#include "ctl-output.h"
#include "ctl.h"
#include "strv.h"

const CtlProperty *ctl_property_find(const CtlProperty *map, const char *name) {
        for (; map->name; map++)
                if (streq(map->name, name))
                        return map;
        return NULL;
}

static int read_strv(sd_bus_message *m, char type, char ***ret) {
        const char sig[2] = { type, 0 };
        _cleanup_(strv_freep) char **list = NULL;
        size_t n = 0;
        const char *s;
        int r;

        r = sd_bus_message_enter_container(m, 'a', sig);
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read_basic(m, type, &s)) > 0) {
                char **l = reallocarray(list, n + 2, sizeof(char *));
                if (!l)
                        return -ENOMEM;
                list = l;
                if (!(list[n] = strdup(s)))
                        return -ENOMEM;
                list[++n] = NULL;
        }
        if (r < 0)
                return r;
        strv_free(*ret);
        *ret = TAKE_PTR(list);
        return sd_bus_message_exit_container(m);
}

static int read_string(sd_bus_message *m, char type, char **ret) {
        const char *s;
        char *copy;
        int r;

        r = sd_bus_message_read_basic(m, type, &s);
        if (r < 0)
                return r;
        if (!(copy = strdup(s)))
                return -ENOMEM;
        free(*ret);
        *ret = copy;
        return 0;
}

static int read_graphics(sd_bus_message *m, CtlGraphics *g) {
        const char *type, *listen;
        int r;

        r = sd_bus_message_read(m, "(ssi)", &type, &listen, &g->port);
        if (r < 0)
                return r;
        free(g->type);
        free(g->listen);
        g->type = strdup(type);
        g->listen = strdup(listen);
        return g->type && g->listen ? 0 : -ENOMEM;
}

static bool type_matches(char type, const char *contents) {
        static const char *const signatures[128] = {
                ['s'] = "s", ['o'] = "o", ['b'] = "b", ['u'] = "u", ['t'] = "t", ['i'] = "i", ['G'] = "(ssi)",
        };

        if (type == 'a')
                return streq(contents, "as") || streq(contents, "ao");
        return signatures[(int) type] && streq(contents, signatures[(int) type]);
}

/* One variant's value into its field, when the variant has the type the map expects. */
static int read_value(sd_bus_message *m, const CtlProperty *p, void *userdata) {
        uint8_t *field = (uint8_t *) userdata + p->offset;
        const char *contents;
        char type;
        int b, r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
                return r;
        if (!type_matches(p->type, contents))
                return sd_bus_message_skip(m, "v");
        r = sd_bus_message_enter_container(m, 'v', contents);
        if (r < 0)
                return r;
        switch (p->type) {
        case 's': case 'o':
                r = read_string(m, p->type, (char **) field);
                break;
        case 'b':
                r = sd_bus_message_read_basic(m, 'b', &b);
                *(bool *) field = b;
                break;
        case 'a':
                r = read_strv(m, contents[1], (char ***) field);
                break;
        case 'G':
                r = read_graphics(m, (CtlGraphics *) field);
                break;
        default:
                r = sd_bus_message_read_basic(m, p->type, field);
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

/* An array of dict entries keyed by strings, ENTRY being an entry's signature ("sv", "sa{sv}"):
 * FUNC with each key, the message at its value. */
static int read_entries(sd_bus_message *m, const char *entry, CtlDictFunc func, void *userdata) {
        char array[16];
        const char *key;
        int r;

        snprintf(array, sizeof array, "{%s}", entry);
        r = sd_bus_message_enter_container(m, 'a', array);
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', entry)) > 0) {
                r = sd_bus_message_read_basic(m, 's', &key);
                if (r < 0)
                        return r;
                r = func(m, key, userdata);
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

int ctl_read_dict(sd_bus_message *m, CtlDictFunc func, void *userdata) {
        return read_entries(m, "sv", func, userdata);
}

typedef struct MapTarget {
        const CtlProperty *map;
        void *object;
} MapTarget;

static int map_value(sd_bus_message *m, const char *name, void *userdata) {
        MapTarget *target = userdata;
        const CtlProperty *p = ctl_property_find(target->map, name);

        return p ? read_value(m, p, target->object) : sd_bus_message_skip(m, "v");
}

int ctl_map_properties(sd_bus_message *m, const CtlProperty *map, void *userdata) {
        return ctl_read_dict(m, map_value, &(MapTarget) { map, userdata });
}

void ctl_properties_clear(const CtlProperty *map, void *userdata) {
        for (; map->name; map++) {
                void *field = (uint8_t *) userdata + map->offset;

                if (map->type == 's' || map->type == 'o')
                        free(*(char **) field), *(char **) field = NULL;
                else if (map->type == 'a')
                        *(char ***) field = strv_free(*(char ***) field);
                else if (map->type == 'G') {
                        CtlGraphics *g = field;
                        free(g->type), free(g->listen);
                        g->type = g->listen = NULL;
                }
        }
}

int ctl_get_all(sd_bus *bus, const char *path, const char *interface, const CtlProperty *map, void *userdata,
                sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_call_method(bus, CTL_SERVICE, path, "org.freedesktop.DBus.Properties", "GetAll", error, &reply,
                               "s", interface);
        if (r < 0)
                return r;
        return ctl_map_properties(reply, map, userdata);
}

typedef struct ObjectTarget {
        const char *interface;
        const CtlProperty *map;
        void *object;
        bool found;
} ObjectTarget;

static int object_interface(sd_bus_message *m, const char *name, void *userdata) {
        ObjectTarget *target = userdata;

        if (!streq(name, target->interface))
                return sd_bus_message_skip(m, "a{sv}");
        target->found = true;
        return ctl_map_properties(m, target->map, target->object);
}

/* One object of GetManagedObjects: its interfaces, the one asked for read into OBJECT. */
static int read_object(sd_bus_message *m, const char *interface, const CtlProperty *map, void *object) {
        ObjectTarget target = { .interface = interface, .map = map, .object = object };
        int r;

        r = read_entries(m, "sa{sv}", object_interface, &target);
        return r < 0 ? r : target.found;
}

static int for_each_object(sd_bus *bus, const char *interface, const CtlProperty *map, size_t size, CtlObjectFunc func,
                           void *userdata, bool quiet) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) void *object = calloc(1, size);
        const char *path;
        int r;

        if (!object)
                return -ENOMEM;
        r = sd_bus_call_method(bus, CTL_SERVICE, CTL_ROOT, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                               &error, &reply, NULL);
        if (r < 0)
                return quiet ? r : ctl_error_report(NULL, NULL, "list the agent's objects", &error);
        r = sd_bus_message_enter_container(reply, 'a', "{oa{sa{sv}}}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, 'e', "oa{sa{sv}}")) > 0) {
                r = sd_bus_message_read_basic(reply, 'o', &path);
                if (r >= 0)
                        r = read_object(reply, interface, map, object);
                if (r > 0)
                        r = func(path, object, userdata);
                ctl_properties_clear(map, object);
                memset(object, 0, size);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
        }
        return r;
}

int ctl_for_each_object(sd_bus *bus, const char *interface, const CtlProperty *map, size_t size, CtlObjectFunc func,
                        void *userdata) {
        return for_each_object(bus, interface, map, size, func, userdata, false);
}

int ctl_for_each_object_quiet(sd_bus *bus, const char *interface, const CtlProperty *map, size_t size,
                              CtlObjectFunc func, void *userdata) {
        return for_each_object(bus, interface, map, size, func, userdata, true);
}

static int report(const CtlAbout *about, const sd_bus_error *error) {
        if (about->spec)
                return ctl_error_report_spec(about->kind, about->spec, about->object, about->action, error);
        return ctl_error_report(about->kind, about->object, about->action, error);
}

int ctl_call(sd_bus *bus, const char *path, const char *interface, const char *method, const CtlAbout *about,
             sd_bus_message **ret_reply, const char *types, ...) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        va_list ap;
        int r;

        va_start(ap, types);
        r = sd_bus_call_methodv(bus, CTL_SERVICE, path, interface, method, &error, ret_reply, types, ap);
        va_end(ap);
        return r < 0 ? report(about, &error) : 0;
}

int ctl_call_message(sd_bus *bus, sd_bus_message *m, const CtlAbout *about, sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call(bus, m, 0, &error, ret_reply);
        return r < 0 ? report(about, &error) : 0;
}

int ctl_reply_print_path(sd_bus_message *reply) {
        const char *path;
        int r;

        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return r;
        if (!arg.quiet)
                puts(path);
        return 0;
}

static bool is_path(const char *s) {
        return s[0] == '/' && sd_bus_object_path_is_valid(s);
}

/* A name the agent looks up (GetVM, GetStoragePool): a path is taken as it is. */
static int lookup_path(sd_bus *bus, const char *method, const char *kind, const char *name, char **ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *path;
        int r;

        if (is_path(name))
                return (*ret = strdup(name)) ? 0 : -ENOMEM;
        r = sd_bus_call_method(bus, CTL_SERVICE, CTL_ROOT, CTL_MANAGER, method, &error, &reply, "s", name);
        if (r < 0) {
                if (ctl_error_is_not_found(&error))
                        return ctl_not_found(kind, name, error.name);
                return ctl_error_report(kind, name, "look it up", &error);
        }
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return r;
        return (*ret = strdup(path)) ? 0 : -ENOMEM;
}

int ctl_vm_path(sd_bus *bus, const char *vm, char **ret) {
        return lookup_path(bus, "GetVM", "VM", vm, ret);
}

int ctl_pool_path(sd_bus *bus, const char *pool, char **ret) {
        return lookup_path(bus, "GetStoragePool", "pool", pool, ret);
}

int ctl_volume_path(sd_bus *bus, const char *pool, const char *volume, char **ret) {
        _cleanup_(freep) char *pool_path = NULL;
        int r;

        if (is_path(volume))
                return (*ret = strdup(volume)) ? 0 : -ENOMEM;
        r = ctl_pool_path(bus, pool, &pool_path);
        if (r < 0)
                return r;
        return sd_bus_path_encode(pool_path, volume, ret);
}

int ctl_network_path(const char *network, char **ret) {
        if (is_path(network))
                return (*ret = strdup(network)) ? 0 : -ENOMEM;
        return sd_bus_path_encode(CTL_ROOT "/network", network, ret);
}

int ctl_job_path(const char *job, char **ret) {
        if (is_path(job))
                return (*ret = strdup(job)) ? 0 : -ENOMEM;
        for (const char *p = job; *p; p++)
                if (!isdigit((unsigned char) *p))
                        return ctl_fail(job, "not a job number or path");
        if (!*job)
                return ctl_fail(NULL, "a job number or path is needed");
        return asprintf(ret, CTL_ROOT "/job/%s", job) < 0 ? -ENOMEM : 0;
}

char *ctl_path_name(const char *path) {
        const char *slash = strrchr(path, '/');
        _cleanup_(freep) char *prefix = NULL;
        char *name = NULL;

        if (!slash || slash == path)
                return strdup(path);
        prefix = strndup(path, slash - path);
        if (!prefix)
                return NULL;
        if (sd_bus_path_decode(path, prefix, &name) <= 0)
                return strdup(slash + 1);
        return name;
}

/* One value of GetHostInfo or GetStats as a field: numbers as numbers, "*_bytes" as sizes. */
static int dict_value(sd_bus_message *m, const char *key, void *userdata) {
        CtlFields *f = userdata;
        const char *contents, *s;
        bool size = strlen(key) > 6 && streq(key + strlen(key) - 6, "_bytes");
        union { uint8_t y; int16_t n; uint16_t q; int32_t i; uint32_t u; int64_t x; uint64_t t; double d; int b; } v;
        char type;
        int r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
                return r;
        if (strlen(contents) != 1 || !strchr("synqiuxtdbo", contents[0]))
                return sd_bus_message_skip(m, "v");
        r = sd_bus_message_enter_container(m, 'v', contents);
        if (r < 0)
                return r;
        switch (contents[0]) {
        case 's': case 'o':
                r = sd_bus_message_read_basic(m, contents[0], &s);
                r = r < 0 ? r : ctl_fields_add(f, key, key, CTL_STRING, s);
                break;
        case 'b':
                r = sd_bus_message_read_basic(m, 'b', &v.b);
                r = r < 0 ? r : ctl_fields_add(f, key, key, CTL_BOOLEAN, v.b);
                break;
        case 'd':
                r = sd_bus_message_read_basic(m, 'd', &v.d);
                r = r < 0 ? r : ctl_fields_add(f, key, key, CTL_DOUBLE, v.d);
                break;
        case 'y': case 'q': case 'u': case 't':
                v.t = 0;
                r = sd_bus_message_read_basic(m, contents[0], &v);
                if (r >= 0)
                        v.t = contents[0] == 'y' ? v.y : contents[0] == 'q' ? v.q : contents[0] == 'u' ? v.u : v.t;
                r = r < 0 ? r : ctl_fields_add(f, key, key, size ? CTL_SIZE : CTL_NUMBER, v.t);
                break;
        default:
                r = sd_bus_message_read_basic(m, contents[0], &v);
                if (r >= 0)
                        v.x = contents[0] == 'n' ? v.n : contents[0] == 'i' ? v.i : v.x;
                r = r < 0 ? r : ctl_fields_add(f, key, key, CTL_SIGNED, v.x);
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

int ctl_dict_fields(sd_bus_message *m, CtlFields *f) {
        return ctl_read_dict(m, dict_value, f);
}

typedef struct VmName {
        char *name;
} VmName;

static const CtlProperty vm_name_map[] = {
        { "Name", 's', offsetof(VmName, name) },
        {}
};

static int vm_name_add(const char *path, void *object, void *userdata) {
        VmName *v = object;

        if (!isempty(v->name))
                json_object_object_add(userdata, path, json_object_new_string(v->name));
        return 0;
}

json_object *ctl_vm_names(sd_bus *bus) {
        json_object *names = json_object_new_object();

        if (names)
                (void) ctl_for_each_object_quiet(bus, CTL_VM, vm_name_map, sizeof(VmName), vm_name_add, names);
        return names;
}

/* "VM web1", "pool local", "volume local/disk1", "job 4", "agent": a path as people name it. */
char *ctl_object_label(const char *path, json_object *vm_names) {
        static const struct { const char *prefix, *kind; } kinds[] = {
                { CTL_ROOT "/vm/", "VM" }, { CTL_ROOT "/job/", "job" }, { CTL_ROOT "/network/", "network" },
                { CTL_ROOT "/storage/", "pool" },
        };
        _cleanup_(freep) char *name = NULL;
        char *label;

        if (streq(path, CTL_ROOT))
                return strdup("agent");
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                const char *rest = path + strlen(kinds[i].prefix);

                if (strncmp(path, kinds[i].prefix, strlen(kinds[i].prefix)) != 0)
                        continue;
                json_object *known;
                if (vm_names && json_object_object_get_ex(vm_names, path, &known))
                        name = strdup(json_object_get_string(known));
                else
                        name = ctl_path_name(path);
                if (!name)
                        return NULL;
                if (strchr(rest, '/')) {     /* a volume: its pool, then its name */
                        _cleanup_(freep) char *pool_path = strndup(path, strrchr(path, '/') - path);
                        _cleanup_(freep) char *pool = pool_path ? ctl_path_name(pool_path) : NULL;
                        return asprintf(&label, "volume %s/%s", strempty(pool), name) < 0 ? NULL : label;
                }
                return asprintf(&label, "%s %s", kinds[i].kind, name) < 0 ? NULL : label;
        }
        return strdup(path);
}
