/* VM benchmark: hostagentd against libvirt-dbus on one libvirtd with many domains */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "bench-util.h"
#include "macro.h"

#define LV_DEST "org.libvirt"
#define LV_CONNECT "/org/libvirt/QEMU"
#define HA_DEST "org.hostagent1"

typedef struct Figures {
        double p50_us, p99_us;
        bool ok;
} Figures;

static Figures summarize(uint64_t *lat, unsigned n) {
        qsort(lat, n, sizeof *lat, cmp_u64);
        return (Figures) { lat[n / 2] / 1000.0, lat[n * 99 / 100] / 1000.0, true };
}

typedef int (*build_fn)(sd_bus *bus, sd_bus_message **ret, const void *arg);

static Figures measure(sd_bus *bus, const char *label, unsigned n, build_fn build, const void *arg) {
        uint64_t *lat = calloc(n, sizeof *lat);
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
        f = summarize(lat, n);
        free(lat);
        return f;
}

typedef struct Target {
        const char *dest, *path, *interface, *member, *signature;
        uint32_t a, b;
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

static void row(const char *label, Figures f) {
        if (f.ok)
                printf("%-46s %10.1f %10.1f\n", label, f.p50_us, f.p99_us);
        else
                printf("%-46s %10s %10s\n", label, "failed", "-");
}

static void ratio(const char *what, Figures ours, Figures theirs, Figures floor) {
        if (!ours.ok || !theirs.ok || !floor.ok)
                return;
        printf("  %-30s %6.2fx the bus floor, libvirt-dbus %6.2fx slower\n", what, ours.p50_us / floor.p50_us,
               theirs.p50_us / ours.p50_us);
}

int main(int argc, char *argv[]) {
        const char *ha_vm, *lv_dom, *ha_run, *lv_run;
        unsigned n;
        sd_bus *bus = NULL;
        Figures floor, ha_list, lv_list, ha_state, lv_state, ha_stats, lv_stats, ha_ev, lv_ev;

        if (argc != 6) {
                fprintf(stderr, "usage: %s CALLS HA_VM_PATH LV_DOMAIN_PATH HA_RUNNING_VM LV_RUNNING_DOMAIN\n", argv[0]);
                return 2;
        }
        n = (unsigned) atoi(argv[1]);
        ha_vm = argv[2], lv_dom = argv[3], ha_run = argv[4], lv_run = argv[5];
        if (sd_bus_open_system(&bus) < 0)
                return 1;

        floor = measure(bus, "floor", n, build_call,
                        &(Target) { .dest = HA_DEST, .path = "/org/hostagent1", .interface = "org.freedesktop.DBus.Peer",
                                    .member = "Ping" });
        ha_list = measure(bus, "ListVMs", n, build_call,
                          &(Target) { .dest = HA_DEST, .path = "/org/hostagent1", .interface = "org.hostagent1.Manager",
                                      .member = "ListVMs" });
        lv_list = measure(bus, "ListDomains", n, build_call,
                          &(Target) { .dest = LV_DEST, .path = LV_CONNECT, .interface = "org.libvirt.Connect",
                                      .member = "ListDomains", .signature = "u" });
        ha_state = measure(bus, "Get State", n, build_call,
                           &(Target) { .dest = HA_DEST, .path = ha_vm, .interface = "org.freedesktop.DBus.Properties",
                                       .member = "Get", .signature = "ss" });
        lv_state = measure(bus, "GetState", n, build_call,
                           &(Target) { .dest = LV_DEST, .path = lv_dom, .interface = "org.libvirt.Domain",
                                       .member = "GetState", .signature = "u" });
        /* Bulk stats are heavy: fewer rounds. Same groups and NOWAIT on both. */
        ha_stats = measure(bus, "GetAllVMStats", n / 10 ?: 1, build_call,
                           &(Target) { .dest = HA_DEST, .path = "/org/hostagent1", .interface = "org.hostagent1.Manager",
                                       .member = "GetAllVMStats" });
        lv_stats = measure(bus, "GetAllDomainStats", n / 10 ?: 1, build_call,
                           &(Target) { .dest = LV_DEST, .path = LV_CONNECT, .interface = "org.libvirt.Connect",
                                       .member = "GetAllDomainStats", .signature = "uu", .a = 63, .b = 1u << 29 });
        ha_ev = event_latency(bus, HA_DEST, ha_run, "org.hostagent1.VM", "Pause", "Resume", ha_run,
                              "org.hostagent1.VM", "StateChanged", 40);
        lv_ev = event_latency(bus, LV_DEST, lv_run, "org.libvirt.Domain", "Suspend", "Resume", LV_CONNECT,
                              "org.libvirt.Connect", "DomainEvent", 40);

        printf("%u calls per read scenario, %u for bulk stats, 40 state changes for events\n\n", n, n / 10 ?: 1);
        printf("%-46s %10s %10s\n", "scenario", "p50 us", "p99 us");
        row("bus floor: Peer.Ping on hostagentd", floor);
        row("hostagentd ListVMs (path, uuid, name, state)", ha_list);
        row("libvirt-dbus ListDomains (paths only)", lv_list);
        row("hostagentd Get VM.State", ha_state);
        row("libvirt-dbus Domain.GetState", lv_state);
        row("hostagentd GetAllVMStats", ha_stats);
        row("libvirt-dbus GetAllDomainStats", lv_stats);
        row("hostagentd Pause/Resume -> StateChanged", ha_ev);
        row("libvirt-dbus Suspend/Resume -> DomainEvent", lv_ev);
        printf("\nratios (p50)\n");
        ratio("listing all VMs", ha_list, lv_list, floor);
        ratio("reading one VM's state", ha_state, lv_state, floor);
        ratio("bulk stats of all VMs", ha_stats, lv_stats, floor);
        ratio("event latency", ha_ev, lv_ev, floor);
        sd_bus_unref(bus);
        return floor.ok && ha_list.ok && ha_state.ok && ha_stats.ok && ha_ev.ok ? 0 : 1;
}
