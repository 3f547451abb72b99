/* bus-wire: a body copied into wire form and sent as bytes reads back as sd-bus wrote it */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "bus-wire.h"
#include "macro.h"

/* A server and a client sd-bus on a socket pair; the server answers every
 * call with the call's own body, copied by bus_wire_copy() and sent by
 * bus_wire_reply(). */
typedef struct Pair {
        sd_bus *server, *client;
} Pair;

static int echo_filter(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(bus_wire_done) BusWire w = {};
        int r;

        if (!sd_bus_message_is_method_call(m, "org.hostagent1.Test", "Echo"))
                return 0;
        r = bus_wire_copy(&w, m);
        assert_int_equal(r, 0);
        r = bus_wire_reply(m, sd_bus_message_get_signature(m, 1), &(struct iovec) { w.data, w.size }, 1);
        assert_true(r >= 0);
        return 1;
}

static void pair_open(Pair *p) {
        sd_id128_t id;
        int fds[2];

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds), 0);
        assert_int_equal(sd_bus_new(&p->server), 0);
        assert_int_equal(sd_bus_set_fd(p->server, fds[0], fds[0]), 0);
        assert_int_equal(sd_id128_randomize(&id), 0);
        assert_int_equal(sd_bus_set_server(p->server, 1, id), 0);
        assert_int_equal(sd_bus_set_anonymous(p->server, 1), 0);
        assert_int_equal(sd_bus_add_filter(p->server, NULL, echo_filter, NULL), 0);
        assert_int_equal(sd_bus_start(p->server), 0);
        assert_int_equal(sd_bus_new(&p->client), 0);
        assert_int_equal(sd_bus_set_fd(p->client, fds[1], fds[1]), 0);
        assert_int_equal(sd_bus_set_anonymous(p->client, 1), 0);
        assert_int_equal(sd_bus_start(p->client), 0);
}

static void pair_close(Pair *p) {
        sd_bus_flush_close_unref(p->client);
        sd_bus_flush_close_unref(p->server);
        bus_wire_reply_free();
}

typedef struct Answer {
        sd_bus_message *reply;
} Answer;

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        ((Answer *) userdata)->reply = sd_bus_message_ref(m);
        return 0;
}

/* Sends CALL, pumps both ends until the answer is back, returns it. */
static sd_bus_message *round_trip(Pair *p, sd_bus_message *call) {
        Answer a = {};

        assert_true(sd_bus_call_async(p->client, NULL, call, on_reply, &a, 0) >= 0);
        for (unsigned i = 0; !a.reply && i < 100000; i++) {
                assert_true(sd_bus_process(p->server, NULL) >= 0);
                assert_true(sd_bus_process(p->client, NULL) >= 0);
        }
        assert_non_null(a.reply);
        return a.reply;
}

static char *dump(sd_bus_message *m) {
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        assert_non_null(f);
        assert_int_equal(sd_bus_message_rewind(m, 1), 1);
        assert_int_equal(sd_bus_message_dump(m, f, SD_BUS_MESSAGE_DUMP_SUBTREE_ONLY), 0);
        fclose(f);
        return text;
}

static void check_echo(sd_bus_message *call, Pair *p) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) char *sent = NULL, *got = NULL;

        assert_int_equal(sd_bus_message_seal(call, 1, 0), 0);
        sent = dump(call);
        reply = round_trip(p, call);
        assert_false(sd_bus_message_is_method_error(reply, NULL));
        assert_string_equal(sd_bus_message_get_signature(reply, 1), sd_bus_message_get_signature(call, 1));
        got = dump(reply);
        assert_string_equal(got, sent);
}

static sd_bus_message *new_call(Pair *p) {
        sd_bus_message *m = NULL;

        assert_int_equal(sd_bus_message_new_method_call(p->client, &m, NULL, "/org/hostagent1", "org.hostagent1.Test",
                                                        "Echo"), 0);
        return m;
}

/* Every basic type, each after a byte so that each one needs its padding. */
static void test_basic_types(void **state) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        Pair p = {};

        pair_open(&p);
        m = new_call(&p);
        assert_true(0 <= sd_bus_message_append(m, "ybynyqyiyuyxytydysyoygyb", 1, 2, 3, (int16_t) -4, 5, (uint16_t) 6, 7,
                                               -8, 9, 10u, 11, (int64_t) -12, 13, (uint64_t) 14, 15, 16.5, 17, "s",
                                               19, "/o/p", 21, "a{sv}", 23, 1));
        check_echo(m, &p);
        pair_close(&p);
}

/* Arrays (empty ones too, of 8-aligned elements), structs, dictionaries,
 * variants inside variants: the shapes GetManagedObjects is made of. */
static void test_containers(void **state) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        Pair p = {};

        pair_open(&p);
        m = new_call(&p);
        assert_true(0 <= sd_bus_message_append(m, "ya(ssi)a{sv}", 1, 0, 0));
        assert_true(0 <= sd_bus_message_append(m, "a{oa{sa{sv}}}", 2,
                                               "/org/hostagent1/vm/a", 2,
                                                       "org.freedesktop.DBus.Peer", 0,
                                                       "org.hostagent1.VM", 4,
                                                               "Name", "s", "web1",
                                                               "MemoryMiB", "t", (uint64_t) 2048,
                                                               "Graphics", "(ssi)", "vnc", "127.0.0.1", -1,
                                                               "Nested", "v", "v", "u", 7u,
                                               "/org/hostagent1/vm/b", 1,
                                                       "org.hostagent1.VM", 2,
                                                               "Disks", "as", 2, "vda", "vdb",
                                                               "Flags", "ay", 3, 1, 2, 3));
        assert_true(0 <= sd_bus_message_append(m, "yat", 9, 2, (uint64_t) 1, (uint64_t) 2));
        check_echo(m, &p);
        pair_close(&p);
}

/* A body larger than the socket pair holds at once goes through in rounds. */
static void test_large_body(void **state) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(freep) char *big = malloc(1 << 20);
        Pair p = {};

        assert_non_null(big);
        memset(big, 'x', (1 << 20) - 1);
        big[(1 << 20) - 1] = 0;
        pair_open(&p);
        m = new_call(&p);
        assert_true(0 <= sd_bus_message_append(m, "ss", big, big));
        check_echo(m, &p);
        pair_close(&p);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_basic_types),
                cmocka_unit_test(test_containers),
                cmocka_unit_test(test_large_body),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
