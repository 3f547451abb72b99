/* LVM: the reports lvm2 prints, read back; what lacks the agent's tag is never shown or changed */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fake-command.h"
#include "lvm.h"
#include "macro.h"

#define TIMEOUT (10 * 1000 * 1000)

/* Recorded from lvm2 2.03.16 (Debian 12) on a loop device:
 * vgs/lvs -o ... --units b --nosuffix --reportformat json. */
static const char vgs_ours[] =
        "  {\n"
        "      \"report\": [\n"
        "          {\n"
        "              \"vg\": [\n"
        "                  {\"vg_name\":\"unitlibsvg\", \"vg_tags\":\"org.hostagent1,other\", \"vg_attr\":\"wz--n-\", "
        "\"vg_size\":\"62914560\", \"vg_free\":\"41943040\"}\n"
        "              ]\n"
        "          }\n"
        "      ]\n"
        "  }\n";

static const char lvs_mixed[] =
        "  {\n"
        "      \"report\": [\n"
        "          {\n"
        "              \"lv\": [\n"
        "                  {\"lv_name\":\"foreign\", \"lv_size\":\"4194304\", \"lv_tags\":\"\"},\n"
        "                  {\"lv_name\":\"lookalike\", \"lv_size\":\"4194304\", \"lv_tags\":\"org.hostagent1x,xorg.hostagent1\"},\n"
        "                  {\"lv_name\":\"ours\", \"lv_size\":\"8388608\", \"lv_tags\":\"org.hostagent1\"},\n"
        "                  {\"lv_name\":\"shared\", \"lv_size\":\"4194304\", \"lv_tags\":\"a,org.hostagent1,z\"}\n"
        "              ]\n"
        "          }\n"
        "      ]\n"
        "  }\n";

static const char pvs_in_vg[] =
        "  {\n      \"report\": [\n          {\n              \"pv\": [\n"
        "                  {\"pv_name\":\"/dev/loop0\", \"vg_name\":\"unitlibsvg\"}\n"
        "              ]\n          }\n      ]\n  }\n";

static const char empty_vg_report[] = "  {\n      \"report\": [\n          {\n              \"vg\": [\n"
                                      "              ]\n          }\n      ]\n  }\n";

/* Reports that no lvm2 prints, but a broken or different one might. */
static const char *const unreadable[] = {
        "",
        "not json at all",
        "{\"report\": [{\"vg\": [",                     /* cut short */
        "{}",
        "[]",
        "{\"report\": []}",
        "{\"report\": {}}",
        "{\"report\": null}",
        "{\"report\": \"vg\"}",
        "{\"report\": [null]}",
        "{\"report\": [{\"lv\": []}]}",                 /* the wrong kind */
        "{\"report\": [{\"vg\": {}}]}",
        "{\"report\": [{\"vg\": null}]}",
};

static void test_vg_report(void **state) {
        FakeCommands *f = *state;
        LvmVg vg = {};

        fake_command(f, "vgs", vgs_ours, NULL, 0);
        assert_int_equal(lvm_vg_get("unitlibsvg", TIMEOUT, &vg, NULL), 0);
        assert_true(vg.exists);
        assert_true(vg.ours);
        assert_false(vg.partial);
        assert_int_equal(vg.size, 62914560);
        assert_int_equal(vg.free, 41943040);
        assert_fake_ran(f, "vgs [-o] [vg_name,vg_tags,vg_attr,vg_size,vg_free] [--units] [b] [--nosuffix] "
                      "[--reportformat] [json] [--] [unitlibsvg]\n");
}

static void expect_vg(const FakeCommands *f, const char *row, bool ours, bool partial) {
        _cleanup_(freep) char *report = NULL;
        LvmVg vg = {};

        assert_true(asprintf(&report, "{\"report\": [{\"vg\": [{\"vg_size\":\"1\", \"vg_free\":\"0\"%s%s}]}]}",
                             *row ? ", " : "", row) > 0);
        fake_command(f, "vgs", report, NULL, 0);
        assert_int_equal(lvm_vg_get("vg0", TIMEOUT, &vg, NULL), 0);
        assert_true(vg.exists);
        if (vg.ours != ours || vg.partial != partial)
                fail_msg("%s: wanted ours=%d partial=%d, got %d %d", row, ours, partial, vg.ours, vg.partial);
}

static void test_vg_tags_and_attributes(void **state) {
        FakeCommands *f = *state;

        expect_vg(f, "\"vg_name\":\"vg0\", \"vg_tags\":\"\", \"vg_attr\":\"wz--n-\"", false, false);
        expect_vg(f, "\"vg_name\":\"vg0\", \"vg_tags\":\"org.hostagent1\", \"vg_attr\":\"wz-pn-\"", true, true);
        expect_vg(f, "\"vg_name\":\"vg0\", \"vg_tags\":\"z,org.hostagent1\", \"vg_attr\":\"wz--n-\"", true, false);
        /* Only the tag itself: a prefix, a longer name or a part of one is someone else's. */
        expect_vg(f, "\"vg_name\":\"vg0\", \"vg_tags\":\"org.hostagent1x,xorg.hostagent1\"", false, false);
        expect_vg(f, "\"vg_name\":\"vg0\", \"vg_tags\":\"org.hostagent\"", false, false);
        expect_vg(f, "\"vg_name\":\"vg0\", \"vg_tags\":\"org.hostagent1.old\"", false, false);
        expect_vg(f, "\"vg_name\":\"vg0\", \"vg_tags\":\",,\"", false, false);
        /* Fields missing, or not strings: never ours, never a crash. */
        expect_vg(f, "\"vg_name\":\"vg0\"", false, false);
        expect_vg(f, "", false, false);
        expect_vg(f, "\"vg_tags\":[\"org.hostagent1\"]", false, false);
        expect_vg(f, "\"vg_tags\":null, \"vg_attr\":null, \"vg_name\":null", false, false);
        expect_vg(f, "\"vg_attr\":\"wz\"", false, false);
}

static void test_vg_missing(void **state) {
        FakeCommands *f = *state;
        LvmVg vg = { .exists = true, .ours = true };
        char *message = NULL;

        /* What vgs says, and exits 5, for a VG that is not there. */
        fake_command(f, "vgs", empty_vg_report, "  Volume group \"nosuchvg\" not found\n"
                                                "  Cannot process volume group nosuchvg\n", 5);
        assert_int_equal(lvm_vg_get("nosuchvg", TIMEOUT, &vg, &message), 0);
        assert_false(vg.exists);
        assert_false(vg.ours);
        assert_null(message);
        vg = (LvmVg) { .exists = true };
        fake_command(f, "vgs", empty_vg_report, NULL, 0);
        assert_int_equal(lvm_vg_get("nosuchvg", TIMEOUT, &vg, &message), 0);
        assert_false(vg.exists);
}

static void test_vg_command_fails(void **state) {
        FakeCommands *f = *state;
        LvmVg vg = {};
        char *message = NULL;

        fake_command(f, "vgs", "", "  Device /dev/loop7 has no label.\n", 5);
        assert_int_equal(lvm_vg_get("vg0", TIMEOUT, &vg, &message), -EIO);
        assert_non_null(message);
        assert_non_null(strstr(message, "Device /dev/loop7 has no label."));
        free(message);
}

static void test_vg_unreadable_reports(void **state) {
        FakeCommands *f = *state;

        for (size_t i = 0; i < ELEMENTSOF(unreadable); i++) {
                LvmVg vg = {};
                char *message = NULL;
                int r;

                fake_command(f, "vgs", unreadable[i], NULL, 0);
                r = lvm_vg_get("vg0", TIMEOUT, &vg, &message);
                if (r != -EIO || !message || !streq(message, "vgs printed no report that can be read"))
                        fail_msg("report '%s': wanted -EIO and a message, got %d '%s'", unreadable[i], r,
                                 strempty(message));
                free(message);
        }
}

static void test_lv_list_shows_only_ours(void **state) {
        FakeCommands *f = *state;
        VolumeInfo *v = NULL;
        size_t n = 0;

        fake_command(f, "lvs", lvs_mixed, NULL, 0);
        assert_int_equal(lvm_lv_list("unitlibsvg", TIMEOUT, &v, &n, NULL), 0);
        assert_int_equal(n, 2);
        assert_string_equal(v[0].name, "ours");
        assert_string_equal(v[0].format, "raw");
        assert_int_equal(v[0].capacity, 8388608);
        assert_int_equal(v[0].allocation, 8388608);
        assert_null(v[0].backing);
        assert_string_equal(v[1].name, "shared");
        assert_int_equal(v[1].capacity, 4194304);
        volume_info_array_free(v, n);
        assert_fake_ran(f, "lvs [-o] [lv_name,lv_size,lv_tags] [--units] [b] [--nosuffix] [--reportformat] [json] "
                      "[--] [unitlibsvg]\n");
}

static void test_lv_list_empty_and_bad(void **state) {
        FakeCommands *f = *state;
        VolumeInfo *v = NULL;
        size_t n = 42;
        char *message = NULL;

        fake_command(f, "lvs", "{\"report\": [{\"lv\": []}]}", NULL, 0);
        assert_int_equal(lvm_lv_list("vg0", TIMEOUT, &v, &n, NULL), 0);
        assert_int_equal(n, 0);
        volume_info_array_free(v, n);

        /* Rows with fields missing or of another type: an LV without the tag, left out. */
        fake_command(f, "lvs", "{\"report\": [{\"lv\": [{}, null, 7, {\"lv_name\":\"x\"}, "
                               "{\"lv_name\":null, \"lv_tags\":null}, {\"lv_tags\":[\"org.hostagent1\"]}]}]}",
                     NULL, 0);
        assert_int_equal(lvm_lv_list("vg0", TIMEOUT, &v, &n, NULL), 0);
        assert_int_equal(n, 0);
        volume_info_array_free(v, n);

        fake_command(f, "lvs", "", "  Volume group \"vg0\" not found\n", 5);
        assert_int_equal(lvm_lv_list("vg0", TIMEOUT, &v, &n, &message), -EIO);
        assert_non_null(strstr(message, "Volume group \"vg0\" not found"));
        free(message);

        for (size_t i = 0; i < ELEMENTSOF(unreadable); i++) {
                /* The same damage, as an lv report. */
                _cleanup_(freep) char *report = strdup(unreadable[i]);
                char *vg = strstr(report, "\"vg\"");
                int r;

                if (vg)
                        memcpy(vg, "\"lv\"", 4);
                else if (strstr(report, "\"lv\""))
                        continue;   /* the right kind here */
                message = NULL;
                fake_command(f, "lvs", report, NULL, 0);
                r = lvm_lv_list("vg0", TIMEOUT, &v, &n, &message);
                if (r != -EIO || !message || !streq(message, "lvs printed no report that can be read"))
                        fail_msg("report '%s': wanted -EIO and a message, got %d '%s'", report, r, strempty(message));
                free(message);
        }
}

static void test_sizes(void **state) {
        /* A size that is not a byte count lvm2 could print makes the report unreadable. */
        static const char *const bad[] = { "\"-1\"", "\"18446744073709551616\"", "\"12M\"", "\"\"", "\"0x10\"",
                                           "\" 5\"", "\"5 \"", "1.5", "null" };
        FakeCommands *f = *state;
        LvmVg vg = {};

        fake_command(f, "vgs", "{\"report\":[{\"vg\":[{\"vg_free\":\"0\"}]}]}", NULL, 0);
        assert_int_equal(lvm_vg_get("vg0", TIMEOUT, &vg, NULL), -EIO);
        fake_command(f, "vgs", "{\"report\":[{\"vg\":[{\"vg_size\":\"18446744073709551615\", \"vg_free\":\"0\"}]}]}",
                     NULL, 0);
        assert_int_equal(lvm_vg_get("vg0", TIMEOUT, &vg, NULL), 0);
        assert_true(vg.size == UINT64_MAX);
        assert_int_equal(vg.free, 0);

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(freep) char *vgs = NULL, *lvs = NULL;
                VolumeInfo *v = NULL;
                size_t n = 0;
                char *message = NULL;
                int r;

                assert_true(asprintf(&vgs, "{\"report\":[{\"vg\":[{\"vg_size\":%s, \"vg_free\":\"0\"}]}]}", bad[i]) > 0);
                fake_command(f, "vgs", vgs, NULL, 0);
                r = lvm_vg_get("vg0", TIMEOUT, &vg, &message);
                if (r != -EIO || !message)
                        fail_msg("vg_size %s: wanted -EIO, got %d (size %llu)", bad[i], r, (unsigned long long) vg.size);
                message = mfree(message);

                assert_true(asprintf(&lvs, "{\"report\":[{\"lv\":[{\"lv_name\":\"x\", \"lv_tags\":\"org.hostagent1\", "
                                           "\"lv_size\":%s}]}]}", bad[i]) > 0);
                fake_command(f, "lvs", lvs, NULL, 0);
                r = lvm_lv_list("vg0", TIMEOUT, &v, &n, &message);
                if (r != -EIO || !message)
                        fail_msg("lv_size %s: wanted -EIO, got %d", bad[i], r);
                free(message);
        }
}

static void test_untagged_lv_is_never_changed(void **state) {
        static const char *const not_ours[] = { "foreign", "lookalike", "missing" };
        FakeCommands *f = *state;

        fake_command(f, "lvs", lvs_mixed, NULL, 0);
        fake_command(f, "lvremove", NULL, NULL, 0);
        fake_command(f, "lvextend", NULL, NULL, 0);
        for (size_t i = 0; i < ELEMENTSOF(not_ours); i++) {
                _cleanup_(freep) char *wanted = NULL;
                char *message = NULL;

                fake_commands_log_clear(f);
                assert_int_equal(lvm_lv_remove("unitlibsvg", not_ours[i], TIMEOUT, &message), -ENOENT);
                assert_true(asprintf(&wanted, "no logical volume unitlibsvg/%s tagged org.hostagent1", not_ours[i]) > 0);
                assert_string_equal(message, wanted);
                message = mfree(message);
                assert_int_equal(lvm_lv_extend("unitlibsvg", not_ours[i], 1 << 24, TIMEOUT, &message), -ENOENT);
                assert_string_equal(message, wanted);
                free(message);
                /* Only looked at: lvremove and lvextend never ran. */
                assert_fake_ran(f, "lvs [-o] [lv_name,lv_size,lv_tags] [--units] [b] [--nosuffix] [--reportformat] [json] "
                              "[--] [unitlibsvg]\n"
                              "lvs [-o] [lv_name,lv_size,lv_tags] [--units] [b] [--nosuffix] [--reportformat] [json] "
                              "[--] [unitlibsvg]\n");
        }
}

static void test_tagged_lv_is_changed(void **state) {
        FakeCommands *f = *state;

        fake_command(f, "lvs", lvs_mixed, NULL, 0);
        fake_command(f, "lvremove", NULL, NULL, 0);
        fake_command(f, "lvextend", NULL, NULL, 0);
        assert_int_equal(lvm_lv_extend("unitlibsvg", "shared", 16777216, TIMEOUT, NULL), 0);
        assert_int_equal(lvm_lv_remove("unitlibsvg", "ours", TIMEOUT, NULL), 0);
        assert_fake_ran(f, "lvs [-o] [lv_name,lv_size,lv_tags] [--units] [b] [--nosuffix] [--reportformat] [json] "
                      "[--] [unitlibsvg]\n"
                      "lvextend [-L] [16777216b] [--] [unitlibsvg/shared]\n"
                      "lvs [-o] [lv_name,lv_size,lv_tags] [--units] [b] [--nosuffix] [--reportformat] [json] "
                      "[--] [unitlibsvg]\n"
                      "lvremove [--yes] [--] [unitlibsvg/ours]\n");
}

static void test_lv_create_tags(void **state) {
        FakeCommands *f = *state;

        fake_command(f, "lvcreate", NULL, NULL, 0);
        assert_int_equal(lvm_lv_create("vg0", "disk1", 8388608, true, TIMEOUT, NULL), 0);
        assert_int_equal(lvm_lv_create("vg0", "disk2", 4194304, false, TIMEOUT, NULL), 0);
        assert_fake_ran(f, "lvcreate [--yes] [--addtag] [org.hostagent1] [-n] [disk1] [-L] [8388608b] [--] [vg0]\n"
                      "lvcreate [--addtag] [org.hostagent1] [-an] [-Zn] [-n] [disk2] [-L] [4194304b] [--] [vg0]\n");
}

static void test_untagged_vg_is_never_removed(void **state) {
        char *devices[] = { "/dev/loop0", "/dev/loop1" };
        FakeCommands *f = *state;
        char *message = NULL;

        fake_command(f, "vgs", "{\"report\":[{\"vg\":[{\"vg_name\":\"vg0\", \"vg_tags\":\"org.hostagent1x\", "
                               "\"vg_attr\":\"wz--n-\", \"vg_size\":\"1\", \"vg_free\":\"1\"}]}]}", NULL, 0);
        fake_command(f, "vgremove", NULL, NULL, 0);
        fake_command(f, "pvremove", NULL, NULL, 0);
        assert_int_equal(lvm_vg_remove("vg0", devices, 2, TIMEOUT, &message), -ERRNO_INVALID_STATE);
        assert_string_equal(message, "volume group vg0 is not tagged org.hostagent1: not the agent's to remove");
        free(message);
        assert_fake_ran(f, "vgs [-o] [vg_name,vg_tags,vg_attr,vg_size,vg_free] [--units] [b] [--nosuffix] "
                      "[--reportformat] [json] [--] [vg0]\n");

        /* Ours: the VG goes, then the labels of its PVs. */
        fake_commands_log_clear(f);
        fake_command(f, "vgs", vgs_ours, NULL, 0);
        assert_int_equal(lvm_vg_remove("unitlibsvg", devices, 2, TIMEOUT, NULL), 0);
        assert_fake_ran(f, "vgs [-o] [vg_name,vg_tags,vg_attr,vg_size,vg_free] [--units] [b] [--nosuffix] "
                      "[--reportformat] [json] [--] [unitlibsvg]\n"
                      "vgremove [--] [unitlibsvg]\n"
                      "pvremove [--] [/dev/loop0] [/dev/loop1]\n");

        /* Gone already: done, nothing else runs. */
        fake_commands_log_clear(f);
        fake_command(f, "vgs", empty_vg_report, "  Volume group \"vg0\" not found\n", 5);
        assert_int_equal(lvm_vg_remove("vg0", devices, 2, TIMEOUT, NULL), 0);
        assert_fake_ran(f, "vgs [-o] [vg_name,vg_tags,vg_attr,vg_size,vg_free] [--units] [b] [--nosuffix] "
                      "[--reportformat] [json] [--] [vg0]\n");
}

static void test_vg_create(void **state) {
        char *devices[] = { "/dev/loop0" };
        FakeCommands *f = *state;
        char *message = NULL;

        fake_command(f, "pvcreate", NULL, NULL, 0);
        fake_command(f, "vgcreate", NULL, NULL, 0);
        fake_command(f, "pvremove", NULL, NULL, 0);
        assert_int_equal(lvm_vg_create("vg0", devices, 1, TIMEOUT, NULL), 0);
        assert_fake_ran(f, "pvcreate [--] [/dev/loop0]\n"
                      "vgcreate [--addtag] [org.hostagent1] [--] [vg0] [/dev/loop0]\n");

        /* vgcreate refused: the device is given back as it was. */
        fake_commands_log_clear(f);
        fake_command(f, "vgcreate", NULL, "  A volume group called vg0 already exists.\n", 5);
        assert_int_equal(lvm_vg_create("vg0", devices, 1, TIMEOUT, &message), -EIO);
        assert_non_null(strstr(message, "already exists"));
        free(message);
        assert_fake_ran(f, "pvcreate [--] [/dev/loop0]\n"
                      "vgcreate [--addtag] [org.hostagent1] [--] [vg0] [/dev/loop0]\n"
                      "pvremove [--] [/dev/loop0]\n");
}

static void test_pv_vg(void **state) {
        FakeCommands *f = *state;
        char *vg = NULL, *message = NULL;

        fake_command(f, "pvs", pvs_in_vg, NULL, 0);
        assert_int_equal(lvm_pv_vg("/dev/loop0", TIMEOUT, &vg, NULL), 0);
        assert_string_equal(vg, "unitlibsvg");
        vg = mfree(vg);
        assert_fake_ran(f, "pvs [-o] [pv_name,vg_name] [--units] [b] [--nosuffix] [--reportformat] [json] [--] "
                      "[/dev/loop0]\n");

        /* A PV in no VG. */
        fake_command(f, "pvs", "{\"report\":[{\"pv\":[{\"pv_name\":\"/dev/loop0\", \"vg_name\":\"\"}]}]}", NULL, 0);
        vg = (char *) "untouched";
        assert_int_equal(lvm_pv_vg("/dev/loop0", TIMEOUT, &vg, NULL), 0);
        assert_null(vg);

        /* Not a PV at all. */
        fake_command(f, "pvs", "", "  Failed to find physical volume \"/dev/loop3\".\n", 5);
        assert_int_equal(lvm_pv_vg("/dev/loop3", TIMEOUT, &vg, &message), -ENOENT);

        fake_command(f, "pvs", "", "  Cannot use /dev/null: device not found\n", 5);
        assert_int_equal(lvm_pv_vg("/dev/null", TIMEOUT, &vg, &message), -EIO);
        assert_non_null(strstr(message, "Cannot use /dev/null: device not found"));
        message = mfree(message);

        fake_command(f, "pvs", "{\"report\":[{\"pv\":[]}]}", NULL, 0);
        assert_int_equal(lvm_pv_vg("/dev/loop0", TIMEOUT, &vg, &message), -EIO);
        assert_string_equal(message, "pvs printed no report that can be read");
        message = mfree(message);

        fake_command(f, "pvs", "{\"report\":{\"pv\":[]}}", NULL, 0);
        assert_int_equal(lvm_pv_vg("/dev/loop0", TIMEOUT, &vg, &message), -EIO);
        free(message);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                fake_commands_unit_test(test_vg_report),
                fake_commands_unit_test(test_vg_tags_and_attributes),
                fake_commands_unit_test(test_vg_missing),
                fake_commands_unit_test(test_vg_command_fails),
                fake_commands_unit_test(test_vg_unreadable_reports),
                fake_commands_unit_test(test_lv_list_shows_only_ours),
                fake_commands_unit_test(test_lv_list_empty_and_bad),
                fake_commands_unit_test(test_sizes),
                fake_commands_unit_test(test_untagged_lv_is_never_changed),
                fake_commands_unit_test(test_tagged_lv_is_changed),
                fake_commands_unit_test(test_lv_create_tags),
                fake_commands_unit_test(test_untagged_vg_is_never_removed),
                fake_commands_unit_test(test_vg_create),
                fake_commands_unit_test(test_pv_vg),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
