/* hostagentctl's sizes, durations and JSON tables, without a bus */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl-output.h"
#include "ctl.h"

CtlArgs arg = { .legend = true };

static void test_parse_size(void **state) {
        static const struct { const char *text; uint64_t bytes; } good[] = {
                { "0", 0 }, { "512", 512 }, { "512B", 512 }, { "1K", 1024 }, { "512M", 512ULL << 20 },
                { "10G", 10ULL << 30 }, { "10GiB", 10ULL << 30 }, { "2T", 2ULL << 40 }, { "1E", 1ULL << 60 },
        };
        static const char *const bad[] = { "", "G", "-1", "10Q", "1.5G", "10 G", "10GB2", "16E", "99999999999999999999" };
        uint64_t v;

        for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
                assert_int_equal(ctl_parse_size(good[i].text, &v), 0);
                assert_int_equal(v, good[i].bytes);
        }
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                assert_true(ctl_parse_size(bad[i], &v) < 0);
}

static void test_format_size(void **state) {
        char buf[32];

        assert_string_equal(ctl_format_size(buf, sizeof buf, 0), "0B");
        assert_string_equal(ctl_format_size(buf, sizeof buf, 4096), "4K");
        assert_string_equal(ctl_format_size(buf, sizeof buf, 512ULL << 20), "512M");
        assert_string_equal(ctl_format_size(buf, sizeof buf, 3ULL << 29), "1.5G");
        assert_string_equal(ctl_format_size(buf, sizeof buf, 250ULL << 30), "250G");
        assert_string_equal(ctl_format_size(buf, sizeof buf, UINT64_MAX), "15.9E");
}

static void test_parse_seconds(void **state) {
        uint32_t v;

        assert_int_equal(ctl_parse_seconds("30", &v), 0);
        assert_int_equal(v, 30);
        assert_int_equal(ctl_parse_seconds("30s", &v), 0);
        assert_int_equal(v, 30);
        assert_int_equal(ctl_parse_seconds("2min", &v), 0);
        assert_int_equal(v, 120);
        assert_true(ctl_parse_seconds("-1", &v) < 0);
        assert_true(ctl_parse_seconds("5h", &v) < 0);
        assert_true(ctl_parse_seconds("4294967296", &v) < 0);
}

/* What the table prints, read back from a temporary file standing in for stdout. */
static char *print_captured(CtlTable *t) {
        static char out[4096];
        FILE *f = tmpfile();
        int saved = dup(STDOUT_FILENO);
        size_t n;

        assert_non_null(f);
        fflush(stdout);
        dup2(fileno(f), STDOUT_FILENO);
        assert_int_equal(ctl_table_print(t), 0);
        fflush(stdout);
        dup2(saved, STDOUT_FILENO);
        close(saved);
        rewind(f);
        n = fread(out, 1, sizeof out - 1, f);
        out[n] = 0;
        fclose(f);
        return out;
}

/* The JSON has the bus's values: "" and [] stay so (libsmartcols writes them as null and [null]),
 * sizes are bytes, booleans are booleans, and columns only for JSON are there. */
static void test_table_json(void **state) {
        static const CtlColumn columns[] = {
                CTL_COLUMN("NAME", "name", CTL_STRING),
                CTL_COLUMN("SIZE", "size_bytes", CTL_SIZE),
                CTL_COLUMN("USERS", "users", CTL_STRINGS),
                CTL_COLUMN("ON", "on", CTL_BOOLEAN),
                CTL_JSON_COLUMN("PATH", "path", CTL_STRING),
                {}
        };
        char *users[] = { "a", "b", NULL };
        CtlTable *t;

        arg.json = JSON_SHORT;
        t = ctl_table_new("things", columns);
        assert_non_null(t);
        assert_int_equal(ctl_table_add_row(t), 0);
        ctl_table_set(t, 0, "");
        ctl_table_set(t, 1, (uint64_t) 10 << 30);
        ctl_table_set(t, 2, (char **) NULL);
        ctl_table_set(t, 3, 1);
        ctl_table_set(t, 4, "/p");
        assert_int_equal(ctl_table_add_row(t), 0);
        ctl_table_set(t, 0, "x");
        ctl_table_set(t, 1, (uint64_t) 0);
        ctl_table_set(t, 2, users);
        ctl_table_set(t, 3, 0);
        ctl_table_set(t, 4, "/q");
        assert_string_equal(print_captured(t),
                            "{\"things\":[{\"name\":\"\",\"size_bytes\":10737418240,\"users\":[],\"on\":true,\"path\":\"/p\"},"
                            "{\"name\":\"x\",\"size_bytes\":0,\"users\":[\"a\",\"b\"],\"on\":false,\"path\":\"/q\"}]}\n");
        ctl_table_free(t);

        arg.json = JSON_OFF;
        t = ctl_table_new("things", columns);
        assert_int_equal(ctl_table_add_row(t), 0);
        ctl_table_set(t, 0, "x");
        ctl_table_set(t, 1, (uint64_t) 3 << 29);
        ctl_table_set(t, 2, users);
        ctl_table_set(t, 3, 1);
        ctl_table_set(t, 4, "/q");
        assert_string_equal(print_captured(t), "NAME SIZE USERS ON\nx    1.5G a, b  yes\n");
        ctl_table_free(t);
}

/* Two columns with one key, one for people and one for JSON (names and the paths they stand for):
 * each mode has its own, and the cell set for the other is left out. */
static void test_table_people_json(void **state) {
        static const CtlColumn columns[] = {
                CTL_COLUMN("NAME", "name", CTL_STRING),
                CTL_PEOPLE_COLUMN("USED-BY", "in_use_by", CTL_STRINGS),
                CTL_JSON_COLUMN("USED-BY", "in_use_by", CTL_STRINGS),
                {}
        };
        char *names[] = { "web1", NULL }, *paths[] = { "/vm/web1", NULL };
        CtlValue value = { .strings = paths };
        CtlTable *t;

        for (int json = 0; json < 2; json++) {
                arg.json = json ? JSON_SHORT : JSON_OFF;
                t = ctl_table_new("volumes", columns);
                assert_non_null(t);
                assert_int_equal(ctl_table_add_row(t), 0);
                assert_int_equal(ctl_table_set(t, 0, "d1"), 0);
                assert_int_equal(ctl_table_set(t, 1, names), 0);
                assert_int_equal(ctl_table_set_value(t, 2, &value), 0);
                assert_true(ctl_table_set(t, 3, "past the end") < 0);
                assert_string_equal(print_captured(t), json ? "{\"volumes\":[{\"name\":\"d1\",\"in_use_by\":[\"/vm/web1\"]}]}\n"
                                                            : "NAME USED-BY\nd1   web1\n");
                ctl_table_free(t);
        }
        arg.json = JSON_OFF;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_size),
                cmocka_unit_test(test_format_size),
                cmocka_unit_test(test_parse_seconds),
                cmocka_unit_test(test_table_json),
                cmocka_unit_test(test_table_people_json),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
