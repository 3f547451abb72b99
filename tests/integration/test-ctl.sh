# hostagentctl against the agent on a private bus with libvirt's test driver: the host and VM
# commands, each listing's JSON checked against what the bus says, the human output's key lines,
# exit codes (0, 1, 4 as systemctl's) and error lines; colours on a terminal, plain when piped.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/vm.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/ctl.sh"
set +e

libvirtd_start
bus_start
daemon_start --libvirt-uri="$LIBVIRT_TEST_URI"
wait_until 30 sh -c 'busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | grep -q true'

# status: the Manager's properties, and the objects counted.
ctl_run status; out=$OUT
assert_eq 0 "$CTL_RC" "status exits 0"
assert_contains "$out" "Version: $(busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Version | cut -d'"' -f2)" "status shows the version"
assert_contains "$out" "Libvirt: $LIBVIRT_TEST_URI (connected)" "status shows the libvirt URI and that it is connected"
assert_contains "$out" "VMs: 1 (1 running)" "status counts the VMs by state"
assert_contains "$out" "Jobs: 0 running" "status counts running jobs"
ctl_run --json=short status; json=$OUT
assert_eq "True True 1 1" "$(json_py 'd["ready"], d["libvirt_connected"], d["vms"], d["vms_running"]' <<<"$json" | tr -d '(),')" \
        "status --json: ready, connected, 1 VM running"
assert_eq "$LIBVIRT_TEST_URI" "$(json_py 'd["libvirt_uri"]' <<<"$json")" "status --json: the URI"

# host-info: every key of GetHostInfo, with the same value.
busctl_json call org.hostagent1 /org/hostagent1 org.hostagent1.Manager GetHostInfo > "$T/info.bus"
ctl --json host-info > "$T/info.ctl"
assert_eq "same" "$(/usr/bin/python3 -c "
import json
bus = json.load(open('$T/info.bus'))[0]; ctl = json.load(open('$T/info.ctl'))
print('same' if {k: v['data'] for k, v in bus.items()} == ctl else (bus, ctl))")" "host-info --json has GetHostInfo's keys and values"
assert_contains "$(ctl host-info)" "hypervisor: TEST" "host-info shows the hypervisor"
assert_contains "$(ctl --json=short host-stats)" '"memory_total_bytes":' "host-stats --json has the host's memory"

# A VM from a spec file, one from stdin, one from domain XML.
echo '{"name":"web1","type":"test","memory_mib":512,"vcpus":2,"start":true}' > "$T/web1.json"
ctl_run create "$T/web1.json"; out=$OUT
assert_eq 0 "$CTL_RC" "create FILE exits 0"
assert_eq "$(vm_path_of web1)" "$out" "create prints the new VM's path"
echo '{"name":"web2","type":"test","memory_mib":256}' | ctl_run create -; out=$OUT
assert_eq "$(vm_path_of web2)" "$out" "create - reads the spec from stdin"
cat > "$T/x1.xml" <<XML
<domain type='test'><name>x1</name><uuid>11111111-2222-3333-4444-555555555555</uuid>
<memory unit='MiB'>128</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>
XML
ctl_run create-xml "$T/x1.xml"; out=$OUT
assert_eq "$(vm_path 11111111-2222-3333-4444-555555555555)" "$out" "create-xml defines the VM and prints its path"
echo '{"name":"bad","type":"test","memory_mib":512,"disks":[{"path":"/x.img","bus":"usb"}]}' | ctl_run create -; out=$OUT
assert_eq 1 "$CTL_RC" "a bad spec exits 1"
assert_eq "hostagentctl: bad: cannot create the VM: disks[0].bus: must be one of virtio, sata, scsi, ide (InvalidSpec)" "$out" \
        "and says, in one line naming the VM, which field is wrong"
echo 'not json' > "$T/nj.json"
ctl_run create "$T/nj.json"
assert_contains "$OUT" "hostagentctl: $T/nj.json: cannot create the VM: spec: " "a spec that is not JSON: the line names its file"
ctl_run create "$T/missing.json"; out=$OUT
assert_eq 1 "$CTL_RC" "a missing spec file exits 1"
assert_contains "$out" "hostagentctl: $T/missing.json: cannot read it: No such file or directory" "and says so"

# list: the JSON is ListVMs' answer; the table has a header and a line per VM.
busctl_json call org.hostagent1 /org/hostagent1 org.hostagent1.Manager ListVMs > "$T/list.bus"
ctl --json list > "$T/list.ctl"
assert_eq "same" "$(/usr/bin/python3 -c "
import json
bus = sorted(map(tuple, json.load(open('$T/list.bus'))[0]))
ctl = sorted((v['path'], v['uuid'], v['name'], v['state']) for v in json.load(open('$T/list.ctl'))['vms'])
print('same' if bus == ctl else (bus, ctl))")" "list --json has ListVMs' paths, UUIDs, names and states"
assert_eq "536870912 2" "$(json_py '[(v["memory_bytes"], v["vcpus"]) for v in d["vms"] if v["name"] == "web1"][0]' <<<"$(cat "$T/list.ctl")" | tr -d '(),')" \
        "list --json: web1's memory in bytes and its VCPUs"
ctl_run list; out=$OUT
assert_eq "NAME STATE REASON VCPUS MEMORY UUID" "$(head -1 <<<"$out" | tr -s ' ')" "list prints a header"
assert_contains "$(tr -s ' ' <<<"$out")" "web1 running booted 2 512M" "list: web1 running, 2 VCPUs, 512M"
assert_eq 5 "$(wc -l <<<"$out")" "a line for each of the 4 VMs"
ctl_run --no-legend list; out=$OUT
assert_eq 4 "$(wc -l <<<"$out")" "list --no-legend: no header"
assert_not_contains "$out" "NAME" "and no column names"

# show: by name, UUID or path; the JSON is the VM's properties.
W1=$(vm_path_of web1)
ctl_run show web1; out=$OUT
assert_contains "$out" "State: running" "show: the state"
assert_contains "$out" "Memory: 512M" "show: the memory with its unit"
ctl_run --json=short show "$(busctl --system get-property org.hostagent1 "$W1" org.hostagent1.VM UUID | cut -d'"' -f2)"; json=$OUT
assert_eq "web1 $W1 running 2" "$(json_py '" ".join(map(str, (d["name"], d["path"], d["state"], d["vcpus"])))' <<<"$json")" \
        "show --json by UUID: name, path, state, VCPUs"
assert_eq "$(busctl --system get-property org.hostagent1 "$W1" org.hostagent1.VM Spec | cut -c3-)" \
        "$(json_py 'json.dumps(d["spec"])' <<<"$json")" "show --json: the Spec as the bus has it"
assert_eq "False True" "$(json_py 'd["autostart"], d["persistent"]' <<<"$json" | tr -d '(),')" \
        "show --json: Autostart false and Persistent true, as JSON booleans"
assert_eq "web1" "$(ctl --json=short show "$W1" | json_py 'd["name"]')" "show by object path"
# guest-info, freeze: a test-driver VM made from a spec has the agent channel, and no agent on it.
ctl_run guest-info web1
assert_contains "$CTL_RC $OUT" "0 Guest agent: disconnected" "guest-info: the channel, no agent connected"
ctl_run freeze web1
assert_eq "1 hostagentctl: web1: cannot freeze its filesystems: its guest agent is not connected (GuestAgentUnavailable)" \
        "$CTL_RC $OUT" "freeze without a connected agent exits 1, saying why"
assert_eq 4 "$(ctl_rc thaw nosuch)" "thaw of a VM that does not exist exits 4"

# The actions: exit 0 and the state the bus shows; refusals in one line, exit 1; no such VM, exit 4.
assert_eq 0 "$(ctl_rc pause web1)" "pause exits 0"
assert_eq 's "paused"' "$(vm_prop "$W1" State)" "the VM is paused"
ctl_run pause web1; out=$OUT
assert_eq 1 "$CTL_RC" "pausing a paused VM exits 1"
assert_eq "hostagentctl: web1: cannot pause: the VM is already paused (InvalidState)" "$out" "with the agent's reason in one line"
ctl_run resume web1 nosuch; out=$OUT
assert_eq 4 "$CTL_RC" "resume of a VM that does not exist exits 4"
assert_eq "hostagentctl: nosuch: no such VM (NoSuchVM)" "$out" "and names it"
assert_eq 's "running"' "$(vm_prop "$W1" State)" "the other VM named was still resumed"
ctl_run start /org/hostagent1/vm/nosuch; out=$OUT
assert_eq 4 "$CTL_RC" "a path with no VM behind it exits 4"
assert_eq "hostagentctl: /org/hostagent1/vm/nosuch: cannot start: no such VM (UnknownObject)" "$out" "and says so"
ctl_run pause web2; out=$OUT
assert_eq "hostagentctl: web2: cannot pause: the VM is not running (InvalidState)" "$out" "pause of a VM that is off"
assert_eq 0 "$(ctl_rc start web2 x1)" "start of two VMs"
assert_eq 's "running"' "$(vm_prop "$(vm_path_of x1)" State)" "x1 runs"
assert_eq 0 "$(ctl_rc destroy x1)" "destroy"
assert_eq 0 "$(ctl_rc undefine x1)" "undefine"
assert_eq 4 "$(ctl_rc show x1)" "an undefined VM is no more: exit 4"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$HOSTAGENTCTL" --no-ask-password pause web1 2>&1)
assert_eq 1 "$?" "an unprivileged pause exits 1"
assert_contains "$out" "hostagentctl: web1: cannot pause: " "and says why in one line"
assert_contains "$out" "(AccessDenied)" "naming the error"
ctl_run bogus; out=$OUT
assert_eq "1 hostagentctl: bogus: unknown command (see --help)" "$CTL_RC $out" "an unknown command exits 1"
ctl_run show; out=$OUT
assert_contains "$out" "too few arguments; usage: hostagentctl show VM" "a command without its arguments shows its usage"
assert_contains "$(ctl shutdown -h)" "hostagentctl [OPTIONS...] shutdown VM [--timeout=SEC]" "-h after a command is its help"
assert_contains "$(ctl --help)" "console-ticket" "--help lists the commands"
assert_contains "$(ctl --version)" "hostagentctl " "--version"

# shutdown: on the test driver the guest goes down at once; the job is waited for.
ctl_run shutdown web2 --timeout=30; out=$OUT
assert_eq 0 "$CTL_RC" "shutdown exits 0 once the job is done"
assert_contains "$out" ": done" "and says the job is done"
assert_eq 's "shutoff"' "$(vm_prop "$(vm_path_of web2)" State)" "the VM is off"
assert_contains "$(ctl jobs | tr -s ' ')" "shutdown finished 100 done VM web2" "jobs: the shutdown, done, its VM by name"
ctl_run shutdown web1 --no-wait; out=$OUT
assert_contains "$out" "/org/hostagent1/job/" "shutdown --no-wait prints the job's path at once"
JOB=$out
busctl_json get-property org.hostagent1 "$JOB" org.hostagent1.Job Type >/dev/null
ctl_run --json=short jobs; json=$OUT
assert_eq "$JOB shutdown $(vm_path_of web1)" "$(json_py '[" ".join((v["path"], v["type"], v["object"])) for v in d["jobs"] if v["path"] == "'"$JOB"'"][0]' <<<"$json")" \
        "jobs --json: the job's path, type and VM"
assert_eq "$(busctl --system get-property org.hostagent1 "$JOB" org.hostagent1.Job Result | cut -d'"' -f2)" \
        "$(json_py '[v["result"] for v in d["jobs"] if v["path"] == "'"$JOB"'"][0]' <<<"$json")" "and its result as the bus has it"
ctl_run wait "${JOB##*/}"; out=$OUT
assert_eq 0 "$CTL_RC" "wait on a finished job by number exits 0"
assert_eq 4 "$(ctl_rc wait 99999)" "wait on a job that does not exist exits 4"
ctl_run console-ticket web2; out=$OUT
assert_eq "hostagentctl: web2: cannot set a console ticket: the VM is not running (InvalidState)" "$out" \
        "console-ticket on a VM that is off"

# stats: every VM of GetAllVMStats, by path; one VM's in full.
ctl start web1 >/dev/null
ctl_run --json=short stats; json=$OUT
assert_eq "$(busctl --system call org.hostagent1 /org/hostagent1 org.hostagent1.Manager GetAllVMStats | grep -o '"/org/hostagent1/vm/[^"]*"' | tr -d '"' | sort | tr '\n' ' ')" \
        "$(json_py '" ".join(sorted(v["path"] for v in d["stats"])) + " "' <<<"$json")" "stats --json has every VM GetAllVMStats has"
assert_contains "$(ctl stats web1)" "state.state: 1" "stats VM shows libvirt's statistics by name"

mkdir -p "$T/pool1"
ctl create-pool - <<<"{\"name\":\"pool1\",\"type\":\"dir\",\"path\":\"$T/pool1\"}" >/dev/null

# Colours on a terminal, plain when piped.
out=$(script -qec "$HOSTAGENTCTL list" /dev/null)
assert_contains "$out" $'\e[32mrunning' "on a terminal, running is green"
ctl pause web1 >/dev/null
out=$(script -qec "$HOSTAGENTCTL list" /dev/null)
assert_contains "$out" "33mpaused" "and paused yellow"
ctl_run list; out=$OUT
assert_not_contains "$out" $'\e[' "piped, no escape sequences"

# On a terminal calls allow interactive authorization (polkit may ask the person), as
# systemctl's do; not with --no-ask-password, and not when stdin is no terminal.
bus_monitor_start "$T/auth.log" busctl --system monitor org.hostagent1
script -qec "$HOSTAGENTCTL resume web1" /dev/null >/dev/null
script -qec "$HOSTAGENTCTL --no-ask-password pause web1" /dev/null >/dev/null
"$HOSTAGENTCTL" resume web1 </dev/null
bus_monitor_stop
flags() { grep -B1 "Member=$1\$" "$T/auth.log" | grep -o 'Flags=[0-9]*' | paste -sd' '; }
assert_eq "Flags=4 Flags=0" "$(flags Resume)" "a call from a terminal allows interactive authorization (flag 4), one from a pipe not"
assert_eq "Flags=0" "$(flags Pause)" "nor one with --no-ask-password"

# Bash completion, installed where bash-completion's pkg-config file says, completing through
# compgen with the installed hostagentctl: commands, options, and VM names asked of the agent.
DESTDIR="$T/inst" cmake --install "$HOSTAGENT_BUILD_DIR" >/dev/null
COMPLETION="$T/inst$(pkg-config --variable=completionsdir bash-completion)/hostagentctl"
[ -f "$COMPLETION" ] && ok "the completion is installed to bash-completion's completionsdir" || fail "no $COMPLETION"
complete_words() {   # WORDS...: what the completion offers for the last word, one per line, sorted
        PATH="$T/inst/usr/local/bin:$PATH" bash -c '
                source /usr/share/bash-completion/bash_completion 2>/dev/null
                source "$1"; shift
                COMP_WORDS=(hostagentctl "$@"); COMP_CWORD=$#
                _hostagentctl 2>/dev/null; printf "%s\n" "${COMPREPLY[@]}"' _ "$COMPLETION" "$@" | sort | paste -sd' '
}
assert_eq "pause" "$(complete_words pa)" "a command"
assert_eq "test web1 web2" "$(complete_words pause '')" "pause offers the live VM names"
assert_eq "web1 web2" "$(complete_words start web1 w)" "start offers them for every argument"
assert_eq "--json=" "$(complete_words --js)" "an option"
assert_eq "--timeout=" "$(complete_words shutdown web1 --ti)" "shutdown's own option"
assert_eq "pool1" "$(complete_words volumes '')" "volumes offers the pools"
assert_eq "test web1 web2" "$(complete_words freeze '')" "freeze (and guest-info, thaw) offers the VM names"
helped=$(ctl --help | sed -n '/^Commands:/,/^$/p' | grep -E '^  [a-z]' | awk '{print $1}' | sort | paste -sd' ')
assert_eq "$helped" "$(complete_words '')" "every command of --help, and only those, is completed"

daemon_stop && ok "the daemon exits cleanly" || fail "daemon exit status"
fixture_finish
