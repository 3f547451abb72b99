/* The method fuzzer: every method and property of every object the agent
 * serves, called with random arguments of the right (and sometimes the
 * wrong) signature, as root and as an unprivileged user at once, while a
 * third connection checks that Peer.Ping keeps answering in time.
 *
 * bus-fuzz [--seed N] [--calls N] [--window N] [--unprivileged-uid UID|none]
 *          [--ping-limit-ms MS] [--rewalk N] [--call-timeout-sec S] [--message-budget BYTES]
 *          --corpus FILE
 *
 * Prints the seed first, then the calls made and the replies by name. Exits
 * 1 when a Ping took longer than the limit or failed, a call was never
 * answered, or a change went through for the unprivileged caller. The
 * arguments are drawn from the seed alone; which objects exist when they are
 * sent depends on the agent, so a run repeats closely but not exactly.
 * FUZZ_TRACE=1 prints every call and reply (with CLOCK_MONOTONIC times, as
 * a slow Ping's complaint has), FUZZ_DUMP=N dumps the N-th call of each
 * identity: what to look at when a run fails. */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "fuzz-run.h"

static volatile bool stop;

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

typedef struct Ping {
        const char *service, *path;
        uint64_t limit_usec;
        uint64_t *lat;
        size_t n, cap;
        uint64_t over, failed;
        uint64_t bus_max;       /* the bus daemon's own Ping, the slowest */
        char first_problem[256];
        volatile bool done;
} Ping;

static void ping_problem(Ping *p, const char *what) {
        if (!p->first_problem[0])
                snprintf(p->first_problem, sizeof p->first_problem, "%s", what);
}

static void *ping_main(void *arg) {
        Ping *p = arg;
        sd_bus *bus = NULL;

        if (sd_bus_open_system(&bus) < 0) {
                p->failed++;
                ping_problem(p, "cannot connect");
                return NULL;
        }
        (void) sd_bus_set_method_call_timeout(bus, 30 * 1000 * 1000);
        while (!p->done) {
                sd_bus_error error = SD_BUS_ERROR_NULL;
                uint64_t t0 = now_usec(), dt;
                char what[256];
                int k = sd_bus_call_method(bus, p->service, p->path, "org.freedesktop.DBus.Peer", "Ping", &error,
                                           NULL, "");

                dt = now_usec() - t0;
                if (k < 0) {
                        p->failed++;
                        snprintf(what, sizeof what, "a Ping failed: %s", error.name ?: strerror(-k));
                        ping_problem(p, what);
                } else if (dt > p->limit_usec) {
                        p->over++;
                        snprintf(what, sizeof what, "a Ping took %.0f ms (sent at %.3f s on CLOCK_MONOTONIC)", dt / 1000.0,
                                 t0 / 1e6);
                        if (getenv("FUZZ_TRACE"))
                                fprintf(stderr, "%s\n", what);
                        ping_problem(p, what);
                }
                if (p->n == p->cap) {
                        p->cap = p->cap ? p->cap * 2 : 1024;
                        p->lat = realloc(p->lat, p->cap * sizeof *p->lat);
                        if (!p->lat)
                                abort();
                }
                p->lat[p->n++] = dt;
                sd_bus_error_free(&error);
                /* The bus daemon's own Ping beside it: when both are slow, the bus (or the
                 * machine) is, not the agent. */
                t0 = now_usec();
                (void) sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                          "org.freedesktop.DBus.Peer", "Ping", NULL, NULL, "");
                dt = now_usec() - t0;
                if (dt > p->bus_max)
                        p->bus_max = dt;
                usleep(20 * 1000);
        }
        sd_bus_flush_close_unref(bus);
        return NULL;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return x < y ? -1 : x > y;
}

static void on_signal(int sig) {
        stop = true;
}

/* The unprivileged identity: a child that drops to uid, fuzzes, and writes
 * its counts into fd. */
static pid_t spawn_unprivileged(FuzzConfig cfg, uid_t uid, int *ret_fd) {
        int fds[2];
        pid_t pid;

        if (pipe(fds) < 0)
                return -1;
        pid = fork();
        if (pid != 0) {
                close(fds[1]);
                *ret_fd = fds[0];
                return pid;
        }
        close(fds[0]);
        if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0) {
                perror("dropping privileges");
                _exit(2);
        }
        /* LeakSanitizer, in the sanitizer build, must still read this process */
        (void) prctl(PR_SET_DUMPABLE, 1);
        {
                FuzzStats stats = {};
                FILE *f = fdopen(fds[1], "w");
                int k = fuzz_run(&cfg, &stats);

                fuzz_stats_write(&stats, f);
                fclose(f);
                exit(k < 0 ? 2 : 0);
        }
}

static uint64_t total(const FuzzStats *a, const FuzzStats *b, const char *name) {
        uint64_t n = 0;

        for (size_t i = 0; i < a->n_counts; i++)
                if (strcmp(a->counts[i].name, name) == 0)
                        n += a->counts[i].n;
        for (size_t i = 0; b && i < b->n_counts; i++)
                if (strcmp(b->counts[i].name, name) == 0)
                        n += b->counts[i].n;
        return n;
}

static uint64_t count_of(const FuzzStats *s, const char *name) {
        return total(s, NULL, name);
}

static void print_replies(const FuzzStats *root, const FuzzStats *user, const char *user_label) {
        FuzzStats all = {};

        for (size_t i = 0; i < root->n_counts; i++)
                fuzz_stats_count(&all, root->counts[i].name, root->counts[i].n);
        for (size_t i = 0; i < user->n_counts; i++)
                fuzz_stats_count(&all, user->counts[i].name, user->counts[i].n);
        /* most frequent first */
        for (size_t i = 0; i < all.n_counts; i++)
                for (size_t j = i + 1; j < all.n_counts; j++)
                        if (all.counts[j].n > all.counts[i].n) {
                                FuzzCount t = all.counts[i];
                                all.counts[i] = all.counts[j];
                                all.counts[j] = t;
                        }
        printf("replies by name:\n  %-56s %10s %10s\n", "", "root", user_label);
        for (size_t i = 0; i < all.n_counts; i++)
                printf("  %-56s %10" PRIu64 " %10" PRIu64 "\n", all.counts[i].name, count_of(root, all.counts[i].name),
                       count_of(user, all.counts[i].name));
}

static void print_ping(Ping *p) {
        if (p->n == 0) {
                printf("Ping: none answered\n");
                return;
        }
        qsort(p->lat, p->n, sizeof *p->lat, cmp_u64);
        printf("Ping (every 20 ms, on its own connection): %zu, p50 %.1f ms, p99 %.1f ms, max %.1f ms; "
               "limit %.0f ms: %" PRIu64 " over it, %" PRIu64 " failed\n",
               p->n, p->lat[p->n / 2] / 1000.0, p->lat[p->n * 99 / 100] / 1000.0, p->lat[p->n - 1] / 1000.0,
               p->limit_usec / 1000.0, p->over, p->failed);
        printf("  the bus daemon's own Ping beside it: max %.1f ms\n", p->bus_max / 1000.0);
        if (p->first_problem[0])
                printf("  first: %s\n", p->first_problem);
}

typedef struct Options {
        FuzzConfig cfg;
        long uid;               /* -1: no unprivileged identity */
        uint64_t ping_limit_ms;
} Options;

static int parse_options(int argc, char *argv[], Options *o) {
        static const struct option options[] = {
                { "seed", required_argument, NULL, 's' },        { "calls", required_argument, NULL, 'n' },
                { "window", required_argument, NULL, 'w' },      { "unprivileged-uid", required_argument, NULL, 'u' },
                { "ping-limit-ms", required_argument, NULL, 'p' }, { "rewalk", required_argument, NULL, 'r' },
                { "call-timeout-sec", required_argument, NULL, 't' }, { "corpus", required_argument, NULL, 'c' },
                { "message-budget", required_argument, NULL, 'm' },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                switch (c) {
                case 's': o->cfg.seed = strtoull(optarg, NULL, 0); break;
                case 'n': o->cfg.calls = strtoull(optarg, NULL, 0); break;
                case 'w': o->cfg.window = (unsigned) strtoul(optarg, NULL, 0); break;
                case 'u': o->uid = strcmp(optarg, "none") == 0 ? -1 : strtol(optarg, NULL, 0); break;
                case 'p': o->ping_limit_ms = strtoull(optarg, NULL, 0); break;
                case 'r': o->cfg.rewalk = (unsigned) strtoul(optarg, NULL, 0); break;
                case 't': o->cfg.timeout_usec = strtoull(optarg, NULL, 0) * 1000000; break;
                case 'c': o->cfg.corpus_file = optarg; break;
                case 'm': o->cfg.message_budget = strtoull(optarg, NULL, 0); break;
                default: return -EINVAL;
                }
        }
        if (!o->cfg.corpus_file || o->cfg.window == 0 || o->cfg.rewalk == 0) {
                fprintf(stderr, "usage: bus-fuzz --corpus FILE [--seed N] [--calls N] [--window N] "
                                "[--unprivileged-uid UID|none] [--ping-limit-ms MS] [--rewalk N] [--call-timeout-sec S] [--message-budget BYTES]\n");
                return -EINVAL;
        }
        return 0;
}

/* The unprivileged identity's counts, once it is done. */
static int collect_unprivileged(pid_t child, int fd, FuzzStats *user) {
        FILE *f = fdopen(fd, "r");
        int status = 0, k = 0;

        if (!f || fuzz_stats_read(user, f) < 0)
                fprintf(stderr, "the unprivileged fuzzer reported nothing\n");
        if (f)
                fclose(f);
        if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                k = -ECHILD;
        return k;
}

static bool report(const Options *o, const FuzzStats *root, const FuzzStats *user, Ping *ping, double seconds, int k) {
        bool failed;

        printf("calls: %" PRIu64 " (root %" PRIu64 ", uid %ld %" PRIu64 ") in %.1f s, %.0f calls/s, window %u each\n",
               root->sent + user->sent, root->sent, o->uid, user->sent, seconds, (root->sent + user->sent) / seconds,
               o->cfg.window);
        print_replies(root, user, "unpriv");
        print_ping(ping);
        printf("calls never answered (after %" PRIu64 " s): %" PRIu64 "\n", o->cfg.timeout_usec / 1000000,
               root->hangs + user->hangs);
        printf("changes that went through for uid %ld: %" PRIu64 "\n", o->uid, user->leaks);
        for (uint64_t i = 0; i < user->leaks && i < FUZZ_MAX_LEAKS; i++)
                printf("  %s\n", user->leak_text[i]);
        /* Not a failure: a spec may be read before authorization (polkit rules see its owner). */
        printf("changes of uid %ld refused with the agent's own errors instead of AccessDenied: %" PRIu64 "\n", o->uid,
               user->refused_after_checks);
        printf("our connections dropped by the bus (a message it refused), connected again: %" PRIu64 "\n",
               root->reconnects + user->reconnects);
        failed = k < 0 || ping->over || ping->failed || root->hangs || user->hangs || user->leaks ||
                 (o->uid >= 0 && user->sent == 0) || stop;
        printf("result: %s (seed %" PRIu64 ")\n", failed ? "FAILED" : "ok", o->cfg.seed);
        return failed;
}

int main(int argc, char *argv[]) {
        Options o = { .cfg = { .seed = (uint64_t) time(NULL), .calls = 20000, .window = 8, .rewalk = 250,
                               .timeout_usec = 120 * 1000000ULL, .message_budget = 1280 * 1024, .tag = 'r',
                               .service = "org.hostagent1", .root = "/org/hostagent1", .stop = &stop },
                      .uid = 65534, .ping_limit_ms = 1000 };
        FuzzStats root = {}, user = {};
        FuzzConfig ucfg;
        Ping ping;
        pthread_t thread;
        pid_t child = -1;
        int fd = -1, k;
        uint64_t t0;
        bool failed;

        if (parse_options(argc, argv, &o) < 0)
                return 2;
        printf("seed %" PRIu64 "\n", o.cfg.seed);
        fflush(stdout);
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        signal(SIGPIPE, SIG_IGN);
        t0 = now_usec();
        ucfg = o.cfg;
        ucfg.seed = o.cfg.seed ^ 0x5bd1e9955bd1e995ULL;
        ucfg.calls = o.uid >= 0 ? o.cfg.calls / 2 : 0;
        ucfg.unprivileged = true;
        ucfg.tag = 'u';
        o.cfg.calls -= ucfg.calls;
        if (o.uid >= 0 && (child = spawn_unprivileged(ucfg, (uid_t) o.uid, &fd)) < 0) {
                perror("fork");
                return 2;
        }
        ping = (Ping) { .service = o.cfg.service, .path = o.cfg.root, .limit_usec = o.ping_limit_ms * 1000 };
        if (pthread_create(&thread, NULL, ping_main, &ping) != 0)
                return 2;
        k = fuzz_run(&o.cfg, &root);
        if (child > 0 && collect_unprivileged(child, fd, &user) < 0)
                k = -ECHILD;
        ping.done = true;
        pthread_join(thread, NULL);
        failed = report(&o, &root, &user, &ping, (now_usec() - t0) / 1e6, k);
        free(ping.lat);
        return failed ? 1 : 0;
}
