# The loop never blocks: with libvirtd frozen (SIGSTOP) and blocking calls
# stuck in the worker pool, the bus keeps answering, the cap turns further
# work away with Busy, the stuck calls complete once libvirtd thaws, and a
# shutdown answers whatever was still queued.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
set +e

in_flight_is() {
        busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager OperationsInFlight \
                | grep -qx "u $1"
}
stats_call() {   # background GetHostStats, output to $T/call-$1.out
        busctl --system --timeout=120 call org.hostagent1 /org/hostagent1 org.hostagent1.Manager \
                GetHostStats > "$T/call-$1.out" 2>&1 &
        CALL_PIDS+=($!)
        fixture_track $!
}

libvirtd_start
bus_start
daemon_start --libvirt-uri="$LIBVIRT_TEST_URI" --workers=2 --max-operations=3
wait_until 60 sh -c 'busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager LibvirtConnected | grep -q true' \
        || fail "never connected to libvirtd"
assert_eq "u 3" "$(busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager MaxOperations)" \
        "MaxOperations is --max-operations"

kill -STOP "$LIBVIRTD_PID"
CALL_PIDS=()
stats_call 1; stats_call 2; stats_call 3
wait_until 30 in_flight_is 3 && ok "three libvirt calls are in flight against a frozen libvirtd" \
        || fail "calls never reached the daemon"

# The loop is free: these answer while the three are stuck.
out=$(busctl --system --timeout=5 call org.hostagent1 /org/hostagent1 org.freedesktop.DBus.Peer Ping 2>&1)
assert_eq "" "$out" "Peer.Ping answers while libvirt calls are stuck"
out=$(busctl --system --timeout=5 get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Version 2>&1)
assert_contains "$out" 's "' "property reads answer while libvirt calls are stuck"
out=$(busctl --system --timeout=5 call org.hostagent1 /org/hostagent1 org.hostagent1.Manager GetHostInfo 2>&1)
assert_contains "$out" '"hypervisor" s "TEST"' "GetHostInfo is served from kept state, not from libvirt"
out=$(gdbus call --system -d org.hostagent1 -o /org/hostagent1 -m org.hostagent1.Manager.GetHostStats 2>&1)
assert_contains "$out" "org.hostagent1.Error.Busy" "a call past the cap is refused with Busy"
assert_contains "$out" "limit 3" "Busy says what the limit is"
running=0
for p in "${CALL_PIDS[@]}"; do kill -0 "$p" 2>/dev/null && running=$((running + 1)); done
assert_eq 3 "$running" "the stuck calls are still waiting, not failed"

kill -CONT "$LIBVIRTD_PID"
for i in 1 2 3; do wait "${CALL_PIDS[$((i - 1))]}"; done
for i in 1 2 3; do
        assert_contains "$(cat "$T/call-$i.out")" '"cpu_user_ns" t' "stuck call $i completes once libvirtd thaws"
done
wait_until 10 in_flight_is 0 && ok "nothing left in flight" || fail "operations leaked"

# Shutdown with work in flight: queued work is answered ShuttingDown; work
# stuck in libvirt is given a bounded wait and left behind; the exit is clean.
kill -STOP "$LIBVIRTD_PID"
CALL_PIDS=()
stats_call a; stats_call b; stats_call c
wait_until 30 in_flight_is 3 || fail "second round never reached the daemon"
kill -TERM "$DAEMON_PID"
rc=0; wait "$DAEMON_PID" || rc=$?
assert_eq 0 "$rc" "SIGTERM with stuck work still exits with status 0"
for p in "${CALL_PIDS[@]}"; do wait "$p"; done
# Two workers, three calls: at least one was still queued (more if a worker
# had not yet picked its call up). Queued calls are answered ShuttingDown;
# calls stuck in libvirt end when the connection closes. None hangs.
answered=$(grep -l "shutting down" "$T"/call-[abc].out | wc -l)
[ "$answered" -ge 1 ] && ok "queued calls were answered ShuttingDown ($answered of 3)" \
        || fail "no call was answered ShuttingDown"
unanswered=$(grep -L -e "shutting down" -e "disconnected" "$T"/call-[abc].out | wc -l)
assert_eq 0 "$unanswered" "every call got an answer or saw the daemon go"
assert_contains "$(cat "$T/daemon.log")" "still blocked" "leaving stuck threads behind is logged"
kill -CONT "$LIBVIRTD_PID"
fixture_finish
