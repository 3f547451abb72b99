/* Text for D-Bus strings: what sd-bus refuses is caught at the door */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bus-error.h"
#include "bus-text.h"

static void test_valid(void **state) {
        assert_true(bus_text_valid(""));
        assert_true(bus_text_valid("web1"));
        assert_true(bus_text_valid("caf\xc3\xa9"));                 /* U+00E9 */
        assert_true(bus_text_valid("\xe2\x82\xac"));                /* U+20AC */
        assert_true(bus_text_valid("\xf0\x9f\x96\xa5"));            /* U+1F5A5 */
        assert_true(bus_text_valid("\xef\xbf\xbd"));                /* U+FFFD itself */
        assert_true(bus_text_valid("tab\there"));
}

static void test_refused(void **state) {
        assert_false(bus_text_valid(NULL));
        assert_false(bus_text_valid("\xff"));
        assert_false(bus_text_valid("\xc3"));                       /* truncated */
        assert_false(bus_text_valid("\xc0\xaf"));                   /* overlong '/' */
        assert_false(bus_text_valid("\xe0\x80\xaf"));               /* overlong '/' */
        assert_false(bus_text_valid("\xed\xa0\x80"));               /* surrogate U+D800 */
        assert_false(bus_text_valid("nc-\xef\xb7\x90"));            /* U+FDD0 */
        assert_false(bus_text_valid("\xef\xbf\xbe"));               /* U+FFFE */
        assert_false(bus_text_valid("\xf0\x9f\xbf\xbf"));           /* U+1FFFF */
        assert_false(bus_text_valid("\xf4\x90\x80\x80"));           /* U+110000 */
        assert_false(bus_text_valid("\xf8\x88\x80\x80\x80"));       /* five bytes */
}

static void test_dup(void **state) {
        char *s;

        s = bus_text_dup("web1");
        assert_string_equal(s, "web1");
        free(s);
        s = bus_text_dup("nc-\xef\xb7\x90!");              /* one refused character: one U+FFFD */
        assert_string_equal(s, "nc-\xef\xbf\xbd!");
        assert_true(bus_text_valid(s));
        free(s);
        s = bus_text_dup("a\xc3");                           /* truncated at the end */
        assert_string_equal(s, "a\xef\xbf\xbd");
        free(s);
        s = bus_text_dup("\xff\xfeok");                      /* each stray byte: one U+FFFD */
        assert_string_equal(s, "\xef\xbf\xbd\xef\xbf\xbdok");
        free(s);
        assert_null(bus_text_dup(NULL));
}

static void test_make_valid(void **state) {
        char name[16] = "p\xff\xef\xb7\x90x";

        bus_text_make_valid(name);
        assert_string_equal(name, "p????x");          /* one per byte: the length stays */
        strcpy(name, "eth0");
        bus_text_make_valid(name);
        assert_string_equal(name, "eth0");
}

/* Error messages carry other programs' words: the reply must still go out. */
static void test_error_text(void **state) {
        sd_bus_error error = SD_BUS_ERROR_NULL;

        bus_error_set(&error, -EIO, "qemu-img: Could not open '/pool/a\xff': No such file", "Cannot clone %s", "a");
        assert_string_equal(error.name, "org.hostagent1.Error.Failed");
        assert_true(bus_text_valid(error.message));
        assert_string_equal(error.message, "Cannot clone a: qemu-img: Could not open '/pool/a\xef\xbf\xbd': No such file");
        sd_bus_error_free(&error);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_valid),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_dup),
                cmocka_unit_test(test_make_valid),
                cmocka_unit_test(test_error_text),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
