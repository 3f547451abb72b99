/* Storage pool specs: every refusal names its field; good specs come out normalized */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "macro.h"
#include "pool-spec.h"

static void expect_refused(const char *text, const char *error) {
        PoolSpec spec = {};
        char *why = NULL;

        assert_int_equal(pool_spec_parse(text, &spec, &why), -EINVAL);
        assert_non_null(why);
        if (strstr(why, error) != why)
                fail_msg("spec %s: wanted an error starting '%s', got '%s'", text, error, why);
        free(why);
        assert_null(spec.name);
}

static void test_refusals(void **state) {
        static const struct { const char *text, *error; } cases[] = {
                { "[]", "spec: must be a JSON object" },
                { "{\"name\":\"p\",\"type\":\"dir\",\"path\":\"/srv/p\"", "spec: not valid JSON" },
                { "{\"name\":\"p\"}", "type: is required" },
                { "{\"name\":\"p\",\"type\":7}", "type: must be a string" },
                { "{\"type\":\"dir\",\"path\":\"/srv/p\"}", "name: is required" },
                { "{\"name\":\"\",\"type\":\"dir\",\"path\":\"/srv/p\"}", "name: must be 1 to 64" },
                { "{\"name\":\"-x\",\"type\":\"dir\",\"path\":\"/srv/p\"}", "name: must be 1 to 64" },
                { "{\"name\":\"p\",\"type\":\"dir\"}", "path: is required for a dir pool" },
                { "{\"name\":\"p\",\"type\":\"dir\",\"path\":\"/\"}", "path: must be an absolute path" },
                { "{\"name\":\"p\",\"type\":\"dir\",\"path\":\"/srv//p\"}", "path: must be an absolute path" },
                { "{\"name\":\"p\",\"type\":\"dir\",\"path\":\"/srv/./p\"}", "path: must be an absolute path" },
                { "{\"name\":\"p\",\"type\":\"dir\",\"path\":\"/srv/p\",\"devices\":[]}", "devices: unknown key for a dir pool" },
                { "{\"name\":\"p\",\"type\":\"nfs\",\"server\":\"h\"}", "export: is required for an nfs pool" },
                { "{\"name\":\"p\",\"type\":\"nfs\",\"server\":\"h\",\"export\":\"e\"}", "export: must be an absolute path" },
                { "{\"name\":\"p\",\"type\":\"nfs\",\"server\":\"h o\",\"export\":\"/e\"}", "server: must be a host name" },
                { "{\"name\":\"p\",\"type\":\"nfs\",\"server\":\"h\",\"export\":\"/e\",\"version\":\"3\"}", "version: must be an integer" },
                { "{\"name\":\"p\",\"type\":\"nfs\",\"server\":\"h\",\"export\":\"/e\",\"version\":2}", "version: must be between 3 and 4" },
                { "{\"name\":\"p\",\"type\":\"lvm\",\"devices\":\"/dev/sdb\"}", "devices: must be an array" },
                { "{\"name\":\"p\",\"type\":\"lvm\",\"devices\":[\"/dev/sdb\",\"/dev/sdb\"]}", "devices[1]: is listed twice" },
                { "{\"name\":\"p\",\"type\":\"lvm\",\"devices\":[\"/dev/../etc/passwd\"]}", "devices[0]: must be an absolute path" },
                { "{\"name\":\"p\",\"type\":\"lvm\",\"devices\":[\"/dev/sdb\"],\"path\":\"/x\"}", "path: unknown key for a lvm pool" },
                { "{\"name\":\"p\",\"type\":\"nfs\",\"path\":\"/x\"}", "path: unknown key for a nfs pool" },
                { "{\"name\":\"p\",\"type\":\"lvm\",\"devices\":[\"/srv/x\"]}", "devices[0]: must be a device under /dev" },
                { "{\"name\":\"p\",\"type\":\"nfs\",\"server\":\"h\",\"export\":\"/e\",\"access\":\"fuse\"}",
                  "access: must be one of mount, libnfs" },
                /* Several wrong: the first key in the spec is named, a missing one only after. */
                { "{\"type\":\"dir\",\"path\":\"/\"}", "path: must be an absolute path" },
                { "{\"path\":\"/\",\"type\":\"dir\",\"name\":\"-\"}", "path: must be an absolute path" },
                { "{\"name\":\"-\",\"type\":\"dir\",\"path\":\"/\"}", "name: must be 1 to 64" },
                { "{\"type\":\"nfs\",\"name\":\"p\"}", "server: is required for an nfs pool" },
                { "{\"type\":\"nfs\"}", "name: is required" },
                { "{\"type\":\"dir\",\"x\":1,\"path\":\"/\"}", "x: unknown key for a dir pool" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                expect_refused(cases[i].text, cases[i].error);
}

static void test_nfs_defaults(void **state) {
        PoolSpec spec = {};
        char *why = NULL;

        /* The kernel client prefers NFSv4; libnfs can only write over v3. */
        assert_int_equal(pool_spec_parse("{\"name\":\"n\",\"type\":\"nfs\",\"server\":\"10.0.0.1\",\"export\":\"/e\"}",
                                         &spec, &why), 0);
        assert_int_equal(spec.access, NFS_ACCESS_MOUNT);
        assert_int_equal(spec.nfs_version, 4);
        assert_string_equal(json_object_to_json_string_ext(spec.normalized, JSON_C_TO_STRING_NOSLASHESCAPE),
                            "{\"name\":\"n\",\"type\":\"nfs\",\"server\":\"10.0.0.1\",\"export\":\"/e\",\"version\":4,"
                            "\"access\":\"mount\"}");
        pool_spec_done(&spec);
        assert_int_equal(pool_spec_parse("{\"name\":\"n\",\"type\":\"nfs\",\"server\":\"h\",\"export\":\"/e\","
                                         "\"access\":\"libnfs\"}", &spec, &why), 0);
        assert_int_equal(spec.nfs_version, 3);
        pool_spec_done(&spec);
}

static void test_round_trip(void **state) {
        PoolSpec spec = {}, again = {};
        char *source, *why = NULL;

        assert_int_equal(pool_spec_parse("{\"type\":\"lvm\",\"devices\":[\"/dev/sdb\",\"/dev/sdc\"],\"name\":\"vg1\"}",
                                         &spec, &why), 0);
        source = pool_spec_source(&spec);
        assert_string_equal(source, "/dev/sdb,/dev/sdc");
        free(source);
        /* What the agent keeps reads back as the same pool. */
        assert_int_equal(pool_spec_from_json(spec.normalized, &again, &why), 0);
        assert_string_equal(again.name, "vg1");
        assert_int_equal(again.n_devices, 2);
        assert_string_equal(again.devices[1], "/dev/sdc");
        pool_spec_done(&spec);
        pool_spec_done(&again);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_refusals),
                cmocka_unit_test(test_nfs_defaults),
                cmocka_unit_test(test_round_trip),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
