/* Test-only: listings (GetManagedObjects, ListVMs) pulled by a flooding caller and by another
 * caller next to it. Every reply is told by a hash of its body as sd-bus prints it, so replies
 * can be compared with a fresh read.
 *   listing-flood read OUT: one GetManagedObjects and one ListVMs, each on a connection of its
 *     own; OUT gets "GetManagedObjects
 *     HASH" and "ListVMs HASH".
 *   listing-flood flood DEPTH STOP OUT: keeps DEPTH listings outstanding on one connection
 *     (GetManagedObjects and ListVMs in turn), sending the next as each reply comes, until the file
 *     STOP exists; then waits for the replies still due. OUT gets "reply N" as the Nth reply comes,
 *     and at the end "sent N", "answered N" and one "METHOD HASH" (or "METHOD error NAME") line per
 *     distinct reply.
 *   listing-flood victim ROUNDS OUT: ROUNDS times, on one connection, GetManagedObjects,
 *     ListVMs and a Ping sent together, waiting for all three; OUT gets "ping-first N" (the
 *     rounds whose Ping was answered before the listings sent ahead of it), "answered N" and the
 *     distinct replies as above. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#define DISTINCT_MAX 32

static struct {
        unsigned outstanding, sent, answered, ping_first;
        FILE *out;
        char *distinct[DISTINCT_MAX];
        size_t n_distinct;
} st;

static void hash_bytes(uint64_t *h, const void *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                *h = (*h ^ ((const uint8_t *) p)[i]) * 1099511628211ULL;
}

/* FNV-1a over what is left in M's current container: each type and value. */
static int hash_container(sd_bus_message *m, uint64_t *h) {
        for (;;) {
                const char *contents;
                char type;
                int r;

                r = sd_bus_message_peek_type(m, &type, &contents);
                if (r <= 0)
                        return r;
                hash_bytes(h, &type, 1);
                if (contents) {
                        hash_bytes(h, contents, strlen(contents) + 1);
                        r = sd_bus_message_enter_container(m, type, contents);
                        if (r >= 0)
                                r = hash_container(m, h);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                } else {
                        union { uint64_t t; uint32_t u; uint16_t q; uint8_t y; int b; double d; const char *s; } v = {};

                        r = sd_bus_message_read_basic(m, type, &v);
                        if (r >= 0 && (type == 's' || type == 'o' || type == 'g'))
                                hash_bytes(h, v.s, strlen(v.s) + 1);
                        else if (r >= 0)
                                hash_bytes(h, &v, sizeof v);
                }
                if (r < 0)
                        return r;
        }
}

/* A hash of the body (the header, with its serials, left out). */
static int body_hash(sd_bus_message *m, uint64_t *ret) {
        uint64_t h = 1469598103934665603ULL;
        int r = hash_container(m, &h);

        if (r >= 0)
                *ret = h;
        return r;
}

static void note_reply(const char *method, sd_bus_message *reply) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        char line[512];
        uint64_t h = 0;

        if (e)
                snprintf(line, sizeof line, "%s error %s", method, e->name);
        else if (body_hash(reply, &h) < 0)
                snprintf(line, sizeof line, "%s unreadable", method);
        else
                snprintf(line, sizeof line, "%s %016llx", method, (unsigned long long) h);
        st.answered++;
        fprintf(st.out, "reply %u\n", st.answered);
        fflush(st.out);
        for (size_t i = 0; i < st.n_distinct; i++)
                if (strcmp(st.distinct[i], line) == 0)
                        return;
        if (st.n_distinct < DISTINCT_MAX)
                st.distinct[st.n_distinct++] = strdup(line);
}

static void write_summary(void) {
        fprintf(st.out, "sent %u\nanswered %u\nping-first %u\n", st.sent, st.answered, st.ping_first);
        for (size_t i = 0; i < st.n_distinct; i++)
                fprintf(st.out, "%s\n", st.distinct[i]);
}

static int on_listing(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        st.outstanding--;
        note_reply(userdata, reply);
        return 0;
}

static int send_listing(sd_bus *bus, const char *method, sd_bus_message_handler_t handler, void *userdata) {
        int r;

        if (strcmp(method, "GetManagedObjects") == 0)
                r = sd_bus_call_method_async(bus, NULL, "org.hostagent1", "/org/hostagent1",
                                             "org.freedesktop.DBus.ObjectManager", method, handler, userdata, NULL);
        else
                r = sd_bus_call_method_async(bus, NULL, "org.hostagent1", "/org/hostagent1",
                                             "org.hostagent1.Manager", method, handler, userdata, NULL);
        if (r >= 0) {
                st.sent++;
                st.outstanding++;
        }
        return r;
}

static int process_until(sd_bus *bus, bool (*done)(const char *stop), const char *stop) {
        while (!done(stop)) {
                int r = sd_bus_process(bus, NULL);

                if (r < 0)
                        return r;
                if (r == 0 && sd_bus_wait(bus, 100 * 1000) < 0)
                        return -EIO;
        }
        return 0;
}

static bool none_outstanding(const char *stop) {
        return st.outstanding == 0;
}

/* Each listing on a connection of its own: a caller's rate counts one. */
static int run_read(sd_bus *bus) {
        sd_bus *other = NULL;
        int r;

        if (sd_bus_open_system(&other) < 0)
                return -EIO;
        send_listing(bus, "GetManagedObjects", on_listing, (void *) "GetManagedObjects");
        r = process_until(bus, none_outstanding, NULL);
        if (r >= 0) {
                send_listing(other, "ListVMs", on_listing, (void *) "ListVMs");
                r = process_until(other, none_outstanding, NULL);
        }
        sd_bus_flush_close_unref(other);
        return r;
}

static int run_flood(sd_bus *bus, unsigned depth, const char *stop) {
        static const char *methods[] = { "GetManagedObjects", "ListVMs" };

        while (access(stop, F_OK) < 0) {
                int r;

                while (st.outstanding < depth) {
                        const char *method = methods[st.sent % 2];

                        if (send_listing(bus, method, on_listing, (void *) method) < 0)
                                return -EIO;
                }
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return r;
                if (r == 0 && sd_bus_wait(bus, 100 * 1000) < 0)
                        return -EIO;
        }
        return process_until(bus, none_outstanding, NULL);
}

/* A round: the listings' replies outstanding when the Ping's came. */
static int on_ping(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        st.outstanding--;
        if (st.outstanding > 0)
                st.ping_first++;
        if (sd_bus_message_is_method_error(reply, NULL))
                note_reply("Ping", reply);
        else
                st.answered++;
        return 0;
}

static int run_victim(sd_bus *bus, unsigned rounds) {
        for (unsigned i = 0; i < rounds; i++) {
                int r;

                if (send_listing(bus, "GetManagedObjects", on_listing, (void *) "GetManagedObjects") < 0 ||
                    send_listing(bus, "ListVMs", on_listing, (void *) "ListVMs") < 0 ||
                    sd_bus_call_method_async(bus, NULL, "org.hostagent1", "/org/hostagent1",
                                             "org.freedesktop.DBus.Peer", "Ping", on_ping, NULL, NULL) < 0)
                        return -EIO;
                st.sent++;
                st.outstanding++;
                r = process_until(bus, none_outstanding, NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

int main(int argc, char *argv[]) {
        sd_bus *bus = NULL;
        const char *out;
        int r;

        if (argc < 3)
                return 2;
        out = argv[argc - 1];
        if (!(st.out = fopen(out, "we")))
                return 2;
        if (sd_bus_open_system(&bus) < 0 || sd_bus_set_method_call_timeout(bus, 300ULL * 1000 * 1000) < 0)
                return 1;
        if (strcmp(argv[1], "read") == 0 && argc == 3)
                r = run_read(bus);
        else if (strcmp(argv[1], "flood") == 0 && argc == 5)
                r = run_flood(bus, (unsigned) atoi(argv[2]) ?: 1, argv[3]);
        else if (strcmp(argv[1], "victim") == 0 && argc == 4)
                r = run_victim(bus, (unsigned) atoi(argv[2]) ?: 1);
        else
                return 2;
        write_summary();
        fclose(st.out);
        sd_bus_flush_close_unref(bus);
        return r < 0 ? 1 : 0;
}
