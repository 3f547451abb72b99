# VMs changed by other tools while the agent reads them, through a real
# libvirtd (its test driver): a rename keeps the object and changes its Name,
# and a read that began before a VM was undefined does not bring it back.
# A test-only library preloaded into the daemon (tests/hold-domain-read.c)
# holds a read of one domain until the test lets it go, so the read that
# began before the change ends after it, every run: the first full read of
# all domains, and a re-read of one.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/vm.sh"
set +e

: "${HOLD_DOMAIN_READ:?HOLD_DOMAIN_READ must name the hold-domain-read library}"
GHOST_UUID=33333333-4444-5555-6666-777777777777
GHOST=$(vm_path 33333333-4444-5555-6666-777777777777)
GATE=$T/hold-gate

# A sanitizer build needs its runtime first among the preloaded libraries.
preload=$HOLD_DOMAIN_READ
asan=$(ldd "$HOSTAGENTD" | awk '/libasan/ {print $3}')
[ -n "$asan" ] && preload="$asan $preload"

get_vm() { gdbus call --system -d org.hostagent1 -o /org/hostagent1 -m org.hostagent1.Manager.GetVM "$1" 2>&1; }
list_vms() { gdbus call --system -d org.hostagent1 -o /org/hostagent1 -m org.hostagent1.Manager.ListVMs 2>&1; }
managed() {
        gdbus call --system -d org.hostagent1 -o /org/hostagent1 \
                -m org.freedesktop.DBus.ObjectManager.GetManagedObjects 2>&1
}
count() { grep -c "$1" "$T/monitor.log"; }
ready() { busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | grep -q true; }

libvirtd_start
bus_start
VIRSH="virsh -q -c $LIBVIRT_TEST_URI"
cat > "$T/ghost.xml" <<XML
<domain type='test'><name>ghost1</name><uuid>$GHOST_UUID</uuid>
<memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>
XML

# The first full read of the domains holds on ghost1, which virsh then
# undefines; the read ends after that. (The test driver keeps what was
# defined only while a client stays connected: one waits for events.)
$VIRSH event --all --loop >/dev/null 2>&1 &
fixture_track $!
wait_until 10 sh -c "$VIRSH list --all | grep -q test"
$VIRSH define "$T/ghost.xml" >/dev/null
echo xml > "$GATE"
DAEMON_PREFIX=(env LD_PRELOAD="$preload" HOLD_READ_UUID="$GHOST_UUID" HOLD_READ_GATE="$GATE")
daemon_start --libvirt-uri="$LIBVIRT_TEST_URI" --log-level=debug
bus_monitor_start "$T/monitor.log" gdbus monitor --system --dest org.hostagent1
wait_until 20 test -e "$GATE.held" && ok "the first full read is held after reading ghost1" \
        || fail "the first full read was not held"
$VIRSH undefine ghost1 >/dev/null
# Events are handled in order: once a domain defined after it is announced,
# the agent has heard of the undefine too.
cat > "$T/marker.xml" <<XML
<domain type='test'><name>marker</name><uuid>44444444-5555-6666-7777-888888888888</uuid>
<memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>
XML
$VIRSH define "$T/marker.xml" >/dev/null
wait_until 10 grep -q "InterfacesAdded (objectpath '/org/hostagent1/vm/_344444444" "$T/monitor.log" \
        || fail "the domain defined after the undefine was not announced"
rm -f "$GATE"
wait_until 30 ready && ok "the first full read ends: Ready" || fail "Ready did not turn true"
assert_eq 0 "$(count "InterfacesAdded (objectpath '$GHOST'")" "the full read does not announce the VM undefined meanwhile"
assert_not_contains "$(list_vms)" "ghost1" "ListVMs does not show it"
assert_contains "$(list_vms)" "'marker'" "and shows the others"
assert_not_contains "$(managed)" "$GHOST" "GetManagedObjects does not have it"
assert_contains "$(get_vm ghost1)" "org.hostagent1.Error.NoSuchVM" "GetVM is NoSuchVM"

# virsh domrename: libvirt says UNDEFINED/RENAMED then DEFINED/RENAMED.
cat > "$T/old.xml" <<XML
<domain type='test'><name>old1</name><uuid>11111111-2222-3333-4444-555555555555</uuid>
<memory unit='MiB'>256</memory><vcpu>2</vcpu><os><type>hvm</type></os></domain>
XML
VM1=$(vm_path 11111111-2222-3333-4444-555555555555)
$VIRSH define "$T/old.xml" >/dev/null
wait_until 10 grep -q "InterfacesAdded (objectpath '$VM1'" "$T/monitor.log" \
        && ok "a VM defined with virsh is announced" || fail "no InterfacesAdded for old1"
$VIRSH domrename old1 new1 >/dev/null
wait_until 10 grep -q "^$VM1: org.freedesktop.DBus.Properties.PropertiesChanged ('org.hostagent1.VM', {'Name': <'new1'>}" \
        "$T/monitor.log" && ok "virsh domrename: PropertiesChanged says the new Name" || fail "no PropertiesChanged for Name"
assert_eq 's "new1"' "$(vm_prop $VM1 Name)" "the same object, path from the UUID, has the new Name"
assert_eq 0 "$(count "InterfacesRemoved (objectpath '$VM1'")" "a rename sends no InterfacesRemoved"
assert_eq 1 "$(count "InterfacesAdded (objectpath '$VM1'")" "nor a second InterfacesAdded"
assert_eq "(objectpath '$VM1',)" "$(get_vm new1)" "GetVM finds it by the new name"
assert_contains "$(get_vm old1)" "org.hostagent1.Error.NoSuchVM" "GetVM of the old name is NoSuchVM"
out=$(list_vms)
assert_contains "$out" "'11111111-2222-3333-4444-555555555555', 'new1', 'shutoff'" "ListVMs shows it under the new name"
assert_not_contains "$out" "'old1'" "and not under the old one"
assert_eq "u 2" "$(vm_prop $VM1 VCPUs)" "the rest of it is unchanged"

# A VM undefined while a re-read of it is in flight stays gone: a re-read of
# ghost1 begins (a define of the same XML asks for one), libvirt answers it,
# and it is held; the VM is undefined; then the read is let go.
undefined_during_read() {   # description, then the command that undefines ghost1
        local what=$1; shift
        rm -f "$GATE.held"
        $VIRSH define "$T/ghost.xml" >/dev/null
        wait_until 10 sh -c "busctl --system get-property org.hostagent1 $GHOST org.hostagent1.VM Name" \
                || { fail "$what: ghost1 was not published"; return; }
        local added removed dropped
        added=$(count "InterfacesAdded (objectpath '$GHOST'")
        removed=$(count "InterfacesRemoved (objectpath '$GHOST'")
        dropped=$(grep -c "VM ghost1 was read before it was removed" "$T/daemon.log")
        echo persistent > "$GATE"
        $VIRSH define "$T/ghost.xml" >/dev/null
        wait_until 20 test -e "$GATE.held" || { fail "$what: the re-read was not held"; rm -f "$GATE"; return; }
        "$@"
        wait_until 10 sh -c "[ \$(grep -c \"InterfacesRemoved (objectpath '$GHOST'\" $T/monitor.log) -gt $removed ]" \
                && ok "$what: InterfacesRemoved" || fail "$what: no InterfacesRemoved"
        rm -f "$GATE"
        # The held read is merged: the agent says it dropped it, or publishes a ghost.
        wait_until 20 sh -c "[ \$(grep -c 'VM ghost1 was read before it was removed' $T/daemon.log) -gt $dropped ] ||
                [ \$(grep -c \"InterfacesAdded (objectpath '$GHOST'\" $T/monitor.log) -gt $added ]"
        assert_eq "$added" "$(count "InterfacesAdded (objectpath '$GHOST'")" \
                "$what: the read that began before does not announce it again"
        assert_not_contains "$(list_vms)" "ghost1" "$what: ListVMs does not show it"
        assert_not_contains "$(managed)" "$GHOST" "$what: GetManagedObjects does not have it"
        assert_contains "$(get_vm ghost1)" "org.hostagent1.Error.NoSuchVM" "$what: GetVM is NoSuchVM"
}
undefine_by_agent() {
        assert_eq "()" "$(gdbus call --system -d org.hostagent1 -o $GHOST -m org.hostagent1.VM.Undefine 2>&1)" \
                "Undefine through the agent answers"
}
undefined_during_read "Undefine through the agent" undefine_by_agent
undefined_during_read "virsh undefine" $VIRSH undefine ghost1

# Defined again, it is published again.
$VIRSH define "$T/ghost.xml" >/dev/null
wait_until 10 sh -c "busctl --system get-property org.hostagent1 $GHOST org.hostagent1.VM Name" \
        && ok "defined once more, ghost1 is published again" || fail "ghost1 not published after being defined again"

daemon_stop; rc=$?
assert_eq 0 "$rc" "SIGTERM ends it with status 0"
fixture_finish
