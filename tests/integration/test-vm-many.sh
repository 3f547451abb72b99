# Many VMs (a test-driver node of 300 domains in a private libvirtd): the
# full read, spread over several threads, publishes every domain with its
# own name, spec and console, and says so in one log line, not one per VM;
# bulk statistics name every VM by its path.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/vm.sh"
set +e

N=300
libvirtd_start
bus_start
{
        echo "<node>"
        for i in $(seq 0 $((N - 1))); do
                printf '<domain type="test"><name>many-%d</name><uuid>%08x-0000-4000-8000-%012x</uuid>' "$i" "$i" "$i"
                printf '<memory unit="MiB">%d</memory><vcpu>1</vcpu><os><type arch="x86_64">hvm</type></os>' $((128 + i))
                printf '<metadata><ha:hostagent xmlns:ha="urn:org.hostagent1:vm:1"><ha:spec>{"name":"many-%d"}' "$i"
                printf '</ha:spec></ha:hostagent></metadata><devices>'
                printf '<graphics type="vnc" port="%d" listen="127.0.0.1"/></devices></domain>\n' $((5900 + i))
        done
        echo "</node>"
} > "$T/node.xml"
daemon_start --libvirt-uri="test+unix://$T/node.xml?socket=$LV/run/libvirt/libvirt-sock"
wait_until 60 sh -c 'busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | grep -q true' \
        && ok "Ready with $N VMs" || fail "not Ready with $N VMs"

grep -q "$N VMs read from libvirt" "$T/daemon.log" && ok "the first full read is logged in one line" \
        || fail "no line says how many VMs the first full read found"
assert_eq 0 "$(grep -c ' appeared (' "$T/daemon.log")" "not in one line per VM"

list=$(busctl --system call org.hostagent1 /org/hostagent1 org.hostagent1.Manager ListVMs)
assert_eq "$N" "$(echo "$list" | awk '{print $2}')" "ListVMs lists every domain"
for i in 0 1 137 298 299; do
        uuid=$(printf '%08x-0000-4000-8000-%012x' "$i" "$i")
        p=$(vm_path "$uuid")
        assert_eq "s \"many-$i\"" "$(vm_prop "$p" Name)" "VM $i has its own name"
        assert_eq "t $((128 + i))" "$(vm_prop "$p" MemoryMiB)" "VM $i has its own memory"
        assert_contains "$(vm_prop "$p" Spec)" "many-$i" "VM $i has its own spec"
        assert_contains "$(vm_prop "$p" Graphics)" "$((5900 + i))" "VM $i has its own console port"
done

# Every record of the bulk statistics carries the path of its own VM.
busctl --system --json=short call org.hostagent1 /org/hostagent1 org.hostagent1.Manager GetAllVMStats > "$T/stats.json"
stats_paths=$(python3 -c 'import json, sys; print("\n".join(sorted(r[0] for r in json.load(sys.stdin)["data"][0])))' \
        < "$T/stats.json")
list_paths=$(echo "$list" | grep -o '"/org/hostagent1/vm/[^"]*"' | tr -d '"' | sort)
assert_eq "$N" "$(echo "$stats_paths" | grep -c .)" "GetAllVMStats has a record for every VM"
[ "$stats_paths" = "$list_paths" ] && ok "GetAllVMStats names each VM by the path ListVMs gives" \
        || fail "GetAllVMStats paths differ from ListVMs"
for i in 0 299; do
        p=$(vm_path "$(printf '%08x-0000-4000-8000-%012x' "$i" "$i")")
        python3 -c 'import json, sys; d = {r[0]: r[1] for r in json.load(sys.stdin)["data"][0]}; sys.exit(0 if d[sys.argv[1]]["state.state"]["data"] == 1 else 1)' \
                "$p" < "$T/stats.json" && ok "VM $i's record says running" || fail "VM $i's record is wrong"
done
# A second bulk call while the first one's records are being freed.
out=$(busctl --system call org.hostagent1 /org/hostagent1 org.hostagent1.Manager GetAllVMStats 2>&1)
assert_contains "$out" "a(oa{sv}) $N " "a second bulk call answers every VM too"

daemon_stop && ok "the daemon exits cleanly" || fail "the daemon did not exit cleanly"
fixture_finish
