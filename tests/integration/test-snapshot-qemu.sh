# Snapshots and live merge of a real QEMU guest (tests/lib/hotplug-guest.sh's small Linux guest, with
# qemu-ga) whose data disk is a qcow2 volume of a dir pool: a quiesced snapshot puts the disk on an
# overlay (qemu-img shows the chain, the overlay is a volume of the pool backed by the disk's), what
# the guest writes afterwards lands in the overlay; Delete merges it back while the guest keeps
# writing (a live merge job), the chain is one image again and the data are intact (checksums). A
# snapshot made with virsh appears; the agent killed (-9) during a slow live merge: the next one
# shows the job and its end. A snapshot with memory and a revert to it; a revert of the shut-off
# VM; bad input refused by name, nothing changed.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/vm.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/storage.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/hotplug-guest.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/ctl.sh"
set +e

small_guest_build || { fail "the small guest cannot be built"; fixture_finish; exit 1; }
libvirtd_start
bus_start
VIRSH="virsh -q -c $LIBVIRT_QEMU_URI"
$VIRSH list --all >/dev/null || { fail "libvirtd's QEMU driver does not answer"; fixture_finish; exit 1; }
# Snapshots made by other clients are looked for every 2 s here (a minute by default).
export HOSTAGENT_SNAPSHOT_RELIST_SEC=2
agent_start() {
        daemon_start --libvirt-uri="$LIBVIRT_QEMU_URI" &&
        wait_until 60 sh -c 'busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | grep -q true'
}
agent_kill() {
        kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
        wait_until 10 sh -c '! busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus NameHasOwner s org.hostagent1 | grep -q true'
}
agent_start || { fail "the agent did not start"; fixture_finish; exit 1; }

mkdir -p "$T/pool"
create_pool "{\"name\":\"sp\",\"type\":\"dir\",\"path\":\"$T/pool\"}" >/dev/null
POOL=/org/hostagent1/storage/sp
pool_call "$POOL" CreateVolume '"data"' 'uint64 33554432' '"qcow2"' '{}' >/dev/null
[ -f "$T/pool/data" ] && ok "a qcow2 volume for the guest's data disk" || fail "no volume data"
DISK="<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$T/pool/data'/><target dev='vda' bus='virtio'/></disk>"
hotplug_guest_xml g1 "$T/g1.console" | sed "s|</devices>|$DISK</devices>|" > "$T/g1.xml"
G1=$(manager_call CreateVMFromXML "$(gv_string "$(cat "$T/g1.xml")")" | grep -o "/org/hostagent1/vm/[^']*")
assert_eq "()" "$(vm_call "$G1" Start)" "the guest starts"
wait_until 60 guest_agent_ready "$VIRSH" g1 && ok "the guest's agent answers" || fail "the guest agent never answered"

snap_path() { echo "$1/snapshot/$(bus_path_escape "$2")"; }
snap_prop() { busctl --system get-property org.hostagent1 "$(snap_path "$1" "$2")" org.hostagent1.Snapshot "$3" 2>&1; }
snap_call() { local p; p=$(snap_path "$1" "$2"); shift 2; bus_call "$p" "org.hostagent1.Snapshot.$1" "${@:2}"; }
job_of() { grep -o "/org/hostagent1/job/[0-9]*" <<<"$1"; }
job_wait() { wait_until "${2:-60}" sh -c "busctl --system get-property org.hostagent1 $1 org.hostagent1.Job State | grep -q finished"; }
# gmd5 OFFSET_MIB COUNT_MIB: the checksum of that part of the disk, as the guest reads it.
gmd5() { guest_exec "$VIRSH" g1 "dd if=/dev/vda bs=1M skip=$1 count=$2 2>/dev/null | md5sum" | cut -d' ' -f1; }
# hmd5 IMAGE OFFSET_MIB COUNT_MIB: the same, read on the host from IMAGE and what lies under it.
hmd5() {
        qemu-img convert -U -O raw "$1" "$T/raw" && dd if="$T/raw" bs=1M skip="$2" count="$3" 2>/dev/null | md5sum | cut -d' ' -f1
        rm -f "$T/raw"
}
# The file the VM's disk runs on now.
active() { $VIRSH domblklist g1 "$@" | awk '$1 == "vda" {print $2}'; }
# img_text IMAGE: the text in what the guest sees of IMAGE (with what lies under it).
img_text() { qemu-img convert -U -O raw "$1" "$T/raw" && strings "$T/raw"; rm -f "$T/raw"; }
libvirt_commits() { $VIRSH blockjob g1 vda --info 2>&1 | grep -qi commit; }
chain() { qemu-img info -U --backing-chain "$1" 2>&1 | grep '^image:' | awk '{print $2}' | tr '\n' ' '; }

guest_exec "$VIRSH" g1 'dd if=/dev/urandom of=/dev/vda bs=1M count=4 conv=fsync 2>/dev/null' >/dev/null
BEFORE=$(gmd5 0 4)

# Bad input: named, and nothing changes.
ls "$T/pool" > "$T/pool.before"
out=$(vm_call "$G1" CreateSnapshot '"bad/name"' '{}')
assert_contains "$out" "org.hostagent1.Error.InvalidArgs: name:" "a bad name is InvalidArgs naming name"
out=$(vm_call "$G1" CreateSnapshot '"s1"' '{"colour": <"blue">}')
assert_contains "$out" "org.hostagent1.Error.InvalidArgs: options.colour: unknown option" "an unknown option is InvalidArgs naming it"
out=$(vm_call "$G1" CreateSnapshot '"s1"' '{"quiesce": <"yes">}')
assert_contains "$out" "org.hostagent1.Error.InvalidArgs: options.quiesce: must be a boolean" "a wrong type is InvalidArgs naming it"
out=$(vm_call "$G1" CreateSnapshot '"s1"' "{\"disks\": <['vdz']>}")
assert_contains "$out" "org.hostagent1.Error.InvalidArgs" "a disk the VM does not have is InvalidArgs"
assert_contains "$out" "disks: the VM has no disk vdz" "... naming it"
assert_eq "" "$(ls "$T/pool" | diff - "$T/pool.before")" "nothing was made in the pool"
assert_eq "ao 0" "$(vm_prop "$G1" Snapshots)" "and the VM has no snapshot"
# A guest whose agent never connects (no OS): a quiesced snapshot is refused by name.
cat > "$T/g2.xml" <<XML
<domain type='qemu'><name>g2</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices><channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
  <memballoon model='none'/></devices></domain>
XML
G2=$(manager_call CreateVMFromXML "$(gv_string "$(cat "$T/g2.xml")")" | grep -o "/org/hostagent1/vm/[^']*")
vm_call "$G2" Start >/dev/null
out=$(vm_call "$G2" CreateSnapshot '"q"' '{"quiesce": <true>}')
assert_contains "$out" "org.hostagent1.Error.GuestAgentUnavailable: options.quiesce" \
        "quiesce without a connected guest agent is GuestAgentUnavailable"
vm_call "$G2" Destroy >/dev/null

# A quiesced snapshot of the running guest: the disk goes on an overlay, a volume of the pool.
out=$(vm_call "$G1" CreateSnapshot '"s1"' '{"quiesce": <true>}')
job=$(job_of "$out")
[ -n "$job" ] && ok "CreateSnapshot returns a job" || fail "CreateSnapshot: $out"
assert_eq 's "snapshot"' "$(job_prop "$job" Type)" "of type snapshot"
job_wait "$job"
assert_eq 's "done"' "$(job_prop "$job" Result)" "the snapshot job ends done"
assert_eq "$T/pool/data.s1 $T/pool/data " "$(chain "$T/pool/data.s1")" "qemu-img shows the chain: overlay on the disk's image"
assert_contains "$(vm_prop "$G1" Snapshots)" "$(snap_path "$G1" s1)" "the VM lists the snapshot once its job is done"
assert_eq 'b true' "$(snap_prop "$G1" s1 Quiesced)" "Quiesced"
assert_eq "as 1 \"$T/pool/data.s1\"" "$(snap_prop "$G1" s1 Disks)" "Disks: the overlay"
assert_eq 'b false' "$(snap_prop "$G1" s1 HasMemory)" "no RAM state"
assert_eq 'b true' "$(snap_prop "$G1" s1 Current)" "the current snapshot"
wait_until 10 sh -c "busctl --system get-property org.hostagent1 $(vol_path "$POOL" data.s1) org.hostagent1.Volume BackingVolume"
assert_contains "$(vol_prop "$POOL" data.s1 BackingVolume)" "data" "the overlay is a volume of the pool, backed by the disk's"
assert_contains "$(vol_prop "$POOL" data.s1 InUseBy)" "$G1" "... in use by the VM"
out=$(vm_call "$G1" CreateSnapshot '"s1"' '{}')
assert_contains "$out" "org.hostagent1.Error.Exists: name:" "the same name again is Exists"

# What the guest writes now lands in the overlay.
guest_exec "$VIRSH" g1 'dd if=/dev/urandom of=/dev/vda bs=1M seek=8 count=4 conv=fsync 2>/dev/null' >/dev/null
AFTER=$(gmd5 8 4)
assert_eq "$AFTER" "$(hmd5 "$T/pool/data.s1" 8 4)" "the overlay holds what the guest wrote after the snapshot"
[ "$AFTER" != "$(hmd5 "$T/pool/data" 8 4)" ] && ok "the disk's image under it does not" || fail "the base changed"

# Delete while the guest keeps writing: a live merge.
guest_exec "$VIRSH" g1 'sh -c "echo \$\$ > /run/w.pid; while :; do dd if=/dev/urandom of=/dev/vda bs=64k seek=256 count=16 conv=fsync 2>/dev/null; done" >/dev/null 2>&1 &' >/dev/null
out=$(snap_call "$G1" s1 Delete)
job=$(job_of "$out")
assert_eq 's "merge"' "$(job_prop "$job" Type)" "Delete returns a merge job"
job_wait "$job" 120
assert_eq 's "done"' "$(job_prop "$job" Result)" "the merge ends done"
assert_eq 'u 100' "$(job_prop "$job" Progress)" "at 100 %"
guest_exec "$VIRSH" g1 'kill $(cat /run/w.pid); sync' >/dev/null
assert_eq "$T/pool/data " "$(chain "$(active)")" "the chain is one image again"
[ ! -e "$T/pool/data.s1" ] && ok "the overlay file is gone" || fail "data.s1 is still there"
assert_contains "$($VIRSH domblklist g1)" "$T/pool/data" "the VM runs on its image again"
assert_not_contains "$($VIRSH domblklist g1)" "data.s1" "not on the overlay"
assert_eq "$T/pool/data" "$(active --inactive)" "and so does its definition (for the next start)"
assert_eq "ao 0" "$(vm_prop "$G1" Snapshots)" "the snapshot object is gone once the merge job is done"
wait_until 10 sh -c "! busctl --system get-property org.hostagent1 $(vol_path "$POOL" data.s1) org.hostagent1.Volume Format"
assert_contains "$(vol_prop "$POOL" data.s1 Format)" "Unknown object" "and the overlay's volume"
assert_eq "$BEFORE" "$(gmd5 0 4)" "the data written before the snapshot are intact"
assert_eq "$AFTER" "$(gmd5 8 4)" "and the data written after it"
GUEST_ALL=$(gmd5 0 24)
assert_eq "$GUEST_ALL" "$(hmd5 "$T/pool/data" 0 24)" "the image holds what the guest sees, the writes during the merge included"

# A snapshot made with virsh appears; a slow live merge of it survives kill -9 of the agent.
$VIRSH snapshot-create-as g1 vsh --disk-only --atomic --diskspec "vda,file=$T/pool/data.vsh" >/dev/null
wait_until 20 sh -c "busctl --system get-property org.hostagent1 $G1 org.hostagent1.VM Snapshots | grep -q snapshot/vsh" &&
        ok "a snapshot made with virsh appears" || fail "the virsh snapshot does not appear"
assert_eq 'b false' "$(snap_prop "$G1" vsh Quiesced)" "not quiesced"
guest_exec "$VIRSH" g1 'dd if=/dev/urandom of=/dev/vda bs=1M seek=12 count=2 conv=fsync 2>/dev/null' >/dev/null
VSH=$(gmd5 12 2)
agent_kill
HOSTAGENT_MERGE_BANDWIDTH_BYTES=262144 agent_start
wait_until 20 snap_prop "$G1" vsh Name
out=$(snap_call "$G1" vsh Delete)
job=$(job_of "$out")
wait_until 20 libvirt_commits && ok "the merge runs (throttled)" || fail "no block job: $($VIRSH blockjob g1 vda --info 2>&1)"
agent_kill
libvirt_commits && ok "libvirt goes on with the merge without the agent" || fail "the merge ended with the agent"
agent_start
assert_eq 's "merge"' "$(job_prop "$job" Type)" "the next agent shows the merge job"
assert_eq 's "running"' "$(job_prop "$job" State)" "running"
assert_contains "$(vm_call "$G1" CreateSnapshot '"during"' '{}')" "org.hostagent1.Error.InvalidState" \
        "a snapshot while it merges is InvalidState"
busy="org.hostagent1.Error.InvalidState: Cannot %s VM g1: merge job $job runs"
assert_contains "$(vm_call "$G1" Backup '"sp"' '{}')" "$(printf "$busy" "back up")" \
        "a Backup while it merges is InvalidState naming the merge"
assert_contains "$(vm_call "$G1" Migrate '"qemu+tcp://127.0.0.1:1/system"' '{"allow_unsafe": <true>}')" \
        "$(printf "$busy" migrate)" "Migrate while it merges is InvalidState naming the merge"
assert_contains "$(vm_call "$G1" DetachDisk '"vda"')" \
        "org.hostagent1.Error.InvalidState: target: cannot detach disk vda of VM g1: merge job $job runs" \
        "DetachDisk while it merges is InvalidState naming the merge"
wait_until 10 sh -c "busctl --system get-property org.hostagent1 $job org.hostagent1.Job Progress | grep -qv 'u 0$'" &&
        ok "with live progress ($(job_prop "$job" Progress))" || fail "its progress stays at $(job_prop "$job" Progress)"
$VIRSH blockjob g1 vda --bandwidth 0 >/dev/null 2>&1   # no need to wait any longer
job_wait "$job" 120
assert_eq 's "done"' "$(job_prop "$job" Result)" "and its end: done"
assert_eq "$T/pool/data " "$(chain "$(active)")" "the chain is one image again"
assert_eq "$VSH" "$(gmd5 12 2)" "the data written on the virsh overlay are intact"
wait_until 10 sh -c "! busctl --system get-property org.hostagent1 $G1 org.hostagent1.VM Snapshots | grep -q snapshot"

# A snapshot with the RAM state, and back to it: the guest's memory is as it was.
guest_exec "$VIRSH" g1 'echo before > /run/m' >/dev/null
job=$(job_of "$(vm_call "$G1" CreateSnapshot '"s3"' '{"memory": <true>}')")
job_wait "$job" 120
assert_eq 's "done"' "$(job_prop "$job" Result)" "a snapshot with memory: done"
wait_until 10 snap_prop "$G1" s3 HasMemory
assert_eq 'b true' "$(snap_prop "$G1" s3 HasMemory)" "HasMemory"
assert_eq "running" "$($VIRSH domstate g1)" "the VM kept running"
guest_exec "$VIRSH" g1 'echo after > /run/m' >/dev/null
assert_eq "()" "$(snap_call "$G1" s3 Revert '{}')" "Revert to it"
wait_until 30 vm_state_is "$G1" running && ok "the VM runs again" || fail "the VM is $(vm_prop "$G1" State)"
wait_until 60 guest_agent_ready "$VIRSH" g1
assert_eq "before" "$(guest_exec "$VIRSH" g1 'cat /run/m')" "the guest's memory is back as it was"

# A disk-only snapshot, a write, and the shut-off VM reverted to it.
job=$(job_of "$(vm_call "$G1" CreateSnapshot '"s2"' '{}')")
job_wait "$job"
guest_exec "$VIRSH" g1 'echo written-after-s2 | dd of=/dev/vda bs=1M seek=20 conv=fsync 2>/dev/null' >/dev/null
assert_contains "$(img_text "$T/pool/data.s3.s2")" \
        "written-after-s2" "the write is in the overlay"
wait_until 10 snap_prop "$G1" s2 Name

# The snapshot below it merged while the VM runs: an intermediate commit, and its RAM state file goes.
ls "$T/state/snapshots/"*.memory >/dev/null 2>&1 && ok "s3's RAM state is in the state directory" || fail "no RAM state file"
job=$(job_of "$(snap_call "$G1" s3 Delete)")
job_wait "$job" 60
assert_eq 's "done"' "$(job_prop "$job" Result)" "a merge of the snapshot below another ends done"
assert_eq "$T/pool/data.s3.s2 $T/pool/data " "$(chain "$(active)")" "the chain lost the middle overlay"
[ ! -e "$T/pool/data.s3" ] && ok "its overlay file is gone" || fail "data.s3 is still there"
assert_eq "" "$(ls "$T/state/snapshots/")" "and its RAM state file"
assert_eq "$AFTER" "$(gmd5 8 4)" "the guest's data are intact"
out=$(snap_call "$G1" s2 Revert '{}')
assert_contains "$out" "org.hostagent1.Error.InvalidState" "a disk-only revert of a running VM is InvalidState"
vm_call "$G1" Destroy >/dev/null
out=$(snap_call "$G1" s2 Revert '{"now": <true>}')
assert_contains "$out" "org.hostagent1.Error.InvalidArgs: options.now" "an unknown Revert option is InvalidArgs"
assert_eq "()" "$(snap_call "$G1" s2 Revert '{}')" "Revert of the shut-off VM"
assert_not_contains "$(img_text "$T/pool/data.s3.s2")" \
        "written-after-s2" "what was written after the snapshot is gone"
assert_eq "$T/pool/data.s3.s2 $T/pool/data " "$(chain "$T/pool/data.s3.s2")" \
        "made afresh on the image below it now (data.s3 went with its merge)"
assert_eq "shut off" "$($VIRSH domstate g1)" "the VM stays off"

# Deleting a shut-off VM's snapshot: an offline commit.
job=$(job_of "$(snap_call "$G1" s2 Delete)")
job_wait "$job" 60
assert_eq 's "done"' "$(job_prop "$job" Result)" "an offline merge ends done"
assert_eq "$T/pool/data " "$(chain "$(active --inactive)")" "the chain is one image again"
assert_eq "$T/pool/data" "$(active --inactive)" "the definition is on the image below"
[ ! -e "$T/pool/data.s3.s2" ] && ok "the overlay file is gone" || fail "data.s3.s2 is still there"

# hostagentctl: snapshot, snapshots, delete-snapshot (waits for the job), revert of a missing one.
ctl_run -q snapshot g1 c1
[ "$CTL_RC" -eq 0 ] && ok "hostagentctl snapshot makes one (the VM shut off)" || fail "hostagentctl snapshot: $OUT"
wait_until 10 snap_prop "$G1" c1 Name
ctl_run --no-legend snapshots g1
assert_contains "$OUT" "c1" "hostagentctl snapshots lists it"
assert_contains "$OUT" "$T/pool/data.c1" "with its overlay"
assert_eq "c1:" "$(ctl --json=short snapshots g1 | json_py '",".join(s["name"] + ":" + s["parent"] for s in d["snapshots"])')" \
        "in JSON, alone and with no parent (every other snapshot is gone)"
ctl_run -q delete-snapshot g1 c1
[ "$CTL_RC" -eq 0 ] && ok "hostagentctl delete-snapshot waits for the merge" || fail "hostagentctl delete-snapshot: $OUT"
[ ! -e "$T/pool/data.c1" ] && ok "the overlay is gone" || fail "data.c1 is still there"
ctl_run revert g1 nope
assert_eq 4 "$CTL_RC" "hostagentctl revert of a missing snapshot exits 4"

daemon_stop && ok "the agent exits cleanly" || { fail "the agent's exit status"; tail -30 "$T/daemon.log"; }
fixture_finish
