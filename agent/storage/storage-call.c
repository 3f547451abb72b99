/* One storage operation in flight: the call, the pool it holds, and what the worker found */
#include "storage-call.h"

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
