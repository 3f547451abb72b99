/* The Manager: the daemon's top object, owning the loop, the bus and libvirt */
#include "manager.h"

#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include "bus-auth.h"
#include "bus-budget.h"
#include "bus-fair.h"
#include "bus-work.h"
#include "bus-error.h"
#include "fs-util.h"
#include "libvirt-error.h"
#include "libvirt-event.h"
#include "log.h"
#include "macro.h"
#include "job.h"
#include "manager-dbus.h"
#include "network.h"
#include "network-setup.h"
#include "storage.h"
#include "storage-save.h"
#include "vm.h"
#include "vm-backup.h"
#include "vm-guest.h"
#include "vm-migrate.h"
#include "vm-snapshot.h"

static struct {
        WorkerPool *pool;
        Mailbox *mailbox;
        LibvirtConn *libvirt;
} left_behind;

bool manager_left_threads_behind(void) {
        /* A migration thread waits in libvirt until the migration ends. */
        return left_behind.pool != NULL || vm_migration_threads_running() > 0;
}

void manager_update_status(Manager *m) {
        const char *uri = libvirt_conn_uri(m->libvirt);

        if (m->stopping)
                (void) sd_notify(false, "STATUS=Shutting down");
        else if (libvirt_conn_is_connected(m->libvirt))
                (void) sd_notifyf(false, "STATUS=Serving; libvirt connected at %s", uri);
        else if (!libvirt_conn_attempted(m->libvirt))
                (void) sd_notifyf(false, "STATUS=Connecting to libvirt at %s", uri);
        else
                (void) sd_notifyf(false, "STATUS=Serving; libvirt at %s unavailable (%s), retrying",
                                  uri, strempty(libvirt_conn_last_error(m->libvirt)));
}

void manager_set_ready(Manager *m) {
        if (m->ready)
                return;
        m->ready = true;
        (void) manager_emit_changed(m, "Ready", NULL);
        manager_update_status(m);
}

static void on_libvirt_changed(LibvirtConn *c, bool connected, void *userdata) {
        Manager *m = userdata;
        int r;

        (void) manager_emit_changed(m, "LibvirtConnected", NULL);
        manager_update_status(m);
        if (!connected) {
                /* Nothing to load until libvirt is back: ready with what we have. */
                manager_set_ready(m);
                return;
        }
        /* Ready once the VMs are read; a reconnect re-reads and emits the difference. */
        r = vm_registry_connected(m);
        if (r >= 0)
                r = vm_guest_timer_start(m);   /* the agents' reads, every --guest-info-interval */
        if (r < 0) {
                log_error_errno(r, "Cannot start reading the VMs: %m");
                manager_set_ready(m);
        }
}

static void finish_stop(void *userdata) {
        Manager *m = userdata;

        (void) sd_event_exit(m->event, 0);
}

static int on_trim(sd_event_source *s, uint64_t usec, void *userdata) {
        /* A burst of big replies (1000-VM lists, bulk statistics) leaves freed
         * heap behind; give it back once things are quiet. */
        (void) malloc_trim(0);
        return 0;
}

void manager_schedule_trim(Manager *m) {
        int r;

        if (!m->trim) {
                r = sd_event_add_time_relative(m->event, &m->trim, CLOCK_MONOTONIC, MANAGER_TRIM_DELAY_USEC,
                                               MANAGER_TRIM_DELAY_USEC / 4, on_trim, m);
                if (r < 0)
                        return;
                (void) sd_event_source_set_description(m->trim, "malloc-trim");
                return;
        }
        (void) sd_event_source_set_time_relative(m->trim, MANAGER_TRIM_DELAY_USEC);
        (void) sd_event_source_set_enabled(m->trim, SD_EVENT_ONESHOT);
}

/* The pool ran dry: finish a stop that waited for it, or tidy the heap. */
static void on_pool_idle(void *userdata) {
        Manager *m = userdata;

        if (m->stopping)
                finish_stop(m);
        else
                manager_schedule_trim(m);
}

static int on_stop_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        log_warning("%u operation(s) still blocked after %llu ms, exiting without them",
                    worker_pool_outstanding(m->pool),
                    (unsigned long long) MANAGER_STOP_TIMEOUT_USEC / 1000);
        finish_stop(m);
        return 0;
}

/* A graceful stop happens inside the loop, because sd-bus closes the
 * connection once the loop exits: queued work is answered ShuttingDown at
 * once, running work gets a bounded wait for its reply, then we exit. */
static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;
        int r;

        if (m->stopping)
                return 0;
        log_info("Received %s, shutting down", strsignal((int) si->ssi_signo));
        m->stopping = true;
        (void) sd_notify(false, "STOPPING=1");
        manager_update_status(m);

        /* A successor may take the name while we finish. */
        (void) sd_bus_release_name_async(m->bus, NULL, HOSTAGENT_BUS_NAME, NULL, NULL);
        worker_pool_cancel_queued(m->pool);
        if (worker_pool_outstanding(m->pool) == 0) {
                finish_stop(m);
                return 0;
        }
        r = sd_event_add_time_relative(m->event, NULL, CLOCK_MONOTONIC, MANAGER_STOP_TIMEOUT_USEC, 0,
                                       on_stop_timeout, m);
        if (r < 0)
                finish_stop(m);
        return 0;
}

int manager_new(const Options *options, Manager **ret) {
        Manager *m;
        int r;

        m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        m->options = options;

        /* Before any thread exists: SIGTERM must reach the loop's signalfd, not
         * kill us through a worker thread that left it unblocked. */
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (pthread_sigmask(SIG_BLOCK, &mask, NULL) != 0) {
                free(m);
                return -EINVAL;
        }

        r = sd_event_default(&m->event);
        if (r < 0)
                goto fail;
        r = mailbox_new(m->event, &m->mailbox);
        if (r < 0)
                goto fail;
        r = worker_pool_new(m->event, m->mailbox, options->workers, options->max_operations, &m->pool);
        if (r < 0)
                goto fail;
        worker_pool_set_idle_callback(m->pool, on_pool_idle, m);
        libvirt_error_silence();
        r = libvirt_event_register(m->event, m->mailbox);
        if (r < 0)
                goto fail;
        r = libvirt_conn_new(m->event, m->pool, m->mailbox, options->libvirt_uri,
                             on_libvirt_changed, m, &m->libvirt);
        if (r < 0)
                goto fail;
        *ret = m;
        return 0;
fail:
        manager_free(m);
        return r;
}

Manager *manager_free(Manager *m) {
        bool pool_stopped;

        if (!m)
                return NULL;

        /* The graceful part (answering callers) happened in the loop; what is
         * still running now is stuck, so do not wait for it again. */
        pool_stopped = !m->pool ||
                       worker_pool_stop(m->pool, m->stopping && worker_pool_outstanding(m->pool) > 0
                                                 ? 0 : MANAGER_STOP_TIMEOUT_USEC) >= 0;
        if (m->mailbox)
                mailbox_dispatch(m->mailbox);
        bus_work_stop();

        job_free_all(m);
        vm_migrations_free(m);
        vm_snapshots_free(m);
        vm_backups_free(m);
        vm_guest_timer_stop(m);
        storage_save_free(m);
        storage_stop(m);
        network_setup_stop(m);
        networks_free(m);
        vm_registry_free(m);

        /* A thread stuck in libvirt means libvirtd hangs: closing would too. */
        if (pool_stopped) {
                m->libvirt = libvirt_conn_free(m->libvirt);
                libvirt_event_flush();
        }
        libvirt_event_unregister();
        if (m->mailbox)
                mailbox_dispatch(m->mailbox);

        bus_auth_done();
        bus_budget_done();
        m->bus = sd_bus_flush_close_unref(m->bus);
        if (pool_stopped) {
                m->pool = worker_pool_free(m->pool);
                m->mailbox = mailbox_free(m->mailbox);
        } else {
                /* Blocked threads still use these; keep them reachable until
                 * exit, so leak checkers tell this choice from a real leak. */
                left_behind.pool = m->pool;
                left_behind.mailbox = m->mailbox;
                left_behind.libvirt = m->libvirt;
        }
        m->trim = sd_event_source_disable_unref(m->trim);
        m->event = sd_event_unref(m->event);
        free(m);
        return NULL;
}

static int manager_connect_bus(Manager *m) {
        int r;

        r = bus_error_register();
        if (r < 0)
                return log_error_errno(r, "Cannot register the bus error names: %m");
        r = m->options->user_bus ? sd_bus_open_user_with_description(&m->bus, "hostagentd")
                                 : sd_bus_open_system_with_description(&m->bus, "hostagentd");
        if (r < 0)
                return log_error_errno(r, "Cannot connect to the %s bus: %m",
                                       m->options->user_bus ? "user" : "system");
        /* Without the bus we are of no use: exit, and let systemd restart us. */
        r = sd_bus_set_exit_on_disconnect(m->bus, true);
        if (r < 0)
                return log_error_errno(r, "Cannot set exit-on-disconnect: %m");
        r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Cannot attach the bus to the event loop: %m");
        return 0;
}

/* SIGTERM and SIGINT as events (blocked in every thread by manager_new()), and the watchdog. */
static int manager_watch_signals(Manager *m) {
        int r;

        r = sd_event_add_signal(m->event, NULL, SIGTERM, on_signal, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGINT, on_signal, m);
        if (r < 0)
                return log_error_errno(r, "Cannot watch SIGTERM/SIGINT: %m");
        r = sd_event_set_watchdog(m->event, true);
        if (r < 0)
                return log_error_errno(r, "Cannot enable the watchdog: %m");
        return 0;
}

/* The bus connection with every object and its call path, before the name is owned. */
static int manager_setup_bus(Manager *m) {
        int r;

        r = manager_connect_bus(m);
        if (r < 0)
                return r;
        r = manager_bus_register(m);
        if (r < 0)
                return r;
        r = bus_work_setup(m);
        if (r < 0)
                return r;
        bus_fair_set_backlog((size_t) m->options->reply_backlog_kib * 1024);
        bus_fair_set_rate((uint64_t) m->options->listing_rate_kib * 1024, bus_auth_identify);
        /* Last: its filter must run before the filters that authorize. */
        r = bus_auth_install(m->bus);
        if (r < 0)
                return log_error_errno(r, "Cannot install the caller identity filter: %m");
        return 0;
}

/* Pools and networks as the state files keep them. */
static int manager_start_rooms(Manager *m) {
        int r;

        r = storage_start(m);
        if (r < 0)
                return r;
        r = networks_start(m);
        if (r < 0)
                return r;
        /* A transaction cut short by a crash is rolled back, then what is kept is made true again. */
        return network_recover(m);
}

/* Objects first, name second: a caller that sees the name finds them all. */
static int manager_own_name(Manager *m) {
        int r;

        r = sd_bus_request_name(m->bus, HOSTAGENT_BUS_NAME, 0);
        if (r == -EEXIST)
                return log_error_errno(r, "Another process owns %s already", HOSTAGENT_BUS_NAME);
        if (r < 0)
                return log_error_errno(r, "Cannot own %s (is the bus policy installed?): %m",
                                       HOSTAGENT_BUS_NAME);
        /* Once the name is owned: clients following it see the jobs come back. */
        job_resume_recorded(m);
        return 0;
}

int manager_startup(Manager *m) {
        int r;

        r = mkdir_parents(m->options->state_dir, 0755);
        if (r < 0)
                return log_error_errno(r, "Cannot create state directory %s: %m", m->options->state_dir);
        r = manager_watch_signals(m);
        if (r < 0)
                return r;
        r = manager_setup_bus(m);
        if (r < 0)
                return r;
        r = manager_start_rooms(m);
        if (r < 0)
                return r;
        r = manager_own_name(m);
        if (r < 0)
                return r;
        r = libvirt_conn_start(m->libvirt);
        if (r < 0)
                return log_error_errno(r, "Cannot start connecting to libvirt: %m");

        log_info("hostagentd %s serving %s; libvirt at %s", PROJECT_VERSION, HOSTAGENT_BUS_NAME,
                 libvirt_conn_uri(m->libvirt));
        (void) sd_notify(false, "READY=1");
        manager_update_status(m);
        return 0;
}

int manager_run(Manager *m) {
        int r;

        r = sd_event_loop(m->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return r;
}
