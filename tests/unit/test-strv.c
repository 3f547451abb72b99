/* strv and error-text: the helpers the libraries share instead of keeping copies */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "error-text.h"
#include "strv.h"

static char **strv_of(const char *a, const char *b) {
        char **v = calloc(3, sizeof *v);

        assert_non_null(v);
        v[0] = a ? strdup(a) : NULL;
        v[1] = a && b ? strdup(b) : NULL;
        return v;
}

static void test_free_null_and_empty(void **state) {
        assert_null(strv_free(NULL));
        assert_null(strv_free(calloc(1, sizeof(char *))));
}

static void test_cleanup_frees(void **state) {
        _cleanup_(strv_freep) char **v = strv_of("br0", "eth0");

        assert_int_equal(strv_length(v), 2);
}

static void test_length(void **state) {
        _cleanup_(strv_freep) char **one = strv_of("a", NULL);

        assert_int_equal(strv_length(NULL), 0);
        assert_int_equal(strv_length(one), 1);
}

static void test_equal(void **state) {
        _cleanup_(strv_freep) char **ab = strv_of("a", "b"), **ab2 = strv_of("a", "b"), **ba = strv_of("b", "a");
        _cleanup_(strv_freep) char **a = strv_of("a", NULL), **empty = strv_of(NULL, NULL);

        assert_true(strv_equal(ab, ab2));
        assert_false(strv_equal(ab, ba));        /* order counts */
        assert_false(strv_equal(ab, a));         /* a prefix is not equal */
        assert_false(strv_equal(a, ab));
        assert_true(strv_equal(NULL, empty));    /* no list and an empty one say the same */
        assert_true(strv_equal(empty, NULL));
        assert_false(strv_equal(NULL, a));
}

static void test_error_textf(void **state) {
        char *text = NULL;

        assert_int_equal(error_textf(&text, -EIO, "lvcreate: %s (%d)", "no space", 5), -EIO);
        assert_string_equal(text, "lvcreate: no space (5)");
        free(text);
        /* A caller that does not want the text still gets the error back. */
        assert_int_equal(error_textf(NULL, -ENOENT, "%s", "gone"), -ENOENT);
}

/* Caller text in an error: short text as it is, long text cut on a whole UTF-8 sequence. */
static void test_text_cut(void **state) {
        char big[TEXT_CUT_MAX + 10];

        assert_string_equal(TEXT_CUT("web1"), "web1");
        assert_string_equal(TEXT_CUT(NULL), "");
        memset(big, 'a', sizeof big - 1);
        big[sizeof big - 1] = 0;
        big[TEXT_CUT_MAX] = 0;
        assert_ptr_equal(text_cut_n(big, TEXT_CUT_MAX, NULL), big);      /* exactly MAX: kept */
        big[TEXT_CUT_MAX] = 'a';
        {
                const char *cut = TEXT_CUT(big);

                assert_int_equal(strlen(cut), TEXT_CUT_MAX + strlen(TEXT_CUT_MARKER));
                assert_memory_equal(cut, big, TEXT_CUT_MAX);
                assert_string_equal(cut + TEXT_CUT_MAX, "\xe2\x80\xa6(cut)");
        }
        /* U+20AC (3 bytes) across the cut: it goes whole. */
        memcpy(big + TEXT_CUT_MAX - 1, "\xe2\x82\xac", 3);
        {
                const char *cut = TEXT_CUT(big);

                assert_int_equal(strlen(cut), TEXT_CUT_MAX - 1 + strlen(TEXT_CUT_MARKER));
                assert_string_equal(cut + TEXT_CUT_MAX - 1, TEXT_CUT_MARKER);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_free_null_and_empty),
                cmocka_unit_test(test_cleanup_frees),
                cmocka_unit_test(test_length),
                cmocka_unit_test(test_equal),
                cmocka_unit_test(test_error_textf),
                cmocka_unit_test(test_text_cut),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
