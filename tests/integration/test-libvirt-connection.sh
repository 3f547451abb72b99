# The libvirt connection against a real private libvirtd: the agent starts
# without it, connects when it appears, notices when it dies, keeps answering
# meanwhile, and reconnects by itself when libvirtd is back.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
set +e

connected_is() {
        busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager LibvirtConnected \
                | grep -qx "b $1"
}
gcall() { gdbus call --system -d org.hostagent1 -o /org/hostagent1 "$@" 2>&1; }

# Paths first, libvirtd later: the agent must come up without it.
LV="$T/libvirt"
URI="test+unix:///default?socket=$LV/run/libvirt/libvirt-sock"
bus_start
daemon_start --libvirt-uri="$URI"
wait_until 20 sh -c 'busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | grep -q true'
assert_eq "b true" "$(prop Ready)" "Ready even though libvirtd is not there"
assert_eq "b false" "$(prop LibvirtConnected)" "LibvirtConnected is false without libvirtd"
out=$(gcall -m org.hostagent1.Manager.GetHostInfo)
assert_contains "$out" "org.hostagent1.Error.LibvirtUnavailable" "GetHostInfo says libvirt is unavailable"
assert_contains "$out" "$URI" "and names the URI"

bus_monitor_start "$T/monitor.log" gdbus monitor --system --dest org.hostagent1 --object-path /org/hostagent1

libvirtd_start
wait_until 60 connected_is true && ok "connects once libvirtd appears" || fail "never connected"
out=$(gcall -m org.hostagent1.Manager.GetHostInfo)
assert_contains "$out" "'hypervisor': <'TEST'>" "GetHostInfo is served from the connection"

# libvirtd goes away.
libvirtd_stop
wait_until 30 connected_is false && ok "a dead libvirtd is noticed" || fail "LibvirtConnected stayed true"
out=$(busctl --system --timeout=5 call org.hostagent1 /org/hostagent1 org.freedesktop.DBus.Peer Ping 2>&1)
assert_eq "" "$out" "the bus still answers while libvirt is down"
out=$(gcall -m org.hostagent1.Manager.GetHostStats)
assert_contains "$out" "org.hostagent1.Error.LibvirtUnavailable" "libvirt-backed calls fail fast and say why"

# libvirtd comes back: reconnect with backoff, no help needed.
libvirtd_spawn
wait_until 60 connected_is true && ok "reconnects by itself when libvirtd is back" || fail "no reconnect"
out=$(busctl --system call org.hostagent1 /org/hostagent1 org.hostagent1.Manager GetHostStats 2>&1)
assert_contains "$out" '"cpu_user_ns" t' "GetHostStats works on the new connection"

monitor=$(cat "$T/monitor.log")
assert_contains "$monitor" "{'LibvirtConnected': <true>}" "PropertiesChanged announced the connection"
assert_contains "$monitor" "{'LibvirtConnected': <false>}" "PropertiesChanged announced the loss"
n_true=$(grep -c "{'LibvirtConnected': <true>}" "$T/monitor.log")
assert_eq 2 "$n_true" "each connection announced once"

# The host shuts down: libvirtd and the agent are stopped at the same moment.
kill -TERM "$LIBVIRTD_PID" "$DAEMON_PID"
rc=0; wait "$DAEMON_PID" || rc=$?
assert_eq 0 "$rc" "stopped together with libvirtd, hostagentd exits with status 0"
fixture_finish
