/* libvirt's event loop callbacks implemented on sd-event */
#pragma once

#include <systemd/sd-event.h>

#include "mailbox.h"

/* Registers the implementation with virEventRegisterImpl(). Call once, on
 * the loop thread, before the first virConnectOpen(). libvirt may add,
 * change and remove watches and timers from any thread (its RPC client does
 * so from whichever thread makes a call): they live in an epoll set of their
 * own (timers as timerfds), which the thread that asks changes at once, and
 * the loop watches that set as one fd, ahead of other sources. Only the
 * release of removed ones goes to the loop, through MB. */
int libvirt_event_register(sd_event *event, Mailbox *mb);

/* Loop thread: release removed watches and timers now (at shutdown, after
 * the last connection is closed). */
void libvirt_event_flush(void);

/* Drops every sd-event source, for a clean exit. */
void libvirt_event_unregister(void);
