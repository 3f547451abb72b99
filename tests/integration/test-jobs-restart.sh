# Jobs across a restart of the agent (kill -9): a shutdown's deadline is kept
# by the next agent, which publishes the job again (same path, JobNew) and
# forces the guest off once the deadline passes, or reports "done" when the
# guest is off already; a copy cut short is reported once as "interrupted".
# Guests are real QEMU processes with no OS, which never answer ACPI.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/vm.sh"
set +e

libvirtd_start
bus_start
VIRSH="virsh -q -c $LIBVIRT_QEMU_URI"
$VIRSH list --all >/dev/null || { fail "libvirtd's QEMU driver does not answer"; fixture_finish; exit 1; }
STARTARGS=(--libvirt-uri="$LIBVIRT_QEMU_URI" --run-dir="$T/run")
# Copies read their source at 1 MiB/s, so one is still running when the test kills the agent.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/slow-qemu-img.sh"
slow_qemu_img_install "$T/bin"
agent_start() {
        PATH="$T/bin:$PATH" daemon_start "${STARTARGS[@]}" &&
        wait_until 60 sh -c 'busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | grep -q true'
}
# kill -9 of the agent and of the children it made (qemu-img), by PID.
agent_kill() {
        local children
        children=$(ps -o pid= --ppid "$DAEMON_PID")
        kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
        for pid in $children; do kill -KILL "$pid" 2>/dev/null; done
        wait_until 10 sh -c '! busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus NameHasOwner s org.hostagent1 | grep -q true'
}
agent_start || { fail "the agent did not start"; fixture_finish; exit 1; }

# Every Manager and ObjectManager signal, whoever owns the name: the monitor outlives the agents.
bus_monitor_start "$T/signals" dbus-monitor --system "type='signal',interface='org.hostagent1.Manager'" \
        "type='signal',interface='org.freedesktop.DBus.Properties',path='/org/hostagent1'" \
        "type='signal',interface='org.freedesktop.DBus.ObjectManager'"
# job_signals MEMBER [FROM_LINE]: "PATH [RESULT]" for each MEMBER signal, from line FROM_LINE of the log.
job_signals() {
        tail -n +"${2:-1}" "$T/signals" | awk -v member="member=$1" '
                index($0, member) { want = 1; path = ""; next }
                want && /object path/ { gsub(/"/, "", $3); path = $3; if (member == "member=JobNew") { print path; want = 0 }; next }
                want && /string/ { gsub(/"/, "", $2); print path " " $2; want = 0 }'
}
has_job_signal() { job_signals "$1" "$2" | grep -qx "$3"; }
signals_mark() { wc -l < "$T/signals"; }
# Ready turning true is sent after whatever a start reports about jobs.
ready_after() { tail -n +"$1" "$T/signals" | grep -q '"Ready"'; }
job_id() { echo "${1##*/}"; }

out=$(busctl --system call org.hostagent1 /org/hostagent1 org.hostagent1.Manager CreateVM s \
        '{"name":"g1","type":"qemu","memory_mib":128,"vcpus":1,"start":true}' 2>&1)
G1=$(awk '{print $2}' <<<"$out" | tr -d '"')
assert_eq 's "running"' "$(vm_prop "$G1" State)" "a real QEMU guest with no OS runs"

# 1. Shutdown(timeout), then kill -9: the next agent forces the guest off.
JOB=$(busctl --system call org.hostagent1 "$G1" org.hostagent1.VM Shutdown u 8 2>&1 | awk '{print $2}' | tr -d '"')
assert_contains "$JOB" "/org/hostagent1/job/" "Shutdown(8) returns a job"
agent_kill
assert_eq "running" "$($VIRSH domstate g1)" "the guest still runs once the agent is killed"
mark=$(signals_mark)
agent_start
assert_eq 's "shutdown"' "$(job_prop "$JOB" Type)" "the next agent publishes the job again, at the same path"
assert_eq "o \"$G1\"" "$(job_prop "$JOB" Object)" "on the same VM"
assert_contains "$(job_signals JobNew "$mark")" "$JOB" "with JobNew"
wait_until 60 has_job_signal JobRemoved "$mark" "$JOB forced" \
        && ok "once the deadline passes: JobRemoved($JOB, forced)" \
        || fail "no JobRemoved($JOB, forced) after the restart: $(job_signals JobRemoved "$mark")"
assert_eq "shut off" "$($VIRSH domstate g1)" "the guest is off"
assert_eq 's "forced"' "$(job_prop "$JOB" Result)" "the job's Result is forced"
assert_eq 's "shutoff"' "$(vm_prop "$G1" State)" "and the VM's State shutoff"

# 2. The guest stopped while no agent ran: the job ends "done".
$VIRSH start g1 >/dev/null
wait_until 20 sh -c "busctl --system get-property org.hostagent1 $G1 org.hostagent1.VM State | grep -q running"
JOB2=$(busctl --system call org.hostagent1 "$G1" org.hostagent1.VM Shutdown u 3600 2>&1 | awk '{print $2}' | tr -d '"')
assert_contains "$JOB2" "/org/hostagent1/job/" "Shutdown(3600) returns a job"
agent_kill
$VIRSH destroy g1 >/dev/null
mark=$(signals_mark)
agent_start
wait_until 30 has_job_signal JobRemoved "$mark" "$JOB2 done" \
        && ok "a guest off by the restart: JobRemoved($JOB2, done)" \
        || fail "no JobRemoved($JOB2, done) after the restart: $(job_signals JobRemoved "$mark")"
assert_contains "$(job_signals JobNew "$mark")" "$JOB2" "after the job was published again"
assert_eq 's "done"' "$(job_prop "$JOB2" Result)" "its Result is done"

# 3. A copy cut short: reported once, "interrupted", after the restart.
pool_dir="$T/pools/p1"
P=/org/hostagent1/storage/p1
out=$(gdbus call --system -d org.hostagent1 -o /org/hostagent1 -m org.hostagent1.Manager.CreateStoragePool \
        "$(gv_string "{\"name\":\"p1\",\"type\":\"dir\",\"path\":\"$pool_dir\"}")" 2>&1)
assert_contains "$out" "'$P'" "a dir pool"
out=$(gdbus call --system -d org.hostagent1 -o "$P" -m org.hostagent1.StoragePool.CreateVolume big 1073741824 raw {} 2>&1)
assert_contains "$out" "'$P/big'" "a 1 GiB volume"
dd if=/dev/urandom of="$pool_dir/big" bs=1M count=32 conv=notrunc status=none
CJOB=$(gdbus call --system -d org.hostagent1 -o "$P/big" -m org.hostagent1.Volume.Clone copy 2>&1 | grep -o "/org/hostagent1/job/[0-9]*")
assert_contains "$CJOB" "/org/hostagent1/job/" "Clone returns a job"
assert_eq 's "running"' "$(job_prop "$CJOB" State)" "the copy runs"
agent_kill
mark=$(signals_mark)
agent_start
wait_until 30 has_job_signal JobRemoved "$mark" "$CJOB interrupted" \
        && ok "after the restart: JobRemoved($CJOB, interrupted)" \
        || fail "no JobRemoved($CJOB, interrupted) after the restart: $(job_signals JobRemoved "$mark")"
assert_eq 's "interrupted"' "$(job_prop "$CJOB" Result)" "the job's Result says so"
assert_eq 's "finished"' "$(job_prop "$CJOB" State)" "and it is finished"
assert_contains "$(job_prop "$CJOB" Error)" "org.hostagent1.Error.Failed: the agent stopped while the job ran" \
        "its Error says why"
assert_eq "" "$(job_signals JobNew "$mark" | grep -x "$CJOB")" "an interrupted job is not announced as new"
# Job ids go on: a new job never takes the path of an earlier one.
$VIRSH start g1 >/dev/null
wait_until 20 sh -c "busctl --system get-property org.hostagent1 $G1 org.hostagent1.VM State | grep -q running"
JOB3=$(busctl --system call org.hostagent1 "$G1" org.hostagent1.VM Shutdown u 1 2>&1 | awk '{print $2}' | tr -d '"')
[ "$(job_id "$JOB3")" -gt "$(job_id "$CJOB")" ] 2>/dev/null \
        && ok "a job made after the restart has a new id ($JOB3)" || fail "job id reused: $JOB3 after $CJOB"
wait_until 60 sh -c "busctl --system get-property org.hostagent1 $JOB3 org.hostagent1.Job Result | grep -q forced"
# Once: a later start reports nothing again.
daemon_stop; rc=$?
assert_eq 0 "$rc" "SIGTERM ends the agent with status 0"
mark=$(signals_mark)
agent_start
wait_until 30 ready_after "$mark" || fail "no Ready signal after the start"
assert_eq "" "$(job_signals JobRemoved "$mark")" "the next start reports no job again"
assert_not_contains "$(busctl --system tree org.hostagent1)" "$CJOB" "nor publishes it"

# 4. A graceful restart (SIGTERM) carries a shutdown on as well.
$VIRSH start g1 >/dev/null
wait_until 20 sh -c "busctl --system get-property org.hostagent1 $G1 org.hostagent1.VM State | grep -q running"
JOB4=$(busctl --system call org.hostagent1 "$G1" org.hostagent1.VM Shutdown u 3600 2>&1 | awk '{print $2}' | tr -d '"')
daemon_stop; rc=$?
assert_eq 0 "$rc" "SIGTERM during a shutdown job ends the agent with status 0"
mark=$(signals_mark)
agent_start
assert_contains "$(job_signals JobNew "$mark")" "$JOB4" "after SIGTERM too, the next agent publishes the job again"
assert_eq 's "running"' "$(job_prop "$JOB4" State)" "still running"
assert_eq "()" "$(gdbus call --system -d org.hostagent1 -o "$JOB4" -m org.hostagent1.Job.Cancel 2>&1)" \
        "and it can be cancelled there"
assert_eq 's "cancelled"' "$(job_prop "$JOB4" Result)" "its Result is cancelled"

# 5. A state directory that cannot be written: Shutdown fails, saying why, and its job with it.
fixture_on_exit "chattr -i '$T/state'"
chattr +i "$T/state"
mark=$(signals_mark)
out=$(gdbus call --system -d org.hostagent1 -o "$G1" -m org.hostagent1.VM.Shutdown 1 2>&1)
chattr -i "$T/state"
assert_contains "$out" "org.hostagent1.Error.Failed" "Shutdown with an immutable state directory is Failed"
assert_contains "$out" "$T/state/jobs.json" "naming the file"
JOB5=$(job_signals JobNew "$mark" | tail -1)
wait_until 10 has_job_signal JobRemoved "$mark" "$JOB5 failed" \
        && ok "its job ends failed" || fail "no JobRemoved($JOB5, failed): $(job_signals JobRemoved "$mark")"
assert_eq "running" "$($VIRSH domstate g1)" "the guest runs on"
# Clone too: the copy starts only once its job is recorded, so nothing of it
# is made, not even for a moment (a watch on the pool's directory).
out=$(gdbus call --system -d org.hostagent1 -o "$P" -m org.hostagent1.StoragePool.CreateVolume small 1048576 raw {} 2>&1)
assert_contains "$out" "'$P/small'" "a 1 MiB volume"
python3 "$HOSTAGENT_SOURCE_DIR/tests/lib/dir-watch.py" "$pool_dir" "$T/made" &
fixture_track $!
wait_until 10 test -e "$T/made.ready" || fail "the pool directory is not watched"
chattr +i "$T/state"
mark=$(signals_mark)
out=$(gdbus call --system -d org.hostagent1 -o "$P/small" -m org.hostagent1.Volume.Clone copy2 2>&1)
chattr -i "$T/state"
assert_contains "$out" "org.hostagent1.Error.Failed" "Clone with an immutable state directory is Failed"
assert_contains "$out" "$T/state/jobs.json" "naming the file"
CJOB5=$(job_signals JobNew "$mark" | tail -1)
wait_until 10 has_job_signal JobRemoved "$mark" "$CJOB5 failed" \
        && ok "its job ends failed" || fail "no JobRemoved($CJOB5, failed): $(job_signals JobRemoved "$mark")"
assert_eq "" "$(ls "$pool_dir" | grep copy2)" "no copy2 is there"
assert_not_contains "$(busctl --system tree org.hostagent1)" "$P/copy2" "nor published"
assert_eq 0 "$(tail -n +"$mark" "$T/signals" | grep -c "$P/copy2")" "no InterfacesAdded for it"
# The same Clone once the state directory can be written: taken (the name is
# free), and what the watch saw in all is this one copy: its partial file,
# renamed to copy2. A copy begun by the first call shows as more.
assert_contains "$(gdbus call --system -d org.hostagent1 -o "$P/small" -m org.hostagent1.Volume.Clone copy2 2>&1)" \
        "/org/hostagent1/job/" "once the state directory can be written, the same Clone is taken"
wait_until 30 grep -qx copy2 "$T/made" && ok "and copy2 is made" || fail "copy2 was not made"
assert_eq 2 "$(grep -c . "$T/made")" "the pool saw one copy made, not two: $(paste -sd' ' "$T/made")"

# 7. The agent killed after the job is recorded, before the guest is asked:
# the next agent asks it (a guest with no OS never shows it was asked, so a
# test-only library preloaded into the agents, tests/hold-domain-read.c,
# logs each request, and holds the first agent's until it is killed).
daemon_stop; rc=$?
assert_eq 0 "$rc" "SIGTERM ends the agent with status 0"
: "${HOLD_DOMAIN_READ:?HOLD_DOMAIN_READ must name the hold-domain-read library}"
preload=$HOLD_DOMAIN_READ
asan=$(ldd "$HOSTAGENTD" | awk '/libasan/ {print $3}')
[ -n "$asan" ] && preload="$asan $preload"
GATE=$T/hold-gate
DAEMON_PREFIX=(env LD_PRELOAD="$preload" HOLD_READ_UUID="$($VIRSH domuuid g1)" HOLD_READ_GATE="$GATE"
               HOLD_SHUTDOWN_LOG="$T/asked")
echo shutdown > "$GATE"
agent_start || fail "the agent did not start with the library preloaded"
JOB7=$(busctl --system call org.hostagent1 "$G1" org.hostagent1.VM Shutdown u 3600 2>&1 | awk '{print $2}' | tr -d '"')
assert_contains "$JOB7" "/org/hostagent1/job/" "Shutdown(3600) returns a job"
wait_until 20 test -e "$GATE.held" && ok "its request to the guest is held" || fail "the request was not held"
agent_kill
rm -f "$GATE" "$GATE.held"
assert_eq "" "$(cat "$T/asked" 2>/dev/null)" "the killed agent never asked the guest"
mark=$(signals_mark)
agent_start
assert_contains "$(job_signals JobNew "$mark")" "$JOB7" "the next agent publishes the job again"
wait_until 30 grep -qx "$($VIRSH domuuid g1)" "$T/asked" \
        && ok "and asks the guest to shut down" || fail "the next agent never asked the guest to shut down"
assert_eq "()" "$(gdbus call --system -d org.hostagent1 -o "$JOB7" -m org.hostagent1.Job.Cancel 2>&1)" \
        "the job can be cancelled then"
# Asking again fails there (the guest cannot take the request): the deadline
# promised before the restart is kept all the same.
echo shutdown > "$GATE"
JOB8=$(busctl --system call org.hostagent1 "$G1" org.hostagent1.VM Shutdown u 10 2>&1 | awk '{print $2}' | tr -d '"')
assert_contains "$JOB8" "/org/hostagent1/job/" "Shutdown(10) returns a job"
wait_until 20 test -e "$GATE.held" || fail "the request was not held"
agent_kill
echo shutdown-fails > "$GATE"
mark=$(signals_mark)
agent_start
wait_until 60 has_job_signal JobRemoved "$mark" "$JOB8 forced" \
        && ok "the next agent cannot ask the guest, and forces it off at the deadline: JobRemoved($JOB8, forced)" \
        || fail "no JobRemoved($JOB8, forced): $(job_signals JobRemoved "$mark")"
assert_eq "shut off" "$($VIRSH domstate g1)" "the guest is off"
rm -f "$GATE" "$GATE.held"
$VIRSH start g1 >/dev/null
wait_until 20 sh -c "busctl --system get-property org.hostagent1 $G1 org.hostagent1.VM State | grep -q running"
DAEMON_PREFIX=()

# 6. A record from an earlier boot of the host, with entries that make no
# sense: nothing of it is carried on (the guest is not forced off), its jobs
# are reported interrupted, the nonsense is skipped, and the agent serves.
daemon_stop; rc=$?
assert_eq 0 "$rc" "SIGTERM ends the agent with status 0"
uuid=$($VIRSH domuuid g1)
cat > "$T/state/jobs.json" <<JSON
{"boot_id": "00000000-0000-0000-0000-000000000000", "next_id": 40,
 "jobs": [{"id": 30, "type": "shutdown", "object": "$G1", "resume": {"uuid": "$uuid", "deadline_usec": 0}},
          {"id": 31, "type": "clone", "object": "not a path"},
          {"id": 4294967296, "type": "clone", "object": "/org/hostagent1"},
          {"id": 32, "type": "Bad Type", "object": "/org/hostagent1"},
          "not an object", {"id": 30, "type": "clone", "object": "/org/hostagent1"}]}
JSON
mark=$(signals_mark)
agent_start
wait_until 30 ready_after "$mark" || fail "no Ready signal after the start"
assert_eq "/org/hostagent1/job/30 interrupted" "$(job_signals JobRemoved "$mark")" \
        "a job of an earlier boot is reported interrupted, and only the valid entry is"
assert_contains "$(job_prop /org/hostagent1/job/30 Error)" "the host restarted while the job ran" "its Error says why"
assert_eq "running" "$($VIRSH domstate g1)" "the guest of its shutdown is not forced off"
JOB6=$(busctl --system call org.hostagent1 "$G1" org.hostagent1.VM Shutdown u 1 2>&1 | awk '{print $2}' | tr -d '"')
assert_eq "/org/hostagent1/job/40" "$JOB6" "the next job takes the recorded next id"

daemon_stop; rc=$?
assert_eq 0 "$rc" "SIGTERM ends it with status 0"
grep -E "runtime error|ERROR: AddressSanitizer" "$T/daemon.log" && fail "the sanitizers reported errors"
fixture_finish
