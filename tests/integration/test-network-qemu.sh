# A real QEMU guest with a NIC on an agent network: its tap is a port of the
# network's bridge while it runs, and goes with it; the network cannot be
# removed from under it. libvirtd, the agent and the network live in a
# network namespace of the test's own.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
set +e

NETNS=hostagent-netq-$$
ip netns add "$NETNS" || exit 1
fixture_on_exit 'ip netns del $NETNS'
ip -n "$NETNS" link set lo up
ip -n "$NETNS" link add up0 type veth peer name up0peer
ip -n "$NETNS" link set up0peer up
LIBVIRTD_PREFIX=(ip netns exec "$NETNS")
libvirtd_start
bus_start
VIRSH="virsh -q -c $LIBVIRT_QEMU_URI"
$VIRSH list --all >/dev/null || { fail "libvirtd's QEMU driver does not answer"; fixture_finish; exit 1; }
DAEMON_PREFIX=(ip netns exec "$NETNS")
daemon_start --libvirt-uri="$LIBVIRT_QEMU_URI"
wait_until 60 sh -c 'busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | grep -q true'

B="busctl --system"
call() { local path=$1 method=$2; shift 2; gdbus call --system -d org.hostagent1 -o "$path" -m "$method" "$@" 2>&1; }
gv_string() { local s=${1//\\/\\\\}; printf '"%s"' "${s//\"/\\\"}"; }
M() { local m=$1; shift; call /org/hostagent1 "org.hostagent1.Manager.$m" "$@"; }
ports() { $B get-property org.hostagent1 /org/hostagent1/network/vmnet org.hostagent1.Network Ports; }

assert_contains "$(M SetupNetworks "$(gv_string '{"networks":{"vmnet":{"uplink":"up0"}}}')" '{}')" "create bridge" "a network"
assert_contains "$(M CreateVM "$(gv_string '{"name":"nonet","type":"qemu","memory_mib":128,"nics":[{"network":"nowhere"}]}')")" \
        "org.hostagent1.Error.InvalidSpec: nics[0].network: no network named 'nowhere'" "a NIC on a missing network is refused"

out=$(M CreateVM "$(gv_string '{"name":"netted","type":"qemu","memory_mib":128,"start":true,"nics":[{"network":"vmnet","mac":"52:54:00:aa:bb:01"}]}')")
VM=$(grep -o "/org/hostagent1/vm/[^']*" <<<"$out")
assert_contains "$out" "/org/hostagent1/vm/" "a guest with a NIC on the network starts"
assert_contains "$($VIRSH domiflist netted)" "bridge   vmnet" "libvirt plugs it into the network's bridge"
tap=$($VIRSH domiflist netted | awk '/vmnet/ {print $1}')
[ -n "$tap" ] && ok "the guest has a tap ($tap)" || fail "no tap"
assert_contains "$(ip netns exec "$NETNS" bridge link show dev "$tap")" "master vmnet" "bridge link: the tap is a port of vmnet"
wait_until 10 sh -c "busctl --system get-property org.hostagent1 /org/hostagent1/network/vmnet org.hostagent1.Network Ports | grep -q $tap"
assert_eq "as 2 \"up0\" \"$tap\"" "$(ports)" "Ports shows the uplink and the guest's tap"
assert_contains "$($VIRSH dumpxml netted)" '"network":"vmnet"' "the spec kept names the network"
assert_contains "$(M SetupNetworks "$(gv_string '{"networks":{"vmnet":{"remove":true}}}')" '{}')" \
        "org.hostagent1.Error.InUse: networks.vmnet: $tap is still attached to it" "the network cannot be removed under the guest"

assert_eq "()" "$(call "$VM" org.hostagent1.VM.Destroy)" "Destroy the guest"
wait_until 10 sh -c "busctl --system get-property org.hostagent1 /org/hostagent1/network/vmnet org.hostagent1.Network Ports | grep -q 'as 1 '"
assert_eq 'as 1 "up0"' "$(ports)" "its tap left the bridge with it"
call "$VM" org.hostagent1.VM.Undefine >/dev/null
assert_contains "$(M SetupNetworks "$(gv_string '{"networks":{"vmnet":{"remove":true}}}')" '{}')" "delete link" \
        "now the network can be removed"

daemon_stop && ok "hostagentd exits cleanly" || fail "hostagentd exited with an error"
fixture_finish
