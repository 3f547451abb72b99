/* The guest agent's model: libvirt's guest info and interface addresses read
 * into GuestInfo, the agent channel found in domain XML, and the spec's
 * guest_agent (the channel in the XML, kept in the stored spec) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <libxml/parser.h>

#include "guest-agent.h"
#include "macro.h"
#include "strv.h"
#include "vm-info.h"
#include "vm-spec.h"

/* What virDomainGetGuestInfo() returns for a Debian guest with two users. */
static int debian_params(virTypedParameterPtr *ret, int *ret_n) {
        int max = 0, r = 0;

        *ret = NULL;
        *ret_n = 0;
#define ADD_S(k, v) if (r >= 0) r = virTypedParamsAddString(ret, ret_n, &max, k, v)
        ADD_S("user.count", "2");   /* a string here only to be ignored */
        ADD_S("user.0.name", "root");
        ADD_S("user.1.name", "alice");
        ADD_S("user.1.domain", "ignored");
        ADD_S("os.id", "debian");
        ADD_S("os.name", "Debian GNU/Linux");
        ADD_S("os.pretty-name", "Debian GNU/Linux 12 (bookworm)");
        ADD_S("os.version", "12 (bookworm)");
        ADD_S("os.kernel-release", "6.1.0-13-amd64");
        ADD_S("os.kernel-version", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1");
        ADD_S("os.machine", "x86_64");
        ADD_S("timezone.name", "CET");
        ADD_S("hostname", "web1");
#undef ADD_S
        if (r >= 0)
                r = virTypedParamsAddInt(ret, ret_n, &max, "timezone.offset", 3600);
        return r;
}

static void test_info_from_params(void **state) {
        virTypedParameterPtr params;
        GuestInfo info = {};
        int n;

        assert_true(debian_params(&params, &n) >= 0);
        assert_int_equal(guest_info_from_params(params, n, &info), 0);
        assert_string_equal(info.os_id, "debian");
        assert_string_equal(info.os_name, "Debian GNU/Linux");
        assert_string_equal(info.os_version, "12 (bookworm)");
        assert_string_equal(info.kernel_release, "6.1.0-13-amd64");
        assert_string_equal(info.kernel_version, "#1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1");
        assert_string_equal(info.hostname, "web1");
        assert_string_equal(info.timezone, "CET");
        assert_true(info.has_timezone_offset);
        assert_int_equal(info.timezone_offset, 3600);
        assert_int_equal(strv_length(info.users), 2);
        assert_string_equal(info.users[0], "root");
        assert_string_equal(info.users[1], "alice");
        virTypedParamsFree(params, n);
        guest_info_done(&info);
}

/* An agent that says little: what it does not say stays unset. */
static void test_info_partial(void **state) {
        virTypedParameterPtr params = NULL;
        GuestInfo info = {}, empty = {};
        int n = 0, max = 0;

        assert_int_equal(virTypedParamsAddString(&params, &n, &max, "hostname", "h\xff" "x"), 0);
        assert_int_equal(guest_info_from_params(params, n, &info), 0);
        assert_string_equal(info.hostname, "h\xef\xbf\xbdx");   /* made safe for D-Bus */
        assert_null(info.os_id);
        assert_null(info.users);
        assert_false(info.has_timezone_offset);
        assert_false(guest_info_details_equal(&info, &empty));
        assert_true(guest_info_addresses_equal(&info, &empty));
        virTypedParamsFree(params, n);
        guest_info_done(&info);
        assert_true(guest_info_is_empty(&info));
}

static void test_info_from_interfaces(void **state) {
        virDomainIPAddress lo_addrs[] = {
                { .type = VIR_IP_ADDR_TYPE_IPV4, .addr = (char *) "127.0.0.1", .prefix = 8 },
        };
        virDomainIPAddress eth_addrs[] = {
                { .type = VIR_IP_ADDR_TYPE_IPV4, .addr = (char *) "192.0.2.5", .prefix = 24 },
                { .type = VIR_IP_ADDR_TYPE_IPV6, .addr = (char *) "fd00::5", .prefix = 64 },
        };
        virDomainInterface lo = { .name = (char *) "lo", .hwaddr = (char *) "00:00:00:00:00:00", .naddrs = 1,
                                  .addrs = lo_addrs };
        virDomainInterface eth = { .name = (char *) "eth0", .hwaddr = (char *) "52:54:00:12:34:56", .naddrs = 2,
                                   .addrs = eth_addrs };
        virDomainInterface bare = { .name = (char *) "dummy0", .hwaddr = NULL, .naddrs = 0 };
        virDomainInterfacePtr ifaces[] = { &lo, &eth, &bare };
        GuestInfo info = {}, other = {};

        assert_int_equal(guest_info_from_interfaces(ifaces, 3, &info), 0);
        assert_int_equal(info.n_addresses, 2);   /* loopback left out, no address no entry */
        assert_string_equal(info.addresses[0].interface, "eth0");
        assert_string_equal(info.addresses[0].mac, "52:54:00:12:34:56");
        assert_string_equal(info.addresses[0].address, "192.0.2.5/24");
        assert_string_equal(info.addresses[1].address, "fd00::5/64");
        assert_false(guest_info_addresses_equal(&info, &other));
        assert_true(guest_info_details_equal(&info, &other));
        assert_int_equal(guest_info_from_interfaces(ifaces, 3, &other), 0);
        assert_true(guest_info_addresses_equal(&info, &other));
        guest_info_move(&other, &info);
        assert_true(guest_info_is_empty(&info));
        assert_int_equal(other.n_addresses, 2);
        guest_info_done(&other);
}

static GuestAgentState channel_state_of(const char *devices_xml) {
        xmlDocPtr doc = xmlReadMemory(devices_xml, (int) strlen(devices_xml), "d.xml", NULL, XML_PARSE_NONET);
        GuestAgentState s;

        assert_non_null(doc);
        s = guest_agent_channel_state(xmlDocGetRootElement(doc));
        xmlFreeDoc(doc);
        return s;
}

static void test_channel_state(void **state) {
        assert_int_equal(channel_state_of("<devices/>"), GUEST_AGENT_NONE);
        assert_int_equal(channel_state_of("<devices><channel type='spicevmc'><target type='virtio' "
                                          "name='com.redhat.spice.0'/></channel></devices>"), GUEST_AGENT_NONE);
        assert_int_equal(channel_state_of("<devices><channel type='unix'><target type='virtio' "
                                          "name='org.qemu.guest_agent.0'/></channel></devices>"),
                         GUEST_AGENT_DISCONNECTED);
        assert_int_equal(channel_state_of("<devices><channel type='unix'><target type='virtio' "
                                          "name='org.qemu.guest_agent.0' state='disconnected'/></channel></devices>"),
                         GUEST_AGENT_DISCONNECTED);
        assert_int_equal(channel_state_of("<devices><console type='pty'/><channel type='unix'><source mode='bind'/>"
                                          "<target type='virtio' name='org.qemu.guest_agent.0' state='connected'/>"
                                          "</channel></devices>"),
                         GUEST_AGENT_CONNECTED);
        assert_string_equal(guest_agent_state_to_string(GUEST_AGENT_NONE), "none");
        assert_string_equal(guest_agent_state_to_string(GUEST_AGENT_CONNECTED), "connected");
        assert_int_equal(guest_agent_state_from_string("disconnected"), GUEST_AGENT_DISCONNECTED);
}

static const char *stored_guest_agent(const VmSpec *spec) {
        json_object *v;

        if (!json_object_object_get_ex(spec->normalized, "guest_agent", &v))
                return "absent";
        return json_object_get_boolean(v) ? "true" : "false";
}

/* The spec's guest_agent: true unless said, the channel in the XML, kept in the stored spec. */
static void test_spec_guest_agent(void **state) {
        _cleanup_(freep) char *error = NULL, *xml = NULL, *xml_off = NULL, *stored = NULL;
        VmSpec spec = {}, off = {}, again = {};
        VmInfo info = {};

        assert_int_equal(vm_spec_parse("{\"name\":\"a\",\"memory_mib\":128}", &spec, &error), 0);
        assert_true(spec.guest_agent);
        assert_string_equal(stored_guest_agent(&spec), "true");
        assert_int_equal(vm_spec_to_xml(&spec, &xml), 0);
        assert_non_null(strstr(xml, "<channel type=\"unix\">"));
        assert_non_null(strstr(xml, "<target type=\"virtio\" name=\"org.qemu.guest_agent.0\"/>"));
        assert_int_equal(vm_info_parse_xml(xml, &info), 0);
        assert_int_equal(info.guest_agent, GUEST_AGENT_DISCONNECTED);   /* VmInfo reads it */
        vm_info_done(&info);

        assert_int_equal(vm_spec_parse("{\"name\":\"b\",\"memory_mib\":128,\"guest_agent\":false}", &off, &error), 0);
        assert_false(off.guest_agent);
        assert_string_equal(stored_guest_agent(&off), "false");
        assert_int_equal(vm_spec_to_xml(&off, &xml_off), 0);
        assert_null(strstr(xml_off, "org.qemu.guest_agent.0"));
        assert_int_equal(vm_info_parse_xml(xml_off, &info), 0);
        assert_int_equal(info.guest_agent, GUEST_AGENT_NONE);
        vm_info_done(&info);
        /* The stored spec parses back to the same. */
        stored = strdup(json_object_to_json_string_ext(off.normalized, JSON_C_TO_STRING_PLAIN));
        assert_int_equal(vm_spec_parse(stored, &again, &error), 0);
        assert_false(again.guest_agent);
        assert_true(json_object_equal(again.normalized, off.normalized));
        vm_spec_done(&spec);
        vm_spec_done(&off);
        vm_spec_done(&again);

        assert_int_equal(vm_spec_parse("{\"name\":\"c\",\"memory_mib\":128,\"guest_agent\":\"yes\"}", &spec, &error),
                         -EINVAL);
        assert_non_null(strstr(error, "guest_agent: must be true or false"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_info_from_params),
                cmocka_unit_test(test_info_partial),
                cmocka_unit_test(test_info_from_interfaces),
                cmocka_unit_test(test_channel_state),
                cmocka_unit_test(test_spec_guest_agent),
        };
        /* libvirt's typed parameter helpers keep its error state. */
        if (virInitialize() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
