/* Test-only: one caller flooding the agent with reads. On one connection, keeps DEPTH calls
 * of GetHostStats, GetAllVMStats and GetNetworkCapabilities (in turn) outstanding, sending the
 * next as each reply comes, until the file STOP exists; then waits for the replies still due.
 * OUT gets "first NAME" the first time a reply of each kind arrives ("ok" or the error's name),
 * and, at the end, "count NAME N" for each kind.
 * Arguments: DEPTH STOP OUT. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#define KINDS_MAX 16

static const char *methods[] = { "GetHostStats", "GetAllVMStats", "GetNetworkCapabilities" };

static struct {
        FILE *out;
        unsigned outstanding, sent;
        char *names[KINDS_MAX];
        unsigned counts[KINDS_MAX];
        size_t n_kinds;
} flood;

static void count(const char *name) {
        size_t i;

        for (i = 0; i < flood.n_kinds; i++)
                if (strcmp(flood.names[i], name) == 0)
                        break;
        if (i == flood.n_kinds) {
                if (i == KINDS_MAX)
                        return;
                flood.names[flood.n_kinds++] = strdup(name);
                fprintf(flood.out, "first %s\n", name);
                fflush(flood.out);
        }
        flood.counts[i]++;
}

static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        flood.outstanding--;
        count(e ? e->name : "ok");
        return 0;
}

static int send_one(sd_bus *bus) {
        int r = sd_bus_call_method_async(bus, NULL, "org.hostagent1", "/org/hostagent1", "org.hostagent1.Manager",
                                         methods[flood.sent % 3], on_reply, NULL, NULL);
        if (r < 0)
                return r;
        flood.sent++;
        flood.outstanding++;
        return 0;
}

int main(int argc, char *argv[]) {
        sd_bus *bus = NULL;
        unsigned depth;
        int r;

        if (argc != 4 || (depth = (unsigned) atoi(argv[1])) == 0 || !(flood.out = fopen(argv[3], "we")))
                return 2;
        if (sd_bus_open_system(&bus) < 0 || sd_bus_set_method_call_timeout(bus, 120ULL * 1000 * 1000) < 0)
                return 1;
        while (access(argv[2], F_OK) < 0 || flood.outstanding > 0) {
                bool stopping = access(argv[2], F_OK) == 0;

                while (!stopping && flood.outstanding < depth)
                        if (send_one(bus) < 0)
                                return 1;
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return 1;
                if (r == 0 && sd_bus_wait(bus, 100 * 1000) < 0)
                        return 1;
        }
        for (size_t i = 0; i < flood.n_kinds; i++)
                fprintf(flood.out, "count %s %u\n", flood.names[i], flood.counts[i]);
        fclose(flood.out);
        sd_bus_flush_close_unref(bus);
        return 0;
}
