/* Live migration: the options a caller gives, the shared-storage check, and libvirt's calls */
#pragma once

#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <stdint.h>

/* vdsm's defaults: the allowed downtime reaches its maximum in this many
 * steps, each taken when progress stalls this long. */
#define MIGRATION_DEFAULT_MAX_DOWNTIME_MS 500
#define MIGRATION_DOWNTIME_MAX_MS (60ULL * 1000)
#define MIGRATION_DOWNTIME_STEPS 5
#define MIGRATION_DEFAULT_STALL_TIMEOUT_SEC 10
#define MIGRATION_BANDWIDTH_MAX_MIB 100000
#define MIGRATION_PARALLEL_MAX 64
#define MIGRATION_TIMEOUT_MAX_SEC (7U * 24 * 3600)
#define MIGRATION_URI_MAX 1024

typedef enum MigrationConvergence {
        MIGRATION_CONVERGENCE_DOWNTIME_STEPS,
        MIGRATION_CONVERGENCE_AUTO_CONVERGE,
        MIGRATION_CONVERGENCE_POSTCOPY,
        MIGRATION_CONVERGENCE_NONE,
        _MIGRATION_CONVERGENCE_MAX,
        _MIGRATION_CONVERGENCE_INVALID = -22,
} MigrationConvergence;

const char *migration_convergence_to_string(MigrationConvergence c);
MigrationConvergence migration_convergence_from_string(const char *s);

typedef struct MigrationOptions {
        char *migration_uri;            /* NULL: libvirt's choice */
        uint32_t bandwidth_mib;         /* 0: no cap */
        uint64_t max_downtime_ms;
        MigrationConvergence convergence;
        uint32_t stall_timeout_sec;
        uint32_t timeout_sec;           /* 0: none */
        bool persistent;
        bool compressed;
        uint32_t parallel_connections;  /* 0: one stream */
        bool tunnelled;
        bool allow_unsafe;
} MigrationOptions;

/* The defaults; BANDWIDTH_MIB is the daemon's --migration-bandwidth. */
void migration_options_init(MigrationOptions *o, uint32_t bandwidth_mib);
void migration_options_done(MigrationOptions *o);

/* One option's value as a caller sent it: TYPE is its D-Bus type ('s',
 * 'u', 't', 'b'), one member of the union set. */
typedef struct MigrationValue {
        char type;
        union {
                const char *s;
                uint32_t u;
                uint64_t t;
                bool b;
        };
} MigrationValue;

/* The D-Bus type of option NAME, or 0 when there is no such option. */
char migration_option_type(const char *name);

/* Sets option NAME. -EINVAL with RET_ERROR naming the option and the rule
 * ("bandwidth_mib: must be at most 100000"): unknown, wrong type, out of range. */
int migration_options_set(MigrationOptions *o, const char *name, const MigrationValue *v, char **ret_error);

/* What the options mean together. Same convention. */
int migration_options_check(const MigrationOptions *o, char **ret_error);

/* libvirt's flags for O: always live and peer-to-peer. */
unsigned long migration_flags(const MigrationOptions *o);

/* The first allowed downtime and the one at STEP (1 .. MIGRATION_DOWNTIME_STEPS). */
uint64_t migration_downtime_at_step(uint64_t max_downtime_ms, unsigned step);

/* What a pool is to the storage check: its type ("dir", "nfs", "lvm"), or NULL when unknown. */
typedef const char *(*migration_pool_type_fn)(const char *pool, void *userdata);

/* Whether both hosts can reach every disk of the VM whose stored spec is
 * SPEC_JSON (NULL: a VM defined without the agent; libvirt checks it). A host
 * `path` disk or a volume of a `dir` or `lvm` pool cannot be: -EOPNOTSUPP
 * with RET_ERROR naming the disk. Read-only cdroms travel by path. */
int migration_check_storage(const char *spec_json, migration_pool_type_fn pool_type, void *userdata,
                            char **ret_error);

/* Where a migration is, from libvirt's job statistics. */
typedef struct MigrationStats {
        bool active;               /* a job runs on the domain */
        bool postcopy;
        uint64_t data_total, data_processed, data_remaining;
        uint64_t dirty_rate;       /* bytes per second */
        uint64_t iteration;
        uint64_t elapsed_ms;
        uint64_t downtime_ms;      /* the downtime seen, once completed */
} MigrationStats;

/* The convergence policy, apart from libvirt so that it can be tested
 * alone: fed the statistics about once a second, it says what to do. */
typedef enum MigrationAction {
        MIGRATION_ACTION_NONE,
        MIGRATION_ACTION_SET_DOWNTIME,   /* RET_DOWNTIME_MS is the next step's */
        MIGRATION_ACTION_START_POSTCOPY,
        MIGRATION_ACTION_ABORT_STALLED,  /* no progress after the last step */
        MIGRATION_ACTION_ABORT_TIMEOUT,  /* timeout_sec passed */
} MigrationAction;

typedef struct MigrationPolicy {
        MigrationConvergence convergence;
        uint64_t max_downtime_ms;
        uint64_t downtime_ms;        /* allowed now */
        uint64_t stall_usec, timeout_usec;
        uint64_t start_usec, progress_usec;
        uint64_t lowest_remaining;   /* progress is a new low of the data left */
        unsigned step;
        bool postcopy;
} MigrationPolicy;

/* The policy for O, started at NOW_USEC (CLOCK_MONOTONIC); its downtime_ms
 * is what the migration starts with. */
void migration_policy_init(MigrationPolicy *p, const MigrationOptions *o, uint64_t now_usec);
MigrationAction migration_policy_step(MigrationPolicy *p, const MigrationStats *s, uint64_t now_usec);

/* Percent of the data sent (the remainder shrinks as it converges). */
unsigned migration_stats_percent(const MigrationStats *s);

/* The calls below are for worker threads. Each returns 0 or the -errno of
 * libvirt_error_take(), with RET_ERROR (may be NULL) set to libvirt's text. */

/* Migrates the domain UUID to DEST_URI peer-to-peer: blocks until it ends. */
int migration_run(virConnectPtr conn, const char *uuid, const char *dest_uri, const MigrationOptions *o,
                  char **ret_error);
int migration_stats_read(virConnectPtr conn, const char *uuid, MigrationStats *ret, char **ret_error);
int migration_abort(virConnectPtr conn, const char *uuid, char **ret_error);
int migration_set_max_downtime(virConnectPtr conn, const char *uuid, uint64_t ms, char **ret_error);
int migration_set_bandwidth(virConnectPtr conn, const char *uuid, uint32_t mib, char **ret_error);
int migration_start_postcopy(virConnectPtr conn, const char *uuid, char **ret_error);
