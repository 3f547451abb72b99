/* The pools' state file, written off the loop and in order.
 *
 * fsync() of a file and its directory can take long on a busy disk, so the
 * write runs on a worker; a reply that depends on it (CreateStoragePool,
 * Delete, Activate, Deactivate) is sent when it is durable, or the change
 * is undone and the reply says why the file could not keep it. One write at a
 * time, each of the whole state as it is when it starts, so an older state
 * never lands after a newer one; whoever asks meanwhile is served by the
 * next write (a group commit). */
#include "storage-save.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic-file.h"
#include "json-cleanup.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "options.h"
#include "storage.h"
#include "worker-pool.h"

typedef struct SaveWaiter {
        storage_saved_fn done;
        void *userdata;
        struct SaveWaiter *next;
} SaveWaiter;

typedef struct SaveJob {
        Manager *manager;
        char *path;
        char *text;
        json_object *unrestored; /* the entries this agent cannot read that the write keeps */
        SaveWaiter *waiters;    /* newest first */
} SaveJob;

/* The entries of the state file this agent could not read go back into it as they were, unless a
 * pool of that name is there now (created since): into POOLS, and into RET_KEPT. */
static int add_unrestored(Manager *m, json_object *pools, json_object **ret_kept) {
        _cleanup_(json_object_putp) json_object *kept = json_object_new_array();
        json_object *all = m->storage_unrestored;

        if (!kept)
                return -ENOMEM;
        for (size_t i = 0; all && i < json_object_array_length(all); i++) {
                json_object *entry = json_object_array_get_idx(all, i);
                const char *name = storage_entry_name(entry);

                if (name && storage_pool_find(m, name))
                        continue;
                if (json_object_array_add(pools, json_object_get(entry)) < 0 ||
                    json_object_array_add(kept, json_object_get(entry)) < 0)
                        return -ENOMEM;
        }
        *ret_kept = TAKE_PTR(kept);
        return 0;
}

/* {"pools":[{"spec":{...},"enabled":true}, ...]} */
static char *state_text(Manager *m, json_object **ret_kept) {
        _cleanup_(json_object_putp) json_object *root = json_object_new_object();
        json_object *pools = json_object_new_array();
        const char *text;

        if (!root || !pools) {
                json_object_put(pools);
                return NULL;
        }
        json_object_object_add(root, "pools", pools);
        for (Pool *p = m->pools; p; p = p->next) {
                json_object *entry = json_object_new_object();
                if (!entry)
                        return NULL;
                json_object_object_add(entry, "spec", json_object_get(p->spec.normalized));
                json_object_object_add(entry, "enabled", json_object_new_boolean(p->enabled));
                json_object_array_add(pools, entry);
        }
        if (add_unrestored(m, pools, ret_kept) < 0)
                return NULL;
        text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        return text ? strdup(text) : NULL;
}

static int save_work(void *userdata) {
        SaveJob *j = userdata;

        return atomic_file_write(j->path, j->text, strlen(j->text), 0600);
}

static void save_start(Manager *m);

/* Runs the waiters, oldest first, each told how the write went. Those that
 * undo their change do it before the next write starts, so that write never
 * keeps a change whose caller was told it failed. */
static void save_finish(SaveJob *j, int result) {
        SaveWaiter *in_order = NULL;

        while (j->waiters) {
                SaveWaiter *w = j->waiters;
                j->waiters = w->next;
                w->next = in_order;
                in_order = w;
        }
        while (in_order) {
                SaveWaiter *w = in_order;
                in_order = w->next;
                w->done(result, w->userdata);
                free(w);
        }
}

static void save_done(int result, void *userdata) {
        SaveJob *j = userdata;
        Manager *m = j->manager;

        /* Cancelled: the daemon is stopping and the workers with it. The
         * replies still wait for the file, so write it here, once. */
        if (result == -ECANCELED && j->path)
                result = save_work(j);
        m->storage_writing = false;
        if (result >= 0) {   /* what the file now keeps besides the pools */
                json_object_put(m->storage_unrestored);
                m->storage_unrestored = json_object_array_length(j->unrestored) > 0 ? TAKE_PTR(j->unrestored) : NULL;
        }
        save_finish(j, result);
        json_object_put(j->unrestored);
        free(j->path);
        free(j->text);
        free(j);
        if (m->storage_save_waiting)
                save_start(m);
}

static void save_start(Manager *m) {
        SaveJob *j = calloc(1, sizeof *j);
        int r;

        if (!j) {
                SaveJob none = { .manager = m, .waiters = m->storage_save_waiting };

                /* Answer the waiters rather than leave them hanging. */
                m->storage_save_waiting = NULL;
                save_finish(&none, -ENOMEM);
                return;
        }
        j->manager = m;
        j->waiters = m->storage_save_waiting;
        m->storage_save_waiting = NULL;
        m->storage_writing = true;
        /* A file the agent could not read is never overwritten: every pool in it would be lost.
         * (Callers refuse changes before this; here nothing can slip through.) */
        if (m->storage_unreadable) {
                save_done(-EBADMSG, j);
                return;
        }
        j->text = state_text(m, &j->unrestored);
        if (!j->text || asprintf(&j->path, "%s/%s", m->options->state_dir, STORAGE_STATE_FILE) < 0) {
                j->path = NULL;
                save_done(-ENOMEM, j);
                return;
        }
        r = worker_pool_submit(m->pool, WORKER_INTERNAL, save_work, save_done, j);
        if (r < 0)
                save_done(-ECANCELED, j);   /* stopping: written here instead */
}

void storage_save(Manager *m, storage_saved_fn done, void *userdata) {
        SaveWaiter *w = calloc(1, sizeof *w);

        if (!w) {
                done(-ENOMEM, userdata);
                return;
        }
        *w = (SaveWaiter) { .done = done, .userdata = userdata, .next = m->storage_save_waiting };
        m->storage_save_waiting = w;
        if (!m->storage_writing)
                save_start(m);
}
