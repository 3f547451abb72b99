/* The errnos whose meaning the agent fixes beyond the kernel's, for libraries to return */
#pragma once

#include <errno.h>

/* agent/bus/bus-error.c turns every -errno into one org.hostagent1.Error.* name, the same in
 * every call. Two meanings have no errno of their own in the kernel's sense, so the agent
 * picks one that nothing else returns; a library that means either returns it (and converts
 * a kernel errno that means it, e.g. a kernel -EBUSY for "the device is held"):
 *
 * Held by something else (a VM's disk, a guest's tap, a volume under another): InUse.
 * Not -EBUSY: on the bus -EBUSY is Busy, "the agent is busy now; retry". */
#define ERRNO_IN_USE ETXTBSY

/* The object is not in a state that allows the request (a stopped VM's console, a volume
 * group that is not the agent's): InvalidState. Not -EPERM, which is AccessDenied: the
 * caller may not do this at all. */
#define ERRNO_INVALID_STATE EBADRQC

/* The VM has no guest agent channel, or its agent is not connected now (a quiesced snapshot or
 * backup, a freeze, a guest query): GuestAgentUnavailable. Not -ENOTCONN, which is libvirt's. */
#define ERRNO_NO_GUEST_AGENT ENOLINK
