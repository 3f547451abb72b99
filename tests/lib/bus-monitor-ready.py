# /usr/bin/python3 bus-monitor-ready.py PID NAME (python3-gi): waits, at
# most 20 s, until the bus routes the signals of NAME's owner to the
# connection of process PID (a gdbus monitor --dest NAME): the bus lists its
# match rule for them
# (org.freedesktop.DBus.Debug.Stats.GetAllMatchRules). gdbus subscribes to
# the owner's unique name once it has learnt it, so with NAME not owned yet
# the rule proven is the one that follows NAME's owner. Exit status 1 when
# the rule does not show. dbus-broker counts the rules of each peer instead.
import sys
import time

import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

pid, name = int(sys.argv[1]), sys.argv[2]
bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)


def call(method, args, reply, interface="org.freedesktop.DBus"):
    return bus.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", interface, method, args,
                         GLib.VariantType(reply), Gio.DBusCallFlags.NONE, -1, None).unpack()[0]


def broker_subscribed(owned):
    """dbus-broker lists no rules, only how many each peer has: gdbus has one
    on NAME's owner changes, and a second on the owner's signals once it
    learnt the owner."""
    stats = call("GetStats", None, "(a{sv})", "org.freedesktop.DBus.Debug.Stats")
    for _, creds, accounting in stats.get("org.bus1.DBus.Debug.Stats.PeerAccounting", []):
        if creds.get("ProcessID") == pid:
            return accounting.get("Matches", 0) >= (2 if owned else 1)
    return False


def subscribed():
    try:
        want = "sender='%s'" % call("GetNameOwner", GLib.Variant("(s)", (name,)), "(s)")
    except GLib.Error:
        want = "arg0='%s'" % name
    try:
        rules = call("GetAllMatchRules", None, "(a{sas})", "org.freedesktop.DBus.Debug.Stats")
    except GLib.Error as e:
        if "Unimplemented" not in e.message and "UnknownMethod" not in e.message:
            raise
        return broker_subscribed(want.startswith("sender="))
    for conn, conn_rules in rules.items():
        if not any(want in r for r in conn_rules):
            continue
        try:
            if call("GetConnectionUnixProcessID", GLib.Variant("(s)", (conn,)), "(u)") == pid:
                return True
        except GLib.Error:
            pass   # gone meanwhile
    return False


deadline = time.monotonic() + 20
while not subscribed():
    if time.monotonic() > deadline:
        sys.exit("bus-monitor-ready: process %d has no match rule for the signals of %s" % (pid, name))
    time.sleep(0.05)
