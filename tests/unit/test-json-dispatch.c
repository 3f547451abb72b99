/* The JSON dispatcher: values land where the table says, errors name the field, in the object's order */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "error-text.h"
#include "json-cleanup.h"
#include "json-dispatch.h"
#include "json-field.h"
#include "macro.h"

static const char *const colours[] = { "red", "green", NULL };

typedef struct Thing {
        char *name;
        const char *colour;
        unsigned count;
        uint64_t size;
        bool shiny;
        char seen[64];   /* the deferred and the recording parsers write here, in call order */
} Thing;

static void thing_done(Thing *t) {
        free(t->name);
}

/* Records that it ran, and with which field name. */
static int record(json_object *v, const char *field, const JsonDispatch *entry, void *ret, char **ret_error) {
        Thing *t = ret;

        snprintf(t->seen + strlen(t->seen), sizeof t->seen - strlen(t->seen), "%s%s", t->seen[0] ? " " : "", field);
        return 0;
}

static int refuse(json_object *v, const char *field, const JsonDispatch *entry, void *ret, char **ret_error) {
        return json_field_fail(ret_error, field, "refused by its parser");
}

static const JsonDispatch thing_fields[] = {
        { "name", json_type_string, json_dispatch_name, .offset = offsetof(Thing, name),
          .flags = JSON_DISPATCH_REQUIRED, .max = 100 },
        { "colour", json_type_string, json_dispatch_enum, .offset = offsetof(Thing, colour), .choices = colours },
        { "count", json_type_int, json_dispatch_unsigned, .offset = offsetof(Thing, count), .min = 1, .max = 10 },
        { "size", json_type_int, json_dispatch_uint64, .offset = offsetof(Thing, size), .max = UINT64_MAX },
        { "shiny", json_type_boolean, json_dispatch_bool, .offset = offsetof(Thing, shiny) },
        { "tags", json_type_array, record, .offset = 0 },
        { "parts", json_type_object, record, .offset = 0 },
        { "anything", JSON_DISPATCH_ANY, record, .offset = 0 },
        { "ignored", JSON_DISPATCH_ANY, json_dispatch_skip, .offset = 0 },
        { "bad", json_type_string, refuse, .offset = 0 },
        {}
};

/* Dispatches TEXT into a fresh Thing; returns the error text, or NULL when accepted. */
static char *dispatch(const char *text, const char *prefix, const JsonDispatch *table, Thing *ret) {
        _cleanup_(json_object_putp) json_object *o = json_tokener_parse(text);
        char *error = NULL;
        int r;

        assert_non_null(o);
        *ret = (Thing) {};
        r = json_dispatch(o, prefix, table, ret, &error);
        if (r >= 0) {
                assert_int_equal(r, 0);
                assert_null(error);
                return NULL;
        }
        assert_int_equal(r, -EINVAL);
        assert_non_null(error);
        return error;
}

static void expect_error(const char *text, const char *prefix, const JsonDispatch *table, const char *want) {
        _cleanup_(freep) char *error = NULL;
        Thing t;

        error = dispatch(text, prefix, table, &t);
        thing_done(&t);
        if (!error || !streq(error, want))
                fail_msg("%s: wanted '%s', got '%s'", text, want, strempty(error));
}

static void test_values_land_at_their_offsets(void **state) {
        Thing t;

        assert_null(dispatch("{\"shiny\":true,\"name\":\"bolt\",\"colour\":\"green\",\"count\":3,"
                             "\"size\":5000000000,\"tags\":[],\"parts\":{},\"anything\":null,"
                             "\"ignored\":[1]}",
                             NULL, thing_fields, &t));
        assert_string_equal(t.name, "bolt");
        assert_ptr_equal(t.colour, colours[1]);
        assert_int_equal(t.count, 3);
        assert_int_equal(t.size, 5000000000ULL);
        assert_true(t.shiny);
        /* Each parser got its own field's name, in the object's order. */
        assert_string_equal(t.seen, "tags parts anything");
        thing_done(&t);
}

static void test_absent_keys_keep_their_defaults(void **state) {
        Thing t;

        assert_null(dispatch("{\"name\":\"bolt\"}", NULL, thing_fields, &t));
        assert_null(t.colour);
        assert_int_equal(t.count, 0);
        assert_false(t.shiny);
        assert_string_equal(t.seen, "");
        thing_done(&t);
}

static void test_unknown_key_named_with_prefix(void **state) {
        expect_error("{\"name\":\"bolt\",\"weight\":3}", NULL, thing_fields, "weight: unknown key");
        expect_error("{\"name\":\"bolt\",\"weight\":3}", "things[2]", thing_fields, "things[2].weight: unknown key");
}

static void test_unknown_key_with_its_own_reason(void **state) {
        _cleanup_(json_object_putp) json_object *o = json_tokener_parse("{\"name\":\"b\",\"weight\":3}");
        _cleanup_(freep) char *error = NULL;
        Thing t = {};

        assert_int_equal(json_dispatch_full(o, NULL, thing_fields, "unknown key for a bolt", &t, &error), -EINVAL);
        assert_string_equal(error, "weight: unknown key for a bolt");
        thing_done(&t);
}

/* An over-long key is named by its first TEXT_CUT_MAX bytes, marked as cut: never silently cut
 * at some buffer's size, never echoed whole (a 30 MB key must not make a 30 MB error). */
static void test_long_unknown_key_named_cut(void **state) {
        char key[301], text[400], want[400];

        memset(key, 'k', sizeof key - 1);
        key[sizeof key - 1] = '\0';
        snprintf(text, sizeof text, "{\"%s\":1}", key);
        snprintf(want, sizeof want, "disks[0].%.*s%s: unknown key", TEXT_CUT_MAX, key, TEXT_CUT_MARKER);
        expect_error(text, "disks[0]", thing_fields, want);
        key[TEXT_CUT_MAX] = '\0';
        snprintf(text, sizeof text, "{\"%s\":1}", key);
        snprintf(want, sizeof want, "disks[0].%s: unknown key", key);
        expect_error(text, "disks[0]", thing_fields, want);
}

static void test_wrong_types_named(void **state) {
        expect_error("{\"name\":7}", NULL, thing_fields, "name: must be a string");
        expect_error("{\"name\":\"b\",\"count\":\"3\"}", NULL, thing_fields, "count: must be an integer");
        expect_error("{\"name\":\"b\",\"count\":1.5}", NULL, thing_fields, "count: must be an integer");
        expect_error("{\"name\":\"b\",\"shiny\":1}", NULL, thing_fields, "shiny: must be true or false");
        expect_error("{\"name\":\"b\",\"tags\":{}}", NULL, thing_fields, "tags: must be an array");
        expect_error("{\"name\":\"b\",\"parts\":[]}", "p", thing_fields, "p.parts: must be an object");
        /* JSON null is no string: a typed key refuses it before its parser runs. */
        expect_error("{\"name\":null}", NULL, thing_fields, "name: must be a string");
}

static void test_common_parsers_refuse_with_the_field(void **state) {
        expect_error("{\"name\":\"-b\"}", NULL, thing_fields,
                     "name: must be 1 to 64 letters, digits, '.', '_', '+' or '-', starting with a letter or digit");
        expect_error("{\"name\":\"b\",\"colour\":\"blue\"}", NULL, thing_fields, "colour: must be one of red, green");
        expect_error("{\"name\":\"b\",\"count\":11}", NULL, thing_fields, "count: must be between 1 and 10");
        expect_error("{\"name\":\"b\",\"count\":0}", "t", thing_fields, "t.count: must be between 1 and 10");
        expect_error("{\"name\":\"b\",\"bad\":\"x\"}", "t", thing_fields, "t.bad: refused by its parser");
}

static void test_required_key_missing(void **state) {
        static const JsonDispatch fields[] = {
                { "a", json_type_string, json_dispatch_skip, .offset = 0, .flags = JSON_DISPATCH_REQUIRED },
                { "b", json_type_string, json_dispatch_skip, .offset = 0, .flags = JSON_DISPATCH_REQUIRED,
                  .missing = "is required for a thing" },
                {}
        };

        expect_error("{\"b\":\"x\"}", NULL, fields, "a: is required");
        expect_error("{\"a\":\"x\"}", "t", fields, "t.b: is required for a thing");
        /* Both missing: the table's order decides. */
        expect_error("{}", NULL, fields, "a: is required");
}

/* Several keys wrong: the first in the object is named, whatever the table's order;
 * a missing key only once every key given is right. */
static void test_first_error_in_object_order(void **state) {
        expect_error("{\"shiny\":0,\"name\":7}", NULL, thing_fields, "shiny: must be true or false");
        expect_error("{\"name\":7,\"shiny\":0}", NULL, thing_fields, "name: must be a string");
        expect_error("{\"weight\":1,\"count\":0}", NULL, thing_fields, "weight: unknown key");
        expect_error("{\"count\":0,\"weight\":1}", NULL, thing_fields, "count: must be between 1 and 10");
        expect_error("{\"weight\":1}", NULL, thing_fields, "weight: unknown key");
        expect_error("{\"count\":0}", NULL, thing_fields, "count: must be between 1 and 10");
}

static const JsonDispatch deferred_fields[] = {
        { "early", json_type_string, record, .offset = 0 },
        { "late", json_type_string, record, .offset = 0, .flags = JSON_DISPATCH_DEFERRED },
        { "later", JSON_DISPATCH_ANY, record, .offset = 0, .flags = JSON_DISPATCH_DEFERRED | JSON_DISPATCH_REQUIRED,
          .missing = "must list something" },
        { "other", json_type_int, json_dispatch_unsigned, .offset = offsetof(Thing, count), .max = 5 },
        {}
};

static void test_deferred_keys_read_last(void **state) {
        Thing t;

        assert_null(dispatch("{\"later\":1,\"late\":\"x\",\"early\":\"y\"}", "d", deferred_fields, &t));
        assert_string_equal(t.seen, "d.early d.late d.later");
        thing_done(&t);
        /* A deferred key of the wrong type is named after the other keys' errors. */
        expect_error("{\"late\":1,\"other\":9,\"later\":1}", NULL, deferred_fields, "other: must be between 0 and 5");
        expect_error("{\"late\":1,\"later\":1}", NULL, deferred_fields, "late: must be a string");
        expect_error("{\"late\":\"x\",\"early\":\"y\",\"what\":1}", NULL, deferred_fields, "what: unknown key");
        expect_error("{\"late\":\"x\"}", "d", deferred_fields, "d.later: must list something");
}

static void test_not_an_object(void **state) {
        _cleanup_(json_object_putp) json_object *a = json_tokener_parse("[1]");
        _cleanup_(freep) char *error = NULL;
        Thing t = {};

        assert_int_equal(json_dispatch(a, "parts[1]", thing_fields, &t, &error), -EINVAL);
        assert_string_equal(error, "parts[1]: must be an object");
        /* Without a place for the error, the answer is the same. */
        assert_int_equal(json_dispatch(a, NULL, thing_fields, &t, NULL), -EINVAL);
        assert_int_equal(json_dispatch(NULL, NULL, thing_fields, &t, NULL), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_values_land_at_their_offsets),
                cmocka_unit_test(test_absent_keys_keep_their_defaults),
                cmocka_unit_test(test_unknown_key_named_with_prefix),
                cmocka_unit_test(test_unknown_key_with_its_own_reason),
                cmocka_unit_test(test_long_unknown_key_named_cut),
                cmocka_unit_test(test_wrong_types_named),
                cmocka_unit_test(test_common_parsers_refuse_with_the_field),
                cmocka_unit_test(test_required_key_missing),
                cmocka_unit_test(test_first_error_in_object_order),
                cmocka_unit_test(test_deferred_keys_read_last),
                cmocka_unit_test(test_not_an_object),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
