/* The host's CPU times and free memory, as libvirt reports them: for worker threads only */
#pragma once

#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct HostStats {
        bool have_cpu;           /* the driver reports CPU times */
        uint64_t cpu_kernel_ns, cpu_user_ns, cpu_idle_ns, cpu_iowait_ns;
        uint64_t memory_free;    /* bytes; 0 when the driver does not say */
} HostStats;

/* Reads what the driver has: a driver without CPU times or free memory
 * leaves them out. Returns 0, or -errno with RET_ERROR set to libvirt's text. */
int host_stats_read(virConnectPtr conn, HostStats *ret, char **ret_error);
