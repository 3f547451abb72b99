/* libvirt refusing a request for the domain's state (VIR_ERR_OPERATION_INVALID, "domain is not
 * running": another client or the guest changed it after the agent's own check passed) is
 * InvalidState on the bus, not Failed. libvirt's test driver, in this process. (The test driver
 * says "already running" and "not paused" as internal errors; QEMU's says them as this code.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include <libvirt/libvirt.h>

#include "agent-errno.h"
#include "bus-error.h"
#include "domain-ops.h"
#include "libvirt-error.h"
#include "macro.h"

static virConnectPtr conn;
static char uuid[VIR_UUID_STRING_BUFLEN];

/* The test driver's domain "test", stopped. */
static int setup(void **state) {
        virDomainPtr dom;
        int r;

        libvirt_error_silence();
        conn = virConnectOpen("test:///default");
        if (!conn)
                return -1;
        dom = virDomainLookupByName(conn, "test");
        if (!dom)
                return -1;
        r = virDomainGetUUIDString(dom, uuid);
        if (r >= 0)
                r = virDomainDestroy(dom);
        virDomainFree(dom);
        return r;
}

static int teardown(void **state) {
        virConnectClose(conn);
        return 0;
}

static void assert_invalid_state(DomainAction action, const char *says) {
        _cleanup_(freep) char *message = NULL;
        int r = domain_action(conn, uuid, action, &message);

        assert_int_equal(r, -ERRNO_INVALID_STATE);
        assert_non_null(message);
        assert_non_null(strstr(message, says));
        assert_string_equal(bus_error_name(r, &bus_error_context_vm), HOSTAGENT_ERROR_INVALID_STATE);
}

static void test_reboot_stopped(void **state) {
        assert_invalid_state(DOMAIN_ACTION_REBOOT, "not running");
}

static void test_reset_stopped(void **state) {
        assert_invalid_state(DOMAIN_ACTION_RESET, "not running");
}

static void test_destroy_stopped(void **state) {
        assert_invalid_state(DOMAIN_ACTION_DESTROY, "not running");
}

/* What is not the domain's state stays what it was: a missing domain is NoSuchVM. */
static void test_missing_domain(void **state) {
        _cleanup_(freep) char *message = NULL;
        int r = domain_action(conn, "00000000-0000-0000-0000-000000000001", DOMAIN_ACTION_START, &message);

        assert_int_equal(r, -ENOENT);
        assert_string_equal(bus_error_name(r, &bus_error_context_vm), HOSTAGENT_ERROR_NO_SUCH_VM);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_reboot_stopped),
                cmocka_unit_test(test_reset_stopped),
                cmocka_unit_test(test_destroy_stopped),
                cmocka_unit_test(test_missing_domain),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
