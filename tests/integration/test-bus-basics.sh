# The daemon on a private system bus with the project's own policy: it owns
# the name, serves the contract, lets anyone read, lets only root change, and
# stops cleanly on SIGTERM.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
set +e

bus_start
daemon_start --libvirt-uri=test:///default
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
gcall() { gdbus call --system -d org.hostagent1 -o /org/hostagent1 "$@" 2>&1; }

name_owned && ok "org.hostagent1 is owned" || fail "org.hostagent1 is not owned"

# The live introspection is the contract, member by member.
busctl --system introspect --xml-interface org.hostagent1 /org/hostagent1 > "$T/live.xml"
if "$INTROSPECT_COMPARE" "$HOSTAGENT_SOURCE_DIR/bus-interfaces/org.hostagent1.Manager.xml" "$T/live.xml"; then
        ok "live introspection of /org/hostagent1 matches bus-interfaces/org.hostagent1.Manager.xml"
else
        fail "live introspection differs from the contract"
fi
assert_contains "$(cat "$T/live.xml")" 'interface name="org.freedesktop.DBus.ObjectManager"' \
        "/org/hostagent1 carries the ObjectManager"

version=$("$HOSTAGENTD" --version | awk '{print $2}')
assert_eq "s \"$version\"" "$(prop Version)" "Version is the daemon's version"
assert_eq 's "test:///default"' "$(prop LibvirtURI)" "LibvirtURI is the configured URI"
assert_eq "s \"$(hostname)\"" "$(prop Hostname)" "Hostname is the host's name"
assert_eq "s \"$T/state\"" "$(prop StateDirectory)" "StateDirectory is --state-dir"
wait_until 10 sh -c 'busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | grep -q true'
assert_eq "b true" "$(prop Ready)" "Ready turns true"
assert_eq "b true" "$(prop LibvirtConnected)" "LibvirtConnected with the test driver"

# Everyone may read.
out=$(nobody busctl --system call org.hostagent1 /org/hostagent1 org.freedesktop.DBus.Peer Ping 2>&1)
assert_eq "" "$out" "an unprivileged caller can Ping"
out=$(nobody busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Version 2>&1)
assert_eq "s \"$version\"" "$out" "an unprivileged caller can read properties"
out=$(nobody busctl --system call org.hostagent1 /org/hostagent1 org.hostagent1.Manager GetHostInfo 2>&1)
assert_contains "$out" '"hypervisor" s "TEST"' "an unprivileged caller can call GetHostInfo"
out=$(nobody busctl --system call org.hostagent1 /org/hostagent1 org.freedesktop.DBus.ObjectManager GetManagedObjects 2>&1)
assert_contains "$out" "a{oa{sa{sv}}}" "an unprivileged caller can list managed objects"

# Only root may change; refusals change nothing, and say why.
bus_monitor_start "$T/monitor.log" gdbus monitor --system --dest org.hostagent1 --object-path /org/hostagent1
out=$(nobody gdbus call --system -d org.hostagent1 -o /org/hostagent1 \
        -m org.freedesktop.DBus.Properties.Set org.hostagent1.Manager LogLevel "<'debug'>" 2>&1)
assert_contains "$out" "org.freedesktop.DBus.Error.AccessDenied" "an unprivileged write is AccessDenied"
assert_contains "$out" "org.hostagent1.host.configure" "the denial names the action refused"
assert_eq 's "info"' "$(prop LogLevel)" "the denied write changed nothing"
assert_contains "$(cat "$T/daemon.log")" "CALLER_UID=65534" "the denial is logged with the caller's uid"

out=$(gcall -m org.freedesktop.DBus.Properties.Set org.hostagent1.Manager LogLevel "<'loud'>")
assert_contains "$out" "org.hostagent1.Error.InvalidArgs" "a bad LogLevel is InvalidArgs"
assert_contains "$out" "LogLevel: must be one of" "the error names the field and the choices"
assert_eq 's "info"' "$(prop LogLevel)" "the bad write changed nothing"

out=$(gcall -m org.freedesktop.DBus.Properties.Set org.hostagent1.Manager LogLevel "<'debug'>")
assert_eq "()" "$out" "root may set LogLevel"
assert_eq 's "debug"' "$(prop LogLevel)" "LogLevel changed"
wait_until 5 grep -q "'LogLevel': <'debug'>" "$T/monitor.log"
assert_contains "$(cat "$T/monitor.log")" "PropertiesChanged ('org.hostagent1.Manager', {'LogLevel': <'debug'>}" \
        "PropertiesChanged announces the new LogLevel"

# A new caller's first write waits while the bus daemon is asked who it is;
# its later calls, sent at once, still run after it and in order.
out=$("$BUS_PIPELINE" "set LogLevel notice" "get LogLevel" "set LogLevel info" "get LogLevel" | paste -sd' ')
assert_eq "1:ok 2:notice 3:ok 4:info" "$out" "pipelined writes and reads of one caller are answered in order"
out=$(nobody "$BUS_PIPELINE" "set LogLevel debug" "get LogLevel" | paste -sd' ')
assert_eq "1:org.freedesktop.DBus.Error.AccessDenied 2:info" "$out" \
        "a pipelined unprivileged write is denied, and the read after it sees nothing changed"

# The policy: nobody but root may own the name.
out=$(nobody busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        RequestName su org.hostagent1 0 2>&1)
assert_contains "$out" "ccess denied" "an unprivileged process cannot own org.hostagent1"

# A second daemon refuses to start beside the first, and says so.
mkdir -p "$T/state2"
"$HOSTAGENTD" --config=/dev/null --state-dir="$T/state2" --libvirt-uri=test:///default 2>"$T/second.log"
rc=$?
assert_eq 1 "$rc" "a second hostagentd exits with failure"
assert_contains "$(cat "$T/second.log")" "Another process owns org.hostagent1" "and says why"

# SIGTERM: clean exit (sanitizer builds would fail here on leaks), name released.
daemon_stop; rc=$?
assert_eq 0 "$rc" "SIGTERM ends hostagentd with status 0"
name_owned && fail "the name is still owned after exit" || ok "the name is released"
assert_contains "$(cat "$T/daemon.log")" "shutting down" "the shutdown is logged"
fixture_finish
