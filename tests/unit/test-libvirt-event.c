/* libvirt's event callbacks on sd-event, driven from libvirt's own threads */
#include <libvirt/libvirt.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_event_from_other_thread_arrives_on_loop),
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
