/* The bus as hostagentctl reads it: properties into structs, the object tree, names to paths */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

/* One property read into a struct: 's'/'o' a char *, 'b' a bool, 'u' a uint32_t, 't' a
 * uint64_t, 'i' an int32_t, 'a' a char ** (from "as" or "ao"), 'G' a CtlGraphics ("(ssi)"). */
typedef struct CtlProperty {
        const char *name;
        char type;
        size_t offset;
} CtlProperty;

typedef struct CtlGraphics {
        char *type;
        char *listen;
        int32_t port;
} CtlGraphics;

/* The property MAP reads by that NAME, or NULL. */
const CtlProperty *ctl_property_find(const CtlProperty *map, const char *name);

/* Reads an a{sv}: FUNC is called with each key, the message at its variant, which it reads or
 * skips. */
typedef int (*CtlDictFunc)(sd_bus_message *m, const char *key, void *userdata);
int ctl_read_dict(sd_bus_message *m, CtlDictFunc func, void *userdata);

/* Reads an a{sv} of properties; the ones MAP does not name are skipped. */
int ctl_map_properties(sd_bus_message *m, const CtlProperty *map, void *userdata);
void ctl_properties_clear(const CtlProperty *map, void *userdata);

/* org.freedesktop.DBus.Properties.GetAll of one object into USERDATA. */
int ctl_get_all(sd_bus *bus, const char *path, const char *interface, const CtlProperty *map, void *userdata,
                sd_bus_error *error);

/* Every object that has INTERFACE, from one GetManagedObjects: each read into a fresh struct of
 * SIZE bytes, handed to FUNC with its path, then cleared. */
typedef int (*CtlObjectFunc)(const char *path, void *object, void *userdata);
int ctl_for_each_object(sd_bus *bus, const char *interface, const CtlProperty *map, size_t size, CtlObjectFunc func,
                        void *userdata);

/* The same, saying nothing when the agent does not answer. */
int ctl_for_each_object_quiet(sd_bus *bus, const char *interface, const CtlProperty *map, size_t size,
                              CtlObjectFunc func, void *userdata);

/* What the error line of a failed call names: "hostagentctl: OBJECT: cannot ACTION: why (Error)",
 * KIND ("VM", "pool") turning the agent's "it" into "the VM". With SPEC (the JSON the call
 * carried) the line names what the spec calls itself, OBJECT (its file) when it names nothing. */
typedef struct CtlAbout {
        const char *kind, *object, *action, *spec;
} CtlAbout;
#define CTL_ABOUT(k, o, a) (&(const CtlAbout) { .kind = (k), .object = (o), .action = (a) })
#define CTL_ABOUT_SPEC(k, file, a, text) (&(const CtlAbout) { .kind = (k), .object = (file), .action = (a), .spec = (text) })

/* Calls METHOD of INTERFACE on PATH, with arguments as sd_bus_call_method() takes them; a failure
 * is reported as ABOUT says (and returns what ctl_error_report() does). */
int ctl_call(sd_bus *bus, const char *path, const char *interface, const char *method, const CtlAbout *about,
             sd_bus_message **ret_reply, const char *types, ...);
/* The same for a call the caller built (options in an a{sv}). */
int ctl_call_message(sd_bus *bus, sd_bus_message *m, const CtlAbout *about, sd_bus_message **ret_reply);
/* The path of the object a call made ("o"), printed unless --quiet. */
int ctl_reply_print_path(sd_bus_message *reply);

/* Names to object paths. The ones that ask the agent report a missing object themselves
 * (and return CTL_NO_SUCH_OBJECT). */
int ctl_vm_path(sd_bus *bus, const char *vm, char **ret);
int ctl_pool_path(sd_bus *bus, const char *pool, char **ret);
int ctl_volume_path(sd_bus *bus, const char *pool, const char *volume, char **ret);
int ctl_network_path(const char *network, char **ret);
int ctl_job_path(const char *job, char **ret);

/* The last element of an object path, decoded ("_2d" back to "-"). */
char *ctl_path_name(const char *path);

/* A call that takes as long as the agent may (its own deadline), not sd-bus's 25 s. */
#define CTL_CALL_TIMEOUT_USEC (120ULL * 1000 * 1000)

/* An a{sv} of values (GetHostInfo, GetStats) as fields: each key with its value, numbers as
 * numbers, "*_bytes" keys as sizes. */
typedef struct CtlFields CtlFields;
int ctl_dict_fields(sd_bus_message *m, CtlFields *fields);

/* VM names by object path (an empty object when the agent does not answer), and a path as people
 * name what it is: "VM web1", "pool local", "volume local/disk1", "job 4", "agent". */
typedef struct json_object json_object;
json_object *ctl_vm_names(sd_bus *bus);
char *ctl_object_label(const char *path, json_object *vm_names);
