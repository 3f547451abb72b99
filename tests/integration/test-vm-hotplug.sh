# Changing VMs with libvirt's test driver: the new properties read from the
# domain XML, SetMemory and SetVCPUs with the spec following, and the
# bad-input table of the device methods: each a named error that names the
# field and changes nothing in libvirt. (Hot-plug itself needs QEMU: the
# test driver has no device attach; see test-vm-hotplug-qemu.)
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/vm.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/ctl.sh"
set +e

libvirtd_start
bus_start
daemon_start --libvirt-uri="$LIBVIRT_TEST_URI"
wait_until 30 sh -c 'busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | grep -q true'
VIRSH="virsh -q -c $LIBVIRT_TEST_URI"
touch "$T/root.img" "$T/data.img"
spec_of() { vm_prop "$1" Spec | sed 's/\\"/"/g; s/\\\\\//\//g'; }

TESTVM=$(vm_path_of test)
assert_eq 'a(ssssb) 1 "vda" "virtio" "/guest/diskimage1" "" false' "$(vm_prop "$TESTVM" Disks)" \
        "Disks of libvirt's test domain, from its XML"
assert_eq "t 8192" "$(vm_prop "$TESTVM" MaxMemoryMiB)" "MaxMemoryMiB is <memory>"
assert_eq "t 2048" "$(vm_prop "$TESTVM" CurrentMemoryMiB)" "CurrentMemoryMiB is <currentMemory>"
assert_eq "u 2" "$(vm_prop "$TESTVM" MaxVCPUs)" "MaxVCPUs is <vcpu>"
assert_eq "as 0" "$(vm_prop "$TESTVM" PendingChanges)" "nothing pending"

spec="{\"name\":\"hp1\",\"type\":\"test\",\"memory_mib\":256,\"max_memory_mib\":512,\"vcpus\":1,\"max_vcpus\":4,
  \"disks\":[{\"path\":\"$T/root.img\"}],\"nics\":[{\"bridge\":\"br0\",\"mac\":\"52:54:00:00:00:01\"}],\"start\":true}"
out=$(manager_call CreateVM "$(gv_string "$spec")")
HP=$(sed -n "s/.*objectpath '\([^']*\)'.*/\1/p" <<<"$out")
[ -n "$HP" ] && ok "a VM with maxima is created" || fail "CreateVM: $out"
xml=$($VIRSH dumpxml hp1)
assert_contains "$xml" "<memory unit='KiB'>524288</memory>" "max_memory_mib is <memory>"
assert_contains "$xml" "<currentMemory unit='KiB'>262144</currentMemory>" "memory_mib is <currentMemory>"
assert_contains "$xml" "<vcpu placement='static' current='1'>4</vcpu>" "max_vcpus is <vcpu>, vcpus its current"
assert_eq "t 512" "$(vm_prop "$HP" MaxMemoryMiB)" "MaxMemoryMiB"
assert_eq "u 4" "$(vm_prop "$HP" MaxVCPUs)" "MaxVCPUs"
assert_eq 'a(ssss) 1 "52:54:00:00:00:01" "virtio" "bridge:br0" "testnet0"' "$(vm_prop "$HP" NICs)" \
        "NICs: a bridge that is no agent network, with the tap the (test) driver names"
assert_contains "$(spec_of "$HP")" '"target":"vda"' "the spec names each disk's target"

# The bad-input table: (method, error, text, arguments...). Nothing may change.
before_hp=$($VIRSH dumpxml hp1); before_test=$($VIRSH dumpxml test)
check() {
        local method=$1 name=$2 want=$3; shift 3
        local out
        out=$(vm_call "$HP" "$method" "$@")
        case "$out" in
        *"$name"*"$want"*) ok "$method refuses: $want" ;;
        *) fail "$method $*: wanted $name '$want', got: $out" ;;
        esac
}
E=org.hostagent1.Error
check AttachDisk $E.InvalidSpec "disk: not valid JSON" '"{"' '{}'
check AttachDisk $E.InvalidSpec "disk.path: must be an absolute path" '"{\"path\":\"x.img\"}"' '{}'
check AttachDisk $E.InvalidSpec "disk.target: 'xyz' is not a disk target" "$(gv_string "{\"path\":\"$T/data.img\",\"target\":\"xyz\"}")" '{}'
check AttachDisk $E.InvalidSpec "disk.target: 'sdb' is not a target of the virtio bus" "$(gv_string "{\"path\":\"$T/data.img\",\"target\":\"sdb\"}")" '{}'
check AttachDisk $E.InUse "disk.target: vda is in use by VM hp1" "$(gv_string "{\"path\":\"$T/data.img\",\"target\":\"vda\"}")" '{}'
check AttachDisk $E.InUse "disk.path: /guest/diskimage1 is attached to VM test already" '"{\"path\":\"/guest/diskimage1\"}"' '{}'
check AttachDisk $E.InUse "is attached to VM hp1 already" "$(gv_string "{\"path\":\"$T/root.img\"}")" '{}'
check AttachDisk $E.InvalidSpec "disk.pool: no storage pool named 'nopool'" '"{\"pool\":\"nopool\",\"volume\":\"v1\"}"' '{}'
check AttachDisk $E.InvalidArgs "options.colour: unknown option" "$(gv_string "{\"path\":\"$T/data.img\"}")" '{"colour": <"red">}'
check AttachDisk $E.InvalidArgs "options.live: must be a boolean" "$(gv_string "{\"path\":\"$T/data.img\"}")" '{"live": <"yes">}'
check AttachDisk $E.InvalidArgs "options: neither live nor persistent" "$(gv_string "{\"path\":\"$T/data.img\"}")" '{"live": <false>, "persistent": <false>}'
check AttachDisk $E.InvalidSpec "disk.path: $T/missing.img: No such file or directory" "$(gv_string "{\"path\":\"$T/missing.img\"}")" '{}'
check AttachNIC $E.InvalidSpec "nic.network: no network named 'nonet'" '"{\"network\":\"nonet\"}"' '{}'
check AttachNIC $E.InvalidSpec "nic.mac: 'ff:ff:ff:ff:ff:ff' is not a unicast MAC" '"{\"bridge\":\"br0\",\"mac\":\"ff:ff:ff:ff:ff:ff\"}"' '{}'
check AttachNIC $E.InUse "nic.mac: 52:54:00:00:00:01 is in use by VM hp1" '"{\"bridge\":\"br0\",\"mac\":\"52:54:00:00:00:01\"}"' '{}'
check DetachDisk $E.NoSuchObject "target: VM hp1 has no disk vdz" '"vdz"'
check DetachNIC $E.NoSuchObject "mac: VM hp1 has no NIC 52:54:00:99:99:99" '"52:54:00:99:99:99"'
# The issue's signatures are (s target) and (s mac): an options argument is refused by the bus.
check DetachDisk org.freedesktop.DBus.Error.InvalidArgs "expecting 's'" '"vda"' '{}'
check DetachNIC org.freedesktop.DBus.Error.InvalidArgs "expecting 's'" '"52:54:00:00:00:01"' '{}'
check SetMemory $E.InvalidArgs "mib: 1024 is beyond VM hp1's maximum of 512 MiB" 'uint64 1024'
check SetMemory $E.InvalidArgs "mib: at least 16" 'uint64 8'
check SetVCPUs $E.InvalidArgs "n: must be from 1 to VM hp1's maximum of 4 (max_vcpus), got 5" 'uint32 5'
check SetVCPUs $E.InvalidArgs "got 0" 'uint32 0'
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups gdbus call --system -d org.hostagent1 -o "$HP" \
        -m org.hostagent1.VM.SetMemory 300 2>&1)
assert_contains "$out" "org.freedesktop.DBus.Error.AccessDenied" "an unprivileged SetMemory is AccessDenied"
assert_eq "$before_hp" "$($VIRSH dumpxml hp1)" "hp1 is unchanged after every refusal"
assert_eq "$before_test" "$($VIRSH dumpxml test)" "and so is the other VM"

# A VM that is not running: nothing can be live.
assert_eq "()" "$(vm_call "$HP" Destroy)" "hp1 stopped"
check AttachDisk $E.InvalidState "options.live: VM hp1 is not running" "$(gv_string "{\"path\":\"$T/data.img\"}")" '{"live": <true>}'
assert_eq "()" "$(vm_call "$HP" Start)" "hp1 started again"

# Memory and vCPUs: libvirt, the properties and the spec follow.
assert_eq "()" "$(vm_call "$HP" SetMemory 'uint64 384')" "SetMemory within the maximum"
assert_eq "t 384" "$(vm_prop "$HP" CurrentMemoryMiB)" "CurrentMemoryMiB follows, in place with the reply"
assert_contains "$($VIRSH dumpxml hp1)" "<currentMemory unit='KiB'>393216</currentMemory>" "libvirt has it live"
assert_contains "$($VIRSH dumpxml --inactive hp1)" "<currentMemory unit='KiB'>393216</currentMemory>" "and in the definition"
assert_contains "$(spec_of "$HP")" '"memory_mib":384' "the Spec says 384 MiB"
assert_contains "$($VIRSH metadata hp1 urn:org.hostagent1:vm:1)" '"memory_mib":384' "and so does the copy in the metadata"
assert_eq "()" "$(vm_call "$HP" SetVCPUs 'uint32 3')" "SetVCPUs within the maximum"
assert_eq "u 3" "$(vm_prop "$HP" VCPUs)" "VCPUs follows"
assert_contains "$(spec_of "$HP")" '"vcpus":3' "the Spec says 3 vCPUs"

# The test driver cannot attach: a named error, and the spec is untouched.
out=$(vm_call "$HP" AttachDisk "$(gv_string "{\"path\":\"$T/data.img\"}")" '{}')
assert_contains "$out" "$E.NotSupported" "a driver without hot-plug says NotSupported"
assert_not_contains "$(spec_of "$HP")" "data.img" "and the spec does not gain the disk"

# ApplyVM: created when missing, changed to match, nothing done the second time.
apply() { manager_call ApplyVM "$(gv_string "$1")" "${2:-{\}}"; }
ap="{\"name\":\"ap1\",\"type\":\"test\",\"memory_mib\":256,\"max_memory_mib\":512,\"vcpus\":1,\"max_vcpus\":2,
  \"disks\":[{\"path\":\"$T/ap-root.img\"}],\"nics\":[{\"bridge\":\"br0\"}],\"start\":true,\"metadata\":{\"owner\":\"ops\"}}"
touch "$T/ap-root.img" "$T/ap-data.img"
assert_eq "(objectpath '/', '{\"steps\":[{\"action\":\"create\",\"live\":true}]}')" "$(apply "$ap" '{"dry_run": <true>}')" \
        "a dry run of a missing VM plans its creation"
assert_eq "" "$($VIRSH list --all --name | grep -x ap1)" "and creates nothing"
out=$(apply "$ap")
AP=$(grep -o "/org/hostagent1/vm/[^']*" <<<"$out")
assert_contains "$out" '"action":"create"' "ApplyVM creates a missing VM"
assert_eq "running" "$($VIRSH domstate ap1)" "and starts it"
xml_before=$($VIRSH dumpxml ap1); spec_before=$(spec_of "$AP")
assert_eq "(objectpath '$AP', '{\"steps\":[]}')" "$(apply "$ap")" "the same spec again: no steps"
assert_eq "$xml_before" "$($VIRSH dumpxml ap1)" "and libvirt is unchanged"
assert_not_contains "$(cat "$T/daemon.log")" "Request to apply the spec to VM ap1" "no change was asked of libvirt"

changed=${ap/\"memory_mib\":256/\"memory_mib\":384}
changed=${changed/\"vcpus\":1,/\"vcpus\":2,}
changed=${changed/\"owner\":\"ops\"/\"owner\":\"dba\"}
changed=${changed/\"start\":true/\"start\":true,\"autostart\":true}
out=$(apply "$changed" '{"dry_run": <true>}')
assert_eq "(objectpath '$AP', '{\"steps\":[{\"action\":\"set-memory\",\"mib\":384,\"live\":true},{\"action\":\"set-vcpus\",\"vcpus\":2,\"live\":true},{\"action\":\"set-autostart\",\"autostart\":true,\"live\":true}]}')" \
        "$out" "a dry run plans memory, vCPUs and autostart, live"
assert_eq "$xml_before" "$($VIRSH dumpxml ap1)" "and changes nothing"
out=$(apply "$changed")
assert_contains "$out" '"action":"set-memory"' "ApplyVM applies the changes"
assert_eq "t 384" "$(vm_prop "$AP" CurrentMemoryMiB)" "the memory is live"
assert_eq "u 2" "$(vm_prop "$AP" VCPUs)" "and the vCPUs"
assert_eq "b true" "$(vm_prop "$AP" Autostart)" "and autostart"
assert_contains "$(spec_of "$AP")" '"owner":"dba"' "the Spec has the new metadata"
assert_contains "$($VIRSH dumpxml --inactive ap1)" "<currentMemory unit='KiB'>393216</currentMemory>" "so has the definition"
assert_eq "(objectpath '$AP', '{\"steps\":[]}')" "$(apply "$changed")" "applied twice: no steps"

# Refused: each named, nothing changed.
xml_before=$($VIRSH dumpxml ap1)
assert_contains "$(apply "${changed/\"type\":\"test\"/\"type\":\"kvm\"}")" \
        "$E.InvalidSpec: type: cannot change from test to kvm" "the type cannot change"
assert_contains "$(apply "$changed" '{"force": <true>}')" "$E.InvalidArgs: options.force: unknown option" "an unknown option"
assert_contains "$(apply '{"name":"test","memory_mib":128,"type":"test"}')" \
        "$E.InvalidState: VM test was not defined from a spec" "a VM defined by other means has no spec to compare"
withdisk=$(sed "s|\"disks\":\[|&{\"path\":\"$T/ap-data.img\"},|" <<<"$changed")
out=$(apply "$withdisk")
assert_contains "$out" "$E.NotSupported: Cannot apply the spec to VM ap1: step 1 (attach-disk vdb) failed" \
        "a step libvirt refuses is named"
assert_eq "$xml_before" "$($VIRSH dumpxml ap1)" "and nothing changed"

# The guest agent channel (spec guest_agent, true by default) goes with the definition.
ga='{"name":"ap-ga","type":"test","memory_mib":128}'
GA=$(apply "$ga" | grep -o "/org/hostagent1/vm/[^']*")
assert_eq 's "disconnected"' "$(vm_prop "$GA" GuestAgent)" "a spec's VM has the agent channel (GuestAgent disconnected)"
assert_contains "$(apply "${ga/\}/,\"guest_agent\":false\}}")" \
        '{"action":"change","field":"guest_agent","from":true,"to":false,"live":false}' "ApplyVM guest_agent false"
wait_until 10 sh -c "busctl --system get-property org.hostagent1 $GA org.hostagent1.VM GuestAgent | grep -q none"
assert_eq 's "none"' "$(vm_prop "$GA" GuestAgent)" "and the channel is gone: GuestAgent none"
assert_not_contains "$($VIRSH dumpxml ap-ga)" "org.qemu.guest_agent.0" "from the definition too"
assert_not_contains "$(spec_of "$AP")" "ap-data.img" "not even the Spec"

# A VM that is off takes everything into its definition.
assert_eq "()" "$(vm_call "$AP" Destroy)" "ap1 stopped"
out=$(apply "$withdisk")
assert_contains "$out" '{"action":"attach-disk","target":"vdb","live":false}' "the disk is planned for the next start"
assert_contains "$(vm_prop "$AP" Disks)" "\"vdb\" \"virtio\" \"$T/ap-data.img\"" "and is in the definition's Disks"
assert_contains "$(spec_of "$AP")" '"target":"vdb"' "and in the Spec"
assert_eq "(objectpath '$AP', '{\"steps\":[]}')" "$(apply "$withdisk")" "applied twice: no steps"

# hostagentctl's commands for the same.
assert_eq "()" "$(vm_call "$AP" Start)" "ap1 runs again"
ctl_run set-memory ap1 320
assert_eq "0" "$CTL_RC" "hostagentctl set-memory"
assert_eq "t 320" "$(vm_prop "$AP" CurrentMemoryMiB)" "and the memory is set"
ctl_run set-memory ap1 1G
assert_eq "1" "$CTL_RC" "set-memory beyond the maximum fails"
assert_contains "$OUT" "hostagentctl: ap1: cannot set the memory:" "with an error line naming the VM"
assert_contains "$OUT" "(InvalidArgs)" "and the error"
ctl_run set-vcpus ap1 1
assert_eq "0 u 1" "$CTL_RC $(vm_prop "$AP" VCPUs)" "hostagentctl set-vcpus"
ctl_run attach-disk ap1 '{"pool":"nopool","volume":"v"}'
assert_contains "$OUT" "cannot attach the disk: disk.pool: no storage pool named 'nopool' (InvalidSpec)" \
        "attach-disk says what is wrong"
ctl_run detach-nic ap1 52:54:00:99:99:99
assert_eq "4" "$CTL_RC" "detach-nic of a NIC the VM does not have: no such object"
ctl_run detach-disk ap1 vda --config-only
assert_eq "1" "$CTL_RC" "detach-disk takes no scope: the method has no options"
assert_contains "$OUT" "--live-only and --config-only do not apply to a detach" "and says so"
echo "$withdisk" > "$T/ap1.json"
ctl_run apply "$T/ap1.json" --dry-run
assert_eq "0" "$CTL_RC" "hostagentctl apply --dry-run"
assert_contains "$OUT" "set-memory" "prints the plan"
assert_contains "$OUT" "384" "with what each step sets"
assert_contains "$OUT" "now" "and when"
ctl_run --json=short apply "$T/ap1.json" --dry-run
assert_contains "$OUT" '"action":"set-memory"' "the plan as JSON"
ctl_run apply "$T/ap1.json"
assert_eq "0 t 384" "$CTL_RC $(vm_prop "$AP" CurrentMemoryMiB)" "hostagentctl apply applies it"
ctl_run apply "$T/ap1.json"
assert_eq "Nothing to change." "$OUT" "and the second time has nothing to change"
daemon_stop && ok "the daemon exits cleanly" || { fail "daemon exit status"; tail -40 "$T/daemon.log"; }
fixture_finish
