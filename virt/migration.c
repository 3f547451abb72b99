/* Live migration: the options a caller gives, the shared-storage check, and libvirt's calls */
#include "migration.h"

#include <errno.h>
#include <json-c/json.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-cleanup.h"
#include "libvirt-error.h"
#include "macro.h"
#include "virt-cleanup.h"

static const char *const convergence_table[_MIGRATION_CONVERGENCE_MAX] = {
        [MIGRATION_CONVERGENCE_DOWNTIME_STEPS] = "downtime-steps",
        [MIGRATION_CONVERGENCE_AUTO_CONVERGE] = "auto-converge",
        [MIGRATION_CONVERGENCE_POSTCOPY] = "postcopy",
        [MIGRATION_CONVERGENCE_NONE] = "none",
};

const char *migration_convergence_to_string(MigrationConvergence c) {
        return c >= 0 && c < _MIGRATION_CONVERGENCE_MAX ? convergence_table[c] : NULL;
}

MigrationConvergence migration_convergence_from_string(const char *s) {
        for (int i = 0; s && i < _MIGRATION_CONVERGENCE_MAX; i++)
                if (streq(convergence_table[i], s))
                        return (MigrationConvergence) i;
        return _MIGRATION_CONVERGENCE_INVALID;
}

void migration_options_init(MigrationOptions *o, uint32_t bandwidth_mib) {
        *o = (MigrationOptions) {
                .bandwidth_mib = bandwidth_mib,
                .max_downtime_ms = MIGRATION_DEFAULT_MAX_DOWNTIME_MS,
                .convergence = MIGRATION_CONVERGENCE_DOWNTIME_STEPS,
                .stall_timeout_sec = MIGRATION_DEFAULT_STALL_TIMEOUT_SEC,
                .persistent = true,
        };
}

void migration_options_done(MigrationOptions *o) {
        o->migration_uri = mfree(o->migration_uri);
}

/* The option table: name, D-Bus type, where it goes, and its range. */
typedef int (*option_set_fn)(MigrationOptions *o, const char *name, const MigrationValue *v, char **ret_error);

typedef struct MigrationOption {
        const char *name;
        char type;
        size_t offset;
        uint64_t min, max;        /* 'u' and 't' */
        option_set_fn set;        /* NULL: stored by type at OFFSET */
} MigrationOption;

static int option_error(char **ret_error, const char *name, const char *fmt, const char *detail) {
        if (ret_error && asprintf(ret_error, "%s: %s%s", name, fmt, strempty(detail)) < 0)
                *ret_error = NULL;
        return -EINVAL;
}

static int set_migration_uri(MigrationOptions *o, const char *name, const MigrationValue *v, char **ret_error) {
        const char *s = v->s;
        char *copy;

        if (strlen(s) == 0 || strlen(s) > MIGRATION_URI_MAX)
                return option_error(ret_error, name, "must be a URI of 1 to 1024 bytes", NULL);
        if (!strstr(s, "://") || strpbrk(s, " \t\n\r"))
                return option_error(ret_error, name, "must be a URI such as tcp://192.0.2.2", NULL);
        copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        free(o->migration_uri);
        o->migration_uri = copy;
        return 0;
}

static int set_convergence(MigrationOptions *o, const char *name, const MigrationValue *v, char **ret_error) {
        MigrationConvergence c = migration_convergence_from_string(v->s);

        if (c < 0)
                return option_error(ret_error, name,
                                    "must be one of downtime-steps, auto-converge, postcopy, none", NULL);
        o->convergence = c;
        return 0;
}

#define FIELD(f) offsetof(MigrationOptions, f)

static const MigrationOption option_table[] = {
        { "migration_uri",        's', 0, 0, 0, set_migration_uri },
        { "bandwidth_mib",        'u', FIELD(bandwidth_mib), 0, MIGRATION_BANDWIDTH_MAX_MIB, NULL },
        { "max_downtime_ms",      't', FIELD(max_downtime_ms), 1, MIGRATION_DOWNTIME_MAX_MS, NULL },
        { "convergence",          's', 0, 0, 0, set_convergence },
        { "stall_timeout_sec",    'u', FIELD(stall_timeout_sec), 1, 3600, NULL },
        { "timeout_sec",          'u', FIELD(timeout_sec), 1, MIGRATION_TIMEOUT_MAX_SEC, NULL },
        { "persistent",           'b', FIELD(persistent), 0, 0, NULL },
        { "compressed",           'b', FIELD(compressed), 0, 0, NULL },
        { "parallel_connections", 'u', FIELD(parallel_connections), 1, MIGRATION_PARALLEL_MAX, NULL },
        { "tunnelled",            'b', FIELD(tunnelled), 0, 0, NULL },
        { "allow_unsafe",         'b', FIELD(allow_unsafe), 0, 0, NULL },
};

static const MigrationOption *option_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(option_table); i++)
                if (streq(option_table[i].name, name))
                        return &option_table[i];
        return NULL;
}

char migration_option_type(const char *name) {
        const MigrationOption *opt = option_find(name);

        return opt ? opt->type : 0;
}

static int option_store(MigrationOptions *o, const MigrationOption *opt, const MigrationValue *v,
                        char **ret_error) {
        char range[64];
        uint64_t n = opt->type == 'u' ? v->u : v->t;

        if (opt->type == 'b') {
                *(bool *) ((char *) o + opt->offset) = v->b;
                return 0;
        }
        if (n < opt->min || n > opt->max) {
                snprintf(range, sizeof range, "%llu and %llu", (unsigned long long) opt->min,
                         (unsigned long long) opt->max);
                return option_error(ret_error, opt->name, "must be between ", range);
        }
        if (opt->type == 'u')
                *(uint32_t *) ((char *) o + opt->offset) = v->u;
        else
                *(uint64_t *) ((char *) o + opt->offset) = v->t;
        return 0;
}

int migration_options_set(MigrationOptions *o, const char *name, const MigrationValue *v, char **ret_error) {
        const MigrationOption *opt = option_find(name);
        char type[2] = {};

        if (!opt)
                return option_error(ret_error, name, "unknown option", NULL);
        if (v->type != opt->type) {
                type[0] = opt->type;
                return option_error(ret_error, name, "must be of D-Bus type ", type);
        }
        if (opt->type == 's' && !v->s)
                return option_error(ret_error, name, "must be a string", NULL);
        if (opt->set)
                return opt->set(o, name, v, ret_error);
        return option_store(o, opt, v, ret_error);
}

int migration_options_check(const MigrationOptions *o, char **ret_error) {
        /* A tunnelled stream goes through libvirtd's own connection. */
        if (o->tunnelled && o->migration_uri)
                return option_error(ret_error, "migration_uri", "cannot be given with tunnelled", NULL);
        if (o->tunnelled && o->parallel_connections > 0)
                return option_error(ret_error, "parallel_connections", "cannot be given with tunnelled", NULL);
        if (o->tunnelled && o->convergence == MIGRATION_CONVERGENCE_POSTCOPY)
                return option_error(ret_error, "convergence", "postcopy cannot be tunnelled", NULL);
        return 0;
}

unsigned long migration_flags(const MigrationOptions *o) {
        unsigned long flags = VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER;

        if (o->persistent)
                flags |= VIR_MIGRATE_PERSIST_DEST | VIR_MIGRATE_UNDEFINE_SOURCE;
        if (o->compressed)
                flags |= VIR_MIGRATE_COMPRESSED;
        if (o->parallel_connections > 0)
                flags |= VIR_MIGRATE_PARALLEL;
        if (o->tunnelled)
                flags |= VIR_MIGRATE_TUNNELLED;
        if (o->convergence == MIGRATION_CONVERGENCE_AUTO_CONVERGE)
                flags |= VIR_MIGRATE_AUTO_CONVERGE;
        if (o->convergence == MIGRATION_CONVERGENCE_POSTCOPY)
                flags |= VIR_MIGRATE_POSTCOPY;
        if (o->allow_unsafe)
                flags |= VIR_MIGRATE_UNSAFE;
        return flags;
}

/* vdsm raises the downtime in steps that grow: the first ones stay short,
 * so a guest that converges anyway pauses briefly. Step N of S allows
 * MAX * 2^N / 2^S, at least 1 ms; step S allows MAX. */
uint64_t migration_downtime_at_step(uint64_t max_downtime_ms, unsigned step) {
        unsigned shift;
        uint64_t d;

        if (step >= MIGRATION_DOWNTIME_STEPS)
                return max_downtime_ms;
        shift = MIGRATION_DOWNTIME_STEPS - step;
        d = max_downtime_ms >> shift;
        return d ?: 1;
}

static const char *spec_string(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static bool spec_readonly_cdrom(json_object *disk) {
        const char *device = spec_string(disk, "device");

        return device && streq(device, "cdrom");
}

/* NULL when disk I of the spec is on storage both hosts share, else why not. */
static int disk_check(json_object *disk, size_t i, migration_pool_type_fn pool_type, void *userdata,
                      char **ret_error) {
        const char *path = spec_string(disk, "path"), *pool = spec_string(disk, "pool");
        const char *volume = spec_string(disk, "volume"), *type;
        int r = 0;

        if (spec_readonly_cdrom(disk))
                return 0;
        if (path && !pool)
                r = asprintf(ret_error, "disks[%zu] (%s): a host path is not storage both hosts share; "
                             "use a volume of an nfs pool, or allow_unsafe", i, path);
        else if (pool) {
                type = pool_type ? pool_type(pool, userdata) : NULL;
                if (type && (streq(type, "dir") || streq(type, "lvm")))
                        r = asprintf(ret_error, "disks[%zu] (%s/%s): a volume of %s pool %s is not storage both "
                                     "hosts share; use a volume of an nfs pool, or allow_unsafe", i, pool,
                                     strempty(volume), type, pool);
                else
                        return 0;
        } else
                return 0;
        if (r < 0)
                *ret_error = NULL;
        return -EOPNOTSUPP;
}

int migration_check_storage(const char *spec_json, migration_pool_type_fn pool_type, void *userdata,
                            char **ret_error) {
        _cleanup_(json_object_putp) json_object *spec = NULL;
        json_object *disks;
        int r;

        if (!spec_json || !*spec_json)
                return 0;
        spec = json_tokener_parse(spec_json);
        if (!spec || !json_object_object_get_ex(spec, "disks", &disks) ||
            !json_object_is_type(disks, json_type_array))
                return 0;   /* no disks, or nothing of ours to judge: libvirt checks */
        for (size_t i = 0; i < json_object_array_length(disks); i++) {
                r = disk_check(json_object_array_get_idx(disks, i), i, pool_type, userdata, ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

unsigned migration_stats_percent(const MigrationStats *s) {
        uint64_t total = s->data_processed + s->data_remaining;

        if (total == 0)
                return 0;
        return (unsigned) (s->data_processed * 100 / total) > 99 ? 99 : (unsigned) (s->data_processed * 100 / total);
}
