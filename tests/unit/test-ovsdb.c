/* The OVSDB client (RFC 7047) against a recorded ovsdb-server: what it sends, what it makes of the answers */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "fake-ovsdb.h"
#include "json-cleanup.h"
#include "macro.h"
#include "ovsdb.h"

/* Recorded from ovsdb-server 3.1 (Debian 12) on the vswitch schema, with a
 * bridge br0 (netdev) holding eth1 (tag 7), vnet0 (internal) and br0 itself:
 * the reply to the transaction ovs_state_read() sends ... */
static const char reply_state[] =
        "{\"id\":$ID,\"result\":[{\"rows\":[{\"ports\":[\"set\",[[\"uuid\",\"6cb83226-9db2-4721-80cb-d65e796a080c\"],"
        "[\"uuid\",\"de5cb0d7-ff8d-44e6-b752-8dad184968fc\"],[\"uuid\",\"e6cb818a-09ce-4bd4-a3aa-026b4848cc52\"]]],"
        "\"name\":\"br0\",\"datapath_type\":\"netdev\",\"_uuid\":[\"uuid\",\"c3a618e0-a11d-42dd-bda2-dde00839e8bd\"]}]},"
        "{\"rows\":[{\"name\":\"br0\",\"interfaces\":[\"uuid\",\"fe3e9896-a1c3-4e13-9db4-c8e3eb35d6fd\"],"
        "\"_uuid\":[\"uuid\",\"e6cb818a-09ce-4bd4-a3aa-026b4848cc52\"],\"tag\":[\"set\",[]]},"
        "{\"name\":\"eth1\",\"interfaces\":[\"uuid\",\"3149b55a-2b1c-47b5-ab23-d75b4f16f448\"],"
        "\"_uuid\":[\"uuid\",\"6cb83226-9db2-4721-80cb-d65e796a080c\"],\"tag\":7},"
        "{\"name\":\"vnet0\",\"interfaces\":[\"uuid\",\"1fd9aaba-2eb7-47eb-a751-e8f4828a34f0\"],"
        "\"_uuid\":[\"uuid\",\"de5cb0d7-ff8d-44e6-b752-8dad184968fc\"],\"tag\":[\"set\",[]]}]},"
        "{\"rows\":[{\"name\":\"vnet0\",\"_uuid\":[\"uuid\",\"1fd9aaba-2eb7-47eb-a751-e8f4828a34f0\"],\"type\":\"internal\"},"
        "{\"name\":\"eth1\",\"_uuid\":[\"uuid\",\"3149b55a-2b1c-47b5-ab23-d75b4f16f448\"],\"type\":\"\"},"
        "{\"name\":\"br0\",\"_uuid\":[\"uuid\",\"fe3e9896-a1c3-4e13-9db4-c8e3eb35d6fd\"],\"type\":\"internal\"}]}],"
        "\"error\":null}";

/* ... a transaction on a database that is not there ... */
static const char reply_unknown_database[] =
        "{\"id\":$ID,\"error\":{\"syntax\":\"[\\\"Nope\\\",{\\\"columns\\\":[\\\"name\\\"],\\\"op\\\":\\\"select\\\","
        "\\\"table\\\":\\\"Bridge\\\",\\\"where\\\":[]}]\",\"details\":\"transact request specifies unknown database Nope\","
        "\"error\":\"unknown database\"}}";

/* ... a "wait" that failed (the bridge was there already) ... */
static const char reply_wait_failed[] =
        "{\"id\":$ID,\"result\":[{\"details\":\"\\\"where\\\" clause test failed\",\"error\":\"timed out\"}],\"error\":null}";

/* ... an operation on a table the schema lacks ... */
static const char reply_syntax_error[] =
        "{\"id\":$ID,\"result\":[{\"syntax\":\"{\\\"op\\\":\\\"insert\\\",\\\"row\\\":{},\\\"table\\\":\\\"Bridgex\\\"}\","
        "\"details\":\"Parsing ovsdb operation 1 of 1 failed: No table named Bridgex.\",\"error\":\"syntax error\"}],"
        "\"error\":null}";

/* ... the update a monitor got when vnet0 was deleted ... */
static const char update_port_deleted[] =
        "{\"id\":null,\"method\":\"update\",\"params\":[\"hostagent\",{\"Interface\":{\"1fd9aaba-2eb7-47eb-a751-e8f4828a34f0\":"
        "{\"old\":{\"name\":\"vnet0\",\"type\":\"internal\"}}},\"Port\":{\"de5cb0d7-ff8d-44e6-b752-8dad184968fc\":{\"old\":"
        "{\"name\":\"vnet0\",\"interfaces\":[\"uuid\",\"1fd9aaba-2eb7-47eb-a751-e8f4828a34f0\"],\"tag\":[\"set\",[]]}}},"
        "\"Bridge\":{\"c3a618e0-a11d-42dd-bda2-dde00839e8bd\":{\"new\":{\"name\":\"br0\",\"ports\":[\"set\",[[\"uuid\","
        "\"6cb83226-9db2-4721-80cb-d65e796a080c\"],[\"uuid\",\"e6cb818a-09ce-4bd4-a3aa-026b4848cc52\"]]],"
        "\"datapath_type\":\"netdev\"},\"old\":{\"ports\":[\"set\",[[\"uuid\",\"6cb83226-9db2-4721-80cb-d65e796a080c\"],"
        "[\"uuid\",\"de5cb0d7-ff8d-44e6-b752-8dad184968fc\"],[\"uuid\",\"e6cb818a-09ce-4bd4-a3aa-026b4848cc52\"]]]}}}}]}";

/* ... the start of the reply to the monitor request, and the keepalive it sends. */
static const char reply_monitor[] =
        "{\"id\":\"hostagent-monitor\",\"result\":{\"Interface\":{\"3149b55a-2b1c-47b5-ab23-d75b4f16f448\":{\"new\":"
        "{\"name\":\"eth1\",\"type\":\"\"}}},\"Bridge\":{\"c3a618e0-a11d-42dd-bda2-dde00839e8bd\":{\"new\":{\"name\":\"br0\","
        "\"ports\":[\"uuid\",\"6cb83226-9db2-4721-80cb-d65e796a080c\"],\"datapath_type\":\"netdev\"}}}},\"error\":null}";
static const char echo_request[] = "{\"id\":\"echo\",\"method\":\"echo\",\"params\":[]}";

/* The transaction ovs_state_read() sends, as ovsdb-server received it. */
static const char request_state[] =
        "{\"method\":\"transact\",\"params\":[\"Open_vSwitch\",{\"op\":\"select\",\"table\":\"Bridge\",\"where\":[],"
        "\"columns\":[\"_uuid\",\"name\",\"datapath_type\",\"ports\"]},{\"op\":\"select\",\"table\":\"Port\",\"where\":[],"
        "\"columns\":[\"_uuid\",\"name\",\"tag\",\"interfaces\"]},{\"op\":\"select\",\"table\":\"Interface\",\"where\":[],"
        "\"columns\":[\"_uuid\",\"name\",\"type\"]}],\"id\":\"$ID\"}";

static void assert_text(const char *got, const char *wanted) {
        if (!streq_ptr(got, wanted))
                fail_msg("wanted:\n%s\ngot:\n%s", strempty(wanted), strempty(got));
}

/* The reader: back-to-back JSON texts, however the stream is cut. */

typedef struct Collected {
        char *texts[8];
        size_t n;
} Collected;

static void collect(json_object *msg, void *userdata) {
        Collected *c = userdata;

        assert_true(c->n < ELEMENTSOF(c->texts));
        c->texts[c->n++] = strdup(json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN));
}

static void collected_done(Collected *c) {
        for (size_t i = 0; i < c->n; i++)
                free(c->texts[i]);
        *c = (Collected) {};
}

static void test_reader_cuts(void **state) {
        _cleanup_(freep) char *stream = NULL;
        Collected whole = {};

        assert_true(asprintf(&stream, "%s\n%s \r\n\t%s", reply_monitor, update_port_deleted, echo_request) > 0);
        for (size_t chunk = 1; chunk <= strlen(stream); chunk = chunk < 16 ? chunk + 1 : chunk * 3) {
                Collected c = {};
                OvsdbReader r;

                assert_int_equal(ovsdb_reader_init(&r), 0);
                for (size_t at = 0; at < strlen(stream); at += chunk) {
                        size_t n = strlen(stream) - at < chunk ? strlen(stream) - at : chunk;
                        assert_int_equal(ovsdb_reader_feed(&r, stream + at, n, collect, &c), 0);
                }
                ovsdb_reader_done(&r);
                assert_int_equal(c.n, 3);
                if (whole.n == 0)
                        whole = c;
                else {
                        for (size_t i = 0; i < 3; i++)
                                assert_string_equal(c.texts[i], whole.texts[i]);
                        collected_done(&c);
                }
        }
        /* Each message intact: the same JSON as recorded. */
        {
                _cleanup_(json_object_putp) json_object *update = json_tokener_parse(update_port_deleted);
                assert_string_equal(whole.texts[1], json_object_to_json_string_ext(update, JSON_C_TO_STRING_PLAIN));
        }
        collected_done(&whole);
}

static void test_reader_bad_input(void **state) {
        static const char *const bad[] = { "{\"id\":1,]", "}", "{\"a\":1}}", "tru3", "{\"id\":\"x\"\x01}" };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                Collected c = {};
                OvsdbReader r;

                assert_int_equal(ovsdb_reader_init(&r), 0);
                if (ovsdb_reader_feed(&r, bad[i], strlen(bad[i]), collect, &c) != -EBADMSG)
                        fail_msg("'%s' was not refused", bad[i]);
                ovsdb_reader_done(&r);
                collected_done(&c);
        }
}

static void test_reader_odd_but_whole(void **state) {
        /* Bytes that are not UTF-8, huge numbers: delivered (what reads them must cope). */
        static const char text[] = "{\"method\":\"update\",\"params\":[\"p\xff\"],\"id\":99999999999999999999999}";
        _cleanup_(freep) char *deep = calloc(1, 256);
        Collected c = {};
        OvsdbReader r;

        assert_int_equal(ovsdb_reader_init(&r), 0);
        assert_int_equal(ovsdb_reader_feed(&r, text, strlen(text), collect, &c), 0);
        assert_int_equal(c.n, 1);
        ovsdb_reader_done(&r);
        collected_done(&c);

        /* Nested deeper than json-c goes: refused, not a crash. */
        for (size_t i = 0; i < 100; i++)
                deep[i] = '[';
        assert_int_equal(ovsdb_reader_init(&r), 0);
        assert_int_equal(ovsdb_reader_feed(&r, deep, strlen(deep), collect, &c), -EBADMSG);
        assert_int_equal(c.n, 0);
        ovsdb_reader_done(&r);
}

/* Echo: the keepalive must be answered, or the server hangs up. */

static void test_echo(void **state) {
        static const struct { const char *msg, *reply; } cases[] = {
                { "{\"id\":\"echo\",\"method\":\"echo\",\"params\":[]}", "{\"result\":[],\"error\":null,\"id\":\"echo\"}" },
                { "{\"method\":\"echo\",\"params\":[\"x\",1],\"id\":7}", "{\"result\":[\"x\",1],\"error\":null,\"id\":7}" },
                { "{\"method\":\"echo\"}", "{\"result\":null,\"error\":null,\"id\":null}" },
                { "{\"id\":1,\"result\":[],\"error\":null}", NULL },
                { "{\"id\":null,\"method\":\"update\",\"params\":[]}", NULL },
                { "{\"id\":1,\"method\":\"Echo\",\"params\":[]}", NULL },
                { "{\"id\":1,\"method\":7,\"params\":[]}", NULL },
                { "{\"id\":1,\"method\":null,\"params\":[]}", NULL },
                { "[\"echo\"]", NULL },
                { "\"echo\"", NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(json_object_putp) json_object *msg = json_tokener_parse(cases[i].msg);
                _cleanup_(json_object_putp) json_object *reply = ovsdb_echo_reply(msg);

                assert_non_null(msg);
                assert_text(reply ? json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN) : NULL, cases[i].reply);
        }
        assert_null(ovsdb_echo_reply(NULL));
}

static void test_monitor_messages(void **state) {
        /* What the monitor gets is neither an echo nor something to answer. */
        _cleanup_(json_object_putp) json_object *reply = json_tokener_parse(reply_monitor),
                                                *update = json_tokener_parse(update_port_deleted);

        assert_non_null(reply);
        assert_non_null(update);
        assert_null(ovsdb_echo_reply(reply));
        assert_null(ovsdb_echo_reply(update));
}

/* ovsdb_transact over a socketpair. */

static json_object *select_bridges(void) {
        json_object *ops = json_tokener_parse("[{\"op\":\"select\",\"table\":\"Bridge\",\"where\":[],\"columns\":[\"name\"]}]");

        assert_non_null(ops);
        return ops;
}

static int transact(const char *const *replies, size_t n, unsigned timeout_ms, FakeServer **ret_server,
                    json_object **ret_result, char **ret_error) {
        int fd, r;

        *ret_server = fake_server_pair(replies, n, &fd);
        r = ovsdb_transact(fd, select_bridges(), timeout_ms, ret_result, ret_error);
        close(fd);
        fake_server_stop(*ret_server);
        return r;
}

static void test_transact_sends_and_reads(void **state) {
        static const char *const replies[] = {
                "{\"id\":$ID,\"result\":[{\"rows\":[{\"name\":\"br0\"}]}],\"error\":null}",
        };
        json_object *result = NULL;
        char *error = NULL;
        FakeServer *s;

        assert_int_equal(transact(replies, 1, 5000, &s, &result, &error), 0);
        assert_null(error);
        assert_text(json_object_to_json_string_ext(result, JSON_C_TO_STRING_PLAIN), "[{\"rows\":[{\"name\":\"br0\"}]}]");
        json_object_put(result);
        assert_int_equal(s->n_requests, 1);
        assert_text(s->requests[0], "{\"method\":\"transact\",\"params\":[\"Open_vSwitch\",{\"op\":\"select\","
                                    "\"table\":\"Bridge\",\"where\":[],\"columns\":[\"name\"]}],\"id\":\"$ID\"}");
        fake_server_free(s);
}

static void test_transact_among_other_messages(void **state) {
        /* An echo and an update come first, then a reply to someone else's
         * request, then ours: the echo is answered, the rest passed over. */
        static const char *const replies[] = {
                "{\"id\":\"echo\",\"method\":\"echo\",\"params\":[\"ka\"]}"
                "{\"id\":null,\"method\":\"update\",\"params\":[\"hostagent\",{}]}\n"
                "{\"id\":424242,\"result\":[{\"rows\":[]}],\"error\":null}"
                "{\"id\":\"$ID\",\"result\":[{\"rows\":[]}],\"error\":null}"
                "{\"id\":$ID,\"result\":[{\"count\":1}],\"error\":null}",
        };
        json_object *result = NULL;
        char *error = NULL;
        FakeServer *s;

        assert_int_equal(transact(replies, 1, 5000, &s, &result, &error), 0);
        assert_text(json_object_to_json_string_ext(result, JSON_C_TO_STRING_PLAIN), "[{\"count\":1}]");
        json_object_put(result);
        assert_int_equal(s->n_answers, 1);
        assert_text(s->answers[0], "{\"result\":[\"ka\"],\"error\":null,\"id\":\"echo\"}");
        fake_server_free(s);
}

static void test_transact_large_reply(void **state) {
        /* Bigger than one read: the reply comes in pieces. */
        _cleanup_(freep) char *reply = NULL;
        const char *replies[1];
        size_t size = 0;
        FILE *f = open_memstream(&reply, &size);
        json_object *result = NULL, *rows;
        FakeServer *s;

        fputs("{\"id\":$ID,\"result\":[{\"rows\":[", f);
        for (int i = 0; i < 3000; i++)
                fprintf(f, "%s{\"name\":\"port%d\"}", i ? "," : "", i);
        fputs("]}],\"error\":null}", f);
        fclose(f);
        replies[0] = reply;
        assert_int_equal(transact(replies, 1, 5000, &s, &result, NULL), 0);
        assert_true(json_object_object_get_ex(json_object_array_get_idx(result, 0), "rows", &rows));
        assert_int_equal(json_object_array_length(rows), 3000);
        json_object_put(result);
        fake_server_free(s);
}

static void expect_transact_error(const char *reply, unsigned timeout_ms, int wanted_r, const char *wanted_error) {
        const char *replies[] = { reply };
        json_object *result = NULL;
        char *error = NULL;
        FakeServer *s;
        int r;

        r = transact(replies, 1, timeout_ms, &s, &result, &error);
        if (r != wanted_r)
                fail_msg("reply %s: wanted %d, got %d (%s)", reply, wanted_r, r, strempty(error));
        assert_null(result);
        assert_text(error, wanted_error);
        free(error);
        fake_server_free(s);
}

static void test_transact_errors(void **state) {
        expect_transact_error(reply_unknown_database, 5000, -EIO,
                              "ovsdb-server: { \"syntax\": \"[\\\"Nope\\\",{\\\"columns\\\":[\\\"name\\\"],\\\"op\\\":"
                              "\\\"select\\\",\\\"table\\\":\\\"Bridge\\\",\\\"where\\\":[]}]\", \"details\": "
                              "\"transact request specifies unknown database Nope\", \"error\": \"unknown database\" }");
        expect_transact_error(reply_wait_failed, 5000, -EIO,
                              "ovsdb-server refused operation 1: timed out: \"where\" clause test failed");
        expect_transact_error(reply_syntax_error, 5000, -EIO,
                              "ovsdb-server refused operation 1: syntax error: Parsing ovsdb operation 1 of 1 failed: "
                              "No table named Bridgex.");
        /* The failed operation is named by its place, after others that went through. */
        expect_transact_error("{\"id\":$ID,\"result\":[{\"count\":1},{\"error\":\"constraint violation\"}],\"error\":null}",
                              5000, -EIO, "ovsdb-server refused operation 2: constraint violation");
        expect_transact_error("{\"id\":$ID,\"error\":null}", 5000, -EBADMSG, "ovsdb-server sent a reply without results");
        expect_transact_error("{\"id\":$ID,\"result\":{},\"error\":null}", 5000, -EBADMSG,
                              "ovsdb-server sent a reply without results");
        expect_transact_error("{\"id\":$ID,\"result\":null,\"error\":null}", 5000, -EBADMSG,
                              "ovsdb-server sent a reply without results");
        expect_transact_error("CLOSE", 5000, -ECONNRESET, "ovsdb-server closed the connection");
        /* Never answered (the test waits for nothing else: 200 ms is only how long it waits). */
        expect_transact_error("", 200, -ETIMEDOUT, "ovsdb-server did not answer within 200 ms");
}

static void test_transact_garbage(void **state) {
        const char *replies[] = { "{\"id\":$ID,\"result\":[}" };
        json_object *result = NULL;
        char *error = NULL;
        FakeServer *s;

        assert_int_equal(transact(replies, 1, 5000, &s, &result, &error), -EBADMSG);
        assert_null(result);
        /* Every failure says why: callers show it. */
        assert_text(error, "ovsdb-server sent a message that is not JSON");
        free(error);
        fake_server_free(s);
}

/* The library's own transactions, against a server on a socket file. */

static void test_state_read(void **state) {
        static const char *const replies[] = { reply_state };
        FakeServer *s = fake_server_listen(replies, 1);
        OvsState st = {};
        const OvsBridge *b;
        const OvsPort *p;
        char *error = NULL;

        assert_int_equal(ovs_state_read(s->address, 5000, &st, &error), 0);
        fake_server_stop(s);
        assert_null(error);
        assert_true(st.reachable);
        assert_int_equal(st.n_bridges, 1);
        b = ovs_state_bridge(&st, "br0");
        assert_non_null(b);
        assert_string_equal(b->datapath_type, "netdev");
        assert_int_equal(b->n_ports, 3);
        /* In the order the bridge lists them. */
        assert_string_equal(b->ports[0].name, "eth1");
        assert_string_equal(b->ports[1].name, "vnet0");
        assert_string_equal(b->ports[2].name, "br0");
        p = ovs_bridge_port(b, "eth1");
        assert_int_equal(p->tag, 7);
        assert_string_equal(p->type, "");
        p = ovs_bridge_port(b, "vnet0");
        assert_int_equal(p->tag, 0);                /* ["set",[]]: no tag */
        assert_string_equal(p->type, "internal");
        assert_string_equal(ovs_bridge_port(b, "br0")->type, "internal");
        assert_null(ovs_bridge_port(b, "eth9"));
        assert_null(ovs_state_bridge(&st, "br1"));
        assert_null(ovs_bridge_port(NULL, "eth1"));
        assert_int_equal(s->n_requests, 1);
        assert_text(s->requests[0], request_state);
        ovs_state_done(&st);
        fake_server_free(s);
}

static void test_state_read_odd_rows(void **state) {
        /* A port whose row is missing, a name that is not UTF-8, a port without
         * interfaces, a bridge with a single port (not a set). */
        static const char *const replies[] = {
                "{\"id\":$ID,\"result\":["
                "{\"rows\":[{\"_uuid\":[\"uuid\",\"b1\"],\"name\":\"br0\",\"datapath_type\":\"\",\"ports\":[\"set\",[[\"uuid\",\"p1\"],"
                "[\"uuid\",\"p2\"],[\"uuid\",\"p3\"]]]},"
                "{\"_uuid\":[\"uuid\",\"b2\"],\"name\":\"br1\",\"datapath_type\":\"system\",\"ports\":[\"uuid\",\"p3\"]},"
                "{\"_uuid\":[\"uuid\",\"b3\"],\"name\":\"br2\",\"ports\":[\"set\",[]]}]},"
                "{\"rows\":[{\"_uuid\":[\"uuid\",\"p1\"],\"name\":\"v\xff\",\"tag\":4094,\"interfaces\":[\"uuid\",\"i1\"]},"
                "{\"_uuid\":[\"uuid\",\"p3\"],\"name\":\"bond0\",\"interfaces\":[\"set\",[[\"uuid\",\"i2\"],[\"uuid\",\"i3\"]]]}]},"
                "{\"rows\":[{\"_uuid\":[\"uuid\",\"i1\"],\"name\":\"v\xff\",\"type\":\"tap\"}]}],\"error\":null}",
        };
        FakeServer *s = fake_server_listen(replies, 1);
        OvsState st = {};
        const OvsBridge *b;

        assert_int_equal(ovs_state_read(s->address, 5000, &st, NULL), 0);
        fake_server_stop(s);
        assert_int_equal(st.n_bridges, 3);
        b = ovs_state_bridge(&st, "br0");
        assert_int_equal(b->n_ports, 3);
        assert_string_equal(b->ports[0].name, "v?");             /* made fit for a D-Bus string */
        assert_int_equal(b->ports[0].tag, 4094);
        assert_string_equal(b->ports[0].type, "tap");
        assert_string_equal(b->ports[1].name, "");              /* no such row */
        assert_string_equal(b->ports[2].name, "bond0");
        b = ovs_state_bridge(&st, "br1");
        assert_string_equal(b->datapath_type, "system");
        assert_int_equal(b->n_ports, 1);
        assert_string_equal(b->ports[0].name, "bond0");
        b = ovs_state_bridge(&st, "br2");
        assert_int_equal(b->n_ports, 0);
        assert_string_equal(b->datapath_type, "");
        ovs_state_done(&st);
        fake_server_free(s);
}

static void test_state_read_malformed(void **state) {
        /* Results that are not the three row lists asked for: refused. */
        static const char *const unreadable[] = {
                "{\"id\":$ID,\"result\":[],\"error\":null}",
                "{\"id\":$ID,\"result\":[{\"rows\":[]}],\"error\":null}",
                "{\"id\":$ID,\"result\":[1,2,3],\"error\":null}",
                "{\"id\":$ID,\"result\":[{\"rows\":{}},{\"rows\":[]},{\"rows\":[]}],\"error\":null}",
                "{\"id\":$ID,\"result\":[{\"rows\":[]},{\"rows\":null},{\"rows\":[]}],\"error\":null}",
                "{\"id\":$ID,\"result\":[{\"rows\":[]},{\"rows\":[]},{\"rows\":\"x\"}],\"error\":null}",
        };
        /* Rows of odd shapes: read as far as they go, never a crash. */
        static const char *const odd[] = {
                "[{\"rows\":[null,5,\"x\",[]]},{\"rows\":[null]},{\"rows\":[7]}]",
                "[{\"rows\":[{\"name\":\"br0\",\"ports\":[\"set\",5]}]},{\"rows\":[]},{\"rows\":[]}]",
                "[{\"rows\":[{\"name\":\"br0\",\"ports\":[\"set\",[5,null,[\"uuid\"],[\"uuid\",null]]]}]},"
                "{\"rows\":[]},{\"rows\":[]}]",
                "[{\"rows\":[{\"name\":\"br0\",\"ports\":[\"uuid\",null]}]},{\"rows\":[]},{\"rows\":[]}]",
                "[{\"rows\":[{\"name\":\"br0\",\"ports\":[null,\"p\"]}]},{\"rows\":[]},{\"rows\":[]}]",
                "[{\"rows\":[{\"name\":7,\"datapath_type\":null,\"ports\":[\"uuid\",\"p\"]}]},"
                "{\"rows\":[{\"_uuid\":\"p\"},{\"_uuid\":null},{\"_uuid\":[\"uuid\"]},{\"_uuid\":[\"uuid\",null]},"
                "{\"_uuid\":[\"uuid\",\"p\"],\"name\":null,\"tag\":\"7\",\"interfaces\":[\"set\",null]}]},"
                "{\"rows\":[{\"_uuid\":5}]}]",
        };

        for (size_t i = 0; i < ELEMENTSOF(unreadable); i++) {
                const char *replies[] = { unreadable[i] };
                FakeServer *s = fake_server_listen(replies, 1);
                OvsState st = {};
                char *error = NULL;
                int r;

                r = ovs_state_read(s->address, 5000, &st, &error);
                fake_server_stop(s);
                if (r != -EBADMSG)
                        fail_msg("%s: wanted -EBADMSG, got %d", unreadable[i], r);
                assert_text(error, "ovsdb-server sent rows that cannot be read");
                free(error);
                fake_server_free(s);
        }
        for (size_t i = 0; i < ELEMENTSOF(odd); i++) {
                _cleanup_(freep) char *reply = NULL;
                const char *replies[1];
                FakeServer *s;
                OvsState st = {};
                const OvsBridge *b;

                assert_true(asprintf(&reply, "{\"id\":$ID,\"result\":%s,\"error\":null}", odd[i]) > 0);
                replies[0] = reply;
                s = fake_server_listen(replies, 1);
                assert_int_equal(ovs_state_read(s->address, 5000, &st, NULL), 0);
                fake_server_stop(s);
                /* Whatever a bridge row holds, its ports have names (maybe empty) and no tag. */
                for (size_t j = 0; j < st.n_bridges; j++)
                        for (size_t k = 0; k < st.bridges[j].n_ports; k++)
                                assert_int_equal(st.bridges[j].ports[k].tag, 0);
                b = ovs_state_bridge(&st, "br0");
                if (b)
                        assert_true(b->n_ports <= 1);
                ovs_state_done(&st);
                fake_server_free(s);
        }
}

static void test_state_read_unreachable(void **state) {
        OvsState st = { .reachable = true };
        char *error = NULL;

        assert_int_equal(ovs_state_read("unix:/nonexistent/hostagent/db.sock", 1000, &st, &error), -EHOSTUNREACH);
        assert_false(st.reachable);
        assert_int_equal(st.n_bridges, 0);
        assert_text(error, "cannot reach ovsdb-server at unix:/nonexistent/hostagent/db.sock: No such file or directory");
        free(error);
        /* Only unix: sockets. */
        assert_int_equal(ovs_state_read("tcp:127.0.0.1:6640", 1000, &st, NULL), -EHOSTUNREACH);
}

static void test_add_bridge_conversation(void **state) {
        /* The change, then cur_cfg read until ovs-vswitchd has caught up with next_cfg. */
        static const char *const replies[] = {
                "{\"id\":$ID,\"result\":[{},{\"uuid\":[\"uuid\",\"i\"]},{\"uuid\":[\"uuid\",\"p\"]},{\"uuid\":[\"uuid\",\"b\"]},"
                "{\"count\":1},{\"count\":1},{\"rows\":[{\"next_cfg\":5}]}],\"error\":null}",
                "{\"id\":$ID,\"result\":[{\"rows\":[{\"cur_cfg\":4}]}],\"error\":null}",
                "{\"id\":$ID,\"result\":[{\"rows\":[{\"cur_cfg\":5}]}],\"error\":null}",
        };
        FakeServer *s = fake_server_listen(replies, ELEMENTSOF(replies));
        char *error = NULL;

        assert_int_equal(ovs_add_bridge(s->address, "vmnet", "netdev", 7, 5000, &error), 0);
        fake_server_stop(s);
        assert_null(error);
        assert_int_equal(s->n_requests, 3);
        assert_text(s->requests[0],
                    "{\"method\":\"transact\",\"params\":[\"Open_vSwitch\","
                    /* fails the transaction if the bridge is there already */
                    "{\"op\":\"wait\",\"table\":\"Bridge\",\"where\":[[\"name\",\"==\",\"vmnet\"]],\"columns\":[\"name\"],"
                    "\"until\":\"==\",\"rows\":[],\"timeout\":0},"
                    "{\"op\":\"insert\",\"table\":\"Interface\",\"row\":{\"name\":\"vmnet\",\"type\":\"internal\"},"
                    "\"uuid-name\":\"iface_vmnet\"},"
                    "{\"op\":\"insert\",\"table\":\"Port\",\"row\":{\"name\":\"vmnet\",\"interfaces\":[\"named-uuid\","
                    "\"iface_vmnet\"],\"tag\":7},\"uuid-name\":\"port_vmnet\"},"
                    "{\"op\":\"insert\",\"table\":\"Bridge\",\"row\":{\"name\":\"vmnet\",\"datapath_type\":\"netdev\","
                    "\"ports\":[\"named-uuid\",\"port_vmnet\"]},\"uuid-name\":\"bridge\"},"
                    "{\"op\":\"mutate\",\"table\":\"Open_vSwitch\",\"where\":[],\"mutations\":[[\"bridges\",\"insert\","
                    "[\"named-uuid\",\"bridge\"]]]},"
                    "{\"op\":\"mutate\",\"table\":\"Open_vSwitch\",\"where\":[],\"mutations\":[[\"next_cfg\",\"+=\",1]]},"
                    "{\"op\":\"select\",\"table\":\"Open_vSwitch\",\"where\":[],\"columns\":[\"next_cfg\"]}],"
                    "\"id\":\"$ID\"}");
        for (size_t i = 1; i < 3; i++)
                assert_text(s->requests[i], "{\"method\":\"transact\",\"params\":[\"Open_vSwitch\",{\"op\":\"select\","
                                            "\"table\":\"Open_vSwitch\",\"where\":[],\"columns\":[\"cur_cfg\"]}],"
                                            "\"id\":\"$ID\"}");
        fake_server_free(s);
}

static void test_add_bridge_refused(void **state) {
        static const char *const replies[] = { reply_wait_failed };
        FakeServer *s = fake_server_listen(replies, 1);
        char *error = NULL;

        assert_int_equal(ovs_add_bridge(s->address, "vmnet", "netdev", 0, 5000, &error), -EIO);
        fake_server_stop(s);
        assert_text(error, "ovsdb-server refused operation 1: timed out: \"where\" clause test failed");
        free(error);
        /* Nothing after the refusal: no waiting for a change that was not made. */
        assert_int_equal(s->n_requests, 1);
        fake_server_free(s);
}

static void test_add_bridge_vswitchd_absent(void **state) {
        /* cur_cfg never reaches next_cfg: ovs-vswitchd is not running. */
        static const char *const replies[] = {
                "{\"id\":$ID,\"result\":[{},{},{},{},{},{},{\"rows\":[{\"next_cfg\":9}]}],\"error\":null}",
                "{\"id\":$ID,\"result\":[{\"rows\":[{\"cur_cfg\":8}]}],\"error\":null}",
        };
        FakeServer *s = fake_server_listen(replies, ELEMENTSOF(replies));
        char *error = NULL;
        int r;

        s->repeat_last = true;
        /* 300 ms is only how long it keeps asking: nothing here is timed. */
        r = ovs_add_bridge(s->address, "vmnet", "netdev", 0, 300, &error);
        fake_server_stop(s);
        assert_int_equal(r, -ETIMEDOUT);
        assert_text(error, "ovs-vswitchd did not apply the change within 300 ms (is it running?)");
        free(error);
        assert_true(s->n_requests >= 2);
        fake_server_free(s);
}

static void test_del_bridge_conversation(void **state) {
        static const char *const replies[] = {
                "{\"id\":$ID,\"result\":[{\"rows\":[{\"_uuid\":[\"uuid\",\"c3a618e0-a11d-42dd-bda2-dde00839e8bd\"]}]}],"
                "\"error\":null}",
                "{\"id\":$ID,\"result\":[{\"count\":1},{\"count\":1},{\"rows\":[{\"next_cfg\":2}]}],\"error\":null}",
                "{\"id\":$ID,\"result\":[{\"rows\":[{\"cur_cfg\":2}]}],\"error\":null}",
        };
        FakeServer *s = fake_server_listen(replies, ELEMENTSOF(replies));

        assert_int_equal(ovs_del_bridge(s->address, "br0", 5000, NULL), 0);
        fake_server_stop(s);
        assert_int_equal(s->n_requests, 3);
        assert_text(s->requests[0], "{\"method\":\"transact\",\"params\":[\"Open_vSwitch\",{\"op\":\"select\","
                                    "\"table\":\"Bridge\",\"where\":[[\"name\",\"==\",\"br0\"]],\"columns\":[\"_uuid\"]}],"
                                    "\"id\":\"$ID\"}");
        assert_text(s->requests[1], "{\"method\":\"transact\",\"params\":[\"Open_vSwitch\",{\"op\":\"mutate\","
                                    "\"table\":\"Open_vSwitch\",\"where\":[],\"mutations\":[[\"bridges\",\"delete\","
                                    "[\"uuid\",\"c3a618e0-a11d-42dd-bda2-dde00839e8bd\"]]]},"
                                    "{\"op\":\"mutate\",\"table\":\"Open_vSwitch\",\"where\":[],\"mutations\":"
                                    "[[\"next_cfg\",\"+=\",1]]},{\"op\":\"select\",\"table\":\"Open_vSwitch\","
                                    "\"where\":[],\"columns\":[\"next_cfg\"]}],\"id\":\"$ID\"}");
        fake_server_free(s);
}

static void test_del_missing(void **state) {
        static const char *const replies[] = { "{\"id\":$ID,\"result\":[{\"rows\":[]}],\"error\":null}" };
        FakeServer *s = fake_server_listen(replies, 1);
        char *error = NULL;

        assert_int_equal(ovs_del_port(s->address, "br0", "vnet9", 5000, &error), -ENODEV);
        fake_server_stop(s);
        assert_text(error, "no Open vSwitch port vnet9");
        free(error);
        assert_int_equal(s->n_requests, 1);
        fake_server_free(s);
}

static void test_del_when_the_lookup_fails(void **state) {
        /* Not knowing is not "not there": recovery skips what is not there. */
        static const char *const refused[] = { reply_syntax_error };
        FakeServer *s;
        char *error = NULL;

        assert_int_equal(ovs_del_bridge("unix:/nonexistent/hostagent/db.sock", "br0", 1000, &error), -EHOSTUNREACH);
        assert_text(error, "cannot reach ovsdb-server at unix:/nonexistent/hostagent/db.sock: No such file or directory");
        error = mfree(error);
        assert_int_equal(ovs_del_port("unix:/nonexistent/hostagent/db.sock", "br0", "eth1", 1000, &error),
                         -EHOSTUNREACH);
        error = mfree(error);

        s = fake_server_listen(refused, 1);
        assert_int_equal(ovs_del_port(s->address, "br0", "eth1", 5000, &error), -EIO);
        fake_server_stop(s);
        assert_text(error, "ovsdb-server refused operation 1: syntax error: Parsing ovsdb operation 1 of 1 failed: "
                           "No table named Bridgex.");
        error = mfree(error);
        assert_int_equal(s->n_requests, 1);
        fake_server_free(s);

        s = fake_server_listen(NULL, 0);
        assert_int_equal(ovs_del_bridge(s->address, "br0", 200, &error), -ETIMEDOUT);
        fake_server_stop(s);
        assert_text(error, "ovsdb-server did not answer within 200 ms");
        free(error);
        fake_server_free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_reader_cuts),
                cmocka_unit_test(test_reader_bad_input),
                cmocka_unit_test(test_reader_odd_but_whole),
                cmocka_unit_test(test_echo),
                cmocka_unit_test(test_monitor_messages),
                cmocka_unit_test(test_transact_sends_and_reads),
                cmocka_unit_test(test_transact_among_other_messages),
                cmocka_unit_test(test_transact_large_reply),
                cmocka_unit_test(test_transact_errors),
                cmocka_unit_test(test_transact_garbage),
                cmocka_unit_test(test_state_read),
                cmocka_unit_test(test_state_read_odd_rows),
                cmocka_unit_test(test_state_read_malformed),
                cmocka_unit_test(test_state_read_unreachable),
                cmocka_unit_test(test_add_bridge_conversation),
                cmocka_unit_test(test_add_bridge_refused),
                cmocka_unit_test(test_add_bridge_vswitchd_absent),
                cmocka_unit_test(test_del_bridge_conversation),
                cmocka_unit_test(test_del_missing),
                cmocka_unit_test(test_del_when_the_lookup_fails),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
