# What volumes and pools take, kept current by the health checks: another
# process writing into a volume or growing a raw one is seen at the next
# check, as a user reading the properties or following PropertiesChanged
# would see it, with qemu-img as the oracle. The pool sits on a tmpfs of its
# own, so that its space figures move only with what the test writes.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/storage.sh"
set +e

mkdir -p "$T/fs"
mount -t tmpfs -o size=64m tmpfs "$T/fs" || { echo "cannot mount a tmpfs on $T/fs" >&2; exit 1; }
fixture_on_exit "umount -l '$T/fs'"

bus_start
daemon_start --libvirt-uri=test:///default --run-dir="$T/run" --storage-check-interval=1
B="busctl --system"
P=/org/hostagent1/storage/pool1
D=$T/fs/pool
pool() { pool_call "$P" "$@"; }
pprop() { pool_prop "$P" "$1" | awk '{print $2}'; }
vprop() { vol_prop "$P" "$@"; }
vprop_is() { [ "$(vprop "$1" "$2")" = "t $3" ]; }
allocated() { echo $(( $(stat -c %b "$D/$1") * 512 )); }
img() { qemu-img info --output=json -U "$1" | sed -n "s/^    \"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p"; }
# changed PATH PROPERTY VALUE: a PropertiesChanged of PATH carried PROPERTY with VALUE (a uint64).
changed() { grep "^$1: org.freedesktop.DBus.Properties.PropertiesChanged" "$T/signals" | grep -q "'$2': <uint64 $3>"; }

bus_call /org/hostagent1 org.hostagent1.Manager.CreateStoragePool \
        "$(gv_string "{\"name\":\"pool1\",\"type\":\"dir\",\"path\":\"$D\"}")" >/dev/null
assert_contains "$(pool CreateVolume data 16777216 raw {})" "'$P/data'" "CreateVolume data (raw, sparse)"
assert_contains "$(pool CreateVolume q 16777216 qcow2 {})" "'$P/q'" "CreateVolume q (qcow2)"
before=$(allocated data)
assert_eq "t $before" "$(vprop data AllocationBytes)" "a new sparse raw volume takes what its file takes ($before)"
used=$(pprop AllocationBytes)
bus_monitor_start "$T/signals" gdbus monitor --system --dest org.hostagent1

# Someone else writes 8 MiB into the raw volume.
dd if=/dev/urandom of="$D/data" bs=1M count=8 conv=notrunc status=none
want=$(allocated data)
wait_until 15 vprop_is data AllocationBytes "$want"
assert_eq "t $want" "$(vprop data AllocationBytes)" "AllocationBytes follows a write by another process ($want)"
assert_eq "$want" "$(img "$D/data" actual-size)" "as qemu-img sees it"
wait_until 5 changed "$P/data" AllocationBytes "$want"
changed "$P/data" AllocationBytes "$want" && ok "a PropertiesChanged said so" ||
        fail "no PropertiesChanged of $P/data with AllocationBytes $want"
now=$(pprop AllocationBytes)
[ "$now" -ge $((used + want - before)) ] && ok "the pool's AllocationBytes grew with the volume ($used -> $now)" ||
        fail "pool AllocationBytes $used -> $now after the volume grew from $before to $want"
changed "$P" AllocationBytes "$now" && ok "with a PropertiesChanged of the pool" ||
        fail "no PropertiesChanged of $P with AllocationBytes $now"

# The raw file grown from outside: its capacity is its length.
truncate -s 32M "$D/data"
wait_until 15 vprop_is data CapacityBytes 33554432
assert_eq "t 33554432" "$(vprop data CapacityBytes)" "CapacityBytes of a raw volume follows its file's length"
wait_until 5 changed "$P/data" CapacityBytes 33554432
changed "$P/data" CapacityBytes 33554432 && ok "with a PropertiesChanged" || fail "no PropertiesChanged of CapacityBytes 33554432"

# A guest's write into the qcow2 volume, as qemu-io makes it.
qemu-io -f qcow2 -c 'write -P 0x5a 0 4M' "$D/q" >/dev/null
want=$(allocated q)
wait_until 15 vprop_is q AllocationBytes "$want"
assert_eq "t $want" "$(vprop q AllocationBytes)" "AllocationBytes of a qcow2 volume follows a write ($want)"
assert_eq "$want" "$(img "$D/q" actual-size)" "as qemu-img sees it"
assert_eq "t 16777216" "$(vprop q CapacityBytes)" "its CapacityBytes is still its virtual size"
assert_eq "()" "$(pool Refresh)" "Refresh"
assert_eq "t $want" "$(vprop q AllocationBytes)" "a full re-read finds the same"

# A read of what the volumes take that does not end in time (held by a test failpoint) is not a
# failed health check: the pool stays active, and the figures stay as they were.
daemon_stop || fail "hostagentd exited with an error"
HOSTAGENT_STORAGE_USAGE_HOLD="$T/usage-go" daemon_start --libvirt-uri=test:///default --run-dir="$T/run" \
        --storage-check-interval=1 --log-level=debug
pool_active() { $B get-property org.hostagent1 "$P" org.hostagent1.StoragePool State | grep -q '"active"'; }
wait_until 15 pool_active || fail "the pool is not active after the restart"
late="reading what its volumes take did not end in time"
wait_until 60 grep -q "$late" "$T/daemon.log" && ok "a slow read of the volumes' figures runs past its deadline" ||
        fail "no slow read of the volumes' figures ran past its deadline"
assert_eq 's "active"' "$($B get-property org.hostagent1 "$P" org.hostagent1.StoragePool State)" \
        "the pool stays active meanwhile"
assert_eq "t $want" "$(vprop q AllocationBytes)" "and its volumes keep their figures"
touch "$T/usage-go"

daemon_stop && ok "hostagentd exits cleanly" || fail "hostagentd exited with an error"
fixture_finish
