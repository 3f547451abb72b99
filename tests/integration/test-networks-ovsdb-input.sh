# What a broken or hostile ovsdb-server sends never takes the agent down: a stand-in server
# (tests/lib/fake-ovsdb.py) answers the agent's monitor request with a message whose method is
# null, then asks for an echo. The agent answers the echo (its reader is still there), serves the
# bus, and exits cleanly. In a network namespace of the test's own.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
set +e

netns_start ovsinput || exit 1
bus_start
/usr/bin/python3 "$HOSTAGENT_SOURCE_DIR/tests/lib/fake-ovsdb.py" "$T/fake-ovsdb.sock" "$T/received.log" &
fixture_track $!
wait_until 10 test -S "$T/fake-ovsdb.sock" || fail "the stand-in ovsdb-server did not start"
DAEMON_PREFIX=(ip netns exec "$NETNS")
daemon_start --libvirt-uri=test:///default --ovsdb="unix:$T/fake-ovsdb.sock"

wait_until 20 grep -q '"id":"after-null"' "$T/received.log"
received=$(cat "$T/received.log" 2>/dev/null)
assert_contains "$received" '"method":"monitor"' "the agent asks the stand-in server for a monitor"
assert_contains "$received" '"result":["after-null"]' \
        "after a message whose method is null, it still answers the server's echo"
kill -0 "$DAEMON_PID" 2>/dev/null && ok "hostagentd is still running" || fail "hostagentd died"
assert_contains "$(bus_call /org/hostagent1 org.hostagent1.Manager.GetNetworkCapabilities)" "\"networks\":[]" "and answers on the bus"
daemon_stop && ok "hostagentd exits cleanly" || fail "hostagentd exited with an error"
fixture_finish
