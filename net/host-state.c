/* The host's links and addresses, as the kernel reports them: one snapshot */
#include "host-state.h"

#include <arpa/inet.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <stdio.h>
#include <stdlib.h>

#include "bus-text.h"
#include "macro.h"
#include "netlink-cleanup.h"

int net_errno(int nle) {
        switch (nle < 0 ? -nle : nle) {
        case 0:
                return 0;
        case NLE_EXIST:
                return -EEXIST;
        case NLE_OBJ_NOTFOUND:
        case NLE_NODEV:
                return -ENODEV;
        case NLE_PERM:
                return -EPERM;
        case NLE_NOMEM:
                return -ENOMEM;
        case NLE_BUSY:
                return -EBUSY;
        case NLE_INVAL:
        case NLE_RANGE:
                return -EINVAL;
        case NLE_OPNOTSUPP:
                return -EOPNOTSUPP;
        case NLE_AF_NOSUPPORT:
                return -EAFNOSUPPORT;
        default:
                return -EIO;
        }
}

int net_socket_open(struct nl_sock **ret) {
        _cleanup_(nl_socket_freep) struct nl_sock *sk = nl_socket_alloc();
        int r;

        if (!sk)
                return -ENOMEM;
        r = nl_connect(sk, NETLINK_ROUTE);
        if (r < 0)
                return net_errno(r);
        *ret = TAKE_PTR(sk);
        return 0;
}

void net_host_done(NetHost *h) {
        for (size_t i = 0; i < h->n_links; i++) {
                for (size_t j = 0; j < h->links[i].n_addresses; j++)
                        free(h->links[i].addresses[j]);
                free(h->links[i].addresses);
        }
        free(h->links);
        *h = (NetHost) {};
}

/* The link speed only sysfs tells (ethtool's ioctl needs a socket per device). */
static int read_speed(const char *name) {
        char path[64], buf[32];
        FILE *f;
        int speed = -1;

        snprintf(path, sizeof path, "/sys/class/net/%s/speed", name);
        f = fopen(path, "re");
        if (!f)
                return -1;
        if (fgets(buf, sizeof buf, f))
                speed = atoi(buf);
        fclose(f);
        return speed > 0 ? speed : -1;
}

typedef struct Fill {
        NetHost *host;
        int r;
} Fill;

static void add_link(struct nl_object *obj, void *userdata) {
        struct rtnl_link *link = (struct rtnl_link *) obj;
        Fill *f = userdata;
        NetLink *l;
        char buf[64];
        struct nl_addr *mac;

        if (f->r < 0)
                return;
        /* A link may also be there as its AF_BRIDGE view, which lacks the kind: the
         * AF_UNSPEC one wins, the other only fills in for a link seen no other way. */
        l = (NetLink *) net_host_find_index(f->host, rtnl_link_get_ifindex(link));
        if (l && rtnl_link_get_family(link) != AF_UNSPEC)
                return;
        if (!l)
                l = &f->host->links[f->host->n_links++];
        *l = (NetLink) { .ifindex = rtnl_link_get_ifindex(link) };
        snprintf(l->name, sizeof l->name, "%s", strempty(rtnl_link_get_name(link)));
        /* The kernel allows any bytes in a name, D-Bus strings do not: a
         * foreign link's name must not break the replies that list it. The
         * agent's own links have plain ASCII names (ifname_valid()). */
        bus_text_make_valid(l->name);
        snprintf(l->kind, sizeof l->kind, "%s", strempty(rtnl_link_get_type(link)));
        l->master = rtnl_link_get_master(link);
        l->mtu = rtnl_link_get_mtu(link);
        l->up = rtnl_link_get_flags(link) & IFF_UP;
        rtnl_link_operstate2str(rtnl_link_get_operstate(link), buf, sizeof buf);
        snprintf(l->operstate, sizeof l->operstate, "%.15s", buf);
        l->carrier = rtnl_link_get_carrier(link);
        mac = rtnl_link_get_addr(link);
        if (mac && nl_addr_get_len(mac) == 6) {
                const unsigned char *b = nl_addr_get_binary_addr(mac);
                snprintf(l->mac, sizeof l->mac, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
        }
        l->speed_mbps = read_speed(l->name);
}

static void add_address(struct nl_object *obj, void *userdata) {
        struct rtnl_addr *a = (struct rtnl_addr *) obj;
        Fill *f = userdata;
        NetLink *l = (NetLink *) net_host_find_index(f->host, rtnl_addr_get_ifindex(a));
        struct nl_addr *local = rtnl_addr_get_local(a);
        char ip[INET6_ADDRSTRLEN], *cidr, **grown;
        int family = rtnl_addr_get_family(a);

        /* Link-local and host addresses are the kernel's, not configuration. */
        if (f->r < 0 || !l || !local || rtnl_addr_get_scope(a) != RT_SCOPE_UNIVERSE ||
            (family != AF_INET && family != AF_INET6))
                return;
        if (!inet_ntop(family, nl_addr_get_binary_addr(local), ip, sizeof ip))
                return;
        if (asprintf(&cidr, "%s/%d", ip, rtnl_addr_get_prefixlen(a)) < 0) {
                f->r = -ENOMEM;
                return;
        }
        grown = realloc(l->addresses, (l->n_addresses + 1) * sizeof(char *));
        if (!grown) {
                free(cidr);
                f->r = -ENOMEM;
                return;
        }
        l->addresses = grown;
        l->addresses[l->n_addresses++] = cidr;
}

int net_host_from_caches(struct nl_cache *links, struct nl_cache *addrs, NetHost *ret) {
        NetHost h = {};
        Fill f = { .host = &h };

        h.links = calloc((size_t) nl_cache_nitems(links) + 1, sizeof(NetLink));
        if (!h.links)
                return -ENOMEM;
        nl_cache_foreach(links, add_link, &f);
        if (addrs)
                nl_cache_foreach(addrs, add_address, &f);
        if (f.r < 0) {
                net_host_done(&h);
                return f.r;
        }
        *ret = h;
        return 0;
}

int net_host_read(struct nl_sock *sk, NetHost *ret) {
        _cleanup_(nl_cache_freep) struct nl_cache *links = NULL, *addrs = NULL;
        int r;

        r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &links);
        if (r >= 0)
                r = rtnl_addr_alloc_cache(sk, &addrs);
        return r < 0 ? net_errno(r) : net_host_from_caches(links, addrs, ret);
}

const NetLink *net_host_find(const NetHost *h, const char *name) {
        for (size_t i = 0; i < h->n_links; i++)
                if (streq(h->links[i].name, name))
                        return &h->links[i];
        return NULL;
}

const NetLink *net_host_find_index(const NetHost *h, int ifindex) {
        for (size_t i = 0; i < h->n_links; i++)
                if (h->links[i].ifindex == ifindex)
                        return &h->links[i];
        return NULL;
}

bool net_link_has_address(const NetLink *l, const char *cidr) {
        for (size_t i = 0; i < l->n_addresses; i++)
                if (streq(l->addresses[i], cidr))
                        return true;
        return false;
}
