# VMs through a real libvirtd (its test driver, shared by every client): the
# agent mirrors domains whoever defines them, follows every state change with
# signals in order, drives them through its methods, refuses what does not
# fit with named errors, and resyncs after libvirtd restarts.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/vm.sh"
set +e

libvirtd_start
bus_start
daemon_start --libvirt-uri="$LIBVIRT_TEST_URI"
wait_until 30 sh -c 'busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | grep -q true'
VIRSH="virsh -q -c $LIBVIRT_TEST_URI"

bus_monitor_start "$T/monitor.log" gdbus monitor --system --dest org.hostagent1


# The test driver's own domain is there from the start.
out=$(busctl --system call org.hostagent1 /org/hostagent1 org.hostagent1.Manager ListVMs)
assert_contains "$out" '"6695eb01-f6a4-8304-79aa-97f2502e193f" "test" "running"' "ListVMs shows the existing domain, running"
TESTVM=$(vm_path_of test)
assert_eq "/org/hostagent1/vm/_36695eb01_2df6a4_2d8304_2d79aa_2d97f2502e193f" "$TESTVM" "the object path is the path-encoded UUID"
assert_eq "$TESTVM" "$(vm_path_of 6695eb01-f6a4-8304-79aa-97f2502e193f)" "GetVM finds it by UUID too"

# The live VM interface is the contract.
busctl --system introspect --xml-interface org.hostagent1 "$TESTVM" > "$T/vm.xml"
"$INTROSPECT_COMPARE" "$HOSTAGENT_SOURCE_DIR/bus-interfaces/org.hostagent1.VM.xml" "$T/vm.xml" \
        && ok "live introspection of a VM matches bus-interfaces/org.hostagent1.VM.xml" || fail "VM interface differs"

# The test driver's domain has no graphics console: no ticket to set, and the caller is told why.
assert_contains "$(vm_call "$TESTVM" SetConsoleTicket s3cret 60)" \
        "org.hostagent1.Error.InvalidState: VM test has no graphics console" "SetConsoleTicket without a console is refused by name"

# Another tool defines a domain: it appears.
cat > "$T/vm1.xml" <<XML
<domain type='test'><name>vm1</name><uuid>11111111-2222-3333-4444-555555555555</uuid>
<memory unit='MiB'>256</memory><vcpu>2</vcpu><os><type>hvm</type></os></domain>
XML
$VIRSH define "$T/vm1.xml" >/dev/null
VM1=$(vm_path 11111111-2222-3333-4444-555555555555)
wait_until 10 grep -q "InterfacesAdded (objectpath '$VM1'" "$T/monitor.log" \
        && ok "a domain defined with virsh is announced with InterfacesAdded" || fail "no InterfacesAdded for vm1"
assert_eq 's "vm1"' "$(vm_prop $VM1 Name)" "its Name"
assert_eq 's "shutoff"' "$(vm_prop $VM1 State)" "its State"
assert_eq "u 2" "$(vm_prop $VM1 VCPUs)" "its VCPUs"
assert_eq "t 256" "$(vm_prop $VM1 MemoryMiB)" "its MemoryMiB"
assert_eq "b true" "$(vm_prop $VM1 Persistent)" "it is persistent"

# virsh starts it: the agent follows.
$VIRSH start vm1 >/dev/null
wait_until 10 vm_state_is $VM1 running && ok "virsh start is seen: running" || fail "state did not follow virsh start"
assert_eq 's "booted"' "$(vm_prop $VM1 StateReason)" "StateReason booted"

# The agent drives it; the state is in place when the reply arrives.
assert_eq "()" "$(vm_call $VM1 Pause)" "Pause"
assert_eq 's "paused"' "$(vm_prop $VM1 State)" "State is paused as soon as Pause returns"
assert_eq 's "user"' "$(vm_prop $VM1 StateReason)" "StateReason user"
assert_eq "paused" "$($VIRSH domstate vm1)" "libvirt agrees"
$VIRSH resume vm1 >/dev/null
wait_until 10 vm_state_is $VM1 running && ok "virsh resume is seen" || fail "resume not seen"
assert_eq 's "unpaused"' "$(vm_prop $VM1 StateReason)" "StateReason unpaused"

all=$(busctl --system call org.hostagent1 /org/hostagent1 org.hostagent1.Manager GetAllVMStats 2>&1)
assert_contains "$all" "\"$VM1\" 2 \"state.state\" i 1" "GetAllVMStats reports each VM's state by path"

# Autostart is writable; the write is answered once libvirt has made it.
set_autostart() {   # path value [setpriv...]
        gdbus call --system -d org.hostagent1 -o "$1" -m org.freedesktop.DBus.Properties.Set \
                org.hostagent1.VM Autostart "$2" 2>&1
}
assert_eq "()" "$(set_autostart $VM1 '<true>')" "root sets Autostart"
assert_eq "b true" "$(vm_prop $VM1 Autostart)" "Autostart reads true at once"
assert_contains "$($VIRSH dominfo vm1)" "Autostart:      enable" "libvirt has it"
wait_until 5 grep -q "{'Autostart': <true>}" "$T/monitor.log" && ok "PropertiesChanged announces it" \
        || fail "no PropertiesChanged for Autostart"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups gdbus call --system -d org.hostagent1 -o $VM1 \
        -m org.freedesktop.DBus.Properties.Set org.hostagent1.VM Autostart '<false>' 2>&1)
assert_contains "$out" "org.freedesktop.DBus.Error.AccessDenied" "an unprivileged Autostart write is AccessDenied"
out=$(set_autostart $VM1 "<'yes'>")
assert_contains "$out" "org.freedesktop.DBus.Error.InvalidArgs" "a string for Autostart is InvalidArgs"
assert_eq "b true" "$(vm_prop $VM1 Autostart)" "refused writes changed nothing"
assert_eq "()" "$(set_autostart $VM1 '<false>')" "root clears it"
assert_contains "$($VIRSH dominfo vm1)" "Autostart:      disable" "libvirt has that too"
cat > "$T/transient.xml" <<XML
<domain type='test'><name>transient1</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>
XML
$VIRSH create "$T/transient.xml" >/dev/null
wait_until 10 sh -c "busctl --system call org.hostagent1 /org/hostagent1 org.hostagent1.Manager GetVM s transient1 >/dev/null 2>&1"
TR=$(busctl --system call org.hostagent1 /org/hostagent1 org.hostagent1.Manager GetVM s transient1 | awk '{print $2}' | tr -d '"')
assert_eq "b false" "$(vm_prop "$TR" Persistent)" "a VM created with virsh create is transient"
out=$(set_autostart "$TR" '<true>')
assert_contains "$out" "org.hostagent1.Error.InvalidState" "Autostart of a transient VM is InvalidState"
$VIRSH destroy transient1 >/dev/null
wait_until 10 grep -q "InterfacesRemoved (objectpath '$TR'" "$T/monitor.log" \
        && ok "a transient VM goes away when it stops" || fail "transient VM not withdrawn"

# libvirt accepts names sd-bus refuses (U+FDD0 is a Unicode noncharacter):
# such a VM is shown with U+FFFD in its place, and the others stay listed.
printf "<domain type='test'><name>odd-\xef\xb7\x90</name><uuid>22222222-3333-4444-5555-666666666666</uuid><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>" \
        > "$T/odd.xml"
$VIRSH define "$T/odd.xml" >/dev/null
ODD=$(vm_path 22222222-3333-4444-5555-666666666666)
wait_until 10 grep -q "InterfacesAdded (objectpath '$ODD'" "$T/monitor.log" \
        && ok "a VM whose name sd-bus refuses is announced" || fail "no InterfacesAdded for the odd name"
out=$(gdbus call --system -d org.hostagent1 -o /org/hostagent1 -m org.hostagent1.Manager.ListVMs 2>&1)
assert_contains "$out" "'odd-"$'\xef\xbf\xbd'"'" "ListVMs answers, showing the refused character as U+FFFD"
assert_contains "$out" "'vm1'" "and the other VMs with it"
assert_eq "s \"odd-\\357\\277\\275\"" "$(vm_prop $ODD Name)" "its Name property reads"
$VIRSH undefine 22222222-3333-4444-5555-666666666666 >/dev/null
wait_until 10 grep -q "InterfacesRemoved (objectpath '$ODD'" "$T/monitor.log" \
        && ok "and it goes away when undefined" || fail "odd VM not withdrawn"

# Refusals: named, explained, nothing changed.
out=$(vm_call $VM1 Start)
assert_contains "$out" "org.hostagent1.Error.InvalidState" "Start on a running VM is InvalidState"
assert_contains "$out" "already running" "and says why"
out=$(vm_call $VM1 Resume)
assert_contains "$out" "not paused" "Resume on a running VM says it is not paused"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups gdbus call --system -d org.hostagent1 -o $VM1 \
        -m org.hostagent1.VM.Destroy 2>&1)
assert_contains "$out" "org.freedesktop.DBus.Error.AccessDenied" "an unprivileged Destroy is AccessDenied"
assert_eq "running" "$($VIRSH domstate vm1)" "and the VM still runs"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups busctl --system get-property org.hostagent1 $VM1 \
        org.hostagent1.VM State 2>&1)
assert_eq 's "running"' "$out" "an unprivileged caller reads VM state"
out=$(gdbus call --system -d org.hostagent1 -o /org/hostagent1 -m org.hostagent1.Manager.GetVM nosuchvm 2>&1)
assert_contains "$out" "org.hostagent1.Error.NoSuchVM" "GetVM of an unknown VM is NoSuchVM"
assert_contains "$out" "uuid_or_name" "and names the argument"
out=$(vm_call /org/hostagent1/vm/_3deadbeef Start)
assert_contains "$out" "UnknownObject" "a method on a path with no VM is UnknownObject"

assert_eq "()" "$(vm_call $VM1 Destroy)" "Destroy"
assert_eq 's "destroyed"' "$(vm_prop $VM1 StateReason)" "StateReason destroyed"
assert_eq "shut off" "$($VIRSH domstate vm1)" "libvirt agrees"
assert_eq "()" "$(vm_call $VM1 Undefine)" "Undefine"
wait_until 10 grep -q "InterfacesRemoved (objectpath '$VM1'" "$T/monitor.log" \
        && ok "Undefine withdraws the object with InterfacesRemoved" || fail "no InterfacesRemoved"
$VIRSH dominfo vm1 >/dev/null 2>&1 && fail "libvirt still has vm1" || ok "libvirt no longer has vm1"

# Signals in order, one sequence without gaps.
parse_states() {
        sed -n "s/.*StateChanged ('\([a-z]*\)', '\([a-z-]*\)', uint64 \([0-9]*\)).*/\1 \2 \3/p"
}
grep "^$VM1: .*StateChanged" "$T/monitor.log" | parse_states > "$T/states"
assert_eq "running booted|paused user|running unpaused|shutoff destroyed" \
        "$(cut -d' ' -f1,2 "$T/states" | paste -sd'|')" "vm1's StateChanged signals came in order"
# One counter over every VM's signals: consecutive, whichever VM sent them.
seqs=$(grep "StateChanged" "$T/monitor.log" | parse_states | cut -d' ' -f3)
first=$(head -1 <<<"$seqs"); n=$(wc -l <<<"$seqs")
assert_eq "$(seq "$first" $((first + n - 1)) | paste -sd' ')" "$(paste -sd' ' <<<"$seqs")" \
        "sequence numbers have no gaps across all VMs"
assert_eq 4 "$(grep -c "^$VM1: .*PropertiesChanged ('org.hostagent1.VM', {'State'" "$T/monitor.log")" \
        "one PropertiesChanged of State per change, not more"

# Shutdown is a job: announced, finished, its result in JobRemoved.
out=$(vm_call "$TESTVM" Shutdown 0)
assert_contains "$out" "org.hostagent1.Error.InvalidArgs" "Shutdown(0) is InvalidArgs"
assert_contains "$out" "timeout_sec: must be between 1 and 86400" "naming timeout_sec and its range"
JOB=$(busctl --system call org.hostagent1 "$TESTVM" org.hostagent1.VM Shutdown u 30 | awk '{print $2}' | tr -d '"')
assert_contains "$JOB" "/org/hostagent1/job/" "Shutdown returns a job"
wait_until 10 grep -q "JobRemoved (objectpath '$JOB', 'done')" "$T/monitor.log" \
        && ok "JobRemoved says the guest shut down by itself (done)" || fail "no JobRemoved done"
assert_contains "$(cat "$T/monitor.log")" "JobNew (objectpath '$JOB',)" "JobNew announced it"
assert_eq 's "shutoff"' "$(vm_prop "$TESTVM" State)" "the VM is shut off"
assert_eq 's "shutdown"' "$(vm_prop "$TESTVM" StateReason)" "because it shut down"
assert_eq 's "finished"' "$(job_prop "$JOB" State)" "the finished job stays readable: State"
assert_eq 's "done"' "$(job_prop "$JOB" Result)" "Result"
assert_eq "u 100" "$(job_prop "$JOB" Progress)" "Progress"
assert_eq "o \"$TESTVM\"" "$(job_prop "$JOB" Object)" "Object is the VM"
out=$(gdbus call --system -d org.hostagent1 -o "$JOB" -m org.hostagent1.Job.Cancel 2>&1)
assert_contains "$out" "org.hostagent1.Error.InvalidState" "a finished job cannot be cancelled"
out=$(vm_call "$TESTVM" Shutdown 30)
assert_contains "$out" "it is not running" "Shutdown of a shut-off VM is refused"
assert_eq "()" "$(vm_call "$TESTVM" Start)" "start it again"

# libvirtd restarts (its test driver starts afresh): the agent reconnects,
# re-reads and emits the difference.
$VIRSH define "$T/vm1.xml" >/dev/null
wait_until 10 sh -c "busctl --system get-property org.hostagent1 $VM1 org.hostagent1.VM Name >/dev/null 2>&1"
$VIRSH suspend test >/dev/null
wait_until 10 vm_state_is "$TESTVM" paused
libvirtd_stop
libvirtd_spawn
wait_until 60 grep -q "InterfacesRemoved (objectpath '$VM1'" "$T/monitor.log" \
        && ok "after a libvirtd restart, a domain it no longer has is withdrawn" || fail "vm1 not withdrawn"
wait_until 20 vm_state_is "$TESTVM" running && ok "and a state that changed meanwhile is corrected" \
        || fail "test VM state not resynced"

daemon_stop; rc=$?
assert_eq 0 "$rc" "SIGTERM ends it with status 0"
fixture_finish
