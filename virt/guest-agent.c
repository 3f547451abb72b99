/* The guest agent (qemu-ga): its channel, what libvirt reads through it, freeze and thaw */
#include "guest-agent.h"

#include <libvirt/virterror.h>
#include <stdio.h>

#include "agent-errno.h"
#include "bus-text.h"
#include "libvirt-error.h"
#include "macro.h"
#include "strv.h"
#include "virt-cleanup.h"
#include "vm-xml.h"

static const char *const guest_agent_state_table[_GUEST_AGENT_STATE_MAX] = {
        [GUEST_AGENT_NONE] = "none",
        [GUEST_AGENT_DISCONNECTED] = "disconnected",
        [GUEST_AGENT_CONNECTED] = "connected",
};

DEFINE_STRING_TABLE_LOOKUP(guest_agent_state, GuestAgentState)

static void guest_addresses_free(GuestAddress *a, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(a[i].interface);
                free(a[i].mac);
                free(a[i].address);
        }
        free(a);
}

void guest_info_done(GuestInfo *info) {
        free(info->os_id);
        free(info->os_name);
        free(info->os_version);
        free(info->kernel_release);
        free(info->kernel_version);
        free(info->hostname);
        free(info->timezone);
        strv_free(info->users);
        guest_addresses_free(info->addresses, info->n_addresses);
        *info = (GuestInfo) {};
}

void guest_info_move(GuestInfo *dst, GuestInfo *src) {
        guest_info_done(dst);
        *dst = *src;
        *src = (GuestInfo) {};
}

bool guest_info_details_equal(const GuestInfo *a, const GuestInfo *b) {
        return streq_ptr(a->os_id, b->os_id) && streq_ptr(a->os_name, b->os_name) &&
               streq_ptr(a->os_version, b->os_version) && streq_ptr(a->kernel_release, b->kernel_release) &&
               streq_ptr(a->kernel_version, b->kernel_version) && streq_ptr(a->hostname, b->hostname) &&
               streq_ptr(a->timezone, b->timezone) && a->has_timezone_offset == b->has_timezone_offset &&
               a->timezone_offset == b->timezone_offset && strv_equal(a->users, b->users);
}

bool guest_info_addresses_equal(const GuestInfo *a, const GuestInfo *b) {
        if (a->n_addresses != b->n_addresses)
                return false;
        for (size_t i = 0; i < a->n_addresses; i++)
                if (!streq(a->addresses[i].interface, b->addresses[i].interface) ||
                    !streq(a->addresses[i].mac, b->addresses[i].mac) ||
                    !streq(a->addresses[i].address, b->addresses[i].address))
                        return false;
        return true;
}

bool guest_info_is_empty(const GuestInfo *info) {
        static const GuestInfo empty = {};

        return guest_info_details_equal(info, &empty) && info->n_addresses == 0;
}

GuestAgentState guest_agent_channel_state(xmlNodePtr devices) {
        for (xmlNodePtr c = devices ? devices->children : NULL; c; c = c->next) {
                _cleanup_(freep) char *type = NULL, *name = NULL, *state = NULL;
                xmlNodePtr target;

                if (c->type != XML_ELEMENT_NODE || !xmlStrEqual(c->name, BAD_CAST "channel"))
                        continue;
                target = vm_xml_child(c, "target");
                type = vm_xml_prop(target, "type");
                name = vm_xml_prop(target, "name");
                if (!streq_ptr(type, "virtio") || !streq_ptr(name, GUEST_AGENT_CHANNEL))
                        continue;
                /* Only the live XML of a running domain says "connected". */
                state = vm_xml_prop(target, "state");
                return streq_ptr(state, "connected") ? GUEST_AGENT_CONNECTED : GUEST_AGENT_DISCONNECTED;
        }
        return GUEST_AGENT_NONE;
}

/* A string of the agent's, made safe for D-Bus. */
static int set_text(char **field, const virTypedParameter *p) {
        char *copy;

        if (p->type != VIR_TYPED_PARAM_STRING)
                return 0;
        copy = bus_text_dup(strempty(p->value.s));
        if (!copy)
                return -ENOMEM;
        free(*field);
        *field = copy;
        return 0;
}

static int add_user(GuestInfo *info, const virTypedParameter *p) {
        size_t n = strv_length(info->users);
        char **grown, *name;

        if (p->type != VIR_TYPED_PARAM_STRING)
                return 0;
        grown = realloc(info->users, (n + 2) * sizeof(char *));
        if (!grown)
                return -ENOMEM;
        info->users = grown;
        name = bus_text_dup(strempty(p->value.s));
        if (!name)
                return -ENOMEM;
        grown[n] = name;
        grown[n + 1] = NULL;
        return 0;
}

/* "user.3.name": a logged-in user's name. */
static bool is_user_name(const char *field) {
        const char *end;

        if (strncmp(field, "user.", 5) != 0)
                return false;
        end = field + 5 + strspn(field + 5, "0123456789");
        return end > field + 5 && streq(end, ".name");
}

int guest_info_from_params(virTypedParameterPtr params, int n, GuestInfo *info) {
        static const struct {
                const char *field;
                size_t offset;
        } texts[] = {
                { "os.id", offsetof(GuestInfo, os_id) },
                { "os.name", offsetof(GuestInfo, os_name) },
                { "os.version", offsetof(GuestInfo, os_version) },
                { "os.kernel-release", offsetof(GuestInfo, kernel_release) },
                { "os.kernel-version", offsetof(GuestInfo, kernel_version) },
                { "hostname", offsetof(GuestInfo, hostname) },
                { "timezone.name", offsetof(GuestInfo, timezone) },
        };
        int r = 0;

        for (int i = 0; r >= 0 && i < n; i++) {
                const virTypedParameter *p = &params[i];

                for (size_t t = 0; t < ELEMENTSOF(texts); t++)
                        if (streq(p->field, texts[t].field))
                                r = set_text((char **) ((char *) info + texts[t].offset), p);
                if (streq(p->field, "timezone.offset") && p->type == VIR_TYPED_PARAM_INT) {
                        info->timezone_offset = p->value.i;
                        info->has_timezone_offset = true;
                } else if (is_user_name(p->field))
                        r = add_user(info, p);
        }
        return r;
}

static int add_address(GuestInfo *info, const char *iface, const char *mac, const char *addr, unsigned prefix) {
        GuestAddress *grown, *a;
        char text[128];

        grown = realloc(info->addresses, (info->n_addresses + 1) * sizeof *grown);
        if (!grown)
                return -ENOMEM;
        info->addresses = grown;
        a = &grown[info->n_addresses];
        snprintf(text, sizeof text, "%s/%u", addr, prefix);
        *a = (GuestAddress) {
                .interface = bus_text_dup(iface),
                .mac = bus_text_dup(strempty(mac)),
                .address = bus_text_dup(text),
        };
        info->n_addresses++;
        return a->interface && a->mac && a->address ? 0 : -ENOMEM;
}

int guest_info_from_interfaces(virDomainInterfacePtr *ifaces, int n, GuestInfo *info) {
        int r = 0;

        for (int i = 0; r >= 0 && i < n; i++) {
                const virDomainInterface *f = ifaces[i];

                if (!f->name || streq(f->name, "lo"))
                        continue;
                for (unsigned j = 0; r >= 0 && j < f->naddrs; j++)
                        if (f->addrs[j].addr)
                                r = add_address(info, f->name, f->hwaddr, f->addrs[j].addr, f->addrs[j].prefix);
        }
        return r;
}

/* libvirt's error after an agent command: an agent that is not configured,
 * not connected or not answering is GuestAgentUnavailable. */
static int agent_error_take(char **ret_error) {
        virErrorPtr e = virGetLastError();

        if (e && (e->code == VIR_ERR_AGENT_UNRESPONSIVE || e->code == VIR_ERR_AGENT_UNSYNCED ||
                  (e->code == VIR_ERR_ARGUMENT_UNSUPPORTED && e->message &&
                   strstr(e->message, "guest agent is not configured")))) {
                (void) libvirt_error_take(ret_error);
                return -ERRNO_NO_GUEST_AGENT;
        }
        return libvirt_error_take(ret_error);
}

/* The domain, with its agent commands bounded by GUEST_AGENT_TIMEOUT_SEC. */
static int agent_domain(virConnectPtr conn, const char *uuid, virDomainPtr *ret, char **ret_error) {
        virDomainPtr dom = virDomainLookupByUUIDString(conn, uuid);

        if (!dom)
                return libvirt_error_take(ret_error);
        if (virDomainAgentSetResponseTimeout(dom, GUEST_AGENT_TIMEOUT_SEC, 0) < 0)
                virResetLastError();   /* a driver without it (test): its calls do not wait */
        *ret = dom;
        return 0;
}

static int read_details(virDomainPtr dom, GuestInfo *info, char **ret_error) {
        virTypedParameterPtr params = NULL;
        int n = 0, r;

        if (virDomainGetGuestInfo(dom, VIR_DOMAIN_GUEST_INFO_OS | VIR_DOMAIN_GUEST_INFO_HOSTNAME |
                                  VIR_DOMAIN_GUEST_INFO_TIMEZONE | VIR_DOMAIN_GUEST_INFO_USERS,
                                  &params, &n, 0) < 0)
                return agent_error_take(ret_error);
        r = guest_info_from_params(params, n, info);
        virTypedParamsFree(params, n);
        return r;
}

static int read_addresses(virDomainPtr dom, GuestInfo *info, char **ret_error) {
        virDomainInterfacePtr *ifaces = NULL;
        int n, r;

        n = virDomainInterfaceAddresses(dom, &ifaces, VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT, 0);
        if (n < 0)
                return agent_error_take(ret_error);
        r = guest_info_from_interfaces(ifaces, n, info);
        for (int i = 0; i < n; i++)
                virDomainInterfaceFree(ifaces[i]);
        free(ifaces);
        return r;
}

int guest_info_read(virConnectPtr conn, const char *uuid, GuestInfo *ret, char **ret_error) {
        _cleanup_(virDomainFreep) virDomainPtr dom = NULL;
        GuestInfo info = {};
        int r;

        r = agent_domain(conn, uuid, &dom, ret_error);
        if (r >= 0)
                r = read_details(dom, &info, ret_error);
        if (r >= 0)
                r = read_addresses(dom, &info, ret_error);
        if (r < 0) {
                guest_info_done(&info);
                return r;
        }
        guest_info_move(ret, &info);
        return 0;
}

int guest_fs_freeze(virConnectPtr conn, const char *uuid, bool thaw, unsigned *ret_count, char **ret_error) {
        _cleanup_(virDomainFreep) virDomainPtr dom = NULL;
        int r;

        r = agent_domain(conn, uuid, &dom, ret_error);
        if (r < 0)
                return r;
        /* Every mount point (NULL): qemu-ga cannot thaw one alone. */
        r = thaw ? virDomainFSThaw(dom, NULL, 0, 0) : virDomainFSFreeze(dom, NULL, 0, 0);
        if (r < 0)
                return agent_error_take(ret_error);
        *ret_count = (unsigned) r;
        return 0;
}
