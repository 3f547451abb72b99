# Real QEMU guests with NICs on agent networks, a Linux bridge and an Open
# vSwitch bridge: the tap is a port of the network's bridge while the guest
# runs (on OVS tagged with the network's VLAN), and goes with it; a network
# cannot be removed from under a guest. libvirtd, the agent, ovs-vswitchd and
# the networks live in a network namespace of the test's own.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
set +e

netns_start netq || exit 1
for i in 0 1; do
        ip -n "$NETNS" link add "up$i" type veth peer name "up${i}peer"
        ip -n "$NETNS" link set "up${i}peer" up
done
LIBVIRTD_PREFIX=(ip netns exec "$NETNS")
libvirtd_start
# libvirt plugs taps into OVS with ovs-vsctl, which looks for the database at
# /run/openvswitch/db.sock: in libvirtd's mount namespace, that is here.
mkdir -p "$LV/run/openvswitch"
O="$LV/run/openvswitch"
OVSDB="unix:$O/db.sock"
ovsdb-tool create "$O/conf.db" /usr/share/openvswitch/vswitch.ovsschema
ovsdb_server_start || { fail "ovsdb-server did not start"; fixture_finish; exit 1; }
ovs-vsctl --db="$OVSDB" --no-wait init
ip netns exec "$NETNS" env OVS_RUNDIR="$O" ovs-vswitchd "$OVSDB" --pidfile="$O/vswitchd.pid" \
        --unixctl="$O/vswitchd.ctl" --log-file="$O/vswitchd.log" --detach
fixture_track "$(cat "$O/vswitchd.pid")"
bus_start
VIRSH="virsh -q -c $LIBVIRT_QEMU_URI"
$VIRSH list --all >/dev/null || { fail "libvirtd's QEMU driver does not answer"; fixture_finish; exit 1; }
DAEMON_PREFIX=(ip netns exec "$NETNS")
daemon_start --libvirt-uri="$LIBVIRT_QEMU_URI" --ovsdb="$OVSDB" --ovs-datapath=netdev
wait_until 60 sh -c 'busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | grep -q true'

B="busctl --system"
ports() { $B get-property org.hostagent1 /org/hostagent1/network/vmnet org.hostagent1.Network Ports; }

assert_contains "$(manager_call SetupNetworks "$(gv_string '{"networks":{"vmnet":{"uplink":"up0"}}}')" '{}')" "create bridge" "a network"
assert_contains "$(manager_call CreateVM "$(gv_string '{"name":"nonet","type":"qemu","memory_mib":128,"nics":[{"network":"nowhere"}]}')")" \
        "org.hostagent1.Error.InvalidSpec: nics[0].network: no network named 'nowhere'" "a NIC on a missing network is refused"

out=$(manager_call CreateVM "$(gv_string '{"name":"netted","type":"qemu","memory_mib":128,"start":true,"nics":[{"network":"vmnet","mac":"52:54:00:aa:bb:01"}]}')")
VM=$(grep -o "/org/hostagent1/vm/[^']*" <<<"$out")
assert_contains "$out" "/org/hostagent1/vm/" "a guest with a NIC on the network starts"
assert_contains "$($VIRSH domiflist netted)" "bridge   vmnet" "libvirt plugs it into the network's bridge"
tap=$($VIRSH domiflist netted | awk '/vmnet/ {print $1}')
[ -n "$tap" ] && ok "the guest has a tap ($tap)" || fail "no tap"
assert_contains "$(ip netns exec "$NETNS" bridge link show dev "$tap")" "master vmnet" "bridge link: the tap is a port of vmnet"
wait_until 10 sh -c "busctl --system get-property org.hostagent1 /org/hostagent1/network/vmnet org.hostagent1.Network Ports | grep -q $tap"
assert_eq "as 2 \"up0\" \"$tap\"" "$(ports)" "Ports shows the uplink and the guest's tap"
assert_contains "$($VIRSH dumpxml netted)" '"network":"vmnet"' "the spec kept names the network"
assert_contains "$(manager_call SetupNetworks "$(gv_string '{"networks":{"vmnet":{"remove":true}}}')" '{}')" \
        "org.hostagent1.Error.InUse: networks.vmnet: $tap is still attached to it" "the network cannot be removed under the guest"

assert_eq "()" "$(bus_call "$VM" org.hostagent1.VM.Destroy)" "Destroy the guest"
wait_until 10 sh -c "busctl --system get-property org.hostagent1 /org/hostagent1/network/vmnet org.hostagent1.Network Ports | grep -q 'as 1 '"
assert_eq 'as 1 "up0"' "$(ports)" "its tap left the bridge with it"
bus_call "$VM" org.hostagent1.VM.Undefine >/dev/null
assert_contains "$(manager_call SetupNetworks "$(gv_string '{"networks":{"vmnet":{"remove":true}}}')" '{}')" "delete link" \
        "now the network can be removed"

# Open vSwitch: the tap joins the bridge as an access port of the network's VLAN.
assert_contains "$(manager_call SetupNetworks "$(gv_string '{"networks":{"ovsnet":{"switch":"ovs","uplink":"up1","vlan":100}}}')" '{}')" \
        "create ovs bridge" "an Open vSwitch network"
out=$(manager_call CreateVM "$(gv_string '{"name":"ovsguest","type":"qemu","memory_mib":128,"start":true,"nics":[{"network":"ovsnet","mac":"52:54:00:aa:bb:02"}]}')")
VM2=$(grep -o "/org/hostagent1/vm/[^']*" <<<"$out")
assert_contains "$out" "/org/hostagent1/vm/" "a guest with a NIC on the OVS network starts"
assert_contains "$($VIRSH dumpxml ovsguest)" "<virtualport type='openvswitch'>" "libvirt has it as an openvswitch virtualport"
tap2=$($VIRSH domiflist ovsguest | awk '/ovsnet/ {print $1}')
[ -n "$tap2" ] && ok "the guest has a tap ($tap2)" || fail "no tap on ovsnet"
assert_contains "$(ovs-vsctl --db="$OVSDB" list-ports ovsnet)" "$tap2" "ovs-vsctl: the tap is a port of ovsnet"
assert_eq "100" "$(ovs-vsctl --db="$OVSDB" get Port "$tap2" tag)" "tagged with the network's VLAN"
wait_until 10 sh -c "busctl --system get-property org.hostagent1 /org/hostagent1/network/ovsnet org.hostagent1.Network Ports | grep -q $tap2"
assert_contains "$($B get-property org.hostagent1 /org/hostagent1/network/ovsnet org.hostagent1.Network Ports)" "\"$tap2\"" \
        "Ports shows the tap"
assert_eq "()" "$(bus_call "$VM2" org.hostagent1.VM.Destroy)" "Destroy the OVS guest"
wait_until 10 sh -c "! busctl --system get-property org.hostagent1 /org/hostagent1/network/ovsnet org.hostagent1.Network Ports | grep -q $tap2"
assert_not_contains "$($B get-property org.hostagent1 /org/hostagent1/network/ovsnet org.hostagent1.Network Ports)" "$tap2" \
        "its tap left the OVS bridge with it"
bus_call "$VM2" org.hostagent1.VM.Undefine >/dev/null

daemon_stop && ok "hostagentd exits cleanly" || fail "hostagentd exited with an error"
fixture_finish
