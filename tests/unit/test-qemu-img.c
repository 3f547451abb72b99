/* qemu-img: the info report read back (sizes, format, backing file), convert's progress, the arguments it gets */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fake-command.h"
#include "macro.h"
#include "qemu-img.h"

#define TIMEOUT (10 * 1000 * 1000)

/* Recorded from qemu-img 7.2 (Debian 12): info --output=json -U of a qcow2
 * overlay on a raw base, of the base, and of an overlay whose backing file's
 * name holds the byte 0xff (qemu-img printed it as U+FFFD). */
static const char info_overlay[] =
        "{\n"
        "    \"backing-filename-format\": \"raw\",\n"
        "    \"virtual-size\": 33554432,\n"
        "    \"filename\": \"over.qcow2\",\n"
        "    \"cluster-size\": 65536,\n"
        "    \"format\": \"qcow2\",\n"
        "    \"actual-size\": 200704,\n"
        "    \"format-specific\": {\n"
        "        \"type\": \"qcow2\",\n"
        "        \"data\": {\n"
        "            \"compat\": \"1.1\",\n"
        "            \"compression-type\": \"zlib\",\n"
        "            \"lazy-refcounts\": false,\n"
        "            \"refcount-bits\": 16,\n"
        "            \"corrupt\": false,\n"
        "            \"extended-l2\": false\n"
        "        }\n"
        "    },\n"
        "    \"full-backing-filename\": \"/tmp/unit-libs-rec/base.img\",\n"
        "    \"backing-filename\": \"/tmp/unit-libs-rec/base.img\",\n"
        "    \"dirty-flag\": false\n"
        "}\n";

static const char info_raw[] =
        "{\n"
        "    \"virtual-size\": 16777216,\n"
        "    \"filename\": \"base.img\",\n"
        "    \"format\": \"raw\",\n"
        "    \"actual-size\": 4096,\n"
        "    \"dirty-flag\": false\n"
        "}\n";

static const char info_replaced[] =
        "{\n"
        "    \"backing-filename-format\": \"raw\",\n"
        "    \"virtual-size\": 16777216,\n"
        "    \"filename\": \"weird.qcow2\",\n"
        "    \"format\": \"qcow2\",\n"
        "    \"actual-size\": 200704,\n"
        "    \"full-backing-filename\": \"/tmp/unit-libs-rec/b\\uFFFDse.img\",\n"
        "    \"backing-filename\": \"/tmp/unit-libs-rec/b\\uFFFDse.img\",\n"
        "    \"dirty-flag\": false\n"
        "}\n";

/* What "qemu-img convert -p" printed for a 16 MiB copy. */
static const char convert_progress[] = "    (0.00/100%)\r    (100.00/100%)\r    (100.00/100%)\r\n";

static void test_info_overlay(void **state) {
        FakeCommands *f = *state;
        VolumeInfo v = { .name = strdup("over") };

        fake_command(f, "qemu-img", info_overlay, NULL, 0);
        assert_int_equal(qemu_img_info("/srv/pool/over.qcow2", TIMEOUT, &v, NULL), 0);
        assert_string_equal(v.name, "over");         /* not qemu-img's to say */
        assert_string_equal(v.format, "qcow2");
        assert_int_equal(v.capacity, 33554432);
        assert_int_equal(v.allocation, 200704);
        assert_string_equal(v.backing, "/tmp/unit-libs-rec/base.img");
        /* -U: a running guest's lock does not stop the read; --: a name is never an option. */
        assert_fake_ran(f, "qemu-img [info] [--output=json] [-U] [--] [/srv/pool/over.qcow2]\n");

        /* The same VolumeInfo read again, now of an image without a backing file. */
        fake_command(f, "qemu-img", info_raw, NULL, 0);
        assert_int_equal(qemu_img_info("/srv/pool/base.img", TIMEOUT, &v, NULL), 0);
        assert_string_equal(v.format, "raw");
        assert_int_equal(v.capacity, 16777216);
        assert_int_equal(v.allocation, 4096);
        assert_null(v.backing);
        volume_info_done(&v);
}

static void test_info_backing_names(void **state) {
        FakeCommands *f = *state;
        VolumeInfo v = {};

        /* The full name wins over the one written in the image (relative to it). */
        fake_command(f, "qemu-img", "{\"format\":\"qcow2\",\"virtual-size\":1,\"backing-filename\":\"base.img\","
                                    "\"full-backing-filename\":\"/srv/pool/base.img\"}", NULL, 0);
        assert_int_equal(qemu_img_info("x", TIMEOUT, &v, NULL), 0);
        assert_string_equal(v.backing, "/srv/pool/base.img");
        /* Only the written one: taken as it is. */
        fake_command(f, "qemu-img", "{\"format\":\"qcow2\",\"virtual-size\":1,\"backing-filename\":\"base.img\"}",
                     NULL, 0);
        assert_int_equal(qemu_img_info("x", TIMEOUT, &v, NULL), 0);
        assert_string_equal(v.backing, "base.img");
        /* An NFS backing file is a URI. */
        fake_command(f, "qemu-img", "{\"format\":\"qcow2\",\"virtual-size\":1,"
                                    "\"full-backing-filename\":\"nfs://127.0.0.1/export/base.qcow2\"}", NULL, 0);
        assert_int_equal(qemu_img_info("nfs://127.0.0.1/export/over.qcow2", TIMEOUT, &v, NULL), 0);
        assert_string_equal(v.backing, "nfs://127.0.0.1/export/base.qcow2");
        volume_info_done(&v);
}

static void test_info_backing_not_utf8(void **state) {
        static const char raw_byte[] = "{\"format\":\"qcow2\",\"virtual-size\":1,\"full-backing-filename\":\"/b\xff.img\"}";
        FakeCommands *f = *state;
        VolumeInfo v = {};

        /* What qemu-img 7.2 prints: U+FFFD already. */
        fake_command(f, "qemu-img", info_replaced, NULL, 0);
        assert_int_equal(qemu_img_info("weird.qcow2", TIMEOUT, &v, NULL), 0);
        assert_string_equal(v.backing, "/tmp/unit-libs-rec/b\xef\xbf\xbdse.img");
        /* A qemu-img that passed the byte through: it still never reaches the bus. */
        fake_command_bytes(f, "qemu-img", raw_byte, sizeof raw_byte - 1, NULL, 0);
        assert_int_equal(qemu_img_info("weird.qcow2", TIMEOUT, &v, NULL), 0);
        assert_string_equal(v.backing, "/b\xef\xbf\xbd.img");
        /* A character D-Bus strings refuse, escaped in the JSON. */
        fake_command(f, "qemu-img", "{\"format\":\"qcow2\",\"virtual-size\":1,\"backing-filename\":\"/b\\ufdd0\"}", NULL,
                     0);
        assert_int_equal(qemu_img_info("weird.qcow2", TIMEOUT, &v, NULL), 0);
        assert_string_equal(v.backing, "/b\xef\xbf\xbd");
        volume_info_done(&v);
}

static void test_info_fails(void **state) {
        FakeCommands *f = *state;
        VolumeInfo v = {};
        char *message = NULL;

        fake_command(f, "qemu-img", NULL,
                     "qemu-img: Could not open 'missing.qcow2': Could not open 'missing.qcow2': "
                     "No such file or directory\n", 1);
        assert_int_equal(qemu_img_info("missing.qcow2", TIMEOUT, &v, &message), -EIO);
        assert_non_null(strstr(message, "No such file or directory"));
        free(message);
        assert_null(v.format);
}

static void test_info_unreadable(void **state) {
        static const char *const unreadable[] = {
                "",
                "image: x.qcow2\nfile format: qcow2\n",          /* the human format */
                "{\"format\": \"qcow2\"",                       /* cut short */
                "[]",
                "{}",
                "{\"virtual-size\": 1}",
                "{\"format\": null, \"virtual-size\": 1}",
                "{\"format\": 7, \"virtual-size\": 1}",
                "{\"format\": [\"qcow2\"], \"virtual-size\": 1}",
        };
        FakeCommands *f = *state;

        for (size_t i = 0; i < ELEMENTSOF(unreadable); i++) {
                VolumeInfo v = {};
                char *message = NULL;
                int r;

                fake_command(f, "qemu-img", unreadable[i], NULL, 0);
                r = qemu_img_info("x", TIMEOUT, &v, &message);
                if (r != -EIO || !message || !streq(message, "qemu-img info printed no report that can be read"))
                        fail_msg("report '%s': wanted -EIO and a message, got %d '%s'", unreadable[i], r,
                                 strempty(message));
                free(message);
                volume_info_done(&v);
        }
}

static void test_info_sizes(void **state) {
        /* A size that is there must be a byte count. */
        static const char *const bad[] = { "-1", "-9223372036854775809", "18446744073709551616", "1.5", "\"1\"",
                                           "null", "true", "[]" };
        FakeCommands *f = *state;
        VolumeInfo v = {};

        /* No actual-size: qemu-img leaves it out when the protocol cannot tell. */
        fake_command(f, "qemu-img", "{\"format\":\"raw\",\"virtual-size\":9223372036854775807}", NULL, 0);
        assert_int_equal(qemu_img_info("x", TIMEOUT, &v, NULL), 0);
        assert_true(v.capacity == INT64_MAX);
        assert_int_equal(v.allocation, 0);
        volume_info_done(&v);

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                static const char *const keys[] = { "virtual-size", "actual-size" };

                for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
                        _cleanup_(freep) char *report = NULL;
                        char *message = NULL;
                        int r;

                        assert_true(asprintf(&report, "{\"format\":\"raw\",%s\"%s\":%s}",
                                             k ? "\"virtual-size\":1," : "", keys[k], bad[i]) > 0);
                        fake_command(f, "qemu-img", report, NULL, 0);
                        r = qemu_img_info("x", TIMEOUT, &v, &message);
                        if (r != -EIO || !message)
                                fail_msg("%s: wanted -EIO, got %d (capacity %llu, allocation %llu)", report, r,
                                         (unsigned long long) v.capacity, (unsigned long long) v.allocation);
                        free(message);
                        volume_info_done(&v);
                }
        }
}

static void record_progress(unsigned percent, void *userdata) {
        char *seen = userdata;

        snprintf(seen + strlen(seen), 64 - strlen(seen), "%u ", percent);
}

static void test_convert_progress(void **state) {
        FakeCommands *f = *state;
        char seen[64] = "";

        fake_command(f, "qemu-img", convert_progress, NULL, 0);
        assert_int_equal(qemu_img_convert("/srv/a.img", "raw", "/srv/b.qcow2", "qcow2", false, TIMEOUT, record_progress,
                                          seen, NULL, NULL), 0);
        /* All of it came in one read: the latest percentage counts. */
        assert_string_equal(seen, "100 ");
        assert_fake_ran(f, "qemu-img [convert] [-p] [-f] [raw] [-O] [qcow2] [--] [/srv/a.img] [/srv/b.qcow2]\n");

        /* Into an existing block device: written in place (-n). */
        fake_commands_log_clear(f);
        assert_int_equal(qemu_img_convert("/srv/a.img", "raw", "/dev/vg0/b", "raw", true, TIMEOUT, NULL, NULL, NULL,
                                          NULL), 0);
        assert_fake_ran(f, "qemu-img [convert] [-p] [-f] [raw] [-O] [raw] [-n] [--] [/srv/a.img] [/dev/vg0/b]\n");
}

static void test_convert_progress_steps(void **state) {
        FakeCommands *f = *state;
        char seen[64] = "";

        /* One update at a time, as qemu-img writes them; what is not a percentage is passed over. */
        fake_command_script_body(f, "qemu-img",
                                 "for p in 0.00 12.50 12.99 37.20 x 250.00 -5.00 100.00; do\n"
                                 "  printf '    (%s/100%%)\\r' $p; sleep 0.05\n"
                                 "done\n");
        assert_int_equal(qemu_img_convert("a", "raw", "b", "raw", false, TIMEOUT, record_progress, seen, NULL, NULL),
                         0);
        assert_string_equal(seen, "0 12 37 100 ");
}

static void test_convert_fails(void **state) {
        FakeCommands *f = *state;
        char *message = NULL;

        fake_command(f, "qemu-img", "    (0.00/100%)\r",
                     "qemu-img: error while writing at byte 0: No space left on device\n", 1);
        assert_int_equal(qemu_img_convert("a", "raw", "b", "raw", false, TIMEOUT, NULL, NULL, NULL, &message), -EIO);
        assert_string_equal(message, "qemu-img: error while writing at byte 0: No space left on device");
        message = mfree(message);

        /* Failed without a word. */
        fake_command(f, "qemu-img", NULL, NULL, 1);
        assert_int_equal(qemu_img_convert("a", "raw", "b", "raw", false, TIMEOUT, NULL, NULL, NULL, &message), -EIO);
        assert_string_equal(message, "qemu-img convert failed");
        free(message);
}

static void test_convert_cancel(void **state) {
        FakeCommands *f = *state;
        atomic_bool cancel = true;
        char *message = NULL;

        /* A copy that would take a minute: cancelling ends it, not the deadline. */
        fake_command_script_body(f, "qemu-img", "printf '    (1.00/100%%)\\r'; exec sleep 60");
        assert_int_equal(qemu_img_convert("a", "raw", "b", "raw", false, 120ULL * 1000 * 1000, NULL, NULL, &cancel,
                                          &message), -ECANCELED);
        assert_string_equal(message, "cancelled");
        free(message);
}

static void test_create_and_resize_arguments(void **state) {
        FakeCommands *f = *state;

        fake_command(f, "qemu-img", NULL, NULL, 0);
        assert_int_equal(qemu_img_create("-odd.qcow2", "qcow2", 1073741824, "/srv/base.img", "raw", NULL, TIMEOUT,
                                         NULL), 0);
        assert_int_equal(qemu_img_create("/srv/r.img", "raw", 1048576, NULL, NULL, "falloc", TIMEOUT, NULL), 0);
        assert_int_equal(qemu_img_resize("/srv/r.img", "raw", 2097152, TIMEOUT, NULL), 0);
        assert_fake_ran(f, "qemu-img [create] [-q] [-f] [qcow2] [-b] [/srv/base.img] [-F] [raw] [--] [-odd.qcow2] "
                      "[1073741824]\n"
                      "qemu-img [create] [-q] [-f] [raw] [-o] [preallocation=falloc] [--] [/srv/r.img] [1048576]\n"
                      "qemu-img [resize] [-q] [-f] [raw] [--] [/srv/r.img] [2097152]\n");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                fake_commands_unit_test(test_info_overlay),
                fake_commands_unit_test(test_info_backing_names),
                fake_commands_unit_test(test_info_backing_not_utf8),
                fake_commands_unit_test(test_info_fails),
                fake_commands_unit_test(test_info_unreadable),
                fake_commands_unit_test(test_info_sizes),
                fake_commands_unit_test(test_convert_progress),
                fake_commands_unit_test(test_convert_progress_steps),
                fake_commands_unit_test(test_convert_fails),
                fake_commands_unit_test(test_convert_cancel),
                fake_commands_unit_test(test_create_and_resize_arguments),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
