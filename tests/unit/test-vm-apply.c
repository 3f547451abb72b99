/* ApplyVM's plan: the steps between two specs, live where the VM allows, none when they are equal */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "macro.h"
#include "vm-apply.h"
#include "vm-info.h"
#include "vm-spec.h"
#include "vm-spec-edit.h"

#define BASE "\"name\":\"db1\",\"type\":\"kvm\",\"memory_mib\":512,\"max_memory_mib\":1024,\"vcpus\":1,\"max_vcpus\":4"
#define DISK_ROOT "{\"pool\":\"fast\",\"volume\":\"root\"}"
#define DISK_DATA "{\"pool\":\"fast\",\"volume\":\"data1\"}"
#define NIC_A "{\"network\":\"tenant7\",\"mac\":\"52:54:00:00:00:0a\"}"

static const VmApplyLive running = { .running = true, .max_memory_mib = 1024, .max_vcpus = 4 };
static const VmApplyLive stopped = {};

/* The stored spec of a VM made from TEXT: parsed, normalized, parsed again (as the agent reads it back). */
static void stored(const char *text, VmSpec *ret) {
        _cleanup_(freep) char *error = NULL;
        VmSpec first = {};

        assert_int_equal(vm_spec_parse(text, &first, &error), 0);
        assert_int_equal(vm_spec_parse(json_object_to_json_string(first.normalized), ret, &error), 0);
        vm_spec_done(&first);
}

static char *plan_of(const char *cur_text, const char *want_text, const VmApplyLive *live, bool restart,
                     VmApplyPlan *plan) {
        _cleanup_(freep) char *error = NULL;
        VmSpec cur = {}, want = {};
        char *json;

        stored(cur_text, &cur);
        assert_int_equal(vm_spec_parse(want_text, &want, &error), 0);
        assert_int_equal(vm_apply_plan(&cur, &want, live, restart, plan, &error), 0);
        json = vm_apply_plan_json(plan);
        vm_spec_done(&cur);
        vm_spec_done(&want);
        return json;
}

static void test_same_spec_is_no_steps(void **state) {
        const char *spec = "{" BASE ",\"disks\":[" DISK_ROOT "],\"nics\":[{\"network\":\"tenant7\"}],"
                           "\"metadata\":{\"owner\":\"ops\"}}";
        VmApplyPlan plan;
        _cleanup_(freep) char *json = plan_of(spec, spec, &running, true, &plan);

        /* The NIC has no MAC in the spec: matched by its network, not taken for a new one. */
        assert_string_equal(json, "{\"steps\":[]}");
        assert_false(plan.define);
        vm_apply_plan_done(&plan);
}

static void test_disk_and_nic_added_live(void **state) {
        VmApplyPlan plan;
        _cleanup_(freep) char *json = plan_of("{" BASE ",\"disks\":[" DISK_ROOT "]}",
                                              "{" BASE ",\"disks\":[" DISK_ROOT "," DISK_DATA "],\"nics\":[" NIC_A "]}",
                                              &running, false, &plan);
        json_object *disks, *target;

        assert_string_equal(json, "{\"steps\":[{\"action\":\"attach-disk\",\"target\":\"vdb\",\"live\":true},"
                                  "{\"action\":\"attach-nic\",\"mac\":\"52:54:00:00:00:0a\",\"live\":true}]}");
        assert_true(plan.define);
        /* The final spec names the target picked. */
        assert_true(json_object_object_get_ex(plan.final, "disks", &disks));
        assert_true(json_object_object_get_ex(json_object_array_get_idx(disks, 1), "target", &target));
        assert_string_equal(json_object_get_string(target), "vdb");
        vm_apply_plan_done(&plan);
}

static void test_removed_disk_keeps_the_others_targets(void **state) {
        VmApplyPlan plan;
        _cleanup_(freep) char *json = plan_of("{" BASE ",\"disks\":[" DISK_ROOT "," DISK_DATA "]}",
                                              "{" BASE ",\"disks\":[" DISK_DATA "]}", &running, false, &plan);
        json_object *disks, *target;

        assert_string_equal(json, "{\"steps\":[{\"action\":\"detach-disk\",\"target\":\"vda\",\"live\":true}]}");
        assert_true(json_object_object_get_ex(plan.final, "disks", &disks));
        assert_true(json_object_object_get_ex(json_object_array_get_idx(disks, 0), "target", &target));
        assert_string_equal(json_object_get_string(target), "vdb");   /* not moved to vda */
        vm_apply_plan_done(&plan);
}

static void test_memory_live_machine_pending_restart(void **state) {
        VmApplyPlan plan;
        _cleanup_(freep) char *json = plan_of("{" BASE ",\"machine\":\"pc\"}",
                                              "{" BASE ",\"machine\":\"q35\",\"memory_mib\":768,\"vcpus\":2}",
                                              &running, true, &plan);

        assert_string_equal(json, "{\"steps\":[{\"action\":\"set-memory\",\"mib\":768,\"live\":true},"
                                  "{\"action\":\"set-vcpus\",\"vcpus\":2,\"live\":true},"
                                  "{\"action\":\"change\",\"field\":\"machine\",\"from\":\"pc\",\"to\":\"q35\",\"live\":false},"
                                  "{\"action\":\"restart\",\"live\":true}]}");
        vm_apply_plan_done(&plan);
}

static void test_beyond_live_maximum_waits_for_a_start(void **state) {
        VmApplyPlan plan;
        _cleanup_(freep) char *json = plan_of("{" BASE "}", "{" BASE ",\"memory_mib\":2048,\"max_memory_mib\":2048}",
                                              &running, false, &plan);

        assert_string_equal(json, "{\"steps\":[{\"action\":\"set-memory\",\"mib\":2048,\"live\":false},"
                                  "{\"action\":\"change\",\"field\":\"max_memory_mib\",\"from\":1024,\"to\":2048,"
                                  "\"live\":false}]}");
        vm_apply_plan_done(&plan);
}

static void test_stopped_vm_nothing_live(void **state) {
        VmApplyPlan plan;
        _cleanup_(freep) char *json = plan_of("{" BASE ",\"nics\":[" NIC_A "]}", "{" BASE ",\"autostart\":true}",
                                              &stopped, true, &plan);

        assert_string_equal(json, "{\"steps\":[{\"action\":\"detach-nic\",\"mac\":\"52:54:00:00:00:0a\",\"live\":false},"
                                  "{\"action\":\"set-autostart\",\"autostart\":true,\"live\":true}]}");
        vm_apply_plan_done(&plan);
}

static void test_metadata_only(void **state) {
        VmApplyPlan plan;
        _cleanup_(freep) char *json = plan_of("{" BASE ",\"metadata\":{\"owner\":\"ops\"}}",
                                              "{" BASE ",\"metadata\":{\"owner\":\"dba\"}}", &running, false, &plan);

        assert_string_equal(json, "{\"steps\":[{\"action\":\"set-metadata\",\"live\":true}]}");
        vm_apply_plan_done(&plan);
}

/* The agent channel is a device of the definition: it waits for the next start; a spec stored
 * before guest_agent existed means true, so applying it again changes nothing. */
static void test_guest_agent_pending(void **state) {
        VmApplyPlan plan;
        _cleanup_(freep) char *json = plan_of("{" BASE "}", "{" BASE ",\"guest_agent\":false}", &running, false, &plan);
        _cleanup_(freep) char *same = NULL;

        assert_string_equal(json, "{\"steps\":[{\"action\":\"change\",\"field\":\"guest_agent\",\"from\":true,"
                                  "\"to\":false,\"live\":false}]}");
        assert_true(plan.define);
        vm_apply_plan_done(&plan);
        same = plan_of("{" BASE "}", "{" BASE ",\"guest_agent\":true}", &running, false, &plan);
        assert_string_equal(same, "{\"steps\":[]}");
        vm_apply_plan_done(&plan);
}

static void test_what_cannot_change(void **state) {
        _cleanup_(freep) char *e1 = NULL, *e2 = NULL, *e3 = NULL;
        VmSpec cur = {}, want = {};
        VmApplyPlan plan;

        stored("{" BASE ",\"disks\":[" DISK_ROOT "]}", &cur);
        assert_int_equal(vm_spec_parse("{" BASE ",\"type\":\"qemu\"}", &want, &e1), 0);
        assert_int_equal(vm_apply_plan(&cur, &want, &running, false, &plan, &e1), -EINVAL);
        assert_string_equal(e1, "type: cannot change from kvm to qemu");
        vm_spec_done(&want);
        assert_int_equal(vm_spec_parse("{" BASE ",\"disks\":[" DISK_DATA ",{\"path\":\"/x\",\"target\":\"vda\"}]}",
                                       &want, &e2), 0);
        assert_int_equal(vm_apply_plan(&cur, &want, &running, false, &plan, &e2), -EINVAL);
        assert_string_equal(e2, "disks[1].target: vda is the target of a disk the VM has");
        vm_spec_done(&want);
        vm_spec_done(&cur);
}

/* The spec edits the device methods make: targets written out, the rest kept. */
static void test_spec_edits(void **state) {
        _cleanup_(freep) char *out = NULL, *out2 = NULL, *error = NULL;
        VmSpecDisk d = {};

        assert_int_equal(vm_spec_disk_parse("{\"path\":\"/srv/x.img\",\"target\":\"vdc\"}", "disk", &d, &error), 0);
        assert_int_equal(vm_spec_edit("{" BASE ",\"disks\":[" DISK_ROOT "]}",
                                      &(VmSpecEdit) { .kind = VM_SPEC_EDIT_ADD_DISK, .disk = &d }, &out), 0);
        assert_non_null(strstr(out, "\"target\":\"vda\"},{\"path\":\"\\/srv\\/x.img\""));
        assert_int_equal(vm_spec_edit(out, &(VmSpecEdit) { .kind = VM_SPEC_EDIT_REMOVE_DISK, .key = "vda" }, &out2), 0);
        assert_null(strstr(out2, "root"));
        assert_non_null(strstr(out2, "\"target\":\"vdc\""));
        assert_int_equal(vm_spec_edit(out2, &(VmSpecEdit) { .kind = VM_SPEC_EDIT_REMOVE_DISK, .key = "vdz" }, &out),
                         -ENOENT);
        vm_spec_disk_done(&d);
}

/* What waits for the next start: the definition against the running domain. */
static void test_pending(void **state) {
        VmInfo live = { .graphics_port = -1 }, config = { .graphics_port = -1 };
        char **p;

        assert_int_equal(vm_info_parse_xml("<domain><name>a</name><memory unit='MiB'>512</memory><vcpu>2</vcpu>"
                                           "<os><type machine='pc'>hvm</type></os><devices>"
                                           "<disk type='file'><source file='/a'/><target dev='vda' bus='virtio'/></disk>"
                                           "</devices></domain>", &live), 0);
        assert_int_equal(vm_info_parse_xml("<domain><name>a</name><memory unit='MiB'>1024</memory><vcpu>2</vcpu>"
                                           "<os><type machine='q35'>hvm</type></os><devices>"
                                           "<disk type='file'><source file='/b'/><target dev='vdb' bus='virtio'/></disk>"
                                           "</devices></domain>", &config), 0);
        p = vm_info_pending(&live, &config);
        assert_non_null(p);
        assert_string_equal(p[0], "machine: pc -> q35");
        assert_string_equal(p[1], "memory maximum: 512 -> 1024 MiB");
        assert_string_equal(p[2], "disk vdb: added (/b)");
        assert_string_equal(p[3], "disk vda: removed");
        assert_null(p[4]);
        for (char **s = p; *s; s++)
                free(*s);
        free(p);
        assert_null(vm_info_pending(&live, &live));
        vm_info_done(&live);
        vm_info_done(&config);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_same_spec_is_no_steps),
                cmocka_unit_test(test_disk_and_nic_added_live),
                cmocka_unit_test(test_removed_disk_keeps_the_others_targets),
                cmocka_unit_test(test_memory_live_machine_pending_restart),
                cmocka_unit_test(test_beyond_live_maximum_waits_for_a_start),
                cmocka_unit_test(test_stopped_vm_nothing_live),
                cmocka_unit_test(test_metadata_only),
                cmocka_unit_test(test_guest_agent_pending),
                cmocka_unit_test(test_what_cannot_change),
                cmocka_unit_test(test_spec_edits),
                cmocka_unit_test(test_pending),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
