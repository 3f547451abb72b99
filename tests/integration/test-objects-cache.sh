# GetManagedObjects answered from entries kept between changes: the same
# content as sd-bus's own ObjectManager gives (VMs, pools, volumes, a network,
# a job), and every
# change made by another tool or through the agent (pause, rename, undefine, a
# new volume) is in the very next answer; GetAll agrees with it. ListVMs,
# kept too, follows the same changes.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/storage.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/vm.sh"
set +e

libvirtd_start
# The agent in a network namespace of the test's own, with a veth pair as an uplink.
netns_start objects || exit 1
ip -n "$NETNS" link add up0 type veth peer name up0peer
ip -n "$NETNS" link set up0peer up
DAEMON_PREFIX=(ip netns exec "$NETNS")
bus_start
# While this file exists, sd-bus's own ObjectManager answers: the reference.
SDBUS="$T/sd-bus-answers"
HOSTAGENT_OBJECTS_FAILPOINT=$SDBUS daemon_start --libvirt-uri="$LIBVIRT_TEST_URI" --run-dir="$T/run" \
        --ovsdb="unix:$T/no-ovsdb.sock"
wait_until 30 sh -c 'busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | grep -q true'
VIRSH="virsh -q -c $LIBVIRT_TEST_URI"

gmo() { busctl --system call --json=short org.hostagent1 /org/hostagent1 org.freedesktop.DBus.ObjectManager GetManagedObjects; }
reference() { touch "$SDBUS"; gmo; rm -f "$SDBUS"; }
# The answer as one canonical JSON text (object order carries no meaning). A
# pool's byte counts are those of the file system under $T, which other
# processes fill and empty between two calls: masked.
canon() {
        python3 -c 'import json, sys
data = json.load(sys.stdin)["data"]
for objs in data:
    for ifaces in objs.values():
        for name in [k for k in ifaces.get("org.hostagent1.StoragePool", {}) if k.endswith("Bytes")]:
            ifaces["org.hostagent1.StoragePool"][name] = "(varies)"
print(json.dumps(data, sort_keys=True))'
}
# prop_in PATH INTERFACE NAME: the property's value in the latest answer.
prop_in() {
        gmo | python3 -c 'import json, sys
objs = json.load(sys.stdin)["data"][0]
print(json.dumps(objs.get(sys.argv[1], {}).get(sys.argv[2], {}).get(sys.argv[3], {}).get("data")))' "$@"
}
list_vms() { busctl --system call org.hostagent1 /org/hostagent1 org.hostagent1.Manager ListVMs; }
same_as_sd_bus() {
        local ours ref
        ours=$(gmo | canon); ref=$(reference | canon)
        if [ -n "$ours" ] && [ "$ours" = "$ref" ]; then
                ok "$1: GetManagedObjects says what sd-bus's ObjectManager says"
        else
                fail "$1: GetManagedObjects differs from sd-bus's"
                diff <(echo "$ref" | python3 -m json.tool) <(echo "$ours" | python3 -m json.tool) | head -40
        fi
}

cat > "$T/vm1.xml" <<XML
<domain type='test'><name>vm1</name><uuid>11111111-2222-3333-4444-555555555555</uuid>
<memory unit='MiB'>256</memory><vcpu>2</vcpu><os><type>hvm</type></os></domain>
XML
$VIRSH define "$T/vm1.xml" >/dev/null
$VIRSH start vm1 >/dev/null
VM1=$(vm_path 11111111-2222-3333-4444-555555555555)
wait_until 10 vm_state_is "$VM1" running || fail "vm1 not seen running"
P=/org/hostagent1/storage/cache
assert_contains "$(create_pool "{\"name\":\"cache\",\"type\":\"dir\",\"path\":\"$T/pools/cache\"}")" "'$P'" "CreateStoragePool"
assert_contains "$(pool_call "$P" CreateVolume v1 1048576 raw {})" "'$P/v1'" "CreateVolume v1"

busctl --system call org.hostagent1 /org/hostagent1 org.hostagent1.Manager SetupNetworks 'sa{sv}' \
        '{"networks": {"cn1": {"uplink": "up0", "addresses": ["192.0.2.10/24"]}}}' 0 >/dev/null
wait_until 10 busctl --system get-property org.hostagent1 /org/hostagent1/network/cn1 org.hostagent1.Network Name \
        || fail "no network cn1"
JOB=$(busctl --system call org.hostagent1 "$(vm_path_of test)" org.hostagent1.VM Shutdown u 30 | awk '{print $2}' | tr -d '"')
assert_contains "$JOB" /org/hostagent1/job/ "Shutdown of the test driver's VM gives a job"
# Compared once it is over: it stays 30 s, unchanged.
wait_until 20 sh -c "busctl --system get-property org.hostagent1 $JOB org.hostagent1.Job State | grep -q finished" \
        || fail "the shutdown job did not finish"

same_as_sd_bus "VMs, a pool, a volume, a network and a job"
assert_eq '"cn1"' "$(prop_in /org/hostagent1/network/cn1 org.hostagent1.Network Name)" "the network is in it"
assert_contains "$(prop_in "$JOB" org.hostagent1.Job State)" '"' "the job is in it"
assert_eq '"running"' "$(prop_in "$VM1" org.hostagent1.VM State)" "vm1 is running in GetManagedObjects"
assert_contains "$(list_vms)" '"11111111-2222-3333-4444-555555555555" "vm1" "running"' "and in ListVMs"
assert_eq '"1048576"' "\"$(prop_in "$P/v1" org.hostagent1.Volume CapacityBytes)\"" "the volume is in it with its size"

# Another tool pauses it: the next answer says so (the kept entry was dropped).
$VIRSH suspend vm1 >/dev/null
wait_until 10 vm_state_is "$VM1" paused || fail "the pause was not seen"
assert_eq '"paused"' "$(prop_in "$VM1" org.hostagent1.VM State)" "a pause by virsh is in the next GetManagedObjects"
assert_eq '"user"' "$(prop_in "$VM1" org.hostagent1.VM StateReason)" "with its reason"
assert_contains "$(list_vms)" '"vm1" "paused"' "and in the next ListVMs"
assert_contains "$(busctl --system call org.hostagent1 "$VM1" org.freedesktop.DBus.Properties GetAll s org.hostagent1.VM)" \
        '"State" s "paused"' "GetAll agrees"
same_as_sd_bus "after a pause"

# The agent resumes it: the same.
assert_eq "()" "$(vm_call "$VM1" Resume)" "Resume"
assert_eq '"running"' "$(prop_in "$VM1" org.hostagent1.VM State)" "a Resume through the agent is in the next GetManagedObjects"
assert_contains "$(list_vms)" '"vm1" "running"' "and in the next ListVMs"

# Renamed by another tool (libvirt renames only stopped domains).
$VIRSH destroy vm1 >/dev/null
wait_until 10 vm_state_is "$VM1" shutoff || fail "the stop was not seen"
$VIRSH domrename vm1 vm1-renamed >/dev/null
wait_until 10 sh -c "busctl --system get-property org.hostagent1 $VM1 org.hostagent1.VM Name | grep -q vm1-renamed" \
        || fail "the rename was not seen"
assert_eq '"vm1-renamed"' "$(prop_in "$VM1" org.hostagent1.VM Name)" "a rename by virsh is in the next GetManagedObjects"
assert_eq '"shutoff"' "$(prop_in "$VM1" org.hostagent1.VM State)" "and the stop before it"
assert_contains "$(list_vms)" '"vm1-renamed" "shutoff"' "both are in the next ListVMs"
same_as_sd_bus "after a stop and a rename"

# The pool changes: a new volume is there, a deleted one is gone.
assert_contains "$(pool_call "$P" CreateVolume v2 2097152 raw {})" "'$P/v2'" "CreateVolume v2"
assert_eq '"2097152"' "\"$(prop_in "$P/v2" org.hostagent1.Volume CapacityBytes)\"" "a new volume is in the next GetManagedObjects"
assert_eq "()" "$(vol_call "$P" v1 Delete)" "Delete v1"
assert_eq "null" "$(prop_in "$P/v1" org.hostagent1.Volume Name)" "a deleted volume is gone from the next GetManagedObjects"
same_as_sd_bus "after volume changes"

# Undefined by another tool: gone; defined again: back, as it is now.
$VIRSH undefine vm1-renamed >/dev/null
wait_until 10 sh -c "! busctl --system get-property org.hostagent1 $VM1 org.hostagent1.VM Name >/dev/null 2>&1" \
        || fail "the undefine was not seen"
assert_eq "null" "$(prop_in "$VM1" org.hostagent1.VM Name)" "an undefined VM is gone from the next GetManagedObjects"
assert_not_contains "$(list_vms)" "11111111-2222" "and from the next ListVMs"
sed -e 's/<vcpu>2</<vcpu>3</' "$T/vm1.xml" > "$T/vm1b.xml"
$VIRSH define "$T/vm1b.xml" >/dev/null
wait_until 10 sh -c "busctl --system get-property org.hostagent1 $VM1 org.hostagent1.VM VCPUs 2>/dev/null | grep -q 3" \
        || fail "the new definition was not seen"
assert_eq "3" "$(prop_in "$VM1" org.hostagent1.VM VCPUs)" "defined again under the same UUID, it is back as it is now"
assert_contains "$(list_vms)" '"11111111-2222-3333-4444-555555555555" "vm1" "shutoff"' "in ListVMs too"
same_as_sd_bus "at the end"

daemon_stop; rc=$?
assert_eq 0 "$rc" "SIGTERM ends it with status 0 (a sanitizer build: no leak)"
fixture_finish
