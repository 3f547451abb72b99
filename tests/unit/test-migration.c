/* Live migration: the option table, the shared-storage check, libvirt's flags and the convergence policy */
#include <libvirt/libvirt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "macro.h"
#include "migration.h"

#define SEC 1000000ULL

static MigrationValue str(const char *s) { return (MigrationValue) { .type = 's', .s = s }; }
static MigrationValue u32(uint32_t u) { return (MigrationValue) { .type = 'u', .u = u }; }
static MigrationValue u64(uint64_t t) { return (MigrationValue) { .type = 't', .t = t }; }
static MigrationValue boolean(bool b) { return (MigrationValue) { .type = 'b', .b = b }; }

/* Setting NAME to V fails with a message that starts with PREFIX. */
static void assert_refused(const char *name, MigrationValue v, const char *prefix) {
        MigrationOptions o;
        char *error = NULL;

        migration_options_init(&o, 0);
        assert_int_equal(migration_options_set(&o, name, &v, &error), -EINVAL);
        assert_non_null(error);
        if (strncmp(error, prefix, strlen(prefix)) != 0)
                fail_msg("%s: got \"%s\", expected it to start with \"%s\"", name, error, prefix);
        free(error);
        migration_options_done(&o);
}

static void test_defaults(void **state) {
        MigrationOptions o;

        migration_options_init(&o, 40);
        assert_int_equal(o.bandwidth_mib, 40);
        assert_true(o.persistent);
        assert_int_equal(o.convergence, MIGRATION_CONVERGENCE_DOWNTIME_STEPS);
        assert_int_equal(o.max_downtime_ms, MIGRATION_DEFAULT_MAX_DOWNTIME_MS);
        assert_int_equal(o.stall_timeout_sec, MIGRATION_DEFAULT_STALL_TIMEOUT_SEC);
        assert_int_equal(o.timeout_sec, 0);
        assert_null(o.migration_uri);
        assert_int_equal(migration_flags(&o), VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_PERSIST_DEST |
                                                      VIR_MIGRATE_UNDEFINE_SOURCE);
        migration_options_done(&o);
}

static void test_every_option(void **state) {
        MigrationOptions o;
        char *error = NULL;

        migration_options_init(&o, 0);
        assert_int_equal(migration_options_set(&o, "migration_uri", &(MigrationValue) { 's', .s = "tcp://192.0.2.2" },
                                               &error), 0);
        assert_int_equal(migration_options_set(&o, "bandwidth_mib", &(MigrationValue) { 'u', .u = 16 }, &error), 0);
        assert_int_equal(migration_options_set(&o, "max_downtime_ms", &(MigrationValue) { 't', .t = 300 }, &error), 0);
        assert_int_equal(migration_options_set(&o, "convergence", &(MigrationValue) { 's', .s = "postcopy" }, &error), 0);
        assert_int_equal(migration_options_set(&o, "stall_timeout_sec", &(MigrationValue) { 'u', .u = 2 }, &error), 0);
        assert_int_equal(migration_options_set(&o, "timeout_sec", &(MigrationValue) { 'u', .u = 60 }, &error), 0);
        assert_int_equal(migration_options_set(&o, "persistent", &(MigrationValue) { 'b', .b = false }, &error), 0);
        assert_int_equal(migration_options_set(&o, "compressed", &(MigrationValue) { 'b', .b = true }, &error), 0);
        assert_int_equal(migration_options_set(&o, "parallel_connections", &(MigrationValue) { 'u', .u = 4 }, &error), 0);
        assert_int_equal(migration_options_set(&o, "allow_unsafe", &(MigrationValue) { 'b', .b = true }, &error), 0);
        assert_null(error);
        assert_string_equal(o.migration_uri, "tcp://192.0.2.2");
        assert_int_equal(o.bandwidth_mib, 16);
        assert_int_equal(o.max_downtime_ms, 300);
        assert_int_equal(o.convergence, MIGRATION_CONVERGENCE_POSTCOPY);
        assert_int_equal(o.stall_timeout_sec, 2);
        assert_int_equal(o.timeout_sec, 60);
        assert_int_equal(o.parallel_connections, 4);
        assert_int_equal(migration_options_check(&o, &error), 0);
        assert_int_equal(migration_flags(&o), VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_COMPRESSED |
                                                      VIR_MIGRATE_PARALLEL | VIR_MIGRATE_POSTCOPY | VIR_MIGRATE_UNSAFE);
        assert_int_equal(migration_option_type("tunnelled"), 'b');
        assert_int_equal(migration_option_type("max_downtime_ms"), 't');
        assert_int_equal(migration_option_type("nope"), 0);
        migration_options_done(&o);
}

static void test_refusals_name_the_option(void **state) {
        assert_refused("speed", u32(1), "speed: unknown option");
        assert_refused("bandwidth_mib", u64(1), "bandwidth_mib: must be of D-Bus type u");
        assert_refused("bandwidth_mib", u32(MIGRATION_BANDWIDTH_MAX_MIB + 1), "bandwidth_mib: must be between");
        assert_refused("max_downtime_ms", u32(10), "max_downtime_ms: must be of D-Bus type t");
        assert_refused("max_downtime_ms", u64(0), "max_downtime_ms: must be between 1 and");
        assert_refused("convergence", str("fast"), "convergence: must be one of downtime-steps");
        assert_refused("convergence", boolean(true), "convergence: must be of D-Bus type s");
        assert_refused("stall_timeout_sec", u32(0), "stall_timeout_sec: must be between 1 and 3600");
        assert_refused("timeout_sec", u32(0), "timeout_sec: must be between 1");
        assert_refused("persistent", u32(1), "persistent: must be of D-Bus type b");
        assert_refused("parallel_connections", u32(65), "parallel_connections: must be between 1 and 64");
        assert_refused("migration_uri", str(""), "migration_uri: must be a URI");
        assert_refused("migration_uri", str("192.0.2.2"), "migration_uri: must be a URI");
        assert_refused("migration_uri", str("tcp://a b"), "migration_uri: must be a URI");
}

static void test_options_together(void **state) {
        MigrationOptions o;
        char *error = NULL;

        migration_options_init(&o, 0);
        o.tunnelled = true;
        assert_int_equal(migration_options_check(&o, &error), 0);
        assert_true(migration_flags(&o) & VIR_MIGRATE_TUNNELLED);
        o.parallel_connections = 2;
        assert_int_equal(migration_options_check(&o, &error), -EINVAL);
        assert_string_equal(error, "parallel_connections: cannot be given with tunnelled");
        error = mfree(error);
        o.parallel_connections = 0;
        o.convergence = MIGRATION_CONVERGENCE_POSTCOPY;
        assert_int_equal(migration_options_check(&o, &error), -EINVAL);
        assert_string_equal(error, "convergence: postcopy cannot be tunnelled");
        free(error);
        migration_options_done(&o);
}

static const char *pool_type(const char *pool, void *userdata) {
        if (streq(pool, "local"))
                return "dir";
        if (streq(pool, "shared"))
                return "nfs";
        return NULL;
}

static void test_storage(void **state) {
        char *error = NULL;

        assert_int_equal(migration_check_storage(NULL, pool_type, NULL, &error), 0);
        assert_int_equal(migration_check_storage("{\"name\":\"a\"}", pool_type, NULL, &error), 0);
        assert_int_equal(migration_check_storage("{\"disks\":[{\"pool\":\"shared\",\"volume\":\"d1\"}]}", pool_type,
                                                 NULL, &error), 0);
        /* A cdrom is read-only: the same image path on both hosts is enough. */
        assert_int_equal(migration_check_storage("{\"disks\":[{\"pool\":\"shared\",\"volume\":\"d1\"},"
                                                 "{\"path\":\"/iso/x.iso\",\"device\":\"cdrom\"}]}",
                                                 pool_type, NULL, &error), 0);
        assert_null(error);

        assert_int_equal(migration_check_storage("{\"disks\":[{\"pool\":\"shared\",\"volume\":\"d1\"},"
                                                 "{\"pool\":\"local\",\"volume\":\"d2\"}]}", pool_type, NULL, &error),
                         -EOPNOTSUPP);
        assert_non_null(strstr(error, "disks[1] (local/d2): a volume of dir pool local"));
        error = mfree(error);
        assert_int_equal(migration_check_storage("{\"disks\":[{\"path\":\"/srv/a.qcow2\"}]}", pool_type, NULL, &error),
                         -EOPNOTSUPP);
        assert_non_null(strstr(error, "disks[0] (/srv/a.qcow2): a host path"));
        free(error);
}

static void test_downtime_steps(void **state) {
        uint64_t last = 0;

        for (unsigned i = 0; i <= MIGRATION_DOWNTIME_STEPS; i++) {
                uint64_t d = migration_downtime_at_step(500, i);

                assert_true(d > last);
                assert_true(d <= 500);
                last = d;
        }
        assert_int_equal(last, 500);
        assert_int_equal(migration_downtime_at_step(1, 0), 1);
}

static MigrationStats stats(uint64_t remaining) {
        return (MigrationStats) { .active = true, .data_total = 1000, .data_remaining = remaining,
                                  .data_processed = 1000 - remaining };
}

static void test_policy_steps_then_abort(void **state) {
        MigrationOptions o;
        MigrationPolicy p;
        MigrationStats s = stats(500);
        uint64_t t = 100 * SEC;

        migration_options_init(&o, 0);
        o.stall_timeout_sec = 2;
        migration_policy_init(&p, &o, t);
        assert_int_equal(p.downtime_ms, migration_downtime_at_step(500, 0));
        assert_int_equal(migration_policy_step(&p, &s, t + SEC), MIGRATION_ACTION_NONE);
        /* Progress keeps it going at the same downtime. */
        s = stats(400);
        assert_int_equal(migration_policy_step(&p, &s, t + 2 * SEC), MIGRATION_ACTION_NONE);
        t += 2 * SEC;
        for (unsigned i = 1; i <= MIGRATION_DOWNTIME_STEPS; i++) {
                assert_int_equal(migration_policy_step(&p, &s, t + SEC), MIGRATION_ACTION_NONE);
                t += 2 * SEC;
                assert_int_equal(migration_policy_step(&p, &s, t), MIGRATION_ACTION_SET_DOWNTIME);
                assert_int_equal(p.downtime_ms, migration_downtime_at_step(500, i));
        }
        t += 2 * SEC;
        assert_int_equal(migration_policy_step(&p, &s, t), MIGRATION_ACTION_ABORT_STALLED);
}

static void test_policy_postcopy_and_timeout(void **state) {
        MigrationOptions o;
        MigrationPolicy p;
        MigrationStats s = stats(500);

        migration_options_init(&o, 0);
        o.convergence = MIGRATION_CONVERGENCE_POSTCOPY;
        o.stall_timeout_sec = 1;
        o.timeout_sec = 30;
        migration_policy_init(&p, &o, 0);
        assert_int_equal(p.downtime_ms, 500);
        assert_int_equal(migration_policy_step(&p, &s, SEC / 2), MIGRATION_ACTION_NONE);
        assert_int_equal(migration_policy_step(&p, &s, 2 * SEC), MIGRATION_ACTION_START_POSTCOPY);
        /* Post-copy always ends: no stall counts, only the hard limit. */
        assert_int_equal(migration_policy_step(&p, &s, 10 * SEC), MIGRATION_ACTION_NONE);
        assert_int_equal(migration_policy_step(&p, &s, 30 * SEC), MIGRATION_ACTION_ABORT_TIMEOUT);

        o.convergence = MIGRATION_CONVERGENCE_NONE;
        migration_policy_init(&p, &o, 0);
        /* Nothing from QEMU yet (the destination starting) is no stall. */
        s = (MigrationStats) { .active = true };
        assert_int_equal(migration_policy_step(&p, &s, 5 * SEC), MIGRATION_ACTION_NONE);
        s = stats(500);
        assert_int_equal(migration_policy_step(&p, &s, 6 * SEC), MIGRATION_ACTION_NONE);
        assert_int_equal(migration_policy_step(&p, &s, 7 * SEC), MIGRATION_ACTION_ABORT_STALLED);
}

static void test_percent(void **state) {
        MigrationStats s = stats(250);

        assert_int_equal(migration_stats_percent(&s), 75);
        s = stats(0);
        assert_int_equal(migration_stats_percent(&s), 99);   /* 100 is for done */
        s = (MigrationStats) {};
        assert_int_equal(migration_stats_percent(&s), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_every_option),
                cmocka_unit_test(test_refusals_name_the_option),
                cmocka_unit_test(test_options_together),
                cmocka_unit_test(test_storage),
                cmocka_unit_test(test_downtime_steps),
                cmocka_unit_test(test_policy_steps_then_abort),
                cmocka_unit_test(test_policy_postcopy_and_timeout),
                cmocka_unit_test(test_percent),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
