/* The libvirt connection: opened off the loop, watched, re-opened with backoff */
#pragma once

#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

#include "mailbox.h"
#include "worker-pool.h"

/* Keepalive: a libvirtd that stops answering is given up after about
 * INTERVAL * (COUNT + 1) seconds, like virsh does by default. */
#define LIBVIRT_KEEPALIVE_INTERVAL_SEC 5
#define LIBVIRT_KEEPALIVE_COUNT 3
#define LIBVIRT_RETRY_MIN_USEC (1ULL * 1000 * 1000)
#define LIBVIRT_RETRY_MAX_USEC (30ULL * 1000 * 1000)

typedef struct LibvirtHostInfo {
        char *hostname;
        char *hypervisor;                 /* virConnectGetType(): "QEMU", "TEST" */
        unsigned long hypervisor_version; /* major * 1000000 + minor * 1000 + release */
        unsigned long libvirt_version;    /* of libvirtd, same encoding */
        char cpu_model[32];
        unsigned cpus, mhz, numa_nodes, sockets, cores, threads;
        unsigned long long memory_kib;
} LibvirtHostInfo;

typedef struct LibvirtConn LibvirtConn;

/* Loop thread: CONNECTED changed, or the first attempt to connect failed. */
typedef void (*libvirt_conn_changed_fn)(LibvirtConn *c, bool connected, void *userdata);

int libvirt_conn_new(sd_event *event, WorkerPool *pool, Mailbox *mb, const char *uri,
                     libvirt_conn_changed_fn changed, void *userdata, LibvirtConn **ret);
/* Closes the connection: this blocks, so only at exit, after the loop ended. */
LibvirtConn *libvirt_conn_free(LibvirtConn *c);

/* Starts the first attempt; later ones follow by themselves with backoff. */
int libvirt_conn_start(LibvirtConn *c);

bool libvirt_conn_is_connected(LibvirtConn *c);
/* Counts successful connections: state tied to one connection (event
 * callbacks) compares it to tell whether it belongs to the current one. */
unsigned libvirt_conn_generation(LibvirtConn *c);
bool libvirt_conn_attempted(LibvirtConn *c);       /* the first attempt has finished */
const char *libvirt_conn_uri(LibvirtConn *c);
const char *libvirt_conn_last_error(LibvirtConn *c); /* why we are not connected, or NULL */
const LibvirtHostInfo *libvirt_conn_host_info(LibvirtConn *c); /* NULL when disconnected */

/* A new reference for a worker thread to use and virConnectClose() when
 * done, or NULL when disconnected. Loop thread. */
virConnectPtr libvirt_conn_ref(LibvirtConn *c);
