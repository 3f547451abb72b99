# Real QEMU guests with disks from storage pools: a file from a dir pool and
# an NFS network disk from a libnfs pool (QEMU's own NFS client, no mount),
# with libvirtd, the agent and nfs-ganesha in a network namespace of the
# test's own. Volumes in use cannot be deleted; InUseBy says by whom.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
set +e

nfs_start || exit 1
LIBVIRTD_PREFIX=(ip netns exec "$NETNS")
libvirtd_start
bus_start
VIRSH="virsh -q -c $LIBVIRT_QEMU_URI"
$VIRSH list --all >/dev/null || { fail "libvirtd's QEMU driver does not answer"; fixture_finish; exit 1; }
DAEMON_PREFIX=(ip netns exec "$NETNS")
daemon_start --libvirt-uri="$LIBVIRT_QEMU_URI" --run-dir="$T/run" --storage-check-interval=1
wait_until 60 sh -c 'busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | grep -q true'

B="busctl --system"
S=/org/hostagent1/storage

assert_contains "$(manager_call CreateStoragePool "$(gv_string "{\"name\":\"local\",\"type\":\"dir\",\"path\":\"$T/pools/local\"}")")" \
        "'$S/local'" "a dir pool"
assert_contains "$(manager_call CreateStoragePool "$(gv_string '{"name":"shared","type":"nfs","server":"127.0.0.1","export":"/export","access":"libnfs"}')")" \
        "'$S/shared'" "an NFS pool (libnfs)"
assert_contains "$(bus_call $S/local org.hostagent1.StoragePool.CreateVolume root 67108864 qcow2 {})" "'$S/local/root'" "a root volume"
assert_contains "$(bus_call $S/shared org.hostagent1.StoragePool.CreateVolume data 33554432 qcow2 {})" "'$S/shared/data'" "a data volume on NFS"

create() { manager_call CreateVM "$(gv_string "$1")"; }
GUEST='"type":"qemu","memory_mib":128,"vcpus":1'
assert_contains "$(create "{\"name\":\"bad1\",$GUEST,\"disks\":[{\"pool\":\"nowhere\",\"volume\":\"root\"}]}")" \
        "org.hostagent1.Error.InvalidSpec: disks[0].pool: no storage pool named 'nowhere'" "a disk from a missing pool is refused"
assert_contains "$(create "{\"name\":\"bad2\",$GUEST,\"disks\":[{\"pool\":\"local\",\"volume\":\"nothing\"}]}")" \
        "org.hostagent1.Error.InvalidSpec: disks[0].volume: no volume 'nothing' in storage pool local" "a missing volume is refused"
assert_eq "" "$($VIRSH list --all --name | grep bad)" "nothing was defined for them"

out=$(create "{\"name\":\"pooled\",$GUEST,\"start\":true,\"disks\":[{\"pool\":\"local\",\"volume\":\"root\"},{\"pool\":\"shared\",\"volume\":\"data\"}]}")
assert_contains "$out" "/org/hostagent1/vm/" "CreateVM with disks from both pools starts a guest"
VM=$(grep -o "/org/hostagent1/vm/[^']*" <<<"$out")
assert_eq 's "running"' "$($B get-property org.hostagent1 "$VM" org.hostagent1.VM State)" "the guest runs"
blk=$($VIRSH domblklist pooled | tr -s ' ')
assert_contains "$blk" "vda $T/pools/local/root" "its first disk is the dir pool's file"
assert_contains "$blk" "vdb /export/data" "its second disk is the NFS volume"
assert_contains "$($VIRSH dumpxml pooled)" "<source protocol='nfs' name='/export/data'" "as an NFS network disk"
info=$($VIRSH qemu-monitor-command --hmp pooled 'info block' 2>&1)
assert_contains "$info" "nfs://127.0.0.1/export/data" "QEMU itself has the disk open over NFS"
assert_contains "$($VIRSH dumpxml pooled)" '"pool":"shared"' "the spec kept names the pool and volume"

assert_contains "$($B get-property org.hostagent1 $S/shared/data org.hostagent1.Volume InUseBy)" "$VM" "InUseBy names the guest"
assert_contains "$(bus_call $S/shared/data org.hostagent1.Volume.Delete)" "org.hostagent1.Error.InUse" "a disk in use cannot be deleted"
assert_contains "$(bus_call $S/shared org.hostagent1.StoragePool.Deactivate)" "org.hostagent1.Error.InUse" "its pool cannot be deactivated"
ip netns exec "$NETNS" qemu-img info -U nfs://127.0.0.1/export/data >/dev/null && ok "the volume is still there" || fail "data is gone"

assert_eq "()" "$(bus_call "$VM" org.hostagent1.VM.Destroy)" "Destroy the guest"
assert_eq "()" "$(bus_call "$VM" org.hostagent1.VM.Undefine)" "Undefine it"
wait_until 10 sh -c "$B get-property org.hostagent1 $S/shared/data org.hostagent1.Volume InUseBy | grep -q 'ao 0'"
assert_eq "ao 0" "$($B get-property org.hostagent1 $S/shared/data org.hostagent1.Volume InUseBy)" "InUseBy is empty again"
assert_eq "()" "$(bus_call $S/shared/data org.hostagent1.Volume.Delete)" "now the volume can be deleted"
assert_eq "()" "$(bus_call $S/local/root org.hostagent1.Volume.Delete)" "and the other one"
assert_eq "()" "$(bus_call $S/shared org.hostagent1.StoragePool.Delete)" "Delete the NFS pool"
assert_eq "()" "$(bus_call $S/local org.hostagent1.StoragePool.Delete)" "Delete the dir pool"

daemon_stop && ok "hostagentd exits cleanly" || fail "hostagentd exited with an error"
fixture_finish
