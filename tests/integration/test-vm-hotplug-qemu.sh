# Changing running QEMU guests through the agent. A small Linux guest
# (tests/lib/hotplug-guest.sh, with qemu-guest-agent) sees a disk hot-plugged
# from a pool volume and writes to it, lets go of it through a DetachDisk
# job, sees a NIC hot-plugged on an agent network (its tap in the network's
# Ports), gives memory back to its balloon and brings a hot-added vCPU
# online. A guest with no OS (SeaBIOS, which answers no ACPI eject) never
# lets go: its DetachDisk job ends failed and the disk stays, in Disks and in
# Spec. A disk attached with virsh shows in Disks.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/vm.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/storage.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/hotplug-guest.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/ctl.sh"
set +e

small_guest_build || { fail "the small guest cannot be built"; fixture_finish; exit 1; }
netns_start hotp || exit 1
ip -n "$NETNS" link add up0 type veth peer name up0peer
ip -n "$NETNS" link set up0peer up
LIBVIRTD_PREFIX=(ip netns exec "$NETNS")
libvirtd_start
bus_start
VIRSH="virsh -q -c $LIBVIRT_QEMU_URI"
$VIRSH list --all >/dev/null || { fail "libvirtd's QEMU driver does not answer"; fixture_finish; exit 1; }
DAEMON_PREFIX=(ip netns exec "$NETNS")
# The detach timeout is the daemon's: short, for the guest below that never lets go.
daemon_start --libvirt-uri="$LIBVIRT_QEMU_URI" --detach-timeout=3
wait_until 60 sh -c 'busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | grep -q true'

# The Linux guest boots first (seconds under TCG); the rest is set up meanwhile.
hotplug_guest_xml g1 "$T/g1.console" > "$T/g1.xml"
G1=$(manager_call CreateVMFromXML "$(gv_string "$(cat "$T/g1.xml")")" | grep -o "/org/hostagent1/vm/[^']*")
assert_eq "()" "$(vm_call "$G1" Start)" "the small guest starts"
assert_contains "$(manager_call SetupNetworks "$(gv_string '{"networks":{"vmnet":{"uplink":"up0"}}}')" '{}')" \
        "create bridge" "an agent network"
mkdir -p "$T/pool"
create_pool "{\"name\":\"hp\",\"type\":\"dir\",\"path\":\"$T/pool\"}" >/dev/null
POOL=/org/hostagent1/storage/hp
pool_call "$POOL" CreateVolume '"data1"' 'uint64 8388608' '"raw"' '{}' >/dev/null
[ -f "$T/pool/data1" ] && ok "a pool volume to plug in" || fail "no volume data1"
wait_until 60 guest_agent_ready "$VIRSH" g1 && ok "the guest's agent answers" || fail "the guest agent never answered"

# A disk from the pool: the guest sees it and writes to it.
assert_eq "('vda',)" "$(vm_call "$G1" AttachDisk "$(gv_string '{"pool":"hp","volume":"data1"}')" '{}')" \
        "AttachDisk takes the first free target"
assert_eq 'a(ssssb) 1 "vda" "virtio" "hp/data1" "raw" false' "$(vm_prop "$G1" Disks)" "Disks names it by pool and volume"
assert_contains "$(vol_prop "$POOL" data1 InUseBy)" "$G1" "the volume is in use by the guest"
wait_until 20 sh -c "source $HOSTAGENT_SOURCE_DIR/tests/lib/hotplug-guest.sh; guest_exec '$VIRSH' g1 'ls /sys/block' | grep -q vda"
assert_contains "$(guest_exec "$VIRSH" g1 'ls /sys/block')" "vda" "the guest sees the disk"
guest_exec "$VIRSH" g1 'echo hotplug-was-here > /dev/vda; sync' >/dev/null
assert_contains "$(head -c 64 "$T/pool/data1")" "hotplug-was-here" "what the guest wrote is in the volume"
out=$(vm_call "$G1" AttachDisk "$(gv_string '{"pool":"hp","volume":"data1"}')" '{}')
assert_contains "$out" "org.hostagent1.Error.InUse: disk.volume: hp/data1 is attached to VM g1 already" \
        "the same volume again is InUse"

# Unplugged through a job: the guest lets go.
job=$(vm_call "$G1" DetachDisk '"vda"' | grep -o "/org/hostagent1/job/[0-9]*")
[ -n "$job" ] && ok "DetachDisk returns a job" || fail "DetachDisk: no job"
assert_eq 's "detach-disk"' "$(job_prop "$job" Type)" "of type detach-disk"
wait_until 30 sh -c "busctl --system get-property org.hostagent1 $job org.hostagent1.Job State | grep -q finished"
assert_eq 's "done"' "$(job_prop "$job" Result)" "the job ends done"
assert_eq 'a(ssssb) 0' "$(vm_prop "$G1" Disks)" "Disks is empty again"
assert_not_contains "$(guest_exec "$VIRSH" g1 'ls /sys/block')" "vda" "the guest has no vda any more"
assert_not_contains "$($VIRSH dumpxml --inactive g1)" "data1" "nor has the definition"

# A NIC on the agent network.
out=$(vm_call "$G1" AttachNIC '"{\"network\":\"vmnet\",\"mac\":\"52:54:00:aa:00:01\"}"' '{}')
assert_eq "('52:54:00:aa:00:01',)" "$out" "AttachNIC answers with the MAC"
tap=$($VIRSH domiflist g1 | awk '/vmnet/ {print $1}')
[ -n "$tap" ] && ok "libvirt made a tap ($tap)" || fail "no tap"
assert_eq "a(ssss) 1 \"52:54:00:aa:00:01\" \"virtio\" \"network:vmnet\" \"$tap\"" "$(vm_prop "$G1" NICs)" \
        "NICs: on network vmnet, with its tap"
wait_until 10 sh -c "busctl --system get-property org.hostagent1 /org/hostagent1/network/vmnet org.hostagent1.Network Ports | grep -q '$tap'"
assert_contains "$(busctl --system get-property org.hostagent1 /org/hostagent1/network/vmnet org.hostagent1.Network Ports)" \
        "\"$tap\"" "the tap is in the network's Ports"
wait_until 20 sh -c "source $HOSTAGENT_SOURCE_DIR/tests/lib/hotplug-guest.sh; guest_exec '$VIRSH' g1 'cat /sys/class/net/*/address' | grep -q 52:54:00:aa:00:01"
assert_contains "$(guest_exec "$VIRSH" g1 'cat /sys/class/net/*/address')" "52:54:00:aa:00:01" "the guest sees a new interface"
job=$(vm_call "$G1" DetachNIC '"52:54:00:aa:00:01"' | grep -o "/org/hostagent1/job/[0-9]*")
wait_until 30 sh -c "busctl --system get-property org.hostagent1 $job org.hostagent1.Job State | grep -q finished"
assert_eq 's "done"' "$(job_prop "$job" Result)" "DetachNIC's job ends done"
assert_eq 'a(ssss) 0' "$(vm_prop "$G1" NICs)" "NICs is empty again"
wait_until 10 sh -c "! busctl --system get-property org.hostagent1 /org/hostagent1/network/vmnet org.hostagent1.Network Ports | grep -q '$tap'"
assert_not_contains "$(busctl --system get-property org.hostagent1 /org/hostagent1/network/vmnet org.hostagent1.Network Ports)" \
        "\"$tap\"" "the tap left the network's Ports"

# The same with hostagentctl, which waits for the detach job.
pool_call "$POOL" CreateVolume '"data2"' 'uint64 4194304' '"raw"' '{}' >/dev/null
ctl_run attach-disk g1 '{"pool":"hp","volume":"data2","bus":"virtio"}'
assert_eq "0 vda" "$CTL_RC $OUT" "hostagentctl attach-disk prints the target"
ctl_run detach-disk g1 vda
assert_eq "0" "$CTL_RC" "hostagentctl detach-disk waits for the guest to let go: $OUT"
assert_eq 'a(ssssb) 0' "$(vm_prop "$G1" Disks)" "and the disk is gone"

# The balloon and the vCPUs.
total() { guest_exec "$VIRSH" g1 "sed -n 's/MemTotal: *\\([0-9]*\\).*/\\1/p' /proc/meminfo"; }
before=$(total)
assert_eq "()" "$(vm_call "$G1" SetMemory 'uint64 192')" "SetMemory 192 MiB"
wait_until 30 sh -c "busctl --system get-property org.hostagent1 $G1 org.hostagent1.VM CurrentMemoryMiB | grep -qx 't 192'"
assert_eq "t 192" "$(vm_prop "$G1" CurrentMemoryMiB)" "CurrentMemoryMiB follows the balloon"
after=$(total)
[ -n "$after" ] && [ "$after" -lt "$before" ] && ok "the guest has less memory ($before -> $after KiB)" ||
        fail "the guest's MemTotal did not shrink: $before -> $after"
assert_contains "$(vm_call "$G1" SetMemory 'uint64 512')" "org.hostagent1.Error.InvalidArgs: mib: 512 is beyond VM g1's maximum of 384 MiB" \
        "beyond MaxMemoryMiB is refused"
assert_eq "0" "$(guest_exec "$VIRSH" g1 'cat /sys/devices/system/cpu/online')" "one vCPU online"
assert_eq "()" "$(vm_call "$G1" SetVCPUs 'uint32 2')" "SetVCPUs 2"
assert_eq "u 2" "$(vm_prop "$G1" VCPUs)" "VCPUs says 2"
wait_until 20 sh -c "source $HOSTAGENT_SOURCE_DIR/tests/lib/hotplug-guest.sh; guest_exec '$VIRSH' g1 'cat /sys/devices/system/cpu/online' | grep -qx 0-1"
assert_eq "0-1" "$(guest_exec "$VIRSH" g1 'cat /sys/devices/system/cpu/online')" "the guest has brought the second vCPU online"
$VIRSH destroy g1 >/dev/null

# A guest that never lets go: SeaBIOS and no OS answer no ACPI eject.
out=$(manager_call CreateVM "$(gv_string '{"name":"noos","type":"qemu","machine":"pc","memory_mib":128,"start":true}')")
NOOS=$(grep -o "/org/hostagent1/vm/[^']*" <<<"$out")
[ -n "$NOOS" ] && ok "a guest with no OS" || fail "CreateVM noos: $out"
truncate -s 4M "$T/stuck.img"
assert_eq "('vda',)" "$(vm_call "$NOOS" AttachDisk "$(gv_string "{\"path\":\"$T/stuck.img\"}")" '{}')" "a disk is attached to it"
spec_of() { vm_prop "$1" Spec | sed 's/\\"/"/g; s/\\\\\//\//g'; }
assert_contains "$(spec_of "$NOOS")" "\"path\":\"$T/stuck.img\"" "its Spec has the disk"
assert_contains "$($VIRSH metadata noos urn:org.hostagent1:vm:1 | sed 's/\\\//\//g')" "$T/stuck.img" "and so has the copy in the metadata"
job=$(vm_call "$NOOS" DetachDisk '"vda"' | grep -o "/org/hostagent1/job/[0-9]*")
wait_until 30 sh -c "busctl --system get-property org.hostagent1 $job org.hostagent1.Job State | grep -q finished"
assert_eq 's "failed"' "$(job_prop "$job" Result)" "a detach the guest never completes ends failed"
assert_contains "$(job_prop "$job" Error)" "org.hostagent1.Error.Timeout: The guest did not let go of disk vda within 3 s" \
        "and says why"
assert_contains "$(vm_prop "$NOOS" Disks)" "\"vda\" \"virtio\" \"$T/stuck.img\"" "the disk stays in Disks"
assert_contains "$(spec_of "$NOOS")" "$T/stuck.img" "and in the Spec"
assert_contains "$($VIRSH dumpxml --inactive noos)" "$T/stuck.img" "and in the definition"

# What virsh does shows too; a change only to the definition is pending.
truncate -s 4M "$T/virsh.img"
$VIRSH attach-disk noos "$T/virsh.img" vdc --live >/dev/null
wait_until 10 sh -c "busctl --system get-property org.hostagent1 $NOOS org.hostagent1.VM Disks | grep -q vdc"
assert_contains "$(vm_prop "$NOOS" Disks)" "\"vdc\" \"virtio\" \"$T/virsh.img\"" "a virsh attach-disk shows in Disks"
assert_contains "$(vm_prop "$NOOS" PendingChanges)" '"disk vdc: removed"' \
        "PendingChanges: the live-only disk is gone at the next start"
truncate -s 4M "$T/later.img"
assert_eq "('vdd',)" "$(vm_call "$NOOS" AttachDisk "$(gv_string "{\"path\":\"$T/later.img\",\"target\":\"vdd\"}")" \
        '{"live": <false>}')" "a disk for the next start only"
assert_contains "$(vm_prop "$NOOS" PendingChanges)" "\"disk vdd: added ($T/later.img)\"" "is pending"
assert_not_contains "$(vm_prop "$NOOS" Disks)" "vdd" "and not in the running guest's Disks"
$VIRSH destroy noos >/dev/null

# ApplyVM on QEMU: create, change (a disk and a NIC added live, memory, a
# machine type left pending), the second apply empty, a restart that takes
# what was pending, a virsh change planned away, a failing step named.
apply() { manager_call ApplyVM "$(gv_string "$1")" "${2:-{\}}"; }
truncate -s 4M "$T/ap2-data.img"
base='"name":"ap2","type":"qemu","machine":"pc","memory_mib":128,"max_memory_mib":256,"start":true'
out=$(apply "{$base}")
AP=$(grep -o "/org/hostagent1/vm/[^']*" <<<"$out")
assert_contains "$out" '"action":"create","live":true' "ApplyVM creates and starts a QEMU guest"
assert_eq "(objectpath '$AP', '{\"steps\":[]}')" "$(apply "{$base}")" "the same spec again: no steps"
want="{${base/\"pc\"/\"q35\"},\"memory_mib\":192,\"disks\":[{\"path\":\"$T/ap2-data.img\"}],\"nics\":[{\"network\":\"vmnet\"}]}"
want=${want/\"memory_mib\":128,/}
out=$(apply "$want" '{"dry_run": <true>}')
assert_contains "$out" '{"action":"attach-disk","target":"vda","live":true},{"action":"attach-nic","mac":"52:54:00:' \
        "the dry run plans the disk and the NIC, live"
assert_contains "$out" '{"action":"set-memory","mib":192,"live":true},{"action":"change","field":"machine","from":"pc","to":"q35","live":false}' \
        "the memory live, the machine type for the next start"
assert_eq 'a(ssssb) 0' "$(vm_prop "$AP" Disks)" "the dry run changed nothing"
out=$(apply "$want")
assert_contains "$out" '"action":"attach-disk"' "ApplyVM applies it"
assert_eq "a(ssssb) 1 \"vda\" \"virtio\" \"$T/ap2-data.img\" \"raw\" false" "$(vm_prop "$AP" Disks)" "the disk is plugged in"
assert_contains "$(vm_prop "$AP" NICs)" '"network:vmnet" "vnet' "the NIC is on vmnet with a tap"
assert_contains "$(vm_prop "$AP" PendingChanges)" '"machine: pc-i440fx-' "the machine type is pending"
assert_contains "$(spec_of "$AP")" '"machine":"q35"' "the Spec says q35"
assert_eq "(objectpath '$AP', '{\"steps\":[]}')" "$(apply "$want")" "applied twice: no steps"
restart=${want/\"max_memory_mib\":256/\"max_memory_mib\":320}
out=$(apply "$restart" '{"restart": <true>}')
assert_contains "$out" '{"action":"change","field":"max_memory_mib","from":256,"to":320,"live":false},{"action":"restart","live":true}' \
        "with restart: what cannot be live is taken by a restart"
assert_eq "as 0" "$(vm_prop "$AP" PendingChanges)" "nothing is pending after it"
assert_contains "$($VIRSH dumpxml ap2)" "machine='pc-q35-" "the guest runs as q35"
assert_eq "t 320" "$(vm_prop "$AP" MaxMemoryMiB)" "with the new maximum"
truncate -s 4M "$T/ap2-virsh.img"
$VIRSH attach-disk ap2 "$T/ap2-virsh.img" vdc --live >/dev/null
wait_until 10 sh -c "busctl --system get-property org.hostagent1 $AP org.hostagent1.VM Disks | grep -q vdc"
assert_contains "$(vm_prop "$AP" Disks)" '"vdc"' "a virsh attach-disk shows in Disks"
assert_contains "$(apply "$restart" '{"dry_run": <true>}')" '{"action":"detach-disk","target":"vdc","live":true}' \
        "the next ApplyVM plans to undo it"
spec_before=$(spec_of "$AP")
out=$(apply "${restart/\"q35\"/\"nosuch\"}")
assert_contains "$out" "failed, the steps before it were undone" "a failing step undoes the ones before it"
assert_contains "$out" "(the new definition)" "and the error names the step"
assert_eq "$spec_before" "$(spec_of "$AP")" "the Spec is as it was"
assert_contains "$($VIRSH dumpxml --inactive ap2)" "machine='pc-q35-" "and so is the definition"
$VIRSH destroy ap2 >/dev/null
daemon_stop && ok "the daemon exits cleanly" || { fail "daemon exit status"; tail -40 "$T/daemon.log"; }
fixture_finish
