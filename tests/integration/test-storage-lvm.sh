# LVM storage pools on loop devices: the agent builds a volume group tagged as
# its own and manages logical volumes in it (metadata only: this kernel has no
# device-mapper, so an LVM configuration of the test's disables activation);
# volume groups and volumes it did not create are never touched.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/storage.sh"
set +e

# Three loop devices of our own, always detached again (the hook is in place
# before the first is attached, so a failure half-way leaves none behind).
LOOPS=()
VG=hatvg$$
FOREIGN=hatforeign$$
fixture_on_exit 'for vg in $VG $FOREIGN; do vgremove -ff -y $vg >/dev/null 2>&1; done; [ ${#LOOPS[@]} -eq 0 ] || pvremove -ff -y "${LOOPS[@]}" >/dev/null 2>&1; for d in "${LOOPS[@]}"; do losetup -d $d; done'
for i in 1 2 3; do
        truncate -s 256M "$T/disk$i.img"
        dev=$(losetup -f --show "$T/disk$i.img") || { echo "no free loop device" >&2; exit 1; }
        LOOPS+=("$dev")
done

# LVM sees only our devices, keeps its locks and no backups of its own, and activates nothing.
mkdir -p "$T/lvm/lock"
filter=$(printf '"a|^%s$|", ' "${LOOPS[@]}")
cat > "$T/lvm/lvm.conf" <<CONF
devices { filter = [ $filter "r|.*|" ] global_filter = [ $filter "r|.*|" ] use_devicesfile = 0 obtain_device_list_from_udev = 0 }
global { activation = 0 locking_dir = "$T/lvm/lock" use_lvmlockd = 0 }
activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }
backup { backup = 0 archive = 0 }
CONF
export LVM_SYSTEM_DIR="$T/lvm" LVM_SUPPRESS_FD_WARNINGS=1

# Someone else's volume group, with a volume in it.
vgcreate -q "$FOREIGN" 2>/dev/null "${LOOPS[2]}" >/dev/null
lvcreate -q -an -Zn -n theirs -L 8M "$FOREIGN" >/dev/null 2>&1

bus_start
STARTARGS=(--libvirt-uri=test:///default --run-dir="$T/run" --storage-check-interval=1)
daemon_start "${STARTARGS[@]}"
B="busctl --system"
P=/org/hostagent1/storage/$VG
pool() { pool_call "$P" "$@"; }
vol() { vol_call "$P" "$@"; }
pprop() { pool_prop "$P" "$1"; }
lvsize() { lvs --noheadings --units b --nosuffix -o lv_size "$1" 2>/dev/null | tr -d ' '; }
foreign_state() { { vgs --noheadings -o vg_name,vg_tags,lv_count,vg_seqno "$FOREIGN"; lvs --noheadings -o lv_name,lv_size,lv_tags "$FOREIGN"; } 2>/dev/null | tr -s ' '; }
before=$(foreign_state)

# What belongs to someone else is refused, by name, and left as it was.
out=$(create_pool "{\"name\":\"$VG\",\"type\":\"lvm\",\"devices\":[\"${LOOPS[2]}\"]}")
assert_contains "$out" "org.hostagent1.Error.InvalidSpec: Cannot create the pool: devices[0]: ${LOOPS[2]} already belongs to volume group $FOREIGN" \
        "a device of another volume group is refused"
out=$(create_pool "{\"name\":\"$FOREIGN\",\"type\":\"lvm\",\"devices\":[\"${LOOPS[0]}\"]}")
assert_contains "$out" "org.hostagent1.Error.Exists" "a pool named like a volume group that is not ours is refused"
assert_contains "$out" "is not tagged org.hostagent1" "and the error says why"
assert_eq "" "$(pvs --noheadings "${LOOPS[0]}" 2>/dev/null)" "the refused pool made no PV of ${LOOPS[0]}"

# Our pool: a VG tagged as the agent's, over two devices.
out=$(create_pool "{\"name\":\"$VG\",\"type\":\"lvm\",\"devices\":[\"${LOOPS[0]}\",\"${LOOPS[1]}\"]}")
assert_contains "$out" "'$P'" "CreateStoragePool lvm returns the pool"
assert_eq "org.hostagent1" "$(vgs --noheadings -o vg_tags "$VG" | tr -d ' ')" "vgs: the VG carries the agent's tag"
assert_eq "2" "$(vgs --noheadings -o pv_count "$VG" | tr -d ' ')" "vgs: the VG has both devices"
assert_eq 's "active"' "$(pprop State)" "the pool is active"
vgsize=$(vgs --noheadings --units b --nosuffix -o vg_size "$VG" | tr -d ' ')
assert_eq "t $vgsize" "$(pprop CapacityBytes)" "CapacityBytes is the VG's size"
assert_contains "$(create_pool "{\"name\":\"again$$\",\"type\":\"lvm\",\"devices\":[\"${LOOPS[1]}\"]}")" \
        "devices[0]: ${LOOPS[1]} belongs to pool $VG" "a device of one of our pools is refused for another"

# Volumes are logical volumes, tagged too.
assert_contains "$(pool CreateVolume lv1 67108864 raw {})" "'$P/lv1'" "CreateVolume lv1"
assert_eq "67108864" "$(lvsize "$VG/lv1")" "lvs: lv1 is 64 MiB"
assert_eq "org.hostagent1" "$(lvs --noheadings -o lv_tags "$VG/lv1" | tr -d ' ')" "lvs: lv1 carries the tag"
assert_eq "s \"/dev/$VG/lv1\"" "$($B get-property org.hostagent1 "$P/lv1" org.hostagent1.Volume Path)" "Path is the LV's device"
free_before=$(pprop AvailableBytes | awk '{print $2}')
assert_contains "$(pool CreateVolume q 67108864 qcow2 {})" "org.hostagent1.Error.NotSupported: Cannot create the volume: format: volumes of an lvm pool are raw" \
        "qcow2 on LVM is refused"
assert_contains "$(pool CreateVolume lv1 4194304 raw {})" "org.hostagent1.Error.Exists" "a second lv1 is refused"
assert_eq "()" "$(vol lv1 Resize 134217728)" "Resize lv1 to 128 MiB"
assert_eq "134217728" "$(lvsize "$VG/lv1")" "lvs: lv1 is 128 MiB"
wait_until 10 sh -c "[ \"\$($B get-property org.hostagent1 $P org.hostagent1.StoragePool AvailableBytes | awk '{print \$2}')\" -lt $free_before ]"
[ "$(pprop AvailableBytes | awk '{print $2}')" -lt "$free_before" ] && ok "AvailableBytes shrank after the resize" || fail "AvailableBytes did not change"
# Grown by someone else: the next check's one lvs report sees it, without a Refresh.
lvextend -q -L 192M "$VG/lv1" >/dev/null 2>&1
lv1_capacity() { $B get-property org.hostagent1 "$P/lv1" org.hostagent1.Volume CapacityBytes | grep -qx 't 201326592'; }
wait_until 15 lv1_capacity
assert_eq "t 201326592" "$($B get-property org.hostagent1 "$P/lv1" org.hostagent1.Volume CapacityBytes)" \
        "CapacityBytes follows an lvextend by another process"
assert_eq "t 201326592" "$($B get-property org.hostagent1 "$P/lv1" org.hostagent1.Volume AllocationBytes)" \
        "and so does AllocationBytes"
assert_contains "$(vol lv1 Clone lv2)" "org.hostagent1.Error.NotSupported" "Clone says this kernel cannot copy LVs"
assert_eq "" "$(lvs --noheadings -o lv_name "$VG/lv2" 2>/dev/null)" "and made no lv2"

# A volume someone else put in our VG is not ours: not shown, not removed.
lvcreate -q -an -Zn -n intruder -L 4M "$VG" >/dev/null 2>&1
assert_eq "()" "$(pool Refresh)" "Refresh"
assert_contains "$($B get-property org.hostagent1 "$P/intruder" org.hostagent1.Volume Name 2>&1)" "nknown object" \
        "an untagged LV is not shown as a volume"

# Delete.
assert_eq "()" "$(vol lv1 Delete)" "Delete lv1"
assert_eq "" "$(lvs --noheadings -o lv_name "$VG/lv1" 2>/dev/null)" "lvs: lv1 is gone"
out=$(pool Delete)
assert_contains "$out" "Cannot delete the pool" "a VG holding an LV that is not ours is not removed"
assert_eq "intruder" "$(lvs --noheadings -o lv_name "$VG" | tr -d ' ')" "the intruder's LV is still there"

# LVs being made (as a copy is: tagged as the agent's and as half-made by
# this host) are no volumes; a start removes this host's, and leaves alone
# one another host sharing the VG is making.
host=$(tr -cd 'A-Za-z0-9_-' < /etc/machine-id)
lvcreate -q -an -Zn --addtag org.hostagent1 --addtag "org.hostagent1.partial.$host" -n halfmade -L 4M "$VG" >/dev/null 2>&1
lvcreate -q -an -Zn --addtag org.hostagent1 --addtag org.hostagent1.partial.otherhost -n elsewhere -L 4M "$VG" >/dev/null 2>&1
assert_eq "()" "$(pool Refresh)" "Refresh with LVs being made"
assert_contains "$($B get-property org.hostagent1 "$P/halfmade" org.hostagent1.Volume Name 2>&1)" "nknown object" \
        "an LV being made is not a volume"
assert_contains "$($B get-property org.hostagent1 "$P/elsewhere" org.hostagent1.Volume Name 2>&1)" "nknown object" \
        "nor is one another host is making"

# A restart keeps the pool.
daemon_stop || fail "hostagentd exited with an error"
daemon_start "${STARTARGS[@]}"
wait_until 15 sh -c "$B get-property org.hostagent1 $P org.hostagent1.StoragePool State | grep -q '\"active\"'"
assert_eq 's "active"' "$(pprop State)" "the pool is back after a restart"
assert_eq "" "$(lvs --noheadings -o lv_name "$VG/halfmade" 2>/dev/null)" "the start removed the LV this host left half-made"
assert_eq "elsewhere" "$(lvs --noheadings -o lv_name "$VG/elsewhere" 2>/dev/null | tr -d ' ')" \
        "and left the other host's alone"
lvremove -q -y "$VG/elsewhere" >/dev/null 2>&1

lvremove -q -y "$VG/intruder" >/dev/null 2>&1

# A Delete the state file cannot keep (an immutable state directory) is undone:
# the VG is made again and the pool is back, active.
chattr +i "$T/state" && fixture_on_exit "chattr -i '$T/state'"
assert_contains "$(pool Delete)" "org.hostagent1.Error.Failed: Cannot delete the pool: storage-pools.json: Operation not permitted" \
        "Delete fails when the state file cannot be written"
wait_until 15 sh -c "$B get-property org.hostagent1 $P org.hostagent1.StoragePool State | grep -q '\"active\"'"
assert_eq 's "active"' "$(pprop State)" "the pool is back, active"
assert_eq "org.hostagent1" "$(vgs --noheadings -o vg_tags "$VG" 2>/dev/null | tr -d ' ')" "vgs: its VG is there again, tagged"
assert_eq "2" "$(vgs --noheadings -o pv_count "$VG" 2>/dev/null | tr -d ' ')" "vgs: over both devices"
chattr -i "$T/state"

assert_eq "()" "$(pool Delete)" "Delete the pool once it is empty"
assert_eq "" "$(vgs --noheadings "$VG" 2>/dev/null)" "vgs: the VG is gone"
assert_eq "" "$(pvs --noheadings "${LOOPS[0]}" "${LOOPS[1]}" 2>/dev/null)" "pvs: its devices are no PVs any more"

# A creation the state file cannot keep is undone: no pool, no VG, no PVs.
chattr +i "$T/state"
assert_contains "$(create_pool "{\"name\":\"$VG\",\"type\":\"lvm\",\"devices\":[\"${LOOPS[0]}\"]}")" \
        "org.hostagent1.Error.Failed: Cannot create the pool: storage-pools.json: Operation not permitted" \
        "CreateStoragePool fails when the state file cannot be written"
assert_contains "$(pprop State)" "nknown object" "the pool is not there"
assert_eq "" "$(vgs --noheadings "$VG" 2>/dev/null)" "vgs: the VG it made is gone again"
assert_eq "" "$(pvs --noheadings "${LOOPS[0]}" 2>/dev/null)" "pvs: its device is no PV"
chattr -i "$T/state"
assert_eq "$before" "$(foreign_state)" "the foreign VG is exactly as before"

daemon_stop && ok "hostagentd exits cleanly" || fail "hostagentd exited with an error"
fixture_finish
