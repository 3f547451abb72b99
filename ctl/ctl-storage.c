/* hostagentctl's storage commands: pools and their volumes */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ctl-bus.h"
#include "ctl-error.h"
#include "ctl-job.h"
#include "ctl-output.h"
#include "ctl.h"
#include "strv.h"

typedef struct PoolInfo {
        char *name, *type, *source, *spec, *state, *message;
        uint64_t capacity, allocation, available;
} PoolInfo;

static const CtlProperty pool_map[] = {
        { "Name",            's', offsetof(PoolInfo, name) },
        { "Type",            's', offsetof(PoolInfo, type) },
        { "Source",          's', offsetof(PoolInfo, source) },
        { "Spec",            's', offsetof(PoolInfo, spec) },
        { "State",           's', offsetof(PoolInfo, state) },
        { "StateMessage",    's', offsetof(PoolInfo, message) },
        { "CapacityBytes",   't', offsetof(PoolInfo, capacity) },
        { "AllocationBytes", 't', offsetof(PoolInfo, allocation) },
        { "AvailableBytes",  't', offsetof(PoolInfo, available) },
        {}
};

typedef struct VolumeInfo {
        char *name, *pool, *path, *uri, *format, *backing;
        uint64_t capacity, allocation;
        char **in_use_by;
} VolumeInfo;

static const CtlProperty volume_map[] = {
        { "Name",            's', offsetof(VolumeInfo, name) },
        { "Pool",            'o', offsetof(VolumeInfo, pool) },
        { "Path",            's', offsetof(VolumeInfo, path) },
        { "URI",             's', offsetof(VolumeInfo, uri) },
        { "Format",          's', offsetof(VolumeInfo, format) },
        { "BackingVolume",   's', offsetof(VolumeInfo, backing) },
        { "CapacityBytes",   't', offsetof(VolumeInfo, capacity) },
        { "AllocationBytes", 't', offsetof(VolumeInfo, allocation) },
        { "InUseBy",         'a', offsetof(VolumeInfo, in_use_by) },
        {}
};

static const CtlColumn pool_columns[] = {
        CTL_COLUMN("NAME", "name", CTL_STRING),
        CTL_COLUMN("TYPE", "type", CTL_STRING),
        CTL_COLUMN("STATE", "state", CTL_STATE),
        CTL_COLUMN("SIZE", "capacity_bytes", CTL_SIZE),
        CTL_COLUMN("ALLOC", "allocation_bytes", CTL_SIZE),
        CTL_COLUMN("AVAIL", "available_bytes", CTL_SIZE),
        CTL_COLUMN("SOURCE", "source", CTL_STRING),
        CTL_JSON_COLUMN("MESSAGE", "state_message", CTL_STRING),
        CTL_JSON_COLUMN("PATH", "path", CTL_STRING),
        {}
};

static int pool_row(const char *path, void *object, void *userdata) {
        PoolInfo *p = object;
        CtlTable *t = userdata;
        int r;

        r = ctl_table_add_row(t);
        if (r >= 0) r = ctl_table_set(t, 0, p->name);
        if (r >= 0) r = ctl_table_set(t, 1, p->type);
        if (r >= 0) r = ctl_table_set(t, 2, p->state);
        if (r >= 0) r = ctl_table_set(t, 3, p->capacity);
        if (r >= 0) r = ctl_table_set(t, 4, p->allocation);
        if (r >= 0) r = ctl_table_set(t, 5, p->available);
        if (r >= 0) r = ctl_table_set(t, 6, p->source);
        if (r >= 0) r = ctl_table_set(t, 7, p->message);
        if (r >= 0) r = ctl_table_set(t, 8, path);
        return r;
}

int verb_pools(int argc, char **argv, sd_bus *bus) {
        _cleanup_(ctl_table_freep) CtlTable *t = ctl_table_new("pools", pool_columns);
        int r;

        if (!t)
                return -ENOMEM;
        r = ctl_for_each_object(bus, CTL_POOL, pool_map, sizeof(PoolInfo), pool_row, t);
        if (r < 0)
                return r;
        return ctl_table_print(t);
}

static int pool_fields(CtlFields *f, const char *path, const PoolInfo *p) {
        int r;

        r = ctl_fields_add(f, "Name", "name", CTL_STRING, p->name);
        if (r >= 0) r = ctl_fields_add(f, "Path", "path", CTL_STRING, path);
        if (r >= 0) r = ctl_fields_add(f, "Type", "type", CTL_STRING, p->type);
        if (r >= 0) r = ctl_fields_add(f, "Source", "source", CTL_STRING, p->source);
        if (r >= 0) r = ctl_fields_add(f, "State", "state", CTL_STATE, p->state);
        if (r >= 0) r = ctl_fields_add(f, "Message", "state_message", CTL_STRING, p->message);
        if (r >= 0) r = ctl_fields_add(f, "Size", "capacity_bytes", CTL_SIZE, p->capacity);
        if (r >= 0) r = ctl_fields_add(f, "Allocated", "allocation_bytes", CTL_SIZE, p->allocation);
        if (r >= 0) r = ctl_fields_add(f, "Available", "available_bytes", CTL_SIZE, p->available);
        if (r >= 0) r = ctl_fields_add(f, "Spec", "spec", CTL_STRING, p->spec);
        return r;
}

int verb_show_pool(int argc, char **argv, sd_bus *bus) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(ctl_fields_freep) CtlFields *f = ctl_fields_new();
        _cleanup_(freep) char *path = NULL;
        PoolInfo p = {};
        int r;

        if (!f)
                return -ENOMEM;
        r = ctl_pool_path(bus, argv[1], &path);
        if (r < 0)
                return r;
        r = ctl_get_all(bus, path, CTL_POOL, pool_map, &p, &error);
        if (r < 0)
                r = ctl_error_report("pool", argv[1], "read it", &error);
        if (r >= 0)
                r = pool_fields(f, path, &p);
        if (r >= 0)
                r = ctl_fields_print(f);
        ctl_properties_clear(pool_map, &p);
        return r;
}

int verb_create_pool(int argc, char **argv, sd_bus *bus) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) char *text = NULL;
        const char *path;
        int r;

        r = ctl_read_file(argv[1], &text);
        if (r < 0)
                return r;
        r = sd_bus_call_method(bus, CTL_SERVICE, CTL_ROOT, CTL_MANAGER, "CreateStoragePool", &error, &reply, "s",
                               text);
        if (r < 0)
                return ctl_error_report_spec("pool", text, argv[1], "create the pool", &error);
        r = sd_bus_message_read(reply, "o", &path);
        if (r >= 0 && !arg.quiet)
                puts(path);
        return r < 0 ? r : 0;
}

static const CtlColumn volume_columns[] = {
        CTL_COLUMN("NAME", "name", CTL_STRING),
        CTL_COLUMN("FORMAT", "format", CTL_STRING),
        CTL_COLUMN("SIZE", "capacity_bytes", CTL_SIZE),
        CTL_COLUMN("ALLOC", "allocation_bytes", CTL_SIZE),
        CTL_COLUMN("BACKING", "backing_volume", CTL_STRING),
        CTL_COLUMN("USED-BY", "in_use_by", CTL_STRINGS),
        CTL_COLUMN("FILE", "file", CTL_STRING),
        CTL_JSON_COLUMN("PATH", "path", CTL_STRING),
        {}
};

typedef struct VolumeListing {
        CtlTable *table;
        const char *pool;
} VolumeListing;

/* The VMs using a volume by name for people (their paths in JSON). */
static char **vm_names(char **paths) {
        _cleanup_(strv_freep) char **names = calloc(strv_length(paths) + 1, sizeof(char *));

        if (!names)
                return NULL;
        for (size_t i = 0; paths && paths[i]; i++)
                if (!(names[i] = ctl_path_name(paths[i])))
                        return NULL;
        return TAKE_PTR(names);
}

static int volume_row(const char *path, void *object, void *userdata) {
        _cleanup_(strv_freep) char **users = NULL;
        VolumeListing *l = userdata;
        VolumeInfo *v = object;
        CtlTable *t = l->table;
        int r;

        if (!streq_ptr(v->pool, l->pool))
                return 0;
        users = arg.json != JSON_OFF ? NULL : vm_names(v->in_use_by);
        r = ctl_table_add_row(t);
        if (r >= 0) r = ctl_table_set(t, 0, v->name);
        if (r >= 0) r = ctl_table_set(t, 1, v->format);
        if (r >= 0) r = ctl_table_set(t, 2, v->capacity);
        if (r >= 0) r = ctl_table_set(t, 3, v->allocation);
        if (r >= 0) r = ctl_table_set(t, 4, v->backing);
        if (r >= 0) r = ctl_table_set(t, 5, arg.json != JSON_OFF ? v->in_use_by : users);
        if (r >= 0) r = ctl_table_set(t, 6, !isempty(v->path) ? v->path : v->uri);
        if (r >= 0) r = ctl_table_set(t, 7, path);
        return r;
}

int verb_volumes(int argc, char **argv, sd_bus *bus) {
        _cleanup_(ctl_table_freep) CtlTable *t = ctl_table_new("volumes", volume_columns);
        _cleanup_(freep) char *pool = NULL;
        int r;

        if (!t)
                return -ENOMEM;
        r = ctl_pool_path(bus, argv[1], &pool);
        if (r < 0)
                return r;
        r = ctl_for_each_object(bus, CTL_VOLUME, volume_map, sizeof(VolumeInfo), volume_row,
                                &(VolumeListing) { t, pool });
        if (r < 0)
                return r;
        return ctl_table_print(t);
}

static int append_options(sd_bus_message *m) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && arg.backing)
                r = sd_bus_message_append(m, "{sv}", "backing_volume", "s", arg.backing);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

int verb_create_volume(int argc, char **argv, sd_bus *bus) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(freep) char *pool = NULL;
        const char *path;
        uint64_t size;
        int r;

        if (ctl_parse_size(argv[3], &size) < 0)
                return ctl_fail(argv[3], "not a size (a number of bytes, or with a unit: 10G, 512M)");
        r = ctl_pool_path(bus, argv[1], &pool);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &m, CTL_SERVICE, pool, CTL_POOL, "CreateVolume");
        if (r >= 0)
                r = sd_bus_message_append(m, "sts", argv[2], size, arg.format);
        if (r >= 0)
                r = append_options(m);
        if (r < 0)
                return r;
        r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r < 0)
                return ctl_error_report("volume", argv[2], "create the volume", &error);
        r = sd_bus_message_read(reply, "o", &path);
        if (r >= 0 && !arg.quiet)
                puts(path);
        return r < 0 ? r : 0;
}

int verb_resize_volume(int argc, char **argv, sd_bus *bus) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(freep) char *path = NULL;
        uint64_t size;
        int r;

        if (ctl_parse_size(argv[3], &size) < 0)
                return ctl_fail(argv[3], "not a size (a number of bytes, or with a unit: 10G, 512M)");
        r = ctl_volume_path(bus, argv[1], argv[2], &path);
        if (r < 0)
                return r;
        r = sd_bus_call_method(bus, CTL_SERVICE, path, CTL_VOLUME, "Resize", &error, NULL, "t", size);
        if (r < 0)
                return ctl_error_report("volume", argv[2], "resize", &error);
        return 0;
}

int verb_clone_volume(int argc, char **argv, sd_bus *bus) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) char *path = NULL;
        const char *job;
        int r;

        r = ctl_volume_path(bus, argv[1], argv[2], &path);
        if (r < 0)
                return r;
        r = sd_bus_call_method(bus, CTL_SERVICE, path, CTL_VOLUME, "Clone", &error, &reply, "s", argv[3]);
        if (r < 0)
                return ctl_error_report("volume", argv[2], "clone", &error);
        r = sd_bus_message_read(reply, "o", &job);
        if (r < 0)
                return r;
        return ctl_job_follow(bus, job, argv[2], "clone");
}

int verb_delete_volume(int argc, char **argv, sd_bus *bus) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(freep) char *path = NULL;
        int r;

        r = ctl_volume_path(bus, argv[1], argv[2], &path);
        if (r < 0)
                return r;
        r = sd_bus_call_method(bus, CTL_SERVICE, path, CTL_VOLUME, "Delete", &error, NULL, NULL);
        if (r < 0)
                return ctl_error_report("volume", argv[2], "delete", &error);
        return 0;
}

int verb_pool_action(int argc, char **argv, sd_bus *bus) {
        static const struct { const char *verb, *method, *action; } actions[] = {
                { "activate-pool",   "Activate",   "activate" },
                { "deactivate-pool", "Deactivate", "deactivate" },
                { "refresh-pool",    "Refresh",    "refresh" },
                { "delete-pool",     "Delete",     "delete" },
        };
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(freep) char *path = NULL;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(actions); i++) {
                if (!streq(argv[0], actions[i].verb))
                        continue;
                r = ctl_pool_path(bus, argv[1], &path);
                if (r < 0)
                        return r;
                r = sd_bus_call_method(bus, CTL_SERVICE, path, CTL_POOL, actions[i].method, &error, NULL, NULL);
                if (r < 0)
                        return ctl_error_report("pool", argv[1], actions[i].action, &error);
                return 0;
        }
        return -EINVAL;
}
