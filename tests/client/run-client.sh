# The client tier: the agent on a private bus, followed by GLib's
# GDBusObjectManagerClient in Debian's /usr/bin/python3 (python3-gi), while
# the agent and other tools (virsh, ip, files in a pool's directory) add,
# change and remove its objects. Usage: run-client.sh vms|storage|networks|jobs
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
set +e
section=${1:?which scenario: vms, storage, networks or jobs}

/usr/bin/python3 -c 'import gi; gi.require_version("Gio", "2.0")' ||
        { echo "not ok - Debian's python3 with python3-gi is needed"; exit 1; }
LIBVIRT_URI=test:///default
case "$section" in
vms)
        # virsh and the agent share one libvirtd's test driver.
        libvirtd_start || exit 1
        LIBVIRT_URI=$LIBVIRT_TEST_URI
        ;;
networks)
        # The agent in a network namespace of the test's own, with a veth pair as an uplink.
        netns_start client || exit 1
        ip -n "$NETNS" link add up0 type veth peer name up0peer
        ip -n "$NETNS" link set up0peer up
        DAEMON_PREFIX=(ip netns exec "$NETNS")
        ;;
esac
bus_start
DAEMON_ARGS=(--libvirt-uri="$LIBVIRT_URI" --run-dir="$T/run" --storage-check-interval=1
             --ovsdb="unix:$T/no-ovsdb.sock")
daemon_start "${DAEMON_ARGS[@]}" || exit 1
wait_until 30 sh -c 'busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | grep -q true'

# A scenario that restarts the agent (kill -9, then a new one with the same
# arguments) stops the new one itself; its PID is in daemon-restarted.pid.
fixture_on_exit '[ -f "$T/daemon-restarted.pid" ] && kill -KILL "$(cat "$T/daemon-restarted.pid")" 2>/dev/null'
export T LIBVIRT_URI NETNS="${NETNS:-}" DAEMON_PID HOSTAGENTD
export DAEMON_ARG_LINES="$(printf '%s\n' "${DAEMON_ARGS[@]}")"
/usr/bin/python3 -B -u "$HOSTAGENT_SOURCE_DIR/tests/client/scenarios.py" "$section"
rc=$?
if [ -f "$T/daemon-restarted.pid" ]; then
        wait "$DAEMON_PID" 2>/dev/null   # the agent the scenario killed
else
        daemon_stop || { echo "not ok - hostagentd did not exit cleanly"; rc=1; }
fi
exit $rc
