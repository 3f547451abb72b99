/* Fair share: each caller's budget of operations in flight, by connection and by uid */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "bus-budget.h"

#define CAP 64   /* a connection: 8, a uid: 16 */

static char identified_name[32];
static unsigned identified_calls;

static void on_identified(const char *name) {
        snprintf(identified_name, sizeof identified_name, "%s", name);
        identified_calls++;
}

/* What the authorization filter knows (bus_auth_identify() in the agent): a
 * name with its uid, or being asked; any other the bus could not identify. */
#define PENDING ((uid_t) -2)
static struct {
        char name[16];
        uid_t uid;
} who[16];
static unsigned n_who, identify_calls;

static void known(const char *name, uid_t uid) {
        snprintf(who[n_who].name, sizeof who[n_who].name, "%s", name);
        who[n_who++].uid = uid;
}

static int identify(const char *name, uid_t *ret_uid) {
        identify_calls++;
        for (unsigned i = 0; i < n_who; i++)
                if (strcmp(who[i].name, name) == 0) {
                        if (who[i].uid == PENDING)
                                return 0;
                        *ret_uid = who[i].uid;
                        return 1;
                }
        *ret_uid = (uid_t) -1;
        return 1;
}

static int setup(void **state) {
        identified_calls = identify_calls = n_who = 0;
        identified_name[0] = '\0';
        return bus_budget_setup(CAP, identify, on_identified);
}

static int teardown(void **state) {
        bus_budget_done();
        return 0;
}

/* Charges N operations of NAME, all of which must be taken; returns them in CHARGED. */
static void charge_n(const char *name, unsigned n, BusCaller **charged) {
        unsigned limit = 0;

        for (unsigned i = 0; i < n; i++) {
                assert_int_equal(bus_budget_charge(name, &charged[i], &limit), 0);
                assert_non_null(charged[i]);
        }
}

static void release_n(BusCaller **charged, unsigned n) {
        for (unsigned i = 0; i < n; i++)
                bus_budget_release(charged[i]);
}

static void test_connection_and_uid_budgets(void **state) {
        BusCaller *a[8], *b[8], *other[8], *c;
        unsigned limit = 0;

        known(":1.1", 65534);
        known(":1.2", 65534);
        known(":1.3", 65534);
        known(":1.4", 1000);
        charge_n(":1.1", 8, a);
        assert_int_equal(bus_budget_charge(":1.1", &c, &limit), -EBUSY);
        assert_int_equal(limit, 8);
        assert_null(c);
        /* A second connection of the same user: the uid's budget is the bound. */
        charge_n(":1.2", 8, b);
        assert_int_equal(bus_budget_charge(":1.3", &c, &limit), -EBUSY);
        assert_int_equal(limit, 16);
        /* Another user is not affected. */
        charge_n(":1.4", 8, other);

        bus_budget_release(a[0]);
        assert_int_equal(bus_budget_charge(":1.3", &c, &limit), 0);
        bus_budget_release(c);
        release_n(a + 1, 7);
        release_n(b, 8);
        release_n(other, 8);
}

static void test_root_is_bounded_by_the_pool_alone(void **state) {
        BusCaller *r[CAP * 2];

        known(":1.7", 0);
        charge_n(":1.7", CAP * 2, r);
        release_n(r, CAP * 2);
}

/* Callers the bus could not identify share one budget, the size of a uid's. */
static void test_unidentified_share_one_budget(void **state) {
        BusCaller *a[8], *b[8], *c;
        unsigned limit = 0;

        charge_n(":2.1", 8, a);
        charge_n(":2.2", 8, b);
        assert_int_equal(bus_budget_charge(":2.3", &c, &limit), -EBUSY);
        assert_int_equal(limit, 16);
        /* Identified later (a new question once it had nothing in flight):
         * what the others charged stays in the unidentified share. */
        known(":2.3", 1000);
        assert_int_equal(bus_budget_charge(":2.3", &c, &limit), 0);
        bus_budget_release(c);
        release_n(a, 8);
        release_n(b, 8);
}

/* The budgets ask the filter's one question, not the bus: a caller being
 * asked about is held, and charged to its uid once told. */
static void test_pending_identity_is_waited_for(void **state) {
        BusCaller *c;
        unsigned limit = 0, asked;

        known(":4.1", PENDING);
        assert_int_equal(bus_budget_charge(":4.1", &c, &limit), -EAGAIN);
        assert_null(c);
        assert_int_equal(bus_budget_hold(":4.1"), 0);
        asked = identify_calls;
        bus_budget_identified(":4.1", 65534);
        assert_int_equal(identified_calls, 1);
        assert_string_equal(identified_name, ":4.1");
        assert_int_equal(bus_budget_charge(":4.1", &c, &limit), 0);
        assert_int_equal(identify_calls, asked);   /* the answer was kept while the caller has work */
        bus_budget_unhold(":4.1");
        bus_budget_release(c);
        /* An answer for a caller with nothing here is not needed. */
        bus_budget_identified(":4.2", 1000);
        assert_int_equal(identified_calls, 1);
}

static void test_held_calls_are_capped_and_started_once_identified(void **state) {
        for (int i = 0; i < BUS_BUDGET_HELD_PER_CONNECTION; i++)
                assert_int_equal(bus_budget_hold(":3.1"), 0);
        assert_int_equal(bus_budget_hold(":3.1"), -EBUSY);
        assert_int_equal(bus_budget_hold(":3.2"), 0);   /* another connection's are its own */
        bus_budget_unhold(":3.1");
        assert_int_equal(bus_budget_hold(":3.1"), 0);

        bus_budget_identified(":3.1", 0);
        assert_int_equal(identified_calls, 1);
        assert_string_equal(identified_name, ":3.1");
        bus_budget_identified(":3.9", 0);   /* nothing held: nothing to start */
        assert_int_equal(identified_calls, 1);
        for (int i = 0; i < BUS_BUDGET_HELD_PER_CONNECTION; i++)
                bus_budget_unhold(":3.1");
        bus_budget_unhold(":3.2");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_connection_and_uid_budgets, setup, teardown),
                cmocka_unit_test_setup_teardown(test_root_is_bounded_by_the_pool_alone, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unidentified_share_one_budget, setup, teardown),
                cmocka_unit_test_setup_teardown(test_pending_identity_is_waited_for, setup, teardown),
                cmocka_unit_test_setup_teardown(test_held_calls_are_capped_and_started_once_identified, setup,
                                                teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
