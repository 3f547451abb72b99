/* Side-by-side bus benchmark: hostagentd, libvirt-dbus, the bus floor and libvirt itself */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "bench-util.h"
#include "macro.h"

typedef enum CallKind { CALL_METHOD, CALL_GET } CallKind;

typedef struct Scenario {
        const char *label;
        const char *dest, *path, *interface, *member;
        CallKind kind;
        int with_cpu_args;      /* libvirt-dbus NodeGetCPUStats(i -1, u 0) */
} Scenario;

typedef struct Result {
        double seq_us_p50, seq_us_p99;
        double pipelined_per_sec;
        bool ok;
} Result;

static int new_call(sd_bus *bus, const Scenario *s, sd_bus_message **ret) {
        sd_bus_message *m = NULL;
        int r;

        if (s->kind == CALL_GET) {
                r = sd_bus_message_new_method_call(bus, &m, s->dest, s->path,
                                                   "org.freedesktop.DBus.Properties", "Get");
                if (r >= 0)
                        r = sd_bus_message_append(m, "ss", s->interface, s->member);
        } else {
                r = sd_bus_message_new_method_call(bus, &m, s->dest, s->path, s->interface, s->member);
                if (r >= 0 && s->with_cpu_args)
                        r = sd_bus_message_append(m, "iu", -1, 0);
        }
        if (r < 0) {
                sd_bus_message_unref(m);
                return r;
        }
        *ret = m;
        return 0;
}

static bool run_sequential(sd_bus *bus, const Scenario *s, unsigned n, Result *res) {
        uint64_t *lat = calloc(n, sizeof *lat);

        for (unsigned i = 0; i < n; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                sd_bus_message *m = NULL, *reply = NULL;
                uint64_t t0 = now_ns();

                if (new_call(bus, s, &m) < 0 || sd_bus_call(bus, m, 0, &error, &reply) < 0) {
                        fprintf(stderr, "%s: %s\n", s->label, error.message ?: "call failed");
                        sd_bus_message_unref(m);
                        free(lat);
                        return false;
                }
                lat[i] = now_ns() - t0;
                sd_bus_message_unref(m);
                sd_bus_message_unref(reply);
        }
        qsort(lat, n, sizeof *lat, cmp_u64);
        res->seq_us_p50 = lat[n / 2] / 1000.0;
        res->seq_us_p99 = lat[n * 99 / 100] / 1000.0;
        free(lat);
        return true;
}

typedef struct Pipeline {
        sd_bus *bus;
        const Scenario *s;
        unsigned to_send, outstanding, done, failed;
} Pipeline;

static int send_one(Pipeline *p);

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Pipeline *p = userdata;

        p->outstanding--;
        p->done++;
        if (sd_bus_message_is_method_error(m, NULL))
                p->failed++;
        if (p->to_send > 0)
                return send_one(p);
        return 0;
}

static int send_one(Pipeline *p) {
        sd_bus_message *m = NULL;
        int r;

        r = new_call(p->bus, p->s, &m);
        if (r >= 0)
                r = sd_bus_call_async(p->bus, NULL, m, on_reply, p, 0);
        sd_bus_message_unref(m);
        if (r < 0)
                return r;
        p->to_send--;
        p->outstanding++;
        return 0;
}

static bool run_pipelined(sd_bus *bus, const Scenario *s, unsigned n, unsigned window, Result *res) {
        Pipeline p = { .bus = bus, .s = s, .to_send = n };
        uint64_t t0;
        bool ok;

        t0 = now_ns();
        for (unsigned i = 0; i < window && p.to_send > 0; i++)
                if (send_one(&p) < 0)
                        break;
        /* Not an sd-event loop: sd-bus closes a bus when its attached loop exits. */
        while (p.outstanding > 0) {
                int r = sd_bus_process(bus, NULL);
                if (r < 0)
                        break;
                if (r == 0 && sd_bus_wait(bus, UINT64_MAX) < 0)
                        break;
        }
        res->pipelined_per_sec = n / ((now_ns() - t0) / 1e9);
        ok = p.failed == 0 && p.done == n;
        if (!ok)
                fprintf(stderr, "%s: %u of %u pipelined calls failed\n", s->label, p.failed, n);
        return ok;
}

/* libvirt itself, no bus: the cost every bus service adds to. */
static double libvirt_cpu_stats_us(unsigned n) {
        virConnectPtr conn = virConnectOpen("test:///default");
        virNodeCPUStats params[8];
        uint64_t t0;
        int np;

        if (!conn)
                return -1;
        t0 = now_ns();
        for (unsigned i = 0; i < n; i++) {
                np = 8;
                if (virNodeGetCPUStats(conn, VIR_NODE_CPU_STATS_ALL_CPUS, params, &np, 0) < 0)
                        return -1;
        }
        virConnectClose(conn);
        return (now_ns() - t0) / 1000.0 / n;
}

static const Scenario scenarios[] = {
        { "bus floor: org.freedesktop.DBus.GetId", "org.freedesktop.DBus", "/org/freedesktop/DBus",
          "org.freedesktop.DBus", "GetId", CALL_METHOD, 0 },
        { "hostagentd Peer.Ping", "org.hostagent1", "/org/hostagent1", "org.freedesktop.DBus.Peer",
          "Ping", CALL_METHOD, 0 },
        { "libvirt-dbus Peer.Ping", "org.libvirt", "/org/libvirt/Test", "org.freedesktop.DBus.Peer",
          "Ping", CALL_METHOD, 0 },
        { "hostagentd Get Manager.LibvirtConnected", "org.hostagent1", "/org/hostagent1",
          "org.hostagent1.Manager", "LibvirtConnected", CALL_GET, 0 },
        { "libvirt-dbus Get Connect.Version", "org.libvirt", "/org/libvirt/Test", "org.libvirt.Connect",
          "Version", CALL_GET, 0 },
        { "hostagentd GetHostStats", "org.hostagent1", "/org/hostagent1", "org.hostagent1.Manager",
          "GetHostStats", CALL_METHOD, 0 },
        { "libvirt-dbus NodeGetCPUStats", "org.libvirt", "/org/libvirt/Test", "org.libvirt.Connect",
          "NodeGetCPUStats", CALL_METHOD, 1 },
};

/* Rows compared pairwise: hostagentd first, libvirt-dbus second. */
static const struct { unsigned ours, theirs; } pairs[] = { { 1, 2 }, { 3, 4 }, { 5, 6 } };

int main(int argc, char *argv[]) {
        unsigned n = argc > 1 ? (unsigned) atoi(argv[1]) : 5000;
        unsigned window = 32;
        Result results[ELEMENTSOF(scenarios)] = {};
        sd_bus *bus = NULL;
        double floor_us, lv_us;
        int failures = 0;

        virSetErrorFunc(NULL, NULL);
        if (sd_bus_open_system(&bus) < 0) {
                fprintf(stderr, "cannot connect to the system bus\n");
                return 1;
        }
        printf("%u calls per scenario; pipelined with %u in flight\n\n", n, window);
        printf("%-42s %10s %10s %14s\n", "scenario", "p50 us", "p99 us", "pipelined/s");
        for (size_t i = 0; i < ELEMENTSOF(scenarios); i++) {
                Result *r = &results[i];

                r->ok = run_sequential(bus, &scenarios[i], n, r) &&
                        run_pipelined(bus, &scenarios[i], n, window, r);
                if (!r->ok) {
                        failures++;
                        continue;
                }
                printf("%-42s %10.1f %10.1f %14.0f\n", scenarios[i].label, r->seq_us_p50, r->seq_us_p99,
                       r->pipelined_per_sec);
        }
        lv_us = libvirt_cpu_stats_us(n);
        printf("%-42s %10.1f %10s %14s\n", "libvirt itself: virNodeGetCPUStats", lv_us, "-", "-");

        floor_us = results[0].seq_us_p50;
        printf("\nratios (p50 latency: lower is better; throughput: higher is better)\n");
        for (size_t i = 0; i < ELEMENTSOF(pairs); i++) {
                const Result *a = &results[pairs[i].ours], *b = &results[pairs[i].theirs];

                if (!a->ok || !b->ok)
                        continue;
                printf("  %-40s latency %.2fx of libvirt-dbus, %.2fx of the bus floor; throughput %.2fx of libvirt-dbus\n",
                       scenarios[pairs[i].ours].label, a->seq_us_p50 / b->seq_us_p50,
                       a->seq_us_p50 / floor_us, a->pipelined_per_sec / b->pipelined_per_sec);
        }
        sd_bus_unref(bus);
        return failures ? 1 : 0;
}
