# D-Bus activation: the first call to org.hostagent1 starts the daemon through
# the installed activation file (Exec= pointed at this build), and the daemon
# reads its configuration file.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
set +e

mkdir -p "$T/bus/services" "$T/state"
cat > "$T/hostagentd.conf" <<CONF
# written by test-bus-activation
libvirt-uri = test:///default
state-dir = $T/state
log-level = debug
CONF
sed "s|^Exec=.*|Exec=$HOSTAGENTD --config=$T/hostagentd.conf|" \
        "$HOSTAGENT_BUILD_DIR/systemd/org.hostagent1.service" > "$T/bus/services/org.hostagent1.service"
grep -q '^SystemdService=hostagentd.service$' "$T/bus/services/org.hostagent1.service" \
        && ok "the activation file is the installed one" || fail "activation file lacks SystemdService="
bus_start

name_owned && fail "org.hostagent1 owned before any call" || ok "nothing owns org.hostagent1 before the first call"

out=$(busctl --system --timeout=30 get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Version 2>&1)
assert_contains "$out" 's "' "the first call is answered by an activated hostagentd"
pid=$(busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        GetConnectionUnixProcessID s org.hostagent1 | awk '{print $2}')
if [ -n "$pid" ]; then
        fixture_track "$pid"
        DAEMON_PID=$pid
        assert_eq "$(readlink -f "$HOSTAGENTD")" "$(readlink -f /proc/$pid/exe)" "the activated process is this build's hostagentd"
else
        fail "no process owns org.hostagent1"
fi
assert_eq 's "test:///default"' "$(prop LibvirtURI)" "settings come from the configuration file"
assert_eq 's "debug"' "$(prop LogLevel)" "log-level from the configuration file"

kill -TERM "$pid"
wait_until 20 sh -c "! kill -0 $pid" && ok "the activated daemon stops on SIGTERM" || fail "it did not stop"
name_owned && fail "name still owned" || ok "the name is released"

# And it comes back on the next call.
out=$(busctl --system --timeout=30 call org.hostagent1 /org/hostagent1 org.freedesktop.DBus.Peer Ping 2>&1)
assert_eq "" "$out" "the next call activates it again"
pid=$(busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        GetConnectionUnixProcessID s org.hostagent1 | awk '{print $2}')
[ -n "$pid" ] && fixture_track "$pid"
fixture_finish
