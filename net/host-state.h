/* The host's links and addresses, as the kernel reports them: one snapshot */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

struct nl_sock;

typedef struct NetLink {
        int ifindex;
        char name[IFNAMSIZ];
        char kind[16];          /* "bridge", "veth", "vlan", "bond", "tun", "openvswitch", "" for hardware */
        int master;             /* ifindex of the bridge or bond it is a port of; 0 */
        unsigned mtu;
        bool up;                /* administratively (IFF_UP) */
        char operstate[16];     /* "up", "down", "lowerlayerdown", "unknown", ... */
        bool carrier;
        char mac[18];
        int speed_mbps;         /* -1 when the driver does not say */
        char **addresses;       /* global addresses as CIDR text */
        size_t n_addresses;
} NetLink;

typedef struct NetHost {
        NetLink *links;
        size_t n_links;
} NetHost;

void net_host_done(NetHost *h);

/* Reads the snapshot through SK: blocks briefly on the kernel (workers). */
int net_host_read(struct nl_sock *sk, NetHost *ret);

/* The snapshot net_host_read() makes of a link cache and an address cache
 * (ADDRS may be NULL). Exposed for tests. */
struct nl_cache;
int net_host_from_caches(struct nl_cache *links, struct nl_cache *addrs, NetHost *ret);

const NetLink *net_host_find(const NetHost *h, const char *name);
const NetLink *net_host_find_index(const NetHost *h, int ifindex);
bool net_link_has_address(const NetLink *l, const char *cidr);

/* A new NETLINK_ROUTE socket, connected. -errno on failure. */
int net_socket_open(struct nl_sock **ret);

/* libnl's negative NLE_* codes as -errno. */
int net_errno(int nle);
