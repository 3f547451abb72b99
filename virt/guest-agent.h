/* The guest agent (qemu-ga): its channel, what libvirt reads through it, freeze and thaw */
#pragma once

#include <errno.h>
#include <libvirt/libvirt.h>
#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>

/* The virtio-serial port qemu-ga listens on, as libvirt and QEMU name it. */
#define GUEST_AGENT_CHANNEL "org.qemu.guest_agent.0"
/* How long one agent command may take: a hung agent holds a worker no longer. */
#define GUEST_AGENT_TIMEOUT_SEC 5

typedef enum GuestAgentState {
        GUEST_AGENT_NONE,          /* the domain has no agent channel */
        GUEST_AGENT_DISCONNECTED,  /* it has one, and no agent answers on it now */
        GUEST_AGENT_CONNECTED,
        _GUEST_AGENT_STATE_MAX,
        _GUEST_AGENT_STATE_INVALID = -EINVAL,
} GuestAgentState;

const char *guest_agent_state_to_string(GuestAgentState s);
GuestAgentState guest_agent_state_from_string(const char *s);

/* One address of a guest interface, as GuestAddresses shows it. */
typedef struct GuestAddress {
        char *interface;           /* the guest's name for it: "eth0" */
        char *mac;                 /* "" when the agent says none */
        char *address;             /* "192.0.2.5/24", "fd00::5/64" */
} GuestAddress;

/* What the agent says about its guest; a NULL string: the agent did not say. */
typedef struct GuestInfo {
        char *os_id;               /* "debian" */
        char *os_name;             /* "Debian GNU/Linux" */
        char *os_version;          /* "12 (bookworm)" */
        char *kernel_release;      /* "6.1.0-13-amd64" */
        char *kernel_version;      /* "#1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1" */
        char *hostname;
        char *timezone;            /* "UTC", "CET" */
        int timezone_offset;       /* seconds east of UTC; has_timezone_offset says whether known */
        bool has_timezone_offset;
        char **users;              /* logged in now, NULL-terminated, or NULL */
        GuestAddress *addresses;
        size_t n_addresses;
} GuestInfo;

void guest_info_done(GuestInfo *info);
/* Moves SRC into DST (whose old content is freed); SRC is empty after. */
void guest_info_move(GuestInfo *dst, GuestInfo *src);
/* The parts of GuestInfo (everything but addresses) and the addresses: equal? */
bool guest_info_details_equal(const GuestInfo *a, const GuestInfo *b);
bool guest_info_addresses_equal(const GuestInfo *a, const GuestInfo *b);
bool guest_info_is_empty(const GuestInfo *info);

/* The agent channel among a domain's <devices>, and its state in the live XML. */
GuestAgentState guest_agent_channel_state(xmlNodePtr devices);

/* libvirt's virDomainGetGuestInfo() parameters ("os.id", "hostname",
 * "timezone.name", "user.0.name", ...) into INFO; unknown ones are ignored.
 * Exposed for tests. */
int guest_info_from_params(virTypedParameterPtr params, int n, GuestInfo *info);
/* virDomainInterfaceAddresses() from the agent into INFO's addresses, the
 * loopback interface left out. Exposed for tests. */
int guest_info_from_interfaces(virDomainInterfacePtr *ifaces, int n, GuestInfo *info);

/* Worker thread. Reads what the agent of the running domain UUID says, each
 * command bounded by GUEST_AGENT_TIMEOUT_SEC. -ERRNO_NO_GUEST_AGENT when it
 * is not there or not connected; other -errno with RET_ERROR (may be NULL)
 * set to libvirt's text. */
int guest_info_read(virConnectPtr conn, const char *uuid, GuestInfo *ret, char **ret_error);

/* Worker thread. Freezes (THAW false) or thaws every filesystem of the guest
 * through its agent; RET_COUNT gets how many. Errors as guest_info_read(). */
int guest_fs_freeze(virConnectPtr conn, const char *uuid, bool thaw, unsigned *ret_count, char **ret_error);
