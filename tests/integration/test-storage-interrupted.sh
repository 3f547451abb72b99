# Volumes made by a process that dies half-way: the agent and its qemu-img
# killed with SIGKILL in the middle of Volume.Clone or CreateVolume (as
# systemd's cgroup kill does after a crash or a stop timeout) leave no
# volume, only a hidden leftover that the next start removes; the agent
# killed alone takes its qemu-img with it. The tests' slow qemu-img, first
# in the agent's PATH, keeps the work running when the kill comes.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/storage.sh"
set +e

source "$HOSTAGENT_SOURCE_DIR/tests/lib/slow-qemu-img.sh"
slow_qemu_img_install "$T/bin"

bus_start
STARTARGS=(--libvirt-uri=test:///default --run-dir="$T/run" --storage-check-interval=1)
start() { PATH="$T/bin:$PATH" daemon_start "${STARTARGS[@]}"; }
start
B="busctl --system"
P=/org/hostagent1/storage/pool1
D=$T/pool
pool() { pool_call "$P" "$@"; }
vol() { vol_call "$P" "$@"; }
vprop() { vol_prop "$P" "$@"; }
pool_active() { $B get-property org.hostagent1 $P org.hostagent1.StoragePool State | grep -q '"active"'; }
name_free() { ! name_owned; }
# Gone, or a zombie nobody reaped yet.
process_gone() { ! kill -0 "$1" 2>/dev/null || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
# helper_running WORD: a child of the agent running "qemu-img WORD" (QPID), and data written by it somewhere in the pool.
helper_running() {
        local pid f
        QPID=
        for pid in $(ps -o pid= --ppid "$DAEMON_PID"); do
                tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "qemu-img $1 " && QPID=$pid
        done
        [ -n "$QPID" ] || return 1
        # Not the source, and not the file another host is writing: that one has data from the start.
        for f in "$D"/* "$D"/.[!.]*; do
                case "$f" in "$D/src" | "$D"/.hostagent-partial.otherhost.*) continue ;; esac
                [ -f "$f" ] && [ "$(stat -c %b "$f")" -gt 0 ] && return 0
        done
        return 1
}
# The files in the pool but the one another host is writing (below).
files() { ls -A "$D" | grep -v '^\.hostagent-partial\.otherhost\.' | paste -sd' '; }
# restart: the agent, killed before, starts again; its pool is checked.
restart() {
        wait "$DAEMON_PID" 2>/dev/null
        [ "$(files | wc -w)" -gt 1 ] && ok "the kill left a file behind" || fail "the kill left nothing to clean"
        wait_until 10 name_free
        start
        wait_until 30 pool_active
}

gdbus call --system -d org.hostagent1 -o /org/hostagent1 -m org.hostagent1.Manager.CreateStoragePool \
        "$(gv_string "{\"name\":\"pool1\",\"type\":\"dir\",\"path\":\"$D\"}")" >/dev/null
# 4 GiB, with data in the first 64 MiB: at 1 MiB/s qemu-img prints its next
# percent only after 41 s, so a helper that outlives the agent does not die
# early of a broken pipe.
assert_contains "$(pool CreateVolume src 4294967296 raw {})" "'$P/src'" "CreateVolume src"
dd if=/dev/urandom of="$D/src" bs=1M count=64 conv=notrunc status=none
# A copy another host sharing the storage is making: not this agent's to remove.
echo data > "$D/.hostagent-partial.otherhost.copy9"

# The agent and its qemu-img killed together in the middle of a copy.
job=$(vol src Clone copy1 | grep -o "/org/hostagent1/job/[0-9]*")
assert_contains "$job" "/org/hostagent1/job/" "Clone src to copy1 returns a job"
wait_until 60 helper_running convert || fail "no qemu-img convert writing into the pool"
assert_contains "$(tr '\0' ' ' < "/proc/$QPID/cmdline")" "throttle-group" "the copy runs through the test's slow qemu-img"
kill -KILL "$DAEMON_PID" "$QPID"
restart
assert_contains "$(vprop copy1 Name)" "nknown object" "a copy cut short is not published after a restart"
assert_not_contains "$($B tree org.hostagent1)" "copy1" "nor is any object for it"
assert_eq "src" "$(files)" "and what it left in the pool is gone"

# The same for a volume whose creation never finished.
pool CreateVolume slowcreate 1048576 raw "{'preallocation': <'full'>}" > "$T/create-reply" &
wait_until 60 helper_running create || fail "no qemu-img create in the pool"
kill -KILL "$DAEMON_PID" "$QPID"
restart
assert_contains "$(vprop slowcreate Name)" "nknown object" "a creation cut short is not published after a restart"
assert_eq "src" "$(files)" "and what it left in the pool is gone"

# The agent alone killed: its qemu-img does not go on writing.
job=$(vol src Clone copy2 | grep -o "/org/hostagent1/job/[0-9]*")
wait_until 60 helper_running convert || fail "no qemu-img convert writing into the pool"
helper=$QPID
kill -KILL "$DAEMON_PID"
if wait_until 10 process_gone "$helper"; then
        ok "qemu-img ($helper) ends with the agent"
else
        fail "qemu-img ($helper) still runs after the agent was killed"
        kill -KILL "$helper"
fi
restart
assert_contains "$(vprop copy2 Name)" "nknown object" "its copy is not published by the next agent"
assert_eq "src" "$(files)" "and what it left is gone"

# Nothing in the way of the real thing afterwards: a copy through the real
# qemu-img (the slow one is gone from the PATH) becomes a volume.
daemon_stop || fail "hostagentd exited with an error"
rm "$T/bin/qemu-img"
start
wait_until 30 pool_active
truncate -s 64M "$D/src"
pool Refresh >/dev/null
job=$(vol src Clone copy3 | grep -o "/org/hostagent1/job/[0-9]*")
wait_until 60 sh -c "$B get-property org.hostagent1 $job org.hostagent1.Job State | grep -q finished"
assert_eq 's "done"' "$($B get-property org.hostagent1 "$job" org.hostagent1.Job Result)" "a copy that runs to its end is done"
assert_eq 't 67108864' "$(vprop copy3 CapacityBytes)" "and is a volume"
cmp -s "$D/src" "$D/copy3" && ok "with the same data" || fail "copy3 differs from src"
assert_eq "copy3 src" "$(files)" "with nothing else left in the pool"
[ -f "$D/.hostagent-partial.otherhost.copy9" ] && ok "what another host is making was left alone" ||
        fail "a restart removed another host's copy in progress"

# A start removes what this host left half-made before any call can make a volume in the pool
# (its file is named as those leftovers are): while the first check's removal runs (held by a test
# failpoint), a Refresh finds the pool active, but CreateVolume is refused as Busy until it ends.
daemon_stop || fail "hostagentd exited with an error"
id=$(tr -cd 'A-Za-z0-9_-' < /etc/machine-id 2>/dev/null)
[ -n "$id" ] || id=$(hostname | tr -cd 'A-Za-z0-9_-')
echo data > "$D/.hostagent-partial.$id.left"
HOSTAGENT_STORAGE_CHECK_CLEAN_HOLD="$T/clean-go" start
assert_eq "()" "$(pool Refresh)" "Refresh while the start removes what was left half-made"
wait_until 10 pool_active || fail "the Refresh did not make the pool active"
out=$(pool CreateVolume early 1048576 raw {})
assert_contains "$out" "org.hostagent1.Error.Busy" "CreateVolume meanwhile is refused as Busy"
assert_contains "$out" "left half-made in it is being removed" "saying why"
touch "$T/clean-go"
for i in $(seq 100); do
        out=$(pool CreateVolume early 1048576 raw {})
        [[ $out == *"'$P/early'"* ]] && break
        sleep 0.1
done
assert_contains "$out" "'$P/early'" "and succeeds once the removal has ended"
[ -f "$D/.hostagent-partial.$id.left" ] && fail "the leftover is still there" || ok "the leftover is gone"
assert_eq "early" "$(vprop early Name | grep -o early)" "the new volume is there"

daemon_stop && ok "hostagentd exits cleanly" || fail "hostagentd exited with an error"
fixture_finish
