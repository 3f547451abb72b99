# NFS storage pools through the user-space client (libnfs), against
# nfs-ganesha in a network namespace of the test's own: volumes on the export
# with qemu-img as the oracle; the server killed and restarted while the agent
# keeps answering; what this kernel cannot do (mount) refused by name.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/storage.sh"
set +e

nfs_start || exit 1
bus_start
DAEMON_PREFIX=(ip netns exec "$NETNS")
STARTARGS=(--libvirt-uri=test:///default --run-dir="$T/run" --storage-check-interval=1)
daemon_start "${STARTARGS[@]}"
B="busctl --system"
P=/org/hostagent1/storage/nfs1
pool() { pool_call "$P" "$@"; }
vol() { vol_call "$P" "$@"; }
pprop() { pool_prop "$P" "$1"; }
vprop() { vol_prop "$P" "$@"; }
img() { ip netns exec "$NETNS" qemu-img info --output=json -U "$1" | sed -n "s/^    \"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p"; }
state_is() { $B get-property org.hostagent1 "$P" org.hostagent1.StoragePool State | grep -q "\"$1\""; }

# What cannot work is refused before anything is made.
out=$(create_pool '{"name":"nfs1","type":"nfs","server":"127.0.0.1","export":"/export","access":"libnfs","version":4}')
assert_contains "$out" "org.hostagent1.Error.NotSupported" "NFSv4 through libnfs is refused as not supported"
assert_contains "$out" "version: the user-space client" "and the error names the field"
out=$(create_pool '{"name":"nfs1","type":"nfs","server":"127.0.0.1","export":"/export"}')
if grep -qw nfs /proc/filesystems || modprobe -n nfs 2>/dev/null; then
        ok "# SKIP this kernel has an NFS client: the mount path is tested in the system tier"
else
        assert_contains "$out" "org.hostagent1.Error.NotSupported" "the kernel mount is refused where the kernel has no NFS client"
        assert_contains "$out" 'use "access": "libnfs"' "and the error says what to use instead"
fi
assert_contains "$(create_pool '{"name":"nfs1","type":"nfs","server":"127.0.0.1","export":"/nothere","access":"libnfs"}')" \
        "org.hostagent1.Error.StorageUnreachable" "an export the server does not have is unreachable"
assert_eq "(@a(osss) [],)" "$(manager_call ListStoragePools)" "no pool was kept from the refused specs"

# The pool: reached without a mount.
out=$(create_pool '{"name":"nfs1","type":"nfs","server":"127.0.0.1","export":"/export","access":"libnfs"}')
assert_contains "$out" "'$P'" "CreateStoragePool nfs (libnfs)"
assert_eq 's "active"' "$(pprop State)" "the pool is active"
assert_eq 's "127.0.0.1:/export"' "$(pprop Source)" "Source is server:export"
assert_not_contains "$(ip netns exec "$NETNS" cat /proc/self/mountinfo)" "/export" "nothing was mounted"
cap=$(pprop CapacityBytes | awk '{print $2}')
[ "${cap:-0}" -gt 0 ] && ok "CapacityBytes comes from the server ($cap)" || fail "CapacityBytes: $cap"

# Volumes on the export.
U=nfs://127.0.0.1/export
assert_contains "$(pool CreateVolume root 67108864 qcow2 {})" "'$P/root'" "CreateVolume root"
[ -f "$T/nfs/export/root" ] && ok "the file is on the export" || fail "no root on the export"
assert_eq "67108864" "$(img $U/root virtual-size)" "qemu-img over NFS: root is 64 MiB"
assert_eq "s \"$U/root\"" "$(vprop root URI)" "URI is the nfs:// address"
assert_eq 's ""' "$(vprop root Path)" "no local Path"
assert_contains "$(pool CreateVolume top 67108864 qcow2 "{'backing_volume': <'root'>}")" "'$P/top'" "an overlay on NFS"
assert_eq 's "root"' "$(vprop top BackingVolume)" "its BackingVolume is root"
assert_eq "()" "$(vol root Resize 134217728)" "Resize root"
assert_eq "134217728" "$(img $U/root virtual-size)" "qemu-img over NFS: root is 128 MiB"
job=$(vol top Clone copy | grep -o "/org/hostagent1/job/[0-9]*")
wait_until 60 sh -c "$B get-property org.hostagent1 $job org.hostagent1.Job State | grep -q finished"
assert_eq 's "done"' "$($B get-property org.hostagent1 "$job" org.hostagent1.Job Result)" "Clone over NFS is done"
assert_eq "qcow2" "$(img $U/copy format)" "qemu-img over NFS: the copy is qcow2"
assert_eq "()" "$(vol copy Delete)" "Delete the copy"
[ ! -e "$T/nfs/export/copy" ] && ok "its file is gone from the export" || fail "copy still on the export"
# Written by someone else over NFS (a guest elsewhere): the next check's
# listing of the export sees what it takes, as qemu-img does.
assert_contains "$(pool CreateVolume raw1 8388608 raw {})" "'$P/raw1'" "CreateVolume raw1"
ip netns exec "$NETNS" qemu-io -f raw -c 'write -P 0x5a 0 4M' "$U/raw1" >/dev/null
raw1_allocation() { [ "$(vprop raw1 AllocationBytes)" = "t $(img $U/raw1 actual-size)" ]; }
wait_until 15 raw1_allocation
want=$(img $U/raw1 actual-size)
[ "$want" -ge 4194304 ] && ok "qemu-img over NFS sees the 4 MiB written ($want)" || fail "qemu-img over NFS: actual-size $want"
assert_eq "t $want" "$(vprop raw1 AllocationBytes)" "AllocationBytes follows a write by another process"
assert_eq "()" "$(vol raw1 Delete)" "Delete raw1"

# The server dies: the pool turns unreachable, and the agent keeps answering.
bus_monitor_start "$T/signals" $B monitor --system org.hostagent1; MON=$MONITOR_PID
nfs_server_kill
start=$SECONDS
wait_until 30 state_is unreachable
assert_eq 's "unreachable"' "$(pprop State)" "with the server gone the pool is unreachable (after $((SECONDS - start)) s)"
t0=$(date +%s%N)
assert_contains "$(manager_call ListVMs)" "6695eb01" "ListVMs answers meanwhile"
assert_contains "$(vprop root CapacityBytes)" "134217728" "volume properties answer meanwhile"
assert_contains "$(pool CreateVolume late 1048576 raw {})" "org.hostagent1.Error.StorageUnreachable" \
        "CreateVolume says the storage is unreachable"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $ms -lt 5000 ] && ok "those three calls answered in $ms ms" || fail "calls took $ms ms with the server gone"
nfs_server_start || fail "ganesha did not come back"
wait_until 30 state_is active
assert_eq 's "active"' "$(pprop State)" "the pool is active again when the server is back"
bus_monitor_stop
signals=$(grep -A8 'Member=StateChanged' "$T/signals" | tr '\n' ' ')
assert_contains "$signals" '"unreachable"' "StateChanged signalled unreachable"
assert_contains "$signals" '"active"' "StateChanged signalled active"

# Restart: the pool comes back.
daemon_stop || fail "hostagentd exited with an error"
daemon_start "${STARTARGS[@]}"
wait_until 15 state_is active
assert_eq 's "active"' "$(pprop State)" "the pool is back after a restart"
assert_eq 's "root"' "$(vprop top BackingVolume)" "its volumes too"

for v in top root; do vol $v Delete >/dev/null; done
assert_eq "()" "$(pool Delete)" "Delete the pool"
assert_eq "" "$(ls -A "$T/nfs/export")" "the export is empty"
daemon_stop && ok "hostagentd exits cleanly" || fail "hostagentd exited with an error"
fixture_finish
