/* Watching Open vSwitch: an RFC 7047 "monitor" on the loop that says when to read it again */
#include "ovs-monitor.h"

#include <sys/socket.h>
#include <systemd/sd-event.h>

#include "json-cleanup.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "ovsdb.h"

#define BACKOFF_MIN_SEC 1
#define BACKOFF_MAX_SEC 30

struct OvsMonitor {
        Manager *manager;
        ovs_monitor_changed_fn changed;
        int fd;
        sd_event_source *io;
        sd_event_source *retry;
        OvsdbReader reader;
        unsigned backoff_sec;
        bool was_connected;
};

static void schedule_retry(OvsMonitor *o);

static void disconnect(OvsMonitor *o) {
        o->io = sd_event_source_disable_unref(o->io);
        if (o->fd >= 0)
                close(o->fd);
        o->fd = -EBADF;
        ovsdb_reader_done(&o->reader);
}

OvsMonitor *ovs_monitor_free(OvsMonitor *o) {
        if (!o)
                return NULL;
        disconnect(o);
        sd_event_source_disable_unref(o->retry);
        free(o);
        return NULL;
}

static int send_text(OvsMonitor *o, json_object *msg) {
        const char *text = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN);
        size_t n = strlen(text);
        /* Small messages on a local socket: a short write means the other end is stuck. */
        ssize_t w = send(o->fd, text, n, MSG_NOSIGNAL | MSG_DONTWAIT);

        return w == (ssize_t) n ? 0 : -EIO;
}

static void on_message(json_object *msg, void *userdata) {
        OvsMonitor *o = userdata;
        _cleanup_(json_object_putp) json_object *echo = ovsdb_echo_reply(msg);
        json_object *method;

        if (echo)
                (void) send_text(o, echo);
        /* An update, or the reply to our monitor request (the database as it is): read it again.
         * A null method ({"method":null} from a broken peer) has no string: streq_ptr. */
        else if (!json_object_object_get_ex(msg, "method", &method) ||
                 streq_ptr(json_object_get_string(method), "update"))
                o->changed(o->manager);
}

static int on_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        OvsMonitor *o = userdata;
        char buf[16384];
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);

        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n <= 0 || ovsdb_reader_feed(&o->reader, buf, (size_t) n, on_message, o) < 0) {
                log_warning("Lost the connection to Open vSwitch at %s; reconnecting", o->manager->options->ovsdb);
                disconnect(o);
                o->changed(o->manager);   /* its networks are now seen degraded */
                schedule_retry(o);
        }
        return 0;
}

static int try_connect(OvsMonitor *o) {
        const char *address = o->manager->options->ovsdb;
        _cleanup_(json_object_putp) json_object *msg = json_object_new_object();
        json_object *params, *tables, *t;
        int r;

        /* A local socket connects at once or not at all: this does not wait on the loop. */
        o->fd = ovsdb_connect(address, true);
        if (o->fd < 0)
                return o->fd;
        r = ovsdb_reader_init(&o->reader);
        if (r < 0) {
                disconnect(o);
                return r;
        }
        /* Only what the networks show: bridges, their ports, the ports' interfaces. */
        params = json_object_new_array();
        tables = json_object_new_object();
        json_object_array_add(params, json_object_new_string("Open_vSwitch"));
        json_object_array_add(params, json_object_new_string("hostagent"));
        t = json_object_new_object();
        json_object_object_add(t, "columns", json_tokener_parse("[\"name\",\"ports\",\"datapath_type\"]"));
        json_object_object_add(tables, "Bridge", t);
        t = json_object_new_object();
        json_object_object_add(t, "columns", json_tokener_parse("[\"name\",\"tag\",\"interfaces\"]"));
        json_object_object_add(tables, "Port", t);
        t = json_object_new_object();
        json_object_object_add(t, "columns", json_tokener_parse("[\"name\",\"type\"]"));
        json_object_object_add(tables, "Interface", t);
        json_object_array_add(params, tables);
        json_object_object_add(msg, "method", json_object_new_string("monitor"));
        json_object_object_add(msg, "params", params);
        json_object_object_add(msg, "id", json_object_new_string("hostagent-monitor"));
        r = send_text(o, msg);
        if (r >= 0)
                r = sd_event_add_io(o->manager->event, &o->io, o->fd, EPOLLIN, on_readable, o);
        if (r < 0) {
                disconnect(o);
                return r;
        }
        log_full_errno(o->was_connected ? LOG_NOTICE : LOG_INFO, 0, "Watching Open vSwitch at %s", address);
        o->was_connected = true;
        o->backoff_sec = BACKOFF_MIN_SEC;
        return 0;
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        OvsMonitor *o = userdata;

        if (try_connect(o) < 0)
                schedule_retry(o);
        return 0;
}

static void schedule_retry(OvsMonitor *o) {
        uint64_t usec = (uint64_t) o->backoff_sec * 1000 * 1000;

        o->backoff_sec = o->backoff_sec * 2 > BACKOFF_MAX_SEC ? BACKOFF_MAX_SEC : o->backoff_sec * 2;
        if (!o->retry) {
                if (sd_event_add_time_relative(o->manager->event, &o->retry, CLOCK_MONOTONIC, usec, 0, on_retry, o) < 0)
                        log_warning("Cannot schedule reconnecting to Open vSwitch");
                return;
        }
        (void) sd_event_source_set_time_relative(o->retry, usec);
        (void) sd_event_source_set_enabled(o->retry, SD_EVENT_ONESHOT);
}

int ovs_monitor_start(Manager *m, ovs_monitor_changed_fn changed, OvsMonitor **ret) {
        OvsMonitor *o = calloc(1, sizeof *o);

        if (!o)
                return -ENOMEM;
        o->manager = m;
        o->changed = changed;
        o->fd = -EBADF;
        o->backoff_sec = BACKOFF_MIN_SEC;
        if (try_connect(o) < 0) {
                log_debug("Open vSwitch is not there (%s); trying again later", m->options->ovsdb);
                schedule_retry(o);
        }
        *ret = o;
        return 0;
}
