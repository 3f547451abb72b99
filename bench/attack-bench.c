/* The attacks of issue 14 on the agent, and what root sees meanwhile.
 *
 * attack-bench attack KIND CLIENTS CONNECTIONS WINDOW
 *   Runs until killed: CLIENTS processes (forked; the caller drops to the
 *   unprivileged uid first), each with CONNECTIONS bus connections keeping
 *   WINDOW calls in flight on each. KIND: stats (GetHostStats, GetAllVMStats,
 *   GetNetworkCapabilities in turn), lists (GetManagedObjects, ListVMs),
 *   hoststats (GetHostStats only), bigarg (GetVM with a 30 MB argument),
 *   denials (CreateVM, refused to an unprivileged caller).
 *
 * attack-bench victim SECONDS TAG
 *   As root, for SECONDS: CreateVM one after the other (the test driver's
 *   VMs, named TAG-N, each undefined again, untimed), and Peer.Ping every
 *   10 ms on a connection of its own.
 *   Prints one line: "createvm OK TRIES P50_MS P99_MS MAX_MS ERRORS... | ping N P50_MS P99_MS MAX_MS",
 *   then "note NAME: MESSAGE", the first message of each error root got. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "bench-util.h"

#define BIG_ARGUMENT (30u * 1024 * 1024)
#define CALL_TIMEOUT_USEC (120ULL * 1000 * 1000)
#define MAX_CONNECTIONS 256

typedef struct Attacker {
        const char *kind;
        sd_bus *bus;
        unsigned window, in_flight, turn;
        const char *big;        /* the 30 MB argument, shared */
} Attacker;

static int attack_send(Attacker *a);

static int attack_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Attacker *a = userdata;

        a->in_flight--;
        return 0;
}

/* The next call of this kind of attack. */
static int attack_message(Attacker *a, sd_bus_message **ret) {
        static const char *const stats[] = { "GetHostStats", "GetAllVMStats", "GetNetworkCapabilities" };
        unsigned turn = a->turn++;
        sd_bus_message *m = NULL;
        int r;

        if (strcmp(a->kind, "lists") == 0 && turn % 2 == 0)
                return sd_bus_message_new_method_call(a->bus, ret, "org.hostagent1", "/org/hostagent1",
                                                      "org.freedesktop.DBus.ObjectManager", "GetManagedObjects");
        r = sd_bus_message_new_method_call(a->bus, &m, "org.hostagent1", "/org/hostagent1", "org.hostagent1.Manager",
                                           strcmp(a->kind, "stats") == 0 ? stats[turn % 3] :
                                           strcmp(a->kind, "lists") == 0 ? "ListVMs" :
                                           strcmp(a->kind, "bigarg") == 0 ? "GetVM" :
                                           strcmp(a->kind, "denials") == 0 ? "CreateVM" : "GetHostStats");
        if (r >= 0 && strcmp(a->kind, "bigarg") == 0)
                r = sd_bus_message_append(m, "s", a->big);
        else if (r >= 0 && strcmp(a->kind, "denials") == 0)
                r = sd_bus_message_append(m, "s", "{\"name\":\"intruder\",\"memory_mib\":128,\"type\":\"test\"}");
        if (r < 0) {
                sd_bus_message_unref(m);
                return r;
        }
        *ret = m;
        return 0;
}

static int attack_send(Attacker *a) {
        sd_bus_message *m = NULL;
        int r = attack_message(a, &m);

        if (r >= 0)
                r = sd_bus_call_async(a->bus, NULL, m, attack_reply, a, CALL_TIMEOUT_USEC);
        sd_bus_message_unref(m);
        if (r >= 0)
                a->in_flight++;
        return r;
}

/* One client: its connections polled together, each topped up to WINDOW. */
static int attack_client(const char *kind, unsigned connections, unsigned window) {
        static Attacker attackers[MAX_CONNECTIONS];
        struct pollfd fds[MAX_CONNECTIONS];
        char *big = NULL;

        if (strcmp(kind, "bigarg") == 0) {
                big = malloc(BIG_ARGUMENT + 1);
                if (!big)
                        return 1;
                memset(big, 'x', BIG_ARGUMENT);
                big[BIG_ARGUMENT] = '\0';
        }
        for (unsigned i = 0; i < connections; i++) {
                attackers[i] = (Attacker) { .kind = kind, .window = window, .big = big };
                if (sd_bus_open_system(&attackers[i].bus) < 0)
                        return 1;
        }
        for (;;) {
                for (unsigned i = 0; i < connections; i++) {
                        Attacker *a = &attackers[i];

                        while (sd_bus_process(a->bus, NULL) > 0)
                                ;
                        while (a->in_flight < a->window && attack_send(a) >= 0)
                                ;
                        fds[i] = (struct pollfd) { .fd = sd_bus_get_fd(a->bus), .events = (short) sd_bus_get_events(a->bus) };
                }
                if (poll(fds, connections, 100) < 0 && errno != EINTR)
                        return 1;
        }
}

static int attack(int argc, char *argv[]) {
        unsigned clients, connections, window;

        if (argc != 6)
                return 2;
        clients = (unsigned) atoi(argv[3]);
        connections = (unsigned) atoi(argv[4]);
        window = (unsigned) atoi(argv[5]);
        if (connections == 0 || connections > MAX_CONNECTIONS)
                return 2;
        /* Children die with us: the script stops the attack by our PID. */
        signal(SIGTERM, SIG_DFL);
        for (unsigned i = 0; i < clients; i++)
                if (fork() == 0) {
                        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                        _exit(attack_client(argv[2], connections, window));
                }
        pause();
        return 0;
}

typedef struct Samples {
        uint64_t *v;
        size_t n, cap;
} Samples;

static void samples_add(Samples *s, uint64_t v) {
        if (s->n == s->cap) {
                s->cap = s->cap ? s->cap * 2 : 1024;
                s->v = realloc(s->v, s->cap * sizeof *s->v);
                if (!s->v)
                        abort();
        }
        s->v[s->n++] = v;
}

static double percentile_ms(Samples *s, unsigned pct) {
        if (s->n == 0)
                return 0;
        qsort(s->v, s->n, sizeof *s->v, cmp_u64);
        return s->v[pct == 100 ? s->n - 1 : s->n * pct / 100] / 1e6;
}

typedef struct Pinger {
        Samples lat;
        volatile bool done;
} Pinger;

static void *ping_main(void *arg) {
        Pinger *p = arg;
        sd_bus *bus = NULL;

        if (sd_bus_open_system(&bus) < 0)
                return NULL;
        (void) sd_bus_set_method_call_timeout(bus, 30ULL * 1000 * 1000);
        while (!p->done) {
                uint64_t t0 = now_ns();

                (void) sd_bus_call_method(bus, "org.hostagent1", "/org/hostagent1", "org.freedesktop.DBus.Peer", "Ping",
                                          NULL, NULL, "");
                samples_add(&p->lat, now_ns() - t0);
                usleep(10 * 1000);
        }
        sd_bus_flush_close_unref(bus);
        return NULL;
}

typedef struct ErrorCount {
        char name[96];
        char first_message[160];
        unsigned n;
} ErrorCount;

static void count_error(ErrorCount *errors, size_t max, const char *name, const char *message) {
        for (size_t i = 0; i < max; i++) {
                if (errors[i].n == 0) {
                        snprintf(errors[i].name, sizeof errors[i].name, "%s", name);
                        snprintf(errors[i].first_message, sizeof errors[i].first_message, "%s", message ?: "");
                }
                if (strcmp(errors[i].name, name) == 0) {
                        errors[i].n++;
                        return;
                }
        }
}

static int victim(int argc, char *argv[]) {
        uint64_t seconds, end;
        unsigned ok = 0, tries = 0;
        ErrorCount errors[8] = {};
        Samples lat = {};
        Pinger ping = {};
        pthread_t thread;
        sd_bus *bus = NULL;

        if (argc != 4 || sd_bus_open_system(&bus) < 0)
                return 2;
        (void) sd_bus_set_method_call_timeout(bus, CALL_TIMEOUT_USEC);
        seconds = (uint64_t) atoi(argv[2]);
        if (pthread_create(&thread, NULL, ping_main, &ping) != 0)
                return 2;
        end = now_ns() + seconds * 1000000000ULL;
        while (now_ns() < end) {
                sd_bus_error error = SD_BUS_ERROR_NULL;
                char spec[256];
                uint64_t t0 = now_ns();

                snprintf(spec, sizeof spec, "{\"name\":\"%s-%u\",\"memory_mib\":128,\"type\":\"test\"}", argv[3], tries++);
                sd_bus_message *reply = NULL;
                const char *path;

                if (sd_bus_call_method(bus, "org.hostagent1", "/org/hostagent1", "org.hostagent1.Manager", "CreateVM",
                                       &error, &reply, "s", spec) >= 0)
                        ok++;
                else
                        count_error(errors, 8, error.name ?: "(no reply)", error.message);
                samples_add(&lat, now_ns() - t0);
                /* The host stays as it was: untimed, and its failure is no concern here. */
                if (reply && sd_bus_message_read(reply, "o", &path) >= 0)
                        (void) sd_bus_call_method(bus, "org.hostagent1", path, "org.hostagent1.VM", "Undefine", NULL,
                                                  NULL, "");
                sd_bus_message_unref(reply);
                sd_bus_error_free(&error);
                usleep(20 * 1000);
        }
        ping.done = true;
        pthread_join(thread, NULL);
        printf("createvm %u %u %.1f %.1f %.1f", ok, tries, percentile_ms(&lat, 50), percentile_ms(&lat, 99),
               percentile_ms(&lat, 100));
        for (size_t i = 0; i < 8 && errors[i].n; i++)
                printf(" %s:%u", strrchr(errors[i].name, '.') ? strrchr(errors[i].name, '.') + 1 : errors[i].name,
                       errors[i].n);
        printf(" | ping %zu %.1f %.1f %.1f\n", ping.lat.n, percentile_ms(&ping.lat, 50), percentile_ms(&ping.lat, 99),
               percentile_ms(&ping.lat, 100));
        for (size_t i = 0; i < 8 && errors[i].n; i++)
                printf("note %s: %s\n", errors[i].name, errors[i].first_message);
        free(lat.v);
        free(ping.lat.v);
        sd_bus_flush_close_unref(bus);
        return 0;
}

int main(int argc, char *argv[]) {
        if (argc > 1 && strcmp(argv[1], "attack") == 0)
                return attack(argc, argv);
        if (argc > 1 && strcmp(argv[1], "victim") == 0)
                return victim(argc, argv);
        fprintf(stderr, "usage: attack-bench attack KIND CLIENTS CONNECTIONS WINDOW | victim SECONDS TAG\n");
        return 2;
}
