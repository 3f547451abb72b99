/* One storage operation in flight: the call, the pool it holds, and what the worker found */
#include "storage-call.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "bus-work.h"
#include "failpoint.h"
#include "macro.h"
#include "manager.h"

StorageCall *storage_call_new(Pool *pool, sd_bus_message *msg) {
        StorageCall *c = calloc(1, sizeof *c);

        if (!c)
                return NULL;
        bus_call_init(&c->call, msg);
        c->pool = pool_ref(pool);
        c->pool->operations++;
        c->env = storage_env(pool->manager);
        return c;
}

void storage_call_free(StorageCall *c) {
        if (!c)
                return;
        if (c->volume) {
                if (c->volume->pending)
                        pool_volume_remove(c->volume);   /* never made: the name is free again */
                else
                        c->volume->busy = false;
        }
        if (c->clean)
                pool_clean_end(c->pool, c->cleaned);
        c->pool->operations--;
        pool_unref(c->pool);
        bus_call_done(&c->call);
        free(c->name);
        free(c->format);
        free(c->backing);
        free(c->preallocation);
        free(c->message);
        volume_info_done(&c->info);
        volume_info_array_free(c->volumes, c->n_volumes);
        free(c);
}

int storage_call_submit(StorageCall *c, worker_work_fn work, worker_done_fn done, sd_bus_error *error) {
        return bus_work_submit(c->pool->manager, &c->call, work, done, error);
}

PoolCreateCall *pool_create_call_new(Manager *m, sd_bus_message *msg) {
        PoolCreateCall *c = calloc(1, sizeof *c);

        if (!c)
                return NULL;
        c->manager = m;
        c->env = storage_env(m);
        bus_call_init(&c->call, msg);
        return c;
}

void pool_create_call_free(PoolCreateCall *c) {
        if (!c)
                return;
        if (c->creating)
                c->manager->pool_creating = false;
        bus_call_done(&c->call);
        pool_spec_done(&c->spec);
        volume_info_array_free(c->volumes, c->n_volumes);
        free(c->message);
        pool_unref(c->pool);
        free(c);
}

int pool_create_call_submit(PoolCreateCall *c, worker_done_fn done, sd_bus_error *error) {
        int r = bus_work_submit(c->manager, &c->call, pool_create_call_work, done, error);

        if (r >= 0)
                c->creating = c->manager->pool_creating = true;
        return r;
}

/* The blocking halves, on workers: each runs the pool backend for its call. */

int pool_create_call_work(void *userdata) {
        PoolCreateCall *c = userdata;

        return pool_backend_create(&c->spec, &c->env, &c->status, &c->volumes, &c->n_volumes, &c->message);
}

int pool_create_call_undo_work(void *userdata) {
        PoolCreateCall *c = userdata;

        return pool_backend_remove(&c->pool->spec, &c->env, &c->message);
}

int storage_call_create_volume_work(void *userdata) {
        StorageCall *c = userdata;

        return pool_backend_volume_create(&c->pool->spec, &c->env, c->name, c->size, c->format, c->backing,
                                          c->preallocation, &c->info, &c->message);
}

int storage_call_refresh_work(void *userdata) {
        StorageCall *c = userdata;
        int r;

        failpoint_hold_saying("HOSTAGENT_STORAGE_REFRESH_HOLD");
        if (c->activate) {
                r = pool_backend_prepare(&c->pool->spec, &c->env, false, &c->message);
                if (r < 0)
                        return r;
        }
        r = pool_backend_status(&c->pool->spec, &c->env, &c->status, &c->message);
        if (r < 0)
                return r;
        if (c->clean) {   /* the storage answers: what a previous agent left half-made goes first */
                pool_leftovers_remove(&c->pool->spec, &c->env);
                c->cleaned = true;
        }
        return pool_backend_list(&c->pool->spec, &c->env, &c->volumes, &c->n_volumes, &c->message);
}


int storage_call_release_work(void *userdata) {
        StorageCall *c = userdata;

        failpoint_hold_saying("HOSTAGENT_STORAGE_RELEASE_HOLD");
        if (c->delete)
                return pool_backend_remove(&c->pool->spec, &c->env, &c->message);
        return pool_backend_release(&c->pool->spec, &c->env, &c->message);
}

int storage_call_release_undo_work(void *userdata) {
        StorageCall *c = userdata;
        bool delete = c->delete;
        int r;

        failpoint_hold("HOSTAGENT_STORAGE_UNDO_HOLD");   /* a test's: other calls meanwhile */
        r = pool_backend_prepare(&c->pool->spec, &c->env, delete, &c->message);
        if (r < 0)
                return r;
        if (!c->enabled)   /* an inactive pool: its storage there, not mounted */
                return pool_backend_release(&c->pool->spec, &c->env, &c->message);
        r = pool_backend_status(&c->pool->spec, &c->env, &c->status, &c->message);
        if (r < 0)
                return r;
        return pool_backend_list(&c->pool->spec, &c->env, &c->volumes, &c->n_volumes, &c->message);
}

int storage_call_resize_work(void *userdata) {
        StorageCall *c = userdata;
        int r;

        r = pool_backend_volume_resize(&c->pool->spec, &c->env, c->name, c->format, c->size, &c->message);
        if (r < 0)
                return r;
        return pool_backend_volume_info(&c->pool->spec, &c->env, c->name, &c->info, &c->message);
}

int storage_call_delete_volume_work(void *userdata) {
        StorageCall *c = userdata;

        return pool_backend_volume_delete(&c->pool->spec, &c->env, c->name, &c->message);
}

static void clone_progress(unsigned percent, void *userdata) {
        StorageCall *c = userdata;

        atomic_store(&c->progress, percent);
}

int storage_call_clone_work(void *userdata) {
        StorageCall *c = userdata;
        int r;

        r = pool_backend_volume_clone(&c->pool->spec, &c->env, c->name, c->format, c->backing, clone_progress, c,
                                      &c->cancel, &c->message);
        if (r < 0)
                return r;
        return pool_backend_volume_info(&c->pool->spec, &c->env, c->backing, &c->info, &c->message);
}
