/* org.hostagent1.StoragePool: properties from the model, methods off the loop */
#include "bus-auth.h"
#include "bus-error.h"
#include "bus-options.h"
#include "error-text.h"
#include "json-field.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "storage-call.h"
#include "storage-dbus.h"
#include "storage-save.h"

static const char *const volume_formats[] = { "qcow2", "raw", NULL };
static const char *const preallocations[] = { "off", "metadata", "falloc", "full", NULL };

#define POOL_PROPERTY_GETTER(name, type, expr)                                                   \
        static int property_get_##name(sd_bus *bus, const char *path, const char *interface,   \
                                       const char *property, sd_bus_message *reply,            \
                                       void *userdata, sd_bus_error *error) {                  \
                Pool *p = userdata;                                                             \
                return sd_bus_message_append(reply, type, expr);                                \
        }

POOL_PROPERTY_GETTER(name, "s", p->spec.name)
POOL_PROPERTY_GETTER(type, "s", pool_type_to_string(p->spec.type))
POOL_PROPERTY_GETTER(state, "s", pool_state_to_string(p->state))
POOL_PROPERTY_GETTER(state_message, "s", strempty(p->state_message))
POOL_PROPERTY_GETTER(capacity, "t", p->status.capacity)
POOL_PROPERTY_GETTER(allocation, "t", p->status.allocation)
POOL_PROPERTY_GETTER(available, "t", p->status.available)
POOL_PROPERTY_GETTER(source, "s", p->source)
POOL_PROPERTY_GETTER(spec, "s", json_object_to_json_string_ext(p->spec.normalized, JSON_C_TO_STRING_NOSLASHESCAPE))

static bool pool_usable(Pool *p) {
        return (p->state == POOL_STATE_ACTIVE || p->state == POOL_STATE_DEGRADED) && !pool_leftovers_pending(p);
}

static int error_not_usable(Pool *p, sd_bus_error *error) {
        if (pool_leftovers_pending(p) && (p->state == POOL_STATE_ACTIVE || p->state == POOL_STATE_DEGRADED))
                return storage_error_leftovers(error, p);
        return sd_bus_error_setf(error,
                                 p->state == POOL_STATE_UNREACHABLE ? HOSTAGENT_ERROR_STORAGE_UNREACHABLE
                                                                    : HOSTAGENT_ERROR_INVALID_STATE,
                                 "Storage pool %s is %s%s%s", p->spec.name, pool_state_to_string(p->state),
                                 *strempty(p->state_message) ? ": " : "", strempty(p->state_message));
}

/* CreateVolume */

/* The empty reply of a pool operation, and the end of its call. The DONE of
 * storage_save() when the state file keeps the outcome: the reply then
 * comes once the file is written, so the outcome survives a restart. */
static void reply_empty(void *userdata) {
        StorageCall *c = userdata;

        (void) bus_call_reply_empty(&c->call);
        storage_call_free(c);
}

/* A pool change the state file could not keep: the caller hears why, and whether it was undone
 * (UNDO 0) or undoing it failed too (-errno; the undo's own words in c->message). */
static void reply_unsaved(StorageCall *c, const char *what, int undo) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

        (void) storage_error_unsaved(&error, c->save_result, undo, undo < 0 ? c->message : NULL, what);
        (void) bus_call_reply_error(&c->call, &error);
        storage_call_free(c);
}

static void log_unsaved(StorageCall *c, const char *change) {
        log_fields(LOG_ERR, LOG_FIELDS("OBJECT_PATH", c->pool->path), "Cannot keep in %s that storage pool %s is %s: %s; "
                   "undoing it", STORAGE_STATE_FILE, c->pool->spec.name, change, strerror(-c->save_result));
}

static void create_volume_done(int result, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        StorageCall *c = userdata;
        Pool *p = c->pool;
        Volume *v;

        if (result >= 0 && !p->removed) {
                v = pool_volume_update(p, &c->info);   /* publishes the reserved volume */
                if (v) {
                        c->volume = NULL;
                        log_fields(LOG_INFO, LOG_FIELDS("OBJECT_PATH", v->path), "Created volume %s in pool %s",
                                   v->info.name, p->spec.name);
                        (void) bus_call_reply_path(&c->call, v->path);
                        pool_check_soon(p, false);
                        storage_call_free(c);
                        return;
                }
                result = -ENOMEM;
        }
        if (p->removed && result >= 0)
                result = -ECANCELED;
        (void) storage_pool_error(&error, p, result, HOSTAGENT_ERROR_INVALID_ARGS, c->message, "Cannot create the volume");
        (void) bus_call_reply_error(&c->call, &error);
        storage_call_free(c);
}

typedef struct CreateOptions {
        Pool *pool;
        StorageCall *call;
} CreateOptions;

static int read_create_option(sd_bus_message *msg, const char *key, void *userdata, sd_bus_error *error) {
        CreateOptions *o = userdata;
        Pool *p = o->pool;
        StorageCall *c = o->call;
        const char *value;
        int r;

        if (streq(key, "backing_volume") || streq(key, "preallocation")) {
                r = sd_bus_message_read(msg, "v", "s", &value);
                if (r < 0)
                        return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS,
                                                 "options.%s: must be a string", TEXT_CUT(key));
        } else
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS,
                                         "options.%s: unknown option (known: backing_volume, preallocation)",
                                         TEXT_CUT(key));
        if (streq(key, "backing_volume")) {
                Volume *b = pool_volume_find(p, value);
                if (!b || b->pending)
                        return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS,
                                                 "options.backing_volume: no volume '%s' in pool %s",
                                                 TEXT_CUT(value),
                                                 p->spec.name);
                free(c->backing);
                c->backing = strdup(value);
        } else {
                bool known = false;
                for (size_t i = 0; preallocations[i]; i++)
                        known = known || streq(value, preallocations[i]);
                if (!known)
                        return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS,
                                                 "options.preallocation: must be one of off, metadata, "
                                                 "falloc, full");
                free(c->preallocation);
                c->preallocation = strdup(value);
        }
        return 0;
}

static int read_create_options(sd_bus_message *msg, Pool *p, StorageCall *c, sd_bus_error *error) {
        return bus_options_read(msg, read_create_option, &(CreateOptions) { .pool = p, .call = c }, error);
}

/* The arguments a CreateVolume names, each as the caller got it wrong, if so. */
static int create_volume_check_args(const char *name, uint64_t size, const char *format, sd_bus_error *error) {
        if (!json_name_valid(name))
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS,
                                         "name: must be 1 to %d letters, digits, '.', '_', '+' or '-', starting "
                                         "with a letter or digit", JSON_NAME_MAX_LEN);
        if (size == 0 || size > STORAGE_VOLUME_SIZE_MAX)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS,
                                         "size_bytes: must be between 1 and %llu (1 PiB)",
                                         (unsigned long long) STORAGE_VOLUME_SIZE_MAX);
        if (!streq(format, "qcow2") && !streq(format, "raw"))
                return sd_bus_error_set(error, HOSTAGENT_ERROR_INVALID_ARGS, "format: must be one of qcow2, raw");
        return 0;
}

/* The options read into C that only a qcow2 volume takes. */
static int create_volume_check_options(const StorageCall *c, const char *format, sd_bus_error *error) {
        if (c->backing && !streq(format, "qcow2"))
                return sd_bus_error_set(error, HOSTAGENT_ERROR_INVALID_ARGS,
                                        "options.backing_volume: only a qcow2 volume can have a backing volume");
        if (c->preallocation && streq(c->preallocation, "metadata") && !streq(format, "qcow2"))
                return sd_bus_error_set(error, HOSTAGENT_ERROR_INVALID_ARGS,
                                        "options.preallocation: metadata applies to qcow2 only");
        return 0;
}

/* NAME taken in pool P for the call C, which makes it: no other call can take it meanwhile. */
static int create_volume_reserve(Pool *p, StorageCall *c, const char *name, sd_bus_error *error) {
        int r;

        if (!pool_usable(p))
                return error_not_usable(p, error);
        c->volume = pool_volume_reserve(p, name, &r);
        if (c->volume)
                return 0;
        if (r == -EEXIST)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_EXISTS, "name: pool %s has a volume '%s' already",
                                         p->spec.name, name);
        return r == -ENOSPC ? storage_error_volumes_max(error, p) : r;
}

static int method_create_volume(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Pool *p = userdata;
        const char *name, *format;
        StorageCall *c;
        uint64_t size;
        int r;

        r = sd_bus_message_read(msg, "sts", &name, &size, &format);
        if (r < 0)
                return r;
        BUS_AUTHORIZE_OR_RETURN(msg, BUS_ACTION_STORAGE_MANAGE, BUS_DETAILS("pool", p->spec.name, "volume", name), error);
        r = create_volume_check_args(name, size, format, error);
        if (r < 0)
                return r;
        format = streq(format, "qcow2") ? volume_formats[0] : volume_formats[1];

        c = storage_call_new(p, msg);
        if (!c)
                return -ENOMEM;
        r = read_create_options(msg, p, c, error);
        if (r >= 0)
                r = create_volume_check_options(c, format, error);
        if (r >= 0)
                r = create_volume_reserve(p, c, name, error);
        if (r < 0)
                goto fail;
        c->name = strdup(name);
        c->format = strdup(format);
        c->size = size;
        if (!c->name || !c->format) {
                r = -ENOMEM;
                goto fail;
        }
        r = storage_call_submit(c, storage_call_create_volume_work, create_volume_done, error);
        if (r < 0)
                goto fail;
        return 1;
fail:
        storage_call_free(c);
        return r;
}

/* Refresh and Activate: prepare (Activate only), then status and listing. */

/* What a worker found on a pool it prepared: its space, state and volumes. */
static void pool_apply_prepared(Pool *p, StorageCall *c) {
        p->prepared = true;
        pool_update_status(p, &c->status);
        pool_set_state(p, c->status.degraded ? POOL_STATE_DEGRADED : POOL_STATE_ACTIVE,
                       c->status.degraded ? "a device of the volume group is missing" : NULL);
        storage_pool_apply_listing(p, c->volumes, c->n_volumes);
}

static void activate_undone(int result, void *userdata) {
        StorageCall *c = userdata;

        if (result < 0 && result != -ECANCELED)
                log_warning("Storage pool %s stays mounted: %s", c->pool->spec.name, c->message ?: strerror(-result));
        reply_unsaved(c, "Cannot activate the pool", result);
}

/* Activate kept: answered. Not kept: inactive again, as a restart would
 * find it, and its storage released as Deactivate does. */
static void activate_saved(int result, void *userdata) {
        StorageCall *c = userdata;
        Pool *p = c->pool;
        int r;

        if (result >= 0) {
                reply_empty(c);
                return;
        }
        c->save_result = result;
        log_unsaved(c, "active");
        if (p->removed || !p->enabled) {   /* deactivated or deleted meanwhile: nothing is left to undo */
                reply_unsaved(c, "Cannot activate the pool", 0);
                return;
        }
        pool_set_enabled(p, false);
        c->message = mfree(c->message);
        r = worker_pool_submit(p->manager->pool, WORKER_INTERNAL, storage_call_release_work, activate_undone, c);
        if (r < 0)
                reply_unsaved(c, "Cannot activate the pool", r);
}

static void refresh_done(int result, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        StorageCall *c = userdata;
        Pool *p = c->pool;
        bool activate = c->activate, newly_enabled;

        if (p->removed)
                result = -ECANCELED;
        if (result < 0) {
                if (!activate && result != -ECANCELED && p->enabled)
                        pool_set_state(p, POOL_STATE_UNREACHABLE, c->message ?: strerror(-result));
                (void) storage_pool_error(&error, p, result, NULL, c->message,
                                          activate ? "Cannot activate the pool" : "Cannot refresh the pool");
                (void) bus_call_reply_error(&c->call, &error);
                storage_call_free(c);
                return;
        }
        pool_apply_prepared(p, c);
        newly_enabled = activate && !p->enabled;
        if (newly_enabled)
                p->enabled = true;
        if (activate)
                storage_pool_arm_checks(p);
        if (newly_enabled)   /* to be active after a restart too: answered once that is kept */
                storage_save(p->manager, activate_saved, c);
        else
                reply_empty(c);
}

static int refresh_submit(sd_bus_message *msg, Pool *p, bool activate, sd_bus_error *error) {
        StorageCall *c;
        int r;

        c = storage_call_new(p, msg);
        if (!c)
                return -ENOMEM;
        c->activate = activate;
        c->clean = pool_clean_begin(p);   /* an Activate's is the first look at a pool inactive since start */
        r = storage_call_submit(c, storage_call_refresh_work, refresh_done, error);
        if (r < 0)
                storage_call_free(c);
        return r;
}

static int method_refresh(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Pool *p = userdata;

        BUS_AUTHORIZE_OR_RETURN(msg, BUS_ACTION_STORAGE_MANAGE, BUS_DETAILS("pool", p->spec.name), error);
        if (!p->enabled)
                return error_not_usable(p, error);
        return refresh_submit(msg, p, false, error);
}

static int method_activate(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Pool *p = userdata;

        BUS_AUTHORIZE_OR_RETURN(msg, BUS_ACTION_STORAGE_MANAGE, BUS_DETAILS("pool", p->spec.name), error);
        return refresh_submit(msg, p, true, error);
}

/* Deactivate and Delete */

static int pool_in_use(Pool *p, sd_bus_error *error) {
        for (size_t i = 0; i < p->n_volumes; i++) {
                char **users;

                if (p->volumes[i]->pending)
                        continue;
                users = volume_users(p->volumes[i]);
                if (users && users[0]) {
                        int r = sd_bus_error_setf(error, HOSTAGENT_ERROR_IN_USE,
                                                  "Volume %s of pool %s is a disk of VM %s", p->volumes[i]->info.name,
                                                  p->spec.name, users[0]);
                        for (char **u = users; *u; u++)
                                free(*u);
                        free(users);
                        return r;
                }
                free(users);
        }
        if (p->operations > 0)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_BUSY,
                                         "Storage pool %s has %u operations in flight; retry when they end",
                                         p->spec.name, p->operations);
        return 0;
}

/* Deactivate or Delete not kept: the storage as the file has it again
 * (made again where Delete removed it, an LVM volume group; mounted again
 * where the pool is to be active), before the caller hears why, so that no
 * other call meets it half-made. */
static void release_undone(int result, void *userdata) {
        StorageCall *c = userdata;
        Pool *p = c->pool;

        if (!p->removed && c->enabled) {
                if (result >= 0)
                        pool_apply_prepared(p, c);
                else if (result != -ECANCELED)
                        pool_set_state(p, POOL_STATE_UNREACHABLE, c->message ?: strerror(-result));
                storage_pool_arm_checks(p);
        }
        reply_unsaved(c, c->delete ? "Cannot delete the pool" : "Cannot deactivate the pool", result);
}

/* Deactivate or Delete kept: answered. Not kept: undone, as a restart would
 * find the pool: active again, or back on the bus, unless it was never on
 * disk or its name has been taken meanwhile. */
static void released_saved(int result, void *userdata) {
        StorageCall *c = userdata;
        Pool *p = c->pool;
        bool delete = c->delete;

        if (result >= 0) {
                reply_empty(c);
                return;
        }
        c->save_result = result;
        log_unsaved(c, delete ? "deleted" : "inactive");
        if (delete && p->removed && p->on_disk && !storage_pool_find(p->manager, p->spec.name)) {
                c->enabled = p->enabled;
                storage_pool_restore(p);
        } else if (!delete && !p->removed && !p->enabled) {
                /* To be active, now: a write that starts before the undo ends (another call's) must
                 * keep it so. Inactive, and unchecked, until its storage is there again. */
                c->enabled = p->enabled = true;
                pool_set_state(p, POOL_STATE_INACTIVE, "its storage is being prepared again");
        } else {
                reply_unsaved(c, delete ? "Cannot delete the pool" : "Cannot deactivate the pool", 0);
                return;
        }
        c->message = mfree(c->message);
        if (worker_pool_submit(p->manager->pool, WORKER_INTERNAL, storage_call_release_undo_work, release_undone, c) < 0)
                release_undone(-ECANCELED, c);
}

static void release_done(int result, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        StorageCall *c = userdata;
        Pool *p = c->pool;
        bool delete = c->delete;

        if (p->removed)
                result = -ECANCELED;
        if (result < 0) {
                (void) storage_pool_error(&error, p, result, NULL, c->message,
                                          delete ? "Cannot delete the pool" : "Cannot deactivate the pool");
                (void) bus_call_reply_error(&c->call, &error);
                storage_call_free(c);
                return;
        }
        if (delete) {
                log_fields(LOG_INFO, LOG_FIELDS("OBJECT_PATH", p->path), "Deleted storage pool %s", p->spec.name);
                storage_pool_remove(p);
        } else
                pool_set_enabled(p, false);
        storage_save(p->manager, released_saved, c);
}

static int release_submit(sd_bus_message *msg, Pool *p, bool delete, sd_bus_error *error) {
        StorageCall *c;
        int r;

        r = pool_in_use(p, error);
        if (r < 0)
                return r;
        c = storage_call_new(p, msg);
        if (!c)
                return -ENOMEM;
        c->delete = delete;
        r = storage_call_submit(c, storage_call_release_work, release_done, error);
        if (r < 0)
                storage_call_free(c);
        return r;
}

static int method_deactivate(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Pool *p = userdata;

        BUS_AUTHORIZE_OR_RETURN(msg, BUS_ACTION_STORAGE_MANAGE, BUS_DETAILS("pool", p->spec.name), error);
        return release_submit(msg, userdata, false, error);
}

static int method_delete(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Pool *p = userdata;
        size_t n = 0;

        BUS_AUTHORIZE_OR_RETURN(msg, BUS_ACTION_STORAGE_MANAGE, BUS_DETAILS("pool", p->spec.name), error);
        for (size_t i = 0; i < p->n_volumes; i++)
                n += !p->volumes[i]->pending;
        if (n > 0)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_STATE,
                                         "Storage pool %s still has %zu volumes; delete them first", p->spec.name, n);
        return release_submit(msg, p, true, error);
}

const sd_bus_vtable storage_pool_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", property_get_name, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Type", "s", property_get_type, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Source", "s", property_get_source, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Spec", "s", property_get_spec, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("State", "s", property_get_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("StateMessage", "s", property_get_state_message, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("CapacityBytes", "t", property_get_capacity, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("AllocationBytes", "t", property_get_allocation, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("AvailableBytes", "t", property_get_available, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("CreateVolume",
                                SD_BUS_ARGS("s", name, "t", size_bytes, "s", format, "a{sv}", options),
                                SD_BUS_RESULT("o", volume), method_create_volume, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Refresh", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_refresh,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Activate", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_activate,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Deactivate", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_deactivate,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Delete", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_delete,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("StateChanged", SD_BUS_ARGS("s", state, "s", message, "t", sequence), 0),
        SD_BUS_VTABLE_END,
};
