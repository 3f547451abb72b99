#!/bin/bash
# The method fuzzer against a real agent: a private bus with the project's policy, a private
# libvirtd (test driver), the agent in a network namespace of the run's own (SetupNetworks works
# on veth pairs there, never on the host's links) and in a mount namespace where all but its
# state directory and a 64 MiB tmpfs for pools is read-only (tests/fuzz/confine.sh). A pool, two
# volumes, a VM and a network are made first; then bus-fuzz calls every method and property as
# root and as uid 65534 while Peer.Ping is timed; then the agent must still answer and exit 0 on
# SIGTERM (under ASan: no sanitizer report, no leak).
#
# Usage: tests/fuzz/run-fuzz.sh [--calls N] [--seed N] [--window N] [--ping-limit-ms MS] [--build DIR]
# (ctest runs it with the build's own binaries; by hand, --build names the build directory).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
calls=30000 seed=$(date +%s) window=8 ping_limit=1000 build=${HOSTAGENT_BUILD_DIR:-$top/build}
while [ $# -gt 0 ]; do
        case "$1" in
        --calls) calls=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        --window) window=$2; shift 2 ;;
        --ping-limit-ms) ping_limit=$2; shift 2 ;;
        --build) build=$(cd "$2" && pwd); unset HOSTAGENTD BUS_FUZZ; shift 2 ;;
        *) echo "usage: $0 [--calls N] [--seed N] [--window N] [--ping-limit-ms MS] [--build DIR]" >&2; exit 2 ;;
        esac
done
export HOSTAGENTD=${HOSTAGENTD:-$build/agent/hostagentd} HOSTAGENT_SOURCE_DIR=${HOSTAGENT_SOURCE_DIR:-$top}
BUS_FUZZ=${BUS_FUZZ:-$build/tests/fuzz/bus-fuzz}
source "$top/tests/lib/fixture.sh"
set +e

netns_start fuzz || exit 1
for i in 0 1; do
        ip -n "$NETNS" link add "up$i" type veth peer name "up${i}peer"
        ip -n "$NETNS" link set "up${i}peer" up
done
libvirtd_start || exit 1
bus_start || exit 1
mkdir -p "$T/state" "$T/run" "$T/pools" "$T/cores"
DAEMON_PREFIX=(ip netns exec "$NETNS" unshare --mount --propagation private --
               env CONFINE_RW="$T/state $T/run $T/cores" CONFINE_TMPFS="$T/pools" CONFINE_CWD="$T/cores"
               bash "$here/confine.sh")
# $T is read-only to the agent: a core it dumps is in $T/cores, moved at the end to where the
# fixture's report (a backtrace) looks.
daemon_start --libvirt-uri="$LIBVIRT_TEST_URI" --run-dir="$T/run" --ovsdb="unix:$T/no-ovsdb.sock" || exit 1
wait_until 60 sh -c 'busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | grep -q true' ||
        { fail "the agent never became Ready"; fixture_finish; exit 1; }

# Objects of every kind for the fuzzer to find.
P="/org/hostagent1/storage/fuzzpool"
setup_call() {   # description command...
        local what=$1 out; shift
        out=$("$@") && ok "set up: $what" || fail "set up: $what: $out"
}
setup_call "a dir pool" manager_call CreateStoragePool "$(gv_string "{\"name\":\"fuzzpool\",\"type\":\"dir\",\"path\":\"$T/pools/fuzzpool\"}")"
setup_call "a qcow2 volume" bus_call "$P" org.hostagent1.StoragePool.CreateVolume disk0 1048576 qcow2 '{}'
setup_call "a raw volume" bus_call "$P" org.hostagent1.StoragePool.CreateVolume raw0 1048576 raw '{}'
setup_call "a network" manager_call SetupNetworks "$(gv_string '{"networks":{"fuzznet":{"uplink":"up0"}}}')" '{}'
setup_call "a VM" manager_call CreateVM "$(gv_string '{"name":"fuzzvm1","memory_mib":128,"type":"test","disks":[{"pool":"fuzzpool","volume":"disk0"}],"nics":[{"network":"fuzznet"}],"graphics":{"type":"vnc"},"start":true}')"

# The confinement holds: a pool outside the writable directories is refused and makes nothing.
out=$(manager_call CreateStoragePool "$(gv_string "{\"name\":\"escape\",\"type\":\"dir\",\"path\":\"$T/escape\"}")")
assert_contains "$out" "Error." "a pool outside the agent's writable directories is refused"
[ ! -e "$T/escape" ] && ok "and nothing is made there" || fail "the confined agent made $T/escape"

# The seeds the fuzzer mutates: valid specs of every kind (from the README's, on this run's pool,
# network and uplinks; @N@ becomes a new name at each use), names, option keys.
cat > "$T/corpus" <<CORPUS
vm	{"name":"vm@N@","memory_mib":128,"vcpus":2,"type":"test","start":true}
vm	{"name":"vm@N@","memory_mib":1024,"vcpus":2,"type":"test","machine":"q35","firmware":"bios","disks":[{"pool":"fuzzpool","volume":"raw0","bus":"virtio"}],"nics":[{"network":"fuzznet","model":"virtio","mac":"52:54:00:12:34:56"}],"graphics":{"type":"vnc","listen":"127.0.0.1"},"autostart":false,"start":true,"metadata":{"owner":"ops"}}
vm	{"name":"vm@N@","uuid":"6695eb01-f6a4-4c12-9a5d-1f3e5b2c7d80","memory_mib":16,"type":"test","disks":[{"path":"$T/pools/fuzzpool/disk0","format":"qcow2","bus":"sata","device":"cdrom","readonly":true}],"nics":[{"bridge":"up1","model":"e1000"}],"graphics":{"type":"spice","listen":"::1"},"guest_agent":false}
vm	{"name":"vm@N@","memory_mib":4194304,"vcpus":512,"type":"kvm","firmware":"uefi","disks":[{"pool":"fuzzpool","volume":"disk0","bus":"ide"}],"nics":[{"bridge":"up1","model":"rtl8139"}],"autostart":true,"metadata":{"a":"b","owner":"ops"}}
pool	{"name":"pool@N@","type":"dir","path":"$T/pools/pool@N@"}
pool	{"name":"nfs@N@","type":"nfs","server":"127.0.0.1","export":"/export","version":3,"access":"libnfs"}
pool	{"name":"nfs@N@","type":"nfs","server":"127.0.0.1","export":"/export","version":4,"access":"mount"}
pool	{"name":"vg@N@","type":"lvm","devices":["/dev/fuzz-no-such-disk","/dev/null"]}
net	{"networks":{"n@N@":{"switch":"linux","uplink":"up1","mtu":1500,"addresses":["192.0.2.10/24","fd00::10/64"]}}}
net	{"networks":{"n@N@":{},"fuzznet":{"remove":true}}}
net	{"networks":{"n@N@":{"switch":"ovs","uplink":"up1","vlan":7}}}
net	{"networks":{"t@N@":{"uplink":"bond@N@","vlan":7,"bond":{"slaves":["up0","up1"],"mode":"802.3ad"}}}}
xml	<domain type='test'><name>x@N@</name><memory unit='MiB'>128</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os><devices><graphics type='vnc' autoport='yes' listen='127.0.0.1'/></devices></domain>
xml	<domain type='test'><name>x@N@</name><uuid>6695eb01-f6a4-4c12-9a5d-1f3e5b2c7d81</uuid><memory>131072</memory><os><type>hvm</type></os><devices><disk type='file' device='disk'><source file='$T/pools/fuzzpool/raw0'/><target dev='vda' bus='virtio'/></disk><interface type='bridge'><source bridge='fuzznet'/></interface></devices><metadata><vm xmlns='urn:org.hostagent1:vm:1'>{}</vm></metadata></domain>
name	fuzzvm1
name	fuzzpool
name	disk0
name	raw0
name	fuzznet
name	up0
name	qcow2
name	raw
name	debug
name	info
name	warning
name	emerg
name	00000000-0000-0000-0000-000000000000
name	6695eb01-f6a4-4c12-9a5d-1f3e5b2c7d80
name	secret
option	dry_run
option	confirm_timeout_sec
option	backing_volume
option	preallocation
CORPUS

echo "fuzzing: $calls calls, seed $seed (tests/fuzz/run-fuzz.sh --calls $calls --seed $seed repeats the arguments)"
"$BUS_FUZZ" --corpus "$T/corpus" --seed "$seed" --calls "$calls" --window "$window" \
        --ping-limit-ms "$ping_limit" ${FUZZ_ARGS:-} | tee "$T/fuzz.out"
rc=${PIPESTATUS[0]}
summary=$(grep -E '^(calls|Ping)' "$T/fuzz.out" | paste -sd ' ')
if [ "$rc" -eq 0 ]; then ok "the fuzzer found nothing: $summary"; else fail "the fuzzer failed (seed $seed): $summary"; fi

out=$(busctl --system --timeout=5 call org.hostagent1 /org/hostagent1 org.freedesktop.DBus.Peer Ping 2>&1)
assert_eq "" "$out" "the agent still answers after the run"
daemon_stop
assert_eq 0 $? "the agent exits with 0 on SIGTERM after the run"
assert_not_contains "$(grep -E 'Sanitizer|runtime error' "$T/daemon.log" | head -5)" "Sanitizer" \
        "no sanitizer report from the agent"
assert_not_contains "$(grep -E 'runtime error' "$T/daemon.log" | head -5)" "runtime error" \
        "no undefined behaviour reported by the agent"
echo "the agent's log: $(wc -l < "$T/daemon.log") lines"
mv "$T"/cores/core* "$T"/ 2>/dev/null
[ ! -s "$T/bus/log" ] || { echo "the bus daemon said:"; tail -5 "$T/bus/log"; }
fixture_finish
