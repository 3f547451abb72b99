/* The one errno -> org.hostagent1.Error.* table: one meaning per errno, in every call */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agent-errno.h"
#include "bus-error.h"
#include "error-text.h"
#include "macro.h"

static const BusErrorContext storage_create = { .invalid = HOSTAGENT_ERROR_INVALID_SPEC };
static const BusErrorContext pool_lookup = { HOSTAGENT_ERROR_INVALID_ARGS, HOSTAGENT_ERROR_NO_SUCH_OBJECT };

/* What a client sees for each errno, whatever the call: a change here changes the bus. */
static void test_fixed_names(void **state) {
        static const struct { int r; const char *name; } pinned[] = {
                { -EBUSY,               "org.hostagent1.Error.Busy" },
                { -ERRNO_IN_USE,        "org.hostagent1.Error.InUse" },
                { -ERRNO_NO_GUEST_AGENT, "org.hostagent1.Error.GuestAgentUnavailable" },
                { -EEXIST,              "org.hostagent1.Error.Exists" },
                { -ERRNO_INVALID_STATE, "org.hostagent1.Error.InvalidState" },
                { -EPERM,               "org.freedesktop.DBus.Error.AccessDenied" },
                { -EACCES,              "org.freedesktop.DBus.Error.AccessDenied" },
                { -EOPNOTSUPP,          "org.hostagent1.Error.NotSupported" },
                { -ENOTCONN,            "org.hostagent1.Error.LibvirtUnavailable" },
                { -EHOSTUNREACH,        "org.hostagent1.Error.StorageUnreachable" },
                { -ETIMEDOUT,           "org.hostagent1.Error.Timeout" },
                { -ETIME,               "org.hostagent1.Error.Timeout" },
                { -ESHUTDOWN,           "org.hostagent1.Error.ShuttingDown" },
                { -ECANCELED,           "org.hostagent1.Error.ShuttingDown" },
                { -ENOMEM,              "org.freedesktop.DBus.Error.NoMemory" },
                { -EIO,                 "org.hostagent1.Error.Failed" },
                { -ENOSPC,              "org.hostagent1.Error.Failed" },
                { -EBADMSG,             "org.hostagent1.Error.Failed" },
        };
        const BusErrorContext *contexts[] = { NULL, &bus_error_context_vm, &storage_create, &pool_lookup };

        for (size_t i = 0; i < ELEMENTSOF(pinned); i++)
                for (size_t c = 0; c < ELEMENTSOF(contexts); c++)
                        assert_string_equal(bus_error_name(pinned[i].r, contexts[c]), pinned[i].name);
}

/* The meanings that once drifted apart between the mappers stay apart. */
static void test_meanings_apart(void **state) {
        assert_string_not_equal(bus_error_name(-EBUSY, NULL), bus_error_name(-ERRNO_IN_USE, NULL));
        assert_string_not_equal(bus_error_name(-EPERM, NULL), bus_error_name(-ERRNO_INVALID_STATE, NULL));
        assert_string_not_equal(bus_error_name(-EEXIST, &storage_create), bus_error_name(-EINVAL, &storage_create));
        assert_string_not_equal(bus_error_name(-EBUSY, &storage_create), bus_error_name(-EINVAL, &storage_create));
}

/* Input and missing things take the call's names; without them, they are the agent's failure. */
static void test_context_names(void **state) {
        assert_string_equal(bus_error_name(-EINVAL, &bus_error_context_vm), HOSTAGENT_ERROR_INVALID_SPEC);
        assert_string_equal(bus_error_name(-ENOENT, &bus_error_context_vm), HOSTAGENT_ERROR_NO_SUCH_VM);
        assert_string_equal(bus_error_name(-EINVAL, &pool_lookup), HOSTAGENT_ERROR_INVALID_ARGS);
        assert_string_equal(bus_error_name(-ENOENT, &pool_lookup), HOSTAGENT_ERROR_NO_SUCH_OBJECT);
        assert_string_equal(bus_error_name(-ENOENT, &storage_create), HOSTAGENT_ERROR_INVALID_SPEC);
        assert_string_equal(bus_error_name(-ENOTDIR, &storage_create), HOSTAGENT_ERROR_INVALID_SPEC);
        assert_string_equal(bus_error_name(-EINVAL, NULL), HOSTAGENT_ERROR_FAILED);
        assert_string_equal(bus_error_name(-ENOENT, &(BusErrorContext) {}), HOSTAGENT_ERROR_FAILED);
}

/* A client on sd-bus reads each name back as an errno; that errno names it again. */
static void test_round_trip(void **state) {
        static const char *const names[] = {
                HOSTAGENT_ERROR_NO_SUCH_VM, HOSTAGENT_ERROR_NO_SUCH_OBJECT, HOSTAGENT_ERROR_INVALID_SPEC,
                HOSTAGENT_ERROR_INVALID_ARGS, HOSTAGENT_ERROR_BUSY, HOSTAGENT_ERROR_LIBVIRT_UNAVAILABLE,
                HOSTAGENT_ERROR_NOT_SUPPORTED, HOSTAGENT_ERROR_INVALID_STATE, HOSTAGENT_ERROR_TIMEOUT,
                HOSTAGENT_ERROR_SHUTTING_DOWN, HOSTAGENT_ERROR_FAILED, HOSTAGENT_ERROR_STORAGE_UNREACHABLE,
                HOSTAGENT_ERROR_EXISTS, HOSTAGENT_ERROR_IN_USE, HOSTAGENT_ERROR_GUEST_AGENT_UNAVAILABLE,
        };

        assert_true(bus_error_register() >= 0);
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                sd_bus_error e = SD_BUS_ERROR_NULL;
                const BusErrorContext context = { names[i], names[i] };
                int r = sd_bus_error_set(&e, names[i], "x");

                assert_true(r < 0);
                assert_string_equal(bus_error_name(r, &context), names[i]);
                sd_bus_error_free(&e);
        }
}

static void test_messages(void **state) {
        sd_bus_error e = SD_BUS_ERROR_NULL;

        assert_int_equal(bus_error_set_errno(&e, -ERRNO_IN_USE, &storage_create, "Cannot delete the volume", NULL),
                         -ERRNO_IN_USE);
        assert_string_equal(e.name, HOSTAGENT_ERROR_IN_USE);
        assert_string_equal(e.message, "Cannot delete the volume: in use");
        sd_bus_error_free(&e);

        (void) bus_error_set_errno(&e, -EINVAL, &storage_create, NULL, "networks.n.uplink: there is no eth7");
        assert_string_equal(e.name, HOSTAGENT_ERROR_INVALID_SPEC);
        assert_string_equal(e.message, "networks.n.uplink: there is no eth7");
        sd_bus_error_free(&e);

        (void) bus_error_set_errno(&e, -ECANCELED, NULL, "Cannot create the pool", NULL);
        assert_string_equal(e.name, HOSTAGENT_ERROR_SHUTTING_DOWN);
        assert_string_equal(e.message, "hostagentd is shutting down; retry when it is back");
        sd_bus_error_free(&e);

        (void) bus_error_set(&e, -ENOENT, "Domain not found", "Cannot start VM %s", "web1");
        assert_string_equal(e.name, HOSTAGENT_ERROR_NO_SUCH_VM);
        assert_string_equal(e.message, "Cannot start VM web1: Domain not found");
        sd_bus_error_free(&e);
}

/* Another program's words may quote what the caller sent (a domain XML): they are cut too. */
static void test_long_why_cut(void **state) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char *why = malloc(100000);

        assert_non_null(why);
        memset(why, 'q', 99999);
        why[99999] = 0;
        (void) bus_error_set(&e, -EINVAL, why, "Cannot create the VM");
        assert_string_equal(e.name, HOSTAGENT_ERROR_INVALID_SPEC);
        assert_true(strlen(e.message) < 8192);
        assert_non_null(strstr(e.message, "qqq" TEXT_CUT_MARKER));
        sd_bus_error_free(&e);
        free(why);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fixed_names),
                cmocka_unit_test(test_meanings_apart),
                cmocka_unit_test(test_context_names),
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_messages),
                cmocka_unit_test(test_long_why_cut),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
