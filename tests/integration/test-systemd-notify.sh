# The systemd notify protocol, with this test in systemd's place: READY=1 only
# once the name is owned, STATUS= saying what the daemon does, WATCHDOG=1 fed
# by the event loop itself (a frozen loop stops feeding it), STOPPING=1 at SIGTERM.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
set +e

"$NOTIFY_LISTENER" "$T/notify" > "$T/notify.log" &
fixture_track $!
wait_until 5 test -S "$T/notify"
bus_start
export NOTIFY_SOCKET="$T/notify" WATCHDOG_USEC=1000000
daemon_start --libvirt-uri=test:///default
unset NOTIFY_SOCKET WATCHDOG_USEC
# systemd hands WATCHDOG_PID too when it knows the PID; without it sd-daemon
# accepts the variables for whoever reads them, which is the daemon here.

wait_until 10 grep -q "READY=1" "$T/notify.log" && ok "READY=1 is sent" || fail "no READY=1"
name_owned && ok "the name is owned once READY=1 is seen" || fail "READY=1 before the name"
wait_until 10 grep -q "STATUS=Serving; libvirt connected at test:///default" "$T/notify.log" \
        && ok "STATUS= says it is serving and libvirt is connected" || fail "no serving STATUS="
ready_line=$(grep -n "READY=1" "$T/notify.log" | head -1 | cut -d: -f1)
serving_line=$(grep -n "STATUS=Serving" "$T/notify.log" | head -1 | cut -d: -f1)
[ -n "$ready_line" ] && [ -n "$serving_line" ] && [ "$ready_line" -le "$serving_line" ] \
        && ok "READY=1 comes no later than the serving status" || fail "READY=1 after STATUS=Serving"

# Pings every WATCHDOG_USEC/2 from the loop.
sleep 2.2
pings=$(grep -c "WATCHDOG=1" "$T/notify.log")
[ "$pings" -ge 3 ] && ok "the loop feeds the watchdog ($pings pings in ~2 s)" || fail "only $pings watchdog pings"

# A frozen process sends none: the pings come from the loop, not a helper timer.
kill -STOP "$DAEMON_PID"
before=$(grep -c "WATCHDOG=1" "$T/notify.log")
sleep 1.5
after=$(grep -c "WATCHDOG=1" "$T/notify.log")
kill -CONT "$DAEMON_PID"
assert_eq "$before" "$after" "a stopped daemon sends no watchdog pings (systemd would kill it)"
wait_until 5 sh -c "[ \$(grep -c WATCHDOG=1 '$T/notify.log') -gt $after ]" \
        && ok "pings resume when it runs again" || fail "pings did not resume"

daemon_stop; rc=$?
assert_eq 0 "$rc" "SIGTERM ends it with status 0"
assert_contains "$(cat "$T/notify.log")" "STOPPING=1" "STOPPING=1 is sent at SIGTERM"
assert_contains "$(cat "$T/notify.log")" "STATUS=Shutting down" "STATUS= says it is shutting down"
fixture_finish
