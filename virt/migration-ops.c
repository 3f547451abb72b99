/* Live migration: libvirt's calls, for worker threads */
#include <errno.h>
#include <libvirt/virterror.h>
#include <stdlib.h>
#include <string.h>

#include "libvirt-error.h"
#include "macro.h"
#include "migration.h"
#include "virt-cleanup.h"


static int domain_lookup(virConnectPtr conn, const char *uuid, virDomainPtr *ret, char **ret_error) {
        *ret = virDomainLookupByUUIDString(conn, uuid);
        return *ret ? 0 : libvirt_error_take(ret_error);
}

/* virDomainMigrateToURI3's parameters for O. */
static int migration_params(const MigrationOptions *o, virTypedParameterPtr *params, int *n) {
        int max = 0;

        if (o->migration_uri &&
            virTypedParamsAddString(params, n, &max, VIR_MIGRATE_PARAM_URI, o->migration_uri) < 0)
                return -ENOMEM;
        if (o->bandwidth_mib > 0 &&
            virTypedParamsAddULLong(params, n, &max, VIR_MIGRATE_PARAM_BANDWIDTH, o->bandwidth_mib) < 0)
                return -ENOMEM;
        if (o->parallel_connections > 0 &&
            virTypedParamsAddInt(params, n, &max, VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS,
                                 (int) o->parallel_connections) < 0)
                return -ENOMEM;
        return 0;
}

int migration_run(virConnectPtr conn, const char *uuid, const char *dest_uri, const MigrationOptions *o,
                  char **ret_error) {
        _cleanup_(virDomainFreep) virDomainPtr dom = NULL;
        virTypedParameterPtr params = NULL;
        int n = 0, r;

        r = domain_lookup(conn, uuid, &dom, ret_error);
        if (r < 0)
                return r;
        r = migration_params(o, &params, &n);
        if (r >= 0 && virDomainMigrateToURI3(dom, dest_uri, params, (unsigned) n, migration_flags(o)) < 0)
                r = libvirt_error_take(ret_error);
        virTypedParamsFree(params, n);   /* with the strings in it (the migration_uri) */
        return r;
}

static uint64_t param_ull(virTypedParameterPtr params, int n, const char *name) {
        unsigned long long v = 0;

        (void) virTypedParamsGetULLong(params, n, name, &v);
        return v;
}

int migration_stats_read(virConnectPtr conn, const char *uuid, MigrationStats *ret, char **ret_error) {
        _cleanup_(virDomainFreep) virDomainPtr dom = NULL;
        virTypedParameterPtr params = NULL;
        int type = VIR_DOMAIN_JOB_NONE, n = 0, op = 0, r;

        r = domain_lookup(conn, uuid, &dom, ret_error);
        if (r < 0)
                return r;
        if (virDomainGetJobStats(dom, &type, &params, &n, 0) < 0)
                return libvirt_error_take(ret_error);
        *ret = (MigrationStats) {
                .active = type == VIR_DOMAIN_JOB_BOUNDED || type == VIR_DOMAIN_JOB_UNBOUNDED,
                .data_total = param_ull(params, n, VIR_DOMAIN_JOB_DATA_TOTAL),
                .data_processed = param_ull(params, n, VIR_DOMAIN_JOB_DATA_PROCESSED),
                .data_remaining = param_ull(params, n, VIR_DOMAIN_JOB_DATA_REMAINING),
                .dirty_rate = param_ull(params, n, VIR_DOMAIN_JOB_MEMORY_DIRTY_RATE) *
                              (param_ull(params, n, VIR_DOMAIN_JOB_MEMORY_PAGE_SIZE) ?: 4096),
                .iteration = param_ull(params, n, VIR_DOMAIN_JOB_MEMORY_ITERATION),
                .elapsed_ms = param_ull(params, n, VIR_DOMAIN_JOB_TIME_ELAPSED),
                .downtime_ms = param_ull(params, n, VIR_DOMAIN_JOB_DOWNTIME),
        };
        /* Only an outgoing migration is ours to follow. */
        if (virTypedParamsGetInt(params, n, VIR_DOMAIN_JOB_OPERATION, &op) == 1 &&
            op != VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT)
                ret->active = false;
        ret->postcopy = ret->active && param_ull(params, n, VIR_DOMAIN_JOB_MEMORY_POSTCOPY_REQS) > 0;
        virTypedParamsFree(params, n);
        return 0;
}

int migration_abort(virConnectPtr conn, const char *uuid, char **ret_error) {
        _cleanup_(virDomainFreep) virDomainPtr dom = NULL;
        int r = domain_lookup(conn, uuid, &dom, ret_error);

        if (r < 0)
                return r;
        return virDomainAbortJob(dom) < 0 ? libvirt_error_take(ret_error) : 0;
}

int migration_set_max_downtime(virConnectPtr conn, const char *uuid, uint64_t ms, char **ret_error) {
        _cleanup_(virDomainFreep) virDomainPtr dom = NULL;
        int r = domain_lookup(conn, uuid, &dom, ret_error);

        if (r < 0)
                return r;
        return virDomainMigrateSetMaxDowntime(dom, ms, 0) < 0 ? libvirt_error_take(ret_error) : 0;
}

int migration_set_bandwidth(virConnectPtr conn, const char *uuid, uint32_t mib, char **ret_error) {
        _cleanup_(virDomainFreep) virDomainPtr dom = NULL;
        int r = domain_lookup(conn, uuid, &dom, ret_error);

        if (r < 0)
                return r;
        /* 0 is "no cap" to the caller; libvirt takes its largest value for that. */
        return virDomainMigrateSetMaxSpeed(dom, mib ? mib : 8796093022207UL, 0) < 0 ? libvirt_error_take(ret_error)
                                                                                    : 0;
}

int migration_start_postcopy(virConnectPtr conn, const char *uuid, char **ret_error) {
        _cleanup_(virDomainFreep) virDomainPtr dom = NULL;
        int r = domain_lookup(conn, uuid, &dom, ret_error);

        if (r < 0)
                return r;
        return virDomainMigrateStartPostCopy(dom, 0) < 0 ? libvirt_error_take(ret_error) : 0;
}
