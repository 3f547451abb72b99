# Real QEMU guests (128 MiB, no disk: SeaBIOS finds nothing to boot, which is
# a real, running QEMU process) through a private libvirtd: lifecycle over the
# bus, the VNC console listening, a guest started by virsh appearing, and an
# agent killed with SIGKILL whose successor finds the same guests untouched.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/vm.sh"
set +e

libvirtd_start
bus_start
VIRSH="virsh -q -c $LIBVIRT_QEMU_URI"
# The first QEMU connection probes the emulator (seconds on a cold cache).
$VIRSH list --all >/dev/null || { fail "libvirtd's QEMU driver does not answer"; fixture_finish; exit 1; }
daemon_start --libvirt-uri="$LIBVIRT_QEMU_URI"
wait_until 60 sh -c 'busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | grep -q true'

qemu_pid() { cat "$LV/run/libvirt/qemu/$1.pid" 2>/dev/null; }

out=$(busctl --system call org.hostagent1 /org/hostagent1 org.hostagent1.Manager CreateVM s \
        '{"name":"g1","type":"qemu","memory_mib":128,"vcpus":1,"graphics":{"type":"vnc"},"start":true}' 2>&1)
assert_contains "$out" 'o "/org/hostagent1/vm/' "CreateVM starts a real QEMU guest"
G1=$(awk '{print $2}' <<<"$out" | tr -d '"')
assert_eq 's "running"' "$(vm_prop "$G1" State)" "it is running"
pid=$(qemu_pid g1)
[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && ok "its QEMU process exists (pid $pid)" || fail "no QEMU process"

# The console: the port libvirt allocated is on the bus and answers RFB.
wait_until 20 sh -c "busctl --system get-property org.hostagent1 $G1 org.hostagent1.VM Graphics | grep -qv ' -1\$'"
graphics=$(vm_prop "$G1" Graphics)
port=$(awk '{print $4}' <<<"$graphics")
assert_contains "$graphics" '"vnc" "127.0.0.1"' "Graphics shows VNC on loopback"
banner=$(timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; head -c 12 <&3" 2>/dev/null)
assert_contains "$banner" "RFB 003" "the VNC port $port answers"

# Console tickets: a password that works, then expires.
vnc_login() { perl "$HOSTAGENT_SOURCE_DIR/tests/lib/vnc-login.pl" "$@"; }
assert_contains "$(vnc_login "$port")" "refused" "a VM created from a spec starts with its console locked"
ticket() { gdbus call --system -d org.hostagent1 -o "$G1" -m org.hostagent1.VM.SetConsoleTicket "$@" 2>&1; }
assert_eq "()" "$(ticket s3cret 4)" "SetConsoleTicket"
assert_eq "ok" "$(vnc_login "$port" s3cret)" "the console takes the ticket's password"
assert_contains "$(vnc_login "$port" wrong)" "refused" "and refuses a wrong one"
assert_contains "$(vnc_login "$port")" "refused" "and refuses none"
wait_until 20 sh -c "! perl '$HOSTAGENT_SOURCE_DIR/tests/lib/vnc-login.pl' $port s3cret" \
        && ok "once the TTL passes, the old password is refused" || fail "the ticket never expired"
out=$(ticket toolongpw 60)
assert_contains "$out" "org.hostagent1.Error.InvalidArgs" "a VNC password over 8 characters is InvalidArgs"
assert_contains "$out" "password: a VNC console takes at most 8 characters" "and says so"
assert_contains "$(ticket '' 60)" "password: must be 1 to 64 printable characters" "an empty password is refused"
assert_contains "$(ticket abc 0)" "ttl_sec: must be between 1 and 604800" "a TTL of 0 is refused"

assert_eq "()" "$(vm_call "$G1" Pause)" "Pause a real guest"
assert_eq "paused" "$($VIRSH domstate g1)" "QEMU is paused"
assert_eq "()" "$(vm_call "$G1" Resume)" "Resume it"
assert_eq "running" "$($VIRSH domstate g1)" "QEMU runs again"
stats=$(busctl --system call org.hostagent1 "$G1" org.hostagent1.VM GetStats 2>&1)
assert_contains "$stats" '"cpu.time" t' "GetStats has the guest's CPU time"
assert_contains "$stats" '"balloon.current" t' "and its balloon"
assert_contains "$stats" '"state.state" i 1' "and its state, as libvirt types it"
all=$(busctl --system call org.hostagent1 /org/hostagent1 org.hostagent1.Manager GetAllVMStats 2>&1)
assert_contains "$all" "\"$G1\"" "GetAllVMStats lists the guest by its object path"
# A disk path XML allows and D-Bus strings do not (U+FDD0): the others' statistics still come.
printf "<domain type='qemu'><name>oddisk</name><memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os><devices><disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$T/odd-\xef\xb7\x90.img'/><target dev='vda' bus='virtio'/></disk></devices></domain>" \
        > "$T/oddisk.xml"
$VIRSH define "$T/oddisk.xml" >/dev/null
wait_until 10 sh -c "busctl --system call org.hostagent1 /org/hostagent1 org.hostagent1.Manager GetVM s oddisk >/dev/null 2>&1"
all=$(gdbus call --system -d org.hostagent1 -o /org/hostagent1 -m org.hostagent1.Manager.GetAllVMStats 2>&1)
assert_contains "$all" "odd-"$'\xef\xbf\xbd'".img" "GetAllVMStats answers, the disk path showing U+FFFD"
assert_contains "$all" "'$G1'" "with the other guests in it"
$VIRSH undefine oddisk >/dev/null
assert_eq "()" "$(vm_call "$G1" Reset)" "Reset it"
# A guest with no OS ignores ACPI: the shutdown job forces it off.
bus_monitor_start "$T/monitor.log" gdbus monitor --system --dest org.hostagent1
JOB=$(busctl --system call org.hostagent1 "$G1" org.hostagent1.VM Shutdown u 60 | awk '{print $2}' | tr -d '"')
assert_eq "()" "$(gdbus call --system -d org.hostagent1 -o "$JOB" -m org.hostagent1.Job.Cancel 2>&1)" "Cancel a shutdown"
assert_eq 's "cancelled"' "$(busctl --system get-property org.hostagent1 "$JOB" org.hostagent1.Job Result)" "its Result is cancelled"
assert_eq "running" "$($VIRSH domstate g1)" "and the guest was not forced off"
JOB=$(busctl --system call org.hostagent1 "$G1" org.hostagent1.VM Shutdown u 2 | awk '{print $2}' | tr -d '"')
wait_until 30 grep -q "JobRemoved (objectpath '$JOB', 'forced')" "$T/monitor.log" \
        && ok "a guest that ignores ACPI is forced off when the timeout passes" || fail "no forced JobRemoved"
wait_until 20 sh -c "! kill -0 $pid 2>/dev/null" && ok "its QEMU process is gone" || fail "QEMU still runs"
assert_eq 's "shutoff"' "$(vm_prop "$G1" State)" "State shutoff"
assert_eq 's "destroyed"' "$(vm_prop "$G1" StateReason)" "StateReason destroyed"
assert_contains "$(cat "$T/monitor.log")" "{'Progress': <uint32 50>}" "Progress showed the forcing step"
assert_eq "()" "$(vm_call "$G1" Start)" "start it again"
pid=$(qemu_pid g1)
assert_eq "()" "$(vm_call "$G1" Destroy)" "Destroy it"
wait_until 20 sh -c "! kill -0 $pid 2>/dev/null" && ok "its QEMU process is gone" || fail "QEMU still runs"
assert_eq 's "shutoff"' "$(vm_prop "$G1" State)" "State shutoff"
out=$(gdbus call --system -d org.hostagent1 -o "$G1" -m org.hostagent1.VM.SetConsoleTicket abc 60 2>&1)
assert_contains "$out" "org.hostagent1.Error.InvalidState" "no console ticket for a stopped VM"
wait_until 20 sh -c "busctl --system get-property org.hostagent1 $G1 org.hostagent1.VM Graphics | grep -q ' -1\$'" \
        && ok "the console port is released with it" || fail "Graphics port not reset"

# Started behind the agent's back.
cat > "$T/g2.xml" <<XML
<domain type='qemu'><name>g2</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
<os><type arch='x86_64'>hvm</type></os><devices><graphics type='vnc' autoport='yes' listen='127.0.0.1'/></devices></domain>
XML
$VIRSH define "$T/g2.xml" >/dev/null && $VIRSH start g2 >/dev/null
wait_until 20 sh -c "busctl --system call org.hostagent1 /org/hostagent1 org.hostagent1.Manager ListVMs | grep -q '\"g2\" \"running\"'" \
        && ok "a guest started with virsh is on the bus, running" || fail "g2 not seen running"
G2=$(busctl --system call org.hostagent1 /org/hostagent1 org.hostagent1.Manager GetVM s g2 | awk '{print $2}' | tr -d '"')
out=$(gdbus call --system -d org.hostagent1 -o "$G2" -m org.hostagent1.VM.SetConsoleTicket abc 60 2>&1)
assert_contains "$out" "org.hostagent1.Error.NotSupported" "a console started without password support cannot take tickets"
assert_contains "$out" "passwd attribute" "and the error says what to change"
$VIRSH suspend g2 >/dev/null

# SIGKILL the agent: guests are untouched, a new agent finds them as they are.
g2_pid=$(qemu_pid g2)
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
wait_until 10 sh -c '! busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus NameHasOwner s org.hostagent1 | grep -q true'
assert_eq "paused" "$($VIRSH domstate g2)" "the guest is untouched by the agent's death"
# Changed while no agent watched: the start's bulk read (all states in one
# call, autostart and persistence from two filtered lists) must see it.
$VIRSH autostart g1 >/dev/null
daemon_start --libvirt-uri="$LIBVIRT_QEMU_URI"
wait_until 60 sh -c 'busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | grep -q true'
assert_eq 's "paused"' "$(vm_prop "$G2" State)" "the new agent publishes the same object, same state"
assert_eq "$g2_pid" "$(qemu_pid g2)" "the same QEMU process ($g2_pid)"
assert_eq 's "shutoff"' "$(vm_prop "$G1" State)" "and the stopped guest as it was"
assert_eq 's "user"' "$(vm_prop "$G2" StateReason)" "the paused guest's reason, from the bulk read"
assert_eq "b true" "$(vm_prop "$G1" Autostart)" "autostart set with virsh meanwhile is seen"
assert_eq "b false" "$(vm_prop "$G2" Autostart)" "and not where it is not set"
assert_eq "b true" "$(vm_prop "$G2" Persistent)" "persistence too"
spec=$(vm_prop "$G1" Spec)
assert_contains "$spec" '\"name\":\"g1\"' "with its spec, read back from libvirt"

assert_eq "()" "$(vm_call "$G2" Destroy)" "Destroy the virsh guest through the bus"
daemon_stop; rc=$?
assert_eq 0 "$rc" "SIGTERM ends it with status 0"
fixture_finish
