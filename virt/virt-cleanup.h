/* Cleanup helpers for libvirt's types, for _cleanup_() */
#pragma once

#include <libvirt/libvirt.h>

#include "macro.h"

/* virConnectClose() and virDomainFree() return a status that a cleanup
 * cannot act on: a reference dropped is dropped. */
static inline void virDomainFreep(virDomainPtr *p) {
        if (*p)
                (void) virDomainFree(*p);
}

static inline void virConnectClosep(virConnectPtr *p) {
        if (*p)
                (void) virConnectClose(*p);
}
