/* JSON spec fields: the value a caller gets, or an error that names the field and the rule */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "json-cleanup.h"
#include "json-field.h"
#include "macro.h"

/* Parses TEXT as one JSON value: the tests feed what a client could send. */
static json_object *value(const char *text) {
        json_object *v = json_tokener_parse(text);

        if (!v && !streq(text, "null"))
                fail_msg("test input is not JSON: %s", text);
        return v;
}

static void expect_error(char *error, const char *wanted) {
        assert_non_null(error);
        if (!streq(error, wanted))
                fail_msg("wanted error '%s', got '%s'", wanted, error);
        free(error);
}

static void test_fail_names_the_field(void **state) {
        char *error = NULL;

        assert_int_equal(json_field_fail(&error, "disks[2].bus", "must be one of %s", "virtio"), -EINVAL);
        expect_error(error, "disks[2].bus: must be one of virtio");
        /* Callers that only want the verdict pass NULL. */
        assert_int_equal(json_field_fail(NULL, "x", "why"), -EINVAL);
}

static void test_string(void **state) {
        _cleanup_(json_object_putp) json_object *ok = value("\"web1\""), *num = value("7"), *nul = value("\"a\\u0000b\""),
                                                *utf8 = value("\"caf\\u00e9\""), *arr = value("[\"x\"]");
        const char *s = NULL;
        char *error = NULL;

        assert_int_equal(json_field_string(ok, "name", 4, &s, &error), 0);
        assert_string_equal(s, "web1");
        assert_null(error);
        /* MAX is in bytes: "café" is five of them. */
        assert_int_equal(json_field_string(utf8, "name", 5, &s, NULL), 0);
        assert_int_equal(json_field_string(utf8, "name", 4, &s, &error), -EINVAL);
        expect_error(error, "name: must be at most 4 bytes long");
        assert_int_equal(json_field_string(ok, "name", 3, &s, &error), -EINVAL);
        expect_error(error, "name: must be at most 3 bytes long");
        /* A NUL inside would cut the string short where C reads it. */
        assert_int_equal(json_field_string(nul, "name", 64, &s, &error), -EINVAL);
        expect_error(error, "name: must not contain NUL characters");
        s = "untouched";
        assert_int_equal(json_field_string(num, "name", 64, &s, &error), -EINVAL);
        expect_error(error, "name: must be a string");
        assert_string_equal(s, "untouched");
        assert_int_equal(json_field_string(arr, "name", 64, &s, &error), -EINVAL);
        expect_error(error, "name: must be a string");
        assert_int_equal(json_field_string(NULL, "name", 64, &s, &error), -EINVAL);   /* JSON null */
        expect_error(error, "name: must be a string");
}

static void test_string_not_utf8(void **state) {
        /* json-c takes bytes as they come; the field keeps them (bus-text guards the bus). */
        _cleanup_(json_object_putp) json_object *v = json_tokener_parse("\"a\xff" "b\"");
        const char *s;

        if (!v)
                skip();
        assert_int_equal(json_field_string(v, "path", 64, &s, NULL), 0);
        assert_string_equal(s, "a\xff" "b");
}

static void test_enum(void **state) {
        static const char *const buses[] = { "virtio", "sata", "scsi", "ide", NULL };
        _cleanup_(json_object_putp) json_object *sata = value("\"sata\""), *usb = value("\"usb\""),
                                                *upper = value("\"SATA\""), *num = value("1");
        const char *s = NULL;
        char *error = NULL;

        assert_int_equal(json_field_enum(sata, "disks[0].bus", buses, &s, &error), 0);
        /* RET points into the table: it outlives the JSON. */
        assert_ptr_equal(s, buses[1]);
        assert_int_equal(json_field_enum(usb, "disks[0].bus", buses, &s, &error), -EINVAL);
        expect_error(error, "disks[0].bus: must be one of virtio, sata, scsi, ide");
        assert_int_equal(json_field_enum(upper, "disks[0].bus", buses, &s, &error), -EINVAL);
        expect_error(error, "disks[0].bus: must be one of virtio, sata, scsi, ide");
        assert_int_equal(json_field_enum(num, "disks[0].bus", buses, &s, &error), -EINVAL);
        expect_error(error, "disks[0].bus: must be a string");
}

static void test_enum_long_choice_list(void **state) {
        /* More choices than the message has room for: cut short, never overrun. */
        static const char *const many[] = {
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
                "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
                "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
                "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
                NULL,
        };
        _cleanup_(json_object_putp) json_object *v = value("\"z\"");
        const char *s;
        char *error = NULL;

        assert_int_equal(json_field_enum(v, "k", many, &s, &error), -EINVAL);
        assert_non_null(error);
        assert_true(strncmp(error, "k: must be one of aaaa", 22) == 0);
        assert_true(strlen(error) < 300);
        free(error);
}

static void test_uint(void **state) {
        static const struct {
                const char *text;
                uint64_t min, max;
                int r;
                uint64_t value;
                const char *error;
        } cases[] = {
                { "16", 16, 4194304, 0, 16, NULL },
                { "4194304", 16, 4194304, 0, 4194304, NULL },
                { "15", 16, 4194304, -EINVAL, 0, "memory_mib: must be between 16 and 4194304" },
                { "4194305", 16, 4194304, -EINVAL, 0, "memory_mib: must be between 16 and 4194304" },
                { "-1", 0, 100, -EINVAL, 0, "memory_mib: must be between 0 and 100" },
                { "-9223372036854775809", 0, 100, -EINVAL, 0, "memory_mib: must be between 0 and 100" },
                { "99999999999999999999999", 0, 100, -EINVAL, 0, "memory_mib: must be between 0 and 100" },
                { "1.0", 0, 100, -EINVAL, 0, "memory_mib: must be an integer" },
                { "1e3", 0, 10000, -EINVAL, 0, "memory_mib: must be an integer" },
                { "\"5\"", 0, 100, -EINVAL, 0, "memory_mib: must be an integer" },
                { "true", 0, 100, -EINVAL, 0, "memory_mib: must be an integer" },
                { "null", 0, 100, -EINVAL, 0, "memory_mib: must be an integer" },
                { "9223372036854775806", 0, UINT64_MAX, 0, 9223372036854775806ULL, NULL },
                /* Past int64: json-c keeps these as uint64, and clamps beyond. */
                { "9223372036854775808", 0, UINT64_MAX, 0, 9223372036854775808ULL, NULL },
                { "18446744073709551614", 0, UINT64_MAX, 0, 18446744073709551614ULL, NULL },
                { "18446744073709551616", 0, UINT64_MAX, -EINVAL, 0,
                  "memory_mib: must be between 0 and 18446744073709551615" },
                { "99999999999999999999999", 0, UINT64_MAX, -EINVAL, 0,
                  "memory_mib: must be between 0 and 18446744073709551615" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(json_object_putp) json_object *v = value(cases[i].text);
                uint64_t u = 4242;
                char *error = NULL;
                int r = json_field_uint(v, "memory_mib", cases[i].min, cases[i].max, &u, &error);

                if (r != cases[i].r)
                        fail_msg("%s: wanted %d, got %d (%s)", cases[i].text, cases[i].r, r, strempty(error));
                if (r == 0) {
                        assert_null(error);
                        if (u != cases[i].value)
                                fail_msg("%s: wanted %llu, got %llu", cases[i].text,
                                         (unsigned long long) cases[i].value, (unsigned long long) u);
                } else {
                        assert_int_equal(u, 4242);   /* written only on success */
                        expect_error(error, cases[i].error);
                }
        }
}

static void test_bool(void **state) {
        _cleanup_(json_object_putp) json_object *t = value("true"), *f = value("false"), *one = value("1"),
                                                *str = value("\"true\"");
        bool b = false;
        char *error = NULL;

        assert_int_equal(json_field_bool(t, "start", &b, &error), 0);
        assert_true(b);
        assert_int_equal(json_field_bool(f, "start", &b, &error), 0);
        assert_false(b);
        assert_int_equal(json_field_bool(one, "start", &b, &error), -EINVAL);
        expect_error(error, "start: must be true or false");
        assert_int_equal(json_field_bool(str, "start", &b, &error), -EINVAL);
        expect_error(error, "start: must be true or false");
        assert_int_equal(json_field_bool(NULL, "start", &b, &error), -EINVAL);
        expect_error(error, "start: must be true or false");
}

static void test_name(void **state) {
        char longest[JSON_NAME_MAX_LEN + 2];

        assert_true(json_name_valid("web1"));
        assert_true(json_name_valid("9lives"));
        assert_true(json_name_valid("a.b_c+d-e"));
        assert_false(json_name_valid(""));
        assert_false(json_name_valid("."));
        assert_false(json_name_valid(".."));
        assert_false(json_name_valid(".hidden"));
        assert_false(json_name_valid("-rf"));
        assert_false(json_name_valid("_x"));
        assert_false(json_name_valid("a/b"));
        assert_false(json_name_valid("../etc"));
        assert_false(json_name_valid("a b"));
        assert_false(json_name_valid("a\nb"));
        assert_false(json_name_valid("caf\xc3\xa9"));
        assert_false(json_name_valid("a\xff"));
        memset(longest, 'x', JSON_NAME_MAX_LEN);
        longest[JSON_NAME_MAX_LEN] = '\0';
        assert_true(json_name_valid(longest));
        longest[JSON_NAME_MAX_LEN] = 'x';
        longest[JSON_NAME_MAX_LEN + 1] = '\0';
        assert_false(json_name_valid(longest));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fail_names_the_field),
                cmocka_unit_test(test_string),
                cmocka_unit_test(test_string_not_utf8),
                cmocka_unit_test(test_enum),
                cmocka_unit_test(test_enum_long_choice_list),
                cmocka_unit_test(test_uint),
                cmocka_unit_test(test_bool),
                cmocka_unit_test(test_name),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
