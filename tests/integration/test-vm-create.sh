# Creating VMs over the bus against a real libvirtd: a good spec becomes a
# running VM whose Spec is kept in libvirt; bad input of every kind gets the
# right named error, names what is wrong, and leaves libvirt as it was.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
set +e

libvirtd_start
bus_start
daemon_start --libvirt-uri="$LIBVIRT_TEST_URI"
wait_until 30 sh -c 'busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | grep -q true'
VIRSH="virsh -q -c $LIBVIRT_TEST_URI"
touch "$T/root.img" "$T/data.img"

# gdbus reads arguments as GVariant text: quote them so any bytes pass verbatim.
create() { gdbus call --system -d org.hostagent1 -o /org/hostagent1 -m org.hostagent1.Manager.CreateVM "$(gv_string "$1")" 2>&1; }
create_xml() { gdbus call --system -d org.hostagent1 -o /org/hostagent1 -m org.hostagent1.Manager.CreateVMFromXML "$(gv_string "$1")" 2>&1; }
domains() { $VIRSH list --all --name | sort | paste -sd' '; }

before=$(domains)

# Bad input: (error name, text the message must contain, the spec).
while IFS='|' read -r name want spec; do
        [ -n "$name" ] || continue
        out=$(create "$spec")
        case "$out" in
        *"$name"*"$want"*) ok "CreateVM refuses: $want" ;;
        *) fail "CreateVM $spec: wanted $name '$want', got: $out" ;;
        esac
done <<CASES
org.hostagent1.Error.InvalidSpec|spec: not valid JSON|{"name":
org.hostagent1.Error.InvalidSpec|name: is required|{"memory_mib":128}
org.hostagent1.Error.InvalidSpec|name: must be 1 to 64|{"name":"<web&1>","memory_mib":128,"type":"test"}
org.hostagent1.Error.InvalidSpec|name: must be 1 to 64|{"name":"web'\"1","memory_mib":128,"type":"test"}
org.hostagent1.Error.InvalidSpec|memory_mib: must be between 16 and|{"name":"w","memory_mib":18446744073709551615,"type":"test"}
org.hostagent1.Error.InvalidSpec|vcpus: must be between 1 and 512|{"name":"w","memory_mib":128,"vcpus":4096,"type":"test"}
org.hostagent1.Error.InvalidSpec|disks[0].bus: must be one of virtio, sata, scsi, ide|{"name":"w","memory_mib":128,"type":"test","disks":[{"path":"$T/root.img","bus":"floppy"}]}
org.hostagent1.Error.InvalidSpec|disks[1].path: $T/missing.img: No such file or directory|{"name":"w","memory_mib":128,"type":"test","disks":[{"path":"$T/root.img"},{"path":"$T/missing.img"}]}
org.hostagent1.Error.InvalidSpec|nics[0].mac: 'ff:ff:ff:ff:ff:ff' is not a unicast MAC|{"name":"w","memory_mib":128,"type":"test","nics":[{"bridge":"br0","mac":"ff:ff:ff:ff:ff:ff"}]}
org.hostagent1.Error.InvalidSpec|colour: unknown key|{"name":"w","memory_mib":128,"type":"test","colour":"red"}
org.hostagent1.Error.InvalidSpec|name: a VM named 'test' exists already|{"name":"test","memory_mib":128,"type":"test"}
org.hostagent1.Error.InvalidSpec|uuid: a VM with UUID 6695eb01-f6a4-8304-79aa-97f2502e193f exists already|{"name":"w","uuid":"6695eb01-f6a4-8304-79aa-97f2502e193f","memory_mib":128,"type":"test"}
CASES

while IFS='|' read -r name want xml; do
        [ -n "$name" ] || continue
        out=$(create_xml "$xml")
        case "$out" in
        *"$name"*"$want"*) ok "CreateVMFromXML refuses: $want" ;;
        *) fail "CreateVMFromXML $xml: wanted $name '$want', got: $out" ;;
        esac
done <<CASES
org.hostagent1.Error.InvalidSpec|domain_xml: is empty|
org.hostagent1.Error.InvalidSpec|domain_xml:|<domain type='test'><name>broken
org.hostagent1.Error.InvalidSpec|domain_xml:|<domain type='test'><name>noos</name><memory>131072</memory></domain>
CASES

# Wrong D-Bus types and missing objects are refused by the bus layer, named.
out=$(busctl --system call org.hostagent1 /org/hostagent1 org.hostagent1.Manager CreateVM u 42 2>&1)
assert_contains "$out" "nvalid" "CreateVM with a number instead of a string is refused"
out=$(gdbus call --system -d org.hostagent1 -o /org/hostagent1/vm/_3nosuch -m org.hostagent1.VM.Undefine 2>&1)
assert_contains "$out" "UnknownObject" "a VM that does not exist is UnknownObject"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups gdbus call --system -d org.hostagent1 -o /org/hostagent1 \
        -m org.hostagent1.Manager.CreateVM '{"name":"sneaky","memory_mib":128,"type":"test"}' 2>&1)
assert_contains "$out" "org.freedesktop.DBus.Error.AccessDenied" "an unprivileged CreateVM is AccessDenied"
assert_eq "$before" "$(domains)" "libvirt is unchanged after every refusal"

# A good spec: defined, autostarted, started, spec kept in libvirt.
spec="{\"name\":\"web1\",\"type\":\"test\",\"memory_mib\":256,\"vcpus\":2,
  \"disks\":[{\"path\":\"$T/root.img\",\"format\":\"raw\"},{\"path\":\"$T/data.img\",\"bus\":\"sata\"}],
  \"nics\":[{\"bridge\":\"br0\",\"mac\":\"52:54:00:12:34:56\"}],\"graphics\":{\"type\":\"vnc\"},
  \"autostart\":true,\"start\":true,\"metadata\":{\"owner\":\"ops\"}}"
out=$(create "$spec")
assert_contains "$out" "objectpath '/org/hostagent1/vm/" "CreateVM returns the new VM's path"
VM=$(sed -n "s/.*objectpath '\([^']*\)'.*/\1/p" <<<"$out")
assert_eq 's "running"' "$(busctl --system get-property org.hostagent1 "$VM" org.hostagent1.VM State)" "it runs (start: true)"
assert_eq "running" "$($VIRSH domstate web1)" "libvirt agrees"
assert_eq "b true" "$(busctl --system get-property org.hostagent1 "$VM" org.hostagent1.VM Autostart)" "autostart is set"
assert_contains "$($VIRSH dominfo web1)" "Autostart:      enable" "libvirt agrees on autostart"
stored=$($VIRSH metadata web1 urn:org.hostagent1:vm:1)
assert_contains "$stored" '"owner":"ops"' "the spec is stored in the domain's metadata"
assert_contains "$stored" '"mac":"52:54:00:12:34:56"' "with the NIC's address"
spec_prop=$(busctl --system get-property org.hostagent1 "$VM" org.hostagent1.VM Spec)
assert_contains "$spec_prop" '\"owner\":\"ops\"' "the Spec property serves it"
xml=$($VIRSH dumpxml web1)
assert_contains "$xml" "<source file='$T/data.img'/>" "the second disk is in the domain"
assert_contains "$xml" "<target dev='sda' bus='sata'/>" "on sata as sda"
assert_contains "$xml" "<source bridge='br0'/>" "the NIC is on br0"

# From XML.
out=$(create_xml "<domain type='test'><name>fromxml</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>")
assert_contains "$out" "objectpath '/org/hostagent1/vm/" "CreateVMFromXML returns the new VM's path"
assert_contains "$(domains)" "fromxml" "libvirt has it"

daemon_stop; rc=$?
assert_eq 0 "$rc" "SIGTERM ends it with status 0"
fixture_finish
