/* hostagentctl's storage commands: pools and their volumes */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ctl-bus.h"
#include "ctl-error.h"
#include "ctl-job.h"
#include "ctl-object.h"
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
        CTL_PROPERTY("NAME", "name", CTL_STRING, "Name"),
        CTL_PROPERTY("TYPE", "type", CTL_STRING, "Type"),
        CTL_PROPERTY("STATE", "state", CTL_STATE, "State"),
        CTL_PROPERTY("SIZE", "capacity_bytes", CTL_SIZE, "CapacityBytes"),
        CTL_PROPERTY("ALLOC", "allocation_bytes", CTL_SIZE, "AllocationBytes"),
        CTL_PROPERTY("AVAIL", "available_bytes", CTL_SIZE, "AvailableBytes"),
        CTL_PROPERTY("SOURCE", "source", CTL_STRING, "Source"),
        CTL_PROPERTY("MESSAGE", "state_message", CTL_STRING, "StateMessage", .json_only = true),
        CTL_PATH_COLUMN,
        {}
};

static const CtlColumn pool_fields[] = {
        CTL_PROPERTY("Name", "name", CTL_STRING, "Name"),
        CTL_FORMATTED("Path", "path", CTL_STRING, ctl_format_path),
        CTL_PROPERTY("Type", "type", CTL_STRING, "Type"),
        CTL_PROPERTY("Source", "source", CTL_STRING, "Source"),
        CTL_PROPERTY("State", "state", CTL_STATE, "State"),
        CTL_PROPERTY("Message", "state_message", CTL_STRING, "StateMessage"),
        CTL_PROPERTY("Size", "capacity_bytes", CTL_SIZE, "CapacityBytes"),
        CTL_PROPERTY("Allocated", "allocation_bytes", CTL_SIZE, "AllocationBytes"),
        CTL_PROPERTY("Available", "available_bytes", CTL_SIZE, "AvailableBytes"),
        CTL_PROPERTY("Spec", "spec", CTL_STRING, "Spec"),
        {}
};

static const CtlObjectType pool_type = {
        .interface = CTL_POOL,
        .kind = "pool",
        .map = pool_map,
        .size = sizeof(PoolInfo),
        .table = "pools",
        .columns = pool_columns,
        .fields = pool_fields,
        .lookup = ctl_pool_path,
};

int verb_pools(int argc, char **argv, sd_bus *bus) {
        return ctl_list_objects(bus, &pool_type, NULL);
}

int verb_show_pool(int argc, char **argv, sd_bus *bus) {
        return ctl_show_object(bus, &pool_type, argv[1]);
}

int verb_create_pool(int argc, char **argv, sd_bus *bus) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) char *text = NULL;
        int r;

        r = ctl_read_file(argv[1], &text);
        if (r < 0)
                return r;
        r = ctl_call(bus, CTL_ROOT, CTL_MANAGER, "CreateStoragePool",
                     CTL_ABOUT_SPEC("pool", argv[1], "create the pool", text), &reply, "s", text);
        if (r < 0)
                return r;
        return ctl_reply_print_path(reply);
}

/* The VMs using a volume by name for people (their paths in JSON). */
static int volume_users(const char *path, const void *object, void *userdata, CtlValue *ret) {
        char **paths = ((const VolumeInfo *) object)->in_use_by;
        _cleanup_(strv_freep) char **names = calloc(strv_length(paths) + 1, sizeof(char *));

        if (!names)
                return -ENOMEM;
        for (size_t i = 0; paths && paths[i]; i++)
                if (!(names[i] = ctl_path_name(paths[i])))
                        return -ENOMEM;
        *ret = (CtlValue) { .strings = names, .owned_strings = names };
        TAKE_PTR(names);
        return 0;
}

/* Where the volume is: its file, or the URI of one that is not a file. */
static int volume_file(const char *path, const void *object, void *userdata, CtlValue *ret) {
        const VolumeInfo *v = object;

        *ret = (CtlValue) { .string = !isempty(v->path) ? v->path : v->uri };
        return 0;
}

static const CtlColumn volume_columns[] = {
        CTL_PROPERTY("NAME", "name", CTL_STRING, "Name"),
        CTL_PROPERTY("FORMAT", "format", CTL_STRING, "Format"),
        CTL_PROPERTY("SIZE", "capacity_bytes", CTL_SIZE, "CapacityBytes"),
        CTL_PROPERTY("ALLOC", "allocation_bytes", CTL_SIZE, "AllocationBytes"),
        CTL_PROPERTY("BACKING", "backing_volume", CTL_STRING, "BackingVolume"),
        CTL_FORMATTED("USED-BY", "in_use_by", CTL_STRINGS, volume_users, .people_only = true),
        CTL_PROPERTY("USED-BY", "in_use_by", CTL_STRINGS, "InUseBy", .json_only = true),
        CTL_FORMATTED("FILE", "file", CTL_STRING, volume_file),
        CTL_PATH_COLUMN,
        {}
};

/* A pool's volumes: USERDATA is the pool's path. */
static bool volume_in_pool(const void *object, void *userdata) {
        return streq_ptr(((const VolumeInfo *) object)->pool, userdata);
}

static const CtlObjectType volume_type = {
        .interface = CTL_VOLUME,
        .kind = "volume",
        .map = volume_map,
        .size = sizeof(VolumeInfo),
        .table = "volumes",
        .columns = volume_columns,
        .filter = volume_in_pool,
};

int verb_volumes(int argc, char **argv, sd_bus *bus) {
        _cleanup_(freep) char *pool = NULL;
        int r;

        r = ctl_pool_path(bus, argv[1], &pool);
        if (r < 0)
                return r;
        return ctl_list_objects(bus, &volume_type, pool);
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
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(freep) char *pool = NULL;
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
        r = ctl_call_message(bus, m, CTL_ABOUT("volume", argv[2], "create the volume"), &reply);
        if (r < 0)
                return r;
        return ctl_reply_print_path(reply);
}

int verb_resize_volume(int argc, char **argv, sd_bus *bus) {
        _cleanup_(freep) char *path = NULL;
        uint64_t size;
        int r;

        if (ctl_parse_size(argv[3], &size) < 0)
                return ctl_fail(argv[3], "not a size (a number of bytes, or with a unit: 10G, 512M)");
        r = ctl_volume_path(bus, argv[1], argv[2], &path);
        if (r < 0)
                return r;
        return ctl_call(bus, path, CTL_VOLUME, "Resize", CTL_ABOUT("volume", argv[2], "resize"), NULL, "t", size);
}

int verb_clone_volume(int argc, char **argv, sd_bus *bus) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) char *path = NULL;
        int r;

        r = ctl_volume_path(bus, argv[1], argv[2], &path);
        if (r < 0)
                return r;
        r = ctl_call(bus, path, CTL_VOLUME, "Clone", CTL_ABOUT("volume", argv[2], "clone"), &reply, "s", argv[3]);
        if (r < 0)
                return r;
        return ctl_job_follow_reply(bus, reply, argv[2], "clone");
}

int verb_delete_volume(int argc, char **argv, sd_bus *bus) {
        _cleanup_(freep) char *path = NULL;
        int r;

        r = ctl_volume_path(bus, argv[1], argv[2], &path);
        if (r < 0)
                return r;
        return ctl_call(bus, path, CTL_VOLUME, "Delete", CTL_ABOUT("volume", argv[2], "delete"), NULL, NULL);
}

int verb_pool_action(int argc, char **argv, sd_bus *bus) {
        static const struct { const char *verb, *method, *action; } actions[] = {
                { "activate-pool",   "Activate",   "activate" },
                { "deactivate-pool", "Deactivate", "deactivate" },
                { "refresh-pool",    "Refresh",    "refresh" },
                { "delete-pool",     "Delete",     "delete" },
        };
        _cleanup_(freep) char *path = NULL;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(actions); i++) {
                if (!streq(argv[0], actions[i].verb))
                        continue;
                r = ctl_pool_path(bus, argv[1], &path);
                if (r < 0)
                        return r;
                return ctl_call(bus, path, CTL_POOL, actions[i].method,
                                CTL_ABOUT("pool", argv[1], actions[i].action), NULL, NULL);
        }
        return -EINVAL;
}
