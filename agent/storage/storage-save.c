/* The pools' state file, written through a StateFile.
 *
 * A reply that depends on it (CreateStoragePool, Delete, Activate,
 * Deactivate) is sent when it is durable, or the change is undone and the
 * reply says why the file could not keep it. The StateFile writes off the
 * loop, one write at a time of the whole state as it is when it starts, and
 * tells the waiters of a write, oldest first, before the next one starts: an
 * undo made by a waiter is what the next write keeps. */
#include "storage-save.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-cleanup.h"
#include "macro.h"
#include "manager.h"
#include "options.h"
#include "state-file.h"
#include "storage.h"

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

/* The pools as they are now; what the write keeps of the unread entries waits in
 * storage_unrestored_writing (writes never overlap) until the write has ended. */
static char *storage_snapshot(void *userdata) {
        Manager *m = userdata;

        json_object_put(m->storage_unrestored_writing);   /* a snapshot whose write never started */
        m->storage_unrestored_writing = NULL;
        if (m->storage_unreadable)   /* never overwritten: storage_save() refuses before this */
                return NULL;
        return state_text(m, &m->storage_unrestored_writing);
}

static void storage_written(int result, void *userdata) {
        Manager *m = userdata;
        json_object *kept = TAKE_PTR(m->storage_unrestored_writing);

        if (result < 0) {
                json_object_put(kept);
                return;
        }
        /* What the file now keeps besides the pools. */
        json_object_put(m->storage_unrestored);
        m->storage_unrestored = kept && json_object_array_length(kept) > 0 ? kept : NULL;
        if (!m->storage_unrestored)
                json_object_put(kept);
}

static const StateFileOps storage_file_ops = {
        .snapshot = storage_snapshot,
        .written = storage_written,
};

/* <state-dir>/storage-pools.json, made at first use. */
static StateFile *storage_file(Manager *m) {
        _cleanup_(freep) char *path = NULL;

        if (m->storage_file)
                return m->storage_file;
        if (asprintf(&path, "%s/%s", m->options->state_dir, STORAGE_STATE_FILE) < 0)
                return NULL;
        if (state_file_new(m->pool, path, &storage_file_ops, m, &m->storage_file) < 0)
                return NULL;
        return m->storage_file;
}

void storage_save(Manager *m, storage_saved_fn done, void *userdata) {
        StateFile *f;

        /* A file the agent could not read is never overwritten: every pool in it would be lost.
         * (Callers refuse changes before this; here nothing can slip through.) Nothing is ever
         * written then, so no write can be waiting to tell older waiters first. */
        if (m->storage_unreadable) {
                done(-EBADMSG, userdata);
                return;
        }
        f = storage_file(m);
        if (!f) {
                done(-ENOMEM, userdata);
                return;
        }
        state_file_save(f, done, userdata);
}

void storage_save_free(Manager *m) {
        m->storage_file = state_file_free(m->storage_file);
        json_object_put(m->storage_unrestored_writing);
        m->storage_unrestored_writing = NULL;
}
