/* Mailbox: every accepted post delivered exactly once, on the loop thread */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <cmocka.h>

#include "macro.h"
#include "mailbox.h"

#define POSTERS 4
#define MESSAGES_PER_POSTER 8
#define ROUNDS 20000

typedef struct Slot {
        MailboxMessage message;
        atomic_uint posted;       /* mailbox_post() said yes */
        unsigned delivered;       /* loop thread only */
        bool wrong_thread;
} Slot;

static Slot slots[POSTERS][MESSAGES_PER_POSTER];
static pthread_t loop_thread;
static atomic_uint posters_done;

static void deliver(void *userdata) {
        Slot *s = userdata;

        s->delivered++;
        if (!pthread_equal(pthread_self(), loop_thread))
                s->wrong_thread = true;
}

static void *poster(void *userdata) {
        Mailbox *mb = ((void **) userdata)[0];
        Slot *mine = ((void **) userdata)[1];

        /* Re-post as fast as possible: most posts land while the message is
         * still queued (refused), some while the loop is delivering it. */
        for (unsigned round = 0; round < ROUNDS; round++)
                for (unsigned i = 0; i < MESSAGES_PER_POSTER; i++)
                        if (mailbox_post(mb, &mine[i].message))
                                atomic_fetch_add(&mine[i].posted, 1);
        atomic_fetch_add(&posters_done, 1);
        return NULL;
}

static bool all_delivered(void) {
        for (unsigned p = 0; p < POSTERS; p++)
                for (unsigned i = 0; i < MESSAGES_PER_POSTER; i++)
                        if (slots[p][i].delivered != atomic_load(&slots[p][i].posted))
                                return false;
        return true;
}

static void test_concurrent_reposting(void **state) {
        sd_event *event = NULL;
        Mailbox *mb = NULL;
        pthread_t threads[POSTERS];
        void *args[POSTERS][2];

        loop_thread = pthread_self();
        assert_int_equal(sd_event_new(&event), 0);
        assert_int_equal(mailbox_new(event, &mb), 0);
        for (unsigned p = 0; p < POSTERS; p++) {
                for (unsigned i = 0; i < MESSAGES_PER_POSTER; i++)
                        slots[p][i].message = (MailboxMessage) { .fn = deliver, .userdata = &slots[p][i] };
                args[p][0] = mb;
                args[p][1] = slots[p];
                assert_int_equal(pthread_create(&threads[p], NULL, poster, args[p]), 0);
        }
        while (atomic_load(&posters_done) < POSTERS || !all_delivered())
                assert_true(sd_event_run(event, 1000 * 1000) >= 0);
        for (unsigned p = 0; p < POSTERS; p++)
                assert_int_equal(pthread_join(threads[p], NULL), 0);

        for (unsigned p = 0; p < POSTERS; p++)
                for (unsigned i = 0; i < MESSAGES_PER_POSTER; i++) {
                        assert_true(slots[p][i].delivered > 0);
                        assert_int_equal(slots[p][i].delivered, atomic_load(&slots[p][i].posted));
                        assert_false(slots[p][i].wrong_thread);
                }
        mailbox_free(mb);
        sd_event_unref(event);
}

static void test_post_while_queued_is_refused(void **state) {
        sd_event *event = NULL;
        Mailbox *mb = NULL;
        Slot s = {};

        assert_int_equal(sd_event_new(&event), 0);
        assert_int_equal(mailbox_new(event, &mb), 0);
        s.message = (MailboxMessage) { .fn = deliver, .userdata = &s };
        loop_thread = pthread_self();
        assert_true(mailbox_post(mb, &s.message));
        assert_false(mailbox_post(mb, &s.message));
        mailbox_dispatch(mb);
        assert_int_equal(s.delivered, 1);
        assert_true(mailbox_post(mb, &s.message));
        assert_true(sd_event_run(event, 1000 * 1000) > 0);
        assert_int_equal(s.delivered, 2);
        mailbox_free(mb);
        sd_event_unref(event);
}

static void test_cancel_takes_a_message_back(void **state) {
        sd_event *event = NULL;
        Mailbox *mb = NULL;
        Slot a = {}, b = {}, c = {};

        assert_int_equal(sd_event_new(&event), 0);
        assert_int_equal(mailbox_new(event, &mb), 0);
        loop_thread = pthread_self();
        a.message = (MailboxMessage) { .fn = deliver, .userdata = &a };
        b.message = (MailboxMessage) { .fn = deliver, .userdata = &b };
        c.message = (MailboxMessage) { .fn = deliver, .userdata = &c };
        assert_true(mailbox_post(mb, &a.message));
        assert_true(mailbox_post(mb, &b.message));
        assert_true(mailbox_post(mb, &c.message));
        mailbox_cancel(mb, &c.message);   /* the tail */
        mailbox_cancel(mb, &a.message);   /* the head */
        mailbox_cancel(mb, &a.message);   /* not queued any more: nothing */
        mailbox_dispatch(mb);
        assert_int_equal(a.delivered, 0);
        assert_int_equal(b.delivered, 1);
        assert_int_equal(c.delivered, 0);
        /* The list is whole: posting after a cancelled tail still works. */
        assert_true(mailbox_post(mb, &c.message));
        assert_true(mailbox_post(mb, &a.message));
        mailbox_dispatch(mb);
        assert_int_equal(c.delivered, 1);
        assert_int_equal(a.delivered, 1);
        mailbox_free(mb);
        sd_event_unref(event);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_post_while_queued_is_refused),
                cmocka_unit_test(test_cancel_takes_a_message_back),
                cmocka_unit_test(test_concurrent_reposting),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
