/* State file: one write at a time on the worker pool, group commit, waiters
 * told oldest first with their write's result, written inline when stopping */
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "atomic-file.h"
#include "macro.h"
#include "mailbox.h"
#include "state-file.h"
#include "worker-pool.h"

#define ANSWERS_MAX 8

typedef struct Fixture Fixture;

/* One caller of state_file_save(), and what it was told. */
typedef struct Call {
        Fixture *fixture;
        const char *name;
        void (*then)(Fixture *f);   /* runs when it is told */
} Call;

typedef struct Answer {
        const char *name;
        int result;
        char *content;              /* the file when the caller was told, or NULL */
} Answer;

struct Fixture {
        sd_event *event;
        Mailbox *mailbox;
        WorkerPool *pool;
        sem_t release, started;     /* the blocker holds the only worker */
        char dir[64], path[96];
        StateFile *file;
        unsigned snapshots;         /* the state is "state N" at the Nth */
        unsigned answers_at_snapshot[ANSWERS_MAX];
        Call *resave;               /* saved again by resave() */
        bool snapshot_fails;
        bool stopped;
        int written[ANSWERS_MAX];
        unsigned n_written;
        Answer answers[ANSWERS_MAX];
        unsigned n_answers;
};

static char *snapshot(void *userdata) {
        Fixture *f = userdata;
        char *text;

        if (f->snapshot_fails)
                return NULL;
        assert_true(f->snapshots < ANSWERS_MAX);
        f->answers_at_snapshot[f->snapshots] = f->n_answers;
        assert_true(asprintf(&text, "state %u", ++f->snapshots) > 0);
        return text;
}

static void written(int result, void *userdata) {
        Fixture *f = userdata;

        assert_true(f->n_written < ANSWERS_MAX);
        f->written[f->n_written++] = result;
}

static const StateFileOps ops = { .snapshot = snapshot, .written = written };

static void saved(int result, void *userdata) {
        Call *c = userdata;
        Fixture *f = c->fixture;
        Answer *a;

        assert_true(f->n_answers < ANSWERS_MAX);
        a = &f->answers[f->n_answers++];
        a->name = c->name;
        a->result = result;
        if (atomic_file_read(f->path, &a->content, NULL) < 0)
                a->content = NULL;
        if (c->then)
                c->then(f);
}

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof *f);

        assert_non_null(f);
        assert_int_equal(sd_event_new(&f->event), 0);
        assert_int_equal(mailbox_new(f->event, &f->mailbox), 0);
        assert_int_equal(worker_pool_new(f->event, f->mailbox, 1, 8, &f->pool), 0);
        sem_init(&f->release, 0, 0);
        sem_init(&f->started, 0, 0);
        snprintf(f->dir, sizeof f->dir, "/tmp/hostagent-state-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->path, sizeof f->path, "%s/sub", f->dir);
        assert_int_equal(mkdir(f->path, 0700), 0);
        snprintf(f->path, sizeof f->path, "%s/sub/state.json", f->dir);
        assert_int_equal(state_file_new(f->pool, f->path, &ops, f, &f->file), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        char cmd[128];

        if (!f->stopped)
                assert_int_equal(worker_pool_stop(f->pool, 5 * 1000 * 1000), 0);
        mailbox_dispatch(f->mailbox);
        state_file_free(f->file);
        worker_pool_free(f->pool);
        mailbox_free(f->mailbox);
        sd_event_unref(f->event);
        sem_destroy(&f->release);
        sem_destroy(&f->started);
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
        assert_int_equal(system(cmd), 0);
        for (unsigned i = 0; i < f->n_answers; i++)
                free(f->answers[i].content);
        free(f);
        return 0;
}

static int blocking_work(void *userdata) {
        Fixture *f = userdata;

        sem_post(&f->started);
        sem_wait(&f->release);
        return 0;
}

static void ignore_done(int result, void *userdata) {
}

/* The only worker is busy until release: writes queue behind it. */
static void hold_worker(Fixture *f) {
        assert_int_equal(worker_pool_submit(f->pool, WORKER_INTERNAL, blocking_work, ignore_done, f), 0);
        sem_wait(&f->started);
}

static void run_until_answers(Fixture *f, unsigned n) {
        while (f->n_answers < n)
                assert_true(sd_event_run(f->event, 5 * 1000 * 1000) > 0);
}

static void assert_answer(Fixture *f, unsigned i, const char *name, int result, const char *content) {
        assert_true(i < f->n_answers);
        assert_string_equal(f->answers[i].name, name);
        assert_int_equal(f->answers[i].result, result);
        if (content)
                assert_string_equal(strempty(f->answers[i].content), content);
        else
                assert_null(f->answers[i].content);
}

/* A, then B and C while A's write waits: two writes, the second of the
 * state as it was when it started; told A, B, C in that order. */
static void test_group_commit_in_order(void **state) {
        Fixture *f = *state;
        Call a = { .fixture = f, .name = "A" };
        Call b = { .fixture = f, .name = "B" };
        Call c = { .fixture = f, .name = "C" };

        hold_worker(f);
        state_file_save(f->file, saved, &a);
        assert_int_equal(f->snapshots, 1);
        state_file_save(f->file, saved, &b);
        state_file_save(f->file, NULL, NULL);
        state_file_save(f->file, saved, &c);
        assert_int_equal(f->snapshots, 1);   /* never two writes at once */
        sem_post(&f->release);
        run_until_answers(f, 3);

        assert_int_equal(f->snapshots, 2);
        assert_int_equal(f->n_answers, 3);
        assert_answer(f, 0, "A", 0, "state 1");
        assert_answer(f, 1, "B", 0, "state 2");
        assert_answer(f, 2, "C", 0, "state 2");
        assert_int_equal(f->n_written, 2);
        assert_int_equal(f->written[0], 0);
        assert_int_equal(f->written[1], 0);
}

/* A request without a waiter (a change no reply depends on) still gets its
 * write, after the one running. */
static void test_save_without_waiter(void **state) {
        Fixture *f = *state;
        Call a = { .fixture = f, .name = "A" };
        _cleanup_(freep) char *content = NULL;

        hold_worker(f);
        state_file_save(f->file, saved, &a);
        state_file_save(f->file, NULL, NULL);
        sem_post(&f->release);
        while (f->n_written < 2)
                assert_true(sd_event_run(f->event, 5 * 1000 * 1000) > 0);
        assert_answer(f, 0, "A", 0, "state 1");
        assert_int_equal(atomic_file_read(f->path, &content, NULL), 0);
        assert_string_equal(content, "state 2");
}

static void resave(Fixture *f) {
        state_file_save(f->file, saved, f->resave);
}

/* B, told first of its write, asks again: the write for it starts once C,
 * told after B, was told too, so it keeps what C undid on a failure. */
static void test_next_write_after_all_waiters(void **state) {
        Fixture *f = *state;
        Call a = { .fixture = f, .name = "A" };
        Call b = { .fixture = f, .name = "B", .then = resave };
        Call c = { .fixture = f, .name = "C" };
        Call x = { .fixture = f, .name = "X" };

        f->resave = &x;
        hold_worker(f);
        state_file_save(f->file, saved, &a);
        state_file_save(f->file, saved, &b);
        state_file_save(f->file, saved, &c);
        sem_post(&f->release);
        run_until_answers(f, 4);
        assert_answer(f, 1, "B", 0, "state 2");
        assert_answer(f, 2, "C", 0, "state 2");
        assert_answer(f, 3, "X", 0, "state 3");
        assert_int_equal(f->answers_at_snapshot[2], 3);
}

static void remove_dir(Fixture *f) {
        char *dir = strndup(f->path, strrchr(f->path, '/') - f->path);

        assert_int_equal(unlink(f->path), 0);
        assert_int_equal(rmdir(dir), 0);
        free(dir);
}

/* A's write works; B and C share the next, which fails: both are told why,
 * and the file still holds A's state. The next write after works again. */
static void test_failure_told_to_every_waiter(void **state) {
        Fixture *f = *state;
        Call a = { .fixture = f, .name = "A", .then = remove_dir };
        Call b = { .fixture = f, .name = "B" };
        Call c = { .fixture = f, .name = "C" };
        Call d = { .fixture = f, .name = "D" };
        char *dir;

        hold_worker(f);
        state_file_save(f->file, saved, &a);
        state_file_save(f->file, saved, &b);
        state_file_save(f->file, saved, &c);
        sem_post(&f->release);
        run_until_answers(f, 3);

        assert_answer(f, 0, "A", 0, "state 1");
        assert_answer(f, 1, "B", -ENOENT, NULL);
        assert_answer(f, 2, "C", -ENOENT, NULL);
        assert_int_equal(f->n_written, 2);
        assert_int_equal(f->written[1], -ENOENT);

        dir = strndup(f->path, strrchr(f->path, '/') - f->path);
        assert_int_equal(mkdir(dir, 0700), 0);
        free(dir);
        state_file_save(f->file, saved, &d);
        run_until_answers(f, 4);
        assert_answer(f, 3, "D", 0, "state 3");
}

static void fail_snapshots(Fixture *f) {
        f->snapshot_fails = true;
}

/* No text for the second write (out of memory): both of its waiters are
 * told, and the file keeps the first write's state. */
static void test_snapshot_failure(void **state) {
        Fixture *f = *state;
        Call a = { .fixture = f, .name = "A", .then = fail_snapshots };
        Call b = { .fixture = f, .name = "B" };
        Call c = { .fixture = f, .name = "C" };

        hold_worker(f);
        state_file_save(f->file, saved, &a);
        state_file_save(f->file, saved, &b);
        state_file_save(f->file, saved, &c);
        sem_post(&f->release);
        run_until_answers(f, 3);
        assert_answer(f, 0, "A", 0, "state 1");
        assert_answer(f, 1, "B", -ENOMEM, "state 1");
        assert_answer(f, 2, "C", -ENOMEM, "state 1");
        assert_int_equal(f->written[1], -ENOMEM);
}

/* The pool stops (the daemon exits): a write asked for then is written on
 * the loop, at once, and the caller told. */
static void test_inline_when_stopping(void **state) {
        Fixture *f = *state;
        Call a = { .fixture = f, .name = "A" };

        worker_pool_cancel_queued(f->pool);
        state_file_save(f->file, saved, &a);
        assert_int_equal(f->n_answers, 1);
        assert_answer(f, 0, "A", 0, "state 1");
}

/* A write queued when the pool stops is cancelled: it is written on the
 * loop instead, once, and so is the write after it. */
static void test_inline_when_cancelled(void **state) {
        Fixture *f = *state;
        Call a = { .fixture = f, .name = "A" };
        Call b = { .fixture = f, .name = "B" };

        hold_worker(f);
        state_file_save(f->file, saved, &a);
        state_file_save(f->file, saved, &b);
        worker_pool_cancel_queued(f->pool);
        run_until_answers(f, 2);
        assert_answer(f, 0, "A", 0, "state 1");
        assert_answer(f, 1, "B", 0, "state 2");
        assert_int_equal(f->snapshots, 2);
        sem_post(&f->release);
}

/* Freed while a write runs: the write ends later and frees it (no leak, no
 * use after free under ASan); its waiter is not told. */
static void test_free_while_writing(void **state) {
        Fixture *f = *state;
        Call a = { .fixture = f, .name = "A" };

        hold_worker(f);
        state_file_save(f->file, saved, &a);
        f->file = state_file_free(f->file);
        sem_post(&f->release);
        assert_int_equal(worker_pool_stop(f->pool, 5 * 1000 * 1000), 0);
        f->stopped = true;
        mailbox_dispatch(f->mailbox);
        assert_int_equal(f->n_answers, 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_group_commit_in_order, setup, teardown),
                cmocka_unit_test_setup_teardown(test_save_without_waiter, setup, teardown),
                cmocka_unit_test_setup_teardown(test_next_write_after_all_waiters, setup, teardown),
                cmocka_unit_test_setup_teardown(test_failure_told_to_every_waiter, setup, teardown),
                cmocka_unit_test_setup_teardown(test_snapshot_failure, setup, teardown),
                cmocka_unit_test_setup_teardown(test_inline_when_stopping, setup, teardown),
                cmocka_unit_test_setup_teardown(test_inline_when_cancelled, setup, teardown),
                cmocka_unit_test_setup_teardown(test_free_while_writing, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
