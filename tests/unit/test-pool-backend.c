/* Pool backends: where each pool type keeps a volume, and what an LVM pool makes of lvm2's reports */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fake-command.h"
#include "lvm.h"
#include "macro.h"
#include "nfs-client.h"
#include "pool-backend.h"

static const PoolEnv env = {
        .run_dir = "/run/hostagent",
        .timeout_usec = 10 * 1000 * 1000,
        .check_timeout_usec = 10 * 1000 * 1000,
        .nfs_timeout_ms = 1000,
};

static void parse(const char *text, PoolSpec *ret) {
        char *why = NULL;

        if (pool_spec_parse(text, ret, &why) < 0)
                fail_msg("test spec %s refused: %s", text, strempty(why));
}

static void expect_location(const char *spec_text, const char *name, const char *wanted) {
        _cleanup_(freep) char *location = NULL;
        PoolSpec spec = {};

        parse(spec_text, &spec);
        location = pool_backend_volume_location(&spec, &env, name);
        assert_non_null(location);
        assert_string_equal(location, wanted);
        pool_spec_done(&spec);
}

static void test_volume_location(void **state) {
        expect_location("{\"name\":\"images\",\"type\":\"dir\",\"path\":\"/srv/images\"}", "web1.qcow2",
                        "/srv/images/web1.qcow2");
        expect_location("{\"name\":\"vg1\",\"type\":\"lvm\",\"devices\":[\"/dev/sdb\"]}", "disk1", "/dev/vg1/disk1");
        /* A mounted export: under the agent's run directory, by pool name. */
        expect_location("{\"name\":\"shared\",\"type\":\"nfs\",\"server\":\"192.0.2.5\",\"export\":\"/exports/vm\","
                        "\"access\":\"mount\"}",
                        "web1.qcow2", "/run/hostagent/storage/shared/web1.qcow2");
        /* User space: a URI QEMU opens itself. */
        expect_location("{\"name\":\"shared\",\"type\":\"nfs\",\"server\":\"192.0.2.5\",\"export\":\"/exports/vm\","
                        "\"access\":\"libnfs\"}",
                        "web1.qcow2", "nfs://192.0.2.5/exports/vm/web1.qcow2");
}

static void test_nfs_uri(void **state) {
        NfsExport e = { .server = "nfs.example", .export_path = "/srv/nfs", .version = 3, .timeout_ms = 1000 };
        _cleanup_(freep) char *uri = nfs_export_uri(&e, "a.raw"), *by_address = NULL;

        assert_string_equal(uri, "nfs://nfs.example/srv/nfs/a.raw");
        e.server = "127.0.0.1";
        e.export_path = "/exports/a/b";
        by_address = nfs_export_uri(&e, "disk.qcow2");
        assert_string_equal(by_address, "nfs://127.0.0.1/exports/a/b/disk.qcow2");
}

/* LVM pools, with lvm2 replaced by stand-ins that print recorded reports. */

static const char vg1_spec[] = "{\"name\":\"vg1\",\"type\":\"lvm\",\"devices\":[\"/dev/loop0\"]}";

static void vgs_prints(const FakeCommands *f, const char *tags, const char *attr) {
        _cleanup_(freep) char *report = NULL;

        assert_true(asprintf(&report, "{\"report\":[{\"vg\":[{\"vg_name\":\"vg1\", \"vg_tags\":\"%s\", "
                                      "\"vg_attr\":\"%s\", \"vg_size\":\"62914560\", \"vg_free\":\"41943040\"}]}]}",
                             tags, attr) > 0);
        fake_command(f, "vgs", report, NULL, 0);
}

static void test_lvm_status(void **state) {
        FakeCommands *f = *state;
        PoolSpec spec = {};
        PoolStatus st = {};
        char *message = NULL;

        parse(vg1_spec, &spec);
        vgs_prints(f, "org.hostagent1", "wz--n-");
        assert_int_equal(pool_backend_status(&spec, &env, &st, NULL), 0);
        assert_int_equal(st.capacity, 62914560);
        assert_int_equal(st.available, 41943040);
        assert_int_equal(st.allocation, 62914560 - 41943040);
        assert_false(st.degraded);

        /* A PV missing: usable, but not whole. */
        vgs_prints(f, "org.hostagent1", "wz-pn-");
        assert_int_equal(pool_backend_status(&spec, &env, &st, NULL), 0);
        assert_true(st.degraded);

        /* Its devices gone: the storage does not answer. */
        fake_command(f, "vgs", "{\"report\":[{\"vg\":[]}]}", "  Volume group \"vg1\" not found\n", 5);
        assert_int_equal(pool_backend_status(&spec, &env, &st, &message), -EHOSTUNREACH);
        assert_string_equal(message, "volume group vg1 is not found");
        message = mfree(message);

        fake_command(f, "vgs", "garbage", NULL, 0);
        assert_int_equal(pool_backend_status(&spec, &env, &st, &message), -EHOSTUNREACH);
        assert_string_equal(message, "vgs: vgs printed no report that can be read");
        free(message);
        pool_spec_done(&spec);
}

static void test_lvm_foreign_vg_is_not_taken(void **state) {
        FakeCommands *f = *state;
        PoolSpec spec = {};
        char *message = NULL;
        _cleanup_(freep) char *log = NULL;

        parse(vg1_spec, &spec);
        vgs_prints(f, "", "wz--n-");
        fake_command(f, "pvcreate", NULL, NULL, 0);
        fake_command(f, "vgcreate", NULL, NULL, 0);
        /* Creating: the name is taken. */
        assert_int_equal(pool_backend_prepare(&spec, &env, true, &message), -EEXIST);
        assert_string_equal(message, "name: a volume group vg1 exists and is not tagged org.hostagent1: not the agent's");
        message = mfree(message);
        /* Taking it up again after a restart: not ours. */
        assert_int_equal(pool_backend_prepare(&spec, &env, false, &message), -ERRNO_INVALID_STATE);
        message = mfree(message);
        /* Removing: refused before anything runs but the look. */
        fake_command(f, "vgremove", NULL, NULL, 0);
        assert_int_equal(pool_backend_remove(&spec, &env, &message), -ERRNO_INVALID_STATE);
        free(message);
        log = fake_commands_log(f);
        assert_null(strstr(log, "pvcreate"));
        assert_null(strstr(log, "vgcreate"));
        assert_null(strstr(log, "vgremove"));
        pool_spec_done(&spec);
}

static void test_lvm_volumes(void **state) {
        static const char lvs[] =
                "{\"report\":[{\"lv\":[{\"lv_name\":\"foreign\", \"lv_size\":\"4194304\", \"lv_tags\":\"\"},"
                "{\"lv_name\":\"disk1\", \"lv_size\":\"8388608\", \"lv_tags\":\"org.hostagent1\"}]}]}";
        FakeCommands *f = *state;
        PoolSpec spec = {};
        VolumeInfo *v = NULL, one = {};
        size_t n = 0;
        char *message = NULL;
        _cleanup_(freep) char *log = NULL;

        parse(vg1_spec, &spec);
        fake_command(f, "lvs", lvs, NULL, 0);
        fake_command(f, "lvremove", NULL, NULL, 0);
        assert_int_equal(pool_backend_list(&spec, &env, &v, &n, NULL), 0);
        assert_int_equal(n, 1);
        assert_string_equal(v[0].name, "disk1");
        volume_info_array_free(v, n);

        assert_int_equal(pool_backend_volume_info(&spec, &env, "disk1", &one, NULL), 0);
        assert_string_equal(one.name, "disk1");
        assert_string_equal(one.format, "raw");
        assert_int_equal(one.capacity, 8388608);
        volume_info_done(&one);
        assert_int_equal(pool_backend_volume_info(&spec, &env, "foreign", &one, &message), -ENOENT);
        assert_string_equal(message, "no volume foreign");
        message = mfree(message);

        assert_int_equal(pool_backend_volume_delete(&spec, &env, "foreign", &message), -ENOENT);
        free(message);
        log = fake_commands_log(f);
        assert_null(strstr(log, "lvremove"));
        pool_spec_done(&spec);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_volume_location),
                cmocka_unit_test(test_nfs_uri),
                fake_commands_unit_test(test_lvm_status),
                fake_commands_unit_test(test_lvm_foreign_vg_is_not_taken),
                fake_commands_unit_test(test_lvm_volumes),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
