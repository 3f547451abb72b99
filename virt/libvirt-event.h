/* libvirt's event loop callbacks implemented on sd-event */
#pragma once

#include <systemd/sd-event.h>

#include "mailbox.h"

/* Registers the implementation with virEventRegisterImpl(). Call once, on
 * the loop thread, before the first virConnectOpen(). libvirt may add,
 * change and remove watches and timers from any thread (its RPC client does
 * so from whichever thread makes a call); changes are recorded under a lock
 * and applied to sd-event on the loop thread, through MB. */
int libvirt_event_register(sd_event *event, Mailbox *mb);

/* Loop thread: apply pending changes and release removed watches and timers
 * now (at shutdown, after the last connection is closed). */
void libvirt_event_flush(void);

/* Drops every sd-event source, for a clean exit. */
void libvirt_event_unregister(void);
