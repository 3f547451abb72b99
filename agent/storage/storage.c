/* Storage pools and volumes: the model, kept current by checks off the loop */
#include "storage.h"

#include <stdio.h>

#include "atomic-file.h"
#include "bus-text.h"
#include "json-cleanup.h"
#include "failpoint.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "storage-dbus.h"
#include "vm.h"

static const char *const pool_state_table[_POOL_STATE_MAX] = {
        [POOL_STATE_ACTIVE] = "active",
        [POOL_STATE_INACTIVE] = "inactive",
        [POOL_STATE_DEGRADED] = "degraded",
        [POOL_STATE_UNREACHABLE] = "unreachable",
};

const char *pool_state_to_string(PoolState s) {
        if (s < 0 || (size_t) s >= ELEMENTSOF(pool_state_table))
                return NULL;
        return pool_state_table[s];
}

/* A look at a mounted file system that takes longer means it is dead; the
 * process doing it is killed (NFS waits are killable on soft mounts). */
#define CHECK_COMMAND_TIMEOUT_USEC (2ULL * STORAGE_NFS_TIMEOUT_MS * 1000)

PoolEnv storage_env(Manager *m) {
        return (PoolEnv) {
                .run_dir = m->options->run_dir,
                .timeout_usec = STORAGE_COMMAND_TIMEOUT_USEC,
                .check_timeout_usec = CHECK_COMMAND_TIMEOUT_USEC,
                .nfs_timeout_ms = STORAGE_NFS_TIMEOUT_MS,
        };
}

static void volume_free(Volume *v) {
        if (!v)
                return;
        free(v->path);
        free(v->location);
        volume_info_done(&v->info);
        free(v);
}

Pool *pool_ref(Pool *p) {
        p->n_ref++;
        return p;
}

Pool *pool_unref(Pool *p) {
        if (!p || --p->n_ref > 0)
                return NULL;
        sd_event_source_disable_unref(p->check_timer);
        for (size_t i = 0; i < p->n_volumes; i++)
                volume_free(p->volumes[i]);
        free(p->volumes);
        pool_spec_done(&p->spec);
        free(p->path);
        free(p->source);
        free(p->state_message);
        free(p);
        return NULL;
}

Pool *storage_pool_find(Manager *m, const char *name) {
        for (Pool *p = m->pools; p; p = p->next)
                if (streq(p->spec.name, name))
                        return p;
        return NULL;
}

Pool *storage_pool_find_by_path(Manager *m, const char *path) {
        for (Pool *p = m->pools; p; p = p->next)
                if (streq(p->path, path))
                        return p;
        return NULL;
}

size_t storage_pool_count(Manager *m) {
        size_t n = 0;

        for (Pool *p = m->pools; p; p = p->next)
                n++;
        return n;
}

Volume *pool_volume_find(Pool *p, const char *name) {
        for (size_t i = 0; i < p->n_volumes; i++)
                if (streq(p->volumes[i]->info.name, name))
                        return p->volumes[i];
        return NULL;
}

Volume *storage_volume_find_by_path(Manager *m, const char *path) {
        for (Pool *p = m->pools; p; p = p->next) {
                size_t n = strlen(p->path);

                if (strncmp(path, p->path, n) != 0 || path[n] != '/')
                        continue;
                for (size_t i = 0; i < p->n_volumes; i++)
                        if (!p->volumes[i]->pending && streq(p->volumes[i]->path, path))
                                return p->volumes[i];
        }
        return NULL;
}

static Volume *volume_new(Pool *p, const char *name) {
        PoolEnv env = storage_env(p->manager);
        Volume *v = calloc(1, sizeof *v), **grown;

        if (!v)
                return NULL;
        v->pool = p;
        v->info.name = strdup(name);
        v->location = pool_backend_volume_location(&p->spec, &env, name);
        if (!v->info.name || !v->location || storage_volume_bus_path(p, name, &v->path) < 0)
                goto fail;
        grown = realloc(p->volumes, (p->n_volumes + 1) * sizeof *grown);
        if (!grown)
                goto fail;
        p->volumes = grown;
        p->volumes[p->n_volumes++] = v;
        return v;
fail:
        volume_free(v);
        return NULL;
}

Volume *pool_volume_reserve(Pool *p, const char *name, int *ret_error) {
        Volume *v;

        if (pool_volume_find(p, name)) {
                *ret_error = -EEXIST;
                return NULL;
        }
        if (p->n_volumes >= p->manager->storage_volumes_max) {
                *ret_error = -ENOSPC;
                return NULL;
        }
        v = volume_new(p, name);
        if (!v) {
                *ret_error = -ENOMEM;
                return NULL;
        }
        v->pending = true;
        v->busy = true;
        return v;
}

static void volume_detach(Volume *v) {
        Pool *p = v->pool;

        for (size_t i = 0; i < p->n_volumes; i++)
                if (p->volumes[i] == v) {
                        p->volumes[i] = p->volumes[--p->n_volumes];
                        break;
                }
}

/* The one way a volume goes (Delete, a listing without it, a reservation
 * given up): InterfacesRemoved while the bus still finds it, so the signal
 * names every interface it had, then out of the model. */
void pool_volume_remove(Volume *v) {
        if (!v)
                return;
        if (!v->pending && !v->pool->removed)
                volume_bus_removed(v);
        volume_detach(v);
        volume_free(v);
}

/* Adds or updates; the one way a volume appears (Create, Clone, a listing):
 * InterfacesAdded once its properties are in place, as GetManagedObjects
 * would show them. */
Volume *pool_volume_update(Pool *p, VolumeInfo *info) {
        Volume *v = pool_volume_find(p, info->name);
        bool added = false;

        p->volume_updates++;
        if (!v) {
                v = volume_new(p, info->name);
                if (!v)
                        return NULL;
                added = true;
        }
        if (v->pending) {
                v->pending = false;
                v->busy = false;
                added = true;
        }
        bool changed = !streq_ptr(v->info.format, info->format) || v->info.capacity != info->capacity ||
                       v->info.allocation != info->allocation || !streq_ptr(v->info.backing, info->backing);
        free(info->name);
        info->name = TAKE_PTR(v->info.name);
        volume_info_done(&v->info);
        v->info = *info;
        *info = (VolumeInfo) {};
        if (added)
                volume_bus_added(v);
        else if (changed)
                volume_bus_emit_changed(v);
        return v;
}

void pool_update_status(Pool *p, const PoolStatus *status) {
        if (p->status.capacity == status->capacity && p->status.allocation == status->allocation &&
            p->status.available == status->available)
                return;
        p->status = *status;
        pool_bus_emit_space_changed(p);
}

void pool_set_state(Pool *p, PoolState state, const char *message) {
        if (p->state == state && streq(p->state_message, strempty(message)))
                return;
        free(p->state_message);
        p->state_message = bus_text_dup(strempty(message));   /* often a command's own words */
        if (p->state != state)
                log_fields(state == POOL_STATE_UNREACHABLE ? LOG_WARNING : LOG_NOTICE,
                           LOG_FIELDS("OBJECT_PATH", p->path), "Storage pool %s is %s%s%s", p->spec.name,
                           pool_state_to_string(state), message && *message ? ": " : "", strempty(message));
        p->state = state;
        pool_bus_emit_state_changed(p);
}

/* A pool holding more volumes than the agent shows says so once, not at every listing. */
static void note_left_out(Pool *p, size_t left_out) {
        if ((left_out > 0) == p->listing_cut)
                return;
        p->listing_cut = left_out > 0;
        if (left_out > 0)
                log_fields(LOG_WARNING, LOG_FIELDS("OBJECT_PATH", p->path),
                           "Storage pool %s holds more volumes than the %zu the agent shows: %zu are not shown",
                           p->spec.name, p->manager->storage_volumes_max, left_out);
        else
                log_fields(LOG_NOTICE, LOG_FIELDS("OBJECT_PATH", p->path),
                           "Storage pool %s: every volume is shown again", p->spec.name);
}

/* The volumes a listing found: new ones are announced, gone ones withdrawn; past the limit of
 * volumes per pool, new ones are left out (and the log says so). */
void storage_pool_apply_listing(Pool *p, VolumeInfo *list, size_t n) {
        size_t left_out = 0;

        for (size_t i = 0; i < p->n_volumes;) {
                Volume *v = p->volumes[i];
                bool found = v->pending || v->busy;

                for (size_t j = 0; !found && j < n; j++)
                        found = streq(list[j].name, v->info.name);
                if (found)
                        i++;
                else
                        pool_volume_remove(v);   /* swaps the last one into slot i */
        }
        for (size_t j = 0; j < n; j++) {
                Volume *v = pool_volume_find(p, list[j].name);
                if (v && (v->pending || v->busy))
                        continue;   /* its operation will say how it ends */
                if (!v && p->n_volumes >= p->manager->storage_volumes_max) {
                        left_out++;
                        continue;
                }
                (void) pool_volume_update(p, &list[j]);
        }
        note_left_out(p, left_out);
}

void storage_pool_apply_usage(Pool *p, const VolumeUsage *usage, size_t n) {
        for (size_t i = 0; i < n; i++) {
                Volume *v = pool_volume_find(p, usage[i].name);
                uint64_t capacity;

                if (!v || v->pending || v->busy)
                        continue;   /* a listing adds it; its operation says how it ends */
                /* A raw volume is as large as its file or LV; a qcow2's size is in its header. */
                capacity = streq_ptr(v->info.format, "raw") ? usage[i].size : v->info.capacity;
                if (v->info.allocation == usage[i].allocation && v->info.capacity == capacity)
                        continue;
                v->info.allocation = usage[i].allocation;
                v->info.capacity = capacity;
                volume_bus_emit_changed(v);
        }
}

void pool_set_enabled(Pool *p, bool enabled) {
        p->enabled = enabled;
        if (enabled) {
                p->prepared = false;
                p->refresh_wanted = true;
                pool_check_soon(p, true);
        } else {
                if (p->check_timer)
                        (void) sd_event_source_set_enabled(p->check_timer, SD_EVENT_OFF);
                p->prepared = false;
                pool_set_state(p, POOL_STATE_INACTIVE, "deactivated");
        }
}

static Pool *pool_new(Manager *m, PoolSpec *spec, bool enabled) {
        Pool *p = calloc(1, sizeof *p);

        if (!p)
                return NULL;
        p->n_ref = 1;
        p->manager = m;
        p->spec = *spec;
        *spec = (PoolSpec) {};
        p->state = POOL_STATE_INACTIVE;
        p->enabled = enabled;
        p->refresh_wanted = true;
        p->state_message = strdup(enabled ? "not checked yet" : "deactivated");
        p->source = pool_spec_source(&p->spec);
        if (!p->state_message || !p->source || storage_pool_bus_path(p->spec.name, &p->path) < 0)
                return pool_unref(p);
        return p;
}

/* The one way a pool appears (created, loaded at start, a failed Delete
 * undone): into the list first, so that InterfacesAdded carries every
 * interface and property GetManagedObjects shows; then its volumes. */
static void pool_publish(Pool *p) {
        Manager *m = p->manager;

        p->removed = false;
        p->next = m->pools;
        m->pools = p;
        pool_bus_added(p);
        for (size_t i = 0; i < p->n_volumes; i++)
                if (!p->volumes[i]->pending)
                        volume_bus_added(p->volumes[i]);
}

/* The one way a pool goes (Delete, a creation the state file could not
 * keep): its volumes withdrawn, then the pool, each while the bus still
 * finds it, so every InterfacesRemoved names what the object had; then out
 * of the list. The list's reference is the caller's to drop. */
static void pool_withdraw(Pool *p) {
        Manager *m = p->manager;

        for (size_t i = 0; i < p->n_volumes; i++)
                if (!p->volumes[i]->pending)
                        volume_bus_removed(p->volumes[i]);
        pool_bus_removed(p);
        for (Pool **q = &m->pools; *q; q = &(*q)->next)
                if (*q == p) {
                        *q = p->next;
                        break;
                }
        p->next = NULL;
        p->removed = true;
        p->check_timer = sd_event_source_disable_unref(p->check_timer);
}

int storage_pool_add(Manager *m, PoolSpec *spec, const PoolStatus *status, VolumeInfo *volumes, size_t n_volumes,
                     Pool **ret) {
        Pool *p = pool_new(m, spec, true);

        if (!p)
                return -ENOMEM;
        p->prepared = true;
        p->refresh_wanted = false;
        p->partials_removed = true;   /* usable at once: a leftover in it waits for the next start */
        p->status = *status;
        p->state = status->degraded ? POOL_STATE_DEGRADED : POOL_STATE_ACTIVE;
        free(p->state_message);
        p->state_message = strdup("");
        pool_publish(p);
        storage_pool_apply_listing(p, volumes, n_volumes);
        storage_pool_arm_checks(p);
        *ret = p;
        return 0;
}

void storage_pool_remove(Pool *p) {
        pool_withdraw(p);
        pool_unref(p);
}

void storage_pool_restore(Pool *p) {
        if (!p->removed)
                return;
        pool_ref(p);   /* the list's again */
        p->prepared = false;
        if (p->enabled)   /* not usable until its storage is there again; no signal while off the bus */
                pool_set_state(p, POOL_STATE_INACTIVE, "its storage is being prepared again");
        pool_publish(p);
}

/* The name an entry of the state file gives its pool, or NULL. */
const char *storage_entry_name(json_object *entry) {
        json_object *spec, *name;

        if (json_object_object_get_ex(entry, "spec", &spec) && json_object_object_get_ex(spec, "name", &name) &&
            json_object_is_type(name, json_type_string))
                return json_object_get_string(name);
        return NULL;
}

/* What entry ENTRY of the state file says, or why this agent cannot read it (-EINVAL, RET_WHY). */
static int entry_parse(json_object *entry, PoolSpec *ret_spec, bool *ret_enabled, char **ret_why) {
        json_object *spec, *enabled;
        int r;

        if (!json_object_object_get_ex(entry, "spec", &spec)) {
                *ret_why = strdup("spec: missing");
                return *ret_why ? -EINVAL : -ENOMEM;
        }
        r = pool_spec_from_json(spec, ret_spec, ret_why);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(entry, "enabled", &enabled)) {
                *ret_enabled = true;
                return 0;
        }
        if (!json_object_is_type(enabled, json_type_boolean)) {
                *ret_why = strdup("enabled: must be true or false");
                return *ret_why ? -EINVAL : -ENOMEM;
        }
        *ret_enabled = json_object_get_boolean(enabled);
        return 0;
}

/* Entry I of the state file: published, or kept aside in UNRESTORED as it is when this agent cannot
 * read it (a newer agent's key, a hand edit), so that the next write does not erase it. */
static int load_entry(Manager *m, const char *path, size_t i, json_object *entry, json_object *unrestored) {
        _cleanup_(pool_spec_done) PoolSpec spec = {};
        _cleanup_(freep) char *why = NULL;
        const char *name = storage_entry_name(entry);
        bool enabled;
        Pool *p;
        int r;

        r = entry_parse(entry, &spec, &enabled, &why);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                log_error("%s: pool %zu%s%s cannot be restored: %s; it stays in the file as it is", path, i,
                          name ? " " : "", strempty(name), why ?: strerror(-r));
                return json_object_array_add(unrestored, json_object_get(entry)) < 0 ? -ENOMEM : 0;
        }
        if (storage_pool_find(m, spec.name)) {
                log_error("%s: pool %zu is a second entry for pool %s: only the first is restored and written back",
                          path, i, spec.name);
                return 0;
        }
        p = pool_new(m, &spec, enabled);
        if (!p)
                return -ENOMEM;
        p->on_disk = true;
        pool_publish(p);
        log_info("Restored storage pool %s (%s)", p->spec.name, pool_type_to_string(p->spec.type));
        return 0;
}

static int storage_parse(Manager *m, const char *path, const char *text) {
        _cleanup_(json_object_putp) json_object *root = json_tokener_parse(text), *unrestored = json_object_new_array();
        json_object *pools;
        size_t n;
        int r;

        if (!unrestored)
                return -ENOMEM;
        if (!root || !json_object_object_get_ex(root, "pools", &pools) || !json_object_is_type(pools, json_type_array))
                return -EBADMSG;
        for (size_t i = 0; i < json_object_array_length(pools); i++) {
                r = load_entry(m, path, i, json_object_array_get_idx(pools, i), unrestored);
                if (r < 0)
                        return r;
        }
        if (json_object_array_length(unrestored) > 0)
                m->storage_unrestored = TAKE_PTR(unrestored);
        /* All are kept: dropping some would erase them from the file at the next write. New pools are
         * refused instead. */
        n = storage_pool_count(m);
        if (n > STORAGE_POOLS_MAX)
                log_warning("%s holds %zu pools, more than the %d CreateStoragePool allows: all are kept, and new "
                            "pools are refused until there are fewer",
                            path, n, STORAGE_POOLS_MAX);
        return 0;
}

static int storage_load(Manager *m) {
        _cleanup_(freep) char *path = NULL, *text = NULL;
        size_t size;
        int r;

        if (asprintf(&path, "%s/%s", m->options->state_dir, STORAGE_STATE_FILE) < 0)
                return -ENOMEM;
        r = atomic_file_read(path, &text, &size);
        if (r == -ENOENT)
                return 0;
        if (r >= 0)
                r = storage_parse(m, path, text);
        if (r == -ENOMEM || r >= 0)
                return r;
        /* Overwriting it would lose every pool in it: pool changes are refused until someone looks. */
        if (asprintf(&m->storage_unreadable, "%s cannot be read (%s); it is not overwritten: repair or remove it, "
                     "then restart the agent", path, strerror(-r)) < 0) {
                m->storage_unreadable = NULL;
                return -ENOMEM;
        }
        log_error("%s; no storage pools restored", m->storage_unreadable);
        return 0;
}

/* The most volumes a pool shows: STORAGE_VOLUMES_MAX, or fewer where a test asks (a pool past
 * the limit without thousands of files to list); a release build has no such failpoint. */
static size_t volumes_max(void) {
        const char *e = failpoint_get("HOSTAGENT_STORAGE_VOLUMES_MAX");
        unsigned long n;
        char *end;

        if (!e)
                return STORAGE_VOLUMES_MAX;
        errno = 0;
        n = strtoul(e, &end, 10);
        if (errno != 0 || *end || n == 0 || n > STORAGE_VOLUMES_MAX)
                return STORAGE_VOLUMES_MAX;
        return n;
}

int storage_start(Manager *m) {
        int r;

        m->storage_volumes_max = volumes_max();
        r = storage_load(m);
        if (r < 0)
                return r;
        for (Pool *p = m->pools; p; p = p->next)
                if (p->enabled)
                        pool_check_soon(p, false);
        return 0;
}

void storage_stop(Manager *m) {
        json_object_put(m->storage_unrestored);
        m->storage_unrestored = NULL;
        m->storage_unreadable = mfree(m->storage_unreadable);
        while (m->pools) {
                Pool *p = m->pools;
                m->pools = p->next;
                p->removed = true;
                p->check_timer = sd_event_source_disable_unref(p->check_timer);
                pool_unref(p);
        }
}

char **volume_users(Volume *v) {
        return vm_paths_using_disk(v->pool->manager, v->location);
}
