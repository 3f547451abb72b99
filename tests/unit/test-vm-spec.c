/* The VM spec: every bad field named, good specs become XML libvirt accepts */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "libvirt-error.h"
#include "macro.h"
#include "vm-info.h"
#include "vm-spec.h"

typedef struct BadSpec {
        const char *spec;
        const char *error_prefix;   /* the field and the start of why */
} BadSpec;

#define BASE "\"name\":\"web1\",\"memory_mib\":128"

static const BadSpec bad_specs[] = {
        { "", "spec: not valid JSON" },
        { "{", "spec: not valid JSON" },
        { "[1,2]", "spec: must be a JSON object" },
        { "\"web1\"", "spec: must be a JSON object" },
        { "{\"memory_mib\":128}", "name: is required" },
        { "{\"name\":\"web1\"}", "memory_mib: is required" },
        { "{" BASE ",\"colour\":\"blue\"}", "colour: unknown key" },
        { "{\"name\":42,\"memory_mib\":128}", "name: must be a string" },
        { "{\"name\":\"\",\"memory_mib\":128}", "name: must be 1 to 64" },
        { "{\"name\":\"web<1>\",\"memory_mib\":128}", "name: must be 1 to 64" },
        { "{\"name\":\"a&b\",\"memory_mib\":128}", "name: must be 1 to 64" },
        { "{\"name\":\"it's\",\"memory_mib\":128}", "name: must be 1 to 64" },
        { "{\"name\":\"x/y\",\"memory_mib\":128}", "name: must be 1 to 64" },
        { "{\"name\":\"-web\",\"memory_mib\":128}", "name: must be 1 to 64" },
        { "{\"name\":\"we\\u0000b\",\"memory_mib\":128}", "name: must not contain NUL" },
        { "{\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"memory_mib\":128}",
          "name: must be 1 to 64" },
        { "{\"name\":\"web1\",\"memory_mib\":\"128\"}", "memory_mib: must be an integer" },
        { "{\"name\":\"web1\",\"memory_mib\":1.5}", "memory_mib: must be an integer" },
        { "{\"name\":\"web1\",\"memory_mib\":8}", "memory_mib: must be between 16 and" },
        { "{\"name\":\"web1\",\"memory_mib\":-1}", "memory_mib: must be between" },
        { "{\"name\":\"web1\",\"memory_mib\":99999999999999999999999}", "memory_mib: must be between" },
        { "{" BASE ",\"vcpus\":0}", "vcpus: must be between 1 and 512" },
        { "{" BASE ",\"vcpus\":100000}", "vcpus: must be between 1 and 512" },
        { "{" BASE ",\"vcpus\":true}", "vcpus: must be an integer" },
        { "{" BASE ",\"type\":\"xen\"}", "type: must be one of kvm, qemu, test" },
        { "{" BASE ",\"firmware\":\"coreboot\"}", "firmware: must be one of bios, uefi" },
        { "{" BASE ",\"machine\":\"q35 ; rm\"}", "machine: 'q35 ; rm' is not a machine type" },
        { "{" BASE ",\"uuid\":\"not-a-uuid\"}", "uuid: 'not-a-uuid' is not a UUID" },
        { "{" BASE ",\"disks\":{}}", "disks: must be an array" },
        { "{" BASE ",\"disks\":[42]}", "disks[0]: must be an object" },
        { "{" BASE ",\"disks\":[{}]}", "disks[0].path: is required" },
        { "{" BASE ",\"disks\":[{\"path\":\"relative.img\"}]}", "disks[0].path: must be an absolute path" },
        { "{" BASE ",\"disks\":[{\"path\":\"/a.img\",\"bus\":\"usb\"}]}",
          "disks[0].bus: must be one of virtio, sata, scsi, ide" },
        { "{" BASE ",\"disks\":[{\"path\":\"/a.img\",\"format\":\"vmdk\"}]}", "disks[0].format: must be one of raw, qcow2" },
        { "{" BASE ",\"disks\":[{\"path\":\"/a.img\"},{\"path\":\"/b.img\",\"cache\":\"none\"}]}", "disks[1].cache: unknown key" },
        { "{" BASE ",\"disks\":[{\"path\":\"/a.img\"},{\"path\":\"/a.img\"}]}", "disks[1].path: same file as disks[0]" },
        { "{" BASE ",\"disks\":[{\"path\":\"/a.iso\",\"device\":\"cdrom\"}]}", "disks[0].bus: a cdrom must be on" },
        { "{" BASE ",\"disks\":[{\"pool\":\"nfs1\"}]}", "disks[0].volume: is required with pool" },
        { "{" BASE ",\"disks\":[{\"volume\":\"v\"}]}", "disks[0].pool: is required with volume" },
        { "{" BASE ",\"disks\":[{\"pool\":\"p\",\"volume\":\"v\",\"path\":\"/x\"}]}", "disks[0].path: give either a path or a pool and a volume" },
        { "{" BASE ",\"disks\":[{\"pool\":\"p\",\"volume\":\"v\",\"format\":\"raw\"}]}", "disks[0].format: comes from the volume" },
        { "{" BASE ",\"disks\":[{\"pool\":\"../p\",\"volume\":\"v\"}]}", "disks[0].pool: is not a valid pool name" },
        { "{" BASE ",\"disks\":[{\"pool\":\"p\",\"volume\":\"v\"},{\"pool\":\"p\",\"volume\":\"v\"}]}", "disks[1].volume: same volume as disks[0]" },
        { "{" BASE ",\"max_memory_mib\":64}", "max_memory_mib: must be at least memory_mib (128)" },
        { "{" BASE ",\"vcpus\":4,\"max_vcpus\":2}", "max_vcpus: must be at least vcpus (4)" },
        { "{" BASE ",\"max_vcpus\":513}", "max_vcpus: must be between 1 and 512" },
        { "{" BASE ",\"disks\":[{\"path\":\"/a\",\"target\":\"vd1\"}]}", "disks[0].target: 'vd1' is not a disk target" },
        { "{" BASE ",\"disks\":[{\"path\":\"/a\",\"target\":\"sdb\"}]}", "disks[0].target: 'sdb' is not a target of the virtio bus" },
        { "{" BASE ",\"disks\":[{\"path\":\"/a\",\"bus\":\"ide\",\"target\":\"hde\"}]}", "disks[0].target: 'hde' is not a target of the ide bus" },
        { "{" BASE ",\"disks\":[{\"path\":\"/a\",\"target\":\"vdb\"},{\"path\":\"/b\",\"target\":\"vdb\"}]}",
          "disks[1].target: vdb is given to another disk" },
        { "{" BASE ",\"disks\":[{\"path\":\"/a\",\"bus\":\"ide\"},{\"path\":\"/b\",\"bus\":\"ide\"},{\"path\":\"/c\",\"bus\":\"ide\"},"
          "{\"path\":\"/d\",\"bus\":\"ide\"},{\"path\":\"/e\",\"bus\":\"ide\"}]}", "disks[4].bus: at most 4 disks on ide" },
        { "{" BASE ",\"nics\":[{\"model\":\"virtio\"}]}", "nics[0].bridge: is required" },
        { "{" BASE ",\"nics\":[{\"bridge\":\"this-name-is-too-long\"}]}", "nics[0].bridge: 'this-name-is-too-long' is not a valid interface name" },
        { "{" BASE ",\"nics\":[{\"bridge\":\"br0\",\"mac\":\"52:54:00:12:34\"}]}", "nics[0].mac: '52:54:00:12:34' is not a unicast MAC" },
        { "{" BASE ",\"nics\":[{\"bridge\":\"br0\",\"mac\":\"01:00:5e:00:00:01\"}]}", "nics[0].mac: '01:00:5e:00:00:01' is not a unicast MAC" },
        { "{" BASE ",\"nics\":[{\"bridge\":\"br0\",\"mac\":\"00:00:00:00:00:00\"}]}", "nics[0].mac: '00:00:00:00:00:00' is not a unicast MAC" },
        { "{" BASE ",\"nics\":[{\"bridge\":\"br0\",\"mac\":\"52:54:00:zz:34:56\"}]}", "nics[0].mac:" },
        { "{" BASE ",\"nics\":[{\"bridge\":\"br0\",\"mac\":\"52:54:00:12:34:56\"},{\"bridge\":\"br1\",\"mac\":\"52:54:00:12:34:56\"}]}",
          "nics[1].mac: same address as nics[0]" },
        { "{" BASE ",\"nics\":[{\"bridge\":\"br0\",\"model\":\"ne2k\"}]}", "nics[0].model: must be one of virtio, e1000, rtl8139" },
        { "{" BASE ",\"nics\":[{\"network\":\"vmnet\",\"bridge\":\"br0\"}]}", "nics[0].bridge: give either a bridge or a network" },
        { "{" BASE ",\"nics\":[{\"network\":\"a/b\"}]}", "nics[0].network: 'a/b' is not a network name" },
        { "{" BASE ",\"graphics\":{\"type\":\"rdp\"}}", "graphics.type: must be one of vnc, spice" },
        { "{" BASE ",\"graphics\":{\"listen\":\"localhost\"}}", "graphics.listen: 'localhost' is not an IPv4 or IPv6 address" },
        { "{" BASE ",\"graphics\":{\"port\":5900}}", "graphics.port: unknown key" },
        { "{" BASE ",\"autostart\":\"yes\"}", "autostart: must be true or false" },
        { "{" BASE ",\"start\":1}", "start: must be true or false" },
        { "{" BASE ",\"metadata\":[\"owner\"]}", "metadata: must be an object of strings" },
        { "{" BASE ",\"metadata\":{\"owner\":42}}", "metadata.owner: must be a string" },
        /* Several wrong: the first key in the spec is named, a missing one only after. */
        { "{\"vcpus\":0,\"colour\":1}", "vcpus: must be between 1 and 512" },
        { "{\"colour\":1,\"vcpus\":0}", "colour: unknown key" },
        { "{\"memory_mib\":8}", "memory_mib: must be between 16 and" },
        { "{}", "name: is required" },
        { "{" BASE ",\"disks\":[{\"cache\":1,\"path\":\"relative.img\"}]}", "disks[0].cache: unknown key" },
        { "{" BASE ",\"disks\":[{\"path\":\"relative.img\",\"cache\":1}]}", "disks[0].path: must be an absolute path" },
        { "{" BASE ",\"disks\":[{\"bus\":\"usb\"}]}", "disks[0].bus: must be one of" },
        { "{" BASE ",\"nics\":[{\"model\":\"x\",\"bridge\":\"a/b\"}]}", "nics[0].model: must be one of" },
        { "{" BASE ",\"graphics\":[]}", "graphics: must be an object" },
        { "{" BASE ",\"graphics\":{\"listen\":\"x\",\"type\":\"rdp\"}}", "graphics.listen: 'x' is not" },
};

static void test_bad_specs_name_the_field(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(bad_specs); i++) {
                _cleanup_(freep) char *error = NULL;
                VmSpec spec = {};
                int r = vm_spec_parse(bad_specs[i].spec, &spec, &error);

                if (r != -EINVAL || !error || strncmp(error, bad_specs[i].error_prefix,
                                                      strlen(bad_specs[i].error_prefix)) != 0)
                        fail_msg("spec %zu %s: got r=%d error '%s', want '%s...'", i, bad_specs[i].spec, r,
                                 strempty(error), bad_specs[i].error_prefix);
        }
        assert_true(ELEMENTSOF(bad_specs) >= 30);
}

static void test_too_large(void **state) {
        _cleanup_(freep) char *big = malloc(VM_SPEC_MAX_BYTES + 2), *error = NULL;
        VmSpec spec = {};

        memset(big, ' ', VM_SPEC_MAX_BYTES + 1);
        big[VM_SPEC_MAX_BYTES + 1] = '\0';
        assert_int_equal(vm_spec_parse(big, &spec, &error), -EINVAL);
        assert_non_null(strstr(error, "spec: larger than"));
}

static const char full_spec[] =
        "{\"name\":\"web1\",\"memory_mib\":1024,\"vcpus\":2,\"type\":\"test\",\"machine\":\"q35\","
        "\"firmware\":\"bios\",\"disks\":[{\"path\":\"/var/lib/images/a&b<c>'\\\".qcow2\",\"format\":\"qcow2\",\"bus\":\"virtio\"},"
        "{\"path\":\"/srv/cd.iso\",\"device\":\"cdrom\",\"bus\":\"sata\"}],"
        "\"nics\":[{\"bridge\":\"br0\",\"model\":\"virtio\",\"mac\":\"52:54:00:AB:34:56\"},{\"bridge\":\"br1\"}],"
        "\"graphics\":{\"type\":\"vnc\",\"listen\":\"127.0.0.1\"},\"autostart\":true,"
        "\"metadata\":{\"owner\":\"ops <&> team\"}}";

static void test_good_spec_normalized(void **state) {
        _cleanup_(freep) char *error = NULL;
        VmSpec spec = {};
        json_object *nics, *nic1, *mac;

        assert_int_equal(vm_spec_parse(full_spec, &spec, &error), 0);
        assert_string_equal(spec.name, "web1");
        assert_int_equal(spec.memory_mib, 1024);
        assert_int_equal(spec.n_disks, 2);
        assert_true(spec.disks[1].readonly);   /* a cdrom is read-only */
        assert_string_equal(spec.nics[0].mac, "52:54:00:ab:34:56");
        /* A NIC without a MAC gets one, recorded in the stored spec. */
        assert_int_equal(strncmp(spec.nics[1].mac, "52:54:00:", 9), 0);
        assert_true(json_object_object_get_ex(spec.normalized, "nics", &nics));
        nic1 = json_object_array_get_idx(nics, 1);
        assert_true(json_object_object_get_ex(nic1, "mac", &mac));
        assert_string_equal(json_object_get_string(mac), spec.nics[1].mac);
        vm_spec_done(&spec);
}

static void test_defaults(void **state) {
        _cleanup_(freep) char *error = NULL, *xml = NULL;
        VmSpec spec = {};

        assert_int_equal(vm_spec_parse("{\"name\":\"tiny\",\"memory_mib\":128}", &spec, &error), 0);
        assert_int_equal(spec.vcpus, 1);
        assert_string_equal(spec.type, "kvm");
        assert_string_equal(spec.firmware, "bios");
        assert_null(spec.graphics_type);
        assert_int_equal(vm_spec_to_xml(&spec, &xml), 0);
        assert_non_null(strstr(xml, "<domain type=\"kvm\">"));
        assert_non_null(strstr(xml, "<memory unit=\"MiB\">128</memory>"));
        assert_non_null(strstr(xml, "<currentMemory unit=\"MiB\">128</currentMemory>"));
        assert_non_null(strstr(xml, "<vcpu current=\"1\">1</vcpu>"));
        assert_null(strstr(xml, "<graphics"));
        vm_spec_done(&spec);
}

/* A NIC on an Open vSwitch network: libvirt's virtualport, and the network's VLAN tag. */
static void test_openvswitch_nic(void **state) {
        _cleanup_(freep) char *error = NULL, *xml = NULL;
        VmSpec spec = {};

        assert_int_equal(vm_spec_parse("{" BASE ",\"nics\":[{\"network\":\"ovsnet\"}]}", &spec, &error), 0);
        spec.nics[0].bridge = strdup("ovsnet");
        spec.nics[0].openvswitch = true;
        spec.nics[0].vlan = 100;
        assert_int_equal(vm_spec_to_xml(&spec, &xml), 0);
        assert_non_null(strstr(xml, "<source bridge=\"ovsnet\"/>"));
        assert_non_null(strstr(xml, "<virtualport type=\"openvswitch\"/>"));
        assert_non_null(strstr(xml, "<tag id=\"100\"/>"));
        /* The spec keeps the network's name, not the bridge it resolved to. */
        assert_non_null(strstr(json_object_to_json_string_ext(spec.normalized, JSON_C_TO_STRING_PLAIN),
                               "\"network\":\"ovsnet\""));
        vm_spec_done(&spec);
}

/* Maxima above what the VM starts with; disks keep the targets given, the others take what is free. */
static void test_maxima_and_targets(void **state) {
        _cleanup_(freep) char *error = NULL, *xml = NULL;
        VmSpec spec = {};

        assert_int_equal(vm_spec_parse("{" BASE ",\"max_memory_mib\":512,\"vcpus\":2,\"max_vcpus\":8,\"disks\":["
                                       "{\"path\":\"/a\"},{\"path\":\"/b\",\"target\":\"vda\"},{\"path\":\"/c\"}]}",
                                       &spec, &error), 0);
        assert_string_equal(spec.disks[0].target, "vdb");
        assert_string_equal(spec.disks[1].target, "vda");
        assert_string_equal(spec.disks[2].target, "vdc");
        assert_int_equal(vm_spec_to_xml(&spec, &xml), 0);
        assert_non_null(strstr(xml, "<memory unit=\"MiB\">512</memory>"));
        assert_non_null(strstr(xml, "<currentMemory unit=\"MiB\">128</currentMemory>"));
        assert_non_null(strstr(xml, "<vcpu current=\"2\">8</vcpu>"));
        assert_non_null(strstr(json_object_to_json_string_ext(spec.normalized, JSON_C_TO_STRING_PLAIN),
                               "\"max_memory_mib\":512,\"max_vcpus\":8"));
        vm_spec_done(&spec);
}

static void test_graphics_listen_defaults_to_loopback(void **state) {
        _cleanup_(freep) char *error = NULL, *xml = NULL;
        VmSpec spec = {};

        assert_int_equal(vm_spec_parse("{" BASE ",\"graphics\":{}}", &spec, &error), 0);
        assert_string_equal(spec.graphics_type, "vnc");
        assert_string_equal(spec.graphics_listen, "127.0.0.1");
        vm_spec_done(&spec);
}

/* The first <disk><source file=...> as libvirt has it, unescaped. */
static const char *first_disk_source(const char *xml) {
        static char path[512];
        xmlDocPtr doc = xmlReadMemory(xml, (int) strlen(xml), "d.xml", NULL, XML_PARSE_NONET);
        xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
        xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST "string(/domain/devices/disk[1]/source/@file)", ctx);

        snprintf(path, sizeof path, "%s", o && o->stringval ? (const char *) o->stringval : "");
        xmlXPathFreeObject(o);
        xmlXPathFreeContext(ctx);
        xmlFreeDoc(doc);
        return path;
}

/* libvirt itself parses what we built: metacharacters survive, the spec
 * comes back out of the metadata, the devices are where we put them. */
static void test_xml_round_trips_through_libvirt(void **state) {
        _cleanup_(freep) char *error = NULL, *xml = NULL, *back = NULL;
        VmSpec spec = {};
        VmInfo info = { .graphics_port = -1 };
        virConnectPtr conn;
        virDomainPtr dom;

        assert_int_equal(vm_spec_parse(full_spec, &spec, &error), 0);
        assert_int_equal(vm_spec_to_xml(&spec, &xml), 0);
        /* The console starts locked: a password that expired long ago. */
        assert_non_null(strstr(xml, "passwdValidTo=\"1970-01-01T00:00:01\""));
        /* Nothing pasted: the path's metacharacters are escaped. */
        assert_non_null(strstr(xml, "a&amp;b&lt;c&gt;'&quot;.qcow2"));

        conn = virConnectOpen("test:///default");
        assert_non_null(conn);
        dom = virDomainDefineXML(conn, xml);
        if (!dom)
                fail_msg("libvirt refused our XML: %s\n%s", virGetLastErrorMessage(), xml);
        back = virDomainGetXMLDesc(dom, 0);
        assert_non_null(back);
        assert_int_equal(vm_info_parse_xml(back, &info), 0);
        assert_string_equal(info.name, "web1");
        assert_int_equal(info.vcpus, 2);
        assert_int_equal(info.memory_mib, 1024);
        assert_string_equal(info.graphics_type, "vnc");
        assert_string_equal(info.graphics_listen, "127.0.0.1");
        assert_non_null(info.spec);
        assert_non_null(strstr(info.spec, "\"owner\":\"ops <&> team\""));
        assert_string_equal(first_disk_source(back), "/var/lib/images/a&b<c>'\".qcow2");
        assert_non_null(strstr(back, "52:54:00:ab:34:56"));
        vm_info_done(&info);
        virDomainUndefine(dom);
        virDomainFree(dom);
        virConnectClose(conn);
        vm_spec_done(&spec);
}

static void test_check_paths(void **state) {
        _cleanup_(freep) char *error = NULL, *error2 = NULL;
        VmSpec spec = {};

        assert_int_equal(vm_spec_parse("{" BASE ",\"disks\":[{\"path\":\"/proc/self/status\"},"
                                       "{\"path\":\"/nonexistent/disk.img\"}]}", &spec, &error), 0);
        assert_int_equal(vm_spec_check_paths(&spec, &error2), -EINVAL);
        assert_string_equal(error2, "disks[1].path: /nonexistent/disk.img: No such file or directory");
        vm_spec_done(&spec);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bad_specs_name_the_field),
                cmocka_unit_test(test_too_large),
                cmocka_unit_test(test_good_spec_normalized),
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_graphics_listen_defaults_to_loopback),
                cmocka_unit_test(test_maxima_and_targets),
                cmocka_unit_test(test_xml_round_trips_through_libvirt),
                cmocka_unit_test(test_openvswitch_nic),
                cmocka_unit_test(test_check_paths),
        };
        libvirt_error_silence();
        return cmocka_run_group_tests(tests, NULL, NULL);
}
