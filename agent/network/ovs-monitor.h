/* Watching Open vSwitch: an RFC 7047 "monitor" on the loop that says when to read it again */
#pragma once

typedef struct Manager Manager;
typedef struct OvsMonitor OvsMonitor;

/* Connects to the database at the manager's --ovsdb address, now or, while
 * it is not there, with a backoff of 1 s doubling to 30 s; reconnects and
 * monitors again whenever ovsdb-server goes away. Every update (a bridge
 * made or deleted by ovs-vsctl too) refreshes the networks' view. */
int ovs_monitor_start(Manager *m, OvsMonitor **ret);
OvsMonitor *ovs_monitor_free(OvsMonitor *o);
