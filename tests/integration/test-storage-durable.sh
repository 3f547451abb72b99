# A pool change is confirmed only once storage-pools.json keeps it. With the
# state directory made immutable (chattr +i: as root, chmod would not stop
# the agent), CreateStoragePool, Delete, Activate and Deactivate fail with
# org.hostagent1.Error.Failed naming the file and why, and the agent goes back
# to what the file says: the new pool is withdrawn (its volumes before it),
# the deleted pool comes back, the activation and the deactivation are
# undone. A restart with the directory writable again shows the same.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/storage.sh"
set +e

bus_start
STARTARGS=(--libvirt-uri=test:///default --run-dir="$T/run" --storage-check-interval=1)
daemon_start "${STARTARGS[@]}"
B="busctl --system"
S=/org/hostagent1/storage
pool() { local name=$1; shift; pool_call "$S/$name" "$@"; }
state() { $B get-property org.hostagent1 "$S/$1" org.hostagent1.StoragePool State 2>&1; }
create_dir_pool() { manager_call CreateStoragePool "$(gv_string "{\"name\":\"$1\",\"type\":\"dir\",\"path\":\"$T/pools/$1\"}")"; }
# The pools (name, type, state), sorted: a restart lists them in another order.
pools() { manager_call ListStoragePools | grep -o "'[a-z]*', 'dir', '[a-z]*'" | sort | paste -sd' '; }
events() { python3 "$HOSTAGENT_SOURCE_DIR/tests/lib/om-events.py" "$T/signals.json"; }
ifaces() { events | awk -v k="$1" -v p="$2" '$1 == k && $2 == p { i = $3 } END { print i }'; }

# What the file keeps: "kept" (active, to be deactivated), "gone" (to be
# deleted), "off" (inactive, to be activated).
for n in kept gone off; do
        assert_contains "$(create_dir_pool $n)" "'$S/$n'" "CreateStoragePool $n"
done
assert_eq "()" "$(pool off Deactivate)" "Deactivate off"
cp "$T/state/storage-pools.json" "$T/before.json"
before=$(pools)

# The state directory can no longer be written.
chattr +i "$T/state" || { fail "chattr +i $T/state is not supported here"; fixture_finish; exit; }
fixture_on_exit "chattr -i '$T/state'"
MONITOR_STDERR="$T/monitor.log" bus_monitor_start "$T/signals.json" $B monitor --json=short org.hostagent1
MON=$MONITOR_PID

# CreateStoragePool: refused, the pool and its volumes withdrawn again.
mkdir -p "$T/pools/new"
qemu-img create -q -f raw "$T/pools/new/disk" 1M
out=$(create_dir_pool new)
assert_contains "$out" "org.hostagent1.Error.Failed" "CreateStoragePool fails when the state file cannot be written"
assert_contains "$out" "storage-pools.json: Operation not permitted" "and says which file and why"
assert_not_contains "$(pools)" "'new'" "the pool is not there"
assert_contains "$(manager_call GetStoragePool new)" "org.hostagent1.Error.NoSuchObject" "GetStoragePool does not find it"
wait_until 10 sh -c "python3 '$HOSTAGENT_SOURCE_DIR/tests/lib/om-events.py' '$T/signals.json' | grep -q '^removed $S/new '"
assert_contains ",$(ifaces removed "$S/new/disk")," ",org.hostagent1.Volume," "its volume is withdrawn naming org.hostagent1.Volume"
assert_contains ",$(ifaces removed "$S/new")," ",org.hostagent1.StoragePool," "the pool is withdrawn naming org.hostagent1.StoragePool"
order=$(events | awk -v p="$S/new" '$1 == "removed" && ($2 == p || $2 == p "/disk") { print $2 }' | paste -sd' ')
assert_eq "$S/new/disk $S/new" "$order" "the volume is withdrawn before its pool"

# Deactivate: refused, the pool active again.
out=$(pool kept Deactivate)
assert_contains "$out" "org.hostagent1.Error.Failed" "Deactivate fails when the state file cannot be written"
assert_contains "$out" "storage-pools.json: Operation not permitted" "and says why"
wait_until 15 sh -c "$B get-property org.hostagent1 $S/kept org.hostagent1.StoragePool State | grep -q '\"active\"'"
assert_eq 's "active"' "$(state kept)" "the pool is active again"

# Activate: refused, the pool inactive again.
out=$(pool off Activate)
assert_contains "$out" "org.hostagent1.Error.Failed" "Activate fails when the state file cannot be written"
assert_contains "$out" "storage-pools.json: Operation not permitted" "and says why"
assert_eq 's "inactive"' "$(state off)" "the pool is inactive again"

# Delete: refused, the pool back.
out=$(pool gone Delete)
assert_contains "$out" "org.hostagent1.Error.Failed" "Delete fails when the state file cannot be written"
assert_contains "$out" "storage-pools.json: Operation not permitted" "and says why"
assert_eq "(objectpath '$S/gone',)" "$(manager_call GetStoragePool gone)" "the pool is back"
wait_until 15 sh -c "$B get-property org.hostagent1 $S/gone org.hostagent1.StoragePool State | grep -q '\"active\"'"
assert_eq 's "active"' "$(state gone)" "and active"

# The bus says what the file says.
assert_eq "$before" "$(pools)" "ListStoragePools is as before the failed calls"
cmp -s "$T/before.json" "$T/state/storage-pools.json" && ok "the state file is unchanged" ||
        fail "the state file changed: $(cat "$T/state/storage-pools.json")"

# And so does a restart, with the directory writable again.
kill $MON
chattr -i "$T/state"
daemon_stop || fail "hostagentd exited with an error"
daemon_start "${STARTARGS[@]}"
wait_until 15 sh -c "$B get-property org.hostagent1 $S/kept org.hostagent1.StoragePool State | grep -q '\"active\"'"
assert_eq "$before" "$(pools)" "after a restart the pools are those the file kept"

# Writable again: the same calls succeed.
assert_contains "$(create_dir_pool new)" "'$S/new'" "CreateStoragePool succeeds once the file can be written"
assert_eq "()" "$(pool gone Delete)" "and Delete"
assert_contains "$(cat "$T/state/storage-pools.json")" '"new"' "the file keeps the new pool"
assert_not_contains "$(cat "$T/state/storage-pools.json")" '"gone"' "and forgets the deleted one"

# A Deactivate the file could not keep is undone at once in what the file is to say, not only once
# its storage is mounted again: another call's write meanwhile (the directory writable again) keeps
# the pool active. The undo is held half-way (a test failpoint) until that write is done.
daemon_stop || fail "hostagentd exited with an error"
HOSTAGENT_STORAGE_UNDO_HOLD="$T/undo-go" daemon_start "${STARTARGS[@]}"
wait_until 15 sh -c "$B get-property org.hostagent1 $S/kept org.hostagent1.StoragePool State | grep -q '\"active\"'"
chattr +i "$T/state"
pool kept Deactivate > "$T/deactivate.out" &
DEACT=$!
wait_until 15 sh -c "$B get-property org.hostagent1 $S/kept org.hostagent1.StoragePool StateMessage |
        grep -q 'prepared again'" || fail "the undo of the Deactivate did not start"
chattr -i "$T/state"
assert_eq "()" "$(pool off Activate)" "another pool is activated while the undo runs"
touch "$T/undo-go"
wait $DEACT
assert_contains "$(cat "$T/deactivate.out")" "org.hostagent1.Error.Failed" "the Deactivate fails"
kept=$(python3 -c 'import json, sys
print([p["enabled"] for p in json.load(open(sys.argv[1]))["pools"] if p["spec"]["name"] == "kept"])' \
        "$T/state/storage-pools.json")
assert_eq "[True]" "$kept" "the file the Activate wrote keeps the pool whose Deactivate failed active"
daemon_stop || fail "hostagentd exited with an error"
daemon_start "${STARTARGS[@]}"
wait_until 15 sh -c "$B get-property org.hostagent1 $S/kept org.hostagent1.StoragePool State | grep -q '\"active\"'"
assert_eq 's "active"' "$(state kept)" "and a restart finds it active"

# An undo that fails is not reported as done: the directory of a pool whose Deactivate is being
# undone (held half-way) goes away, and the reply says that undoing it failed too, and why.
daemon_stop || fail "hostagentd exited with an error"
HOSTAGENT_STORAGE_UNDO_HOLD="$T/undo-go2" daemon_start "${STARTARGS[@]}"
wait_until 15 sh -c "$B get-property org.hostagent1 $S/kept org.hostagent1.StoragePool State | grep -q '\"active\"'"
chattr +i "$T/state"
pool kept Deactivate > "$T/deactivate.out" &
DEACT=$!
wait_until 15 sh -c "$B get-property org.hostagent1 $S/kept org.hostagent1.StoragePool StateMessage |
        grep -q 'prepared again'" || fail "the undo of the Deactivate did not start"
mv "$T/pools/kept" "$T/pools/kept.away"
touch "$T/undo-go2"
wait $DEACT
out=$(cat "$T/deactivate.out")
assert_contains "$out" "org.hostagent1.Error.Failed" "a Deactivate whose undo fails fails"
assert_contains "$out" "storage-pools.json: Operation not permitted; undoing it failed too: " "saying the undo failed"
assert_contains "$out" "$T/pools/kept" "and why"
assert_not_contains "$out" "the change was undone" "not that the change was undone"
assert_eq 's "unreachable"' "$(state kept)" "the pool is unreachable"
chattr -i "$T/state"
mv "$T/pools/kept.away" "$T/pools/kept"

daemon_stop && ok "hostagentd exits cleanly" || fail "hostagentd exited with an error"
fixture_finish
