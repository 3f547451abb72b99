/* libvirt's event loop callbacks implemented on sd-event */
#include "libvirt-event.h"

#include <libvirt/libvirt.h>
#include <pthread.h>

#include "log.h"
#include "macro.h"

typedef enum EventKind { EVENT_WATCH, EVENT_TIMER } EventKind;

/* One watch or timer as libvirt asked for it. The desired state is written
 * by any thread under the lock; SOURCE is touched on the loop thread only. */
typedef struct Event {
        struct Event *next;
        EventKind kind;
        int id;
        int fd;             /* watches */
        int events;         /* watches: VIR_EVENT_HANDLE_* wanted */
        int interval_ms;    /* timers: -1 off, 0 every iteration, >0 period */
        union {
                virEventHandleCallback handle_cb;
                virEventTimeoutCallback timeout_cb;
        };
        void *opaque;
        virFreeCallback ff;
        bool dirty;         /* desired state differs from SOURCE */
        bool removed;       /* libvirt let go; FF runs on the next sync */
        sd_event_source *source;
} Event;

static struct {
        pthread_mutex_t lock;
        Event *events;
        int next_id;
        sd_event *loop;
        Mailbox *mailbox;
        MailboxMessage sync_message;
} impl = { .lock = PTHREAD_MUTEX_INITIALIZER, .next_id = 1 };

static void request_sync(void) {
        Mailbox *mb;

        pthread_mutex_lock(&impl.lock);
        mb = impl.mailbox;
        pthread_mutex_unlock(&impl.lock);
        /* After unregister (at exit) there is no loop left to apply changes. */
        if (mb)
                mailbox_post(mb, &impl.sync_message);
}

static Event *event_find_locked(EventKind kind, int id) {
        for (Event *e = impl.events; e; e = e->next)
                if (e->kind == kind && e->id == id && !e->removed)
                        return e;
        return NULL;
}

static uint32_t epoll_events_from_virt(int events) {
        uint32_t r = 0;

        if (events & VIR_EVENT_HANDLE_READABLE)
                r |= EPOLLIN;
        if (events & VIR_EVENT_HANDLE_WRITABLE)
                r |= EPOLLOUT;
        return r;
}

static int virt_events_from_epoll(uint32_t revents) {
        int r = 0;

        if (revents & EPOLLIN)
                r |= VIR_EVENT_HANDLE_READABLE;
        if (revents & EPOLLOUT)
                r |= VIR_EVENT_HANDLE_WRITABLE;
        if (revents & EPOLLERR)
                r |= VIR_EVENT_HANDLE_ERROR;
        if (revents & EPOLLHUP)
                r |= VIR_EVENT_HANDLE_HANGUP;
        return r;
}

/* Dispatch: read the callback under the lock, call it without the lock
 * (libvirt re-enters us from inside it). */
static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Event *e = userdata;
        virEventHandleCallback cb;
        void *opaque;
        int id;

        pthread_mutex_lock(&impl.lock);
        if (e->removed || e->events == 0) {
                pthread_mutex_unlock(&impl.lock);
                return 0;
        }
        cb = e->handle_cb;
        opaque = e->opaque;
        id = e->id;
        pthread_mutex_unlock(&impl.lock);

        cb(id, fd, virt_events_from_epoll(revents), opaque);
        return 0;
}

static int on_time(sd_event_source *s, uint64_t usec, void *userdata) {
        Event *e = userdata;
        virEventTimeoutCallback cb;
        void *opaque;
        int id, interval;

        pthread_mutex_lock(&impl.lock);
        interval = e->interval_ms;
        if (e->removed || interval < 0) {
                pthread_mutex_unlock(&impl.lock);
                return 0;
        }
        cb = e->timeout_cb;
        opaque = e->opaque;
        id = e->id;
        pthread_mutex_unlock(&impl.lock);

        /* Re-arm before the call, so an update from inside it wins. */
        (void) sd_event_source_set_time_relative(s, (uint64_t) interval * 1000);
        (void) sd_event_source_set_enabled(s, SD_EVENT_ON);
        cb(id, opaque);
        return 0;
}

/* Loop thread, lock held: make SOURCE match the desired state. */
static void event_apply_locked(Event *e) {
        int r = 0;

        e->dirty = false;
        if (e->kind == EVENT_WATCH) {
                if (!e->source) {
                        r = sd_event_add_io(impl.loop, &e->source, e->fd,
                                            epoll_events_from_virt(e->events), on_io, e);
                        if (r >= 0)
                                (void) sd_event_source_set_description(e->source, "libvirt-watch");
                } else
                        r = sd_event_source_set_io_events(e->source, epoll_events_from_virt(e->events));
                if (r >= 0)
                        r = sd_event_source_set_enabled(e->source, e->events ? SD_EVENT_ON : SD_EVENT_OFF);
        } else {
                uint64_t delay = e->interval_ms > 0 ? (uint64_t) e->interval_ms * 1000 : 0;

                if (!e->source) {
                        r = sd_event_add_time_relative(impl.loop, &e->source, CLOCK_MONOTONIC, delay,
                                                       1000, on_time, e);
                        if (r >= 0)
                                (void) sd_event_source_set_description(e->source, "libvirt-timer");
                } else
                        r = sd_event_source_set_time_relative(e->source, delay);
                if (r >= 0)
                        r = sd_event_source_set_enabled(e->source,
                                                        e->interval_ms >= 0 ? SD_EVENT_ON : SD_EVENT_OFF);
        }
        if (r < 0)
                log_error_errno(r, "Cannot watch libvirt %s %d: %m",
                                e->kind == EVENT_WATCH ? "fd" : "timer", e->id);
}

typedef struct Release {
        virFreeCallback ff;
        void *opaque;
} Release;

static void sync_pending(void *userdata) {
        Release releases[64];
        size_t n_releases;

        do {
                n_releases = 0;
                pthread_mutex_lock(&impl.lock);
                /* Removals first: libvirt may have closed a watched fd and opened
                 * a new one with the same number; deleting the old epoll entry
                 * after adding the new one would delete the new one. */
                for (Event **p = &impl.events; *p;) {
                        Event *e = *p;

                        if (e->removed && n_releases < ELEMENTSOF(releases)) {
                                *p = e->next;
                                sd_event_source_disable_unref(e->source);
                                if (e->ff)
                                        releases[n_releases++] = (Release) { e->ff, e->opaque };
                                free(e);
                                continue;
                        }
                        p = &e->next;
                }
                for (Event *e = impl.events; e; e = e->next)
                        if (!e->removed && e->dirty)
                                event_apply_locked(e);
                pthread_mutex_unlock(&impl.lock);

                /* libvirt requires the free callbacks outside its own calls into us. */
                for (size_t i = 0; i < n_releases; i++)
                        releases[i].ff(releases[i].opaque);
        } while (n_releases == ELEMENTSOF(releases));
}

static int event_add(Event *template) {
        Event *e;
        int id;

        e = malloc(sizeof *e);
        if (!e)
                return -1;
        pthread_mutex_lock(&impl.lock);
        *e = *template;
        e->id = id = impl.next_id++;
        e->dirty = true;
        e->next = impl.events;
        impl.events = e;
        pthread_mutex_unlock(&impl.lock);
        request_sync();
        return id;
}

static int add_handle(int fd, int events, virEventHandleCallback cb, void *opaque, virFreeCallback ff) {
        return event_add(&(Event) { .kind = EVENT_WATCH, .fd = fd, .events = events,
                                    .handle_cb = cb, .opaque = opaque, .ff = ff });
}

static int add_timeout(int interval_ms, virEventTimeoutCallback cb, void *opaque, virFreeCallback ff) {
        return event_add(&(Event) { .kind = EVENT_TIMER, .fd = -1, .interval_ms = interval_ms,
                                    .timeout_cb = cb, .opaque = opaque, .ff = ff });
}

static void event_update(EventKind kind, int id, int value) {
        Event *e;

        pthread_mutex_lock(&impl.lock);
        e = event_find_locked(kind, id);
        if (e) {
                if (kind == EVENT_WATCH)
                        e->events = value;
                else
                        e->interval_ms = value;
                e->dirty = true;
        }
        pthread_mutex_unlock(&impl.lock);
        if (e)
                request_sync();
}

static void update_handle(int watch, int events) {
        event_update(EVENT_WATCH, watch, events);
}

static void update_timeout(int timer, int interval_ms) {
        event_update(EVENT_TIMER, timer, interval_ms);
}

static int event_remove(EventKind kind, int id) {
        Event *e;

        pthread_mutex_lock(&impl.lock);
        e = event_find_locked(kind, id);
        if (e)
                e->removed = true;
        pthread_mutex_unlock(&impl.lock);
        if (!e)
                return -1;
        request_sync();
        return 0;
}

static int remove_handle(int watch) {
        return event_remove(EVENT_WATCH, watch);
}

static int remove_timeout(int timer) {
        return event_remove(EVENT_TIMER, timer);
}

int libvirt_event_register(sd_event *event, Mailbox *mb) {
        if (impl.loop)
                return -EALREADY;
        impl.loop = sd_event_ref(event);
        impl.mailbox = mb;
        impl.sync_message = (MailboxMessage) { .fn = sync_pending };
        virEventRegisterImpl(add_handle, update_handle, remove_handle,
                             add_timeout, update_timeout, remove_timeout);
        return 0;
}

void libvirt_event_flush(void) {
        if (impl.loop)
                sync_pending(NULL);
}

void libvirt_event_unregister(void) {
        pthread_mutex_lock(&impl.lock);
        impl.mailbox = NULL;
        for (Event *e = impl.events; e; e = e->next)
                e->source = sd_event_source_disable_unref(e->source);
        pthread_mutex_unlock(&impl.lock);
        impl.loop = sd_event_unref(impl.loop);
}
