/* Worker pool: blocking work off the loop, completions on the loop, a cap, and the changes' share */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <semaphore.h>
#include <cmocka.h>

#include "macro.h"
#include "mailbox.h"
#include "worker-pool.h"

typedef struct Fixture {
        sd_event *event;
        Mailbox *mailbox;
        WorkerPool *pool;
        pthread_t loop_thread;
        sem_t release;          /* blocking work waits on this */
        sem_t started;          /* blocking work posts this when it begins */
        unsigned done_calls;
        bool done_on_loop_thread;
        int last_result;
} Fixture;

static Fixture *fixture_new(unsigned threads, unsigned cap) {
        Fixture *f = calloc(1, sizeof *f);

        assert_int_equal(sd_event_new(&f->event), 0);
        assert_int_equal(mailbox_new(f->event, &f->mailbox), 0);
        assert_int_equal(worker_pool_new(f->event, f->mailbox, threads, cap, &f->pool), 0);
        f->loop_thread = pthread_self();
        f->done_on_loop_thread = true;
        sem_init(&f->release, 0, 0);
        sem_init(&f->started, 0, 0);
        return f;
}

/* After worker_pool_stop() returned 0. */
static void fixture_release(Fixture *f) {
        worker_pool_free(f->pool);
        mailbox_free(f->mailbox);
        sd_event_unref(f->event);
        sem_destroy(&f->release);
        sem_destroy(&f->started);
        free(f);
}

static void fixture_free(Fixture *f) {
        assert_int_equal(worker_pool_stop(f->pool, 5 * 1000 * 1000), 0);
        mailbox_dispatch(f->mailbox);
        fixture_release(f);
}

static int blocking_work(void *userdata) {
        Fixture *f = userdata;

        sem_post(&f->started);
        sem_wait(&f->release);
        return 42;
}

static void count_done(int result, void *userdata) {
        Fixture *f = userdata;

        f->done_calls++;
        f->last_result = result;
        if (!pthread_equal(pthread_self(), f->loop_thread))
                f->done_on_loop_thread = false;
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        Fixture *f = userdata;

        /* The loop is alive while the work is blocked: only now let it go. */
        assert_int_equal(f->done_calls, 0);
        sem_post(&f->release);
        return 0;
}

static int on_check(sd_event_source *s, uint64_t usec, void *userdata) {
        Fixture *f = userdata;

        if (f->done_calls == 1)
                return sd_event_exit(f->event, 0);
        return sd_event_source_set_time_relative(s, 1000) < 0 ? -1
               : sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

static void test_loop_runs_while_work_blocks(void **state) {
        Fixture *f = fixture_new(2, 8);

        assert_int_equal(worker_pool_submit(f->pool, WORKER_NORMAL, blocking_work, count_done, f), 0);
        assert_int_equal(worker_pool_in_flight(f->pool), 1);
        assert_int_equal(sd_event_add_time_relative(f->event, NULL, CLOCK_MONOTONIC, 10000, 0, on_tick, f), 0);
        assert_int_equal(sd_event_add_time_relative(f->event, NULL, CLOCK_MONOTONIC, 20000, 0, on_check, f), 0);
        assert_int_equal(sd_event_loop(f->event), 0);

        assert_int_equal(f->done_calls, 1);
        assert_int_equal(f->last_result, 42);
        assert_true(f->done_on_loop_thread);
        assert_int_equal(worker_pool_in_flight(f->pool), 0);
        fixture_free(f);
}

static void test_cap_refuses_with_ebusy(void **state) {
        Fixture *f = fixture_new(1, 2);

        assert_int_equal(worker_pool_submit(f->pool, WORKER_NORMAL, blocking_work, count_done, f), 0);
        assert_int_equal(worker_pool_submit(f->pool, WORKER_NORMAL, blocking_work, count_done, f), 0);
        assert_int_equal(worker_pool_submit(f->pool, WORKER_NORMAL, blocking_work, count_done, f), -EBUSY);
        /* The agent's own housekeeping is never refused. */
        assert_int_equal(worker_pool_submit(f->pool, WORKER_INTERNAL, blocking_work, count_done, f), 0);
        assert_int_equal(worker_pool_in_flight(f->pool), 2);

        for (int i = 0; i < 3; i++)
                sem_post(&f->release);
        while (f->done_calls < 3)
                assert_true(sd_event_run(f->event, 5 * 1000 * 1000) > 0);
        assert_int_equal(worker_pool_in_flight(f->pool), 0);
        /* Room again after completions. */
        assert_int_equal(worker_pool_submit(f->pool, WORKER_NORMAL, blocking_work, count_done, f), 0);
        sem_post(&f->release);
        while (f->done_calls < 4)
                assert_true(sd_event_run(f->event, 5 * 1000 * 1000) > 0);
        fixture_free(f);
}

static int quick_work(void *userdata) {
        return 0;
}

static sem_t change_ran;

static int change_work(void *userdata) {
        sem_post(&change_ran);
        return 7;
}

/* Reads stuck on every thread they may have, and on every slot they may
 * take: a change is still accepted, and still runs. */
static void test_reads_leave_changes_their_share(void **state) {
        Fixture *f = fixture_new(4, 8);   /* reads: 6 slots, 3 threads */
        struct timespec deadline;

        sem_init(&change_ran, 0, 0);
        assert_int_equal(worker_pool_max_reads(f->pool), 6);
        for (int i = 0; i < 6; i++)
                assert_int_equal(worker_pool_submit(f->pool, WORKER_READ, blocking_work, count_done, f), 0);
        assert_int_equal(worker_pool_submit(f->pool, WORKER_READ, blocking_work, count_done, f), -EBUSY);
        for (int i = 0; i < 3; i++)
                sem_wait(&f->started);
        assert_int_equal(worker_pool_submit(f->pool, WORKER_NORMAL, change_work, count_done, f), 0);
        assert_int_equal(worker_pool_in_flight(f->pool), 7);

        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += 10;
        assert_int_equal(sem_timedwait(&change_ran, &deadline), 0);
        while (f->done_calls < 1)
                assert_true(sd_event_run(f->event, 5 * 1000 * 1000) > 0);
        assert_int_equal(f->last_result, 7);
        /* The fourth thread is not the reads': none of them started meanwhile. */
        assert_int_equal(sem_trywait(&f->started), -1);

        for (int i = 0; i < 6; i++)
                sem_post(&f->release);
        while (f->done_calls < 7)
                assert_true(sd_event_run(f->event, 5 * 1000 * 1000) > 0);
        assert_int_equal(worker_pool_in_flight(f->pool), 0);
        sem_destroy(&change_ran);
        fixture_free(f);
}

static void record_quick_done(int result, void *userdata) {
        Fixture *f = userdata;

        count_done(result, f);
        assert_int_equal(result, -ECANCELED);
}

static void test_stop_cancels_queued_work(void **state) {
        Fixture *f = fixture_new(1, 8);

        /* One thread, inside the first item: the second waits in the queue. */
        assert_int_equal(worker_pool_submit(f->pool, WORKER_NORMAL, blocking_work, count_done, f), 0);
        assert_int_equal(worker_pool_submit(f->pool, WORKER_NORMAL, quick_work, record_quick_done, f), 0);
        sem_wait(&f->started);
        /* The queue is emptied at once, before waiting for running work. */
        assert_int_equal(worker_pool_stop(f->pool, 0), -EBUSY);
        assert_int_equal(worker_pool_submit(f->pool, WORKER_NORMAL, quick_work, count_done, f), -ESHUTDOWN);
        mailbox_dispatch(f->mailbox);
        assert_int_equal(f->done_calls, 1);   /* the cancelled one */

        sem_post(&f->release);
        assert_int_equal(worker_pool_stop(f->pool, 5 * 1000 * 1000), 0);
        mailbox_dispatch(f->mailbox);
        assert_int_equal(f->done_calls, 2);
        assert_int_equal(f->last_result, 42);
        fixture_release(f);
}

static void test_stop_leaves_a_stuck_thread(void **state) {
        Fixture *f = fixture_new(1, 8);

        assert_int_equal(worker_pool_submit(f->pool, WORKER_NORMAL, blocking_work, count_done, f), 0);
        /* Once the thread is inside the work, stopping cannot cancel it. */
        sem_wait(&f->started);
        assert_int_equal(worker_pool_stop(f->pool, 50 * 1000), -EBUSY);
        /* Unblock it so the test exits clean; it posts, then exits. */
        sem_post(&f->release);
        assert_int_equal(worker_pool_stop(f->pool, 5 * 1000 * 1000), 0);
        mailbox_dispatch(f->mailbox);
        assert_int_equal(f->done_calls, 1);
        assert_int_equal(f->last_result, 42);
        fixture_release(f);
}

static void note_expired(void *userdata) {
        Fixture *f = userdata;

        /* Expiry comes first, on the loop, while the work still blocks. */
        assert_int_equal(f->done_calls, 0);
        assert_true(pthread_equal(pthread_self(), f->loop_thread));
        f->last_result = -ETIMEDOUT;
        sem_post(&f->release);
}

static void test_deadline_expires_before_done(void **state) {
        Fixture *f = fixture_new(1, 8);

        assert_int_equal(worker_pool_submit_with_deadline(f->pool, WORKER_NORMAL, 20 * 1000, blocking_work,
                                                          count_done, note_expired, f), 0);
        while (f->done_calls == 0)
                assert_true(sd_event_run(f->event, 5 * 1000 * 1000) > 0);
        /* DONE still ran, once, with the work's own result. */
        assert_int_equal(f->done_calls, 1);
        assert_int_equal(f->last_result, 42);
        assert_int_equal(worker_pool_in_flight(f->pool), 0);
        fixture_free(f);
}

static void test_deadline_not_reached(void **state) {
        Fixture *f = fixture_new(1, 8);

        sem_post(&f->release);
        assert_int_equal(worker_pool_submit_with_deadline(f->pool, WORKER_NORMAL, 60ULL * 1000 * 1000,
                                                          blocking_work, count_done, note_expired, f), 0);
        while (f->done_calls == 0)
                assert_true(sd_event_run(f->event, 5 * 1000 * 1000) > 0);
        assert_int_equal(f->last_result, 42);   /* note_expired never ran */
        /* The deadline went with the item: nothing fires later. */
        assert_int_equal(sd_event_run(f->event, 100 * 1000), 0);
        fixture_free(f);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_loop_runs_while_work_blocks),
                cmocka_unit_test(test_cap_refuses_with_ebusy),
                cmocka_unit_test(test_reads_leave_changes_their_share),
                cmocka_unit_test(test_stop_cancels_queued_work),
                cmocka_unit_test(test_stop_leaves_a_stuck_thread),
                cmocka_unit_test(test_deadline_expires_before_done),
                cmocka_unit_test(test_deadline_not_reached),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
