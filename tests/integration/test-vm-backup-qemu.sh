# VM.Backup on a real QEMU guest: the small Linux guest with qemu-guest-agent
# (tests/lib/hotplug-guest.sh) and a qcow2 data disk that is a volume of a dir
# pool. A backup holds the disk as it was when the backup began (the guest
# writes A, the backup begins, the guest writes B over it: the backup has A);
# an incremental one only the clusters written since the checkpoint; Cancel
# leaves no volume; a kill -9 of the agent during a backup: the next agent
# shows the job and its end. Refusals name the field and change nothing; Migrate, CreateSnapshot,
# DetachDisk of a disk it copies and a second Backup are refused while a backup runs, naming it;
# Undefine is not (the VM runs on, transient, and the backup ends done).
#
# Slow on purpose, so that a backup still runs while the guest writes, a
# Cancel comes or the agent is killed: the guest's second disk, vdb (48 MiB),
# is an NBD export of qemu-nbd that reads through a throttle group at 4 MiB/s
# (QEMU's own throttle filter, on the server side: the backup's reads are
# throttled too, unlike the guest's iotune), so every backup takes about 12 s.
# The option bandwidth_mib (libvirt's block job speed) is no help here: it is
# set only once libvirt has registered the disk's copy, and QEMU copies at
# full speed until then.
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
daemon_start --libvirt-uri="$LIBVIRT_QEMU_URI"
ready() { wait_until 60 sh -c 'busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | grep -q true'; }
ready

mkdir -p "$T/pool"
create_pool "{\"name\":\"bk\",\"type\":\"dir\",\"path\":\"$T/pool\"}" >/dev/null
POOL=/org/hostagent1/storage/bk
pool_call "$POOL" CreateVolume '"data"' 'uint64 67108864' '"qcow2"' '{}' >/dev/null
qemu-io -f qcow2 -c "write -P 0x5a 0 48M" "$T/pool/data" >/dev/null
mkdir -p "$T/nbd"
qemu-img create -q -f qcow2 "$T/nbd/slow.qcow2" 48M
qemu-io -f qcow2 -c "write -P 0x62 0 48M" "$T/nbd/slow.qcow2" >/dev/null
qemu-nbd -t -k "$T/nbd/slow.sock" --object throttle-group,id=slow,x-bps-read=4194304 --image-opts \
        "driver=throttle,throttle-group=slow,file.driver=qcow2,file.file.driver=file,file.file.filename=$T/nbd/slow.qcow2" &
fixture_track $!
wait_until 10 test -S "$T/nbd/slow.sock" || fail "qemu-nbd did not start"
disk="<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$T/pool/data'/><target dev='vda' bus='virtio'/></disk>
<disk type='network' device='disk'><driver name='qemu' type='raw'/><source protocol='nbd'><host transport='unix' socket='$T/nbd/slow.sock'/></source><target dev='vdb' bus='virtio'/></disk>"
small_guest_xml g1 "$T/g1.console" "" "$disk" > "$T/g1.xml"
G1=$(manager_call CreateVMFromXML "$(gv_string "$(cat "$T/g1.xml")")" | grep -o "/org/hostagent1/vm/[^']*")
assert_eq "()" "$(vm_call "$G1" Start)" "the small guest with a qcow2 data disk from pool bk starts"
wait_until 60 guest_agent_ready "$VIRSH" g1 && ok "the guest's agent answers" || fail "the guest agent never answered"

# guest_fill OFFSET_MIB SIZE_KIB CHAR: the guest writes CHAR over that range of its disk, to the disk.
guest_fill() {
        guest_exec "$VIRSH" g1 "dd if=/dev/zero bs=1024 count=$2 2>/dev/null | tr '\\0' $3 | dd of=/dev/vda bs=1024 seek=$(($1 * 1024)) conv=fsync 2>/dev/null; sync; echo filled"
}
# image_sum FILE OFFSET_MIB SIZE_KIB: the checksum of what an image holds there (read beside QEMU: -U).
image_sum() {
        qemu-img convert -U -O raw "$1" "$T/range.raw" &&
                dd if="$T/range.raw" bs=1024 skip=$(($2 * 1024)) count=$3 2>/dev/null | sha256sum | cut -d' ' -f1
        rm -f "$T/range.raw"
}
# fill_sum CHAR SIZE_KIB: the checksum of SIZE_KIB of CHAR.
fill_sum() { dd if=/dev/zero bs=1024 count=$2 2>/dev/null | tr '\0' "$1" | sha256sum | cut -d' ' -f1; }
backup() { vm_call "$1" Backup "$(gv_string "$2")" "${3:-{\}}"; }
job_of() { grep -o "/org/hostagent1/job/[0-9]*" <<<"$1"; }
backup_prop() { busctl --system get-property org.hostagent1 "$1" org.hostagent1.Backup "$2" 2>&1; }
finished() { wait_until "${2:-60}" sh -c "busctl --system get-property org.hostagent1 $1 org.hostagent1.Job State | grep -q finished"; }
hidden_files() { ls -A "$T/pool" | grep '^\.' | tr '\n' ' '; }

# Refusals: each names its field, and no job, file or checkpoint is made.
jobs_before=$(busctl --system tree org.hostagent1 | grep -c /job/)
assert_contains "$(backup "$G1" nope)" "org.hostagent1.Error.InvalidArgs: pool: no storage pool named 'nope'" \
        "an unknown pool is InvalidArgs naming pool"
assert_contains "$(backup "$G1" bk '{"bogus": <true>}')" "org.hostagent1.Error.InvalidArgs: options.bogus: unknown option" \
        "an unknown option is InvalidArgs naming it"
assert_contains "$(backup "$G1" bk '{"incremental": <"never-made">}')" \
        "org.hostagent1.Error.InvalidArgs: options.incremental: VM g1 has no checkpoint 'never-made'" \
        "an unknown checkpoint is InvalidArgs naming options.incremental"
assert_contains "$(backup "$G1" bk '{"quiesce": <"yes">}')" "org.hostagent1.Error.InvalidArgs: options.quiesce: must be a boolean" \
        "a quiesce that is not a boolean is InvalidArgs"
out=$(manager_call CreateVM "$(gv_string '{"name":"off1","type":"qemu","machine":"pc","memory_mib":64}')")
OFF=$(grep -o "/org/hostagent1/vm/[^']*" <<<"$out")
assert_contains "$(backup "$OFF" bk)" "org.hostagent1.Error.InvalidState: Cannot back up VM off1: it is not running" \
        "a VM that is not running is InvalidState"
out=$(manager_call CreateVM "$(gv_string '{"name":"noagent","type":"qemu","machine":"pc","memory_mib":64,"guest_agent":false,"start":true}')")
NOAGENT=$(grep -o "/org/hostagent1/vm/[^']*" <<<"$out")
assert_contains "$(backup "$NOAGENT" bk '{"quiesce": <true>}')" \
        "org.hostagent1.Error.GuestAgentUnavailable: options.quiesce: VM noagent has no guest agent channel" \
        "quiesce on a VM without a guest agent is GuestAgentUnavailable"
$VIRSH destroy noagent >/dev/null
assert_eq "$jobs_before" "$(busctl --system tree org.hostagent1 | grep -c /job/)" "no refusal made a job"
assert_eq "data" "$(ls -A "$T/pool" | tr '\n' ' ' | sed 's/ $//')" "nor a file in the pool"
assert_eq "" "$($VIRSH checkpoint-list g1 --name)" "nor a checkpoint"

# A full backup: A before it begins, B over A while it runs; the backup holds A.
assert_eq "filled" "$(guest_fill 56 1024 A)" "the guest writes A at 56 MiB"
out=$(backup "$G1" bk '{"quiesce": <true>}')
JOB=$(job_of "$out")
[ -n "$JOB" ] && ok "Backup returns a job ($JOB)" || fail "Backup: $out"
assert_eq "filled" "$(guest_fill 56 1024 B)" "the guest writes B over it while the backup runs"
assert_eq 's "running"' "$(job_prop "$JOB" State)" "the backup still ran when B was written"
# The long operations that would fight the backup over the VM's disks are refused up front, naming it.
busy="org.hostagent1.Error.InvalidState: Cannot %s VM g1: backup job $JOB runs"
assert_contains "$(backup "$G1" bk)" "$(printf "$busy" "back up")" "a second Backup while it runs is InvalidState naming it"
assert_contains "$(vm_call "$G1" Migrate '"qemu+tcp://127.0.0.1:1/system"' '{}')" "$(printf "$busy" migrate)" \
        "Migrate while it runs is InvalidState naming the backup"
assert_contains "$(vm_call "$G1" CreateSnapshot '"during"' '{}')" "$(printf "$busy" snapshot)" \
        "CreateSnapshot while it runs is InvalidState naming the backup"
assert_contains "$(vm_call "$G1" DetachDisk '"vdb"')" \
        "org.hostagent1.Error.InvalidState: target: cannot detach disk vdb of VM g1: backup job $JOB runs" \
        "DetachDisk of a disk being backed up is InvalidState naming the backup"
assert_eq "" "$($VIRSH snapshot-list g1 --name)" "no snapshot was made"
assert_eq 's "running"' "$(job_prop "$JOB" State)" "and the backup runs on"
assert_eq 's "backup"' "$(job_prop "$JOB" Type)" "the job's Type is backup"
assert_eq "o \"$G1\"" "$(job_prop "$JOB" Object)" "its Object is the VM"
wait_until 10 sh -c "busctl --system get-property org.hostagent1 $JOB org.hostagent1.Backup DataProcessedBytes | grep -qv 't 0$'"
p=$(job_prop "$JOB" Progress | awk '{print $2}')
[ "${p:-0}" -gt 0 ] && [ "$p" -lt 100 ] && ok "Progress moves while it runs ($p %)" || fail "Progress is '$p' while it runs"
CK1=$(backup_prop "$JOB" Checkpoint | sed 's/^s "\(.*\)"$/\1/')
case "$CK1" in backup-2*Z) ok "the backup's checkpoint is named by its time ($CK1)" ;; *) fail "Checkpoint: $CK1" ;; esac
VOL1="g1-vda-$CK1"
assert_eq "as 2 \"$VOL1\" \"g1-vdb-$CK1\"" "$(backup_prop "$JOB" Volumes)" "Volumes names the new volumes"
assert_eq "b true" "$(backup_prop "$JOB" Quiesced)" "Quiesced: the guest was frozen for the moment it began"
assert_contains "$(hidden_files)" ".hostagent-backup.$VOL1" "libvirt writes it under a hidden name meanwhile"
finished "$JOB" 60
assert_eq 's "done"' "$(job_prop "$JOB" Result)" "the backup ends done"
assert_eq "u 100" "$(job_prop "$JOB" Progress)" "at 100 %"
wait_until 20 sh -c "busctl --system get-property org.hostagent1 $(vol_path "$POOL" "$VOL1") org.hostagent1.Volume Format | grep -q qcow2"
assert_eq 's "qcow2"' "$(vol_prop "$POOL" "$VOL1" Format)" "its volume appears in the pool, qcow2"
assert_eq "" "$(hidden_files)" "no hidden file is left"
assert_eq "$(fill_sum A 1024)" "$(image_sum "$T/pool/$VOL1" 56 1024)" "the backup holds A, as the disk was when it began"
assert_eq "$(fill_sum B 1024)" "$(image_sum "$T/pool/data" 56 1024)" "while the disk itself holds B"
assert_eq "$(fill_sum Z 49152)" "$(image_sum "$T/pool/$VOL1" 0 49152)" "and the 48 MiB written before the guest started"

# An incremental backup: only what was written since the first one's checkpoint (B, and C now).
assert_eq "filled" "$(guest_fill 40 64 C)" "the guest writes C at 40 MiB"
out=$(backup "$G1" bk "{\"incremental\": <\"$CK1\">}")
JOB2=$(job_of "$out")
[ -n "$JOB2" ] && ok "an incremental Backup returns a job" || fail "incremental Backup: $out"
finished "$JOB2" 60
assert_eq 's "done"' "$(job_prop "$JOB2" Result)" "the incremental backup ends done"
assert_eq "s \"$CK1\"" "$(backup_prop "$JOB2" Incremental)" "Incremental names the checkpoint it started from"
VOL2=$(backup_prop "$JOB2" Volumes | grep -o '"[^"]*vda[^"]*"' | tr -d '"')
map=$(qemu-img map -U --output=json "$T/pool/$VOL2" | /usr/bin/python3 -c '
import json, sys
print(" ".join("%d+%d" % (e["start"] // 1024, e["length"] // 1024) for e in json.load(sys.stdin) if e["depth"] == 0 and e["data"]))')
assert_eq "40960+64 57344+1024" "$map" "the incremental vda volume holds only the clusters written since (C at 40 MiB, B at 56 MiB; KiB)"
assert_contains "$(qemu-img info -U "$T/pool/$VOL2")" "backing file: $T/pool/$VOL1" \
        "the incremental volume is an overlay of the backup before it"
assert_eq "filled" "$(guest_fill 0 1024 D)" "the guest writes D at 0 MiB after the incremental backup"
assert_eq "$(fill_sum Z 1024)$(fill_sum C 64)$(fill_sum B 1024)" \
        "$(image_sum "$T/pool/$VOL2" 0 1024)$(image_sum "$T/pool/$VOL2" 40 64)$(image_sum "$T/pool/$VOL2" 56 1024)" \
        "the two read as the disk was at the incremental backup (Z at 0, C at 40, B at 56 MiB), not as it is now"
VOL2B=$(backup_prop "$JOB2" Volumes | grep -o '"[^"]*vdb[^"]*"' | tr -d '"')
assert_eq "$(fill_sum b 49152)" "$(image_sum "$T/pool/$VOL2B" 0 49152)" "the raw vdb, without bitmaps, is copied whole"

# Cancel: the backup stops, and leaves no volume and no checkpoint.
out=$(backup "$G1" bk)
JOB3=$(job_of "$out")
CK3=$(backup_prop "$JOB3" Checkpoint | sed 's/^s "\(.*\)"$/\1/')
assert_eq "()" "$(bus_call "$JOB3" org.hostagent1.Job.Cancel)" "Cancel of a running backup"
finished "$JOB3" 30
assert_eq 's "cancelled"' "$(job_prop "$JOB3" Result)" "the backup ends cancelled"
assert_eq "" "$(hidden_files)" "its file is gone"
assert_not_contains "$(ls "$T/pool")" "$CK3" "and no volume was made"
assert_not_contains "$($VIRSH checkpoint-list g1 --name)" "$CK3" "and its checkpoint is deleted"

# kill -9 of the agent during a backup: libvirt carries it on, the next agent follows it to its end.
out=$(backup "$G1" bk)
JOB4=$(job_of "$out")
VOL4=$(backup_prop "$JOB4" Volumes | grep -o '"[^"]*vdb[^"]*"' | tr -d '"')
wait_until 10 sh -c "busctl --system get-property org.hostagent1 $JOB4 org.hostagent1.Backup DataProcessedBytes | grep -qv 't 0$'"
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
assert_contains "$($VIRSH domjobinfo g1)" "Backup" "libvirt runs the backup on without the agent"
daemon_start --libvirt-uri="$LIBVIRT_QEMU_URI"
ready
assert_eq 's "backup"' "$(job_prop "$JOB4" Type)" "the next agent publishes the backup job again at its path"
assert_eq 's "running"' "$(job_prop "$JOB4" State)" "running"
assert_contains "$(backup_prop "$JOB4" Volumes)" "\"$VOL4\"" "with its Backup interface"
before=$(backup_prop "$JOB4" DataProcessedBytes | awk '{print $2}')
wait_until 10 sh -c "busctl --system get-property org.hostagent1 $JOB4 org.hostagent1.Backup DataProcessedBytes | grep -qv 't ${before}$'"
after=$(backup_prop "$JOB4" DataProcessedBytes | awk '{print $2}')
[ "${after:-0}" -gt "${before:-0}" ] && ok "its progress is live ($before -> $after bytes)" ||
        fail "DataProcessedBytes did not move: $before -> $after"
finished "$JOB4" 60
assert_eq 's "done"' "$(job_prop "$JOB4" Result)" "and its end: done"
wait_until 20 sh -c "busctl --system get-property org.hostagent1 $(vol_path "$POOL" "$VOL4") org.hostagent1.Volume Format | grep -q qcow2"
assert_eq 's "qcow2"' "$(vol_prop "$POOL" "$VOL4" Format)" "with its volume published"
assert_eq "" "$(hidden_files)" "and no hidden file left"

# kill -9 again, and the backup ends while no agent runs (aborted with virsh): the next agent
# learns how from libvirt's completed-job statistics, and settles it.
out=$(backup "$G1" bk)
JOB5=$(job_of "$out")
CK5=$(backup_prop "$JOB5" Checkpoint | sed 's/^s "\(.*\)"$/\1/')
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
$VIRSH domjobabort g1 >/dev/null
wait_until 30 sh -c "$VIRSH domjobinfo g1 | grep -q None"
daemon_start --libvirt-uri="$LIBVIRT_QEMU_URI"
ready
finished "$JOB5" 30
assert_eq 's "cancelled"' "$(job_prop "$JOB5" Result)" "a backup aborted while no agent ran ends cancelled"
assert_eq "" "$(hidden_files)" "with no file left"
assert_not_contains "$($VIRSH checkpoint-list g1 --name)" "$CK5" "and its checkpoint deleted"

# hostagentctl backup: waits for the job and prints the checkpoint a later --incremental takes.
ctl_run backup g1 bk --incremental="$CK1"
assert_eq "0" "$CTL_RC" "hostagentctl backup --incremental waits for the job: $OUT"
assert_contains "$OUT" "checkpoint backup-2" "and prints the new checkpoint"
ctl_run backup g1 nope
assert_eq "1" "$CTL_RC" "hostagentctl backup into an unknown pool fails"
assert_contains "$OUT" "g1: cannot back up: pool: no storage pool named 'nope' (InvalidArgs)" "naming the pool"

# The VM is destroyed during a backup: the job ends failed, saying why, and leaves no file.
out=$(backup "$G1" bk)
JOB6=$(job_of "$out")
$VIRSH destroy g1 >/dev/null
finished "$JOB6" 30
assert_eq 's "failed"' "$(job_prop "$JOB6" Result)" "a backup whose VM was destroyed ends failed"
assert_contains "$(job_prop "$JOB6" Error)" "The backup of VM g1 failed" "and says so"
assert_eq "" "$(hidden_files)" "leaving no file"
assert_eq "()" "$(vm_call "$G1" Start)" "the guest starts again"

# Undefine during a backup: the running VM turns transient, and the backup ends done all the same.
out=$(backup "$G1" bk)
JOB7=$(job_of "$out")
assert_eq "()" "$(vm_call "$G1" Undefine)" "Undefine while a backup runs"
assert_eq "b false" "$(vm_prop "$G1" Persistent)" "the VM runs on, transient"
finished "$JOB7" 60
assert_eq 's "done"' "$(job_prop "$JOB7" Result)" "and the backup ends done"

# The agent stops while a backup runs (libvirt carries it on): it exits cleanly (a sanitizer
# build fails here on a leak).
out=$(backup "$G1" bk)
[ -n "$(job_of "$out")" ] && ok "one more backup runs" || fail "Backup: $out"
daemon_stop && ok "the daemon exits cleanly while a backup runs" || fail "daemon exit status"

[ "$TESTS_FAILED" -eq 0 ] || tail -40 "$T/daemon.log"
fixture_finish
