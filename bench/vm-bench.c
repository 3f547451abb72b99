/* VM benchmark: hostagentd against libvirt-dbus on one libvirtd with many domains */
#include <dirent.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <inttypes.h>
#include <libvirt/libvirt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "bench-util.h"
#include "macro.h"
#include "vm-events.h"

#define LV_DEST "org.libvirt"
#define LV_CONNECT "/org/libvirt/QEMU"
#define HA_DEST "org.hostagent1"

typedef struct Figures {
        double p50_us, p99_us;
        double bus_cpu_us, server_cpu_us;   /* CPU time per call, all threads; < 0: not measured */
        double busy_bus, busy_server;       /* share of the wall time each spent on the CPU */
        double pulls_per_s;                 /* under load: calls the pulling clients got answered */
        double bus_cpu_per_pull_us, server_cpu_per_pull_us;
        bool ok;
} Figures;

/* Whose CPU time to count (from the environment; 0: not counted). */
static int bus_pid, ha_pid, lv_pid;

/* CPU time of every thread of PID so far, in ns: the scheduler's own
 * accounting (schedstat), not clock ticks. -1 when unknown. */
static int64_t cpu_ns(int pid) {
        char path[64];
        int64_t total = 0;
        struct dirent *e;
        DIR *d;

        if (pid <= 0)
                return -1;
        snprintf(path, sizeof path, "/proc/%d/task", pid);
        d = opendir(path);
        if (!d)
                return -1;
        while ((e = readdir(d))) {
                char stat_path[400];
                int64_t run;
                FILE *f;

                if (e->d_name[0] == '.')
                        continue;
                snprintf(stat_path, sizeof stat_path, "%s/%s/schedstat", path, e->d_name);
                f = fopen(stat_path, "re");
                if (!f)
                        continue;
                if (fscanf(f, "%" SCNd64, &run) == 1)
                        total += run;
                fclose(f);
        }
        closedir(d);
        return total;
}

static Figures summarize(uint64_t *lat, unsigned n) {
        qsort(lat, n, sizeof *lat, cmp_u64);
        return (Figures) { .p50_us = lat[n / 2] / 1000.0, .p99_us = lat[n * 99 / 100] / 1000.0,
                           .bus_cpu_us = -1, .server_cpu_us = -1, .ok = true };
}

typedef int (*build_fn)(sd_bus *bus, sd_bus_message **ret, const void *arg);

/* N calls in a row; also the CPU time the bus daemon and SERVER_PID spent
 * on them, per call (what a busier host would have to find for each call). */
static Figures measure(sd_bus *bus, const char *label, unsigned n, build_fn build, const void *arg, int server_pid) {
        uint64_t *lat = calloc(n, sizeof *lat);
        int64_t bus0 = cpu_ns(bus_pid), server0 = cpu_ns(server_pid), bus1, server1;
        uint64_t start = now_ns(), wall;
        Figures f = {};

        for (unsigned i = 0; i < n; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                sd_bus_message *m = NULL, *reply = NULL;
                uint64_t t0 = now_ns();

                if (build(bus, &m, arg) < 0 || sd_bus_call(bus, m, 0, &error, &reply) < 0) {
                        fprintf(stderr, "%s: %s\n", label, error.message ?: "call failed");
                        sd_bus_message_unref(m);
                        free(lat);
                        return f;
                }
                lat[i] = now_ns() - t0;
                sd_bus_message_unref(m);
                sd_bus_message_unref(reply);
        }
        bus1 = cpu_ns(bus_pid), server1 = cpu_ns(server_pid);
        wall = now_ns() - start;
        f = summarize(lat, n);
        f.busy_bus = (double) (bus1 - bus0) / wall;
        f.busy_server = (double) (server1 - server0) / wall;
        f.bus_cpu_us = bus0 >= 0 && bus1 >= 0 ? (double) (bus1 - bus0) / n / 1000.0 : -1;
        f.server_cpu_us = server0 >= 0 && server1 >= 0 ? (double) (server1 - server0) / n / 1000.0 : -1;
        free(lat);
        return f;
}

typedef struct Target {
        const char *dest, *path, *interface, *member, *signature;
        uint32_t a, b;
        const char *interface_arg;
} Target;

static int build_call(sd_bus *bus, sd_bus_message **ret, const void *arg) {
        const Target *t = arg;
        int r = sd_bus_message_new_method_call(bus, ret, t->dest, t->path, t->interface, t->member);

        if (r >= 0 && t->signature && streq(t->signature, "u"))
                r = sd_bus_message_append(*ret, "u", t->a);
        else if (r >= 0 && t->signature && streq(t->signature, "uu"))
                r = sd_bus_message_append(*ret, "uu", t->a, t->b);
        else if (r >= 0 && t->signature && streq(t->signature, "ss"))
                r = sd_bus_message_append(*ret, "ss", "org.hostagent1.VM", "State");
        else if (r >= 0 && t->signature && streq(t->signature, "s"))
                r = sd_bus_message_append(*ret, "s", t->interface_arg);
        return r;
}

/* Event latency: ask for a state change, time until the subscriber sees it. */
typedef struct EventWait {
        bool seen;
} EventWait;

static int on_signal(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        ((EventWait *) userdata)->seen = true;
        return 0;
}

static Figures event_latency(sd_bus *bus, const char *dest, const char *obj, const char *interface,
                             const char *pause, const char *resume, const char *sig_path,
                             const char *sig_interface, const char *sig_member, unsigned n) {
        uint64_t *lat = calloc(n, sizeof *lat);
        sd_bus_slot *slot = NULL;
        EventWait w = {};
        Figures f = {};

        if (sd_bus_match_signal(bus, &slot, dest, sig_path, sig_interface, sig_member, on_signal, &w) < 0)
                goto out;
        for (unsigned i = 0; i < n; i++) {
                const char *member = i % 2 == 0 ? pause : resume;
                uint64_t t0, deadline;

                w.seen = false;
                t0 = now_ns();
                if (sd_bus_call_method_async(bus, NULL, dest, obj, interface, member, NULL, NULL, NULL) < 0)
                        goto out;
                deadline = t0 + 10ULL * 1000 * 1000 * 1000;
                while (!w.seen && now_ns() < deadline) {
                        int r = sd_bus_process(bus, NULL);
                        if (r < 0)
                                goto out;
                        if (r == 0)
                                (void) sd_bus_wait(bus, 100 * 1000);
                }
                if (!w.seen) {
                        fprintf(stderr, "%s: no signal after %s\n", dest, member);
                        goto out;
                }
                lat[i] = now_ns() - t0;
        }
        f = summarize(lat, n);
out:
        sd_bus_slot_unref(slot);
        free(lat);
        return f;
}

static uint64_t pulls_total(const uint64_t *pulled, unsigned clients) {
        uint64_t sum = 0;

        for (unsigned i = 0; i < clients; i++)
                sum += __atomic_load_n(&pulled[i], __ATOMIC_RELAXED);
        return sum;
}

/* Ping's latency while CLIENTS other connections call PULL back to back
 * (each its own process and connection, as separate clients are). Each
 * client counts its answered calls in shared memory: how many the bus
 * relayed meanwhile, and so the bus's and hostagentd's CPU per pulled call
 * (a bus that relays faster also lets the clients pull more). */
static Figures ping_under_load(const Target *pull, unsigned clients, unsigned pings) {
        const Target ping = { .dest = HA_DEST, .path = "/org/hostagent1", .interface = "org.freedesktop.DBus.Peer",
                              .member = "Ping" };
        uint64_t *pulled = mmap(NULL, 16 * sizeof *pulled, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        pid_t pids[16] = {};
        sd_bus *bus = NULL;
        Figures f = {};

        if (pulled == MAP_FAILED)
                return f;
        if (clients > ELEMENTSOF(pids))
                clients = ELEMENTSOF(pids);
        for (unsigned i = 0; i < clients; i++) {
                pids[i] = fork();
                if (pids[i] == 0) {
                        sd_bus *b = NULL;

                        if (sd_bus_open_system(&b) < 0)
                                _exit(1);
                        for (;;) {
                                sd_bus_message *m = NULL, *reply = NULL;

                                if (build_call(b, &m, pull) < 0 || sd_bus_call(b, m, 0, NULL, &reply) < 0)
                                        _exit(1);
                                sd_bus_message_unref(m);
                                sd_bus_message_unref(reply);
                                __atomic_add_fetch(&pulled[i], 1, __ATOMIC_RELAXED);
                        }
                }
        }
        usleep(300 * 1000);   /* every puller connected and pulling */
        if (sd_bus_open_system(&bus) >= 0) {
                int64_t bus0 = cpu_ns(bus_pid), server0 = cpu_ns(ha_pid);
                uint64_t start = now_ns(), pulls0 = pulls_total(pulled, clients), pulls;

                f = measure(bus, "Ping under load", pings, build_call, &ping, ha_pid);
                pulls = pulls_total(pulled, clients) - pulls0;
                f.pulls_per_s = pulls * 1e9 / (now_ns() - start);
                f.bus_cpu_per_pull_us = pulls && bus0 >= 0 ? (cpu_ns(bus_pid) - bus0) / 1000.0 / pulls : -1;
                f.server_cpu_per_pull_us = pulls && server0 >= 0 ? (cpu_ns(ha_pid) - server0) / 1000.0 / pulls : -1;
        }
        for (unsigned i = 0; i < clients; i++)
                if (pids[i] > 0) {
                        (void) kill(pids[i], SIGTERM);
                        (void) waitpid(pids[i], NULL, 0);
                }
        sd_bus_unref(bus);
        munmap(pulled, 16 * sizeof *pulled);
        return f;
}

/* While the file the daemon's HOSTAGENT_OBJECTS_FAILPOINT names exists
 * (a test build), sd-bus's own ObjectManager answers: the code before. */
static void sd_bus_answers(const char *file, bool on) {
        if (!file)
                return;
        if (on)
                fclose(fopen(file, "we") ?: stdout);
        else
                (void) unlink(file);
}

/* GetAllVMStats and libvirt's own bulk call (in-process, same groups and
 * flags), in turns: on a busy machine both then see the same load. The CPU
 * counted is hostagentd's and the bus's, which libvirt's call does not use. */
static void stats_side_by_side(sd_bus *bus, const char *uri, unsigned n, Figures *ret_ha, Figures *ret_lv) {
        virConnectPtr conn = uri ? virConnectOpen(uri) : NULL;
        uint64_t *ha = calloc(n, sizeof *ha), *lv = calloc(n, sizeof *lv);
        int64_t bus0 = cpu_ns(bus_pid), server0 = cpu_ns(ha_pid), bus1, server1;

        *ret_ha = *ret_lv = (Figures) {};
        for (unsigned i = 0; conn && i < n; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                virDomainStatsRecordPtr *records = NULL;
                sd_bus_message *reply = NULL;
                uint64_t t0 = now_ns();

                if (sd_bus_call_method(bus, HA_DEST, "/org/hostagent1", "org.hostagent1.Manager", "GetAllVMStats",
                                       &error, &reply, "") < 0) {
                        fprintf(stderr, "GetAllVMStats: %s\n", error.message ?: "failed");
                        goto out;
                }
                ha[i] = now_ns() - t0;
                sd_bus_message_unref(reply);
                t0 = now_ns();
                if (virConnectGetAllDomainStats(conn, 63, &records, VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT) < 0)
                        goto out;
                lv[i] = now_ns() - t0;
                virDomainStatsRecordListFree(records);
        }
        if (conn) {
                bus1 = cpu_ns(bus_pid), server1 = cpu_ns(ha_pid);
                *ret_ha = summarize(ha, n);
                *ret_lv = summarize(lv, n);
                ret_ha->bus_cpu_us = bus0 >= 0 && bus1 >= 0 ? (double) (bus1 - bus0) / n / 1000.0 : -1;
                ret_ha->server_cpu_us = server0 >= 0 && server1 >= 0 ? (double) (server1 - server0) / n / 1000.0 : -1;
        }
out:
        if (conn)
                virConnectClose(conn);
        free(ha);
        free(lv);
}

static void row(const char *label, Figures f) {
        char bus_cpu[16] = "-", server_cpu[16] = "-";

        if (f.bus_cpu_us >= 0)
                snprintf(bus_cpu, sizeof bus_cpu, "%.1f", f.bus_cpu_us);
        if (f.server_cpu_us >= 0)
                snprintf(server_cpu, sizeof server_cpu, "%.1f", f.server_cpu_us);
        if (f.ok)
                printf("%-46s %10.1f %10.1f %12s %12s\n", label, f.p50_us, f.p99_us, bus_cpu, server_cpu);
        else
                printf("%-46s %10s %10s\n", label, "failed", "-");
}

/* Under load: how busy each daemon was, how many pulls the clients got
 * answered, and each daemon's CPU per pulled call. */
static void load_row(const char *label, Figures f) {
        if (f.ok)
                printf("%-46s %10.1f %10.1f   busy: bus daemon %3.0f%%, hostagentd %3.0f%%; %.0f pulls/s, "
                       "CPU per pull: bus %.0f us, hostagentd %.0f us\n", label, f.p50_us, f.p99_us,
                       100 * f.busy_bus, 100 * f.busy_server, f.pulls_per_s, f.bus_cpu_per_pull_us,
                       f.server_cpu_per_pull_us);
        else
                printf("%-46s %10s %10s\n", label, "failed", "-");
}

static void ratio(const char *what, Figures ours, Figures theirs, Figures floor) {
        if (!ours.ok || !theirs.ok || !floor.ok)
                return;
        printf("  %-30s %6.2fx the bus floor, libvirt-dbus %6.2fx slower\n", what, ours.p50_us / floor.p50_us,
               theirs.p50_us / ours.p50_us);
}

/* BENCH_READS_ONLY: only what the bus daemon relays for hostagentd, the
 * reads and Ping under load, to compare one bus daemon with another (the
 * script runs it on each); no libvirt-dbus, no statistics, no events.
 * BENCH_LOAD_ONLY as well: only the floor and Ping under load (the one
 * caller's reads show 0). */
static int reads_only(sd_bus *bus, unsigned n, const char *ha_vm) {
        const Target ping = { .dest = HA_DEST, .path = "/org/hostagent1", .interface = "org.freedesktop.DBus.Peer",
                              .member = "Ping" };
        const Target list = { .dest = HA_DEST, .path = "/org/hostagent1", .interface = "org.hostagent1.Manager",
                              .member = "ListVMs" };
        const Target gmo = { .dest = HA_DEST, .path = "/org/hostagent1", .interface = "org.freedesktop.DBus.ObjectManager",
                             .member = "GetManagedObjects" };
        const Target getall = { .dest = HA_DEST, .path = ha_vm, .interface = "org.freedesktop.DBus.Properties",
                                .member = "GetAll", .signature = "s", .interface_arg = "org.hostagent1.VM" };
        Figures floor, ha_list, ha_gmo, ha_getall, ping_gmo, ping_list;
        bool load_only = getenv("BENCH_LOAD_ONLY");

        floor = measure(bus, "floor", n, build_call, &ping, ha_pid);
        if (load_only)  /* one caller's reads back to back are what a listing rate slows down */
                ha_list = ha_getall = ha_gmo = (Figures) { .ok = true, .bus_cpu_us = -1, .server_cpu_us = -1 };
        else {
                ha_list = measure(bus, "ListVMs", n, build_call, &list, ha_pid);
                ha_getall = measure(bus, "GetAll VM", n, build_call, &getall, ha_pid);
                ha_gmo = measure(bus, "GetManagedObjects", n / 4 ?: 1, build_call, &gmo, ha_pid);
        }
        ping_gmo = ping_under_load(&gmo, 8, n);
        ping_list = ping_under_load(&list, 8, n);

        printf("%u calls per read scenario (%u GetManagedObjects)\n\n", n, n / 4 ?: 1);
        printf("%-46s %10s %10s %12s %12s\n", "scenario", "p50 us", "p99 us", "bus CPU us", "daemon CPU us");
        row("bus floor: Peer.Ping on hostagentd", floor);
        row("hostagentd ListVMs (path, uuid, name, state)", ha_list);
        row("hostagentd Properties.GetAll of one VM", ha_getall);
        row("hostagentd GetManagedObjects (kept entries)", ha_gmo);
        load_row("Ping, 8 clients pulling GetManagedObjects", ping_gmo);
        load_row("Ping, 8 clients pulling ListVMs", ping_list);
        return floor.ok && ha_list.ok && ha_gmo.ok && ping_gmo.ok && ping_list.ok ? 0 : 1;
}

int main(int argc, char *argv[]) {
        const char *ha_vm, *lv_dom, *ha_run, *lv_run;
        unsigned n;
        sd_bus *bus = NULL;
        Figures floor, ha_list, lv_list, ha_state, lv_state, ha_stats, lv_stats, ha_ev, lv_ev, lv_own_stats;
        Figures ha_gmo, sd_gmo = {}, ha_getall, lv_getall, ping_gmo, ping_sd_gmo = {}, ping_list;
        const char *sd_bus_file = getenv("BENCH_OBJECTS_FAILPOINT");

        if (argc != 6 && argc != 8) {
                fprintf(stderr, "usage: %s CALLS HA_VM_PATH LV_DOMAIN_PATH HA_RUNNING_VM LV_RUNNING_DOMAIN "
                                "[LIBVIRT_URI RUNNING_DOMAIN_NAME]\n", argv[0]);
                return 2;
        }
        n = (unsigned) atoi(argv[1]);
        /* CPU per call is counted when the script says whose. */
        bus_pid = getenv("BENCH_BUS_PID") ? atoi(getenv("BENCH_BUS_PID")) : 0;
        ha_pid = getenv("BENCH_HOSTAGENTD_PID") ? atoi(getenv("BENCH_HOSTAGENTD_PID")) : 0;
        lv_pid = getenv("BENCH_LIBVIRT_DBUS_PID") ? atoi(getenv("BENCH_LIBVIRT_DBUS_PID")) : 0;
        ha_vm = argv[2], lv_dom = argv[3], ha_run = argv[4], lv_run = argv[5];
        /* CALLS 0: the event latency alone (quick to repeat on a busy machine). */
        if (n == 0)
                return argc == 8 && events_side_by_side(argv[6], argv[7], ha_run, lv_run, 40) >= 0 ? 0 : 1;
        if (sd_bus_open_system(&bus) < 0)
                return 1;
        if (getenv("BENCH_READS_ONLY")) {
                int r = reads_only(bus, n, ha_vm);

                sd_bus_unref(bus);
                return r;
        }

        floor = measure(bus, "floor", n, build_call,
                        &(Target) { .dest = HA_DEST, .path = "/org/hostagent1", .interface = "org.freedesktop.DBus.Peer",
                                    .member = "Ping" }, ha_pid);
        ha_list = measure(bus, "ListVMs", n, build_call,
                          &(Target) { .dest = HA_DEST, .path = "/org/hostagent1", .interface = "org.hostagent1.Manager",
                                      .member = "ListVMs" }, ha_pid);
        lv_list = measure(bus, "ListDomains", n, build_call,
                          &(Target) { .dest = LV_DEST, .path = LV_CONNECT, .interface = "org.libvirt.Connect",
                                      .member = "ListDomains", .signature = "u" }, lv_pid);
        ha_state = measure(bus, "Get State", n, build_call,
                           &(Target) { .dest = HA_DEST, .path = ha_vm, .interface = "org.freedesktop.DBus.Properties",
                                       .member = "Get", .signature = "ss" }, ha_pid);
        lv_state = measure(bus, "GetState", n, build_call,
                           &(Target) { .dest = LV_DEST, .path = lv_dom, .interface = "org.libvirt.Domain",
                                       .member = "GetState", .signature = "u" }, lv_pid);
        ha_getall = measure(bus, "GetAll VM", n, build_call,
                            &(Target) { .dest = HA_DEST, .path = ha_vm, .interface = "org.freedesktop.DBus.Properties",
                                        .member = "GetAll", .signature = "s", .interface_arg = "org.hostagent1.VM" }, ha_pid);
        lv_getall = measure(bus, "GetAll Domain", n, build_call,
                            &(Target) { .dest = LV_DEST, .path = lv_dom, .interface = "org.freedesktop.DBus.Properties",
                                        .member = "GetAll", .signature = "s", .interface_arg = "org.libvirt.Domain" }, lv_pid);
        const Target gmo = { .dest = HA_DEST, .path = "/org/hostagent1", .interface = "org.freedesktop.DBus.ObjectManager",
                             .member = "GetManagedObjects" };
        const Target list = { .dest = HA_DEST, .path = "/org/hostagent1", .interface = "org.hostagent1.Manager",
                              .member = "ListVMs" };
        ha_gmo = measure(bus, "GetManagedObjects", n / 4 ?: 1, build_call, &gmo, ha_pid);
        ping_gmo = ping_under_load(&gmo, 8, n);
        ping_list = ping_under_load(&list, 8, n);
        if (sd_bus_file) {
                sd_bus_answers(sd_bus_file, true);
                sd_gmo = measure(bus, "GetManagedObjects (sd-bus)", n / 10 ?: 1, build_call, &gmo, ha_pid);
                ping_sd_gmo = ping_under_load(&gmo, 8, n / 4 ?: 1);
                sd_bus_answers(sd_bus_file, false);
        }
        /* Bulk stats are heavy: fewer rounds. Same groups and NOWAIT on both. */
        stats_side_by_side(bus, argc == 8 ? argv[6] : NULL, n / 10 ?: 1, &ha_stats, &lv_own_stats);
        lv_stats = measure(bus, "GetAllDomainStats", n / 10 ?: 1, build_call,
                           &(Target) { .dest = LV_DEST, .path = LV_CONNECT, .interface = "org.libvirt.Connect",
                                       .member = "GetAllDomainStats", .signature = "uu", .a = 63, .b = 1u << 29 }, lv_pid);
        ha_ev = event_latency(bus, HA_DEST, ha_run, "org.hostagent1.VM", "Pause", "Resume", ha_run,
                              "org.hostagent1.VM", "StateChanged", 40);
        lv_ev = event_latency(bus, LV_DEST, lv_run, "org.libvirt.Domain", "Suspend", "Resume", LV_CONNECT,
                              "org.libvirt.Connect", "DomainEvent", 40);

        printf("%u calls per read scenario, %u for bulk stats, 40 state changes for events\n\n", n, n / 10 ?: 1);
        printf("%-46s %10s %10s %12s %12s\n", "scenario", "p50 us", "p99 us", "bus CPU us", "daemon CPU us");
        row("bus floor: Peer.Ping on hostagentd", floor);
        row("hostagentd ListVMs (path, uuid, name, state)", ha_list);
        row("libvirt-dbus ListDomains (paths only)", lv_list);
        row("hostagentd Get VM.State", ha_state);
        row("libvirt-dbus Domain.GetState", lv_state);
        row("hostagentd Properties.GetAll of one VM", ha_getall);
        row("libvirt-dbus Properties.GetAll of one Domain", lv_getall);
        row("hostagentd GetManagedObjects (kept entries)", ha_gmo);
        if (sd_bus_file)
                row("hostagentd GetManagedObjects (sd-bus's own)", sd_gmo);
        load_row("Ping, 8 clients pulling GetManagedObjects", ping_gmo);
        if (sd_bus_file)
                load_row("Ping, 8 pulling it from sd-bus's own", ping_sd_gmo);
        load_row("Ping, 8 clients pulling ListVMs", ping_list);
        row("hostagentd GetAllVMStats", ha_stats);
        row("libvirt-dbus GetAllDomainStats", lv_stats);
        row("libvirt in-process GetAllDomainStats", lv_own_stats);
        row("hostagentd Pause/Resume -> StateChanged", ha_ev);
        row("libvirt-dbus Suspend/Resume -> DomainEvent", lv_ev);
        printf("\nratios (p50)\n");
        ratio("listing all VMs", ha_list, lv_list, floor);
        ratio("reading one VM's state", ha_state, lv_state, floor);
        ratio("bulk stats of all VMs", ha_stats, lv_stats, floor);
        ratio("GetAll of one VM", ha_getall, lv_getall, floor);
        if (ha_gmo.ok && ha_list.ok)
                printf("  GetManagedObjects / ListVMs: %.2fx the latency, %.2fx hostagentd's CPU per call\n",
                       ha_gmo.p50_us / ha_list.p50_us, ha_gmo.server_cpu_us / ha_list.server_cpu_us);
        if (sd_gmo.ok && ha_list.ok)
                printf("  (sd-bus's own GetManagedObjects / ListVMs: %.2fx the latency, %.2fx the CPU)\n",
                       sd_gmo.p50_us / ha_list.p50_us, sd_gmo.server_cpu_us / ha_list.server_cpu_us);
        ratio("event latency", ha_ev, lv_ev, floor);
        if (ha_stats.ok && lv_own_stats.ok)
                printf("  %-30s %6.2fx libvirt's own bulk call (in-process)\n", "bulk stats of all VMs",
                       ha_stats.p50_us / lv_own_stats.p50_us);
        /* Said only when the measurement shows it. */
        if (floor.bus_cpu_us > 0 && ha_list.bus_cpu_us > 2 * floor.p50_us)
                printf("\nthe bus daemon alone spends %.1f us of CPU relaying one ListVMs reply: %.1fx a whole Ping\n"
                       "round trip, so no server can list within 2x of the Ping floor on this bus\n",
                       ha_list.bus_cpu_us, ha_list.bus_cpu_us / floor.p50_us);
        sd_bus_unref(bus);
        /* The measure: one change from a third client, every listener timed to it. */
        if (argc == 8 && events_side_by_side(argv[6], argv[7], ha_run, lv_run, 40) < 0)
                return 1;
        return floor.ok && ha_list.ok && ha_state.ok && ha_stats.ok && ha_ev.ok ? 0 : 1;
}
