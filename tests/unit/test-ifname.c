/* Interface names: the kernel's rules, checked before we ask it */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ifname.h"

static void test_valid(void **state) {
        assert_true(ifname_valid("eth0"));
        assert_true(ifname_valid("br-vm.100"));
        assert_true(ifname_valid("a"));
        assert_true(ifname_valid("fifteen-chars15"));
}

static void test_invalid(void **state) {
        assert_false(ifname_valid(NULL));
        assert_false(ifname_valid(""));
        assert_false(ifname_valid("sixteen-chars-16"));
        assert_false(ifname_valid("."));
        assert_false(ifname_valid(".."));
        assert_false(ifname_valid("eth/0"));
        assert_false(ifname_valid("eth0:1"));
        assert_false(ifname_valid("eth 0"));
        assert_false(ifname_valid("eth\t0"));
        assert_false(ifname_valid("eth\x7f"));
        assert_false(ifname_valid("br\xc3\xa9"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_valid),
                cmocka_unit_test(test_invalid),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
