/* The three JSON spec parsers (VMs, storage pools, networks) against
 * thousands of mangled specs: each is accepted or refused with a message
 * that names a field, and nothing crashes or leaks (CI runs this under
 * AddressSanitizer). The mutations are pseudo-random from a fixed seed, so
 * a failure repeats. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "net-spec.h"
#include "pool-spec.h"
#include "vm-spec.h"

#define MUTATIONS_PER_SEED 20000
#define MAX_TEXT 4096

typedef int (*parse_fn)(const char *text, char **ret_error);

static int parse_vm(const char *text, char **ret_error) {
        VmSpec spec = {};
        int r = vm_spec_parse(text, &spec, ret_error);

        if (r >= 0)
                vm_spec_done(&spec);
        return r;
}

static int parse_pool(const char *text, char **ret_error) {
        PoolSpec spec = {};
        int r = pool_spec_parse(text, &spec, ret_error);

        if (r >= 0)
                pool_spec_done(&spec);
        return r;
}

static int parse_networks(const char *text, char **ret_error) {
        NetDesired d = {};
        int r = net_desired_parse(text, &d, ret_error);

        if (r >= 0)
                net_desired_done(&d);
        return r;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t next_random(void) {   /* xorshift64 */
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        return rng_state;
}

static size_t below(size_t n) {
        return n ? (size_t) (next_random() % n) : 0;
}

/* What JSON parsers and validators trip on. */
static const char *const tokens[] = {
        "\"", "{", "}", "[", "]", ",", ":", "null", "true", "false", "-1", "0", "1e999", "-0.5",
        "18446744073709551616", "4294967296", "\"\\u0000\"", "\"\\ud800\"", "\"\\uffff\"", "\"\xff\"",
        "\"../../etc\"", "\"a\\\"b\"", "{}", "[]", "[[[[[[[[[[", "\"name\"", "\"remove\"", "\"bond\"",
        "\"<domain/>\"", "\"&amp;\"", "\"'\"", "9999999999",
};

static void mutate(char *text, size_t *len) {
        size_t at = below(*len + 1), n;
        const char *t;

        switch (below(5)) {
        case 0:   /* one byte, anything but NUL */
                if (*len)
                        text[below(*len)] = (char) (1 + below(255));
                break;
        case 1:   /* cut a span */
                n = below(*len - at + 1);
                memmove(text + at, text + at + n, *len - at - n);
                *len -= n;
                break;
        case 2:   /* repeat a span */
                n = below(*len - at + 1);
                if (*len + n < MAX_TEXT) {
                        memmove(text + at + n, text + at, *len - at);
                        *len += n;
                }
                break;
        case 3:   /* insert a token */
                t = tokens[below(sizeof tokens / sizeof *tokens)];
                n = strlen(t);
                if (*len + n < MAX_TEXT) {
                        memmove(text + at + n, text + at, *len - at);
                        memcpy(text + at, t, n);
                        *len += n;
                }
                break;
        default:  /* end early */
                *len = at;
        }
        text[*len] = '\0';
}

static void run(parse_fn parse, const char *const *seeds) {
        unsigned accepted = 0, refused = 0;

        for (const char *const *seed = seeds; *seed; seed++) {
                char *error = NULL;

                assert_int_equal(parse(*seed, &error), 0);   /* the seeds are valid */
                for (unsigned i = 0; i < MUTATIONS_PER_SEED; i++) {
                        char text[MAX_TEXT + 1];
                        size_t len = strlen(*seed);
                        int r;

                        memcpy(text, *seed, len + 1);
                        for (size_t k = 1 + below(3); k > 0; k--)
                                mutate(text, &len);
                        error = NULL;
                        r = parse(text, &error);
                        if (r >= 0) {
                                accepted++;
                                assert_null(error);
                                continue;
                        }
                        refused++;
                        assert_int_equal(r, -EINVAL);
                        if (!error || !strchr(error, ':'))
                                fail_msg("%s: refused without naming a field: %s", text, error ? error : "(none)");
                        free(error);
                }
        }
        /* Both outcomes happen: the mutations reach past the JSON parser. */
        assert_true(accepted > 0);
        assert_true(refused > 0);
        print_message("%u accepted, %u refused\n", accepted, refused);
}

static void test_vm_specs(void **state) {
        static const char *const seeds[] = {
                "{\"name\":\"web1\",\"memory_mib\":1024,\"vcpus\":2,\"type\":\"kvm\",\"machine\":\"q35\","
                "\"firmware\":\"bios\",\"disks\":[{\"path\":\"/var/lib/images/web1.qcow2\",\"format\":\"qcow2\","
                "\"bus\":\"virtio\"},{\"pool\":\"p\",\"volume\":\"v\"}],\"nics\":[{\"bridge\":\"br0\",\"model\":"
                "\"virtio\",\"mac\":\"52:54:00:12:34:56\"},{\"network\":\"vmnet\"}],\"graphics\":{\"type\":\"vnc\","
                "\"listen\":\"127.0.0.1\"},\"autostart\":false,\"metadata\":{\"owner\":\"ops\"}}",
                "{\"name\":\"a\",\"memory_mib\":128}",
                NULL,
        };
        run(parse_vm, seeds);
}

static void test_pool_specs(void **state) {
        static const char *const seeds[] = {
                "{\"name\":\"p\",\"type\":\"dir\",\"path\":\"/srv/pool\"}",
                "{\"name\":\"p\",\"type\":\"nfs\",\"server\":\"nfs.example.org\",\"export\":\"/e\",\"version\":3}",
                "{\"name\":\"p\",\"type\":\"lvm\",\"devices\":[\"/dev/sdb\",\"/dev/sdc\"]}",
                NULL,
        };
        run(parse_pool, seeds);
}

static void test_network_specs(void **state) {
        static const char *const seeds[] = {
                "{\"networks\":{\"vmnet\":{\"uplink\":\"up0\",\"mtu\":1400,\"vlan\":100,"
                "\"addresses\":[\"192.0.2.10/24\",\"2001:DB8::10/64\"]},\"old\":{\"remove\":true}}}",
                "{\"networks\":{\"bonded\":{\"switch\":\"ovs\",\"uplink\":\"bond0\",\"bond\":{\"slaves\":[\"up3\","
                "\"up4\"],\"mode\":\"active-backup\"}}}}",
                NULL,
        };
        run(parse_networks, seeds);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_vm_specs),
                cmocka_unit_test(test_pool_specs),
                cmocka_unit_test(test_network_specs),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
