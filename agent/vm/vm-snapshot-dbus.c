/* org.hostagent1.Snapshot objects and the VM's Snapshots and CreateSnapshot on the bus */
#include <stdlib.h>
#include <string.h>

#include "bus-collection.h"
#include "bus-error.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "vm-snapshot.h"

void vm_snapshot_bus_added(VmSnapshot *s) {
        int r = sd_bus_emit_object_added(s->manager->bus, s->path);

        if (r < 0)
                log_debug_errno(r, "Cannot emit InterfacesAdded for %s: %m", s->path);
}

void vm_snapshot_bus_removed(VmSnapshot *s) {
        int r = sd_bus_emit_object_removed(s->manager->bus, s->path);

        if (r < 0)
                log_debug_errno(r, "Cannot emit InterfacesRemoved for %s: %m", s->path);
}

void vm_snapshot_bus_changed(VmSnapshot *s, const char **names) {
        int r = sd_bus_emit_properties_changed_strv(s->manager->bus, s->path, SNAPSHOT_INTERFACE, (char **) names);

        if (r < 0)
                log_debug_errno(r, "Cannot emit PropertiesChanged for %s: %m", s->path);
}

void vm_snapshot_bus_vm_changed(Manager *m, const char *uuid) {
        _cleanup_(freep) char *path = NULL;
        int r;

        if (!vm_find(m, uuid) || vm_path_from_uuid(uuid, &path) < 0)
                return;
        bus_collection_changed(path);   /* the VM's kept GetManagedObjects entry */
        r = sd_bus_emit_properties_changed(m->bus, path, VM_INTERFACE, "Snapshots", NULL);
        if (r < 0)
                log_debug_errno(r, "Cannot emit PropertiesChanged for %s: %m", path);
}

int vm_snapshot_internal_refusal(VmSnapshot *s, const char *verb, sd_bus_error *error) {
        return sd_bus_error_setf(error, HOSTAGENT_ERROR_NOT_SUPPORTED, "Cannot %s snapshot %s: it is kept inside the "
                                 "disk images (an internal snapshot, as virsh makes by default); the agent handles "
                                 "external ones only (use virsh); nothing was changed", verb, s->info.name);
}

static int snapshot_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                                void **found, sd_bus_error *error) {
        VmSnapshot *s = vm_snapshot_find_by_path(userdata, path);

        if (!s)
                return 0;
        *found = s;
        return 1;
}

static int snapshot_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                                    sd_bus_error *error) {
        Manager *m = userdata;
        size_t n = 0, k = 0;
        char **v;

        for (VmSnapshot *s = m->snapshots ? m->snapshots->list : NULL; s; s = s->next)
                n++;
        v = calloc(n + 1, sizeof *v);
        if (!v)
                return -ENOMEM;
        for (VmSnapshot *s = m->snapshots ? m->snapshots->list : NULL; s; s = s->next)
                if ((v[k] = strdup(s->path)))
                        k++;
        *nodes = v;
        return 0;
}

#define SNAPSHOT_PROPERTY_GETTER(name, type, expr)                                              \
        static int property_get_##name(sd_bus *bus, const char *path, const char *interface,  \
                                       const char *property, sd_bus_message *reply,           \
                                       void *userdata, sd_bus_error *error) {                 \
                VmSnapshot *s = userdata;                                                      \
                return sd_bus_message_append(reply, type, expr);                               \
        }

SNAPSHOT_PROPERTY_GETTER(name, "s", s->info.name)
SNAPSHOT_PROPERTY_GETTER(vm, "o", s->vm_path)
SNAPSHOT_PROPERTY_GETTER(creation_time, "t", s->info.creation_usec)
SNAPSHOT_PROPERTY_GETTER(has_memory, "b", s->info.memory_file != NULL)
SNAPSHOT_PROPERTY_GETTER(quiesced, "b", s->info.quiesced)
SNAPSHOT_PROPERTY_GETTER(current, "b", s->info.current)

static int property_get_disks(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        VmSnapshot *s = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "s");
        for (size_t i = 0; r >= 0 && i < s->info.n_disks; i++)
                r = sd_bus_message_append(reply, "s", s->info.disks[i].overlay);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int property_get_parent(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        VmSnapshot *s = userdata;
        VmSnapshot *p = s->info.parent ? vm_snapshot_find(s->manager, s->uuid, s->info.parent) : NULL;

        return sd_bus_message_append(reply, "o", p ? p->path : "/");
}

#define CHANGES SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE

const sd_bus_vtable snapshot_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", property_get_name, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("VM", "o", property_get_vm, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("CreationTime", "t", property_get_creation_time, 0, CHANGES),
        SD_BUS_PROPERTY("Disks", "as", property_get_disks, 0, CHANGES),
        SD_BUS_PROPERTY("HasMemory", "b", property_get_has_memory, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Quiesced", "b", property_get_quiesced, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Parent", "o", property_get_parent, 0, CHANGES),
        SD_BUS_PROPERTY("Current", "b", property_get_current, 0, CHANGES),
        SD_BUS_METHOD_WITH_ARGS("Revert", SD_BUS_ARGS("a{sv}", options), SD_BUS_NO_RESULT, method_snapshot_revert,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Delete", SD_BUS_NO_ARGS, SD_BUS_RESULT("o", job), method_snapshot_delete,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

static int property_get_snapshots(sd_bus *bus, const char *path, const char *interface, const char *property,
                                  sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        Manager *m = vm->manager;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "o");
        for (VmSnapshot *s = m->snapshots ? m->snapshots->list : NULL; r >= 0 && s; s = s->next)
                if (streq(s->uuid, vm->info.uuid))
                        r = sd_bus_message_append(reply, "o", s->path);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

/* org.hostagent1.VM's members for snapshots, served beside vm_vtable on the same objects. */
const sd_bus_vtable vm_snapshot_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Snapshots", "ao", property_get_snapshots, 0, CHANGES),
        SD_BUS_METHOD_WITH_ARGS("CreateSnapshot", SD_BUS_ARGS("s", name, "a{sv}", options), SD_BUS_RESULT("o", job),
                                method_vm_create_snapshot, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

int vm_snapshot_bus_register(Manager *m) {
        int r;

        r = vm_snapshots_start(m);
        if (r < 0)
                return log_error_errno(r, "Cannot start following snapshots: %m");
        r = job_register_resumable("merge", vm_snapshot_merge_resume);
        if (r < 0)
                return r;
        r = bus_add_collection_vtable(m->bus, VM_PATH_PREFIX, VM_INTERFACE, vm_snapshot_vtable);
        if (r < 0)
                return r;
        return bus_add_collection(m->bus, VM_PATH_PREFIX, SNAPSHOT_INTERFACE, snapshot_vtable, snapshot_object_find,
                                  snapshot_node_enumerator, m);
}
