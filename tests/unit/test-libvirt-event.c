/* libvirt's event callbacks on sd-event, driven from libvirt's own threads */
#include <libvirt/libvirt.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <unistd.h>

#include "libvirt-error.h"
#include "libvirt-event.h"
#include "macro.h"
#include "mailbox.h"

typedef struct Fixture {
        sd_event *event;
        Mailbox *mailbox;
        virConnectPtr conn;
        pthread_t loop_thread;
        int lifecycle_events;
        int last_event;
        bool on_loop_thread;
        bool freed;
} Fixture;

static Fixture fixture;

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque) {
        Fixture *f = opaque;

        f->lifecycle_events++;
        f->last_event = event;
        f->on_loop_thread = pthread_equal(pthread_self(), f->loop_thread);
        return 0;
}

static void on_callback_freed(void *opaque) {
        ((Fixture *) opaque)->freed = true;
}

/* A thread other than the loop changes the domain, as our workers will: the
 * test driver queues the event and arms its dispatch timer from this thread. */
static void *suspend_from_thread(void *userdata) {
        Fixture *f = userdata;
        virDomainPtr dom = virDomainLookupByName(f->conn, "test");

        assert_non_null(dom);
        assert_int_equal(virDomainSuspend(dom), 0);
        virDomainFree(dom);
        return NULL;
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata) {
        return sd_event_exit(userdata, -ETIMEDOUT);
}

static void run_until_events(Fixture *f, int n) {
        sd_event_source *deadline = NULL;

        assert_int_equal(sd_event_add_time_relative(f->event, &deadline, CLOCK_MONOTONIC,
                                                     10 * 1000 * 1000, 0, on_deadline, f->event), 0);
        while (f->lifecycle_events < n)
                assert_true(sd_event_run(f->event, UINT64_MAX) >= 0);
        sd_event_source_disable_unref(deadline);
}

static void test_event_from_other_thread_arrives_on_loop(void **state) {
        Fixture *f = &fixture;
        pthread_t t;
        int id;

        id = virConnectDomainEventRegisterAny(f->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                              VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), f,
                                              on_callback_freed);
        assert_true(id >= 0);

        assert_int_equal(pthread_create(&t, NULL, suspend_from_thread, f), 0);
        assert_int_equal(pthread_join(t, NULL), 0);
        run_until_events(f, 1);
        assert_int_equal(f->last_event, VIR_DOMAIN_EVENT_SUSPENDED);
        assert_true(f->on_loop_thread);

        /* Deregistration frees libvirt's callback data later, on the loop. */
        assert_int_equal(virConnectDomainEventDeregisterAny(f->conn, id), 0);
        for (int i = 0; i < 100 && !f->freed; i++)
                assert_true(sd_event_run(f->event, 10 * 1000) >= 0);
        assert_true(f->freed);
}

/* Runs the loop without ever letting it sleep: what is dispatched now is
 * what was ready, not what a timer would bring later. */
static int run_without_waiting(Fixture *f, int max_iterations) {
        int dispatched = 0;

        for (int i = 0; i < max_iterations; i++) {
                int r = sd_event_run(f->event, 0);

                assert_true(r >= 0);
                dispatched += r;
        }
        return dispatched;
}

static void set_paused_on_loop(Fixture *f, bool paused) {
        virDomainPtr dom = virDomainLookupByName(f->conn, "test");
        virDomainInfo info;

        assert_non_null(dom);
        assert_int_equal(virDomainGetInfo(dom, &info), 0);
        if ((info.state == VIR_DOMAIN_PAUSED) != paused)
                assert_int_equal(paused ? virDomainSuspend(dom) : virDomainResume(dom), 0);
        virDomainFree(dom);
}

/* libvirt queues an event and arms a zero timer to deliver it: one wake-up
 * of the loop delivers it. Before, the change went through the mailbox first
 * and then to an sd-event timer that could sleep a millisecond. */
static void test_queued_event_is_delivered_without_waiting(void **state) {
        Fixture *f = &fixture;
        int id;

        set_paused_on_loop(f, true);
        id = virConnectDomainEventRegisterAny(f->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                              VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), f, NULL);
        assert_true(id >= 0);
        (void) run_without_waiting(f, 4);
        f->lifecycle_events = 0;

        set_paused_on_loop(f, false);
        assert_int_equal(run_without_waiting(f, 1), 1);
        assert_int_equal(f->lifecycle_events, 1);
        assert_int_equal(f->last_event, VIR_DOMAIN_EVENT_RESUMED);
        assert_true(f->on_loop_thread);
        assert_int_equal(virConnectDomainEventDeregisterAny(f->conn, id), 0);
        (void) run_without_waiting(f, 4);
}

typedef struct Watch {
        int fds[2];
        int id;
        int calls;
        int last_events;
        bool freed;
} Watch;

static void on_watch(int id, int fd, int events, void *opaque) {
        Watch *w = opaque;
        char c;

        w->calls++;
        w->last_events = events;
        (void) read(fd, &c, 1);
}

static void on_watch_freed(void *opaque) {
        ((Watch *) opaque)->freed = true;
}

/* What libvirt's RPC client does around every call a worker makes: it turns
 * the socket's watch off, reads the reply itself, and turns it on again. */
static void *toggle_from_thread(void *userdata) {
        Watch *w = userdata;

        virEventUpdateHandle(w->id, 0);
        assert_int_equal(write(w->fds[1], "x", 1), 1);
        assert_int_equal(read(w->fds[0], &(char) { 0 }, 1), 1);
        virEventUpdateHandle(w->id, VIR_EVENT_HANDLE_READABLE);
        return NULL;
}

static void test_watch_toggle_from_thread_wakes_nobody(void **state) {
        Fixture *f = &fixture;
        Watch w = {};
        pthread_t t;

        assert_int_equal(pipe2(w.fds, O_CLOEXEC | O_NONBLOCK), 0);
        w.id = virEventAddHandle(w.fds[0], VIR_EVENT_HANDLE_READABLE, on_watch, &w, on_watch_freed);
        assert_true(w.id >= 0);
        (void) run_without_waiting(f, 2);

        /* Nothing for the loop to do: no wake-up, no callback for data it never saw. */
        assert_int_equal(pthread_create(&t, NULL, toggle_from_thread, &w), 0);
        assert_int_equal(pthread_join(t, NULL), 0);
        assert_int_equal(run_without_waiting(f, 2), 0);
        assert_int_equal(w.calls, 0);

        /* Still watched, as libvirt asked. */
        assert_int_equal(write(w.fds[1], "y", 1), 1);
        (void) run_without_waiting(f, 2);
        assert_int_equal(w.calls, 1);
        assert_int_equal(w.last_events, VIR_EVENT_HANDLE_READABLE);

        /* Off means off, even with data waiting. */
        virEventUpdateHandle(w.id, 0);
        assert_int_equal(write(w.fds[1], "z", 1), 1);
        (void) run_without_waiting(f, 2);
        assert_int_equal(w.calls, 1);

        assert_int_equal(virEventRemoveHandle(w.id), 0);
        (void) run_without_waiting(f, 2);
        assert_true(w.freed);
        close(w.fds[0]);
        close(w.fds[1]);
}

/* libvirt closed a watched fd before removing its watch, and the number came
 * back for a new watch: removing the old one must leave the new one watched. */
static void test_fd_number_reused_before_removal(void **state) {
        Fixture *f = &fixture;
        Watch old = {}, new = {};
        int number;

        assert_int_equal(pipe2(old.fds, O_CLOEXEC | O_NONBLOCK), 0);
        old.id = virEventAddHandle(old.fds[0], VIR_EVENT_HANDLE_READABLE, on_watch, &old, NULL);
        assert_true(old.id >= 0);
        (void) run_without_waiting(f, 2);

        number = old.fds[0];
        close(old.fds[0]);
        assert_int_equal(pipe2(new.fds, O_CLOEXEC | O_NONBLOCK), 0);
        if (new.fds[0] != number) {
                assert_int_equal(dup3(new.fds[0], number, O_CLOEXEC), number);
                close(new.fds[0]);
                new.fds[0] = number;
        }
        new.id = virEventAddHandle(number, VIR_EVENT_HANDLE_READABLE, on_watch, &new, NULL);
        assert_true(new.id >= 0);
        assert_int_equal(virEventRemoveHandle(old.id), 0);
        (void) run_without_waiting(f, 2);

        assert_int_equal(write(new.fds[1], "x", 1), 1);
        (void) run_without_waiting(f, 2);
        assert_int_equal(new.calls, 1);
        assert_int_equal(old.calls, 0);

        assert_int_equal(virEventRemoveHandle(new.id), 0);
        (void) run_without_waiting(f, 2);
        close(old.fds[1]);
        close(new.fds[0]);
        close(new.fds[1]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_event_from_other_thread_arrives_on_loop),
                cmocka_unit_test(test_queued_event_is_delivered_without_waiting),
                cmocka_unit_test(test_watch_toggle_from_thread_wakes_nobody),
                cmocka_unit_test(test_fd_number_reused_before_removal),
        };
        int r;

        fixture.loop_thread = pthread_self();
        libvirt_error_silence();
        assert_int_equal(sd_event_new(&fixture.event), 0);
        assert_int_equal(mailbox_new(fixture.event, &fixture.mailbox), 0);
        assert_int_equal(libvirt_event_register(fixture.event, fixture.mailbox), 0);
        fixture.conn = virConnectOpen("test:///default");
        assert_non_null(fixture.conn);

        r = cmocka_run_group_tests(tests, NULL, NULL);

        virConnectClose(fixture.conn);
        libvirt_event_flush();
        libvirt_event_unregister();
        mailbox_free(fixture.mailbox);
        sd_event_unref(fixture.event);
        return r;
}
