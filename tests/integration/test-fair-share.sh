# Fair share: eight unprivileged clients flooding the agent with blocking reads (GetHostStats,
# GetAllVMStats, GetNetworkCapabilities, pipelined) are refused Busy themselves, and nobody else
# is: while the flood's reads are in flight, root's CreateVM and Ping are served every time, and
# a read of root's and of another unprivileged user's is taken (answered once the reads go on),
# not refused. A test-only library preloaded into the daemon (tests/hold-host-reads.c) keeps the
# reads in libvirt until the test lets them go, so the pool is as full as the flood can make it,
# every run.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/vm.sh"
set +e

: "${BUS_FLOOD:?BUS_FLOOD must name the bus-flood client}"
: "${HOLD_HOST_READS:?HOLD_HOST_READS must name the hold-host-reads library}"
GATE=$T/reads-gate
F=$T/flood
FLOODERS=8

# A sanitizer build needs its runtime first among the preloaded libraries.
preload=$HOLD_HOST_READS
asan=$(ldd "$HOSTAGENTD" | awk '/libasan/ {print $3}')
[ -n "$asan" ] && preload="$asan $preload"

as_uid() { local uid=$1; shift; setpriv --reuid="$uid" --regid="$uid" --clear-groups "$@"; }
manager_prop() { busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager "$1"; }
ready() { manager_prop Ready | grep -q true; }
all_refused() {   # every flooder has had a Busy
        local i
        for i in $(seq "$FLOODERS"); do grep -q "^first org.hostagent1.Error.Busy$" "$F/out-$i" || return 1; done
}
create() { manager_call CreateVM "$(gv_string "{\"name\":\"$1\",\"memory_mib\":64,\"type\":\"test\"}")"; }

libvirtd_start
bus_start
DAEMON_PREFIX=(env LD_PRELOAD="$preload" HOLD_READS_GATE="$GATE")
daemon_start --libvirt-uri="$LIBVIRT_TEST_URI"
wait_until 30 ready || fail "the agent never became Ready"
max=$(manager_prop MaxOperations | awk '{print $2}')

# The flood: each client on its own connection, as uid 65534, twelve calls outstanding.
mkdir -p "$F"
cp "$BUS_FLOOD" "$F/bus-flood"
chown -R 65534:65534 "$F"
touch "$GATE"
FLOOD_PIDS=()
for i in $(seq "$FLOODERS"); do
        as_uid 65534 "$F/bus-flood" 12 "$F/stop" "$F/out-$i" &
        FLOOD_PIDS+=($!)
        fixture_track $!
done
wait_until 60 all_refused && ok "each of the $FLOODERS flooders is refused Busy past its share" \
        || fail "not every flooder was refused Busy: $(grep -c Busy "$F"/out-* | paste -sd' ')"

# Meanwhile, everyone else. A read of root's and one of another unprivileged user's (uid 1)
# are taken, held with the flood's, and answered once the reads go on.
busctl --system --timeout=120 call org.hostagent1 /org/hostagent1 org.hostagent1.Manager GetHostStats \
        > "$T/root-read.out" 2>&1 &
ROOT_READ=$!
as_uid 1 busctl --system --timeout=120 call org.hostagent1 /org/hostagent1 org.hostagent1.Manager GetHostStats \
        > "$T/other-read.out" 2>&1 &
OTHER_READ=$!
fixture_track $ROOT_READ
fixture_track $OTHER_READ
for i in 1 2 3 4 5; do
        out=$(busctl --system --timeout=10 call org.hostagent1 /org/hostagent1 org.freedesktop.DBus.Peer Ping 2>&1)
        assert_eq "" "$out" "Ping $i is answered during the flood"
        out=$(create "fair$i")
        assert_contains "$out" "(objectpath '/org/hostagent1/vm/" "root's CreateVM $i is served during the flood"
done
out=$(as_uid 65534 busctl --system --timeout=10 call org.hostagent1 /org/hostagent1 org.hostagent1.Manager \
        GetHostStats 2>&1)
assert_contains "$out" "for this caller" "one more read of the flooders' user is refused as theirs"
in_flight=$(manager_prop OperationsInFlight | awk '{print $2}')
[ "$in_flight" -lt "$max" ] && ok "the flood leaves room in the pool ($in_flight of $max in flight)" \
        || fail "the flood filled the pool ($in_flight of $max in flight)"

# The reads go on: the held calls are answered, the flooders stop.
rm -f "$GATE"
touch "$F/stop"
for p in "${FLOOD_PIDS[@]}"; do wait "$p"; done
wait "$ROOT_READ"; wait "$OTHER_READ"
assert_contains "$(cat "$T/root-read.out")" '"cpu_user_ns" t' "root's read during the flood is answered"
assert_contains "$(cat "$T/other-read.out")" '"cpu_user_ns" t' "another user's read during the flood is answered"
for i in $(seq "$FLOODERS"); do
        assert_contains "$(cat "$F/out-$i")" "count ok " "flooder $i had calls answered too"
done
out=$(as_uid 65534 busctl --system call org.hostagent1 /org/hostagent1 org.hostagent1.Manager GetHostStats 2>&1)
assert_contains "$out" '"cpu_user_ns" t' "once the flood is over, the flooders' user is served again"
wait_until 10 sh -c "busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager \
        OperationsInFlight | grep -qx 'u 0'" && ok "nothing is left in flight" || fail "operations leaked"
daemon_stop; assert_eq 0 $? "the agent exits cleanly"
fixture_finish
