# Directory storage pools over the bus: bad input refused by name with nothing
# touched; volumes created, overlaid, resized, cloned (with progress and
# cancel), deleted, with qemu-img as the oracle; files made by others picked
# up; pools deactivated, restored after a restart, watched for health, deleted.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/storage.sh"
set +e

bus_start
STARTARGS=(--libvirt-uri=test:///default --run-dir="$T/run" --storage-check-interval=1)
daemon_start "${STARTARGS[@]}"
B="busctl --system"
P=/org/hostagent1/storage/pool1
pool() { pool_call "$P" "$@"; }
vol() { vol_call "$P" "$@"; }
pprop() { pool_prop "$P" "$1"; }
vprop() { vol_prop "$P" "$@"; }
# One top-level field of qemu-img's JSON report (indented by four spaces).
img() { qemu-img info --output=json -U "$1" | sed -n "s/^    \"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p"; }

# Bad pool specs: each refused with a named error naming the field; nothing made.
while IFS='|' read -r name want spec; do
        [ -n "$name" ] || continue
        out=$(create_pool "$spec")
        case "$out" in
        *"$name"*"$want"*) ok "CreateStoragePool refuses: $want" ;;
        *) fail "CreateStoragePool $spec: wanted $name '$want', got: $out" ;;
        esac
done <<CASES
org.hostagent1.Error.InvalidSpec|spec: not valid JSON|{"name":
org.hostagent1.Error.InvalidSpec|type: is required|{"name":"p"}
org.hostagent1.Error.InvalidSpec|type: must be one of dir, nfs, lvm|{"name":"p","type":"zfs"}
org.hostagent1.Error.InvalidSpec|name: must be 1 to 64|{"name":"a/b","type":"dir","path":"$T/x"}
org.hostagent1.Error.InvalidSpec|name: must be 1 to 64|{"name":"..","type":"dir","path":"$T/x"}
org.hostagent1.Error.InvalidSpec|path: must be an absolute path|{"name":"p","type":"dir","path":"relative/dir"}
org.hostagent1.Error.InvalidSpec|path: must be an absolute path without '.' or '..'|{"name":"p","type":"dir","path":"$T/../etc"}
org.hostagent1.Error.InvalidSpec|server: unknown key for a dir pool|{"name":"p","type":"dir","path":"$T/x","server":"h"}
org.hostagent1.Error.InvalidSpec|server: is required for an nfs pool|{"name":"p","type":"nfs","export":"/e"}
org.hostagent1.Error.InvalidSpec|version: must be between 3 and 4|{"name":"p","type":"nfs","server":"h","export":"/e","version":5}
org.hostagent1.Error.InvalidSpec|access: must be one of mount, libnfs|{"name":"p","type":"nfs","server":"h","export":"/e","access":"fuse"}
org.hostagent1.Error.InvalidSpec|server: must be a host name or an IP address|{"name":"p","type":"nfs","server":"-o rw","export":"/e"}
org.hostagent1.Error.InvalidSpec|devices: must name between 1 and 16 devices|{"name":"p","type":"lvm","devices":[]}
org.hostagent1.Error.InvalidSpec|devices[0]: must be a device under /dev|{"name":"p","type":"lvm","devices":["/tmp/disk"]}
org.hostagent1.Error.InvalidSpec|devices[0]: /dev/hostagent-no-such-disk: No such file or directory|{"name":"p","type":"lvm","devices":["/dev/hostagent-no-such-disk"]}
org.hostagent1.Error.InvalidSpec|devices[0]: /dev/null is not a block device|{"name":"p","type":"lvm","devices":["/dev/null"]}
CASES
[ ! -e "$T/x" ] && ok "no directory was made for a refused spec" || fail "a refused spec made $T/x"
assert_eq "(@a(osss) [],)" "$(manager_call ListStoragePools)" "no pool exists after refused specs"

# A dir pool: made (its directory too), active, with space figures.
out=$(create_pool "{\"name\":\"pool1\",\"type\":\"dir\",\"path\":\"$T/pools/one\"}")
assert_contains "$out" "'$P'" "CreateStoragePool returns the pool's path"
[ -d "$T/pools/one" ] && ok "the pool directory was created" || fail "no $T/pools/one"
assert_eq 's "active"' "$(pprop State)" "the new pool is active"
cap=$(pprop CapacityBytes | awk '{print $2}')
[ "${cap:-0}" -gt 0 ] && ok "CapacityBytes is known ($cap)" || fail "CapacityBytes: $cap"
assert_contains "$(create_pool "{\"name\":\"pool1\",\"type\":\"dir\",\"path\":\"$T/other\"}")" \
        "org.hostagent1.Error.Exists" "a second pool with the same name is refused"
assert_contains "$(create_pool "{\"name\":\"pool2\",\"type\":\"dir\",\"path\":\"$T/pools/one\"}")" \
        "path: $T/pools/one is pool pool1 already" "a second pool on the same directory is refused"

# Bad volume arguments: named errors, and no file appears.
while IFS='|' read -r name want args; do
        [ -n "$name" ] || continue
        out=$(eval pool CreateVolume "$args")
        case "$out" in
        *"$name"*"$want"*) ok "CreateVolume refuses: $want" ;;
        *) fail "CreateVolume $args: wanted $name '$want', got: $out" ;;
        esac
done <<'CASES'
Error.InvalidArgs|name: must be 1 to 64|'../escape' 1048576 'raw' '{}'
Error.InvalidArgs|name: must be 1 to 64|'a/b' 1048576 'raw' '{}'
Error.InvalidArgs|name: must be 1 to 64|'.hidden' 1048576 'raw' '{}'
Error.InvalidArgs|size_bytes: must be between 1 and|'v' 0 'raw' '{}'
Error.InvalidArgs|size_bytes: must be between 1 and|'v' 18446744073709551615 'raw' '{}'
Error.InvalidArgs|format: must be one of qcow2, raw|'v' 1048576 'vmdk' '{}'
Error.InvalidArgs|options.colour: unknown option|'v' 1048576 'raw' "{'colour': <'red'>}"
Error.InvalidArgs|options.backing_volume: no volume 'nothere'|'v' 1048576 'qcow2' "{'backing_volume': <'nothere'>}"
Error.InvalidArgs|options.preallocation: must be one of|'v' 1048576 'raw' "{'preallocation': <'lots'>}"
Error.InvalidArgs|options.preallocation: must be a string|'v' 1048576 'raw' "{'preallocation': <uint32 1>}"
CASES
assert_eq "" "$(ls -A "$T/pools/one")" "refused volumes left no file behind"

# Volumes: qemu-img says what the bus says.
assert_contains "$(pool CreateVolume base 67108864 qcow2 {})" "'$P/base'" "CreateVolume base (qcow2)"
assert_eq "qcow2" "$(img "$T/pools/one/base" format)" "qemu-img: base is qcow2"
assert_eq "67108864" "$(img "$T/pools/one/base" virtual-size)" "qemu-img: base is 64 MiB"
assert_eq 's "qcow2"' "$(vprop base Format)" "Format property"
assert_eq 't 67108864' "$(vprop base CapacityBytes)" "CapacityBytes property"
assert_eq "s \"$T/pools/one/base\"" "$(vprop base Path)" "Path property"
assert_contains "$(pool CreateVolume base 1048576 raw {})" "org.hostagent1.Error.Exists" \
        "a second volume named base is refused"
assert_contains "$(pool CreateVolume top 67108864 qcow2 "{'backing_volume': <'base'>}")" "'$P/top'" \
        "CreateVolume top over base"
assert_eq "$T/pools/one/base" "$(img "$T/pools/one/top" backing-filename)" "qemu-img: top's backing file is base"
assert_eq 's "base"' "$(vprop top BackingVolume)" "BackingVolume names base"
assert_contains "$(pool CreateVolume v 1048576 raw "{'backing_volume': <'base'>}")" \
        "org.hostagent1.Error.InvalidArgs: options.backing_volume: only a qcow2 volume" "a raw volume cannot have a backing volume"
assert_contains "$(vol base Delete)" "org.hostagent1.Error.InUse" "base cannot be deleted under top"
assert_contains "$(pool CreateVolume flat 1048576 raw "{'preallocation': <'full'>}")" "'$P/flat'" \
        "CreateVolume raw, preallocated"
assert_eq "1048576" "$(img "$T/pools/one/flat" actual-size)" "qemu-img: flat is fully allocated"

# Resize: larger only.
assert_contains "$(vol flat Resize 1024)" "size_bytes: must be larger than the current 1048576" \
        "shrinking is refused"
assert_eq "()" "$(vol flat Resize 2097152)" "Resize flat to 2 MiB"
assert_eq "2097152" "$(img "$T/pools/one/flat" virtual-size)" "qemu-img: flat is 2 MiB"
assert_eq 't 2097152' "$(vprop flat CapacityBytes)" "CapacityBytes follows the resize"

# Clone: a Job whose progress moves, then a new volume with the same data.
assert_contains "$(pool CreateVolume big 1073741824 raw {})" "'$P/big'" "CreateVolume big (1 GiB raw)"
dd if=/dev/urandom of="$T/pools/one/big" bs=1M count=1024 conv=notrunc status=none
bus_monitor_start "$T/clone-signals" $B monitor --system org.hostagent1; MON=$MONITOR_PID
job=$(vol big Clone big-copy | grep -o "/org/hostagent1/job/[0-9]*")
assert_contains "$job" "/org/hostagent1/job/" "Clone returns a job"
wait_until 120 sh -c "$B get-property org.hostagent1 $job org.hostagent1.Job Result | grep -q done"
assert_eq 's "done"' "$($B get-property org.hostagent1 "$job" org.hostagent1.Job Result)" "the clone job is done"
bus_monitor_stop
progress=$(grep -A3 '"Progress"' "$T/clone-signals" | grep -o 'UINT32 [0-9]*' | awk '{print $2}' | sort -n | uniq | paste -sd' ')
case " $progress " in *" 100 "*) ;; *) progress="" ;; esac
[ "$(echo "$progress" | wc -w)" -ge 2 ] && ok "the job's Progress moved: $progress" || fail "Progress seen: '$progress'"
cmp -s "$T/pools/one/big" "$T/pools/one/big-copy" && ok "the copy has the same data" || fail "big-copy differs"
assert_contains "$(vol big-copy Clone big)" "org.hostagent1.Error.Exists" "Clone onto an existing name is refused"

# Cancel: the copy stops and leaves nothing behind.
job=$(vol big Clone big-cancelled | grep -o "/org/hostagent1/job/[0-9]*")
$B call org.hostagent1 "$job" org.hostagent1.Job Cancel
wait_until 60 sh -c "$B get-property org.hostagent1 $job org.hostagent1.Job State | grep -q finished"
assert_eq 's "cancelled"' "$($B get-property org.hostagent1 "$job" org.hostagent1.Job Result)" "a cancelled clone says so"
[ ! -e "$T/pools/one/big-cancelled" ] && ok "a cancelled clone leaves no file" || fail "big-cancelled left behind"
assert_not_contains "$($B tree org.hostagent1)" "big_2dcancelled" "a cancelled clone leaves no object"

# Files made by others appear on Refresh (and at the next check); removed ones go.
qemu-img create -q -f qcow2 "$T/pools/one/outsider" 1M
echo "not an image, just text" > "$T/pools/one/notes"
assert_eq "()" "$(pool Refresh)" "Refresh"
assert_eq 's "qcow2"' "$(vprop outsider Format)" "a volume made by qemu-img outside the agent appears"
# As in libvirt's dir pools, any regular file is a volume: qemu-img reads it as raw.
assert_eq 's "raw"' "$(vprop notes Format)" "a plain file is a raw volume"
# A file name no D-Bus string can carry (not UTF-8) is left out, not fatal.
echo x > "$T/pools/one/"$'bad-\xff'
assert_eq "()" "$(pool Refresh)" "Refresh with a file whose name is not UTF-8"
assert_eq 's "raw"' "$(vprop notes Format)" "the pool's volumes are still there"
assert_not_contains "$($B tree org.hostagent1)" "bad" "and the unnamable file is no volume"
rm "$T/pools/one/"$'bad-\xff'
# Its backing file outside the pool, at a path with a character D-Bus strings cannot carry (U+FDD0).
odd_backing="$T/odd-"$'\xef\xb7\x90'".raw"
qemu-img create -q -f raw "$odd_backing" 1M
qemu-img create -q -f qcow2 -b "$odd_backing" -F raw "$T/pools/one/overlay" 1M
pool Refresh >/dev/null
assert_eq "s \"$T/odd-\\357\\277\\275.raw\"" "$(vprop overlay BackingVolume)" \
        "a backing file outside the pool is shown by path, U+FFFD for what D-Bus cannot carry"
assert_contains "$($B call org.hostagent1 /org/hostagent1 org.freedesktop.DBus.ObjectManager GetManagedObjects 2>&1)" \
        "overlay" "and GetManagedObjects still answers"
rm "$T/pools/one/overlay" "$odd_backing"
rm "$T/pools/one/outsider"
pool Refresh >/dev/null
assert_contains "$(vprop outsider Format)" "nknown object" "a volume removed outside the agent goes away"

# Delete.
assert_eq "()" "$(vol big-copy Delete)" "Delete big-copy"
[ ! -e "$T/pools/one/big-copy" ] && ok "its file is gone" || fail "big-copy still there"

# Deactivate / Activate.
assert_eq "()" "$(pool Deactivate)" "Deactivate"
assert_eq 's "inactive"' "$(pprop State)" "the pool is inactive"
assert_contains "$(pool CreateVolume late 1048576 raw {})" "org.hostagent1.Error.InvalidState" \
        "no volumes on an inactive pool"
assert_eq "()" "$(pool Activate)" "Activate"
assert_eq 's "active"' "$(pprop State)" "the pool is active again"

# Health: the directory vanishes and comes back; signals each way.
bus_monitor_start "$T/health-signals" $B monitor --system org.hostagent1; MON=$MONITOR_PID
mv "$T/pools/one" "$T/pools/moved"
wait_until 15 sh -c "$B get-property org.hostagent1 $P org.hostagent1.StoragePool State | grep -q unreachable"
assert_eq 's "unreachable"' "$(pprop State)" "a vanished directory makes the pool unreachable"
assert_contains "$(manager_call ListVMs)" "6695eb01-f6a4-8304-79aa-97f2502e193f" "the agent still answers meanwhile"
assert_contains "$(pool CreateVolume late 1048576 raw {})" "org.hostagent1.Error.StorageUnreachable" \
        "CreateVolume on an unreachable pool says so"
mv "$T/pools/moved" "$T/pools/one"
wait_until 15 sh -c "$B get-property org.hostagent1 $P org.hostagent1.StoragePool State | grep -q '\"active\"'"
assert_eq 's "active"' "$(pprop State)" "the pool is active again once the directory is back"
bus_monitor_stop
assert_contains "$(grep -A8 'Member=StateChanged' "$T/health-signals" | tr '\n' ' ')" '"unreachable"' "StateChanged unreachable was signalled"
assert_contains "$(grep -A8 'Member=StateChanged' "$T/health-signals" | tr '\n' ' ')" '"active"' "StateChanged active was signalled"

# Two pools deactivated at once: each reply comes when the state file keeps it.
for n in two three; do
        mkdir -p "$T/pools/$n"
        create_pool "{\"name\":\"$n\",\"type\":\"dir\",\"path\":\"$T/pools/$n\"}" >/dev/null
done
# at_once METHOD POOL...: calls METHOD on every POOL at the same time; prints the replies.
at_once() {
        local method=$1 pids=() n; shift
        for n in "$@"; do
                bus_call /org/hostagent1/storage/$n org.hostagent1.StoragePool.$method > "$T/at-once-$n" &
                pids+=($!)
        done
        wait "${pids[@]}"
        for n in "$@"; do cat "$T/at-once-$n"; done | paste -sd' '
}
assert_eq "() ()" "$(at_once Deactivate two three)" "two Deactivate calls at once"
assert_eq 2 "$(tr -d ' \n' < "$T/state/storage-pools.json" | grep -o '"enabled":false' | wc -l)" \
        "the state file has both inactive by the time they answered"

# A restart keeps everything: the pool and its volumes come back from the state file.
daemon_stop || fail "hostagentd exited with an error"
daemon_start "${STARTARGS[@]}"
wait_until 15 sh -c "$B get-property org.hostagent1 $P org.hostagent1.StoragePool State | grep -q '\"active\"'"
assert_contains "$(manager_call ListStoragePools)" "'pool1', 'dir', 'active'" "the pool is back after a restart"
assert_eq "(objectpath '$P',)" "$(manager_call GetStoragePool pool1)" "GetStoragePool finds it by name"
out=$(manager_call GetStoragePool nowhere)
assert_contains "$out" "org.hostagent1.Error.NoSuchObject" "GetStoragePool of an unknown pool is NoSuchObject"
assert_contains "$out" "name: no storage pool is named 'nowhere'" "and names the argument"
assert_contains "$(manager_call ListStoragePools)" "'two', 'dir', 'inactive'" "a deactivated pool is back, inactive"
assert_contains "$(manager_call ListStoragePools)" "'three', 'dir', 'inactive'" "and the other one too"
assert_eq "() ()" "$(at_once Delete two three)" "two Delete calls at once"
assert_not_contains "$(cat "$T/state/storage-pools.json")" '"two"' "the state file forgot one"
assert_not_contains "$(cat "$T/state/storage-pools.json")" '"three"' "and the other"
assert_eq 't 2097152' "$(vprop flat CapacityBytes)" "its volumes are back too"
assert_eq 's "base"' "$(vprop top BackingVolume)" "with their backing volumes"

# Unprivileged callers may read but not change.
assert_contains "$(setpriv --reuid=65534 --regid=65534 --clear-groups gdbus call --system -d org.hostagent1 -o $P -m org.hostagent1.StoragePool.Delete 2>&1)" \
        "AccessDenied" "a non-root caller cannot delete a pool"
assert_eq 's "active"' "$(setpriv --reuid=65534 --regid=65534 --clear-groups $B get-property org.hostagent1 $P org.hostagent1.StoragePool State 2>&1)" \
        "a non-root caller can read a pool"

# Delete the pool: refused while it has volumes, then gone for good.
assert_contains "$(pool Delete)" "org.hostagent1.Error.InvalidState" "a pool with volumes cannot be deleted"
for v in top base flat big notes; do vol $v Delete >/dev/null; done
assert_eq "()" "$(pool Delete)" "Delete the empty pool"
assert_eq "(@a(osss) [],)" "$(manager_call ListStoragePools)" "no pool is left"
assert_not_contains "$(cat "$T/state/storage-pools.json")" "pool1" "the state file forgot it"

daemon_stop && ok "hostagentd exits cleanly" || fail "hostagentd exited with an error"
fixture_finish
