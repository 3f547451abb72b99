/* VM states and reasons: libvirt's numbers and events become stable strings */
#include <libvirt/libvirt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "macro.h"
#include "vm-info.h"
#include "vm-state.h"

static void test_state_strings(void **state) {
        assert_string_equal(vm_state_to_string(VM_STATE_RUNNING), "running");
        assert_string_equal(vm_state_to_string(VM_STATE_SHUTOFF), "shutoff");
        assert_string_equal(vm_state_to_string(VM_STATE_PMSUSPENDED), "pmsuspended");
        assert_null(vm_state_to_string(_VM_STATE_MAX));
        assert_null(vm_state_to_string(-1));
        assert_int_equal(vm_state_from_string("paused"), VM_STATE_PAUSED);
        assert_int_equal(vm_state_from_string("sleeping"), -EINVAL);
        /* Our enum follows libvirt's: a state converts by value. */
        assert_int_equal((int) VM_STATE_CRASHED, VIR_DOMAIN_CRASHED);
        assert_int_equal((int) VM_STATE_PMSUSPENDED, VIR_DOMAIN_PMSUSPENDED);
}

static void test_reasons_from_libvirt(void **state) {
        assert_string_equal(vm_reason_from_libvirt(VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_IOERROR), "io-error");
        assert_string_equal(vm_reason_from_libvirt(VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_USER), "user");
        assert_string_equal(vm_reason_from_libvirt(VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_DESTROYED), "destroyed");
        assert_string_equal(vm_reason_from_libvirt(VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_MIGRATED), "migrated");
        assert_string_equal(vm_reason_from_libvirt(VIR_DOMAIN_CRASHED, VIR_DOMAIN_CRASHED_PANICKED), "panicked");
        /* A reason newer than us, or a nonsense state, is "unknown", never a crash. */
        assert_string_equal(vm_reason_from_libvirt(VIR_DOMAIN_PAUSED, 999), "unknown");
        assert_string_equal(vm_reason_from_libvirt(VIR_DOMAIN_PAUSED, -1), "unknown");
        assert_string_equal(vm_reason_from_libvirt(42, 0), "unknown");
}

static void test_events(void **state) {
        const char *reason = NULL;
        VmState s;

        assert_true(vm_state_from_event(VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_BOOTED, &s, &reason));
        assert_int_equal(s, VM_STATE_RUNNING);
        assert_string_equal(reason, "booted");
        /* An incoming migration's domain starts paused, waiting for the memory. */
        assert_true(vm_state_from_event(VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_MIGRATED, &s, &reason));
        assert_int_equal(s, VM_STATE_PAUSED);
        assert_string_equal(reason, "incoming");
        assert_true(vm_state_from_event(VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_IOERROR, &s, &reason));
        assert_int_equal(s, VM_STATE_PAUSED);
        assert_string_equal(reason, "io-error");
        assert_true(vm_state_from_event(VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_UNPAUSED, &s, &reason));
        assert_string_equal(reason, "unpaused");
        assert_true(vm_state_from_event(VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN, &s, &reason));
        assert_int_equal(s, VM_STATE_SHUTOFF);
        assert_string_equal(reason, "shutdown");
        assert_true(vm_state_from_event(VIR_DOMAIN_EVENT_CRASHED, VIR_DOMAIN_EVENT_CRASHED_PANICKED, &s, &reason));
        assert_int_equal(s, VM_STATE_CRASHED);
        assert_true(vm_state_from_event(VIR_DOMAIN_EVENT_PMSUSPENDED, VIR_DOMAIN_EVENT_PMSUSPENDED_DISK, &s, &reason));
        assert_string_equal(reason, "disk");
        /* Definition events say nothing of the run state. */
        assert_false(vm_state_from_event(VIR_DOMAIN_EVENT_DEFINED, VIR_DOMAIN_EVENT_DEFINED_ADDED, &s, &reason));
        assert_false(vm_state_from_event(VIR_DOMAIN_EVENT_UNDEFINED, 0, &s, &reason));
        assert_true(vm_state_from_event(VIR_DOMAIN_EVENT_STOPPED, 999, &s, &reason));
        assert_string_equal(reason, "unknown");
}

static void test_active(void **state) {
        assert_true(vm_state_is_active(VM_STATE_RUNNING));
        assert_true(vm_state_is_active(VM_STATE_PAUSED));
        assert_true(vm_state_is_active(VM_STATE_PMSUSPENDED));
        assert_false(vm_state_is_active(VM_STATE_SHUTOFF));
        assert_false(vm_state_is_active(VM_STATE_NOSTATE));
}

static void test_parse_domain_xml(void **state) {
        VmInfo info = { .graphics_port = -1 };
        const char *xml =
                "<domain type='kvm'><name>db&amp;1</name>"
                "<memory unit='GiB'>4</memory><currentMemory unit='MiB'>2048</currentMemory>"
                "<vcpu current='2'>8</vcpu>"
                "<metadata><ha:vm xmlns:ha='" VM_METADATA_NS "'><spec>{\"name\":\"db&amp;1\"}</spec></ha:vm>"
                "<other:x xmlns:other='urn:example'><spec>not ours</spec></other:x></metadata>"
                "<devices><graphics type='spice' port='5901' autoport='yes'><listen type='address' address='::1'/>"
                "</graphics></devices></domain>";

        assert_int_equal(vm_info_parse_xml(xml, &info), 0);
        assert_string_equal(info.name, "db&1");
        assert_int_equal(info.memory_mib, 2048);     /* current, not maximum */
        assert_int_equal(info.vcpus, 2);             /* current, not maximum */
        assert_string_equal(info.spec, "{\"name\":\"db&1\"}");
        assert_string_equal(info.graphics_type, "spice");
        assert_string_equal(info.graphics_listen, "::1");
        assert_int_equal(info.graphics_port, 5901);
        vm_info_done(&info);

        info = (VmInfo) { .graphics_port = -1 };
        assert_int_equal(vm_info_parse_xml("<domain><name>x</name><memory>131072</memory><vcpu>1</vcpu>"
                                           "<devices><graphics type='vnc' port='-1' autoport='yes'/></devices></domain>",
                                           &info), 0);
        assert_int_equal(info.memory_mib, 128);      /* KiB by default */
        assert_int_equal(info.graphics_port, -1);    /* autoport, not running */
        assert_null(info.spec);
        vm_info_done(&info);

        assert_int_equal(vm_info_parse_xml("<network/>", &info), -EBADMSG);
        assert_int_equal(vm_info_parse_xml("<domain", &info), -EBADMSG);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_state_strings),
                cmocka_unit_test(test_reasons_from_libvirt),
                cmocka_unit_test(test_events),
                cmocka_unit_test(test_active),
                cmocka_unit_test(test_parse_domain_xml),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
