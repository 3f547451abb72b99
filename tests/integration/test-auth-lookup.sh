# A failed identity lookup is not remembered (issue 14's fuzzing: under a flood the bus daemon's
# answer to GetConnectionCredentials timed out, the connection was remembered as an unknown
# caller, and every later call on it, root's included, was AccessDenied "the caller's identity
# is unknown" until the memory pushed it out). A test-build failpoint makes the agent's first
# lookup fail: root's call held for it is refused, and root's next call on the same connection
# is asked about again and done. Without polkitd: root only.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
set +e

: "${POLKIT_CALLER:?POLKIT_CALLER must name the polkit-caller helper}"

bus_start
export HOSTAGENT_AUTH_FAILPOINT=lookup-fail:1
daemon_start --libvirt-uri=test:///default
wait_until 30 sh -c 'busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | grep -q true'
# The test driver's running domain "test" (found without a call that asks who the caller is).
VM=$(busctl --system tree --list org.hostagent1 | grep -m1 '^/org/hostagent1/vm/')
[ -n "$VM" ] && ok "the test driver's VM is on the bus ($VM)" || fail "no VM on the bus"
state() { busctl --system get-property org.hostagent1 "$VM" org.hostagent1.VM State; }

# Root, one connection, Pause twice: each call after the previous answer.
coproc PKC { exec "$POLKIT_CALLER" -r 2 "$VM" org.hostagent1.VM Pause; }
pkc_pid=$PKC_PID
read -r -u "${PKC[0]}" _ name _
echo go >&"${PKC[1]}"
read -r -u "${PKC[0]}" first
assert_contains "$first" "org.freedesktop.DBus.Error.AccessDenied" "root's call held for the failed lookup is refused"
assert_eq 's "running"' "$(state)" "and changed nothing"
assert_contains "$(cat "$T/daemon.log")" "Cannot learn who $name is now" "the failure is logged"
echo go >&"${PKC[1]}"
read -r -u "${PKC[0]}" second
assert_eq "ok" "$second" "root's next call on the same connection is asked about again and done"
assert_eq 's "paused"' "$(state)" "the VM is paused"
wait "$pkc_pid" 2>/dev/null

daemon_stop; rc=$?
assert_eq 0 "$rc" "SIGTERM ends hostagentd with status 0"
fixture_finish
