/* Storage pools' health checks: off the loop, on a timer, and what a previous agent left half-made */
#include <stdio.h>
#include <string.h>

#include "failpoint.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "storage.h"
#include "worker-pool.h"

/* A check that has not answered in this time means the storage does not. */
#define CHECK_DEADLINE_USEC (3ULL * STORAGE_NFS_TIMEOUT_MS * 1000)
/* What the volumes take, read after a check: a read that takes longer (many files, a busy host)
 * is not applied, and the figures stay as they were; it says nothing about the storage's health. */
#define USAGE_DEADLINE_USEC (3ULL * STORAGE_NFS_TIMEOUT_MS * 1000)

/* One removal at a time: another waits for the pool's next look if this one never gets to it. */
bool pool_clean_begin(Pool *p) {
        if (p->partials_removed || p->cleaning)
                return false;
        p->cleaning = true;
        return true;
}

void pool_clean_end(Pool *p, bool removed) {
        p->cleaning = false;
        if (removed)
                p->partials_removed = true;
}

bool pool_leftovers_pending(Pool *p) {
        return !p->partials_removed || p->cleaning;
}

void pool_leftovers_remove(const PoolSpec *spec, const PoolEnv *env) {
        _cleanup_(freep) char *message = NULL;
        int r;

        r = pool_backend_remove_partials(spec, env, &message);
        if (r < 0)   /* hidden, never volumes: only space is lost until the next start */
                log_warning("Storage pool %s: cannot remove what was left half-made: %s", spec->name,
                            message ?: strerror(-r));
}

/* The health check: runs on a worker with its own copy of what it needs. */
typedef struct Check {
        Pool *pool;
        PoolEnv env;
        bool prepare;
        bool list;
        bool clean;              /* remove what a previous agent left half-made first */
        bool cleaned;            /* the worker got to it */
        bool expired;
        int result;
        PoolStatus status;
        VolumeInfo *volumes;
        size_t n_volumes;
        char *message;
} Check;

/* What the volumes take now, read on a worker after a check found the storage answering (the
 * volumes are not listed again), under a deadline of its own. */
typedef struct UsageRead {
        Pool *pool;
        PoolEnv env;
        bool expired;
        VolumeUsage *usage;
        size_t n_usage;
        unsigned volume_updates; /* the pool's when the read started */
} UsageRead;

static void usage_read_free(UsageRead *u) {
        volume_usage_array_free(u->usage, u->n_usage);
        pool_unref(u->pool);
        free(u);
}

static int usage_read_work(void *userdata) {
        UsageRead *u = userdata;

        failpoint_hold("HOSTAGENT_STORAGE_USAGE_HOLD");   /* a test's: a read that takes long */
        return pool_backend_usage(&u->pool->spec, &u->env, &u->usage, &u->n_usage, NULL);
}

static void usage_read_expired(void *userdata) {
        UsageRead *u = userdata;

        u->expired = true;
        log_debug("Storage pool %s: reading what its volumes take did not end in time; their figures stay as "
                  "they were", u->pool->spec.name);
}

static void usage_read_done(int result, void *userdata) {
        UsageRead *u = userdata;
        Pool *p = u->pool;

        p->reading_usage = false;
        /* A volume that could not be looked at keeps its figures; an operation or listing since
         * the read started has newer ones. */
        if (result >= 0 && !u->expired && !p->removed && p->enabled && u->volume_updates == p->volume_updates)
                storage_pool_apply_usage(p, u->usage, u->n_usage);
        usage_read_free(u);
}

static void usage_read_start(Pool *p) {
        UsageRead *u;

        if (p->reading_usage)   /* one still runs (late): not a second beside it */
                return;
        u = calloc(1, sizeof *u);
        if (!u)
                return;
        *u = (UsageRead) {
                .pool = pool_ref(p),
                .env = storage_env(p->manager),
                .volume_updates = p->volume_updates,
        };
        if (worker_pool_submit_with_deadline(p->manager->pool, WORKER_INTERNAL, USAGE_DEADLINE_USEC,
                                             usage_read_work, usage_read_done, usage_read_expired, u) < 0) {
                usage_read_free(u);
                return;
        }
        p->reading_usage = true;
}

static void check_free(Check *c) {
        if (c->clean)
                pool_clean_end(c->pool, c->cleaned);
        volume_info_array_free(c->volumes, c->n_volumes);
        free(c->message);
        pool_unref(c->pool);
        free(c);
}

static int check_work(void *userdata) {
        Check *c = userdata;
        const PoolSpec *spec = &c->pool->spec;   /* never changes once the pool exists */
        int r;

        if (c->prepare) {
                r = pool_backend_prepare(spec, &c->env, false, &c->message);
                if (r < 0)
                        return r;
        }
        r = pool_backend_status(spec, &c->env, &c->status, &c->message);
        if (r < 0)
                return r;
        if (c->clean) {
                failpoint_hold("HOSTAGENT_STORAGE_CHECK_CLEAN_HOLD");   /* a test's: calls meanwhile */
                pool_leftovers_remove(spec, &c->env);
                c->cleaned = true;
        }
        if (c->list)
                return pool_backend_list(spec, &c->env, &c->volumes, &c->n_volumes, &c->message);
        return 0;
}


static void check_expired(void *userdata) {
        Check *c = userdata;
        Pool *p = c->pool;

        c->expired = true;
        if (p->removed || !p->enabled)
                return;
        p->prepared = false;
        pool_set_state(p, POOL_STATE_UNREACHABLE, "the storage did not answer the health check in time");
}

static void check_done(int result, void *userdata) {
        Check *c = userdata;
        Pool *p = c->pool;

        p->checking = false;
        if (p->removed || result == -ECANCELED || !p->enabled) {
                check_free(c);
                return;
        }
        if (result < 0) {
                p->prepared = false;
                p->refresh_wanted = true;
                pool_set_state(p, result == -EOPNOTSUPP ? POOL_STATE_INACTIVE : POOL_STATE_UNREACHABLE,
                               c->message ?: strerror(-result));
        } else {
                p->prepared = true;
                pool_update_status(p, &c->status);
                if (c->list) {
                        p->refresh_wanted = false;
                        storage_pool_apply_listing(p, c->volumes, c->n_volumes);
                } else
                        usage_read_start(p);
                pool_set_state(p, c->status.degraded ? POOL_STATE_DEGRADED : POOL_STATE_ACTIVE,
                               c->status.degraded ? "a device of the volume group is missing" : NULL);
        }
        check_free(c);
        storage_pool_arm_checks(p);
}

static void check_start(Pool *p) {
        Check *c;
        int r;

        if (p->checking || p->removed || !p->enabled)
                return;
        c = calloc(1, sizeof *c);
        if (!c)
                return;
        *c = (Check) {
                .pool = pool_ref(p),
                .env = storage_env(p->manager),
                .prepare = !p->prepared,
                .list = p->refresh_wanted || !p->prepared,
                /* No call makes a volume in the pool meanwhile (pool_leftovers_pending()). */
                .clean = pool_clean_begin(p),
        };
        /* INTERNAL: health checks are the agent's own and are never refused for load. */
        r = worker_pool_submit_with_deadline(p->manager->pool, WORKER_INTERNAL,
                                             c->list ? STORAGE_COMMAND_TIMEOUT_USEC : CHECK_DEADLINE_USEC,
                                             check_work, check_done, check_expired, c);
        if (r < 0) {
                check_free(c);
                storage_pool_arm_checks(p);
                return;
        }
        p->checking = true;
}

static int on_check_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        check_start(userdata);
        return 0;
}

void storage_pool_arm_checks(Pool *p) {
        uint64_t interval = (uint64_t) p->manager->options->storage_check_interval_sec * 1000 * 1000;
        int r;

        if (p->removed || !p->enabled || p->manager->stopping)
                return;
        if (!p->check_timer) {
                r = sd_event_add_time_relative(p->manager->event, &p->check_timer, CLOCK_MONOTONIC, interval,
                                               100 * 1000, on_check_timer, p);
                if (r < 0)
                        log_warning_errno(r, "Cannot schedule health checks of pool %s: %m", p->spec.name);
                return;
        }
        (void) sd_event_source_set_time_relative(p->check_timer, interval);
        (void) sd_event_source_set_enabled(p->check_timer, SD_EVENT_ONESHOT);
}

void pool_check_soon(Pool *p, bool refresh) {
        if (refresh)
                p->refresh_wanted = true;
        if (!p->checking)
                check_start(p);
}
