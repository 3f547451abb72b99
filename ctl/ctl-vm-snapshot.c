/* hostagentctl's snapshot commands: snapshot, snapshots, revert, delete-snapshot */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "ctl-bus.h"
#include "ctl-error.h"
#include "ctl-job.h"
#include "ctl-object.h"
#include "ctl-output.h"
#include "ctl.h"
#include "strv.h"

#define CTL_SNAPSHOT "org.hostagent1.Snapshot"

typedef struct SnapshotInfo {
        char *name, *vm, *parent;
        uint64_t creation_usec;
        int has_memory, quiesced, current;
        char **disks;
} SnapshotInfo;

static const CtlProperty snapshot_map[] = {
        { "Name",         's', offsetof(SnapshotInfo, name) },
        { "VM",           'o', offsetof(SnapshotInfo, vm) },
        { "Parent",       'o', offsetof(SnapshotInfo, parent) },
        { "CreationTime", 't', offsetof(SnapshotInfo, creation_usec) },
        { "HasMemory",    'b', offsetof(SnapshotInfo, has_memory) },
        { "Quiesced",     'b', offsetof(SnapshotInfo, quiesced) },
        { "Current",      'b', offsetof(SnapshotInfo, current) },
        { "Disks",        'a', offsetof(SnapshotInfo, disks) },
        {}
};

/* When it was made, for people (UTC); JSON has the microseconds. */
static int snapshot_created(const char *path, const void *object, void *userdata, CtlValue *ret) {
        time_t t = (time_t) (((const SnapshotInfo *) object)->creation_usec / 1000000);
        char *s = malloc(32);
        struct tm tm;

        if (!s)
                return -ENOMEM;
        if (!gmtime_r(&t, &tm) || strftime(s, 32, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                snprintf(s, 32, "-");
        *ret = (CtlValue) { .string = s, .owned_string = s };
        return 0;
}

/* The parent by name ("" for none). */
static int snapshot_parent(const char *path, const void *object, void *userdata, CtlValue *ret) {
        const char *parent = ((const SnapshotInfo *) object)->parent;
        char *s = streq_ptr(parent, "/") || isempty(parent) ? strdup("") : ctl_path_name(parent);

        if (!s)
                return -ENOMEM;
        *ret = (CtlValue) { .string = s, .owned_string = s };
        return 0;
}

static const CtlColumn snapshot_columns[] = {
        CTL_PROPERTY("NAME", "name", CTL_STRING, "Name"),
        CTL_FORMATTED("CREATED", "created", CTL_STRING, snapshot_created, .people_only = true),
        CTL_PROPERTY("CREATED", "creation_time_usec", CTL_NUMBER, "CreationTime", .json_only = true),
        CTL_FORMATTED("PARENT", "parent", CTL_STRING, snapshot_parent),
        CTL_PROPERTY("CURRENT", "current", CTL_BOOLEAN, "Current"),
        CTL_PROPERTY("MEMORY", "has_memory", CTL_BOOLEAN, "HasMemory"),
        CTL_PROPERTY("QUIESCED", "quiesced", CTL_BOOLEAN, "Quiesced"),
        CTL_PROPERTY("DISKS", "disks", CTL_STRINGS, "Disks"),
        CTL_PATH_COLUMN,
        {}
};

/* One VM's snapshots: USERDATA is the VM's path. */
static bool snapshot_of_vm(const void *object, void *userdata) {
        return streq_ptr(((const SnapshotInfo *) object)->vm, userdata);
}

static const CtlObjectType snapshot_type = {
        .interface = CTL_SNAPSHOT,
        .kind = "snapshot",
        .map = snapshot_map,
        .size = sizeof(SnapshotInfo),
        .table = "snapshots",
        .columns = snapshot_columns,
        .filter = snapshot_of_vm,
};

int verb_snapshots(int argc, char **argv, sd_bus *bus) {
        _cleanup_(freep) char *vm = NULL;
        int r;

        r = ctl_vm_path(bus, argv[1], &vm);
        if (r < 0)
                return r;
        return ctl_list_objects(bus, &snapshot_type, vm);
}

/* The snapshot NAME of VM: its path, found among the VM's Snapshots (a missing one reported). */
static int snapshot_path(sd_bus *bus, const char *vm, const char *name, char **ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(freep) char *vm_path = NULL, *prefix = NULL, *path = NULL;
        _cleanup_(strv_freep) char **snapshots = NULL;
        int r;

        r = ctl_vm_path(bus, vm, &vm_path);
        if (r < 0)
                return r;
        if (asprintf(&prefix, "%s/snapshot", vm_path) < 0)
                return -ENOMEM;
        r = sd_bus_path_encode(prefix, name, &path);
        if (r < 0)
                return r;
        r = sd_bus_get_property_strv(bus, CTL_SERVICE, vm_path, CTL_VM, "Snapshots", &error, &snapshots);
        if (r < 0)
                return ctl_error_report("VM", vm, "read the snapshots of", &error);
        for (char **s = snapshots; s && *s; s++)
                if (streq(*s, path)) {
                        *ret = TAKE_PTR(path);
                        return 0;
                }
        ctl_fail(name, "VM %s has no such snapshot", vm);
        return CTL_NO_SUCH_OBJECT;
}

static int snapshot_append_options(sd_bus_message *m) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && arg.snapshot_memory)
                r = sd_bus_message_append(m, "{sv}", "memory", "b", 1);
        if (r >= 0 && arg.quiesce)
                r = sd_bus_message_append(m, "{sv}", "quiesce", "b", 1);
        if (r >= 0 && arg.snapshot_disks) {
                r = sd_bus_message_open_container(m, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "disks");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', "as");
                if (r >= 0)
                        r = sd_bus_message_append_strv(m, arg.snapshot_disks);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

int verb_snapshot(int argc, char **argv, sd_bus *bus) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL, *reply = NULL;
        _cleanup_(freep) char *path = NULL;
        int r;

        r = ctl_vm_path(bus, argv[1], &path);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &call, CTL_SERVICE, path, CTL_VM, "CreateSnapshot");
        if (r >= 0)
                r = sd_bus_message_append(call, "s", argv[2]);
        if (r >= 0)
                r = snapshot_append_options(call);
        if (r < 0)
                return ctl_fail(argv[1], "cannot build the call: %s", strerror(-r));
        r = ctl_call_message(bus, call, CTL_ABOUT("VM", argv[1], "snapshot"), &reply);
        if (r < 0)
                return r;
        return ctl_job_follow_reply(bus, reply, argv[1], "snapshot");
}

int verb_revert(int argc, char **argv, sd_bus *bus) {
        _cleanup_(freep) char *path = NULL;
        int r;

        r = snapshot_path(bus, argv[1], argv[2], &path);
        if (r < 0)
                return r;
        return ctl_call(bus, path, CTL_SNAPSHOT, "Revert", CTL_ABOUT("snapshot", argv[2], "revert to"), NULL, "a{sv}",
                        0);
}

int verb_delete_snapshot(int argc, char **argv, sd_bus *bus) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) char *path = NULL;
        int r;

        r = snapshot_path(bus, argv[1], argv[2], &path);
        if (r < 0)
                return r;
        r = ctl_call(bus, path, CTL_SNAPSHOT, "Delete", CTL_ABOUT("snapshot", argv[2], "delete"), &reply, NULL);
        if (r < 0)
                return r;
        /* A live merge: the bar is the share of the overlays merged. */
        return ctl_job_follow_reply(bus, reply, argv[2], "delete");
}
