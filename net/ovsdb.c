/* An Open vSwitch database client on json-c (RFC 7047), for worker threads */
#include "ovsdb.h"

#include <ctype.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "bus-text.h"
#include "json-cleanup.h"
#include "macro.h"
#include "error-text.h"

#define DB "Open_vSwitch"

int ovsdb_reader_init(OvsdbReader *r) {
        r->tok = json_tokener_new();
        return r->tok ? 0 : -ENOMEM;
}

void ovsdb_reader_done(OvsdbReader *r) {
        if (r->tok)
                json_tokener_free(r->tok);
        r->tok = NULL;
}

int ovsdb_reader_feed(OvsdbReader *r, const char *buf, size_t size, void (*fn)(json_object *msg, void *userdata),
                      void *userdata) {
        while (size > 0) {
                json_object *msg = json_tokener_parse_ex(r->tok, buf, (int) size);
                enum json_tokener_error e = json_tokener_get_error(r->tok);
                size_t used;

                if (!msg && e == json_tokener_continue)
                        return 0;   /* the rest of this message comes later */
                if (!msg)
                        return -EBADMSG;
                used = json_tokener_get_parse_end(r->tok);
                json_tokener_reset(r->tok);
                fn(msg, userdata);
                json_object_put(msg);
                buf += used;
                size -= used;
                /* White space between messages. */
                while (size > 0 && (*buf == ' ' || *buf == '\n' || *buf == '\r' || *buf == '\t')) {
                        buf++;
                        size--;
                }
        }
        return 0;
}

int ovsdb_connect(const char *address, bool nonblocking) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        if (strncmp(address, "unix:", 5) != 0 || strlen(address + 5) >= sizeof sa.sun_path)
                return -EINVAL;
        strcpy(sa.sun_path, address + 5);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

static int send_all(int fd, const char *text) {
        size_t n = strlen(text);

        while (n > 0) {
                ssize_t w = send(fd, text, n, MSG_NOSIGNAL);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                text += w;
                n -= (size_t) w;
        }
        return 0;
}

static int send_json(int fd, json_object *msg) {
        return send_all(fd, json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN));
}

static uint64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

typedef struct Waiter {
        int fd;
        int64_t id;
        json_object *reply;
} Waiter;

json_object *ovsdb_echo_reply(json_object *msg) {
        json_object *method, *params = NULL, *id = NULL, *reply;

        /* A null method has no string: streq_ptr, or the agent crashes. */
        if (!json_object_object_get_ex(msg, "method", &method) || !streq_ptr(json_object_get_string(method), "echo"))
                return NULL;
        reply = json_object_new_object();
        if (!reply)
                return NULL;
        json_object_object_get_ex(msg, "params", &params);
        json_object_object_get_ex(msg, "id", &id);
        json_object_object_add(reply, "result", json_object_get(params));
        json_object_object_add(reply, "error", NULL);
        json_object_object_add(reply, "id", json_object_get(id));
        return reply;
}

static void on_message(json_object *msg, void *userdata) {
        Waiter *w = userdata;
        json_object *id, *echo = ovsdb_echo_reply(msg);

        if (echo) {
                (void) send_json(w->fd, echo);
                json_object_put(echo);
                return;
        }
        /* Replies are matched by id: an update may come first. */
        if (!w->reply && json_object_object_get_ex(msg, "id", &id) && json_object_is_type(id, json_type_int) &&
            json_object_get_int64(id) == w->id)
                w->reply = json_object_get(msg);
}

static int64_t next_id(void) {
        static _Atomic int64_t id = 1;
        return id++;
}

/* What the server sent may be of any type, and json-c aborts when an array
 * function is handed anything but an array: read replies through these. */
static size_t array_length(json_object *a) {
        return json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

static json_object *array_get(json_object *a, size_t i) {
        return i < array_length(a) ? json_object_array_get_idx(a, i) : NULL;
}

/* ["Open_vSwitch", op...] as a "transact" request with ID; takes OPS. */
static json_object *transact_message(json_object *ops, int64_t id) {
        _cleanup_(json_object_putp) json_object *msg = json_object_new_object();
        json_object *params = json_object_new_array();

        if (!msg || !params) {
                json_object_put(params);
                json_object_put(ops);
                return NULL;
        }
        json_object_array_add(params, json_object_new_string(DB));
        for (size_t i = 0; i < json_object_array_length(ops); i++)
                json_object_array_add(params, json_object_get(json_object_array_get_idx(ops, i)));
        json_object_put(ops);
        json_object_object_add(msg, "method", json_object_new_string("transact"));
        json_object_object_add(msg, "params", params);
        json_object_object_add(msg, "id", json_object_new_int64(id));
        return TAKE_PTR(msg);
}

/* Reads until W's reply came, the server went away or the DEADLINE passed. */
static int wait_reply(Waiter *w, uint64_t deadline, unsigned timeout_ms, char **ret_error) {
        OvsdbReader reader = {};
        int r = 0;

        if (ovsdb_reader_init(&reader) < 0)
                return -ENOMEM;
        while (r >= 0 && !w->reply) {
                struct pollfd p = { .fd = w->fd, .events = POLLIN };
                uint64_t now = now_ms();
                char buf[16384];
                ssize_t n;

                if (now >= deadline) {
                        r = error_textf(ret_error, -ETIMEDOUT, "ovsdb-server did not answer within %u ms", timeout_ms);
                        break;
                }
                if (poll(&p, 1, (int) (deadline - now)) <= 0)
                        continue;
                n = recv(w->fd, buf, sizeof buf, 0);
                if (n <= 0) {
                        r = error_textf(ret_error, n == 0 ? -ECONNRESET : -errno, "ovsdb-server closed the connection");
                        break;
                }
                r = ovsdb_reader_feed(&reader, buf, (size_t) n, on_message, w);
                if (r < 0)
                        r = error_textf(ret_error, r, "ovsdb-server sent a message that is not JSON");
        }
        ovsdb_reader_done(&reader);
        return r;
}

/* The results of a reply; an operation that failed says so in its own
 * result, and then the transaction was not committed. */
static int reply_results(json_object *reply, json_object **ret_result, char **ret_error) {
        json_object *result, *error;

        if (json_object_object_get_ex(reply, "error", &error) && error)
                return error_textf(ret_error, -EIO, "ovsdb-server: %s", json_object_to_json_string(error));
        if (!json_object_object_get_ex(reply, "result", &result) || !json_object_is_type(result, json_type_array))
                return error_textf(ret_error, -EBADMSG, "ovsdb-server sent a reply without results");
        for (size_t i = 0; i < json_object_array_length(result); i++) {
                json_object *op = json_object_array_get_idx(result, i), *e, *details;
                if (op && json_object_object_get_ex(op, "error", &e) && e) {
                        json_object_object_get_ex(op, "details", &details);
                        return error_textf(ret_error, -EIO, "ovsdb-server refused operation %zu: %s%s%s", i + 1,
                                           json_object_get_string(e), details ? ": " : "",
                                           details ? json_object_get_string(details) : "");
                }
        }
        *ret_result = json_object_get(result);
        return 0;
}

int ovsdb_transact(int fd, json_object *ops, unsigned timeout_ms, json_object **ret_result, char **ret_error) {
        Waiter w = { .fd = fd, .id = next_id() };
        uint64_t deadline = now_ms() + timeout_ms;
        _cleanup_(json_object_putp) json_object *msg = transact_message(ops, w.id);
        int r;

        if (!msg)
                return -ENOMEM;
        r = send_json(fd, msg);
        if (r >= 0)
                r = wait_reply(&w, deadline, timeout_ms, ret_error);
        if (r >= 0)
                r = reply_results(w.reply, ret_result, ret_error);
        json_object_put(w.reply);
        return r;
}

/* Building operations. */

static json_object *named_uuid(const char *name) {
        json_object *a = json_object_new_array();
        json_object_array_add(a, json_object_new_string("named-uuid"));
        json_object_array_add(a, json_object_new_string(name));
        return a;
}

static json_object *where_name(const char *name) {
        json_object *w = json_object_new_array(), *c = json_object_new_array();
        json_object_array_add(c, json_object_new_string("name"));
        json_object_array_add(c, json_object_new_string("=="));
        json_object_array_add(c, json_object_new_string(name));
        json_object_array_add(w, c);
        return w;
}

static json_object *op(const char *kind, const char *table) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "op", json_object_new_string(kind));
        json_object_object_add(o, "table", json_object_new_string(table));
        return o;
}

static json_object *mutation(const char *column, const char *mutator, json_object *value) {
        json_object *m = json_object_new_array();
        json_object_array_add(m, json_object_new_string(column));
        json_object_array_add(m, json_object_new_string(mutator));
        json_object_array_add(m, value);
        return m;
}

/* Appends "bump next_cfg" and "read it back": the change is applied once cur_cfg reaches it. */
static void add_cfg_bump(json_object *ops) {
        json_object *m = op("mutate", DB), *muts = json_object_new_array(), *s = op("select", DB),
                    *cols = json_object_new_array();

        json_object_object_add(m, "where", json_object_new_array());
        json_object_array_add(muts, mutation("next_cfg", "+=", json_object_new_int(1)));
        json_object_object_add(m, "mutations", muts);
        json_object_array_add(ops, m);
        json_object_object_add(s, "where", json_object_new_array());
        json_object_array_add(cols, json_object_new_string("next_cfg"));
        json_object_object_add(s, "columns", cols);
        json_object_array_add(ops, s);
}

static int64_t first_row_int(json_object *select_result, const char *column) {
        json_object *rows, *row, *v;

        if (!json_object_object_get_ex(select_result, "rows", &rows) || array_length(rows) < 1)
                return -1;
        row = array_get(rows, 0);
        return json_object_object_get_ex(row, column, &v) ? json_object_get_int64(v) : -1;
}

/* Polls cur_cfg until ovs-vswitchd has applied configuration TARGET. */
static int wait_applied(int fd, int64_t target, unsigned timeout_ms, char **ret_error) {
        uint64_t deadline = now_ms() + timeout_ms;

        for (;;) {
                json_object *ops = json_object_new_array(), *s = op("select", DB), *cols = json_object_new_array(),
                            *result = NULL;
                int64_t cur;
                int r;

                json_object_object_add(s, "where", json_object_new_array());
                json_object_array_add(cols, json_object_new_string("cur_cfg"));
                json_object_object_add(s, "columns", cols);
                json_object_array_add(ops, s);
                r = ovsdb_transact(fd, ops, timeout_ms, &result, ret_error);
                if (r < 0)
                        return r;
                cur = first_row_int(json_object_array_get_idx(result, 0), "cur_cfg");
                json_object_put(result);
                if (cur >= target)
                        return 0;
                if (now_ms() >= deadline)
                        return error_textf(ret_error, -ETIMEDOUT, "ovs-vswitchd did not apply the change within %u ms "
                                     "(is it running?)", timeout_ms);
                struct timespec ts = { .tv_nsec = 20 * 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
}

/* Runs OPS (with the cfg bump appended) on a new connection and waits for vswitchd. */
static int change(const char *address, json_object *ops, unsigned timeout_ms, char **ret_error) {
        json_object *result = NULL;
        int64_t target;
        int fd, r;

        add_cfg_bump(ops);
        fd = ovsdb_connect(address, false);
        if (fd < 0) {
                json_object_put(ops);
                return error_textf(ret_error, -EHOSTUNREACH, "cannot reach ovsdb-server at %s: %s", address, strerror(-fd));
        }
        r = ovsdb_transact(fd, ops, timeout_ms, &result, ret_error);
        if (r >= 0) {
                target = first_row_int(json_object_array_get_idx(result, json_object_array_length(result) - 1),
                                       "next_cfg");
                json_object_put(result);
                r = wait_applied(fd, target, timeout_ms, ret_error);
        }
        close(fd);
        return r;
}

/* Fails the transaction unless no row of TABLE is named NAME (or, with EXISTS, one is). */
static json_object *wait_named(const char *table, const char *name, bool exists) {
        json_object *w = op("wait", table), *cols = json_object_new_array(), *rows = json_object_new_array();

        json_object_object_add(w, "where", where_name(name));
        json_object_array_add(cols, json_object_new_string("name"));
        json_object_object_add(w, "columns", cols);
        json_object_object_add(w, "until", json_object_new_string(exists ? "!=" : "=="));
        json_object_object_add(w, "rows", rows);
        json_object_object_add(w, "timeout", json_object_new_int(0));
        return w;
}

static json_object *insert_port(json_object *ops, const char *name, const char *iface_type, unsigned tag) {
        json_object *i = op("insert", "Interface"), *irow = json_object_new_object(), *p = op("insert", "Port"),
                    *prow = json_object_new_object();
        char iface_ref[80], port_ref[80];

        snprintf(iface_ref, sizeof iface_ref, "iface_%s", name);
        snprintf(port_ref, sizeof port_ref, "port_%s", name);
        for (char *c = iface_ref; *c; c++)
                if (!isalnum((unsigned char) *c))
                        *c = '_';
        for (char *c = port_ref; *c; c++)
                if (!isalnum((unsigned char) *c))
                        *c = '_';
        json_object_object_add(irow, "name", json_object_new_string(name));
        if (iface_type)
                json_object_object_add(irow, "type", json_object_new_string(iface_type));
        json_object_object_add(i, "row", irow);
        json_object_object_add(i, "uuid-name", json_object_new_string(iface_ref));
        json_object_array_add(ops, i);
        json_object_object_add(prow, "name", json_object_new_string(name));
        json_object_object_add(prow, "interfaces", named_uuid(iface_ref));
        if (tag)
                json_object_object_add(prow, "tag", json_object_new_int((int) tag));
        json_object_object_add(p, "row", prow);
        json_object_object_add(p, "uuid-name", json_object_new_string(port_ref));
        json_object_array_add(ops, p);
        return named_uuid(port_ref);
}

int ovs_add_bridge(const char *address, const char *name, const char *datapath_type, unsigned tag,
                   unsigned timeout_ms, char **ret_error) {
        json_object *ops = json_object_new_array(), *port, *b = op("insert", "Bridge"), *row = json_object_new_object(),
                    *m = op("mutate", DB), *muts = json_object_new_array();

        json_object_array_add(ops, wait_named("Bridge", name, false));
        port = insert_port(ops, name, "internal", tag);
        json_object_object_add(row, "name", json_object_new_string(name));
        json_object_object_add(row, "datapath_type", json_object_new_string(datapath_type));
        json_object_object_add(row, "ports", port);
        json_object_object_add(b, "row", row);
        json_object_object_add(b, "uuid-name", json_object_new_string("bridge"));
        json_object_array_add(ops, b);
        json_object_object_add(m, "where", json_object_new_array());
        json_object_array_add(muts, mutation("bridges", "insert", named_uuid("bridge")));
        json_object_object_add(m, "mutations", muts);
        json_object_array_add(ops, m);
        return change(address, ops, timeout_ms, ret_error);
}

/* The _uuid of the row of TABLE named NAME, as ["uuid", "..."]: -ENODEV when
 * there is none, another -errno when the database could not be asked. */
static int row_uuid(const char *address, const char *table, const char *name, unsigned timeout_ms,
                    json_object **ret_uuid, char **ret_error) {
        json_object *ops = json_object_new_array(), *s = op("select", table), *cols = json_object_new_array(),
                    *result = NULL, *rows, *uuid = NULL;
        int fd = ovsdb_connect(address, false), r;

        json_object_object_add(s, "where", where_name(name));
        json_object_array_add(cols, json_object_new_string("_uuid"));
        json_object_object_add(s, "columns", cols);
        json_object_array_add(ops, s);
        if (fd < 0) {
                json_object_put(ops);
                return error_textf(ret_error, -EHOSTUNREACH, "cannot reach ovsdb-server at %s: %s", address, strerror(-fd));
        }
        r = ovsdb_transact(fd, ops, timeout_ms, &result, ret_error);
        close(fd);
        if (r < 0)
                return r;
        if (json_object_object_get_ex(array_get(result, 0), "rows", &rows) && array_length(rows) > 0)
                json_object_object_get_ex(array_get(rows, 0), "_uuid", &uuid);
        uuid = json_object_get(uuid);
        json_object_put(result);
        if (!uuid)
                return -ENODEV;
        *ret_uuid = uuid;
        return 0;
}

int ovs_del_bridge(const char *address, const char *name, unsigned timeout_ms, char **ret_error) {
        json_object *uuid = NULL, *ops, *m, *muts;
        int r = row_uuid(address, "Bridge", name, timeout_ms, &uuid, ret_error);

        if (r == -ENODEV)
                return error_textf(ret_error, r, "no Open vSwitch bridge %s", name);
        if (r < 0)
                return r;
        ops = json_object_new_array();
        m = op("mutate", DB);
        muts = json_object_new_array();
        json_object_object_add(m, "where", json_object_new_array());
        json_object_array_add(muts, mutation("bridges", "delete", uuid));
        json_object_object_add(m, "mutations", muts);
        json_object_array_add(ops, m);
        /* Ports and interfaces go with it: unreferenced rows are the database's to collect. */
        return change(address, ops, timeout_ms, ret_error);
}

int ovs_add_port(const char *address, const char *bridge, const char *port, unsigned tag, unsigned timeout_ms,
                 char **ret_error) {
        json_object *ops = json_object_new_array(), *ref, *m = op("mutate", "Bridge"), *muts = json_object_new_array();

        json_object_array_add(ops, wait_named("Bridge", bridge, true));
        json_object_array_add(ops, wait_named("Port", port, false));
        ref = insert_port(ops, port, NULL, tag);
        json_object_object_add(m, "where", where_name(bridge));
        json_object_array_add(muts, mutation("ports", "insert", ref));
        json_object_object_add(m, "mutations", muts);
        json_object_array_add(ops, m);
        return change(address, ops, timeout_ms, ret_error);
}

int ovs_add_bond(const char *address, const char *bridge, const char *port, char *const *slaves, size_t n_slaves,
                 const char *mode, unsigned timeout_ms, char **ret_error) {
        json_object *ops = json_object_new_array(), *ifaces = json_object_new_array(), *set = json_object_new_array(),
                    *p = op("insert", "Port"), *row = json_object_new_object(), *m = op("mutate", "Bridge"),
                    *muts = json_object_new_array();
        const char *ovs_mode = streq(mode, "active-backup") ? "active-backup"
                               : streq(mode, "802.3ad")     ? "balance-tcp"
                                                            : "balance-slb";

        json_object_array_add(ops, wait_named("Bridge", bridge, true));
        json_object_array_add(ops, wait_named("Port", port, false));
        for (size_t i = 0; i < n_slaves; i++) {
                json_object *in = op("insert", "Interface"), *irow = json_object_new_object();
                char ref[32];

                snprintf(ref, sizeof ref, "slave%zu", i);
                json_object_object_add(irow, "name", json_object_new_string(slaves[i]));
                json_object_object_add(in, "row", irow);
                json_object_object_add(in, "uuid-name", json_object_new_string(ref));
                json_object_array_add(ops, in);
                json_object_array_add(ifaces, named_uuid(ref));
        }
        json_object_array_add(set, json_object_new_string("set"));
        json_object_array_add(set, ifaces);
        json_object_object_add(row, "name", json_object_new_string(port));
        json_object_object_add(row, "interfaces", set);
        json_object_object_add(row, "bond_mode", json_object_new_string(ovs_mode));
        if (streq(mode, "802.3ad"))
                json_object_object_add(row, "lacp", json_object_new_string("active"));
        json_object_object_add(p, "row", row);
        json_object_object_add(p, "uuid-name", json_object_new_string("bond"));
        json_object_array_add(ops, p);
        json_object_object_add(m, "where", where_name(bridge));
        json_object_array_add(muts, mutation("ports", "insert", named_uuid("bond")));
        json_object_object_add(m, "mutations", muts);
        json_object_array_add(ops, m);
        return change(address, ops, timeout_ms, ret_error);
}

int ovs_del_port(const char *address, const char *bridge, const char *port, unsigned timeout_ms, char **ret_error) {
        json_object *uuid = NULL, *ops, *m, *muts;
        int r = row_uuid(address, "Port", port, timeout_ms, &uuid, ret_error);

        if (r == -ENODEV)
                return error_textf(ret_error, r, "no Open vSwitch port %s", port);
        if (r < 0)
                return r;
        ops = json_object_new_array();
        m = op("mutate", "Bridge");
        muts = json_object_new_array();
        json_object_object_add(m, "where", where_name(bridge));
        json_object_array_add(muts, mutation("ports", "delete", uuid));
        json_object_object_add(m, "mutations", muts);
        json_object_array_add(ops, m);
        return change(address, ops, timeout_ms, ret_error);
}

/* Reading the bridges. */

void ovs_state_done(OvsState *s) {
        for (size_t i = 0; i < s->n_bridges; i++)
                free(s->bridges[i].ports);
        free(s->bridges);
        *s = (OvsState) {};
}

/* The UUIDs in an OVSDB value: ["uuid","x"] or ["set",[["uuid","x"],...]]. */
static size_t uuids_of(json_object *v, const char **out, size_t max) {
        const char *kind;
        json_object *items;
        size_t n = 0;

        if (array_length(v) != 2)
                return 0;
        kind = json_object_get_string(array_get(v, 0));
        if (streq_ptr(kind, "uuid")) {
                if (max == 0 || !json_object_is_type(array_get(v, 1), json_type_string))
                        return 0;
                out[0] = json_object_get_string(array_get(v, 1));
                return 1;
        }
        if (!streq_ptr(kind, "set"))
                return 0;
        items = array_get(v, 1);
        for (size_t i = 0; i < array_length(items) && n < max; i++)
                n += uuids_of(array_get(items, i), out + n, max - n);
        return n;
}

static json_object *find_row(json_object *rows, const char *uuid) {
        for (size_t i = 0; i < array_length(rows); i++) {
                json_object *row = array_get(rows, i), *u;
                if (json_object_object_get_ex(row, "_uuid", &u) &&
                    streq_ptr(json_object_get_string(array_get(u, 1)), uuid))
                        return row;
        }
        return NULL;
}

static const char *row_string(json_object *row, const char *column) {
        json_object *v;
        return row && json_object_object_get_ex(row, column, &v) && json_object_is_type(v, json_type_string)
                       ? json_object_get_string(v) : "";
}

static json_object *select_all(const char *table, const char *const *columns) {
        json_object *s = op("select", table), *cols = json_object_new_array();

        json_object_object_add(s, "where", json_object_new_array());
        for (size_t i = 0; columns[i]; i++)
                json_object_array_add(cols, json_object_new_string(columns[i]));
        json_object_object_add(s, "columns", cols);
        return s;
}

/* A bridge's port, from its row in PROWS and its first interface's in IROWS. */
static void port_from_rows(OvsPort *p, json_object *prows, json_object *irows, const char *uuid) {
        json_object *prow = find_row(prows, uuid), *tag, *ifaces;
        const char *iface_uuid[1];

        snprintf(p->name, sizeof p->name, "%s", row_string(prow, "name"));
        /* UTF-8 for OVSDB, but maybe not a string sd-bus takes: foreign
         * ports are listed in Network.Ports. */
        bus_text_make_valid(p->name);
        if (prow && json_object_object_get_ex(prow, "tag", &tag) && json_object_is_type(tag, json_type_int))
                p->tag = (unsigned) json_object_get_int(tag);
        if (prow && json_object_object_get_ex(prow, "interfaces", &ifaces) && uuids_of(ifaces, iface_uuid, 1) == 1)
                snprintf(p->type, sizeof p->type, "%s", row_string(find_row(irows, iface_uuid[0]), "type"));
}

static int bridge_from_rows(OvsBridge *b, json_object *brow, json_object *prows, json_object *irows) {
        const char *uuids[1024];
        json_object *ports;
        size_t n = 0;

        snprintf(b->name, sizeof b->name, "%s", row_string(brow, "name"));
        snprintf(b->datapath_type, sizeof b->datapath_type, "%s", row_string(brow, "datapath_type"));
        if (json_object_object_get_ex(brow, "ports", &ports))
                n = uuids_of(ports, uuids, ELEMENTSOF(uuids));
        b->ports = calloc(n + 1, sizeof *b->ports);
        if (!b->ports)
                return -ENOMEM;
        for (size_t j = 0; j < n; j++)
                port_from_rows(&b->ports[b->n_ports++], prows, irows, uuids[j]);
        return 0;
}

/* The state from the results of the three selects (bridges, ports, interfaces). */
static int state_from_results(json_object *result, OvsState *ret, char **ret_error) {
        json_object *brows = NULL, *prows = NULL, *irows = NULL;
        OvsState s = { .reachable = true };

        json_object_object_get_ex(array_get(result, 0), "rows", &brows);
        json_object_object_get_ex(array_get(result, 1), "rows", &prows);
        json_object_object_get_ex(array_get(result, 2), "rows", &irows);
        if (!json_object_is_type(brows, json_type_array) || !json_object_is_type(prows, json_type_array) ||
            !json_object_is_type(irows, json_type_array))
                return error_textf(ret_error, -EBADMSG, "ovsdb-server sent rows that cannot be read");
        s.bridges = calloc(json_object_array_length(brows) + 1, sizeof *s.bridges);
        if (!s.bridges)
                return -ENOMEM;
        for (size_t i = 0; i < json_object_array_length(brows); i++)
                if (bridge_from_rows(&s.bridges[s.n_bridges++], json_object_array_get_idx(brows, i), prows, irows) < 0) {
                        ovs_state_done(&s);
                        return -ENOMEM;
                }
        *ret = s;
        return 0;
}

int ovs_state_read(const char *address, unsigned timeout_ms, OvsState *ret, char **ret_error) {
        static const char *const bridge_cols[] = { "_uuid", "name", "datapath_type", "ports", NULL };
        static const char *const port_cols[] = { "_uuid", "name", "tag", "interfaces", NULL };
        static const char *const iface_cols[] = { "_uuid", "name", "type", NULL };
        _cleanup_(json_object_putp) json_object *result = NULL;
        json_object *ops = json_object_new_array();
        int fd, r;

        json_object_array_add(ops, select_all("Bridge", bridge_cols));
        json_object_array_add(ops, select_all("Port", port_cols));
        json_object_array_add(ops, select_all("Interface", iface_cols));
        fd = ovsdb_connect(address, false);
        if (fd < 0) {
                json_object_put(ops);
                *ret = (OvsState) { .reachable = false };
                return error_textf(ret_error, -EHOSTUNREACH, "cannot reach ovsdb-server at %s: %s", address,
                                   strerror(-fd));
        }
        r = ovsdb_transact(fd, ops, timeout_ms, &result, ret_error);
        close(fd);
        if (r < 0)
                return r;
        return state_from_results(result, ret, ret_error);
}

const OvsBridge *ovs_state_bridge(const OvsState *s, const char *name) {
        for (size_t i = 0; i < s->n_bridges; i++)
                if (streq(s->bridges[i].name, name))
                        return &s->bridges[i];
        return NULL;
}

const OvsPort *ovs_bridge_port(const OvsBridge *b, const char *name) {
        for (size_t i = 0; b && i < b->n_ports; i++)
                if (streq(b->ports[i].name, name))
                        return &b->ports[i];
        return NULL;
}
