/* libvirt's event loop callbacks implemented on sd-event */
#include "libvirt-event.h"

#include <libvirt/libvirt.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>

#include "log.h"
#include "macro.h"

/* Rounds of one dispatch: libvirt's socket handler queues an event and arms
 * a zero timer that delivers it; the next round runs that timer, so an event
 * reaches its callback in the same wake-up that read it. */
#define DISPATCH_ROUNDS 8
#define DISPATCH_BATCH 16
#define ZERO_TIMERS_MAX 16

typedef enum EventKind { EVENT_WATCH, EVENT_TIMER } EventKind;

/* One watch or timer as libvirt asked for it. Every field is read and
 * written under the lock; the kernel objects (the epoll set, the timerfds)
 * are changed right away by whichever thread asks, as they may be from any
 * thread: nothing waits for the loop to apply a change. */
typedef struct Event {
        struct Event *next;
        EventKind kind;
        int id;
        int fd;             /* watches: libvirt's fd; timers: our timerfd */
        int events;         /* watches: VIR_EVENT_HANDLE_* wanted */
        uint32_t in_set;    /* watches: the epoll events the set has for FD, 0 when not in it */
        int interval_ms;    /* timers: -1 off, 0 every iteration, >0 period */
        union {
                virEventHandleCallback handle_cb;
                virEventTimeoutCallback timeout_cb;
        };
        void *opaque;
        virFreeCallback ff;
        bool removed;       /* libvirt let go; FF runs on the loop, later */
} Event;

static struct {
        pthread_mutex_t lock;
        Event *events;
        int next_id;
        int epoll_fd;       /* libvirt's watches and timers; the loop watches this one fd */
        int kick_fd;        /* in the set: a zero timer was armed outside a dispatch */
        bool dispatching;   /* loop thread: inside on_epoll() */
        pthread_t loop_thread;
        sd_event *loop;
        sd_event_source *source;
        Mailbox *mailbox;
        MailboxMessage release_message;
} impl = { .lock = PTHREAD_MUTEX_INITIALIZER, .next_id = 1, .epoll_fd = -1, .kick_fd = -1 };

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

static int close_fd(int fd) {
        if (fd >= 0)
                close(fd);
        return -1;
}

static void kick_locked(void) {
        const uint64_t one = 1;

        if (impl.kick_fd >= 0)
                (void) write(impl.kick_fd, &one, sizeof one);
}

static bool fd_watched_by_other_locked(const Event *e) {
        for (const Event *o = impl.events; o; o = o->next)
                if (o != e && o->kind == EVENT_WATCH && !o->removed && o->fd == e->fd && o->in_set != 0)
                        return true;
        return false;
}

/* Lock held, any thread. A watch that wants nothing leaves the set: epoll
 * reports a hangup even to an fd that asks for no events, and the thread
 * that turned it off (libvirt's RPC client does so while it reads the
 * socket itself) must not make the loop spin. Turning the watch off and on
 * again around one RPC, as libvirt does, wakes nobody. */
static int watch_apply_locked(Event *e) {
        uint32_t want = e->removed ? 0 : epoll_events_from_virt(e->events);
        struct epoll_event ev = { .events = want, .data.ptr = e };
        int op;

        if (want == e->in_set || impl.epoll_fd < 0)
                return 0;
        op = want == 0 ? EPOLL_CTL_DEL : e->in_set == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
        /* libvirt closed this fd before letting go of it, and a newer watch has
         * its number: the old entry left the set with the file, and a delete
         * now would take the newer one's. */
        if (op == EPOLL_CTL_DEL && fd_watched_by_other_locked(e)) {
                e->in_set = 0;
                return 0;
        }
        /* A delete after libvirt closed the fd: the entry already left with the file. */
        if (epoll_ctl(impl.epoll_fd, op, e->fd, &ev) < 0 &&
            !(op == EPOLL_CTL_DEL && (errno == EBADF || errno == ENOENT)))
                return -errno;
        e->in_set = want;
        return 0;
}

/* Lock held, any thread. A period runs on the timerfd; a zero timer runs in
 * every dispatch round (and the kick brings the loop to it). */
static int timer_apply_locked(Event *e) {
        uint64_t ns = e->interval_ms > 0 ? (uint64_t) e->interval_ms * 1000000ULL : 0;
        struct timespec ts = { .tv_sec = ns / 1000000000ULL, .tv_nsec = ns % 1000000000ULL };
        struct itimerspec spec = { .it_value = ts, .it_interval = ts };

        if (timerfd_settime(e->fd, 0, &spec, NULL) < 0)
                return -errno;
        if (e->interval_ms == 0 && !e->removed &&
            !(pthread_equal(pthread_self(), impl.loop_thread) && impl.dispatching))
                kick_locked();
        return 0;
}

static void event_apply_locked(Event *e) {
        int r = e->kind == EVENT_WATCH ? watch_apply_locked(e) : timer_apply_locked(e);

        if (r < 0)
                log_error_errno(r, "Cannot watch libvirt %s %d: %m",
                                e->kind == EVENT_WATCH ? "fd" : "timer", e->id);
}

/* Loop thread: one ready watch or timer. The callback runs without the lock
 * (libvirt re-enters us from inside it); E is freed only by release_removed(),
 * a later dispatch of its own. */
static void event_dispatch(Event *e, uint32_t revents) {
        virEventHandleCallback handle_cb = NULL;
        virEventTimeoutCallback timeout_cb = NULL;
        void *opaque;
        uint64_t expirations;
        int id, fd, events = 0;

        pthread_mutex_lock(&impl.lock);
        fd = e->fd;
        if (e->removed) {
                pthread_mutex_unlock(&impl.lock);
                return;
        }
        if (e->kind == EVENT_TIMER) {
                (void) read(e->fd, &expirations, sizeof expirations);
                if (e->interval_ms >= 0)
                        timeout_cb = e->timeout_cb;
        } else {
                /* Collected before another thread turned it off: not libvirt's now. */
                events = virt_events_from_epoll(revents) &
                         (e->events | VIR_EVENT_HANDLE_ERROR | VIR_EVENT_HANDLE_HANGUP);
                if (e->events != 0 && events != 0)
                        handle_cb = e->handle_cb;
        }
        opaque = e->opaque;
        id = e->id;
        pthread_mutex_unlock(&impl.lock);

        if (handle_cb)
                handle_cb(id, fd, events, opaque);
        else if (timeout_cb)
                timeout_cb(id, opaque);
}

/* Loop thread: every zero timer, once. Returns how many ran. */
static size_t dispatch_zero_timers(void) {
        int ids[ZERO_TIMERS_MAX];
        size_t n = 0, ran = 0;

        pthread_mutex_lock(&impl.lock);
        for (Event *e = impl.events; e && n < ELEMENTSOF(ids); e = e->next)
                if (e->kind == EVENT_TIMER && !e->removed && e->interval_ms == 0)
                        ids[n++] = e->id;
        pthread_mutex_unlock(&impl.lock);

        for (size_t i = 0; i < n; i++) {
                virEventTimeoutCallback cb = NULL;
                void *opaque = NULL;
                Event *e;

                /* An earlier callback may have changed or removed it. */
                pthread_mutex_lock(&impl.lock);
                e = event_find_locked(EVENT_TIMER, ids[i]);
                if (e && e->interval_ms == 0) {
                        cb = e->timeout_cb;
                        opaque = e->opaque;
                }
                pthread_mutex_unlock(&impl.lock);
                if (cb) {
                        cb(ids[i], opaque);
                        ran++;
                }
        }
        return ran;
}

static bool zero_timers_armed(void) {
        bool armed = false;

        pthread_mutex_lock(&impl.lock);
        for (Event *e = impl.events; e && !armed; e = e->next)
                armed = e->kind == EVENT_TIMER && !e->removed && e->interval_ms == 0;
        if (armed)
                kick_locked();   /* "every iteration": come back on the next one */
        pthread_mutex_unlock(&impl.lock);
        return armed;
}

/* One wake-up of the loop: what is ready, then what that made ready. */
static int on_epoll(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct epoll_event ready[DISPATCH_BATCH];
        uint64_t kicks;

        impl.dispatching = true;
        for (unsigned round = 0; round < DISPATCH_ROUNDS; round++) {
                int n = epoll_wait(fd, ready, ELEMENTSOF(ready), 0);
                size_t ran = 0;

                for (int i = 0; i < n; i++) {
                        if (ready[i].data.ptr == &impl.kick_fd)
                                (void) read(impl.kick_fd, &kicks, sizeof kicks);
                        else
                                event_dispatch(ready[i].data.ptr, ready[i].events);
                }
                ran = dispatch_zero_timers();
                if (n <= 0 && ran == 0)
                        break;
        }
        impl.dispatching = false;
        (void) zero_timers_armed();
        return 0;
}

typedef struct Release {
        virFreeCallback ff;
        void *opaque;
} Release;

/* Loop thread, outside libvirt's calls into us (libvirt requires its free
 * callbacks there): forgets the removed watches and timers. */
static void release_removed(void *userdata) {
        Release releases[64];
        size_t n_releases;

        do {
                n_releases = 0;
                pthread_mutex_lock(&impl.lock);
                for (Event **p = &impl.events; *p;) {
                        Event *e = *p;

                        if (e->removed && n_releases < ELEMENTSOF(releases)) {
                                *p = e->next;
                                if (e->ff)
                                        releases[n_releases++] = (Release) { e->ff, e->opaque };
                                free(e);
                                continue;
                        }
                        p = &e->next;
                }
                pthread_mutex_unlock(&impl.lock);

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
        *e = *template;
        if (e->kind == EVENT_TIMER) {
                e->fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
                if (e->fd < 0) {
                        free(e);
                        return -1;
                }
        }
        pthread_mutex_lock(&impl.lock);
        e->id = id = impl.next_id++;
        e->next = impl.events;
        impl.events = e;
        if (e->kind == EVENT_TIMER && impl.epoll_fd >= 0 &&
            epoll_ctl(impl.epoll_fd, EPOLL_CTL_ADD, e->fd, &(struct epoll_event) { EPOLLIN, { .ptr = e } }) < 0)
                log_error_errno(-errno, "Cannot watch libvirt timer %d: %m", id);
        event_apply_locked(e);
        pthread_mutex_unlock(&impl.lock);
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
        if (e && kind == EVENT_WATCH && e->events != value) {
                e->events = value;
                event_apply_locked(e);
        } else if (e && kind == EVENT_TIMER) {
                e->interval_ms = value;
                event_apply_locked(e);
        }
        pthread_mutex_unlock(&impl.lock);
}

static void update_handle(int watch, int events) {
        event_update(EVENT_WATCH, watch, events);
}

static void update_timeout(int timer, int interval_ms) {
        event_update(EVENT_TIMER, timer, interval_ms);
}

static int event_remove(EventKind kind, int id) {
        Mailbox *mb;
        Event *e;

        pthread_mutex_lock(&impl.lock);
        e = event_find_locked(kind, id);
        if (e) {
                e->removed = true;
                if (kind == EVENT_WATCH)
                        event_apply_locked(e);
                else
                        e->fd = close_fd(e->fd);   /* leaves the set with it */
        }
        mb = impl.mailbox;
        pthread_mutex_unlock(&impl.lock);
        if (!e)
                return -1;
        /* After unregister (at exit) there is no loop left: libvirt_event_flush() releases. */
        if (mb)
                mailbox_post(mb, &impl.release_message);
        return 0;
}

static int remove_handle(int watch) {
        return event_remove(EVENT_WATCH, watch);
}

static int remove_timeout(int timer) {
        return event_remove(EVENT_TIMER, timer);
}

static int epoll_set_new(void) {
        impl.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (impl.epoll_fd < 0)
                return -errno;
        impl.kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (impl.kick_fd < 0)
                return -errno;
        if (epoll_ctl(impl.epoll_fd, EPOLL_CTL_ADD, impl.kick_fd,
                      &(struct epoll_event) { EPOLLIN, { .ptr = &impl.kick_fd } }) < 0)
                return -errno;
        return 0;
}

static void epoll_set_close(void) {
        pthread_mutex_lock(&impl.lock);
        impl.epoll_fd = close_fd(impl.epoll_fd);
        impl.kick_fd = close_fd(impl.kick_fd);
        pthread_mutex_unlock(&impl.lock);
}

int libvirt_event_register(sd_event *event, Mailbox *mb) {
        int r;

        if (impl.loop)
                return -EALREADY;
        r = epoll_set_new();
        if (r >= 0)
                r = sd_event_add_io(event, &impl.source, impl.epoll_fd, EPOLLIN, on_epoll, NULL);
        /* libvirt's news first: a lifecycle event goes out before the replies and
         * worker completions that became ready in the same wake-up. */
        if (r >= 0)
                r = sd_event_source_set_priority(impl.source, SD_EVENT_PRIORITY_IMPORTANT);
        if (r < 0) {
                impl.source = sd_event_source_disable_unref(impl.source);
                epoll_set_close();
                return r;
        }
        (void) sd_event_source_set_description(impl.source, "libvirt");
        impl.loop = sd_event_ref(event);
        impl.loop_thread = pthread_self();
        impl.mailbox = mb;
        impl.release_message = (MailboxMessage) { .fn = release_removed };
        virEventRegisterImpl(add_handle, update_handle, remove_handle,
                             add_timeout, update_timeout, remove_timeout);
        return 0;
}

void libvirt_event_flush(void) {
        if (impl.loop)
                release_removed(NULL);
}

void libvirt_event_unregister(void) {
        pthread_mutex_lock(&impl.lock);
        impl.mailbox = NULL;
        pthread_mutex_unlock(&impl.lock);
        impl.source = sd_event_source_disable_unref(impl.source);
        /* A thread stuck in libvirt may still change its watches: into nothing. */
        epoll_set_close();
        impl.loop = sd_event_unref(impl.loop);
}
