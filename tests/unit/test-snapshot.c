/* Snapshots: libvirt's snapshot XML read, the disks a snapshot takes, the XML it asks for, and a disk's chain */
#include <libvirt/libvirt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "block-job.h"
#include "macro.h"
#include "snapshot.h"
#include "vm-spec-edit.h"

/* What libvirt 9.0 answers for an external disk snapshot with memory (trimmed). */
static const char *snapshot_xml_libvirt =
        "<domainsnapshot>\n"
        "  <name>s2</name>\n"
        "  <description>hostagent: quiesced</description>\n"
        "  <state>running</state>\n"
        "  <parent><name>s1</name></parent>\n"
        "  <creationTime>1700000000</creationTime>\n"
        "  <memory snapshot='external' file='/state/snapshots/u.s2.memory'/>\n"
        "  <disks>\n"
        "    <disk name='vda' snapshot='external' type='file'>\n"
        "      <driver type='qcow2'/><source file='/pool/data.s2'/>\n"
        "    </disk>\n"
        "    <disk name='hdc' snapshot='no'/>\n"
        "  </disks>\n"
        "  <domain type='qemu'><name>g1</name><devices>\n"
        "    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
        "<source file='/pool/data.s1'/><target dev='vda' bus='virtio'/></disk>\n"
        "    <disk type='file' device='cdrom'><source file='/iso/x.iso'/><target dev='hdc' bus='ide'/>"
        "<readonly/></disk>\n"
        "  </devices></domain>\n"
        "</domainsnapshot>\n";

static void test_parse(void **state) {
        SnapshotInfo s = {};

        assert_int_equal(snapshot_parse_xml(snapshot_xml_libvirt, &s), 0);
        assert_string_equal(s.name, "s2");
        assert_string_equal(s.parent, "s1");
        assert_string_equal(s.state, "running");
        assert_true(s.quiesced);
        assert_true(s.creation_usec == 1700000000ULL * 1000000);
        assert_string_equal(s.memory_file, "/state/snapshots/u.s2.memory");
        assert_int_equal(s.n_disks, 1);   /* hdc took none */
        assert_string_equal(s.disks[0].target, "vda");
        assert_string_equal(s.disks[0].overlay, "/pool/data.s2");
        assert_string_equal(s.disks[0].base, "/pool/data.s1");
        assert_string_equal(s.disks[0].base_format, "qcow2");
        snapshot_info_done(&s);
}

/* virsh's disk-only snapshot, no description, no parent. */
static void test_parse_plain(void **state) {
        SnapshotInfo s = {};

        assert_int_equal(snapshot_parse_xml("<domainsnapshot><name>vsh</name><state>disk-snapshot</state>"
                                            "<memory snapshot='no'/><disks><disk name='vda' snapshot='external' "
                                            "type='file'><source file='/p/d.vsh'/></disk></disks></domainsnapshot>",
                                            &s), 0);
        assert_false(s.quiesced);
        assert_false(s.internal);
        assert_null(s.parent);
        assert_null(s.memory_file);
        assert_int_equal(s.n_disks, 1);
        assert_string_equal(s.disks[0].base, "");   /* no <domain>: not known */
        snapshot_info_done(&s);
        /* virsh's default: inside the images, RAM and disks; a disk alone is enough. */
        assert_int_equal(snapshot_parse_xml("<domainsnapshot><name>i</name><state>running</state><memory "
                                            "snapshot='internal'/><disks><disk name='vda' snapshot='internal'/>"
                                            "</disks></domainsnapshot>", &s), 0);
        assert_true(s.internal);
        assert_int_equal(s.n_disks, 0);
        snapshot_info_done(&s);
        assert_int_equal(snapshot_parse_xml("<domainsnapshot><name>i</name><state>shutoff</state><memory "
                                            "snapshot='no'/><disks><disk name='vda' snapshot='internal'/>"
                                            "</disks></domainsnapshot>", &s), 0);
        assert_true(s.internal);
        snapshot_info_done(&s);
        assert_int_equal(snapshot_parse_xml("<domain/>", &s), -EINVAL);
        assert_int_equal(snapshot_parse_xml("<domainsnapshot><state>x</state></domainsnapshot>", &s), -EINVAL);
        assert_int_equal(snapshot_parse_xml("not xml", &s), -EINVAL);
}

static void test_names(void **state) {
        assert_true(snapshot_name_valid("s1"));
        assert_true(snapshot_name_valid("before-upgrade_2.0+x"));
        assert_false(snapshot_name_valid(""));
        assert_false(snapshot_name_valid(".hidden"));
        assert_false(snapshot_name_valid("-opt"));
        assert_false(snapshot_name_valid("a/b"));
        assert_false(snapshot_name_valid("a b"));
        assert_false(snapshot_name_valid("0123456789012345678901234567890123456789012345678901234567890123456789"));
}

#define DOMAIN(devices) "<domain type='qemu'><name>g</name><devices>" devices "</devices></domain>"
#define FILE_DISK(file, dev) "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>" \
        "<source file='" file "'/><target dev='" dev "' bus='virtio'/></disk>"

static void test_plan(void **state) {
        const char *xml = DOMAIN(FILE_DISK("/nonexistent/a", "vda") FILE_DISK("/nonexistent/b", "vdb")
                                 "<disk type='file' device='cdrom'><source file='/iso'/><target dev='hdc'/><readonly/></disk>"
                                 "<disk type='network' device='disk'><source protocol='nfs' name='/x'><host name='h'/>"
                                 "</source><target dev='vdc'/></disk>");
        SnapshotDisk *disks = NULL;
        char *why = NULL;
        size_t n = 0;

        assert_int_equal(snapshot_plan(xml, "s1", NULL, &disks, &n, &why), 0);
        assert_int_equal(n, 2);   /* the cdrom and the NFS disk take no overlay */
        assert_string_equal(disks[0].overlay, "/nonexistent/a.s1");
        assert_string_equal(disks[1].target, "vdb");
        assert_string_equal(disks[1].base, "/nonexistent/b");
        for (size_t i = 0; i < n; i++)
                snapshot_disk_done(&disks[i]);
        free(disks);

        assert_int_equal(snapshot_plan(xml, "s1", (char *[]) { (char *) "vdb", NULL }, &disks, &n, &why), 0);
        assert_int_equal(n, 1);
        assert_string_equal(disks[0].target, "vdb");
        snapshot_disk_done(&disks[0]);
        free(disks);

        assert_int_equal(snapshot_plan(xml, "s1", (char *[]) { (char *) "vdz", NULL }, &disks, &n, &why), -EINVAL);
        assert_string_equal(why, "disks: the VM has no disk vdz");
        free(why);
        assert_int_equal(snapshot_plan(xml, "s1", (char *[]) { (char *) "hdc", NULL }, &disks, &n, &why), -EINVAL);
        assert_non_null(strstr(why, "disks: hdc is not a writable file disk"));
        free(why);
        assert_int_equal(snapshot_plan(DOMAIN(""), "s1", NULL, &disks, &n, &why), -EINVAL);
        assert_non_null(strstr(why, "no writable file disk"));
        free(why);
}

static void test_plan_overlay_exists(void **state) {
        char dir[] = "/tmp/test-snapshot-XXXXXX", base[64], overlay[80], xml[512];
        SnapshotDisk *disks = NULL;
        char *why = NULL;
        size_t n = 0;
        FILE *f;

        assert_non_null(mkdtemp(dir));
        snprintf(base, sizeof base, "%s/d", dir);
        snprintf(overlay, sizeof overlay, "%s/d.s1", dir);
        f = fopen(overlay, "w");
        assert_non_null(f);
        fclose(f);
        snprintf(xml, sizeof xml, DOMAIN("<disk type='file' device='disk'><source file='%s'/><target dev='vda'/></disk>"),
                 base);
        assert_int_equal(snapshot_plan(xml, "s1", NULL, &disks, &n, &why), -EEXIST);
        assert_non_null(strstr(why, "the overlay"));
        free(why);
        unlink(overlay);
        rmdir(dir);
}

static void test_xml(void **state) {
        SnapshotDisk d = { .target = (char *) "vda", .overlay = (char *) "/p/a&b.s1" };
        char *xml = snapshot_xml("s1", &d, 1, (char *[]) { (char *) "vda", (char *) "hdc", NULL }, NULL, true);
        SnapshotInfo s = {};

        assert_non_null(xml);
        assert_non_null(strstr(xml, "<memory snapshot=\"no\"/>"));
        assert_non_null(strstr(xml, "<disk name=\"hdc\" snapshot=\"no\"/>"));
        assert_non_null(strstr(xml, "a&amp;b.s1"));   /* escaped */
        /* What libvirt is asked for reads back as the snapshot meant. */
        assert_int_equal(snapshot_parse_xml(xml, &s), 0);
        assert_true(s.quiesced);
        assert_int_equal(s.n_disks, 1);
        assert_string_equal(s.disks[0].overlay, "/p/a&b.s1");
        snapshot_info_done(&s);
        free(xml);

        xml = snapshot_xml("s2", &d, 1, (char *[]) { (char *) "vda", NULL }, "/st/m", false);
        assert_non_null(strstr(xml, "<memory snapshot=\"external\" file=\"/st/m\"/>"));
        assert_null(strstr(xml, "description"));
        free(xml);
}

static void test_chain(void **state) {
        const char *xml = DOMAIN("<disk type='file' device='disk'><source file='/p/d.s2'/>"
                                 "<backingStore type='file'><format type='qcow2'/><source file='/p/d.s1'/>"
                                 "<backingStore type='file'><format type='qcow2'/><source file='/p/d'/>"
                                 "<backingStore/></backingStore></backingStore>"
                                 "<mirror type='file' job='active-commit' ready='yes'/>"
                                 "<target dev='vda'/></disk>");
        bool ready = false;

        assert_int_equal(block_chain_position(xml, "vda", "/p/d.s2", &ready), 0);
        assert_true(ready);
        assert_int_equal(block_chain_position(xml, "vda", "/p/d.s1", NULL), 1);
        assert_int_equal(block_chain_position(xml, "vda", "/p/d", NULL), 2);
        assert_int_equal(block_chain_position(xml, "vda", "/p/other", NULL), -ENOENT);
        assert_int_equal(block_chain_position(xml, "vdb", "/p/d", NULL), -ENODEV);
        assert_int_equal(block_chain_position(DOMAIN(FILE_DISK("/p/d", "vda")), "vda", "/p/d", &ready), 0);
        assert_false(ready);
}

static void test_percent(void **state) {
        assert_int_equal(block_job_percent(&(BlockJobState) { .cur = 0, .end = 0 }), 0);
        assert_int_equal(block_job_percent(&(BlockJobState) { .cur = 50, .end = 200 }), 25);
        assert_int_equal(block_job_percent(&(BlockJobState) { .cur = 300, .end = 200 }), 100);
}

/* The spec follows a disk onto its overlay and back: a pool's volume by name, a host path by path and format. */
static void test_spec_follows(void **state) {
        const char *spec = "{\"name\":\"db1\",\"type\":\"kvm\",\"memory_mib\":512,\"vcpus\":1,\"disks\":["
                           "{\"pool\":\"fast\",\"volume\":\"root\"},{\"path\":\"/srv/x.img\",\"format\":\"raw\"}]}";
        char *out = NULL, *back = NULL;

        assert_int_equal(vm_spec_edit(spec, &(VmSpecEdit) { .kind = VM_SPEC_EDIT_DISK_FILE, .key = "vda",
                                                            .disk = &(VmSpecDisk) { .path = (char *) "/p/root.s1",
                                                                                    .format = "qcow2" } }, &out), 0);
        assert_non_null(strstr(out, "\"volume\":\"root.s1\""));
        assert_non_null(strstr(out, "\"pool\":\"fast\""));
        assert_int_equal(vm_spec_edit(out, &(VmSpecEdit) { .kind = VM_SPEC_EDIT_DISK_FILE, .key = "vdb",
                                                           .disk = &(VmSpecDisk) { .path = (char *) "/srv/x.img.s1",
                                                                                   .format = "qcow2" } }, &back), 0);
        assert_non_null(strstr(back, "\"path\":\"\\/srv\\/x.img.s1\",\"format\":\"qcow2\""));
        free(out);
        assert_int_equal(vm_spec_edit(back, &(VmSpecEdit) { .kind = VM_SPEC_EDIT_DISK_FILE, .key = "vdz",
                                                            .disk = &(VmSpecDisk) { .path = (char *) "/x",
                                                                                    .format = "raw" } }, &out), -ENOENT);
        free(back);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse),
                cmocka_unit_test(test_parse_plain),
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_plan),
                cmocka_unit_test(test_plan_overlay_exists),
                cmocka_unit_test(test_xml),
                cmocka_unit_test(test_chain),
                cmocka_unit_test(test_percent),
                cmocka_unit_test(test_spec_follows),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
