/* A connection's first call, answered while a flood waits behind it in the
 * bus daemon's queue to the agent.
 *
 * reply-order N: prints "ready", waits for a line on stdin (the test stops
 * the agent meanwhile), then on one connection sends Manager.GetVM (a call
 * the agent answers only once it knows who the caller is, and the first of
 * this connection: the agent asks the bus), N Peer.Pings that expect no
 * reply (a flood the bus daemon does not bound by pending replies), and one
 * Peer.Ping that does; prints "sent", then, once both are answered, "first
 * NAME ERROR" where NAME is the call answered first (GetVM or Ping) and
 * ERROR the name of GetVM's error ("-" for none). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#define WAIT_USEC (1000ULL * 1000)   /* a turn: sd_bus_process() then times calls out */

typedef struct Order {
        const char *first;
        char getvm_error[128], ping_error[128];
        unsigned answered;
} Order;

static int on_getvm(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Order *o = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        snprintf(o->getvm_error, sizeof o->getvm_error, "%s", e ? e->name : "-");
        if (!o->first)
                o->first = "GetVM";
        o->answered++;
        return 0;
}

static int on_ping(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Order *o = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        snprintf(o->ping_error, sizeof o->ping_error, "%s", e ? e->name : "-");
        if (!o->first)
                o->first = "Ping";
        o->answered++;
        return 0;
}

static int send_quiet_ping(sd_bus *bus) {
        __attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, "org.hostagent1", "/org/hostagent1", "org.freedesktop.DBus.Peer",
                                           "Ping");
        if (r >= 0)
                r = sd_bus_message_set_expect_reply(m, false);
        if (r >= 0)
                r = sd_bus_send(bus, m, NULL);
        return r;
}

int main(int argc, char *argv[]) {
        __attribute__((cleanup(sd_bus_flush_close_unrefp))) sd_bus *bus = NULL;
        Order o = {};
        char line[16];
        unsigned n;
        int r;

        if (argc != 2 || sd_bus_open_system(&bus) < 0)
                return 2;
        n = (unsigned) strtoul(argv[1], NULL, 10);
        printf("ready\n");
        fflush(stdout);
        if (!fgets(line, sizeof line, stdin))
                return 2;
        r = sd_bus_call_method_async(bus, NULL, "org.hostagent1", "/org/hostagent1", "org.hostagent1.Manager", "GetVM",
                                     on_getvm, &o, "s", "no-such-vm-reply-order");
        for (unsigned i = 0; r >= 0 && i < n; i++)
                r = send_quiet_ping(bus);
        if (r >= 0)
                r = sd_bus_call_method_async(bus, NULL, "org.hostagent1", "/org/hostagent1", "org.freedesktop.DBus.Peer",
                                             "Ping", on_ping, &o, "");
        if (r >= 0)
                r = sd_bus_flush(bus);
        if (r < 0) {
                fprintf(stderr, "reply-order: cannot send: %s\n", strerror(-r));
                return 1;
        }
        printf("sent\n");
        fflush(stdout);
        while (o.answered < 2) {
                r = sd_bus_process(bus, NULL);
                if (r == 0)
                        r = sd_bus_wait(bus, WAIT_USEC);
                if (r < 0) {
                        fprintf(stderr, "reply-order: %s\n", strerror(-r));
                        return 1;
                }
        }
        printf("getvm %s ping %s first %s\n", o.getvm_error, o.ping_error, o.first);
        return 0;
}
