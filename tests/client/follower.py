# A client that follows the agent as its users do: GLib's
# GDBusObjectManagerClient (through python3-gi) on the system bus named by
# DBUS_SYSTEM_BUS_ADDRESS, its proxies fed only by InterfacesAdded,
# InterfacesRemoved and PropertiesChanged. check() compares what the client
# holds with what the agent answers now: its set of objects and interfaces
# with GetManagedObjects, every proxy's cached properties with a fresh GetAll.
import os
import sys
import time
import xml.etree.ElementTree as ET

import gi

gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib  # noqa: E402

NAME = 'org.hostagent1'
ROOT = '/org/hostagent1'
# A generous cap on every wait: the client settles long before, or never.
CAP_SECONDS = 20


class Tap:
    """ok/not ok lines, as the shell tests print them."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def ok(self, what):
        self.passed += 1
        print(f'ok - {what}', flush=True)

    def fail(self, what, details=()):
        self.failed += 1
        print(f'not ok - {what}', flush=True)
        for d in details:
            print(f'#   {d}', flush=True)

    def check(self, cond, what, details=()):
        if cond:
            self.ok(what)
        else:
            self.fail(what, details)
        return cond

    def finish(self):
        print(f'{self.passed} passed, {self.failed} failed', flush=True)
        return 1 if self.failed else 0


def unchanging_properties():
    """(interface, property) pairs the contract says emit no change signal:
    a client's cache of those may lag, so they are not compared."""
    skip = set()
    src = os.environ['HOSTAGENT_SOURCE_DIR']
    for name in sorted(os.listdir(f'{src}/bus-interfaces')):
        for iface in ET.parse(f'{src}/bus-interfaces/{name}').getroot().findall('interface'):
            for prop in iface.findall('property'):
                for a in prop.findall('annotation'):
                    if (a.get('name') == 'org.freedesktop.DBus.Property.EmitsChangedSignal'
                            and a.get('value') == 'false'):
                        skip.add((iface.get('name'), prop.get('name')))
    return skip


def vdict(v):
    """A GVariant dictionary as a dict of its key to its (unwrapped) value."""
    out = {}
    for i in range(v.n_children()):
        entry = v.get_child_value(i)
        key = entry.get_child_value(0).unpack()
        value = entry.get_child_value(1)
        out[key] = value.get_variant() if value.get_type_string() == 'v' else value
    return out


def show(v):
    return v.print_(True) if isinstance(v, GLib.Variant) else repr(v)


class Follower:
    def __init__(self, tap):
        self.tap = tap
        self.ctx = GLib.MainContext.default()
        self.conn = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
        self.skip = unchanging_properties()
        self.events = []      # what the client library told us, in order
        self.signals = []     # (member, args) of the Manager's own signals
        self.reported = set()  # the differences the last step reported
        self.om = Gio.DBusObjectManagerClient.new_sync(
            self.conn, Gio.DBusObjectManagerClientFlags.NONE, NAME, ROOT, None, None, None)
        self.om.connect('object-added', lambda _m, o: self.events.append(
            ('object-added', o.get_object_path(), None, None)))
        self.om.connect('object-removed', lambda _m, o: self.events.append(
            ('object-removed', o.get_object_path(), None, None)))
        self.om.connect('interface-added', lambda _m, o, i: self.events.append(
            ('interface-added', o.get_object_path(), i.get_interface_name(), None)))
        self.om.connect('interface-removed', lambda _m, o, i: self.events.append(
            ('interface-removed', o.get_object_path(), i.get_interface_name(), None)))
        self.om.connect('interface-proxy-properties-changed', self._on_changed)
        self.conn.signal_subscribe(NAME, f'{NAME}.Manager', None, ROOT, None,
                                   Gio.DBusSignalFlags.NONE, self._on_manager_signal)

    def _on_changed(self, _m, obj, proxy, changed, invalidated):
        self.events.append(('changed', obj.get_object_path(), proxy.get_interface_name(),
                            (set(vdict(changed)), set(invalidated))))

    def _on_manager_signal(self, _c, _sender, _path, _iface, member, args):
        self.signals.append((member, args.unpack()))

    # --- the bus, as any client calls it -----------------------------------
    def call(self, path, iface, method, args=None, reply='()'):
        """A method call; returns the unpacked reply, or raises GLib.Error."""
        r = self.conn.call_sync(NAME, path, iface, method, args,
                                GLib.VariantType(reply) if reply else None,
                                Gio.DBusCallFlags.NONE, 120000, None)
        return r.unpack() if r is not None else None

    def manager(self, method, args=None, reply='()'):
        return self.call(ROOT, f'{NAME}.Manager', method, args, reply)

    def set_property(self, path, iface, prop, value):
        self.call(path, 'org.freedesktop.DBus.Properties', 'Set',
                  GLib.Variant('(ssv)', (iface, prop, value)), None)

    # --- the main loop -----------------------------------------------------
    def drain(self):
        while self.ctx.pending():
            self.ctx.iteration(False)

    def pump(self, seconds):
        """Runs the main loop for at most SECONDS (woken early by any event)."""
        done = []
        source = GLib.timeout_add(int(seconds * 1000), lambda: done.append(1) or False)
        self.ctx.iteration(True)
        if not done:
            GLib.source_remove(source)
        self.drain()

    def wait_for_owner(self, owned):
        """Runs the main loop until the client sees the name owned (or not)."""
        deadline = time.monotonic() + CAP_SECONDS
        while (self.om.get_name_owner() is not None) != owned and time.monotonic() < deadline:
            self.pump(0.1)
        return (self.om.get_name_owner() is not None) == owned

    # --- the two views -----------------------------------------------------
    def client_view(self):
        """{path: {interface: {property: GVariant}}} as the client holds it."""
        view = {}
        for obj in self.om.get_objects():
            ifaces = {}
            for proxy in obj.get_interfaces():
                ifaces[proxy.get_interface_name()] = {
                    k: proxy.get_cached_property(k) for k in proxy.get_cached_property_names()}
            view[obj.get_object_path()] = ifaces
        return view

    def managed_objects(self):
        r = self.conn.call_sync(NAME, ROOT, 'org.freedesktop.DBus.ObjectManager', 'GetManagedObjects',
                                None, GLib.VariantType('(a{oa{sa{sv}}})'), Gio.DBusCallFlags.NONE,
                                30000, None)
        return {path: {iface: vdict(props) for iface, props in vdict(ifaces).items()}
                for path, ifaces in vdict(r.get_child_value(0)).items()}

    def get_all(self, path, iface):
        try:
            r = self.conn.call_sync(NAME, path, 'org.freedesktop.DBus.Properties', 'GetAll',
                                    GLib.Variant('(s)', (iface,)), GLib.VariantType('(a{sv})'),
                                    Gio.DBusCallFlags.NONE, 30000, None)
        except GLib.Error as e:
            return f'GetAll fails: {e.message}'
        return vdict(r.get_child_value(0))

    def _compare_props(self, where, iface, have, want):
        diffs = []
        for k in sorted(set(have) | set(want)):
            if (iface, k) in self.skip:
                continue
            if k not in have:
                diffs.append(f'{where}: {iface}.{k} is {show(want[k])} but the client has no value')
            elif k not in want:
                diffs.append(f'{where}: the client has {iface}.{k} = {show(have[k])}, the agent has no such property')
            elif not have[k].equal(want[k]):
                diffs.append(f'{where}: the client has {iface}.{k} = {show(have[k])}, the agent {show(want[k])}')
        return diffs

    def differences(self):
        """What the client holds that the agent does not say now, as text."""
        client = self.client_view()
        getall = {(p, i): self.get_all(p, i) for p, ifaces in client.items() for i in ifaces}
        truth = self.managed_objects()
        self.drain()
        if self.client_view().keys() != client.keys():
            return ['the client was still changing']
        diffs = []
        for path in sorted(set(client) | set(truth)):
            if path not in client:
                diffs.append(f'{path}: in GetManagedObjects ({", ".join(sorted(truth[path]))}), '
                             'not in the client')
                continue
            if path not in truth:
                diffs.append(f'{path}: in the client ({", ".join(sorted(client[path]))}), '
                             'not in GetManagedObjects')
            else:
                have, want = set(client[path]), set(truth[path])
                for i in sorted(want - have):
                    diffs.append(f'{path}: the client lacks interface {i} that GetManagedObjects shows')
                for i in sorted(have - want):
                    diffs.append(f'{path}: the client has interface {i} that GetManagedObjects does not show')
                for i in sorted(have & want):
                    diffs += self._compare_props(f'{path} (GetManagedObjects)', i, client[path][i], truth[path][i])
            for i, cached in sorted(client[path].items()):
                fresh = getall[(path, i)]
                if isinstance(fresh, str):
                    diffs.append(f'{path}: the client has a proxy for {i}; {fresh}')
                else:
                    diffs += self._compare_props(f'{path} (GetAll)', i, cached, fresh)
        return diffs

    # --- a step of a scenario ----------------------------------------------
    def settle(self, step, expect=None, what=None, cap=CAP_SECONDS):
        """After STEP: runs the main loop until EXPECT(view) holds (the effect
        the step should have, as the client sees it) and the client agrees
        with the agent, each at most CAP_SECONDS. Reports both."""
        deadline = time.monotonic() + cap
        met = expect is None
        while not met and time.monotonic() < deadline:
            self.drain()
            met = bool(expect(self.client_view()))
            if not met:
                self.pump(0.1)
        if expect is not None:
            self.tap.check(met, f'{step}: {what}', [f'not seen within {cap} s; the client holds:']
                           + describe(self.client_view()))
        # Differences an earlier step already reported (a ghost the client
        # keeps for good) are not waited out again at every later step.
        diffs = self.differences()
        deadline = time.monotonic() + CAP_SECONDS
        while diffs and not set(diffs) <= self.reported and time.monotonic() < deadline:
            self.pump(0.1)
            diffs = self.differences()
        old = [d for d in diffs if d in self.reported]
        self.tap.check(not diffs, f'{step}: the client equals GetManagedObjects and every GetAll',
                       [d for d in diffs if d not in self.reported]
                       + ([f'and the {len(old)} difference(s) reported at the step before'] if old else []))
        self.reported = set(diffs)
        return met and not diffs

    def mark(self):
        return len(self.events)

    def events_since(self, mark, path=None):
        return [e for e in self.events[mark:] if path is None or e[1] == path]


def describe(view):
    lines = []
    for path, ifaces in sorted(view.items()):
        names = sorted(i for i in ifaces if not i.startswith('org.freedesktop.DBus.'))
        props = []
        for i in names:
            for k in ('Name', 'State', 'Type', 'Result'):
                if k in ifaces[i]:
                    props.append(f'{k}={show(ifaces[i][k])}')
        lines.append(f'  {path} [{", ".join(names) or "no interface of the agent"}] {" ".join(props)}')
    return lines


# --- predicates on a client view --------------------------------------------
def prop(view, path, iface, name):
    v = view.get(path, {}).get(iface, {}).get(name)
    return v.unpack() if v is not None else None


def has(path, iface, **props):
    """The client shows PATH with IFACE and these property values."""
    return lambda view: iface in view.get(path, {}) and all(
        prop(view, path, iface, k) == v for k, v in props.items())


def gone(path):
    return lambda view: path not in view


def find(view, iface, **props):
    """The paths of the client's objects with IFACE and these values."""
    return [p for p, ifaces in view.items() if iface in ifaces and all(
        prop(view, p, iface, k) == v for k, v in props.items())]


def run(scenario):
    tap = Tap()
    try:
        scenario(Follower(tap), tap)
    except Exception as e:  # a scenario that cannot go on is a failure, not a crash
        import traceback
        traceback.print_exc()
        tap.fail(f'the scenario stopped: {e}')
    sys.exit(tap.finish())
