# The fixture's bus_monitor_start returns only once its monitor receives
# signals, however late the monitor subscribes (as on a loaded machine):
# each kind the tests use is started a second late, and the first signal
# sent after bus_monitor_start returns is in its output. bus_monitor_stop
# stops one once all the agent sent is in its output.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
set +e

bus_start
daemon_start --libvirt-uri=test:///default
# A monitor that subscribes late: it starts a second after it is run.
printf '#!/bin/sh\nsleep 1\nexec "$@"\n' > "$T/late"
chmod +x "$T/late"
level=info
# A signal from the agent: PropertiesChanged of LogLevel, to the other level each time.
log_level_flip() {
        [ "$level" = info ] && level=debug || level=info
        gdbus call --system -d org.hostagent1 -o /org/hostagent1 -m org.freedesktop.DBus.Properties.Set \
                org.hostagent1.Manager LogLevel "<'$level'>" >/dev/null
}
# check NAME FILE PATTERN COMMAND...: the first signal after the start is seen.
check() {
        local name=$1 file=$2 pattern=$3
        shift 3
        bus_monitor_start "$file" "$T/late" "$@" || return
        log_level_flip
        wait_until 10 grep -q "$pattern" "$file" \
                && ok "$name: the first signal after bus_monitor_start is seen" \
                || fail "$name missed the first signal: $(cat "$file")"
        kill "$MONITOR_PID"
}
check "gdbus monitor --dest" "$T/gdbus" "'LogLevel': <'debug'>" gdbus monitor --system --dest org.hostagent1
check "gdbus monitor --dest --object-path" "$T/gdbus-path" "'LogLevel': <'info'>" \
        gdbus monitor --system --dest org.hostagent1 --object-path /org/hostagent1
check "busctl monitor NAME" "$T/busctl" '"LogLevel"' busctl --system monitor org.hostagent1
MONITOR_STDERR="$T/busctl-err" check "busctl monitor --json, stderr apart" "$T/busctl.json" '"LogLevel"' \
        busctl --system monitor --json=short org.hostagent1
MONITOR_STDERR="$T/busctl-err" check "a second one on the same stderr" "$T/busctl2.json" '"LogLevel"' \
        busctl --system monitor --json=short org.hostagent1
check "dbus-monitor with match rules" "$T/dbus-monitor" '"LogLevel"' \
        dbus-monitor --system "type='signal',interface='org.freedesktop.DBus.Properties',path='/org/hostagent1'"

# bus_monitor_stop: what the agent sent before it is in the file once it returns.
bus_monitor_start "$T/stop" busctl --system monitor org.hostagent1
log_level_flip
bus_monitor_stop
assert_contains "$(cat "$T/stop")" '"LogLevel"' "bus_monitor_stop: the signal sent before it is in the file"

daemon_stop; rc=$?
assert_eq 0 "$rc" "SIGTERM ends the agent with status 0"
fixture_finish
