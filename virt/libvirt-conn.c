/* The libvirt connection: opened off the loop, watched, re-opened with backoff */
#include "libvirt-conn.h"

#include <libvirt/virterror.h>
#include <stdio.h>

#include "libvirt-error.h"
#include "log.h"
#include "macro.h"

typedef enum LibvirtConnState {
        LIBVIRT_DISCONNECTED,
        LIBVIRT_CONNECTING,
        LIBVIRT_CONNECTED,
} LibvirtConnState;

struct LibvirtConn {
        sd_event *event;
        WorkerPool *pool;
        Mailbox *mailbox;
        char *uri;
        LibvirtConnState state;
        virConnectPtr conn;
        LibvirtHostInfo info;
        char *last_error;
        unsigned failures;          /* consecutive failed attempts, for backoff */
        unsigned generation;        /* successful connections so far */
        bool attempted;
        sd_event_source *retry;
        MailboxMessage closed_message;
        libvirt_conn_changed_fn changed;
        void *userdata;
        bool freeing;
};

typedef struct OpenAttempt {
        LibvirtConn *owner;
        char *uri;
        virConnectPtr conn;
        LibvirtHostInfo info;
        char *error;
} OpenAttempt;

static void host_info_done(LibvirtHostInfo *info) {
        free(info->hostname);
        free(info->hypervisor);
        *info = (LibvirtHostInfo) {};
}

static const char *close_reason_to_string(int reason) {
        switch (reason) {
        case VIR_CONNECT_CLOSE_REASON_ERROR:     return "I/O error";
        case VIR_CONNECT_CLOSE_REASON_EOF:       return "libvirtd closed the connection";
        case VIR_CONNECT_CLOSE_REASON_KEEPALIVE: return "keepalive timeout";
        case VIR_CONNECT_CLOSE_REASON_CLIENT:    return "closed by client";
        default:                                 return "unknown reason";
        }
}

/* Worker thread: everything here may block for as long as libvirtd takes. */
static void host_info_read(virConnectPtr conn, LibvirtHostInfo *info) {
        virNodeInfo node;
        const char *type;

        info->hostname = virConnectGetHostname(conn);
        type = virConnectGetType(conn);
        info->hypervisor = type ? strdup(type) : NULL;
        (void) virConnectGetVersion(conn, &info->hypervisor_version);
        (void) virConnectGetLibVersion(conn, &info->libvirt_version);
        if (virNodeGetInfo(conn, &node) == 0) {
                snprintf(info->cpu_model, sizeof info->cpu_model, "%s", node.model);
                info->cpus = node.cpus;
                info->mhz = node.mhz;
                info->numa_nodes = node.nodes;
                info->sockets = node.sockets;
                info->cores = node.cores;
                info->threads = node.threads;
                info->memory_kib = node.memory;
        }
        virResetLastError();
}

static int open_work(void *userdata) {
        OpenAttempt *a = userdata;
        int r;

        a->conn = virConnectOpen(a->uri);
        if (!a->conn)
                return libvirt_error_take(&a->error);
        /* Remote drivers only; the in-process test driver has no keepalive. */
        if (virConnectSetKeepAlive(a->conn, LIBVIRT_KEEPALIVE_INTERVAL_SEC, LIBVIRT_KEEPALIVE_COUNT) < 0) {
                r = libvirt_error_take(NULL);
                if (r != -EOPNOTSUPP)
                        log_debug_errno(r, "Keepalive not enabled on %s: %m", a->uri);
        }
        host_info_read(a->conn, &a->info);
        return 0;
}

static int close_work(void *userdata) {
        virConnectClose(userdata);
        virResetLastError();
        return 0;
}

static void close_done(int result, void *userdata) {
        /* A cancelled close (pool stopping) still owes libvirt its reference. */
        if (result == -ECANCELED)
                virConnectClose(userdata);
}

static void schedule_retry(LibvirtConn *c);

static void on_closed_in_loop(void *userdata);

static void on_close(virConnectPtr conn, int reason, void *opaque) {
        LibvirtConn *c = opaque;

        /* Any thread: the RPC client notices a dead socket wherever it is. */
        log_debug("libvirt connection closed: %s", close_reason_to_string(reason));
        mailbox_post(c->mailbox, &c->closed_message);
}

static void drop_connection(LibvirtConn *c) {
        virConnectPtr conn = TAKE_PTR(c->conn);

        if (!conn)
                return;
        (void) virConnectUnregisterCloseCallback(conn, on_close);
        virResetLastError();
        host_info_done(&c->info);
        /* Closing talks to libvirtd when it is still there: off the loop. */
        if (worker_pool_submit(c->pool, WORKER_INTERNAL, close_work, close_done, conn) < 0)
                virConnectClose(conn);
}

static void on_closed_in_loop(void *userdata) {
        LibvirtConn *c = userdata;

        if (c->state != LIBVIRT_CONNECTED || (c->conn && virConnectIsAlive(c->conn) == 1))
                return;
        log_warning("Lost the libvirt connection to %s; reconnecting", c->uri);
        free(c->last_error);
        c->last_error = strdup("the connection to libvirtd was lost");
        drop_connection(c);
        c->state = LIBVIRT_DISCONNECTED;
        c->changed(c, false, c->userdata);
        schedule_retry(c);
}

static void open_attempt_free(OpenAttempt *a) {
        if (!a)
                return;
        if (a->conn)
                virConnectClose(a->conn);
        host_info_done(&a->info);
        free(a->uri);
        free(a->error);
        free(a);
}

static void open_done(int result, void *userdata) {
        OpenAttempt *a = userdata;
        LibvirtConn *c = a->owner;
        bool first = !c->attempted;

        if (result == -ECANCELED || c->freeing) {
                open_attempt_free(a);
                return;
        }
        c->attempted = true;
        if (result >= 0 && virConnectRegisterCloseCallback(a->conn, on_close, c, NULL) < 0)
                virResetLastError();   /* in-process drivers never close */
        if (result >= 0 && virConnectIsAlive(a->conn) == 0)
                result = -ENOTCONN;    /* died between open and now */

        if (result < 0) {
                c->failures++;
                free(c->last_error);
                c->last_error = TAKE_PTR(a->error);
                /* Say it once; the retries after it are only worth a debug line. */
                log_full_errno(c->failures == 1 ? LOG_WARNING : LOG_DEBUG, result,
                               "Cannot connect to libvirt at %s (attempt %u): %s", c->uri,
                               c->failures, strempty(c->last_error));
                c->state = LIBVIRT_DISCONNECTED;
                open_attempt_free(a);
                if (first)
                        c->changed(c, false, c->userdata);
                schedule_retry(c);
                return;
        }

        c->conn = TAKE_PTR(a->conn);
        c->info = a->info;
        a->info = (LibvirtHostInfo) {};
        c->failures = 0;
        c->last_error = mfree(c->last_error);
        c->state = LIBVIRT_CONNECTED;
        c->generation++;
        log_info("Connected to libvirt at %s (%s)", c->uri, strempty(c->info.hypervisor));
        open_attempt_free(a);
        c->changed(c, true, c->userdata);
}

static int connect_now(LibvirtConn *c) {
        OpenAttempt *a;
        int r;

        a = calloc(1, sizeof *a);
        if (!a)
                return -ENOMEM;
        a->owner = c;
        a->uri = strdup(c->uri);
        if (!a->uri) {
                free(a);
                return -ENOMEM;
        }
        r = worker_pool_submit(c->pool, WORKER_INTERNAL, open_work, open_done, a);
        if (r < 0) {
                open_attempt_free(a);
                return r;
        }
        c->state = LIBVIRT_CONNECTING;
        return 0;
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        LibvirtConn *c = userdata;
        int r;

        r = connect_now(c);
        if (r < 0) {
                log_error_errno(r, "Cannot start a libvirt connection attempt: %m");
                schedule_retry(c);
        }
        return 0;
}

static uint64_t retry_delay(unsigned failures) {
        uint64_t delay = LIBVIRT_RETRY_MIN_USEC;

        for (unsigned i = 1; i < failures && delay < LIBVIRT_RETRY_MAX_USEC; i++)
                delay *= 2;
        return delay < LIBVIRT_RETRY_MAX_USEC ? delay : LIBVIRT_RETRY_MAX_USEC;
}

static void schedule_retry(LibvirtConn *c) {
        uint64_t delay = retry_delay(c->failures);
        int r;

        if (c->retry)
                r = sd_event_source_set_time_relative(c->retry, delay) < 0 ? -1 :
                    sd_event_source_set_enabled(c->retry, SD_EVENT_ONESHOT);
        else
                r = sd_event_add_time_relative(c->event, &c->retry, CLOCK_MONOTONIC, delay, 0,
                                               on_retry, c);
        if (r < 0)
                log_error_errno(r, "Cannot schedule a libvirt reconnect: %m");
}

int libvirt_conn_new(sd_event *event, WorkerPool *pool, Mailbox *mb, const char *uri,
                     libvirt_conn_changed_fn changed, void *userdata, LibvirtConn **ret) {
        LibvirtConn *c;

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->uri = strdup(uri);
        if (!c->uri) {
                free(c);
                return -ENOMEM;
        }
        c->event = sd_event_ref(event);
        c->pool = pool;
        c->mailbox = mb;
        c->changed = changed;
        c->userdata = userdata;
        c->closed_message = (MailboxMessage) { .fn = on_closed_in_loop, .userdata = c };
        *ret = c;
        return 0;
}

LibvirtConn *libvirt_conn_free(LibvirtConn *c) {
        if (!c)
                return NULL;
        c->freeing = true;
        sd_event_source_disable_unref(c->retry);
        if (c->conn) {
                (void) virConnectUnregisterCloseCallback(c->conn, on_close);
                virConnectClose(c->conn);
                virResetLastError();
        }
        /* A close noticed by one of libvirt's threads may still be on its way
         * to the loop; it points into C. */
        mailbox_cancel(c->mailbox, &c->closed_message);
        host_info_done(&c->info);
        sd_event_unref(c->event);
        free(c->last_error);
        free(c->uri);
        free(c);
        return NULL;
}

int libvirt_conn_start(LibvirtConn *c) {
        return connect_now(c);
}

bool libvirt_conn_is_connected(LibvirtConn *c) {
        return c->state == LIBVIRT_CONNECTED;
}

unsigned libvirt_conn_generation(LibvirtConn *c) {
        return c->generation;
}

bool libvirt_conn_attempted(LibvirtConn *c) {
        return c->attempted;
}

const char *libvirt_conn_uri(LibvirtConn *c) {
        return c->uri;
}

const char *libvirt_conn_last_error(LibvirtConn *c) {
        return c->last_error;
}

const LibvirtHostInfo *libvirt_conn_host_info(LibvirtConn *c) {
        return c->state == LIBVIRT_CONNECTED ? &c->info : NULL;
}

virConnectPtr libvirt_conn_ref(LibvirtConn *c) {
        if (c->state != LIBVIRT_CONNECTED || virConnectRef(c->conn) < 0)
                return NULL;
        return c->conn;
}
