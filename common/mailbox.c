/* Mailbox: any thread hands a call to the event loop thread */
#include "mailbox.h"

#include <pthread.h>
#include <stdint.h>
#include <sys/eventfd.h>

#include "macro.h"

struct Mailbox {
        pthread_mutex_t lock;
        MailboxMessage *head, *tail;
        int eventfd;
        sd_event_source *source;
};

static int on_eventfd(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        uint64_t value;

        /* Drain the counter first: posts that race with delivery re-arm it. */
        (void) read(fd, &value, sizeof value);
        mailbox_dispatch(userdata);
        return 0;
}

int mailbox_new(sd_event *event, Mailbox **ret) {
        Mailbox *mb;
        int r;

        mb = calloc(1, sizeof *mb);
        if (!mb)
                return -ENOMEM;
        pthread_mutex_init(&mb->lock, NULL);
        mb->eventfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (mb->eventfd < 0) {
                r = -errno;
                mailbox_free(mb);
                return r;
        }
        r = sd_event_add_io(event, &mb->source, mb->eventfd, EPOLLIN, on_eventfd, mb);
        if (r < 0) {
                mailbox_free(mb);
                return r;
        }
        (void) sd_event_source_set_description(mb->source, "mailbox");
        *ret = mb;
        return 0;
}

Mailbox *mailbox_free(Mailbox *mb) {
        if (!mb)
                return NULL;
        sd_event_source_disable_unref(mb->source);
        if (mb->eventfd >= 0)
                close(mb->eventfd);
        pthread_mutex_destroy(&mb->lock);
        free(mb);
        return NULL;
}

bool mailbox_post(Mailbox *mb, MailboxMessage *msg) {
        const uint64_t one = 1;
        bool posted = false;

        pthread_mutex_lock(&mb->lock);
        if (!msg->queued) {
                msg->queued = true;
                msg->next = NULL;
                if (mb->tail)
                        mb->tail->next = msg;
                else
                        mb->head = msg;
                mb->tail = msg;
                posted = true;
        }
        pthread_mutex_unlock(&mb->lock);
        if (posted)
                (void) write(mb->eventfd, &one, sizeof one);
        return posted;
}

void mailbox_cancel(Mailbox *mb, MailboxMessage *msg) {
        MailboxMessage *prev = NULL;

        pthread_mutex_lock(&mb->lock);
        for (MailboxMessage *m = mb->head; m; prev = m, m = m->next) {
                if (m != msg)
                        continue;
                if (prev)
                        prev->next = m->next;
                else
                        mb->head = m->next;
                if (mb->tail == m)
                        mb->tail = prev;
                m->queued = false;
                break;
        }
        pthread_mutex_unlock(&mb->lock);
}

void mailbox_dispatch(Mailbox *mb) {
        MailboxMessage *list;

        pthread_mutex_lock(&mb->lock);
        list = mb->head;
        mb->head = mb->tail = NULL;
        pthread_mutex_unlock(&mb->lock);

        while (list) {
                MailboxMessage *m = list;

                /* A message stays marked queued until its own turn: posting it
                 * again re-links its NEXT, so that must be read first, and only
                 * then may other threads post it anew (into the next batch). */
                list = m->next;
                pthread_mutex_lock(&mb->lock);
                m->queued = false;
                pthread_mutex_unlock(&mb->lock);
                m->fn(m->userdata);
        }
}
