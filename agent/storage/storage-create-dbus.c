/* Manager.CreateStoragePool, ListStoragePools, GetStoragePool */
#include "bus-auth.h"
#include "bus-error.h"
#include "error-text.h"
#include "log.h"
#include "macro.h"
#include "bus-work.h"
#include "manager.h"
#include "storage-call.h"
#include "storage-dbus.h"
#include "storage-save.h"

/* UNDO: 0 when the pool was taken down again, -errno when it could not be (c->message says why). */
static void create_pool_reply_unsaved(PoolCreateCall *c, int undo) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

        (void) storage_error_unsaved(&error, c->save_result, undo, undo < 0 ? c->message : NULL,
                                     "Cannot create the pool");
        (void) bus_call_reply_error(&c->call, &error);
        pool_create_call_free(c);
}

static void create_pool_undone(int result, void *userdata) {
        PoolCreateCall *c = userdata;

        if (result < 0 && result != -ECANCELED)
                log_warning("Storage of pool %s, which was not kept, stays prepared: %s", c->pool->spec.name,
                            c->message ?: strerror(-result));
        create_pool_reply_unsaved(c, result);
}

/* The pool is in the state file: it comes back after a restart. Or it is
 * not, and so it is not made at all: withdrawn, its storage taken down
 * again (an LVM volume group removed, an export unmounted) before the
 * caller hears why. */
static void create_pool_saved(int result, void *userdata) {
        PoolCreateCall *c = userdata;
        Pool *p = c->pool;
        int r;

        if (result >= 0) {
                p->on_disk = true;
                log_fields(LOG_INFO, LOG_FIELDS("OBJECT_PATH", p->path), "Created storage pool %s (%s, %s)",
                           p->spec.name, pool_type_to_string(p->spec.type), p->source);
                (void) bus_call_reply_path(&c->call, p->path);
                pool_create_call_free(c);
                return;
        }
        c->save_result = result;
        log_fields(LOG_ERR, LOG_FIELDS("OBJECT_PATH", p->path), "Cannot keep storage pool %s in %s: %s; not created",
                   p->spec.name, STORAGE_STATE_FILE, strerror(-result));
        if (p->removed) {   /* deleted meanwhile: nothing is left to undo */
                create_pool_reply_unsaved(c, 0);
                return;
        }
        storage_pool_remove(p);
        c->message = mfree(c->message);
        r = worker_pool_submit(c->manager->pool, WORKER_INTERNAL, pool_create_call_undo_work, create_pool_undone, c);
        if (r < 0)
                create_pool_reply_unsaved(c, r);
}

static void create_pool_done(int result, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        PoolCreateCall *c = userdata;
        Manager *m = c->manager;
        Pool *p;

        if (result >= 0 && m->stopping)
                result = -ECANCELED;
        if (result >= 0) {
                result = storage_pool_add(m, &c->spec, &c->status, c->volumes, c->n_volumes, &p);
                if (result >= 0) {
                        c->pool = pool_ref(p);
                        storage_save(m, create_pool_saved, c);
                        return;
                }
        }
        (void) storage_error(&error, result, HOSTAGENT_ERROR_INVALID_SPEC, c->message, "Cannot create the pool");
        (void) bus_call_reply_error(&c->call, &error);
        pool_create_call_free(c);
}

/* What another pool already has: the same directory, export or device. */
static int check_conflicts(Manager *m, const PoolSpec *spec, sd_bus_error *error) {
        for (Pool *p = m->pools; p; p = p->next) {
                const PoolSpec *o = &p->spec;

                if (streq(o->name, spec->name))
                        return sd_bus_error_setf(error, HOSTAGENT_ERROR_EXISTS, "name: a pool named '%s' exists already",
                                                 spec->name);
                if (o->type != spec->type)
                        continue;
                if (spec->type == POOL_DIR && streq(o->path, spec->path))
                        return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_SPEC,
                                                 "path: %s is pool %s already", spec->path, o->name);
                if (spec->type == POOL_NFS && streq(o->server, spec->server) &&
                    streq(o->export_path, spec->export_path))
                        return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_SPEC,
                                                 "export: %s:%s is pool %s already", spec->server,
                                                 spec->export_path, o->name);
                if (spec->type == POOL_LVM)
                        for (size_t i = 0; i < spec->n_devices; i++)
                                for (size_t j = 0; j < o->n_devices; j++)
                                        if (streq(spec->devices[i], o->devices[j]))
                                                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_SPEC,
                                                                         "devices[%zu]: %s belongs to pool %s", i,
                                                                         spec->devices[i], o->name);
        }
        return 0;
}

/* The one limit on how many pools the agent keeps, checked when one is asked for. (A start keeps
 * whatever the state file holds, even more than this.) */
static int check_limit(Manager *m, sd_bus_error *error) {
        size_t n = storage_pool_count(m);

        if (n < STORAGE_POOLS_MAX)
                return 0;
        return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_SPEC,
                                 "the agent keeps at most %d storage pools and has %zu; delete one first",
                                 STORAGE_POOLS_MAX, n);
}

int method_create_storage_pool(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(freep) char *why = NULL;
        Manager *m = userdata;
        PoolCreateCall *c;
        const char *text;
        int r;

        r = sd_bus_message_read(msg, "s", &text);
        if (r < 0)
                return r;
        _cleanup_(freep) char *name = pool_spec_text_name(text);
        BUS_AUTHORIZE_OR_RETURN(msg, BUS_ACTION_STORAGE_MANAGE, BUS_DETAILS("pool", name), error);
        if (m->storage_unreadable)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_FAILED, "%s", m->storage_unreadable);
        c = pool_create_call_new(m, msg);
        if (!c)
                return -ENOMEM;
        r = pool_spec_parse(text, &c->spec, &why);
        if (r < 0) {
                r = r == -EINVAL ? sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_SPEC, "%s", strempty(why)) : r;
                goto fail;
        }
        r = check_conflicts(m, &c->spec, error);
        if (r < 0)
                goto fail;
        r = check_limit(m, error);
        if (r < 0)
                goto fail;
        if (m->pool_creating) {
                r = sd_bus_error_set(error, HOSTAGENT_ERROR_BUSY,
                                     "Another storage pool is being created; retry when it is done");
                goto fail;
        }
        r = pool_create_call_submit(c, create_pool_done, error);
        if (r < 0)
                goto fail;
        return 1;
fail:
        pool_create_call_free(c);
        return r;
}

int method_list_storage_pools(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        int r;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(osss)");
        for (Pool *p = m->pools; r >= 0 && p; p = p->next)
                r = sd_bus_message_append(reply, "(osss)", p->path, p->spec.name, pool_type_to_string(p->spec.type),
                                          pool_state_to_string(p->state));
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

int method_get_storage_pool(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *name;
        Pool *p;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        p = storage_pool_find(m, name);
        if (!p)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_NO_SUCH_OBJECT, "name: no storage pool is named '%s'",
                                         TEXT_CUT(name));
        return sd_bus_reply_method_return(msg, "o", p->path);
}
