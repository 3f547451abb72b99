# The guest agent of a real QEMU guest (tests/lib/hotplug-guest.sh's small
# Linux guest with qemu-ga, here with ext4 on a data disk and a NIC): the
# VM's GuestAddresses hold the address the guest set and GuestInfo its
# hostname; GuestAgent goes "disconnected" when the guest stops its agent
# and "connected" again when it restarts it; FreezeFilesystems holds a
# write the guest started before it until ThawFilesystems; a VM without an
# agent channel (spec guest_agent false) shows "none" and its freeze is
# GuestAgentUnavailable; hostagentctl guest-info, freeze and thaw.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/vm.sh"
# Its own cache: the hotplug guest with the ext4 modules that a freeze needs (a frozen mount).
HOSTAGENT_HOTPLUG_GUEST_CACHE=${HOSTAGENT_AGENT_GUEST_CACHE:-/var/tmp/hostagent-agent-guest-$(id -u)}
source "$HOSTAGENT_SOURCE_DIR/tests/lib/hotplug-guest.sh"
HOTPLUG_GUEST_MODULES+=" crc16 mbcache jbd2 crc32c_generic ext4"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/ctl.sh"
set +e

small_guest_build || { fail "the small guest cannot be built"; fixture_finish; exit 1; }
libvirtd_start
bus_start
VIRSH="virsh -q -c $LIBVIRT_QEMU_URI"
$VIRSH list --all >/dev/null || { fail "libvirtd's QEMU driver does not answer"; fixture_finish; exit 1; }
# Read often, so that what the guest changes shows soon.
daemon_start --libvirt-uri="$LIBVIRT_QEMU_URI" --guest-info-interval=2
wait_until 60 sh -c 'busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | grep -q true'

# The guest, with an ext4 data disk and a NIC of QEMU's user networking (no host side).
truncate -s 32M "$T/data.img" && mkfs.ext4 -q -F "$T/data.img"
hotplug_guest_xml ga1 "$T/ga1.console" | sed "s|<devices>|<devices>\
<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$T/data.img'/><target dev='vda' bus='virtio'/></disk>\
<interface type='user'><mac address='52:54:00:6a:00:01'/><model type='virtio'/></interface>|" > "$T/ga1.xml"
G=$(manager_call CreateVMFromXML "$(gv_string "$(cat "$T/ga1.xml")")" | grep -o "/org/hostagent1/vm/[^']*")
assert_eq 's "disconnected"' "$(vm_prop "$G" GuestAgent)" "a VM with the agent channel, not running: GuestAgent disconnected"
assert_contains "$(vm_call "$G" FreezeFilesystems)" \
        "org.hostagent1.Error.InvalidState: Cannot freeze the filesystems of VM ga1: it is not running" \
        "FreezeFilesystems of a VM not running is InvalidState"
assert_eq "()" "$(vm_call "$G" Start)" "the guest starts"

# A VM without the channel (spec guest_agent false), running meanwhile (no OS, SeaBIOS).
out=$(manager_call CreateVM "$(gv_string '{"name":"noga","type":"qemu","machine":"pc","memory_mib":128,"guest_agent":false,"start":true}')")
NOGA=$(grep -o "/org/hostagent1/vm/[^']*" <<<"$out")
[ -n "$NOGA" ] && ok "a VM with guest_agent false" || fail "CreateVM noga: $out"
assert_eq 's "none"' "$(vm_prop "$NOGA" GuestAgent)" "its GuestAgent is none"
assert_not_contains "$($VIRSH dumpxml noga)" "org.qemu.guest_agent.0" "its domain has no agent channel"
assert_contains "$(vm_call "$NOGA" FreezeFilesystems)" \
        "org.hostagent1.Error.GuestAgentUnavailable: Cannot freeze the filesystems of VM noga: it has no guest agent channel" \
        "its FreezeFilesystems is GuestAgentUnavailable"
ctl_run freeze noga
assert_contains "$CTL_RC $OUT" "GuestAgentUnavailable" "hostagentctl freeze says so too"
[ "$CTL_RC" -ne 0 ] && ok "and fails" || fail "hostagentctl freeze of noga succeeded"
$VIRSH destroy noga >/dev/null

wait_until 60 sh -c "busctl --system get-property org.hostagent1 $G org.hostagent1.VM GuestAgent | grep -q '\"connected\"'"
assert_eq 's "connected"' "$(vm_prop "$G" GuestAgent)" "GuestAgent turns connected once the guest's agent runs"

# What the guest sets shows in GuestInfo and GuestAddresses.
guest_exec "$VIRSH" ga1 'hostname agent-guest-1; ip addr add 192.0.2.77/24 dev eth0; ip link set eth0 up' >/dev/null
wait_until 20 sh -c "busctl --system get-property org.hostagent1 $G org.hostagent1.VM GuestAddresses | grep -q 192.0.2.77/24"
assert_contains "$(vm_prop "$G" GuestAddresses)" '"eth0" "52:54:00:6a:00:01" "192.0.2.77/24"' \
        "GuestAddresses: the guest's address on eth0, with its MAC"
wait_until 20 sh -c "busctl --system get-property org.hostagent1 $G org.hostagent1.VM GuestInfo | grep -q agent-guest-1"
info=$(vm_prop "$G" GuestInfo)
assert_contains "$info" '"hostname" s "agent-guest-1"' "GuestInfo: the guest's hostname"
assert_contains "$info" "\"kernel_release\" s \"$(guest_exec "$VIRSH" ga1 'uname -r')\"" "and its kernel"
ctl_run guest-info ga1
assert_contains "$CTL_RC $OUT" "agent-guest-1" "hostagentctl guest-info shows the hostname"
assert_contains "$OUT" "192.0.2.77/24" "and the addresses"
ctl_run guest-info ga1 --json
assert_eq "connected agent-guest-1" "$(json_py 'd["agent"] + " " + d["hostname"]' <<<"$OUT")" \
        "hostagentctl guest-info --json"

# The agent stops in the guest, and starts again 8 s later.
guest_exec "$VIRSH" ga1 'p=$(pidof qemu-ga); a=$(tr "\0" " " < /proc/$p/cmdline); (sleep 1; kill $p; sleep 8; $a) </dev/null >/dev/null 2>&1 &' >/dev/null
wait_until 20 sh -c "busctl --system get-property org.hostagent1 $G org.hostagent1.VM GuestAgent | grep -q disconnected"
assert_eq 's "disconnected"' "$(vm_prop "$G" GuestAgent)" "GuestAgent goes disconnected when the guest's agent stops"
assert_eq 'a(sss) 0' "$(vm_prop "$G" GuestAddresses)" "GuestAddresses is empty meanwhile"
assert_contains "$(vm_call "$G" FreezeFilesystems)" "GuestAgentUnavailable: Cannot freeze the filesystems of VM ga1: its guest agent is not connected" \
        "a freeze meanwhile is GuestAgentUnavailable"
wait_until 30 sh -c "busctl --system get-property org.hostagent1 $G org.hostagent1.VM GuestAgent | grep -q '\"connected\"'"
assert_eq 's "connected"' "$(vm_prop "$G" GuestAgent)" "and connected again when it is back"
wait_until 20 sh -c "busctl --system get-property org.hostagent1 $G org.hostagent1.VM GuestAddresses | grep -q 192.0.2.77/24"
assert_contains "$(vm_prop "$G" GuestAddresses)" '"192.0.2.77/24"' "with its addresses read again"

# A writer in the guest, started before the freeze, says on the console when each write began and ended.
guest_exec "$VIRSH" ga1 'mkdir -p /mnt && mount -t ext4 /dev/vda /mnt && echo mounted' | grep -q mounted &&
        ok "the guest mounts its data disk" || fail "the guest cannot mount /dev/vda"
guest_exec "$VIRSH" ga1 '(n=0; while :; do n=$((n+1)); echo "writer: start $n" > /dev/ttyS0; echo $n > /mnt/f; sync; echo "writer: done $n" > /dev/ttyS0; sleep 0.2; done) </dev/null >/dev/null 2>&1 &' >/dev/null
last_writer() { grep -a '^writer: ' "$T/ga1.console" | tail -1 | tr -d '\r'; }
wait_until 20 sh -c "grep -aq '^writer: done 3' '$T/ga1.console'"
assert_contains "$(vm_call "$G" FreezeFilesystems)" "(uint32 1,)" "FreezeFilesystems froze the guest's one block-device mount"
sleep 2
held=$(last_writer)
assert_contains "$held" "writer: start" "the write the guest began waits while frozen"
sleep 2
assert_eq "$held" "$(last_writer)" "and is still waiting 2 s later"
n=${held#writer: start }
assert_contains "$(vm_call "$G" ThawFilesystems)" "(uint32 1,)" "ThawFilesystems thawed it"
wait_until 20 sh -c "grep -aq '^writer: done $n' '$T/ga1.console'"
assert_contains "$(grep -a "^writer: done $n" "$T/ga1.console")" "writer: done $n" "the waiting write completes after the thaw"
ctl_run freeze ga1
assert_eq "0 1" "$CTL_RC $OUT" "hostagentctl freeze prints how many were frozen"
ctl_run thaw ga1
assert_eq "0 1" "$CTL_RC $OUT" "hostagentctl thaw how many were thawed"

# A hung agent (stopped for 12 s): libvirt does not time a freeze out (it may take as long as the
# guest's flush), so FreezeFilesystems waits on its worker, and the daemon answers meanwhile; it
# is answered once the agent runs it, and the thaw lets the guest's writes go on.
guest_exec "$VIRSH" ga1 'p=$(pidof qemu-ga); (sleep 2; kill -STOP $p; sleep 12; kill -CONT $p) </dev/null >/dev/null 2>&1 &' >/dev/null
wait_until 10 sh -c "! timeout 10 $VIRSH qemu-agent-command --timeout 2 ga1 '{\"execute\":\"guest-ping\"}' >/dev/null 2>&1"
vm_call "$G" FreezeFilesystems > "$T/freeze.out" 2>&1 &
freezing=$!
assert_eq 's "connected"' "$(vm_prop "$G" GuestAgent)" "while the freeze waits for the hung agent, the daemon answers"
assert_eq "" "$(cat "$T/freeze.out")" "and the freeze is not answered yet"
wait "$freezing"
# libvirt either hands the freeze to the agent when it runs again (frozen: 1), or, when its own
# sync with the agent timed out first (the probe above can cause that), refuses it as "not
# available for now": both are answers a caller can act on; the thaw then matches.
written=$(grep -ac '^writer: done' "$T/ga1.console")
if grep -q '(uint32 1,)' "$T/freeze.out"; then
        ok "it is answered once the agent runs it"
        assert_contains "$(vm_call "$G" ThawFilesystems)" "(uint32 1,)" "ThawFilesystems"
else
        assert_contains "$(cat "$T/freeze.out")" "GuestAgentUnavailable: Cannot freeze the filesystems of VM ga1" \
                "it is answered once the agent runs again, refused by libvirt as unavailable"
        wait_until 20 sh -c "busctl --system call org.hostagent1 $G org.hostagent1.VM ThawFilesystems >/dev/null 2>&1"
        assert_contains "$(vm_call "$G" ThawFilesystems)" "(uint32 0,)" "ThawFilesystems finds nothing frozen"
fi
wait_until 20 sh -c "[ \$(grep -ac '^writer: done' '$T/ga1.console') -gt $((written + 2)) ]"
[ "$(grep -ac '^writer: done' "$T/ga1.console")" -gt $((written + 2)) ] &&
        ok "and the guest's writes go on" || fail "the guest's writes stopped: $(last_writer)"

$VIRSH destroy ga1 >/dev/null
wait_until 20 sh -c "busctl --system get-property org.hostagent1 $G org.hostagent1.VM GuestAgent | grep -q disconnected"
assert_eq 's "disconnected"' "$(vm_prop "$G" GuestAgent)" "a stopped VM's agent is disconnected"
assert_eq 'a{sv} 0' "$(vm_prop "$G" GuestInfo)" "and its GuestInfo empty"
daemon_stop && ok "the daemon exits cleanly" || { fail "daemon exit status"; tail -40 "$T/daemon.log"; }
fixture_finish
