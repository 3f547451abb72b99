/* Test-only, LD_PRELOADed into hostagentd by test-fair-share: makes the agent's bulk reads
 * slow, every run. While the file HOLD_READS_GATE exists, virNodeGetCPUStats() (GetHostStats)
 * and virConnectGetAllDomainStats() (GetAllVMStats) wait for it to go (at most 60 s) before
 * asking libvirt, so that the reads of a flood stay in flight while the test looks. Nothing of
 * it is in the daemon. */
#include <dlfcn.h>
#include <libvirt/libvirt.h>
#include <stdlib.h>
#include <unistd.h>

typedef int (*cpu_stats_fn)(virConnectPtr conn, int cpu, virNodeCPUStatsPtr params, int *nparams,
                            unsigned int flags);
typedef int (*all_stats_fn)(virConnectPtr conn, unsigned int stats, virDomainStatsRecordPtr **retStats,
                            unsigned int flags);

static cpu_stats_fn real_cpu_stats;
static all_stats_fn real_all_stats;

__attribute__((constructor)) static void hold_init(void) {
        real_cpu_stats = (cpu_stats_fn) dlsym(RTLD_NEXT, "virNodeGetCPUStats");
        real_all_stats = (all_stats_fn) dlsym(RTLD_NEXT, "virConnectGetAllDomainStats");
}

static void hold(void) {
        const char *gate = getenv("HOLD_READS_GATE");

        for (int i = 0; gate && i < 6000 && access(gate, F_OK) == 0; i++)
                usleep(10 * 1000);
}

int virNodeGetCPUStats(virConnectPtr conn, int cpu, virNodeCPUStatsPtr params, int *nparams, unsigned int flags) {
        hold();
        return real_cpu_stats(conn, cpu, params, nparams, flags);
}

int virConnectGetAllDomainStats(virConnectPtr conn, unsigned int stats, virDomainStatsRecordPtr **retStats,
                                unsigned int flags) {
        hold();
        return real_all_stats(conn, stats, retStats, flags);
}
