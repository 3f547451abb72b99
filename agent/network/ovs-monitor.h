/* Watching Open vSwitch: an RFC 7047 "monitor" on the loop that says when to read it again */
#pragma once

typedef struct Manager Manager;
typedef struct OvsMonitor OvsMonitor;

/* Loop thread: Open vSwitch changed, or the connection to it came or went. */
typedef void (*ovs_monitor_changed_fn)(Manager *m);

/* Connects to the database at the manager's --ovsdb address, now or, while
 * it is not there, with a backoff of 1 s doubling to 30 s; reconnects and
 * monitors again whenever ovsdb-server goes away. Every update (a bridge
 * made or deleted by ovs-vsctl too), and every loss of the connection, is
 * told to CHANGED. */
int ovs_monitor_start(Manager *m, ovs_monitor_changed_fn changed, OvsMonitor **ret);
OvsMonitor *ovs_monitor_free(OvsMonitor *o);
