# libvirtd frozen (SIGSTOP): reads answer at once from the agent's state,
# calls that need libvirt fail with LibvirtUnavailable after --call-timeout
# instead of hanging, and after SIGCONT everything resumes; a request that
# timed out still takes effect, and the agent reports it through events.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
set +e

libvirtd_start
bus_start
daemon_start --libvirt-uri="$LIBVIRT_TEST_URI" --call-timeout=2
wait_until 30 sh -c 'busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | grep -q true'
VM=$(busctl --system call org.hostagent1 /org/hostagent1 org.hostagent1.Manager GetVM s test | awk '{print $2}' | tr -d '"')
state_is() { busctl --system get-property org.hostagent1 "$VM" org.hostagent1.VM State | grep -qx "s \"$1\""; }
in_flight_is() {
        busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager OperationsInFlight | grep -qx "u $1"
}

kill -STOP "$LIBVIRTD_PID"
out=$(gdbus call --system -t 30 -d org.hostagent1 -o "$VM" -m org.hostagent1.VM.Pause 2>&1)
assert_contains "$out" "org.hostagent1.Error.LibvirtUnavailable" "Pause against a frozen libvirtd fails with LibvirtUnavailable"
assert_contains "$out" "did not answer within 2 s" "after the configured time, which it names"
assert_contains "$out" "may still take effect" "and says the outcome is not known yet"
out=$(gdbus call --system -t 30 -d org.hostagent1 -o /org/hostagent1 -m org.hostagent1.Manager.GetAllVMStats 2>&1)
assert_contains "$out" "org.hostagent1.Error.LibvirtUnavailable" "statistics calls are bounded too"

out=$(busctl --system --timeout=5 call org.hostagent1 /org/hostagent1 org.hostagent1.Manager ListVMs 2>&1)
assert_contains "$out" '"test" "running"' "ListVMs answers from the agent's state meanwhile"
out=$(busctl --system --timeout=5 get-property org.hostagent1 "$VM" org.hostagent1.VM State 2>&1)
assert_eq 's "running"' "$out" "VM properties answer meanwhile"
out=$(busctl --system --timeout=5 call org.hostagent1 "$VM" org.freedesktop.DBus.Peer Ping 2>&1)
assert_eq "" "$out" "Ping answers meanwhile"
# The timed-out work still holds its worker: the count stays honest.
assert_eq "u 2" "$(busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager OperationsInFlight)" \
        "the timed-out calls still count as in flight"

kill -CONT "$LIBVIRTD_PID"
wait_until 20 state_is paused && ok "after SIGCONT the late Pause took effect and is reported" || fail "Pause never showed"
wait_until 20 in_flight_is 0 && ok "nothing is left in flight" || fail "operations leaked"
out=$(gdbus call --system -t 30 -d org.hostagent1 -o "$VM" -m org.hostagent1.VM.Resume 2>&1)
assert_eq "()" "$out" "calls work again"
assert_eq 's "running"' "$(busctl --system get-property org.hostagent1 "$VM" org.hostagent1.VM State)" "and the VM runs"

daemon_stop; rc=$?
assert_eq 0 "$rc" "SIGTERM ends it with status 0"
fixture_finish
