/* The memory floor of any libvirt client that mirrors a host's domains: it
 * opens the connection, follows lifecycle events, and reads every domain's
 * state and XML, as hostagentd must. Prints its own memory, so the VM
 * benchmark can show how much of hostagentd's is libvirt's own. A second
 * line says when (ms after it began) libvirt had answered the connection,
 * the bulk calls (every domain and every state) and every domain's XML.
 * Usage: libvirt-floor URI */
#include <libvirt/libvirt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double ms_since(const struct timespec *t0) {
        struct timespec t;

        clock_gettime(CLOCK_MONOTONIC, &t);
        return (t.tv_sec - t0->tv_sec) * 1e3 + (t.tv_nsec - t0->tv_nsec) / 1e6;
}

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque) {
        return 0;
}

/* One field of /proc/self/smaps_rollup, in KiB. */
static long rollup_kib(const char *field) {
        char line[256];
        size_t len = strlen(field);
        long v = -1;
        FILE *f = fopen("/proc/self/smaps_rollup", "re");

        while (f && fgets(line, sizeof line, f))
                if (strncmp(line, field, len) == 0 && line[len] == ':')
                        v = strtol(line + len + 1, NULL, 10);
        if (f)
                fclose(f);
        return v;
}

int main(int argc, char *argv[]) {
        virConnectPtr conn;
        virDomainPtr *doms = NULL;
        virDomainStatsRecordPtr *records = NULL;
        double open_ms, bulk_ms, all_ms;
        struct timespec t0;
        int n;

        clock_gettime(CLOCK_MONOTONIC, &t0);

        if (argc != 2) {
                fprintf(stderr, "usage: %s URI\n", argv[0]);
                return 2;
        }
        if (virEventRegisterDefaultImpl() < 0 || !(conn = virConnectOpen(argv[1])))
                return 1;
        if (virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                             VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), NULL, NULL) < 0)
                return 1;
        open_ms = ms_since(&t0);
        n = virConnectListAllDomains(conn, &doms, 0);
        if (n < 0 || virConnectGetAllDomainStats(conn, VIR_DOMAIN_STATS_STATE, &records,
                                                 VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT) < 0)
                return 1;
        virDomainStatsRecordListFree(records);
        bulk_ms = ms_since(&t0);
        for (int i = 0; i < n; i++) {
                int state, reason;
                char *xml = NULL;

                if (virDomainGetState(doms[i], &state, &reason, 0) < 0 || !(xml = virDomainGetXMLDesc(doms[i], 0)))
                        return 1;
                free(xml);
                virDomainFree(doms[i]);
        }
        free(doms);
        all_ms = ms_since(&t0);
        /* Rss, Pss (shared pages divided among their users) and private pages. */
        printf("%ld %ld %ld\n", rollup_kib("Rss"), rollup_kib("Pss"),
               rollup_kib("Private_Clean") + rollup_kib("Private_Dirty"));
        printf("%.1f %.1f %.1f %ld\n", open_ms, bulk_ms, all_ms, rollup_kib("Private_Dirty"));
        virConnectClose(conn);
        return 0;
}
