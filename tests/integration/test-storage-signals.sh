# Storage objects as an ObjectManager client follows them: every pool and
# volume is announced with InterfacesAdded carrying its own interface and
# properties, and withdrawn with an InterfacesRemoved naming every interface
# it had (as GLib's GDBusObjectManagerClient needs to drop the object), on
# every path: CreateStoragePool, CreateVolume, Clone, Refresh, the health
# check, Volume.Delete, StoragePool.Delete, and the pools restored at start.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/storage.sh"
set +e

bus_start
STARTARGS=(--libvirt-uri=test:///default --run-dir="$T/run" --storage-check-interval=1)
B="busctl --system"
P=/org/hostagent1/storage/sig
D="$T/pools/sig"
pool() { pool_call "$P" "$@"; }
vol() { vol_call "$P" "$@"; }

# The capture: every message to or from the agent, as JSON, from before it starts.
SIG="$T/signals.json"
monitor_start() {
        SIG="$T/signals-$1.json"
        MONITOR_STDERR="$T/monitor.log" bus_monitor_start "$SIG" $B monitor --json=short org.hostagent1
        MON=$MONITOR_PID
}
events() { python3 "$HOSTAGENT_SOURCE_DIR/tests/lib/om-events.py" "$SIG"; }
# seen PATTERN: wait until an event line matches PATTERN (grep -E).
seen() { wait_until 20 sh -c "python3 '$HOSTAGENT_SOURCE_DIR/tests/lib/om-events.py' '$SIG' | grep -Eq '$1'"; }
# ifaces added|removed PATH: the interfaces of the last such signal for PATH.
ifaces() { events | awk -v k="$1" -v p="$2" '$1 == k && $2 == p { i = $3 } END { print i }'; }
# check_volume_signal added|removed PATH DESCRIPTION: the signal was seen and names
# org.hostagent1.Volume, and a removal names what the announcement did.
check_volume_signal() {
        local kind=$1 path=$2 what=$3 got
        seen "^$kind $path " || { fail "$what: no $kind signal for $path"; return; }
        got=$(ifaces "$kind" "$path")
        assert_contains ",$got," ",org.hostagent1.Volume," "$what: $kind carries org.hostagent1.Volume"
        [ "$kind" = removed ] &&
                assert_eq "$(ifaces added "$path")" "$got" "$what: removed names every interface it was added with"
}
prop_of() { events | awk -v p="$1" -v n="$2=" '$1 == "prop" && $2 == p && index($3, n) == 1 { v = substr($3, length(n) + 1) } END { print v }'; }

monitor_start first
daemon_start "${STARTARGS[@]}"

# A pool: announced with its interface and properties.
assert_contains "$(create_pool "{\"name\":\"sig\",\"type\":\"dir\",\"path\":\"$D\"}")" "'$P'" "CreateStoragePool"
seen "^added $P " && ok "the pool is announced" || fail "no InterfacesAdded for $P"
assert_contains ",$(ifaces added "$P")," ",org.hostagent1.StoragePool," "its InterfacesAdded carries org.hostagent1.StoragePool"
POOL_IFACES=$(ifaces added "$P")
assert_eq '"sig"' "$(prop_of "$P" org.hostagent1.StoragePool.Name)" "with its Name"
assert_eq '"active"' "$(prop_of "$P" org.hostagent1.StoragePool.State)" "and its State"

# CreateVolume: announced with the Volume interface and its properties in place.
assert_contains "$(pool CreateVolume v1 1048576 raw {})" "'$P/v1'" "CreateVolume v1"
check_volume_signal added "$P/v1" "CreateVolume"
assert_eq '"v1"' "$(prop_of "$P/v1" org.hostagent1.Volume.Name)" "CreateVolume: InterfacesAdded carries Name"
assert_eq '"raw"' "$(prop_of "$P/v1" org.hostagent1.Volume.Format)" "CreateVolume: and Format"
assert_eq '1048576' "$(prop_of "$P/v1" org.hostagent1.Volume.CapacityBytes)" "CreateVolume: and CapacityBytes"
assert_eq "\"$D/v1\"" "$(prop_of "$P/v1" org.hostagent1.Volume.Path)" "CreateVolume: and Path"

# Clone: the copy is announced once it is whole.
job=$(vol v1 Clone v2 | grep -o "/org/hostagent1/job/[0-9]*")
wait_until 60 sh -c "$B get-property org.hostagent1 $job org.hostagent1.Job Result | grep -q done"
check_volume_signal added "$P/v2" "Clone"
assert_eq '1048576' "$(prop_of "$P/v2" org.hostagent1.Volume.CapacityBytes)" "Clone: InterfacesAdded carries CapacityBytes"
assert_eq '"raw"' "$(prop_of "$P/v2" org.hostagent1.Volume.Format)" "Clone: and Format"

# Volume.Delete.
assert_eq "()" "$(vol v2 Delete)" "Volume.Delete v2"
check_volume_signal removed "$P/v2" "Volume.Delete"

# A file made and removed by another program, seen at Refresh.
qemu-img create -q -f qcow2 "$D/outsider" 1M
assert_eq "()" "$(pool Refresh)" "Refresh after a file appeared"
check_volume_signal added "$P/outsider" "Refresh (new file)"
assert_eq '"qcow2"' "$(prop_of "$P/outsider" org.hostagent1.Volume.Format)" "Refresh: InterfacesAdded carries Format"
rm "$D/outsider"
assert_eq "()" "$(pool Refresh)" "Refresh after the file went"
check_volume_signal removed "$P/outsider" "Refresh (file gone)"

# The health check: the directory goes away and comes back without a file;
# the check that finds it again lists it, and the volume is withdrawn.
assert_contains "$(pool CreateVolume v3 1048576 raw {})" "'$P/v3'" "CreateVolume v3"
mv "$D" "$D.away"
wait_until 20 sh -c "$B get-property org.hostagent1 $P org.hostagent1.StoragePool State | grep -q unreachable" ||
        fail "the pool did not turn unreachable"
rm "$D.away/v3"
mv "$D.away" "$D"
check_volume_signal removed "$P/v3" "the health check (file gone)"

# A restart: the pool and its volume come back, announced whole.
daemon_stop || fail "hostagentd exited with an error"
kill $MON
monitor_start restart
daemon_start "${STARTARGS[@]}"
seen "^added $P/v1 " || fail "v1 was not announced after the restart"
# (The pool itself was announced before the agent owned its name; a client reads it with GetManagedObjects.)
assert_contains "$($B call org.hostagent1 /org/hostagent1 org.freedesktop.DBus.ObjectManager GetManagedObjects)" \
        '"org.hostagent1.StoragePool" 9 "Name" s "sig"' "after a restart GetManagedObjects shows the pool"
check_volume_signal added "$P/v1" "a restart"

# StoragePool.Delete: the pool withdrawn naming its interface.
assert_eq "()" "$(vol v1 Delete)" "Volume.Delete v1"
check_volume_signal removed "$P/v1" "Volume.Delete after a restart"
assert_eq "()" "$(pool Delete)" "StoragePool.Delete"
seen "^removed $P " || fail "no InterfacesRemoved for $P"
assert_contains ",$(ifaces removed "$P")," ",org.hostagent1.StoragePool," "the pool's InterfacesRemoved names org.hostagent1.StoragePool"
assert_eq "$POOL_IFACES" "$(ifaces removed "$P")" "and every interface it was announced with"

daemon_stop && ok "hostagentd exits cleanly" || fail "hostagentd exited with an error"
kill $MON
fixture_finish
