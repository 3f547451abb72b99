/* Event latency side by side: one pause or resume, made by a third libvirt
 * client, timed to libvirt's own in-process callback, libvirt-dbus's
 * DomainEvent and hostagentd's PropertiesChanged and StateChanged */
#include "vm-events.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "bench-util.h"
#include "macro.h"

enum { SEEN_LIBVIRT, SEEN_LIBVIRT_DBUS, SEEN_HA_PROPERTIES, SEEN_HA_STATE, _SEEN_MAX };

static const char *const seen_label[_SEEN_MAX] = {
        [SEEN_LIBVIRT] = "libvirt in-process callback",
        [SEEN_LIBVIRT_DBUS] = "libvirt-dbus DomainEvent",
        [SEEN_HA_PROPERTIES] = "hostagentd PropertiesChanged",
        [SEEN_HA_STATE] = "hostagentd StateChanged",
};

typedef struct Watcher {
        const char *ha_path, *lv_path;
        char uuid[VIR_UUID_STRING_BUFLEN];
        _Atomic uint64_t seen[_SEEN_MAX];   /* when each first saw this round's change; 0: not yet */
        atomic_bool stop;
} Watcher;

static void stamp(Watcher *w, int who) {
        uint64_t zero = 0;

        (void) atomic_compare_exchange_strong(&w->seen[who], &zero, now_ns());
}

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque) {
        Watcher *w = opaque;
        char uuid[VIR_UUID_STRING_BUFLEN];

        if ((event == VIR_DOMAIN_EVENT_SUSPENDED || event == VIR_DOMAIN_EVENT_RESUMED) &&
            virDomainGetUUIDString(dom, uuid) == 0 && streq(uuid, w->uuid))
                stamp(w, SEEN_LIBVIRT);
        return 0;
}

static void *run_libvirt_loop(void *userdata) {
        Watcher *w = userdata;

        while (!atomic_load(&w->stop))
                (void) virEventRunDefaultImpl();
        return NULL;
}

static int on_domain_event(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Watcher *w = userdata;
        const char *path;

        if (sd_bus_message_read(m, "o", &path) >= 0 && streq(path, w->lv_path))
                stamp(w, SEEN_LIBVIRT_DBUS);
        return 0;
}

static int on_properties(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        const char *interface;

        if (sd_bus_message_read(m, "s", &interface) >= 0 && streq(interface, "org.hostagent1.VM"))
                stamp(userdata, SEEN_HA_PROPERTIES);
        return 0;
}

static int on_state(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        stamp(userdata, SEEN_HA_STATE);
        return 0;
}

/* The bus side has a connection and a thread of its own: the signals are
 * stamped when they arrive, whatever the caller's thread is doing. */
static void *run_bus(void *userdata) {
        Watcher *w = userdata;
        sd_bus *bus = NULL;

        if (sd_bus_open_system(&bus) < 0 ||
            sd_bus_match_signal(bus, NULL, "org.libvirt", "/org/libvirt/QEMU", "org.libvirt.Connect",
                                "DomainEvent", on_domain_event, w) < 0 ||
            sd_bus_match_signal(bus, NULL, "org.hostagent1", w->ha_path, "org.freedesktop.DBus.Properties",
                                "PropertiesChanged", on_properties, w) < 0 ||
            sd_bus_match_signal(bus, NULL, "org.hostagent1", w->ha_path, "org.hostagent1.VM", "StateChanged",
                                on_state, w) < 0) {
                fprintf(stderr, "events: cannot subscribe on the bus\n");
                atomic_store(&w->stop, true);
        }
        while (!atomic_load(&w->stop)) {
                int r = sd_bus_process(bus, NULL);

                if (r < 0)
                        break;
                if (r == 0)
                        (void) sd_bus_wait(bus, 20 * 1000);
        }
        sd_bus_flush_close_unref(bus);
        return NULL;
}

static bool all_seen(Watcher *w) {
        for (int i = 0; i < _SEEN_MAX; i++)
                if (atomic_load(&w->seen[i]) == 0)
                        return false;
        return true;
}

/* N pauses and resumes; LAT[who][i] the latency of each. */
static int run_rounds(Watcher *w, virDomainPtr dom, unsigned n, uint64_t *lat[_SEEN_MAX]) {
        for (unsigned i = 0; i < n; i++) {
                uint64_t t0, deadline;

                for (int k = 0; k < _SEEN_MAX; k++)
                        atomic_store(&w->seen[k], 0);
                usleep(20 * 1000);   /* everyone idle again, as between real changes */
                t0 = now_ns();
                if ((i % 2 == 0 ? virDomainSuspend(dom) : virDomainResume(dom)) < 0) {
                        fprintf(stderr, "events: %s\n", virGetLastErrorMessage());
                        return -1;
                }
                deadline = t0 + 10ULL * 1000 * 1000 * 1000;
                while (!all_seen(w) && now_ns() < deadline)
                        usleep(50);
                for (int k = 0; k < _SEEN_MAX; k++) {
                        uint64_t t = atomic_load(&w->seen[k]);

                        if (t == 0) {
                                fprintf(stderr, "events: no %s after round %u\n", seen_label[k], i);
                                return -1;
                        }
                        lat[k][i] = t - t0;
                }
        }
        return 0;
}

static double median_us(const uint64_t *v, unsigned n) {
        uint64_t *copy = malloc(n * sizeof *copy);
        double m;

        memcpy(copy, v, n * sizeof *copy);
        qsort(copy, n, sizeof *copy, cmp_u64);
        m = copy[n / 2] / 1000.0;
        free(copy);
        return m;
}

static double p99_us(const uint64_t *v, unsigned n) {
        uint64_t *copy = malloc(n * sizeof *copy);
        double m;

        memcpy(copy, v, n * sizeof *copy);
        qsort(copy, n, sizeof *copy, cmp_u64);
        m = copy[n * 99 / 100] / 1000.0;
        free(copy);
        return m;
}

/* Median of the per-round differences A - B (signed, in us). */
static double median_diff_us(const uint64_t *a, const uint64_t *b, unsigned n) {
        int64_t *d = malloc(n * sizeof *d);
        double m;

        for (unsigned i = 0; i < n; i++)
                d[i] = (int64_t) a[i] - (int64_t) b[i];
        for (unsigned i = 1; i < n; i++)   /* insertion sort: N is small */
                for (unsigned j = i; j > 0 && d[j - 1] > d[j]; j--) {
                        int64_t t = d[j];
                        d[j] = d[j - 1];
                        d[j - 1] = t;
                }
        m = d[n / 2] / 1000.0;
        free(d);
        return m;
}

static void print_results(uint64_t *lat[_SEEN_MAX], unsigned n) {
        printf("\nevent latency, %u pauses/resumes from a third libvirt client (from the call)\n", n);
        printf("%-46s %10s %10s %16s\n", "who", "p50 us", "p99 us", "- libvirt (p50)");
        for (int k = 0; k < _SEEN_MAX; k++) {
                char diff[32] = "-";

                if (k != SEEN_LIBVIRT)
                        snprintf(diff, sizeof diff, "%+.1f", median_diff_us(lat[k], lat[SEEN_LIBVIRT], n));
                printf("%-46s %10.1f %10.1f %16s\n", seen_label[k], median_us(lat[k], n), p99_us(lat[k], n), diff);
        }
}

int events_side_by_side(const char *uri, const char *domain, const char *ha_path, const char *lv_path, unsigned n) {
        Watcher w = { .ha_path = ha_path, .lv_path = lv_path };
        virConnectPtr ev_conn = NULL, ctl_conn = NULL;
        virDomainPtr dom = NULL;
        pthread_t loop_thread, bus_thread;
        uint64_t *lat[_SEEN_MAX];
        int r = -1;

        for (int k = 0; k < _SEEN_MAX; k++)
                lat[k] = calloc(n, sizeof(uint64_t));
        /* Two connections: one that only listens, as an agent's does, and the
         * third client that changes the domain. */
        if (virEventRegisterDefaultImpl() < 0 || !(ev_conn = virConnectOpen(uri)) || !(ctl_conn = virConnectOpen(uri)) ||
            !(dom = virDomainLookupByName(ctl_conn, domain)) || virDomainGetUUIDString(dom, w.uuid) < 0 ||
            virConnectDomainEventRegisterAny(ev_conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                             VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), &w, NULL) < 0) {
                fprintf(stderr, "events: %s\n", virGetLastErrorMessage());
                goto out;
        }
        pthread_create(&loop_thread, NULL, run_libvirt_loop, &w);
        pthread_create(&bus_thread, NULL, run_bus, &w);
        usleep(200 * 1000);   /* subscriptions in place */
        r = run_rounds(&w, dom, n, lat);
        if (r >= 0)
                print_results(lat, n);
        atomic_store(&w.stop, true);
        pthread_join(bus_thread, NULL);
        /* The libvirt loop thread sleeps in poll(): it ends with the process. */
        pthread_detach(loop_thread);
out:
        for (int k = 0; k < _SEEN_MAX; k++)
                free(lat[k]);
        return r;
}
