# Host networks over the bus, in a network namespace of the test's own with
# veth pairs as uplinks: Linux bridges created, changed and removed with `ip`
# and `bridge` as oracles; transactions that fail at their first, middle and
# last step, a kernel refusal, a missed confirmation and a crash mid-way all
# leave the host as it was; drift made by `ip` shows on the bus; a restart
# brings lost networks back.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
set +e

netns_start net || exit 1
for i in 0 1 2; do ip -n "$NETNS" link add "up$i" type veth peer name "up${i}peer"; done
# up1 is an uplink as on a host: up, with a carrier. (A link that has once been up keeps
# its queueing discipline: no transaction could give a never-used device back its "noop".)
ip -n "$NETNS" link set up0peer up
ip -n "$NETNS" link set up1peer up
ip -n "$NETNS" link set up1 up

bus_start
DAEMON_PREFIX=(ip netns exec "$NETNS")
# An OVSDB address where nothing listens: Open vSwitch is "not running" for this test.
start() { daemon_start --libvirt-uri=test:///default --ovsdb="unix:$T/no-ovsdb.sock" "$@"; }
start
B="busctl --system"
N=/org/hostagent1/network
setup() { manager_call SetupNetworks "$(gv_string "$1")" "${2:-{\}}"; }
nprop() { $B get-property org.hostagent1 "$N/$1" org.hostagent1.Network "$2" 2>&1; }
# The host as the oracles print it, minus the bridge timers that tick by themselves,
# once it has settled (IPv6 link-local addresses come a moment after a link is up).
raw_snapshot() {
        { ip -n "$NETNS" -d addr; ip netns exec "$NETNS" bridge link; } |
                sed -E -e 's/ [a-z_]+_timer +[0-9.]+//g' -e 's/ tentative//'
}
snapshot() {
        local a b
        b=$(raw_snapshot)
        for _ in $(seq 40); do
                sleep 0.25; a=$b; b=$(raw_snapshot)
                [ "$a" = "$b" ] && break
        done
        echo "$b"
}
assert_same_host() {   # expected description
        local now
        now=$(snapshot)
        if [ "$1" = "$now" ]; then ok "$2"; else fail "$2; the difference:"; diff <(echo "$1") <(echo "$now"); fi
}
link_of() { ip -n "$NETNS" -d link show "$1" 2>&1; }

# Bad desired states: named errors, nothing touched.
before=$(snapshot)
while IFS='|' read -r name want desired; do
        [ -n "$name" ] || continue
        out=$(setup "$desired")
        case "$out" in
        *"$name"*"$want"*) ok "SetupNetworks refuses: $want" ;;
        *) fail "SetupNetworks $desired: wanted $name '$want', got: $out" ;;
        esac
done <<'CASES'
Error.InvalidSpec|desired: not valid JSON|{"networks":
Error.InvalidSpec|networks: is required|{}
Error.InvalidSpec|colour: unknown key|{"networks":{"a":{}},"colour":1}
Error.InvalidSpec|networks.a-very-long-network-name: a network's name is its bridge's|{"networks":{"a-very-long-network-name":{}}}
Error.InvalidSpec|networks.n1.uplink: 'a/b' is not an interface name|{"networks":{"n1":{"uplink":"a/b"}}}
Error.InvalidSpec|networks.n1.vlan: must be between 1 and 4094|{"networks":{"n1":{"uplink":"up1","vlan":4095}}}
Error.InvalidSpec|networks.n1.vlan: needs an uplink|{"networks":{"n1":{"vlan":10}}}
Error.InvalidSpec|networks.n1.mtu: must be between 68 and 65535|{"networks":{"n1":{"mtu":9}}}
Error.InvalidSpec|networks.n1.addresses[0]: '192.0.2.300/24' is not an address/prefix|{"networks":{"n1":{"addresses":["192.0.2.300/24"]}}}
Error.InvalidSpec|networks.n1.colour: unknown key|{"networks":{"n1":{"colour":"red"}}}
Error.InvalidSpec|networks.n1.uplink: there is no interface eth9|{"networks":{"n1":{"uplink":"eth9"}}}
Error.InvalidSpec|networks.n2.uplink: up1 is the uplink of n1 too|{"networks":{"n1":{"uplink":"up1"},"n2":{"uplink":"up1"}}}
Error.InvalidSpec|networks.gone: no network gone of the agent's to remove|{"networks":{"gone":{"remove":true}}}
Error.InvalidSpec|networks.up2: an interface named up2 exists and is not one of the agent's networks|{"networks":{"up2":{}}}
Error.NotSupported|networks.n1.switch: Open vSwitch is not running here|{"networks":{"n1":{"switch":"ovs","uplink":"up1"}}}
CASES
assert_contains "$(setup '{"networks":{"n1":{}}}' "{'colour': <1>}")" "Error.InvalidArgs: options.colour: unknown option" \
        "an unknown option is refused"
assert_contains "$(setup '{"networks":{"n1":{}}}' "{'confirm_timeout_sec': <uint32 0>}")" "options.confirm_timeout_sec: must be" \
        "a zero confirmation timeout is refused"
# What this kernel lacks is refused before anything is touched (the system tier has both).
if ! ip -n "$NETNS" link add link up2 name probe.5 type vlan id 5 2>/dev/null; then
        assert_contains "$(setup '{"networks":{"n1":{"uplink":"up1","vlan":100}}}')" \
                "Error.NotSupported: networks.n1.vlan: this kernel has no 802.1Q VLAN support" "VLANs: NotSupported here"
else
        ip -n "$NETNS" link del probe.5
fi
if ! ip -n "$NETNS" link add probebond type bond 2>/dev/null; then
        assert_contains "$(setup '{"networks":{"n1":{"uplink":"bond0","bond":{"slaves":["up1","up2"]}}}}')" \
                "Error.NotSupported: networks.n1.bond: this kernel has no bonding support" "bonds: NotSupported here"
else
        ip -n "$NETNS" link del probebond
fi
assert_same_host "$before" "refused requests left the host exactly as it was"

# Dry run: the plan, and nothing touched.
out=$(setup '{"networks":{"vmnet":{"uplink":"up0","mtu":1400,"addresses":["192.0.2.10/24","2001:DB8::10/64"]}}}' "{'dry_run': <true>}")
assert_contains "$out" '{"step":1,"action":"create bridge","link":"vmnet"}' "a dry run returns the plan"
assert_contains "$out" '"action":"add address","link":"vmnet","value":"2001:db8::10/64"' "with addresses in canonical form"
assert_same_host "$before" "a dry run touches nothing"

# The ObjectManager signals a client library follows (GLib makes its proxies from them): a
# network is announced whole, its Network interface and properties (the kernel's state once the
# change is made) in InterfacesAdded, and withdrawn naming that interface, whether a call removes
# it or a missed confirmation does.
bus_monitor_start "$T/om-signals" stdbuf -oL gdbus monitor --system -d org.hostagent1; MON=$MONITOR_PID
setup '{"networks":{"sig1":{"addresses":["192.0.2.40/24"]}}}' >/dev/null
# A reply means done: read right after it, the network shows what the kernel has now.
assert_eq 's "ok"' "$(nprop sig1 State)" "right after SetupNetworks replies, the new network's State is ok"
assert_eq 'as 1 "192.0.2.40/24"' "$(nprop sig1 Addresses)" "and its Addresses are there"
setup '{"networks":{"sig1":{"remove":true}}}' >/dev/null
setup '{"networks":{"sig2":{}}}' "{'confirm_timeout_sec': <uint32 1>}" >/dev/null
wait_until 15 sh -c "grep -q \"InterfacesRemoved (objectpath '$N/sig2'\" $T/om-signals"
sleep 0.3; kill $MON; wait $MON 2>/dev/null
om_signal() { grep "$1 (objectpath '$N/$2'" "$T/om-signals"; }   # MEMBER NETWORK
added=$(om_signal InterfacesAdded sig1)
assert_eq 1 "$(echo "$added" | grep -c .)" "SetupNetworks announces a new network once"
assert_contains "$added" "'org.hostagent1.Network': {'Name': <'sig1'>, 'Bridge': <'sig1'>, 'Switch': <'linux'>" \
        "InterfacesAdded carries org.hostagent1.Network and its properties"
assert_contains "$added" "'Spec': <'{\"switch\":\"linux\",\"addresses\":[\"192.0.2.40/24\"]}'>" "its Spec too"
assert_contains "$added" "'Addresses': <['192.0.2.40/24']>" "with what the kernel has once the change is made"
assert_contains "$added" "'State': <'ok'>, 'StateMessage': <''>" "down to the last property"
assert_contains "$(om_signal InterfacesRemoved sig1)" "'org.hostagent1.Network'" \
        "removing it: InterfacesRemoved names org.hostagent1.Network"
assert_contains "$(om_signal InterfacesAdded sig2)" "'org.hostagent1.Network': {'Name': <'sig2'>" \
        "a change waiting for confirmation is announced whole"
assert_contains "$(om_signal InterfacesRemoved sig2)" "'org.hostagent1.Network'" \
        "and its rollback names org.hostagent1.Network when withdrawing it"

# A network: a bridge with its uplink, MTU and addresses.
out=$(setup '{"networks":{"vmnet":{"uplink":"up0","mtu":1400,"addresses":["192.0.2.10/24","2001:DB8::10/64"]}}}')
assert_contains "$out" '"create bridge"' "SetupNetworks returns the plan it applied"
assert_contains "$(link_of vmnet)" "bridge forward_delay" "ip -d link: vmnet is a bridge"
assert_contains "$(link_of vmnet)" "mtu 1400" "with MTU 1400"
assert_contains "$(ip netns exec "$NETNS" bridge link show dev up0)" "master vmnet" "bridge link: up0 is its port"
assert_contains "$(ip -n "$NETNS" addr show vmnet)" "inet 192.0.2.10/24" "it has its IPv4 address"
assert_contains "$(ip -n "$NETNS" addr show vmnet)" "inet6 2001:db8::10/64" "and its IPv6 address"
assert_eq 's "linux"' "$(nprop vmnet Switch)" "Switch"
assert_eq 's "up0"' "$(nprop vmnet Uplink)" "Uplink"
assert_eq 'u 1400' "$(nprop vmnet MTU)" "MTU"
assert_eq 'as 1 "up0"' "$(nprop vmnet Ports)" "Ports"
assert_contains "$(nprop vmnet Addresses)" '"192.0.2.10/24"' "Addresses"
wait_until 10 sh -c "$B get-property org.hostagent1 $N/vmnet org.hostagent1.Network Carrier | grep -q true"
assert_eq 'b true' "$(nprop vmnet Carrier)" "Carrier: the uplink's peer is up"
assert_eq 's "ok"' "$(nprop vmnet State)" "State ok"
assert_contains "$(cat "$T/state/networks.json")" '"vmnet"' "the network is kept in the state directory"

# A change: MTU and addresses.
setup '{"networks":{"vmnet":{"uplink":"up0","mtu":1300,"addresses":["192.0.2.11/24"]}}}' >/dev/null
assert_contains "$(link_of vmnet)" "mtu 1300" "the MTU changed"
assert_not_contains "$(ip -n "$NETNS" addr show vmnet)" "192.0.2.10/24" "the address no longer asked for is gone"
assert_contains "$(ip -n "$NETNS" addr show vmnet)" "192.0.2.11/24" "the new one is there"
assert_eq 'u 1300' "$(nprop vmnet MTU)" "MTU follows"

# The kernel takes any bytes in a name; a port named so still lets the bus list it.
ip -n "$NETNS" link add $'odd\xff' type veth peer name oddpeer && ip -n "$NETNS" link set $'odd\xff' master vmnet
wait_until 10 sh -c "$B get-property org.hostagent1 $N/vmnet org.hostagent1.Network Ports | grep -q odd"
assert_contains "$(nprop vmnet Ports)" '"odd?"' "a port whose name is not UTF-8 is listed, its byte shown as '?'"
assert_contains "$($B call org.hostagent1 /org/hostagent1 org.freedesktop.DBus.ObjectManager GetManagedObjects 2>&1)" \
        '"odd?"' "and GetManagedObjects still answers"
assert_contains "$(manager_call GetNetworkCapabilities)" '"name":"odd?"' "and so does GetNetworkCapabilities"
ip -n "$NETNS" link del $'odd\xff'
wait_until 10 sh -c "! $B get-property org.hostagent1 $N/vmnet org.hostagent1.Network Ports | grep -q odd"

# Drift made outside the agent shows on the bus, with signals.
bus_monitor_start "$T/signals" $B monitor --system org.hostagent1; MON=$MONITOR_PID
ip -n "$NETNS" link set up0peer down
wait_until 10 sh -c "$B get-property org.hostagent1 $N/vmnet org.hostagent1.Network Carrier | grep -q false"
assert_eq 'b false' "$(nprop vmnet Carrier)" "the uplink losing its carrier shows"
ip -n "$NETNS" link set up0 down
wait_until 10 sh -c "$B get-property org.hostagent1 $N/vmnet org.hostagent1.Network State | grep -q degraded"
assert_eq 's "the uplink up0 is down"' "$(nprop vmnet StateMessage)" "an uplink set down makes the network degraded"
ip -n "$NETNS" link set up0 up; ip -n "$NETNS" link set up0peer up
wait_until 10 sh -c "$B get-property org.hostagent1 $N/vmnet org.hostagent1.Network State | grep -q ok"
assert_eq 's "ok"' "$(nprop vmnet State)" "and ok again when it is up"
ip -n "$NETNS" link del vmnet
wait_until 10 sh -c "$B get-property org.hostagent1 $N/vmnet org.hostagent1.Network State | grep -q degraded"
assert_eq 's "the bridge vmnet is missing"' "$(nprop vmnet StateMessage)" "ip link del: the network is degraded"
bus_monitor_stop
assert_contains "$(grep -A3 'Path=/org/hostagent1/network/vmnet' "$T/signals" | tr '\n' ' ')" "PropertiesChanged" \
        "PropertiesChanged signals came for the drift"

# A restart (as after a reboot) makes the kept network true again.
daemon_stop || fail "hostagentd exited with an error"
start
wait_until 10 sh -c "ip -n $NETNS link show vmnet"
assert_contains "$(link_of vmnet)" "mtu 1300" "after a restart the lost bridge is back, with its MTU"
assert_contains "$(ip netns exec "$NETNS" bridge link show dev up0)" "master vmnet" "and its uplink"
wait_until 10 sh -c "ip -n $NETNS addr show vmnet | grep -q 192.0.2.11/24"
assert_contains "$(ip -n "$NETNS" addr show vmnet)" "192.0.2.11/24" "and its address"
wait_until 10 sh -c "$B get-property org.hostagent1 $N/vmnet org.hostagent1.Network State | grep -q ok"
assert_eq 's "ok"' "$(nprop vmnet State)" "State ok"

# Transactions that fail: at the first, a middle and the last step. The host is as before.
before=$(snapshot)
T1='{"networks":{"t1":{"uplink":"up1","mtu":1500,"addresses":["192.0.2.20/24","198.51.100.20/24"]}}}'
steps=$(setup "$T1" "{'dry_run': <true>}" | grep -o '"step":[0-9]*' | wc -l)
for at in 1 $(( (steps + 1) / 2 )) "$steps"; do
        daemon_stop >/dev/null
        HOSTAGENT_NET_FAILPOINT=fail:$at start
        out=$(setup "$T1")
        assert_contains "$out" "Error.Failed: Cannot set up the networks: step $at " "a transaction failing at step $at of $steps says which"
        assert_same_host "$before" "and leaves the host byte for byte as it was"
done
daemon_stop >/dev/null
start
# A real refusal by the kernel: the loopback device cannot be a bridge port.
out=$(setup '{"networks":{"t2":{"uplink":"lo","addresses":["192.0.2.30/24"]}}}')
assert_contains "$out" "step 2 (set master lo t2): Invalid argument; the 1 steps before it were undone" \
        "the kernel refusing a step names it"
assert_same_host "$before" "and the host is as it was"
assert_contains "$($B get-property org.hostagent1 $N/t2 org.hostagent1.Network Name 2>&1)" "nknown object" "no object for it"

# Confirmation: missed, the change rolls back by itself; given in time, it is kept.
out=$(setup "$T1" "{'confirm_timeout_sec': <uint32 2>}")
assert_contains "$(link_of t1)" "bridge" "a change waiting for confirmation is applied"
assert_contains "$(setup '{"networks":{"t3":{}}}')" "Error.Busy" "another change meanwhile is refused"
wait_until 15 sh -c "! ip -n $NETNS link show t1"
assert_same_host "$before" "unconfirmed, it is rolled back in full"
assert_contains "$($B get-property org.hostagent1 $N/t1 org.hostagent1.Network Name 2>&1)" "nknown object" "and its object is gone"
assert_contains "$(manager_call ConfirmNetworks)" "Error.InvalidState" "nothing is left to confirm"
setup "$T1" "{'confirm_timeout_sec': <uint32 30>}" >/dev/null
assert_eq "()" "$(manager_call ConfirmNetworks)" "ConfirmNetworks in time"
assert_contains "$(cat "$T/state/networks.json")" '"t1"' "the confirmed change is kept"
sleep 1
assert_contains "$(link_of t1)" "bridge" "and stays"

# Remove.
after_t1=$(snapshot)
out=$(setup '{"networks":{"t1":{"remove":true}}}')
assert_contains "$out" '"delete link","link":"t1"' "removing a network"
assert_same_host "$before" "leaves what was there before it"
assert_not_contains "$(cat "$T/state/networks.json")" '"t1"' "and it is forgotten"

# A crash in the middle of a transaction is rolled back at the next start.
daemon_stop >/dev/null
HOSTAGENT_NET_FAILPOINT=pause:5 start
setup "$T1" >/dev/null &
wait_until 15 sh -c "grep -q '\"done\":4' $T/state/networks-journal.json"
assert_contains "$(link_of t1)" "bridge" "mid-way, the first steps took effect"
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
start
wait_until 15 sh -c "! ip -n $NETNS link show t1"
wait_until 10 sh -c "! test -e $T/state/networks-journal.json"
assert_same_host "$before" "after kill -9 mid-way the next start rolled it back"
[ ! -e "$T/state/networks-journal.json" ] && ok "and cleared its journal" || fail "the journal is still there"
assert_contains "$(link_of vmnet)" "bridge" "the kept network was not touched"

# Capabilities and access.
caps=$(manager_call GetNetworkCapabilities)
assert_contains "$caps" '"name":"up2","kind":"veth"' "GetNetworkCapabilities lists the NICs"
assert_contains "$caps" '"networks":["vmnet"]' "and the agent's networks"
assert_contains "$(setpriv --reuid=65534 --regid=65534 --clear-groups gdbus call --system -d org.hostagent1 -o /org/hostagent1 -m org.hostagent1.Manager.SetupNetworks '{"networks":{"x":{}}}' '{}' 2>&1)" \
        "AccessDenied" "a non-root caller cannot set up networks"

# Removing the last network on an uplink gives the uplink Ethernet's MTU back (vmnet set 1300).
assert_contains "$(ip -n "$NETNS" link show up0)" "mtu 1300" "the uplink carries vmnet's MTU"
out=$(setup '{"networks":{"vmnet":{"remove":true}}}')
assert_contains "$out" '"set mtu","link":"up0","value":"1500"' "removing vmnet plans its uplink's MTU back"
assert_contains "$(ip -n "$NETNS" link show up0)" "mtu 1500" "up0 is at 1500 again"
assert_not_contains "$(ip -n "$NETNS" link show up0)" "master" "and in no bridge"

daemon_stop && ok "hostagentd exits cleanly" || fail "hostagentd exited with an error"

# An Open vSwitch database that takes connections and never answers holds every read of the host
# until it times out: the bus still shows a new Linux network as the change left it, in its
# InterfacesAdded and to a read right after the reply, not the agent's last read from before.
/usr/bin/python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(64); held = []
while True: held.append(s.accept()[0])' "$T/mute-ovsdb.sock" &
fixture_track $!
wait_until 10 test -S "$T/mute-ovsdb.sock"
daemon_start --libvirt-uri=test:///default --ovsdb="unix:$T/mute-ovsdb.sock"
bus_monitor_start "$T/om-signals" stdbuf -oL gdbus monitor --system -d org.hostagent1; MON=$MONITOR_PID
setup '{"networks":{"mute1":{"addresses":["192.0.2.50/24"]}}}' >/dev/null
assert_eq 's "ok"' "$(nprop mute1 State)" "with Open vSwitch not answering, the network's State right after the reply is ok"
wait_until 10 grep -q "InterfacesAdded (objectpath '$N/mute1'" "$T/om-signals"
kill $MON; wait $MON 2>/dev/null
assert_contains "$(om_signal InterfacesAdded mute1)" "'Addresses': <['192.0.2.50/24']>, 'OperState': <'unknown'>, 'Carrier': <true>, 'Ports': <@as []>, 'State': <'ok'>" \
        "and its InterfacesAdded carries the kernel's state once the change is made"
daemon_stop && ok "hostagentd exits cleanly" || fail "hostagentd exited with an error"
fixture_finish
