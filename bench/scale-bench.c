/* Scale benchmark reads: hostagentd's reads of N VMs beside libvirt's own bulk call.
 * Usage: scale-bench CALLS VM_PATH LIBVIRT_URI
 * Prints one line, p50 in us: ListVMs GetManagedObjects Get(State) GetAllVMStats
 * virConnectGetAllDomainStats (in-process, same groups and flags as hostagentd's)
 * Or: scale-bench --wait-ready: prints the ms until Manager.Ready is true (asked
 * every 2 ms from one connection: a busctl per try would eat the CPU that the
 * daemon and libvirtd need). */
#include <libvirt/libvirt.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "bench-util.h"
#include "macro.h"

#define HA_DEST "org.hostagent1"
#define STATS_GROUPS (VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL | VIR_DOMAIN_STATS_BALLOON | \
                      VIR_DOMAIN_STATS_VCPU | VIR_DOMAIN_STATS_INTERFACE | VIR_DOMAIN_STATS_BLOCK)

static double p50_us(uint64_t *lat, unsigned n) {
        qsort(lat, n, sizeof *lat, cmp_u64);
        return lat[n / 2] / 1000.0;
}

/* N calls of PATH's INTERFACE.MEMBER, with the two strings A and B when given. */
static double bus_p50(sd_bus *bus, unsigned n, const char *path, const char *interface, const char *member,
                      const char *a, const char *b) {
        uint64_t *lat = calloc(n, sizeof *lat);
        double r;

        for (unsigned i = 0; i < n; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                sd_bus_message *reply = NULL;
                uint64_t t0 = now_ns();
                int k = a ? sd_bus_call_method(bus, HA_DEST, path, interface, member, &error, &reply, "ss", a, b)
                          : sd_bus_call_method(bus, HA_DEST, path, interface, member, &error, &reply, "");

                if (k < 0) {
                        fprintf(stderr, "%s: %s\n", member, error.message ?: "failed");
                        free(lat);
                        return -1;
                }
                lat[i] = now_ns() - t0;
                sd_bus_message_unref(reply);
        }
        r = p50_us(lat, n);
        free(lat);
        return r;
}

/* GetAllVMStats and libvirt's own bulk call, in turns (both see the same
 * load): their p50s in RET_HA and RET_LV. */
static int stats_p50(sd_bus *bus, const char *uri, unsigned n, double *ret_ha, double *ret_lv) {
        virConnectPtr conn = virConnectOpen(uri);
        uint64_t *ha = calloc(n, sizeof *ha), *lv = calloc(n, sizeof *lv);
        int r = -1;

        for (unsigned i = 0; conn && i < n; i++) {
                virDomainStatsRecordPtr *records = NULL;
                sd_bus_message *reply = NULL;
                uint64_t t0 = now_ns();

                if (sd_bus_call_method(bus, HA_DEST, "/org/hostagent1", "org.hostagent1.Manager", "GetAllVMStats",
                                       NULL, &reply, "") < 0)
                        goto out;
                ha[i] = now_ns() - t0;
                sd_bus_message_unref(reply);
                t0 = now_ns();
                if (virConnectGetAllDomainStats(conn, STATS_GROUPS, &records,
                                                VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT) < 0)
                        goto out;
                lv[i] = now_ns() - t0;
                virDomainStatsRecordListFree(records);
        }
        if (conn) {
                *ret_ha = p50_us(ha, n);
                *ret_lv = p50_us(lv, n);
                r = 0;
        }
out:
        if (conn)
                virConnectClose(conn);
        free(ha);
        free(lv);
        return r;
}

static int wait_ready(void) {
        uint64_t t0 = now_ns(), deadline = t0 + 600ULL * 1000 * 1000 * 1000;
        sd_bus *bus = NULL;
        int ready = 0;

        if (sd_bus_open_system(&bus) < 0)
                return 1;
        while (!ready && now_ns() < deadline) {
                if (sd_bus_get_property_trivial(bus, HA_DEST, "/org/hostagent1", "org.hostagent1.Manager", "Ready",
                                                NULL, 'b', &ready) < 0 || !ready)
                        usleep(2000);
        }
        printf("%.0f\n", (now_ns() - t0) / 1e6);
        sd_bus_unref(bus);
        return ready ? 0 : 1;
}

int main(int argc, char *argv[]) {
        double ha_stats, lv_stats;
        sd_bus *bus = NULL;
        unsigned n;

        if (argc == 2 && streq(argv[1], "--wait-ready"))
                return wait_ready();

        if (argc != 4) {
                fprintf(stderr, "usage: %s CALLS VM_PATH LIBVIRT_URI\n", argv[0]);
                return 2;
        }
        n = (unsigned) atoi(argv[1]) ?: 1;
        if (sd_bus_open_system(&bus) < 0)
                return 1;
        if (stats_p50(bus, argv[3], n, &ha_stats, &lv_stats) < 0)
                ha_stats = lv_stats = -1;
        printf("%.1f %.1f %.1f %.1f %.1f\n",
               bus_p50(bus, n, "/org/hostagent1", "org.hostagent1.Manager", "ListVMs", NULL, NULL),
               bus_p50(bus, n, "/org/hostagent1", "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                       NULL, NULL),
               bus_p50(bus, n * 10, argv[2], "org.freedesktop.DBus.Properties", "Get", "org.hostagent1.VM", "State"),
               ha_stats, lv_stats);
        sd_bus_unref(bus);
        return 0;
}
