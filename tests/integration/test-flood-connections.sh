#!/bin/bash
# Fair share under many connections: uid 65534 on 250 connections with 100 GetHostStats pending
# on each (bench/attack-bench, 10 clients x 25) does not take the agent from root. Refused Busy
# at once, each of the flooder's calls brought its next one at once, and on their way to the bus
# daemon (which reads a connection 2 KiB at a time) root's answers waited behind tens of seconds
# of refusals: root's Ping did not answer within 25 s. Now the refusals past a small burst are
# answered at a pace (agent/bus/bus-pace.c): root's Ping and CreateVM are answered (within 20 s,
# generous: in well under a second once the flood is in place), and once the flood has gone,
# a call of the same uid is answered again at once, not behind the flood's refusals.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
set +e

: "${ATTACK_BENCH:?ATTACK_BENCH must name bench/attack-bench}"
F=$T/flood

as_uid() { local uid=$1; shift; setpriv --reuid="$uid" --regid="$uid" --clear-groups "$@"; }
ready() { busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | grep -q true; }
ping_agent() { busctl --system --timeout=20 call org.hostagent1 /org/hostagent1 org.freedesktop.DBus.Peer Ping; }
flood_connections() {   # the flooder's sockets (not asked of the bus, which the flood slows)
        ss -xpn 2>/dev/null | grep -c '"attack-bench",pid='
}
flood_has() { [ "$(flood_connections)" -ge "$1" ]; }
flood_gone() { [ "$(flood_connections)" -eq 0 ]; }

libvirtd_start
bus_start
daemon_start --libvirt-uri="$LIBVIRT_TEST_URI"
wait_until 30 ready || fail "the agent never became Ready"

mkdir -p "$F"
cp "$ATTACK_BENCH" "$F/attack-bench"
chown -R 65534:65534 "$F"
# setpriv execs attack-bench: $! is its PID, which the kill below stops (its children with it)
setpriv --reuid=65534 --regid=65534 --clear-groups "$F/attack-bench" attack hoststats 10 25 100 &
FLOOD_PID=$!
fixture_track "$FLOOD_PID"
wait_until 60 flood_has 250 \
        || fail "the flood did not open its 250 connections ($(flood_connections))"
sleep 5   # its calls on their way: thousands pending

pings=0
for i in 1 2 3; do
        ping_agent >/dev/null && pings=$((pings + 1))
done
assert_eq 3 "$pings" "root's Pings are answered (within 20 s each) during the flood"
spec='{"name":"flood-root","memory_mib":64,"type":"test"}'
if busctl --system --timeout=20 call org.hostagent1 /org/hostagent1 org.hostagent1.Manager CreateVM s "$spec" \
        > "$T/create.out" 2>&1; then
        ok "root's CreateVM is answered and done during the flood"
else
        fail "root's CreateVM failed or was not answered within 20 s: $(cat "$T/create.out")"
fi
kill "$FLOOD_PID"
wait "$FLOOD_PID" 2>/dev/null

wait_until 60 flood_gone \
        || fail "the flood's connections did not go"
out=$(as_uid 65534 busctl --system --timeout=20 call org.hostagent1 /org/hostagent1 org.hostagent1.Manager \
        GetHostStats 2>&1)
case $out in
a*|*Busy*) ok "a call of the flooder's uid is answered once its flood has gone" ;;
*) fail "uid 65534's GetHostStats after the flood: $out" ;;
esac
daemon_stop; assert_eq 0 $? "the agent exits cleanly"
fixture_finish
