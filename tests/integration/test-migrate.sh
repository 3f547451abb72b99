# Live migration between two hosts on one machine (tests/lib/two-hosts.sh): the
# small Linux guest (tests/lib/small-guest.sh), its disk a volume of an NFS pool
# both agents have, rewriting part of its memory; migrated through VM.Migrate
# and watched on both buses.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/storage.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/vm.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/small-guest.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/two-hosts.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/ssh-bridge.sh"
set +e

small_guest_build || { fail "cannot build the small guest"; fixture_finish; exit 1; }
two_hosts_start || { fail "cannot start the two hosts"; fixture_finish; exit 1; }
two_hosts_nfs || { fail "cannot share an NFS pool between the hosts"; fixture_finish; exit 1; }
for h in a b; do   # a network of the same name on both hosts: a bridge in each namespace
        out=$("on_$h" manager_call SetupNetworks "$(gv_string '{"networks":{"mignet":{}}}')" '{}')
        assert_contains "$out" "mignet" "host ${h^^}'s agent has a network mignet"
done
ok "two hosts, each with its libvirtd, bus and agent, an NFS pool and a network mignet on both"

VA="virsh -q -c $A_LV_URI"
VB="virsh -q -c $B_LV_URI"
SIGNALS="/usr/bin/python3 $HOSTAGENT_SOURCE_DIR/tests/lib/signals.py"
job_of() { grep -o "/org/hostagent1/job/[0-9]*" <<<"$1" | head -1; }
mig_prop() { busctl --system get-property org.hostagent1 "$1" org.hostagent1.Migration "$2" 2>&1; }
job_done() { job_prop "$1" State | grep -q finished; }
qemu_pid() { cat "$1/run/libvirt/qemu/$2.pid" 2>/dev/null; }
monitor_start() {   # a|b FILE: a JSON bus monitor on that host's bus
        "on_$1" bus_monitor_start "$2" busctl --system monitor --json=short org.hostagent1
        eval "MON_${1^^}=\$MONITOR_PID"
}
monitor_stop() {    # a|b FILE
        MONITOR_FILE=$2 MONITOR_PID=$(eval echo "\$MON_${1^^}") "on_$1" bus_monitor_stop
}

# The guest: its disk a volume of the shared pool.
on_a pool_call /org/hostagent1/storage/shared CreateVolume g1disk 16777216 qcow2 {} >/dev/null
DISK="<disk type='network' device='disk'><driver name='qemu' type='qcow2'/>
  <source protocol='nfs' name='/export/g1disk'><host name='$A_ADDR'/><identity user='root' group='root'/></source><target dev='vda' bus='virtio'/></disk>"
NIC="<interface type='bridge'><source bridge='mignet'/><model type='virtio'/></interface>"
CON="$T/g1.console"
xml=$(small_guest_xml g1 "$CON" 48 "$DISK$NIC")
out=$(on_a manager_call CreateVMFromXML "$(gv_string "$xml")")
G1=$(grep -o "/org/hostagent1/vm/[A-Za-z0-9_]*" <<<"$out")
[ -n "$G1" ] && ok "g1 defined on A through its agent" || { fail "CreateVMFromXML: $out"; fixture_finish; exit 1; }
assert_eq "()" "$(on_a vm_call "$G1" Start)" "g1 starts on A"
wait_until 60 sh -c "grep -q 'small-guest: uptime [3-9]' '$CON'" && ok "the guest booted and counts its uptime" ||
        fail "no uptime on the console: $(tail -5 "$CON")"
assert_eq 'o "/"' "$(on_a vm_prop "$G1" Migration)" "Migration is / while it does not migrate"

# A live migration: the VM moves, the guest never reboots, both buses tell it.
monitor_start a "$T/mon-a"
monitor_start b "$T/mon-b"
up_before=$(small_guest_uptime "$CON")
spec_g1=$(on_a vm_prop "$G1" Spec)
out=$(on_a vm_call "$G1" Migrate "'$B_URI'" "{'stall_timeout_sec': <uint32 2>}")
JOB=$(job_of "$out")
[ -n "$JOB" ] && ok "Migrate returns a job ($JOB)" || fail "Migrate: $out"
assert_eq 's "migrate"' "$(on_a job_prop "$JOB" Type)" "its Type is migrate"
assert_eq "o \"$G1\"" "$(on_a job_prop "$JOB" Object)" "its Object is the VM"
assert_eq "o \"$JOB\"" "$(on_a vm_prop "$G1" Migration)" "the VM's Migration names the job"
assert_eq "s \"$B_URI\"" "$(on_a mig_prop "$JOB" Destination)" "Migration.Destination"
assert_contains "$(on_a vm_call "$G1" Pause)" "org.hostagent1.Error.InvalidState" "Pause of a migrating VM is InvalidState"
on_a wait_until 120 job_done "$JOB"
assert_eq 's "done"' "$(on_a job_prop "$JOB" Result)" "the migration is done (Error: $(on_a job_prop "$JOB" Error))"
assert_eq 's "done"' "$(on_a mig_prop "$JOB" Phase)" "Phase is done"
wait_until 20 sh -c "$VB domstate g1 | grep -q running" && ok "g1 runs on B" || fail "g1 on B: $($VB domstate g1 2>&1)"
assert_contains "$($VA list --all --name)" "" "libvirt on A"
[ -z "$($VA list --all --name | grep -x g1)" ] && ok "g1 is gone from A's libvirt" || fail "g1 still on A"
sleep 2
up_after=$(small_guest_uptime "$CON")
[ "$(small_guest_boots "$CON")" = 1 ] && [ "${up_after:-0}" -gt "${up_before:-0}" ] &&
        ok "the guest never rebooted: uptime $up_before s before, $up_after s after" ||
        fail "the guest rebooted or stopped: $(small_guest_boots "$CON") boots, uptime $up_before -> $up_after"
small_guest_crashed "$CON" && fail "the guest kernel crashed on the console (a QEMU TCG fault, see RECIPES): $(grep -m3 -E 'BUG|panic' "$CON")"
B_G1=$(on_b vm_path_of g1)
assert_eq "$G1" "$B_G1" "B's agent publishes g1 at the same path"
wait_until 10 sh -c "DBUS_SYSTEM_BUS_ADDRESS=$B_BUS busctl --system get-property org.hostagent1 $G1 org.hostagent1.VM StateReason | grep -q migrated"
assert_eq 's "migrated"' "$(on_b vm_prop "$G1" StateReason)" "on B: running because migrated"
assert_contains "$(on_a manager_call GetVM "'g1'")" "NoSuchVM" "A's agent no longer has g1"
monitor_stop a "$T/mon-a"
monitor_stop b "$T/mon-b"
$SIGNALS "$T/mon-a" > "$T/sig-a"
$SIGNALS "$T/mon-b" > "$T/sig-b"
grep -E "^phase $JOB|^state $G1|^removed $G1" "$T/sig-a" | awk '{print $3 ? $1":"$3 : $1}' | uniq > "$T/order-a"
# The job is announced once the destination accepted the migration: a pre-copy
# shorter than the agent's first look is over by then, and it starts in completing.
phases=$(grep ^phase "$T/order-a" | tr '\n' ' ')
[[ "$phases" =~ ^(phase:precopy\ )?phase:completing\ phase:done\ $ ]] &&
        ok "A's subscriber: Phase precopy, completing, done ($phases)" || fail "A's subscriber: Phases $phases"
assert_eq "state:paused/migration state:shutoff/migrated removed " "$(grep -v ^phase "$T/order-a" | tr '\n' ' ')" \
        "A's subscriber: paused for the last pass, shut off (migrated), the VM withdrawn"
[ "$(grep -n 'state:paused' "$T/order-a" | cut -d: -f1)" -lt "$(grep -n 'phase:completing' "$T/order-a" | cut -d: -f1)" ] &&
        ok "completing follows the pause" || fail "completing before the pause: $(cat "$T/order-a")"
order_b=$(grep -E "^added $G1|^state $G1" "$T/sig-b" | awk '{print $3 ? $1":"$3 : $1}' | uniq | tr '\n' ' ')
[[ "$order_b" =~ ^added\ state:paused/incoming\ (.*\ )?state:running/migrated\ $ ]] &&
        ok "B's subscriber: the VM appears as libvirt starts it, paused/incoming, then runs, migrated ($order_b)" ||
        fail "B's subscriber: $order_b"
assert_eq "$spec_g1" "$(on_b vm_prop "$G1" Spec)" "B's agent shows g1 with the Spec it had on A"
nics=$(on_b vm_prop "$G1" NICs)
assert_contains "$nics" '"network:mignet"' "B's agent: g1's NIC is on B's network mignet"
tap=$(awk -F'"' '{print $8}' <<<"$nics")
[ -n "$tap" ] && ip -n "$B_NS" link show master mignet | grep -q ": $tap[:@]" &&
        ok "its tap $tap is in B's bridge mignet" || fail "tap '$tap' not in B's mignet: $(ip -n "$B_NS" link show master mignet)"

# rises HOST-SIGNALS JOB: how many times DataProcessedBytes of JOB went up.
rises() { grep "^data $2" "$1" | awk 'NR > 1 && $3 > last { n++ } { last = $3 } END { print n + 0 }'; }

# Cancel, with a cap so low the dirtying guest cannot converge: it runs on at B, same QEMU.
pid_b=$(qemu_pid "$B_LV" g1)
monitor_start b "$T/mon-b2"
JOB=$(job_of "$(on_b vm_call "$G1" Migrate "'$A_URI'" "{'bandwidth_mib': <uint32 16>}")")
[ -n "$JOB" ] && ok "a migration back to A with a 16 MiB/s cap" || fail "Migrate with a cap"
assert_eq "u 16" "$(on_b mig_prop "$JOB" BandwidthMiB)" "BandwidthMiB is the cap"
data_rose() { [ "$(on_b mig_prop "$JOB" DataProcessedBytes | awk '{print $2}')" -gt "${1:-0}" ]; }
wait_until 30 data_rose 0
first=$(on_b mig_prop "$JOB" DataProcessedBytes | awk '{print $2}')
wait_until 30 data_rose "$first" && ok "DataProcessedBytes rises while it runs" || fail "no progress: $first"
assert_eq "()" "$(on_b bus_call "$JOB" org.hostagent1.Job.Cancel)" "Cancel"
on_b wait_until 60 job_done "$JOB"
assert_eq 's "cancelled"' "$(on_b job_prop "$JOB" Result)" "the job ends cancelled"
assert_eq 's "cancelled"' "$(on_b mig_prop "$JOB" Phase)" "Phase is cancelled"
assert_eq "running" "$($VB domstate g1)" "g1 runs on at B"
assert_eq "$pid_b" "$(qemu_pid "$B_LV" g1)" "with the same QEMU process ($pid_b)"
kill -0 "$pid_b" 2>/dev/null && ok "which is alive" || fail "QEMU $pid_b is gone"
[ -z "$($VA list --all --name | grep -x g1)" ] && ok "nothing of g1 is left on A" || fail "g1 left on A: $($VA list --all)"
assert_contains "$(on_a manager_call GetVM "'g1'")" "NoSuchVM" "and A's agent shows nothing"
assert_eq 's "running"' "$(on_b vm_prop "$G1" State)" "B's agent: g1 running"
assert_eq 'o "/"' "$(on_b vm_prop "$G1" Migration)" "and not migrating"
monitor_stop b "$T/mon-b2"

# Post-copy finishes what pre-copy cannot, once progress stalls.
monitor_start b "$T/mon-b3"
JOB=$(job_of "$(on_b vm_call "$G1" Migrate "'$A_URI'" \
        "{'bandwidth_mib': <uint32 16>, 'convergence': <'postcopy'>, 'stall_timeout_sec': <uint32 2>}")")
on_b wait_until 120 job_done "$JOB"
assert_eq 's "done"' "$(on_b job_prop "$JOB" Result)" "the post-copy migration is done (Error: $(on_b job_prop "$JOB" Error))"
monitor_stop b "$T/mon-b3"
$SIGNALS "$T/mon-b3" > "$T/sig-b3"
assert_contains "$(grep "^phase $JOB" "$T/sig-b3" | awk '{print $3}' | tr '\n' ' ')" "precopy postcopy " \
        "it switched from pre-copy to post-copy"
n=$(rises "$T/sig-b3" "$JOB")
[ "$n" -ge 2 ] && ok "DataProcessedBytes rose $n times before done" || fail "DataProcessedBytes rose $n times"
wait_until 20 sh -c "$VA domstate g1 | grep -q running" && ok "g1 runs on A" || fail "g1 on A: $($VA domstate g1 2>&1)"
sleep 1
[ "$(small_guest_boots "$CON")" = 1 ] && ok "the guest still never rebooted (uptime $(small_guest_uptime "$CON") s)" ||
        fail "the guest rebooted"
small_guest_crashed "$CON" && fail "the guest kernel crashed (a QEMU TCG fault, see RECIPES): $(grep -m3 -E 'BUG|panic' "$CON")"

# kill -9 of the source agent mid-migration: libvirt carries it on, the next agent follows it.
JOB=$(job_of "$(on_a vm_call "$G1" Migrate "'$B_URI'" "{'bandwidth_mib': <uint32 16>}")")
wait_until 30 sh -c "DBUS_SYSTEM_BUS_ADDRESS=$A_BUS busctl --system get-property org.hostagent1 $JOB org.hostagent1.Migration DataProcessedBytes | grep -q '^t [1-9]'"
kill -KILL "$A_DAEMON_PID"; wait "$A_DAEMON_PID" 2>/dev/null
kill -KILL "$B_DAEMON_PID"; wait "$B_DAEMON_PID" 2>/dev/null   # the destination's agent too
wait_until 10 sh -c "$VA domjobinfo g1 | grep -qi migration" && ok "killed the source agent; libvirt migrates on" || fail "no job in libvirt after the kill"
agent_restart a
assert_eq 's "running"' "$(on_a job_prop "$JOB" State)" "the new agent publishes the job again, running"
assert_eq 's "migrate"' "$(on_a job_prop "$JOB" Type)" "as a migration"
first=$(on_a mig_prop "$JOB" DataProcessedBytes | awk '{print $2}')
sleep 2.5
second=$(on_a mig_prop "$JOB" DataProcessedBytes | awk '{print $2}')
[ "${second:-0}" -gt "${first:-0}" ] && ok "with live progress ($first, then $second bytes)" || fail "progress: $first, $second"
assert_eq "()" "$(on_a bus_call "$JOB" org.hostagent1.Migration.SetMaxDowntime 2000)" "SetMaxDowntime on the job carried on"
assert_eq "()" "$(on_a bus_call "$JOB" org.hostagent1.Migration.SetBandwidth 0)" "SetBandwidth(0) lifts the cap"
on_a wait_until 60 job_done "$JOB"
assert_eq 's "done"' "$(on_a job_prop "$JOB" Result)" "the migration ends done (Error: $(on_a job_prop "$JOB" Error))"
wait_until 20 sh -c "$VB domstate g1 | grep -q running" && ok "g1 runs on B" || fail "g1 on B: $($VB domstate g1 2>&1)"
agent_restart b
wait_until 20 sh -c "DBUS_SYSTEM_BUS_ADDRESS=$B_BUS busctl --system get-property org.hostagent1 $G1 org.hostagent1.VM State | grep -q running"
assert_eq 's "running" s "migrated"' "$(on_b vm_prop "$G1" State) $(on_b vm_prop "$G1" StateReason)" \
        "a new destination agent, started after the kill, shows g1 running, migrated"

# --max-migrations=1: a second migration waits, queued, and runs after the first.
# (A long stall timeout: this part is about the queue, and a loaded machine may stall a while.)
kill -TERM "$B_DAEMON_PID"; wait "$B_DAEMON_PID" 2>/dev/null
agent_restart b --max-migrations=1
H1=$(on_b manager_call CreateVM "$(gv_string '{"name":"h1","type":"qemu","memory_mib":64,"start":true}')" | grep -o "/org/hostagent1/vm/[A-Za-z0-9_]*")
wait_until 20 sh -c "DBUS_SYSTEM_BUS_ADDRESS=$B_BUS busctl --system get-property org.hostagent1 $H1 org.hostagent1.VM State | grep -q running"
spec_h1=$(on_b vm_prop "$H1" Spec)
ip -n "$B_NS" link add bry$$ type bridge && ip -n "$B_NS" link set bry$$ up   # none on A
Q1=$(on_b manager_call CreateVM "$(gv_string "{\"name\":\"q1\",\"type\":\"qemu\",\"memory_mib\":64,\"start\":true,\"nics\":[{\"bridge\":\"bry$$\"}]}")" | grep -o "/org/hostagent1/vm/[A-Za-z0-9_]*")
wait_until 20 sh -c "DBUS_SYSTEM_BUS_ADDRESS=$B_BUS busctl --system get-property org.hostagent1 $Q1 org.hostagent1.VM State | grep -q running"
JOB1=$(job_of "$(on_b vm_call "$G1" Migrate "'$A_URI'" \
        "{'bandwidth_mib': <uint32 16>, 'stall_timeout_sec': <uint32 60>}")")
JOB2=$(job_of "$(on_b vm_call "$H1" Migrate "'$A_URI'" "{}")")
assert_eq 's "queued"' "$(on_b mig_prop "$JOB2" Phase)" "with one running, the second migration is queued"
JOB3=$(job_of "$(on_b vm_call "$Q1" Migrate "'$A_URI'" "{}")")
assert_eq 's "queued"' "$(on_b mig_prop "$JOB3" Phase)" "a third one to a destination that will refuse it: queued, answered at once"
sleep 1
assert_eq 's "queued"' "$(on_b mig_prop "$JOB2" Phase)" "and stays queued while the first runs"
assert_eq "()" "$(on_b bus_call "$JOB1" org.hostagent1.Migration.SetMaxDowntime 2000)" "the first one may pause 2 s"
assert_eq "t 2000" "$(on_b mig_prop "$JOB1" DowntimeMs)" "DowntimeMs says so"
assert_eq "()" "$(on_b bus_call "$JOB1" org.hostagent1.Migration.SetBandwidth 0)" "and its cap is lifted"
on_b wait_until 60 job_done "$JOB2"
assert_eq 's "done" s "done"' "$(on_b job_prop "$JOB1" Result) $(on_b job_prop "$JOB2" Result)" \
        "both are done, in order ($(on_b job_prop "$JOB1" Error))"
assert_eq "running running" "$($VA domstate g1) $($VA domstate h1)" "both run on A"
on_b wait_until 60 job_done "$JOB3"
assert_eq 's "failed"' "$(on_b job_prop "$JOB3" Result)" "its turn came and A refused it: the queued job fails"
assert_contains "$(on_b job_prop "$JOB3" Error)" "bry$$" "with libvirt's words naming the bridge"
assert_eq "running" "$($VB domstate q1)" "q1 runs on at B"
[ -z "$($VA list --all --name | grep -x q1)" ] && ok "nothing of q1 on A" || fail "q1 left on A"
assert_eq "$spec_h1" "$(on_a vm_prop "$H1" Spec)" "A's agent shows h1 with the Spec it had on B (it travels in the metadata)"

# hostagentctl migrate: waits for the job, showing its progress.
out=$(on_a "$HOSTAGENTCTL" migrate h1 "$B_URI" 2>&1); rc=$?
assert_eq 0 "$rc" "hostagentctl migrate h1 exits 0 once the job is done ($out)"
assert_eq "running" "$($VB domstate h1)" "h1 runs on B"
out=$(on_a "$HOSTAGENTCTL" migrate g1 "$B_URI" --convergence=fast 2>&1); rc=$?
assert_eq "1 hostagentctl: g1: cannot migrate: options.convergence: must be one of downtime-steps, auto-converge, postcopy, none (InvalidArgs)" \
        "$rc $out" "hostagentctl migrate: a refusal in one line"

# A manager on host A drives host B's agent the systemd way: busctl --host=root@hostB, that is
# ssh to an sshd in B's namespace whose session is systemd-stdio-bridge on B's bus (h1 runs on B).
ssh_bridge_start "$B_NS" "$B_ADDR" "$B_BUS" hostB || fail "sshd in B's namespace: $(cat "$SSH_BRIDGE_LOG")"
on_host_b() {   # busctl ARGS... run on host A, reaching B's agent over ssh
        ip netns exec "$A_NS" env -u DBUS_SYSTEM_BUS_ADDRESS PATH="$SSH_BRIDGE_PATH:$PATH" \
                busctl --host=root@hostB "$@" 2>&1
}
assert_eq 's "running"' "$(on_host_b get-property org.hostagent1 "$H1" org.hostagent1.VM State)" \
        "busctl --host=root@hostB: B's agent says h1 runs"
assert_contains "$(cat "$SSH_BRIDGE_LOG")" "Accepted publickey for root from $A_ADDR" "through B's sshd, from A"
JOB=$(job_of "$(on_host_b call org.hostagent1 "$H1" org.hostagent1.VM Migrate 'sa{sv}' "$A_URI" 0)")
[ -n "$JOB" ] && ok "busctl --host=root@hostB call ... Migrate: B's agent migrates h1 to A ($JOB)" || fail "Migrate over ssh"
on_b wait_until 60 job_done "$JOB"
assert_eq 's "done"' "$(on_host_b get-property org.hostagent1 "$JOB" org.hostagent1.Job Result)" \
        "and its job, read over ssh, is done"
assert_eq "running" "$($VA domstate h1)" "h1 runs on A"

# The options whose effect a user can see, one migration each way (g1 runs on A): QEMU's
# migration capabilities and connections on the source while it runs (held by a cap it
# cannot converge under, then let go: SetBandwidth(0)), where the stream went, and libvirt's
# completed statistics.
caps_on() {   # LIBVIRT-URI: the migration capabilities g1's QEMU has on
        virsh -q -c "$1" qemu-monitor-command g1 '{"execute":"query-migrate-capabilities"}' |
                python3 -c 'import json, sys; print(" ".join(c["capability"] for c in json.load(sys.stdin)["return"] if c["state"]))'
}
qemu_conns() {   # NS ADDR: a QEMU's TCP connections in NS to ADDR, but its disk's (NFS)
        ip netns exec "$1" ss -Htnp state established dst "$2" | grep qemu | grep -vc ':2049 '
}
rx_b() { ip netns exec "$B_NS" cat "/sys/class/net/$B_MIF/statistics/rx_bytes"; }
held() {   # HOST JOB: the migration runs, held by its cap
        "on_$1" mig_prop "$2" Phase | grep -q precopy
}
rx0=$(rx_b)
JOB=$(job_of "$(on_a vm_call "$G1" Migrate "'$B_URI'" "{'migration_uri': <'tcp://$B_MADDR'>, \
        'parallel_connections': <uint32 2>, 'bandwidth_mib': <uint32 8>, 'stall_timeout_sec': <uint32 60>}")")
held a "$JOB" && ok "migration_uri and parallel_connections: it runs ($JOB)" || fail "Migrate: $(on_a mig_prop "$JOB" Phase)"
assert_contains " $(caps_on "$A_LV_URI") " " multifd " "parallel_connections: the source QEMU migrates in parallel (multifd)"
n=$(qemu_conns "$A_NS" "$B_MADDR")
[ "$n" -ge 3 ] && ok "over $n connections to migration_uri's address (the main one and 2)" ||
        fail "the source QEMU has $n connections to $B_MADDR"
assert_eq 0 "$(qemu_conns "$A_NS" "$B_ADDR")" "and none to the host's own address"
on_a bus_call "$JOB" org.hostagent1.Migration.SetBandwidth 0 >/dev/null
on_a bus_call "$JOB" org.hostagent1.Migration.SetMaxDowntime 2000 >/dev/null
on_a wait_until 60 job_done "$JOB"
assert_eq 's "done"' "$(on_a job_prop "$JOB" Result)" "then let go, it is done (Error: $(on_a job_prop "$JOB" Error))"
rx=$(( $(rx_b) - rx0 ))
[ "$rx" -gt $((32 << 20)) ] && ok "the memory stream went to migration_uri's address: $rx bytes over the migration network" ||
        fail "only $rx bytes over the migration network"
wait_until 20 sh -c "$VB domstate g1 | grep -q running" && ok "g1 runs on B" || fail "g1 on B: $($VB domstate g1 2>&1)"
JOB=$(job_of "$(on_b vm_call "$G1" Migrate "'$A_URI'" "{'tunnelled': <true>, 'compressed': <true>, \
        'convergence': <'auto-converge'>, 'bandwidth_mib': <uint32 8>, 'stall_timeout_sec': <uint32 60>}")")
held b "$JOB" && ok "tunnelled, compressed, auto-converge: it runs ($JOB)" || fail "Migrate: $(on_b mig_prop "$JOB" Phase)"
caps=$(caps_on "$B_LV_URI")
assert_contains " $caps " " auto-converge " "auto-converge: QEMU may throttle the source's vCPUs"
assert_contains " $caps " " xbzrle " "compressed: QEMU compresses the pages it sends again (xbzrle)"
assert_eq "0 0" "$(qemu_conns "$B_NS" "$A_ADDR") $(qemu_conns "$B_NS" "$A_MADDR")" \
        "tunnelled: the source QEMU has no migration connection of its own, libvirtd carries the stream"
on_b bus_call "$JOB" org.hostagent1.Migration.SetBandwidth 0 >/dev/null
on_b wait_until 60 job_done "$JOB"
assert_eq 's "done"' "$(on_b job_prop "$JOB" Result)" "then let go, it is done (Error: $(on_b job_prop "$JOB" Error))"
assert_contains "$($VA domjobinfo --completed g1 2>&1)" "Compressed pages" "libvirt's completed statistics count compressed pages"
wait_until 20 sh -c "$VA domstate g1 | grep -q running" && ok "g1 runs on A" || fail "g1 on A: $($VA domstate g1 2>&1)"
[ "$(small_guest_boots "$CON")" = 1 ] && ok "the guest still never rebooted" || fail "the guest rebooted"

# Refusals: nothing moves, nothing changes on either host.
same_on_a() { [ "$($VA domstate g1)" = running ] && [ -z "$($VB list --all --name | grep -x g1)" ] &&
        [ "$(on_a vm_prop "$G1" Migration)" = 'o "/"' ]; }
refused() {   # OPTIONS EXPECTED-ERROR EXPECTED-TEXT DESCRIPTION
        local out
        out=$(on_a vm_call "$G1" Migrate "'$B_URI'" "$1")
        assert_contains "$out" "$2" "$4: $2"
        assert_contains "$out" "$3" "$4: the error says '$3'"
        same_on_a && ok "$4: nothing changed" || fail "$4: something changed"
}
refused "{'speed': <uint32 1>}" InvalidArgs "options.speed: unknown option" "an unknown option"
refused "{'bandwidth_mib': <'fast'>}" InvalidArgs "options.bandwidth_mib: must be of D-Bus type u" "a wrong type"
refused "{'parallel_connections': <uint32 1000>}" InvalidArgs "options.parallel_connections: must be between" "out of range"
refused "{'convergence': <'magic'>}" InvalidArgs "options.convergence: must be one of" "an unknown policy"
refused "{'tunnelled': <true>, 'migration_uri': <'tcp://192.0.2.2'>}" InvalidArgs "options.migration_uri: cannot be given with tunnelled" "options that conflict"
assert_contains "$(on_a vm_call "$G1" Migrate "'hostB'" "{}")" "InvalidArgs" "a destination that is not a URI is InvalidArgs"
mkdir -p "$T/a/local"
on_a create_pool "{\"name\":\"local\",\"type\":\"dir\",\"path\":\"$T/a/local\"}" >/dev/null
on_a pool_call /org/hostagent1/storage/local CreateVolume d1 1048576 qcow2 {} >/dev/null
L1=$(on_a manager_call CreateVM "$(gv_string '{"name":"l1","type":"qemu","memory_mib":64,"start":true,"disks":[{"pool":"local","volume":"d1"}]}')" | grep -o "/org/hostagent1/vm/[A-Za-z0-9_]*")
out=$(on_a vm_call "$L1" Migrate "'$B_URI'" "{}")
assert_contains "$out" "org.hostagent1.Error.NotSupported" "a VM on a dir pool volume is refused: NotSupported"
assert_contains "$out" "disks[0] (local/d1)" "naming the disk"
assert_eq "running" "$($VA domstate l1)" "l1 runs on at A"
assert_eq 'o "/"' "$(on_a vm_prop "$L1" Migration)" "with no migration"
# A destination libvirt refuses: the call itself is Failed with libvirt's words, no job is
# ever published, nothing moves.
monitor_start a "$T/mon-a4"
ip -n "$A_NS" link add brx$$ type bridge && ip -n "$A_NS" link set brx$$ up
N1=$(on_a manager_call CreateVM "$(gv_string "{\"name\":\"n1\",\"type\":\"qemu\",\"memory_mib\":64,\"start\":true,\"nics\":[{\"bridge\":\"brx$$\"}]}")" | grep -o "/org/hostagent1/vm/[A-Za-z0-9_]*")
out=$(on_a vm_call "$N1" Migrate "'$B_URI'" "{}")
assert_contains "$out" "org.hostagent1.Error.Failed" "a destination without the VM's bridge: the call is refused, Failed"
assert_contains "$out" "brx$$" "with libvirt's words naming the bridge"
out=$(on_a vm_call "$N1" Migrate "'qemu+tcp://$B_ADDR:1/system'" "{}")
assert_contains "$out" "org.hostagent1.Error.Failed" "an unreachable destination: Failed"
assert_contains "$out" "onnect" "with libvirt's words ($out)"
assert_eq "running" "$($VA domstate n1)" "n1 runs on at A"
assert_eq 'o "/"' "$(on_a vm_prop "$N1" Migration)" "with no migration"
[ -z "$($VB list --all --name | grep -x n1)" ] && ok "nothing of n1 on B" || fail "n1 left on B"
monitor_stop a "$T/mon-a4"
$SIGNALS "$T/mon-a4" > "$T/sig-a4"
assert_eq "" "$(grep -E '^(added|jobremoved) /org/hostagent1/job' "$T/sig-a4")" "A's subscriber: no job was published"
out=$(on_a vm_call "$L1" Destroy); on_a vm_call "$L1" Migrate "'$B_URI'" "{}" > "$T/out"
assert_contains "$(cat "$T/out")" "InvalidState" "a VM that is not running: InvalidState"

# A migration that cannot converge and has no step left is aborted: the VM runs on at the source.
pid_a=$(qemu_pid "$A_LV" g1)
JOB=$(job_of "$(on_a vm_call "$G1" Migrate "'$B_URI'" \
        "{'bandwidth_mib': <uint32 16>, 'convergence': <'none'>, 'stall_timeout_sec': <uint32 2>}")")
on_a wait_until 90 job_done "$JOB"
assert_eq 's "failed"' "$(on_a job_prop "$JOB" Result)" "no progress and no step left: the job fails"
assert_contains "$(on_a job_prop "$JOB" Error)" "org.hostagent1.Error.Timeout: no progress for 2 s" "Error says it stalled"
assert_eq "running $pid_a" "$($VA domstate g1) $(qemu_pid "$A_LV" g1)" "g1 runs on at A in the same QEMU"
[ -z "$($VB list --all --name | grep -x g1)" ] && ok "nothing of g1 on B" || fail "g1 left on B"

# Destroy of a migrating VM aborts the migration first: cancelled, the VM off at the source, nothing on B.
JOB=$(job_of "$(on_a vm_call "$G1" Migrate "'$B_URI'" "{'bandwidth_mib': <uint32 16>}")")
wait_until 30 sh -c "DBUS_SYSTEM_BUS_ADDRESS=$A_BUS busctl --system get-property org.hostagent1 $JOB org.hostagent1.Migration DataProcessedBytes | grep -q '^t [1-9]'"
assert_contains "$(on_a vm_call "$G1" Shutdown 30)" "InvalidState" "Shutdown of a migrating VM is InvalidState"
assert_eq "()" "$(on_a vm_call "$G1" Destroy)" "Destroy of a migrating VM"
on_a wait_until 60 job_done "$JOB"
assert_eq 's "cancelled"' "$(on_a job_prop "$JOB" Result)" "its migration ends cancelled"
assert_eq "shut off" "$($VA domstate g1)" "g1 is off at A"
[ -z "$($VB list --all --name | grep -x g1)" ] && ok "nothing of g1 on B" || fail "g1 left on B"

# Both agents stop cleanly (under the sanitizers: nothing leaked).
for h in a b; do
        pid=$(eval echo "\$${h^^}_DAEMON_PID")
        kill -TERM "$pid"; rc=0; wait "$pid" || rc=$?
        assert_eq 0 "$rc" "host ${h^^}'s agent exits cleanly"
        [ "$rc" = 0 ] || grep -v "^hostagentd\[" "$T/$h/daemon.log" | head -60 | sed 's/^/# /'   # the sanitizers' report
done

fixture_finish
