/* An Open vSwitch database client on json-c (RFC 7047), for worker threads */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* Reads back-to-back JSON texts from a stream (RFC 7047 has no framing). */
typedef struct OvsdbReader {
        struct json_tokener *tok;
} OvsdbReader;

int ovsdb_reader_init(OvsdbReader *r);
void ovsdb_reader_done(OvsdbReader *r);
/* Feeds SIZE bytes; calls FN with each complete message (FN does not own it). */
int ovsdb_reader_feed(OvsdbReader *r, const char *buf, size_t size, void (*fn)(json_object *msg, void *userdata),
                      void *userdata);

/* Connects to ADDRESS ("unix:/run/openvswitch/db.sock"), NONBLOCKING for the
 * event loop. Returns an fd or -errno. */
int ovsdb_connect(const char *address, bool nonblocking);

/* The reply to MSG when it is the server's "echo" keepalive (which must be
 * answered, or the server hangs up); NULL for any other message. */
json_object *ovsdb_echo_reply(json_object *msg);

/* Runs OPS (an array of RFC 7047 operations, consumed) in one "transact"
 * on the Open_vSwitch database over FD and waits up to TIMEOUT_MS for its
 * reply, answering echo requests meanwhile. Returns 0 with RET_RESULT the
 * reply's result array, or -errno with RET_ERROR the server's reason (an
 * operation's "error" and "details" included). */
int ovsdb_transact(int fd, json_object *ops, unsigned timeout_ms, json_object **ret_result, char **ret_error);

/* One bridge as the database has it. */
typedef struct OvsPort {
        char name[64];
        unsigned tag;            /* 0: untagged (a trunk) */
        char type[32];           /* its interface's type: "", "internal", ... */
} OvsPort;

typedef struct OvsBridge {
        char name[64];
        char datapath_type[16];
        OvsPort *ports;
        size_t n_ports;
} OvsBridge;

typedef struct OvsState {
        bool reachable;
        OvsBridge *bridges;
        size_t n_bridges;
} OvsState;

void ovs_state_done(OvsState *s);
/* Reads the bridges, ports and interfaces in one transaction. */
int ovs_state_read(const char *address, unsigned timeout_ms, OvsState *ret, char **ret_error);
const OvsBridge *ovs_state_bridge(const OvsState *s, const char *name);
const OvsPort *ovs_bridge_port(const OvsBridge *b, const char *name);

/* The changes the network plans make, each one transaction, waiting until
 * ovs-vswitchd has applied it (next_cfg/cur_cfg, as ovs-vsctl --wait). */
/* A bridge with its internal port (the host's own device on it), tagged TAG (0: untagged). */
int ovs_add_bridge(const char *address, const char *name, const char *datapath_type, unsigned tag,
                   unsigned timeout_ms, char **ret_error);
int ovs_del_bridge(const char *address, const char *name, unsigned timeout_ms, char **ret_error);
int ovs_add_port(const char *address, const char *bridge, const char *port, unsigned tag, unsigned timeout_ms,
                 char **ret_error);
int ovs_del_port(const char *address, const char *bridge, const char *port, unsigned timeout_ms, char **ret_error);

/* A bond: one port of several interfaces. MODE is a Linux bonding mode,
 * mapped to OVS's ("active-backup"; "802.3ad" is LACP with balance-tcp;
 * the others balance-slb). */
int ovs_add_bond(const char *address, const char *bridge, const char *port, char *const *slaves, size_t n_slaves,
                 const char *mode, unsigned timeout_ms, char **ret_error);
