/* Storage objects on the bus: paths, announcements, errors shared by pools and volumes */
#include "storage-dbus.h"

#include <stdio.h>

#include "bus-collection.h"
#include "bus-error.h"
#include "log.h"
#include "macro.h"
#include "bus-work.h"
#include "manager.h"

int storage_pool_bus_path(const char *name, char **ret) {
        return sd_bus_path_encode(STORAGE_PATH_PREFIX, name, ret);
}

int storage_volume_bus_path(Pool *p, const char *name, char **ret) {
        return sd_bus_path_encode(p->path, name, ret);
}

void pool_bus_added(Pool *p) {
        int r = sd_bus_emit_object_added(p->manager->bus, p->path);
        if (r < 0)
                log_debug_errno(r, "Cannot announce %s: %m", p->path);
}

void pool_bus_removed(Pool *p) {
        int r = sd_bus_emit_object_removed(p->manager->bus, p->path);
        if (r < 0)
                log_debug_errno(r, "Cannot withdraw %s: %m", p->path);
}

void pool_bus_emit_state_changed(Pool *p) {
        Manager *m = p->manager;
        int r;

        if (p->removed)
                return;
        r = sd_bus_emit_properties_changed(m->bus, p->path, STORAGE_POOL_INTERFACE, "State", "StateMessage", NULL);
        if (r >= 0)
                r = sd_bus_emit_signal(m->bus, p->path, STORAGE_POOL_INTERFACE, "StateChanged", "sst",
                                       pool_state_to_string(p->state), strempty(p->state_message), ++m->sequence);
        if (r < 0)
                log_debug_errno(r, "Cannot emit the state of %s: %m", p->path);
}

void pool_bus_emit_space_changed(Pool *p) {
        int r;

        if (p->removed)
                return;
        r = sd_bus_emit_properties_changed(p->manager->bus, p->path, STORAGE_POOL_INTERFACE, "CapacityBytes",
                                           "AllocationBytes", "AvailableBytes", NULL);
        if (r < 0)
                log_debug_errno(r, "Cannot emit the space of %s: %m", p->path);
}

void volume_bus_added(Volume *v) {
        int r;

        if (v->pool->removed)
                return;
        r = sd_bus_emit_object_added(v->pool->manager->bus, v->path);
        if (r < 0)
                log_debug_errno(r, "Cannot announce %s: %m", v->path);
}

void volume_bus_removed(Volume *v) {
        int r = sd_bus_emit_object_removed(v->pool->manager->bus, v->path);
        if (r < 0)
                log_debug_errno(r, "Cannot withdraw %s: %m", v->path);
}

void volume_bus_emit_changed(Volume *v) {
        int r;

        if (v->pool->removed)
                return;
        r = sd_bus_emit_properties_changed(v->pool->manager->bus, v->path, STORAGE_VOLUME_INTERFACE, "Format",
                                           "CapacityBytes", "AllocationBytes", "BackingVolume", NULL);
        if (r < 0)
                log_debug_errno(r, "Cannot emit the changes of %s: %m", v->path);
}

int storage_error(sd_bus_error *error, int r, const char *input_error, const char *message, const char *what) {
        /* A missing pool, volume or device is one the caller named in its input. */
        const BusErrorContext context = { .invalid = input_error, .missing = input_error };

        return bus_error_set_errno(error, r, &context, what, message);
}

int storage_pool_error(sd_bus_error *error, Pool *p, int r, const char *input_error, const char *message,
                       const char *what) {
        _cleanup_(freep) char *why = NULL;

        /* At a stop every pool is let go as removed: that is ShuttingDown, as R says. */
        if (!p->removed || p->manager->stopping)
                return storage_error(error, r, input_error, message, what);
        if (asprintf(&why, "storage pool %s was deleted meanwhile", p->spec.name) < 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_NO_MEMORY, "Out of memory");
        (void) bus_error_set_text(error, HOSTAGENT_ERROR_NO_SUCH_OBJECT, what, why);
        return -ENOENT;
}

int storage_error_unsaved(sd_bus_error *error, int r, int undo, const char *undo_message, const char *what) {
        _cleanup_(freep) char *why = NULL;
        int k;

        if (r == -ENOMEM)
                return sd_bus_error_set(error, SD_BUS_ERROR_NO_MEMORY, "Out of memory");
        if (!undo_message)
                undo_message = undo == -ECANCELED || undo == -ESHUTDOWN ? "the agent is stopping" : strerror(-undo);
        if (undo >= 0)
                k = asprintf(&why, "%s: %s; the change was undone", STORAGE_STATE_FILE, strerror(-r));
        else
                k = asprintf(&why, "%s: %s; undoing it failed too: %s", STORAGE_STATE_FILE, strerror(-r),
                             undo_message);
        if (k < 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_NO_MEMORY, "Out of memory");
        (void) bus_error_set_text(error, HOSTAGENT_ERROR_FAILED, what, why);
        return r;
}

int storage_error_leftovers(sd_bus_error *error, Pool *p) {
        return sd_bus_error_setf(error, HOSTAGENT_ERROR_BUSY,
                                 "Storage pool %s: what a previous agent left half-made in it is being removed; "
                                 "retry when that is done", p->spec.name);
}

int storage_error_volumes_max(sd_bus_error *error, Pool *p) {
        return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS,
                                 "pool %s has %zu volumes, the most the agent keeps in one pool (%zu); delete one first",
                                 p->spec.name, p->n_volumes, p->manager->storage_volumes_max);
}

static int pool_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                            sd_bus_error *error) {
        Pool *p = storage_pool_find_by_path(userdata, path);

        if (!p)
                return 0;
        *found = p;
        return 1;
}

static int volume_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                              void **found, sd_bus_error *error) {
        Volume *v = storage_volume_find_by_path(userdata, path);

        if (!v)
                return 0;
        *found = v;
        return 1;
}

static int storage_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                                   sd_bus_error *error) {
        Manager *m = userdata;
        size_t n = 0, total = 0;
        char **l;

        for (Pool *p = m->pools; p; p = p->next)
                total += 1 + p->n_volumes;
        l = calloc(total + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (Pool *p = m->pools; p; p = p->next) {
                l[n++] = strdup(p->path);
                for (size_t i = 0; i < p->n_volumes; i++)
                        if (!p->volumes[i]->pending)
                                l[n++] = strdup(p->volumes[i]->path);
        }
        for (size_t i = 0; i < n; i++)
                if (!l[i]) {
                        for (size_t j = 0; j < n; j++)
                                free(l[j]);
                        free(l);
                        return -ENOMEM;
                }
        *nodes = l;
        return 0;
}

int storage_bus_register(Manager *m) {
        int r;

        r = bus_add_collection(m->bus, STORAGE_PATH_PREFIX, STORAGE_POOL_INTERFACE, storage_pool_vtable,
                               pool_object_find, storage_node_enumerator, m);
        if (r < 0)
                return r;
        return bus_add_collection_interface(m->bus, STORAGE_PATH_PREFIX, STORAGE_VOLUME_INTERFACE, volume_vtable,
                                            volume_object_find, m);
}
