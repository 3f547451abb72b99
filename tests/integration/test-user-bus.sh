# --user: the same daemon on a session-type bus (for development without root
# on a workstation), here a private one.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
set +e

mkdir -p "$T/session"
pid=$(dbus-daemon --session --address="unix:path=$T/session/socket" --fork --print-pid=1 --nopidfile)
fixture_track "$pid"
export DBUS_SESSION_BUS_ADDRESS="unix:path=$T/session/socket"
unset DBUS_SYSTEM_BUS_ADDRESS

mkdir -p "$T/state"
(cd "$T" && exec "$HOSTAGENTD" --user --config=/dev/null --state-dir="$T/state" \
        --libvirt-uri=test:///default 2>>"$T/daemon.log") &
DAEMON_PID=$!; fixture_track $DAEMON_PID
user_owned() {
        busctl --user call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
                NameHasOwner s org.hostagent1 2>/dev/null | grep -q '^b true$'
}
wait_until 20 user_owned && ok "--user owns org.hostagent1 on the session bus" || fail "not owned on the user bus"
out=$(busctl --user get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager LibvirtURI 2>&1)
assert_eq 's "test:///default"' "$out" "it answers there"
daemon_stop; rc=$?
assert_eq 0 "$rc" "SIGTERM ends it with status 0"
fixture_finish
