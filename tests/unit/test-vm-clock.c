/* The VM event clock: reads from libvirt that began before an event or a
 * removal do not undo it, and a rename keeps the VM's object */
#include <libvirt/libvirt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "macro.h"
#include "mailbox.h"
#include "manager.h"
#include "vm-clock.h"
#include "vm.h"

#define UUID_A "11111111-2222-3333-4444-555555555555"
#define UUID_B "22222222-3333-4444-5555-666666666666"

/* The clock alone */

static void test_removal_after_read_began(void **state) {
        VmClock c = {};
        VmClockRead old, newer;
        VmClockNews news;

        vm_clock_read_begin(&c, &old);
        vm_clock_note_removed(&c, UUID_A);
        assert_int_equal(vm_clock_judge_new(&c, UUID_A, &old, &news), VM_CLOCK_GONE);
        /* Asked again (a second old read), the answer stands. */
        assert_int_equal(vm_clock_judge_new(&c, UUID_A, &old, &news), VM_CLOCK_GONE);
        /* A read that began after the removal saw it defined again. */
        vm_clock_read_begin(&c, &newer);
        assert_int_equal(vm_clock_judge_new(&c, UUID_A, &newer, &news), VM_CLOCK_PUBLISH);
        assert_int_equal(news.clock, newer.started);
        assert_false(news.has_state);
        /* Other VMs are not concerned. */
        assert_int_equal(vm_clock_judge_new(&c, UUID_B, &old, &news), VM_CLOCK_PUBLISH);
        vm_clock_read_end(&c, &old);
        vm_clock_read_end(&c, &newer);
        vm_clock_read_end(&c, &newer);   /* twice is harmless */
        assert_int_equal(c.n_notes, 0);
        assert_null(c.oldest);
        assert_null(c.newest);
        vm_clock_done(&c);
}

static void test_defined_again_after_removal(void **state) {
        VmClock c = {};
        VmClockRead old;
        VmClockNews news;

        vm_clock_read_begin(&c, &old);
        vm_clock_note_removed(&c, UUID_A);
        vm_clock_note_event(&c, UUID_A, true, VM_STATE_RUNNING, "booted");
        assert_int_equal(vm_clock_judge_new(&c, UUID_A, &old, &news), VM_CLOCK_PUBLISH);
        assert_true(news.has_state);
        assert_int_equal(news.state, VM_STATE_RUNNING);
        assert_string_equal(news.reason, "booted");
        assert_true(news.clock > old.started);
        vm_clock_read_end(&c, &old);
        vm_clock_done(&c);
}

static void test_notes_only_while_reads_are_older(void **state) {
        VmClock c = {};
        VmClockRead a, b;

        /* Nobody reading: nothing to remember. */
        vm_clock_note_removed(&c, UUID_A);
        assert_int_equal(c.n_notes, 0);

        vm_clock_read_begin(&c, &a);
        vm_clock_note_removed(&c, UUID_A);
        vm_clock_read_begin(&c, &b);
        vm_clock_note_removed(&c, UUID_B);
        assert_int_equal(c.n_notes, 2);
        /* B ends, but A began before both notes: both stay. */
        vm_clock_read_end(&c, &b);
        assert_int_equal(c.n_notes, 2);
        vm_clock_read_end(&c, &a);
        assert_int_equal(c.n_notes, 0);
        vm_clock_done(&c);
}

static void test_bounded(void **state) {
        VmClock c = {};
        VmClockRead old, newer;
        VmClockNews news;
        char uuid[VIR_UUID_STRING_BUFLEN];

        vm_clock_read_begin(&c, &old);
        for (unsigned i = 0; i < VM_CLOCK_NOTES_MAX + 10; i++) {
                snprintf(uuid, sizeof uuid, "00000000-0000-0000-0000-%012u", i);
                vm_clock_note_removed(&c, uuid);
        }
        assert_int_equal(c.n_notes, VM_CLOCK_NOTES_MAX);
        /* The newest are remembered... */
        assert_int_equal(vm_clock_judge_new(&c, uuid, &old, &news), VM_CLOCK_GONE);
        /* ...the oldest were dropped: the old read cannot be trusted with them, */
        assert_int_equal(vm_clock_judge_new(&c, "00000000-0000-0000-0000-000000000000", &old, &news),
                         VM_CLOCK_UNSURE);
        assert_int_equal(vm_clock_judge_new(&c, UUID_A, &old, &news), VM_CLOCK_UNSURE);
        /* while a read begun after them can. */
        vm_clock_read_begin(&c, &newer);
        assert_int_equal(vm_clock_judge_new(&c, UUID_A, &newer, &news), VM_CLOCK_PUBLISH);
        vm_clock_read_end(&c, &old);
        vm_clock_read_end(&c, &newer);
        assert_int_equal(c.n_notes, 0);
        vm_clock_done(&c);
}

/* The VM registry: what ListVMs and the ObjectManager are served from. The
 * bus is not connected (signals go nowhere) and libvirt is disconnected
 * (the re-reads that events ask for cannot start, as while libvirtd restarts). */

typedef struct Fixture {
        Manager m;
        Mailbox *mailbox;
} Fixture;

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof *f);

        assert_non_null(f);
        assert_int_equal(sd_event_new(&f->m.event), 0);
        assert_int_equal(sd_bus_new(&f->m.bus), 0);
        assert_int_equal(mailbox_new(f->m.event, &f->mailbox), 0);
        assert_int_equal(libvirt_conn_new(f->m.event, NULL, f->mailbox, "test:///default", NULL, NULL,
                                          &f->m.libvirt), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;

        vm_registry_free(&f->m);
        libvirt_conn_free(f->m.libvirt);
        mailbox_free(f->mailbox);
        sd_bus_unref(f->m.bus);
        sd_event_unref(f->m.event);
        free(f);
        return 0;
}

/* What a read of a shut-off domain named NAME returns. */
static VmInfo snapshot(const char *uuid, const char *name) {
        VmInfo info = { .state = VM_STATE_SHUTOFF, .reason = "unknown", .vcpus = 1, .memory_mib = 64,
                        .persistent = true, .graphics_port = -1 };

        snprintf(info.uuid, sizeof info.uuid, "%s", uuid);
        info.name = strdup(name);
        assert_non_null(info.name);
        return info;
}

/* A read begins and ends around one snapshot of UUID. */
static int apply_fresh(Manager *m, const char *uuid, const char *name, Vm **ret) {
        VmClockRead read;
        VmInfo info;
        int r;

        vm_read_begin(m, &read);
        info = snapshot(uuid, name);
        r = vm_apply_info(m, &info, &read, ret);
        vm_read_end(m, &read);
        return r;
}

static void test_undefine_during_read_leaves_no_ghost(void **state) {
        Manager *m = &((Fixture *) *state)->m;
        VmClockRead periodic;
        VmInfo stale;
        Vm *vm;

        assert_int_equal(apply_fresh(m, UUID_A, "ghost", &vm), 0);
        assert_int_equal(vm_count(m), 1);

        /* A periodic re-read begins and reads the VM... */
        vm_read_begin(m, &periodic);
        stale = snapshot(UUID_A, "ghost");
        /* ...Undefine is answered meanwhile: the object is withdrawn... */
        vm_remove(vm_find(m, UUID_A));
        /* ...and the re-read, merged after, does not bring it back. */
        assert_int_equal(vm_apply_info(m, &stale, &periodic, &vm), -ENOENT);
        assert_null(vm_find(m, UUID_A));
        assert_null(vm_find_by_name(m, "ghost"));
        assert_int_equal(vm_count(m), 0);
        /* libvirt's UNDEFINED event comes later still: nothing to do. */
        vm_lifecycle_event(m, UUID_A, VIR_DOMAIN_EVENT_UNDEFINED, VIR_DOMAIN_EVENT_UNDEFINED_REMOVED);
        assert_int_equal(vm_count(m), 0);
        vm_read_end(m, &periodic);

        /* Defined again later, it is published again. */
        assert_int_equal(apply_fresh(m, UUID_A, "ghost", &vm), 0);
        assert_ptr_equal(vm_find(m, UUID_A), vm);
}

static void test_undefined_by_another_tool_during_read(void **state) {
        Manager *m = &((Fixture *) *state)->m;
        VmClockRead periodic;
        VmInfo stale;
        Vm *vm;

        assert_int_equal(apply_fresh(m, UUID_A, "ghost", &vm), 0);
        vm_read_begin(m, &periodic);
        stale = snapshot(UUID_A, "ghost");
        vm_lifecycle_event(m, UUID_A, VIR_DOMAIN_EVENT_UNDEFINED, VIR_DOMAIN_EVENT_UNDEFINED_REMOVED);
        assert_null(vm_find(m, UUID_A));
        assert_int_equal(vm_apply_info(m, &stale, &periodic, &vm), -ENOENT);
        assert_int_equal(vm_count(m), 0);
        vm_read_end(m, &periodic);
}

static void test_undefined_before_first_publication(void **state) {
        Manager *m = &((Fixture *) *state)->m;
        VmClockRead initial;
        VmInfo stale, other;
        Vm *vm;

        /* The first full read begins; virsh undefines one of the domains it read. */
        vm_read_begin(m, &initial);
        stale = snapshot(UUID_A, "ghost");
        other = snapshot(UUID_B, "other");
        vm_lifecycle_event(m, UUID_A, VIR_DOMAIN_EVENT_UNDEFINED, VIR_DOMAIN_EVENT_UNDEFINED_REMOVED);
        assert_int_equal(vm_apply_info(m, &stale, &initial, &vm), -ENOENT);
        assert_int_equal(vm_apply_info(m, &other, &initial, &vm), 0);
        vm_read_end(m, &initial);
        assert_null(vm_find(m, UUID_A));
        assert_non_null(vm_find(m, UUID_B));
        assert_int_equal(vm_count(m), 1);
}

static void test_rename_keeps_the_object(void **state) {
        Manager *m = &((Fixture *) *state)->m;
        VmClockRead periodic;
        VmInfo stale;
        Vm *vm, *renamed;
        char *path;

        assert_int_equal(apply_fresh(m, UUID_A, "old", &vm), 0);
        path = strdup(vm->path);
        assert_non_null(path);

        /* A periodic re-read begins before virsh domrename. */
        vm_read_begin(m, &periodic);
        stale = snapshot(UUID_A, "old");
        vm_lifecycle_event(m, UUID_A, VIR_DOMAIN_EVENT_UNDEFINED, VIR_DOMAIN_EVENT_UNDEFINED_RENAMED);
        assert_ptr_equal(vm_find(m, UUID_A), vm);
        vm_lifecycle_event(m, UUID_A, VIR_DOMAIN_EVENT_DEFINED, VIR_DOMAIN_EVENT_DEFINED_RENAMED);
        assert_ptr_equal(vm_find(m, UUID_A), vm);
        assert_int_equal(vm_count(m), 1);

        /* The re-read the events asked for has the new name. */
        assert_int_equal(apply_fresh(m, UUID_A, "new", &renamed), 0);
        assert_ptr_equal(renamed, vm);
        assert_string_equal(vm->path, path);
        assert_string_equal(vm->info.name, "new");
        assert_ptr_equal(vm_find_by_name(m, "new"), vm);
        assert_null(vm_find_by_name(m, "old"));

        /* The read that began before the rename does not bring the old name back. */
        assert_int_equal(vm_apply_info(m, &stale, &periodic, &renamed), 0);
        assert_ptr_equal(renamed, vm);
        assert_string_equal(vm->info.name, "new");
        assert_null(vm_find_by_name(m, "old"));
        vm_read_end(m, &periodic);
        free(path);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_removal_after_read_began),
                cmocka_unit_test(test_defined_again_after_removal),
                cmocka_unit_test(test_notes_only_while_reads_are_older),
                cmocka_unit_test(test_bounded),
                cmocka_unit_test_setup_teardown(test_undefine_during_read_leaves_no_ghost, setup, teardown),
                cmocka_unit_test_setup_teardown(test_undefined_by_another_tool_during_read, setup, teardown),
                cmocka_unit_test_setup_teardown(test_undefined_before_first_publication, setup, teardown),
                cmocka_unit_test_setup_teardown(test_rename_keeps_the_object, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
