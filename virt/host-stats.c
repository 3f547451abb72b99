/* The host's CPU times and free memory, as libvirt reports them: for worker threads only */
#include "host-stats.h"

#include <errno.h>
#include <stdlib.h>

#include "libvirt-error.h"
#include "macro.h"

static void host_cpu_take(HostStats *s, const virNodeCPUStats *params, int n) {
        for (int i = 0; i < n; i++) {
                if (streq(params[i].field, VIR_NODE_CPU_STATS_KERNEL))
                        s->cpu_kernel_ns = params[i].value;
                else if (streq(params[i].field, VIR_NODE_CPU_STATS_USER))
                        s->cpu_user_ns = params[i].value;
                else if (streq(params[i].field, VIR_NODE_CPU_STATS_IDLE))
                        s->cpu_idle_ns = params[i].value;
                else if (streq(params[i].field, VIR_NODE_CPU_STATS_IOWAIT))
                        s->cpu_iowait_ns = params[i].value;
        }
        s->have_cpu = true;
}

/* libvirt's status: 0, or -1 with its error set. */
static int host_cpu_read(virConnectPtr conn, HostStats *s) {
        _cleanup_(freep) virNodeCPUStatsPtr params = NULL;
        int n = 0;

        if (virNodeGetCPUStats(conn, VIR_NODE_CPU_STATS_ALL_CPUS, NULL, &n, 0) < 0 || n <= 0)
                return -1;
        params = calloc((size_t) n, sizeof *params);
        if (!params)
                return -ENOMEM;
        if (virNodeGetCPUStats(conn, VIR_NODE_CPU_STATS_ALL_CPUS, params, &n, 0) < 0)
                return -1;
        host_cpu_take(s, params, n);
        return 0;
}

/* A driver that does not have it (-EOPNOTSUPP) is no failure: the rest still counts. */
static int unless_unsupported(char **ret_error) {
        int r = libvirt_error_take(ret_error);

        if (r != -EOPNOTSUPP)
                return r;
        if (ret_error)
                *ret_error = mfree(*ret_error);
        return 0;
}

int host_stats_read(virConnectPtr conn, HostStats *ret, char **ret_error) {
        HostStats s = {};
        int r;

        r = host_cpu_read(conn, &s);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                r = unless_unsupported(ret_error);
                if (r < 0)
                        return r;
        }
        s.memory_free = virNodeGetFreeMemory(conn);
        if (s.memory_free == 0) {
                r = unless_unsupported(ret_error);
                if (r < 0)
                        return r;
        }
        *ret = s;
        return 0;
}
