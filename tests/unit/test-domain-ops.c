/* The console ticket as libvirt is handed it: the first <graphics> alone, with the password and its end */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "domain-ops.h"
#include "macro.h"

#define DOMAIN(devices) "<domain type='kvm'><name>g</name><devices>" devices "</devices></domain>"

static void test_vnc_keeps_clients(void **state) {
        _cleanup_(freep) char *type = NULL, *device = NULL;

        assert_int_equal(domain_console_ticket_xml(DOMAIN("<disk type='file'/><graphics type='vnc' port='-1'/>"
                                                          "<graphics type='spice'/>"),
                                                   "pw", "2026-11-27T12:00:00", &type, &device), 0);
        assert_string_equal(type, "vnc");
        /* Only the first console, with what libvirt needs to change it live. */
        assert_non_null(strstr(device, "<graphics type=\"vnc\""));
        assert_null(strstr(device, "spice"));
        assert_null(strstr(device, "disk"));
        assert_non_null(strstr(device, "passwd=\"pw\""));
        assert_non_null(strstr(device, "passwdValidTo=\"2026-11-27T12:00:00\""));
        /* VNC cannot drop its clients on a password change. */
        assert_non_null(strstr(device, "connected=\"keep\""));
}

static void test_spice_drops_clients(void **state) {
        _cleanup_(freep) char *type = NULL, *device = NULL;

        assert_int_equal(domain_console_ticket_xml(DOMAIN("<graphics type='spice' autoport='yes'/>"), "pw",
                                                   "2026-11-27T12:00:00", &type, &device), 0);
        assert_string_equal(type, "spice");
        assert_non_null(strstr(device, "connected=\"disconnect\""));
}

static void test_no_console(void **state) {
        char *type = NULL, *device = NULL;

        assert_int_equal(domain_console_ticket_xml(DOMAIN("<disk type='file'/>"), "pw", "x", &type, &device),
                         -ENOENT);
        assert_int_equal(domain_console_ticket_xml("<domain><name>g</name></domain>", "pw", "x", &type, &device),
                         -ENOENT);
        assert_int_equal(domain_console_ticket_xml("not xml", "pw", "x", &type, &device), -ENOENT);
        assert_null(device);
}

static void test_password_is_escaped(void **state) {
        _cleanup_(freep) char *type = NULL, *device = NULL;

        /* A password is an attribute value, never markup. */
        assert_int_equal(domain_console_ticket_xml(DOMAIN("<graphics type='vnc'/>"), "a\"<b>&", "t", &type, &device),
                         0);
        assert_non_null(strstr(device, "passwd=\"a&quot;&lt;b&gt;&amp;\""));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_vnc_keeps_clients),
                cmocka_unit_test(test_spice_drops_clients),
                cmocka_unit_test(test_no_console),
                cmocka_unit_test(test_password_is_escaped),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
