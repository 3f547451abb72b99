/* Mailbox: any thread hands a call to the event loop thread */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

typedef struct Mailbox Mailbox;
typedef void (*mailbox_fn)(void *userdata);

/* Messages are owned by the poster and embedded in its own structures, so
 * posting never allocates and cannot fail. A message is queued at most once. */
typedef struct MailboxMessage {
        struct MailboxMessage *next;
        mailbox_fn fn;
        void *userdata;
        bool queued;
} MailboxMessage;

int mailbox_new(sd_event *event, Mailbox **ret);
Mailbox *mailbox_free(Mailbox *mb);

/* Any thread. Returns false when MSG was already waiting to be delivered. */
bool mailbox_post(Mailbox *mb, MailboxMessage *msg);

/* Loop thread, outside mailbox_dispatch(): takes MSG back if it is still
 * waiting, so that the object it is embedded in can be freed. */
void mailbox_cancel(Mailbox *mb, MailboxMessage *msg);

/* Loop thread: deliver everything waiting now (also used at shutdown). */
void mailbox_dispatch(Mailbox *mb);
