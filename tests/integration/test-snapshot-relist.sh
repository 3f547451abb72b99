# Snapshot lists read at different times (libvirt's test driver, snapshots made with virsh): the
# slow read of every VM's list, begun before a snapshot was made, ends after the VM's own read
# that found the snapshot; the older list does not take the snapshot away again. The read of
# every VM's list is held once read (a failpoint) while the snapshot is made and the VM's own
# read (after it was paused) shows it; a second VM's snapshot, made before the agent started,
# appears when the held read is applied. Those are a chain (each the parent of the next): each
# one's InterfacesAdded names its parent's object, whichever order libvirt lists them in. These
# snapshots are internal (inside the images): Delete and Revert refuse them, nothing changed.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/vm.sh"
set +e

libvirtd_start
bus_start
VIRSH="virsh -q -c $LIBVIRT_TEST_URI"
# test:///default's domain "test" runs; a second one, shut off, with a chain of snapshots already. The test
# driver's state lives while a connection stays open: a virsh that reads commands from a FIFO
# keeps one open (and the test's writes end it).
mkfifo "$T/virsh.in"
$VIRSH < "$T/virsh.in" > "$T/virsh.out" 2>&1 &
fixture_track $!
exec 3> "$T/virsh.in"
cat > "$T/b.xml" <<XML
<domain type='test'><name>relist-b</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>
XML
CHAIN=6
{ echo "define $T/b.xml"; for i in $(seq $CHAIN); do echo "snapshot-create-as relist-b tb$i"; done; } >&3
wait_until 20 sh -c "$VIRSH snapshot-list relist-b --name 2>/dev/null | grep -qx tb$CHAIN" || fail "cannot snapshot relist-b"

# Every VM's list is read once (an hour between reads), and held once read until $T/go.
export HOSTAGENT_SNAPSHOT_RELIST_SEC=3600
export HOSTAGENT_SNAPSHOT_RELIST_ALL_HOLD=$T/go
daemon_start --libvirt-uri="$LIBVIRT_TEST_URI"
wait_until 30 sh -c 'busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | grep -q true' \
        || fail "the agent never became Ready"
A=$(vm_path_of test)
B=$(vm_path_of relist-b)
snapshots() { busctl --system get-property org.hostagent1 "$1" org.hostagent1.VM Snapshots 2>&1; }

wait_until 30 test -e "$T/go.held" && ok "every VM's list is read, and held" || fail "the read of every list never came"
$VIRSH snapshot-create-as test sa >/dev/null || fail "cannot snapshot test"
$VIRSH suspend test >/dev/null || fail "cannot pause test"
wait_until 20 sh -c "busctl --system get-property org.hostagent1 $A org.hostagent1.VM Snapshots | grep -q snapshot/sa" \
        && ok "the VM's own read shows the new snapshot" || fail "the snapshot made with virsh does not appear"

bus_monitor_start "$T/monitor.log" gdbus monitor --system --dest org.hostagent1
touch "$T/go"
wait_until 30 sh -c "busctl --system get-property org.hostagent1 $B org.hostagent1.VM Snapshots | grep -q snapshot/tb$CHAIN" \
        && ok "the held read of every list is applied (the other VM's snapshot appears)" \
        || fail "the held read was never applied"
assert_contains "$(snapshots "$A")" "snapshot/sa" "the older list did not take the new snapshot away"
out=$(busctl --system get-property org.hostagent1 "$A/snapshot/sa" org.hostagent1.Snapshot Name 2>&1)
assert_eq 's "sa"' "$out" "its object is there"
# What a client following the signals saw of the chain.
wait_until 10 sh -c "grep -q \"'Name': <'tb$CHAIN'>\" '$T/monitor.log'"
wrong=""
for i in $(seq 2 $CHAIN); do
        grep "InterfacesAdded" "$T/monitor.log" | grep "'Name': <'tb$i'>" \
                | grep -qF "'Parent': <objectpath '$B/snapshot/tb$((i - 1))'>" || wrong="$wrong tb$i"
done
assert_eq "" "$wrong" "each snapshot's InterfacesAdded names its parent"
assert_eq "o \"$B/snapshot/tb$((CHAIN - 1))\"" \
        "$(busctl --system get-property org.hostagent1 "$B/snapshot/tb$CHAIN" org.hostagent1.Snapshot Parent 2>&1)" \
        "and so does its Parent"

# virsh's snapshots of the test driver are internal (kept inside the images): Delete and Revert
# refuse them by name, and libvirt keeps them (the agent used to drop only their metadata, or to
# answer a revert that changed nothing).
out=$(bus_call "$A/snapshot/sa" org.hostagent1.Snapshot.Delete 2>&1)
assert_contains "$out" "org.hostagent1.Error.NotSupported: Cannot delete snapshot sa: it is kept inside the disk images" \
        "Delete of an internal snapshot is refused"
$VIRSH destroy test >/dev/null || fail "cannot stop test"
wait_until 20 sh -c "busctl --system get-property org.hostagent1 $A org.hostagent1.VM State | grep -q shutoff"
out=$(bus_call "$A/snapshot/sa" org.hostagent1.Snapshot.Revert '{}' 2>&1)
assert_contains "$out" "org.hostagent1.Error.NotSupported: Cannot revert to snapshot sa: it is kept inside" \
        "and so is Revert (of the shut-off VM)"
assert_contains "$($VIRSH snapshot-list test --name 2>&1)" "sa" "libvirt still has the snapshot"
assert_contains "$(snapshots "$A")" "snapshot/sa" "and so does the agent"

daemon_stop; assert_eq 0 $? "the agent exits cleanly"
exec 3>&-
fixture_finish
