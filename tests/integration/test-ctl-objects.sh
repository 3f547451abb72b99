# hostagentctl's storage, network, job and monitor commands against the agent on a private bus
# (test driver), in a network namespace of the test's own with a veth pair as an uplink: each
# listing's JSON checked against the bus, human lines, exit codes and error lines; a copy's
# progress drawn as a bar under a pseudo-terminal and as one line per update when piped; monitor's
# lines for what happens, and a gap in `sequence` noted.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/storage.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/vm.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/slow-qemu-img.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/ctl.sh"
set +e

netns_start ctl || exit 1
ip -n "$NETNS" link add up0 type veth peer name up0peer
ip -n "$NETNS" link set up0peer up
bus_start
slow_qemu_img_install "$T/bin"
DAEMON_PREFIX=(ip netns exec "$NETNS")
PATH="$T/bin:$PATH" daemon_start --libvirt-uri=test:///default --ovsdb="unix:$T/no-ovsdb.sock" --run-dir="$T/run"
wait_until 30 sh -c 'busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | grep -q true'

# monitor runs through all of it; it says on stderr once it is listening.
"$HOSTAGENTCTL" monitor > "$T/monitor.out" 2> "$T/monitor.err" &
MON=$!
fixture_track "$MON"
wait_until 10 grep -q "Monitoring the signals of org.hostagent1" "$T/monitor.err" && ok "monitor is listening" ||
        fail "monitor never said it listens: $(cat "$T/monitor.err")"
"$HOSTAGENTCTL" --json monitor > "$T/monitor.json" 2>/dev/null &
fixture_track $!
MONJ=$!
"$HOSTAGENTCTL" --json=pretty monitor > "$T/monitor.pretty" 2>/dev/null &
fixture_track $!

# Pools: create, list, show; the JSON is what the bus has.
mkdir -p "$T/pool1"
echo "{\"name\":\"pool1\",\"type\":\"dir\",\"path\":\"$T/pool1\"}" | ctl_run create-pool -
assert_eq "0 /org/hostagent1/storage/pool1" "$CTL_RC $OUT" "create-pool prints the pool's path"
P=/org/hostagent1/storage/pool1
ctl_run --json=short pools; json=$OUT
for prop in Name:name Type:type State:state Source:source CapacityBytes:capacity_bytes AvailableBytes:available_bytes; do
        assert_eq "$(busctl_json get-property org.hostagent1 "$P" org.hostagent1.StoragePool "${prop%%:*}")" \
                "$(json_py 'json.dumps(d["pools"][0]["'"${prop#*:}"'"])' <<<"$json")" "pools --json: ${prop#*:} is the bus's ${prop%%:*}"
done
assert_contains "$(ctl pools | tr -s ' ')" "pool1 dir active" "pools: a line for pool1, active"
assert_contains "$(ctl show-pool pool1)" "State: active" "show-pool"
assert_eq "$P" "$(ctl --json=short show-pool pool1 | json_py 'd["path"]')" "show-pool --json: its path"
ctl_run show-pool nosuch
assert_eq "4 hostagentctl: nosuch: no such pool (NoSuchObject)" "$CTL_RC $OUT" "show-pool of a pool that does not exist: exit 4"
ctl_run create-pool - <<<'{"name":"p2","type":"dir"}'
assert_eq 1 "$CTL_RC" "a bad pool spec exits 1"
assert_contains "$OUT" "hostagentctl: p2: cannot create the pool: path: " "naming the field"
assert_contains "$OUT" "(InvalidSpec)" "and the error"

# Volumes: sizes with units, a backing volume, resize, the JSON against the bus.
ctl_run create-volume pool1 disk1 10M --format=raw
assert_eq "0 $P/disk1" "$CTL_RC $OUT" "create-volume 10M prints the volume's path"
assert_eq "t 10485760" "$(vol_prop "$P" disk1 CapacityBytes)" "10M is 10 MiB"
ctl_run create-volume pool1 ov 1G --backing=disk1
assert_eq "s \"disk1\"" "$(vol_prop "$P" ov BackingVolume)" "--backing makes an overlay"
assert_eq "s \"qcow2\"" "$(vol_prop "$P" ov Format)" "qcow2 by default"
ctl_run create-volume pool1 bad 10Q
assert_eq "1 hostagentctl: 10Q: not a size (a number of bytes, or with a unit: 10G, 512M)" "$CTL_RC $OUT" "a size without a known unit"
assert_eq 0 "$(ctl_rc resize-volume pool1 disk1 20M)" "resize-volume"
assert_eq "t 20971520" "$(vol_prop "$P" disk1 CapacityBytes)" "to 20 MiB"
ctl_run resize-volume pool1 disk1 1M
assert_eq 1 "$CTL_RC" "shrinking exits 1"
assert_contains "$OUT" "hostagentctl: disk1: cannot resize: size_bytes: " "with the agent's reason"
ctl_run --json=short volumes pool1; json=$OUT
assert_eq "disk1 ov" "$(json_py '" ".join(sorted(v["name"] for v in d["volumes"]))' <<<"$json")" "volumes --json lists both"
for prop in Format:format CapacityBytes:capacity_bytes AllocationBytes:allocation_bytes BackingVolume:backing_volume Path:file InUseBy:in_use_by; do
        assert_eq "$(busctl_json get-property org.hostagent1 "$P/ov" org.hostagent1.Volume "${prop%%:*}")" \
                "$(json_py 'json.dumps([v for v in d["volumes"] if v["name"] == "ov"][0]["'"${prop#*:}"'"])' <<<"$json")" \
                "volumes --json: ${prop#*:} is the bus's ${prop%%:*}"
done
assert_contains "$(ctl volumes pool1 | tr -s ' ')" "ov qcow2 1G" "volumes: the overlay, 1G"
ctl_run delete-volume pool1 disk1
assert_eq "1 hostagentctl: disk1: cannot delete: " "$CTL_RC ${OUT%%volume*}" "a volume an overlay reads through is not deleted"
assert_contains "$OUT" "(InUse)" "InUse"
ctl_run delete-volume pool1 nosuch
assert_eq "4 hostagentctl: nosuch: cannot delete: no such volume (UnknownObject)" "$CTL_RC $OUT" "deleting a volume that does not exist: exit 4"

# A copy's progress: a bar redrawn in place on a terminal, a line per update when piped.
ctl create-volume pool1 big 4M --format=raw >/dev/null
dd if=/dev/urandom of="$T/pool1/big" bs=1M count=4 conv=notrunc status=none
out=$(script -qec "$HOSTAGENTCTL clone-volume pool1 big c1" /dev/null)
assert_contains "$out" $'\r'"job " "on a terminal the progress is redrawn in place"
assert_contains "$out" "] 100%" "as a bar that reaches 100%"
assert_contains "$out" "done" "and the copy is done"
assert_eq 's "raw"' "$(vol_prop "$P" c1 Format)" "the copy is there"
ctl_run clone-volume pool1 big c2
assert_eq 0 "$CTL_RC" "clone-volume exits 0 once the copy is done"
assert_not_contains "$OUT" $'\r' "piped, no carriage returns"
assert_contains "$OUT" "%"$'\n'"job " "piped, one line per update"
assert_eq "done" "$(tail -1 <<<"$OUT" | awk '{print $3}')" "the last line says done"
[ "$(grep -c '%$' <<<"$OUT")" -ge 2 ] && ok "more than one progress line: $(grep '%$' <<<"$OUT" | paste -sd' ')" ||
        fail "progress lines: $OUT"
ctl_run clone-volume pool1 big c3 --no-wait
JOB=$OUT
assert_contains "$JOB" "/org/hostagent1/job/" "clone-volume --no-wait prints the job"
ctl_run --json=short jobs; json=$OUT
assert_eq "clone $P/big" "$(json_py '[v["type"] + " " + v["object"] for v in d["jobs"] if v["path"] == "'"$JOB"'"][0]' <<<"$json")" \
        "jobs --json: the copy's type and volume"
assert_eq 0 "$(ctl_rc cancel "${JOB##*/}")" "cancel the copy by its number"
ctl_run wait "$JOB"
assert_eq 1 "$CTL_RC" "wait on a cancelled job exits 1"
assert_contains "$OUT" "hostagentctl: $JOB: cannot wait: " "and says how it ended"
assert_contains "$OUT" "cancelled" "cancelled"
assert_eq 4 "$(ctl_rc cancel 424242)" "cancel of a job that does not exist exits 4"
assert_eq 0 "$(ctl_rc delete-volume pool1 c2)" "delete-volume"
assert_contains "$(vol_prop "$P" c2 Name)" "Unknown object" "the volume is gone"

for verb in deactivate-pool activate-pool refresh-pool; do
        assert_eq 0 "$(ctl_rc $verb pool1)" "$verb"
done

# Networks: the plan of a dry run as a table, then the real thing, listed as the bus has it.
echo '{"networks":{"vmnet":{"uplink":"up0","mtu":1400,"addresses":["192.0.2.1/24"]}}}' > "$T/net.json"
ctl_run setup-networks "$T/net.json" --dry-run
assert_eq 0 "$CTL_RC" "setup-networks --dry-run exits 0"
assert_eq "STEP ACTION LINK VALUE" "$(head -1 <<<"$OUT" | tr -s ' ')" "it prints the plan as a table"
assert_contains "$(tr -s ' ' <<<"$OUT")" "1 create bridge vmnet" "its first step makes the bridge"
assert_eq 4 "$(ctl_rc show-network vmnet)" "a dry run made nothing: show-network exits 4"
ctl_run --json=short setup-networks "$T/net.json"
assert_eq "create bridge" "$(json_py 'd["plan"][0]["action"]' <<<"$OUT")" "setup-networks --json prints the plan applied"
ctl_run --json=short networks; json=$OUT
for prop in Name:name Bridge:bridge Uplink:uplink MTU:mtu Addresses:addresses State:state Switch:switch Ports:ports; do
        assert_eq "$(busctl_json get-property org.hostagent1 /org/hostagent1/network/vmnet org.hostagent1.Network "${prop%%:*}")" \
                "$(json_py 'json.dumps(d["networks"][0]["'"${prop#*:}"'"])' <<<"$json")" "networks --json: ${prop#*:} is the bus's ${prop%%:*}"
done
assert_contains "$(ctl networks | tr -s ' ')" "vmnet linux ok" "networks: vmnet, ok"
assert_contains "$(ctl show-network vmnet)" "Addresses: 192.0.2.1/24" "show-network: its address"
echo '{"networks":{"vmnet":{"uplink":"nosuch0"}}}' | ctl_run setup-networks -
assert_eq 1 "$CTL_RC" "setup-networks with a missing uplink exits 1"
assert_contains "$OUT" "hostagentctl: -: cannot set up the networks: " "in one line"
ctl_run confirm-networks
assert_eq 1 "$CTL_RC" "confirm-networks with nothing to confirm exits 1"
assert_contains "$OUT" "(InvalidState)" "InvalidState"
ctl_run network-caps; caps=$(tr -s ' ' <<<"$OUT")
assert_eq 0 "$CTL_RC" "network-caps exits 0"
assert_eq "INTERFACE KIND STATE CARRIER MTU SPEED MAC MASTER ADDRESSES" "$(head -1 <<<"$caps")" \
        "network-caps prints the host's interfaces as a table"
assert_contains "$caps" "vmnet bridge " "a line for the network's bridge"
assert_contains "$caps" " 192.0.2.1/24" "with its address"
assert_eq "vmnet" "$(grep '^up0 ' <<<"$caps" | awk '{print $NF}')" "the uplink's line names its master"
assert_contains "$caps" "Networks: vmnet" "and after the table, the agent's networks"
assert_contains "$caps" "VLANs: " "and what the kernel can build"
assert_not_contains "$OUT" '"interfaces"' "no JSON for people"
ctl_run --json=short network-caps
assert_eq "same" "$(/usr/bin/python3 -c "
import json, subprocess, sys
bus = json.loads(json.loads(subprocess.run(['busctl', '--system', '--json=short', 'call', 'org.hostagent1', '/org/hostagent1',
      'org.hostagent1.Manager', 'GetNetworkCapabilities'], capture_output=True, text=True).stdout)['data'][0])
ctl = json.loads(sys.argv[1])
print('same' if bus['networks'] == ctl['networks'] and [i['name'] for i in bus['interfaces']] == [i['name'] for i in ctl['interfaces']] else (bus, ctl))" "$OUT")" \
        "network-caps --json is the agent's JSON"

# What monitor saw, one line each.
ctl pause test >/dev/null
wait_until 10 grep -q "StateChanged state=paused" "$T/monitor.out"
mon=$(cat "$T/monitor.out")
assert_contains "$mon" "pool pool1: added StoragePool Name=pool1 Type=dir State=active" "monitor: a pool added"
assert_contains "$mon" "volume pool1/disk1: added Volume Name=disk1" "a volume added"
assert_contains "$mon" "volume pool1/c2: removed Volume" "a volume removed"
assert_contains "$mon" "agent: JobNew job=job " "a job's start"
assert_contains "$mon" "result=cancelled" "a job's end"
assert_contains "$mon" "network vmnet: added Network Name=vmnet State=ok" "a network added"
assert_contains "$mon" "VM test: changed State=paused StateReason=user" "a property change"
assert_contains "$mon" "VM test: StateChanged state=paused reason=user sequence=" "a typed signal with its sequence"
assert_contains "$mon" "job 1: added Job Type=clone Object=volume pool1/big State=running" "a job with its volume"
assert_not_contains "$mon" "gap" "no gap while nothing was missed"
grep -q '"signal":"StateChanged"' "$T/monitor.json" && ok "monitor --json: a JSON object per signal" || fail "no JSON StateChanged"
/usr/bin/python3 -c "
import json, sys
for line in open('$T/monitor.json'): json.loads(line)" && ok "every line of monitor --json parses" || fail "monitor --json: a line is not JSON"
# --json=pretty: each signal an object spread over lines, one after the other.
assert_eq "pretty" "$(/usr/bin/python3 -c "
import json
text, dec, at, objs = open('$T/monitor.pretty').read(), json.JSONDecoder(), 0, []
while text[at:].strip():
    at += len(text[at:]) - len(text[at:].lstrip())
    o, end = dec.raw_decode(text, at); objs.append((o, text[at:end])); at = end
print('pretty' if len(objs) > 1 and all(chunk.count(chr(10)) > 2 for _, chunk in objs)
      and any(o.get('signal') == 'StateChanged' for o, _ in objs) else text[:500])")" \
        "monitor --json=pretty: every signal a JSON object over several lines"

# A gap in sequence: an agent that skips two numbers (this one, in Python, owning the name).
daemon_stop && ok "the daemon exits cleanly" || fail "daemon exit status"
/usr/bin/python3 - <<'PY'
from gi.repository import Gio, GLib
bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
bus.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'RequestName',
              GLib.Variant('(su)', ('org.hostagent1', 4)), None, 0, -1, None)
for seq in (1, 2, 5):
    bus.emit_signal(None, '/org/hostagent1/vm/fake', 'org.hostagent1.VM', 'StateChanged',
                    GLib.Variant('(sst)', ('paused', 'user', seq)))
bus.flush_sync(None)
PY
wait_until 10 grep -q "sequence=5" "$T/monitor.out"
mon=$(cat "$T/monitor.out")
assert_contains "$mon" "agent: left the bus" "monitor: the agent leaving"
assert_contains "$mon" "agent: is on the bus" "and one coming"
assert_contains "$mon" "-- gap: 2 signal(s) missed (sequence 3 to 4)" "a gap in sequence is noted"
assert_eq 1 "$(grep -c -- '-- gap' <<<"$mon")" "once"
wait_until 10 grep -q '"gap":2' "$T/monitor.json" && ok "monitor --json notes the gap" || fail "no gap in JSON"
fixture_finish
