/* VM backups: the domain XML read, the names made, the backup and checkpoint XML built and read back */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "backup.h"
#include "macro.h"

static const char *domain_xml =
        "<domain type='qemu'><name>web1</name><devices>"
        "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/p/web1.qcow2'/>"
        "<target dev='vda' bus='virtio'/></disk>"
        "<disk type='block' device='disk'><driver name='qemu' type='raw'/><source dev='/dev/vg/data'/>"
        "<target dev='vdb' bus='virtio'/></disk>"
        "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='/iso/x.iso'/>"
        "<target dev='hdc' bus='ide'/><readonly/></disk>"
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/p/ro.img'/>"
        "<target dev='vdc' bus='virtio'/><readonly/></disk>"
        "<disk type='network' device='disk'><driver name='qemu' type='raw'/><source protocol='nbd'>"
        "<host transport='unix' socket='/run/n.sock'/></source><target dev='vdd' bus='virtio'/></disk>"
        "<disk type='file' device='cdrom'><target dev='hdd' bus='ide'/><readonly/></disk>"
        "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0' state='connected'/></channel>"
        "</devices></domain>";

static void test_domain_parse(void **state) {
        BackupDomain d = {};

        assert_int_equal(backup_domain_parse(domain_xml, &d), 0);
        assert_int_equal(d.n_disks, 6);
        assert_string_equal(d.disks[0].target, "vda");
        assert_string_equal(d.disks[0].format, "qcow2");
        assert_true(d.disks[0].include);
        assert_string_equal(d.disks[1].target, "vdb");
        assert_true(d.disks[1].include);
        assert_false(d.disks[2].include);   /* a cdrom */
        assert_false(d.disks[3].include);   /* read-only */
        assert_string_equal(d.disks[4].target, "vdd");
        assert_true(d.disks[4].include);    /* a network disk */
        assert_false(d.disks[5].include);   /* an empty cdrom */
        assert_true(d.has_agent);
        assert_true(d.agent_connected);
        backup_domain_done(&d);
}

static void test_domain_parse_agent(void **state) {
        BackupDomain d = {};

        assert_int_equal(backup_domain_parse("<domain><devices><channel type='unix'><target type='virtio' "
                                             "name='org.qemu.guest_agent.0' state='disconnected'/></channel>"
                                             "</devices></domain>", &d), 0);
        assert_true(d.has_agent);
        assert_false(d.agent_connected);
        backup_domain_done(&d);
        assert_int_equal(backup_domain_parse("<domain><devices/></domain>", &d), 0);
        assert_false(d.has_agent);
        assert_int_equal(d.n_disks, 0);
        backup_domain_done(&d);
        assert_int_equal(backup_domain_parse("<domainbackup/>", &d), -EBADMSG);
        assert_int_equal(backup_domain_parse("not xml", &d), -EBADMSG);
}

static void test_names(void **state) {
        char *s = NULL, *long_name;

        assert_int_equal(backup_checkpoint_name(1795811415, 1, &s), 0);   /* 2026-11-27 20:30:15 UTC */
        assert_string_equal(s, "backup-20261127T203015Z");
        free(s);
        assert_int_equal(backup_checkpoint_name(1795811415, 3, &s), 0);
        assert_string_equal(s, "backup-20261127T203015Z-3");
        free(s);
        assert_int_equal(backup_volume_name("web1", "vda", "backup-20261127T203015Z", &s), 0);
        assert_string_equal(s, "web1-vda-backup-20261127T203015Z");
        free(s);
        /* Characters a volume name cannot have become '_'; a leading one a letter. */
        assert_int_equal(backup_volume_name("_my vm/ü", "vda", "backup-x", &s), 0);
        assert_string_equal(s, "vmy_vm___-vda-backup-x");
        free(s);
        /* A long VM name is cut so that the whole fits 64. */
        long_name = malloc(101);
        memset(long_name, 'a', 100);
        long_name[100] = 0;
        assert_int_equal(backup_volume_name(long_name, "vda", "backup-20261127T203015Z", &s), 0);
        assert_int_equal(strlen(s), BACKUP_NAME_MAX);
        assert_string_equal(s + strlen(s) - 28, "-vda-backup-20261127T203015Z");
        free(s);
        free(long_name);
}

/* A plan of vda (qcow2), vdb (raw) and vdd (NBD) into /pool, the cdroms and vdc left out. */
static void plan_make(BackupPlan *p, const char *incremental) {
        BackupDomain d = {};

        assert_int_equal(backup_domain_parse(domain_xml, &d), 0);
        *p = (BackupPlan) {
                .vm_name = strdup("web1"),
                .dir = strdup("/pool"),
                .checkpoint = strdup("backup-20261127T203015Z"),
                .incremental = incremental ? strdup(incremental) : NULL,
                .disks = d.disks,
                .n_disks = d.n_disks,
        };
        assert_int_equal(backup_plan_name_disks(p), 0);
        assert_int_equal(backup_plan_included(p), 3);
}

static void test_plan_files(void **state) {
        BackupPlan p;

        plan_make(&p, NULL);
        assert_string_equal(p.disks[0].name, "web1-vda-backup-20261127T203015Z");
        assert_string_equal(p.disks[0].partial, "/pool/.hostagent-backup.web1-vda-backup-20261127T203015Z");
        assert_string_equal(p.disks[0].path, "/pool/web1-vda-backup-20261127T203015Z");
        assert_null(p.disks[2].name);
        backup_plan_done(&p);
}

/* Names that cannot fit leave the plan freeable (no name freed and kept). */
static void test_plan_name_too_long(void **state) {
        BackupPlan p;

        plan_make(&p, NULL);
        free(p.checkpoint);
        p.checkpoint = strdup("backup-0123456789012345678901234567890123456789012345678901234567890");
        assert_int_equal(backup_plan_name_disks(&p), -ENAMETOOLONG);
        backup_plan_done(&p);
}

static void test_backup_xml(void **state) {
        _cleanup_(freep) char *xml = NULL, *ck = NULL;
        BackupRunning r = {};
        BackupPlan p;

        plan_make(&p, NULL);
        assert_int_equal(backup_xml_build(&p, &xml), 0);
        assert_non_null(strstr(xml, "<domainbackup mode=\"push\">"));
        assert_null(strstr(xml, "<incremental>"));
        assert_non_null(strstr(xml, "<disk name=\"vda\" backup=\"yes\" type=\"file\">"));
        assert_non_null(strstr(xml, "<target file=\"/pool/.hostagent-backup.web1-vda-backup-20261127T203015Z\"/>"));
        assert_non_null(strstr(xml, "<driver type=\"qcow2\"/>"));
        assert_non_null(strstr(xml, "<disk name=\"hdc\" backup=\"no\"/>"));
        assert_int_equal(backup_checkpoint_xml_build(&p, &ck), 0);
        assert_non_null(strstr(ck, "<name>backup-20261127T203015Z</name>"));
        assert_non_null(strstr(ck, "<disk name=\"vda\" checkpoint=\"bitmap\"/>"));
        assert_non_null(strstr(ck, "<disk name=\"vdb\" checkpoint=\"no\"/>"));   /* raw: no bitmap */
        /* What libvirt gives back for it reads back to the same files. */
        assert_int_equal(backup_running_parse(xml, &r), 0);
        assert_true(r.push);
        assert_null(r.incremental);
        assert_int_equal(r.n, 3);
        assert_string_equal(r.targets[1], "vdb");
        assert_string_equal(r.files[1], p.disks[1].partial);
        backup_running_done(&r);
        backup_plan_done(&p);
}

static void test_incremental_xml(void **state) {
        _cleanup_(freep) char *xml = NULL;
        BackupRunning r = {};
        BackupPlan p;

        plan_make(&p, "backup-20261126T000000Z");
        assert_int_equal(backup_xml_build(&p, &xml), 0);
        assert_non_null(strstr(xml, "<incremental>backup-20261126T000000Z</incremental>"));
        /* A raw disk has no bitmap: copied whole in an incremental backup. */
        assert_non_null(strstr(xml, "<disk name=\"vdb\" backup=\"yes\" backupmode=\"full\" type=\"file\">"));
        assert_null(strstr(xml, "<disk name=\"vda\" backup=\"yes\" backupmode"));
        assert_int_equal(backup_running_parse(xml, &r), 0);
        assert_string_equal(r.incremental, "backup-20261126T000000Z");
        backup_running_done(&r);
        backup_plan_done(&p);
}

static void test_no_checkpoint_without_qcow2(void **state) {
        char *ck = NULL;
        BackupPlan p;

        plan_make(&p, NULL);
        p.disks[0].include = false;   /* only the raw vdb and vdd */
        assert_int_equal(backup_checkpoint_xml_build(&p, &ck), -ENOENT);
        assert_null(ck);
        backup_plan_done(&p);
}

static void test_running_parse_pull(void **state) {
        BackupRunning r = {};

        assert_int_equal(backup_running_parse("<domainbackup mode='pull'><server transport='unix' socket='/s'/>"
                                              "<disks><disk name='vda' backup='yes' type='file'><scratch "
                                              "file='/s.img'/></disk><disk name='vdb' backup='no'/></disks>"
                                              "</domainbackup>", &r), 0);
        assert_false(r.push);
        assert_int_equal(r.n, 1);
        assert_string_equal(r.files[0], "");
        backup_running_done(&r);
        assert_int_equal(backup_running_parse("<domain/>", &r), -EBADMSG);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_domain_parse),
                cmocka_unit_test(test_domain_parse_agent),
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_plan_files),
                cmocka_unit_test(test_plan_name_too_long),
                cmocka_unit_test(test_backup_xml),
                cmocka_unit_test(test_incremental_xml),
                cmocka_unit_test(test_no_checkpoint_without_qcow2),
                cmocka_unit_test(test_running_parse_pull),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
