# Open vSwitch networks over the bus, with a private ovsdb-server and a
# user-space ovs-vswitchd in a network namespace of the test's own:
# `ovs-vsctl show` is the oracle. Bridges deleted with ovs-vsctl show on the
# bus and come back at the next start; a failed transaction leaves the
# database as it was; Open vSwitch going away and coming back is followed.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
set +e

netns_start ovs || exit 1
for i in 1 2; do
        ip -n "$NETNS" link add "up$i" type veth peer name "up${i}peer"
        ip -n "$NETNS" link set "up${i}peer" up
        ip -n "$NETNS" link set "up$i" up
done
ovs_start || { fail "Open vSwitch did not start"; fixture_finish; exit 1; }
bus_start
DAEMON_PREFIX=(ip netns exec "$NETNS")
start() { daemon_start --libvirt-uri=test:///default --ovsdb="$OVSDB" "$@"; }
start --ovs-datapath=netdev
B="busctl --system"
N=/org/hostagent1/network
setup() { manager_call SetupNetworks "$(gv_string "$1")" "${2:-{\}}"; }
nprop() { $B get-property org.hostagent1 "$N/$1" org.hostagent1.Network "$2" 2>&1; }
show() { ovs-vsctl --db="$OVSDB" show | grep -v '^[0-9a-f-]*$'; }
state_is() { $B get-property org.hostagent1 "$N/$1" org.hostagent1.Network State 2>/dev/null | grep -q "\"$2\""; }

before=$(show)
OVSNET='{"networks":{"ovsnet":{"switch":"ovs","uplink":"up1","vlan":100,"addresses":["192.0.2.50/24"]}}}'

# A failure at the last step leaves the database and the links as they were.
links_before=$(ip -n "$NETNS" -br link | sort)
steps=$(setup "$OVSNET" "{'dry_run': <true>}" | grep -o '"step":[0-9]*' | wc -l)
daemon_stop >/dev/null
HOSTAGENT_NET_FAILPOINT=fail:$steps start --ovs-datapath=netdev
assert_contains "$(setup "$OVSNET")" "Error.Failed: Cannot set up the networks: step $steps " "a transaction failing at its last step ($steps) says so"
assert_eq "$before" "$(show)" "ovs-vsctl show is as it was"
wait_until 5 sh -c "[ \"\$(ip -n $NETNS -br link | sort)\" = \"$links_before\" ]"
assert_eq "$links_before" "$(ip -n "$NETNS" -br link | sort)" "and so are the links"
daemon_stop >/dev/null

# What this host lacks: the kernel datapath (the default) is refused here by name.
start
if ! [ -e /sys/module/openvswitch ]; then
        assert_contains "$(setup "$OVSNET")" "Error.NotSupported: networks.ovsnet.switch: this kernel has no Open vSwitch datapath" \
                "the kernel datapath is refused where the kernel has none"
fi
daemon_stop >/dev/null
start --ovs-datapath=netdev

# An OVS network: its bridge (netdev datapath), the uplink as a trunk, its own port tagged.
out=$(setup "$OVSNET")
assert_contains "$out" '"create ovs bridge","link":"ovsnet"' "SetupNetworks makes an OVS bridge"
s=$(show)
assert_contains "$s" "Bridge ovsnet" "ovs-vsctl show: the bridge"
assert_contains "$s" "datapath_type: netdev" "on the user-space datapath"
assert_contains "$(echo "$s" | tr -s ' \n' ' ')" "Port ovsnet tag: 100 Interface ovsnet type: internal" "its own port is tagged 100"
assert_contains "$(echo "$s" | tr -s ' \n' ' ')" "Port up1 Interface up1" "the uplink is its port"
wait_until 10 sh -c "ip -n $NETNS addr show ovsnet | grep -q 192.0.2.50/24"
assert_contains "$(ip -n "$NETNS" addr show ovsnet)" "192.0.2.50/24" "its address is on the bridge's own device"
wait_until 10 state_is ovsnet ok
assert_eq 's "ovs"' "$(nprop ovsnet Switch)" "Switch"
assert_eq 'u 100' "$(nprop ovsnet VlanTag)" "VlanTag"
assert_eq 'as 1 "up1"' "$(nprop ovsnet Ports)" "Ports"
assert_eq 's "ok"' "$(nprop ovsnet State)" "State ok"
assert_contains "$(setup '{"networks":{"other":{"switch":"ovs","uplink":"up1"}}}')" \
        "Error.InvalidSpec: networks.other.uplink: up1 is a port of the Open vSwitch bridge ovsnet already" \
        "an uplink of another OVS bridge is refused"

assert_contains "$(manager_call GetNetworkCapabilities)" '"ovs_bridges":[{"name":"ovsnet","datapath_type":"netdev","ports":[' \
        "GetNetworkCapabilities lists the OVS bridges"

# A change: the uplink moves, and subscribers are told.
bus_monitor_start "$T/change-signals" $B monitor --system org.hostagent1; MON=$MONITOR_PID
setup '{"networks":{"ovsnet":{"switch":"ovs","uplink":"up2","vlan":100,"addresses":["192.0.2.50/24"]}}}' >/dev/null
bus_monitor_stop
assert_eq 's "up2"' "$(nprop ovsnet Uplink)" "Uplink follows the change"
assert_contains "$(grep -A12 'Member=PropertiesChanged' "$T/change-signals" | tr '\n' ' ')" '"Uplink"' \
        "PropertiesChanged carried the new Uplink"
s=$(show | tr -s ' \n' ' ')
assert_contains "$s" "Port up2 Interface up2" "the new uplink is a port"
assert_not_contains "$s" "Port up1 " "the old one is not"

# Drift: ovs-vsctl del-br shows on the bus, with a signal; a restart brings it back.
bus_monitor_start "$T/signals" $B monitor --system org.hostagent1; MON=$MONITOR_PID
ovs-vsctl --db="$OVSDB" del-br ovsnet
wait_until 10 state_is ovsnet degraded
assert_eq 's "the Open vSwitch bridge ovsnet is missing"' "$(nprop ovsnet StateMessage)" "ovs-vsctl del-br: the network is degraded"
bus_monitor_stop
assert_contains "$(grep -A3 'Path=/org/hostagent1/network/ovsnet' "$T/signals" | tr '\n' ' ')" "PropertiesChanged" \
        "PropertiesChanged came for it"
daemon_stop >/dev/null
start --ovs-datapath=netdev
wait_until 15 state_is ovsnet ok
assert_contains "$(show)" "Bridge ovsnet" "after a restart the bridge is back"
assert_eq 's "ok"' "$(nprop ovsnet State)" "and the network is ok"

# Open vSwitch goes away and comes back.
kill "$OVSDB_PID"; sleep 0.5
wait_until 10 state_is ovsnet degraded
assert_eq 's "Open vSwitch does not answer"' "$(nprop ovsnet StateMessage)" "ovsdb-server gone: the network is degraded"
assert_contains "$(setup '{"networks":{"more":{"switch":"ovs"}}}')" "Error.NotSupported: networks.more.switch: Open vSwitch is not running here" \
        "and new OVS networks are refused, saying why"
ovsdb_server_start
wait_until 40 state_is ovsnet ok
assert_eq 's "ok"' "$(nprop ovsnet State)" "the agent reconnects: ok again"

# A bond of two NICs as the uplink: one OVS port of both interfaces.
for i in 3 4; do
        ip -n "$NETNS" link add "up$i" type veth peer name "up${i}peer"
        ip -n "$NETNS" link set "up${i}peer" up
done
out=$(setup '{"networks":{"bonded":{"switch":"ovs","uplink":"bond0","bond":{"slaves":["up3","up4"],"mode":"active-backup"}}}}')
assert_contains "$out" '"add ovs bond","link":"bond0"' "an OVS network on a bond"
assert_eq "bond0" "$(ovs-vsctl --db="$OVSDB" list-ports bonded)" "ovs-vsctl: the bridge has one port, bond0"
assert_eq "up3 up4" "$(ovs-vsctl --db="$OVSDB" list-ifaces bonded | paste -sd' ')" "made of up3 and up4"
assert_eq "active-backup" "$(ovs-vsctl --db="$OVSDB" get Port bond0 bond_mode)" "in active-backup mode"
wait_until 10 state_is bonded ok
assert_eq 's "ok"' "$(nprop bonded State)" "the bonded network is ok"
# Its removal failing at the last step gives the bond back as a bond, not as a plain port.
REMOVE_BONDED='{"networks":{"bonded":{"remove":true}}}'
plan=$(setup "$REMOVE_BONDED" "{'dry_run': <true>}")
assert_contains "$plan" '"remove ovs bond","link":"bond0","value":"bonded of up3,up4"' \
        "the removal plan takes the bond away as a bond"
steps=$(grep -o '"step":[0-9]*' <<<"$plan" | wc -l)
bond_before=$(show | sort)   # a bond made again has new row UUIDs: show lists it in another order
daemon_stop >/dev/null
HOSTAGENT_NET_FAILPOINT=fail:$steps start --ovs-datapath=netdev
assert_contains "$(setup "$REMOVE_BONDED")" "step $steps " "the removal fails at its last step ($steps)"
assert_eq "$bond_before" "$(show | sort)" "ovs-vsctl show is as it was"
assert_eq "up3 up4" "$(ovs-vsctl --db="$OVSDB" list-ifaces bonded | paste -sd' ')" "the bond is made of up3 and up4 again"
assert_eq "active-backup" "$(ovs-vsctl --db="$OVSDB" get Port bond0 bond_mode)" "in its mode"
daemon_stop >/dev/null
start --ovs-datapath=netdev
assert_contains "$(setup "$REMOVE_BONDED")" '"delete ovs bridge","link":"bonded"' "and removed"

# Remove.
out=$(setup '{"networks":{"ovsnet":{"remove":true}}}')
assert_contains "$out" '"delete ovs bridge","link":"ovsnet"' "removing the network"
assert_eq "$before" "$(show)" "leaves the database as it was"

daemon_stop && ok "hostagentd exits cleanly" || fail "hostagentd exited with an error"
fixture_finish
