# Test fixtures: a private system bus, the daemon, a private libvirtd.
# Sourced by the integration tests. Everything lives under one mktemp
# directory, every process started is remembered by PID and stopped by PID
# at exit, so two runs on one machine never meet.
set -euo pipefail

: "${HOSTAGENTD:?HOSTAGENTD must name the hostagentd binary under test}"
: "${HOSTAGENT_SOURCE_DIR:?HOSTAGENT_SOURCE_DIR must name the source tree}"

T=$(mktemp -d /tmp/hostagent-test.XXXXXX)
chmod 0755 "$T"              # the unprivileged caller must reach the bus socket
FIXTURE_PIDS=()
TESTS_PASSED=0
TESTS_FAILED=0

# A daemon that crashed leaves a core in $T (daemon_start sets it up): show
# its stack, so a crash seen once in CI can be understood from the log.
fixture_report_cores() {
        local core
        for core in "$T"/core*; do
                [ -f "$core" ] || continue
                echo "hostagentd dumped core ($core); backtrace:" >&2
                gdb -q -batch -ex 'thread apply all bt' "$HOSTAGENTD" "$core" >&2 2>/dev/null || true
        done
}

# QEMU guests outlive the libvirtd that started them: stop those of ours by
# the PIDs in our libvirtd's run directory (never by name).
fixture_stop_guests() {
        local pidfile pid
        for pidfile in "$T"/libvirt/run/libvirt/qemu/*.pid; do
                [ -f "$pidfile" ] || continue
                pid=$(cat "$pidfile" 2>/dev/null) || continue
                [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
        done
}

# fixture_on_exit COMMAND: run COMMAND (a string, for eval) at exit, after our
# processes are stopped and before $T goes: loop devices, namespaces.
FIXTURE_EXIT_HOOKS=()
fixture_on_exit() { FIXTURE_EXIT_HOOKS+=("$1"); }

fixture_cleanup() {
        local pid hook
        fixture_report_cores
        fixture_stop_guests
        for pid in "${FIXTURE_PIDS[@]}"; do
                kill -TERM "$pid" 2>/dev/null || true
        done
        for pid in "${FIXTURE_PIDS[@]}"; do
                for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
                kill -KILL "$pid" 2>/dev/null || true
        done
        for hook in "${FIXTURE_EXIT_HOOKS[@]}"; do
                eval "$hook" || true
        done
        rm -rf "$T"
}
trap fixture_cleanup EXIT

fixture_track() { FIXTURE_PIDS+=("$1"); }

ok()   { TESTS_PASSED=$((TESTS_PASSED + 1)); echo "ok - $*"; }
fail() { TESTS_FAILED=$((TESTS_FAILED + 1)); echo "not ok - $*"; }

assert_eq() {   # expected actual description
        if [ "$1" = "$2" ]; then ok "$3"; else fail "$3: expected '$1', got '$2'"; fi
}
assert_contains() {   # haystack needle description
        case "$1" in *"$2"*) ok "$3" ;; *) fail "$3: '$2' not in: $1" ;; esac
}
assert_not_contains() {
        case "$1" in *"$2"*) fail "$3: '$2' unexpectedly in: $1" ;; *) ok "$3" ;; esac
}

# Ends the test: prints the tally and fails when anything failed.
fixture_finish() {
        echo "$TESTS_PASSED passed, $TESTS_FAILED failed"
        [ "$TESTS_FAILED" -eq 0 ]
}

# wait_until SECONDS COMMAND...: poll until COMMAND succeeds.
wait_until() {
        local deadline=$((SECONDS + $1)); shift
        until "$@" >/dev/null 2>&1; do
                [ $SECONDS -lt $deadline ] || return 1
                sleep 0.05
        done
}

# bus_start: a system-type bus from Debian's own system.conf, with only the
# socket, pid file, service and policy directories made ours. Its default
# policy stays as shipped; our policy file is included after it, as on a host.
# HOSTAGENT_TEST_BUS=broker serves it with dbus-broker instead (the default is
# dbus-daemon). BUS_RELAY_PID is the process that relays the messages.
bus_start() {
        local dir="$T/bus"
        mkdir -p "$dir/system.d" "$dir/services"
        cp "$HOSTAGENT_SOURCE_DIR/systemd/org.hostagent1.conf" "$dir/system.d/"
        sed -e '/<user>/d' -e '/<fork\/>/d' -e '/<standard_system_servicedirs\/>/d' \
            -e '/<servicehelper>/d' -e '/<syslog\/>/d' -e '/<include[ >]/d' -e '/<includedir>/d' \
            -e "s|<pidfile>.*</pidfile>|<pidfile>$dir/pid</pidfile>|" \
            -e "s|<listen>.*</listen>|<listen>unix:path=$dir/socket</listen>|" \
            -e "s|</busconfig>|<servicedir>$dir/services</servicedir><includedir>$dir/system.d</includedir></busconfig>|" \
            /usr/share/dbus-1/system.conf > "$dir/bus.conf"
        grep -q "$dir/socket" "$dir/bus.conf" || { echo "bus.conf: no <listen> replaced" >&2; return 1; }
        # HOSTAGENT_TEST_BUS_LIMITS="name=value ...": <limit> elements in the main configuration
        # (where dbus-daemon takes them; a benchmark shows what a host's limits change).
        local limit
        for limit in ${HOSTAGENT_TEST_BUS_LIMITS:-}; do
                sed -i "s|</busconfig>|<limit name=\"${limit%%=*}\">${limit#*=}</limit></busconfig>|" "$dir/bus.conf"
        done
        ! grep -q '<user>' "$dir/bus.conf" || { echo "bus.conf: <user> left in" >&2; return 1; }
        export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$dir/socket"
        if [ "${HOSTAGENT_TEST_BUS:-daemon}" = broker ]; then
                bus_start_broker "$dir"
                return
        fi
        local pid
        pid=$(dbus-daemon --config-file="$dir/bus.conf" --fork --print-pid=1 --nopidfile 2>"$dir/log")
        fixture_track "$pid"
        BUS_PID=$pid BUS_RELAY_PID=$pid
}

# bus_start_broker DIR: the same configuration served by dbus-broker, as on
# Fedora/RHEL hosts (HOSTAGENT_TEST_BUS=broker). dbus-broker-launch takes its
# listening socket by socket activation (LISTEN_FDS, made here by
# bus-listen.py, which binds DIR/socket and execs it) and logs only to the
# journal's socket: in a mount namespace of its own, /run/systemd is DIR/run,
# where bus-listen.py --journal keeps that socket and writes what arrives to
# DIR/log. Its own connection (to systemd, for activation) goes to this bus,
# never the machine's. BUS_PID is the launcher (SIGHUP reloads, SIGTERM stops
# both), BUS_RELAY_PID the dbus-broker that relays the messages. Activation
# from the service directory needs systemd there: not on this bus.
bus_start_broker() {
        local dir=$1 helper="$HOSTAGENT_SOURCE_DIR/tests/lib/bus-listen.py"
        mkdir -p "$dir/run/journal"
        /usr/bin/python3 "$helper" --journal "$dir/run/journal/socket" "$dir/log" &
        fixture_track $!
        wait_until 10 test -S "$dir/run/journal/socket" || { echo "no journal socket for dbus-broker" >&2; return 1; }
        env -u NOTIFY_SOCKET unshare --mount --propagation private -- sh -ec "
                mount --bind $dir/run /run/systemd
                exec /usr/bin/python3 $helper --listen $dir/socket \
                        dbus-broker-launch --scope system --config-file $dir/bus.conf" 2>>"$dir/log" &
        BUS_PID=$!
        fixture_track "$BUS_PID"
        wait_until 20 busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId ||
                { echo "dbus-broker did not answer; its log:" >&2; cat "$dir/log" >&2; return 1; }
        BUS_RELAY_PID=$(cat "/proc/$BUS_PID/task/$BUS_PID/children")
        BUS_RELAY_PID=${BUS_RELAY_PID%% *}
}

# bus_reload: the bus re-reads its configuration (service files too; both
# dbus-daemon and dbus-broker-launch reload on SIGHUP).
bus_reload() { kill -HUP "$BUS_PID"; sleep 0.2; }

name_owned() {
        busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
                NameHasOwner s org.hostagent1 2>/dev/null | grep -q '^b true$'
}

# daemon_start ARGS...: run hostagentd and wait until it owns its name.
# DAEMON_PREFIX (an array) runs it through a wrapper that execs it, e.g.
# "ip netns exec NS", so its PID is still the daemon's.
DAEMON_PREFIX=()
daemon_start() {
        mkdir -p "$T/state"
        # Run from $T with cores allowed: a crash leaves its core where we look.
        (cd "$T" && ulimit -c unlimited 2>/dev/null; \
         exec "${DAEMON_PREFIX[@]}" "$HOSTAGENTD" --config=/dev/null --state-dir="$T/state" "$@" 2>>"$T/daemon.log") &
        DAEMON_PID=$!
        fixture_track "$DAEMON_PID"
        if ! wait_until 20 name_owned; then
                echo "hostagentd did not own org.hostagent1; its log:" >&2
                cat "$T/daemon.log" >&2
                return 1
        fi
}

# daemon_stop: SIGTERM, then the exit status (sanitizer builds fail on leaks).
daemon_stop() {
        kill -TERM "$DAEMON_PID"
        local rc=0
        wait "$DAEMON_PID" || rc=$?
        return $rc
}

# bus_monitor_start FILE COMMAND...: runs COMMAND, a bus monitor (gdbus
# monitor --dest NAME, busctl monitor, dbus-monitor), in the background with
# its output in FILE (its stderr too, unless MONITOR_STDERR names a file to
# append that to), tracked, its PID in MONITOR_PID. Returns once the bus
# delivers it what it asked for, so no signal sent later is missed (a sleep
# proves nothing on a loaded machine):
# - busctl monitor and dbus-monitor become monitors, their rules given in the
#   one call the bus answers; then busctl says so on stderr, and dbus-monitor
#   prints the NameLost of its own name that the bus sends it then;
# - gdbus monitor --dest NAME adds a match rule on the signals of NAME's
#   owner, which the bus lists (tests/lib/bus-monitor-ready.py). Start it once
#   NAME is owned: gdbus learns of a later owner only when it is there, and
#   may miss its first signals.
bus_monitor_start() {
        local file=$1 err=${MONITOR_STDERR:-$1} seen=0 dest="" prev="" arg
        shift
        # A shared stderr log may have the words of an earlier monitor.
        if [ -n "${MONITOR_STDERR:-}" ] && [ -f "$err" ]; then seen=$(grep -c "Monitoring bus message stream" "$err"); fi
        if [ -n "${MONITOR_STDERR:-}" ]; then "$@" > "$file" 2>>"$err" &
        else "$@" > "$file" 2>&1 &
        fi
        MONITOR_PID=$!
        MONITOR_FILE=$file
        fixture_track "$MONITOR_PID"
        for arg in "$@"; do
                case "$prev" in --dest|-d) dest=$arg ;; esac
                case "$arg" in --dest=*) dest=${arg#--dest=} ;; esac
                prev=$arg
        done
        case " $* " in
        *" gdbus monitor "*)
                /usr/bin/python3 "$HOSTAGENT_SOURCE_DIR/tests/lib/bus-monitor-ready.py" "$MONITOR_PID" "$dest" ;;
        *" busctl "*" monitor "*)
                wait_until 20 sh -c "[ \$(grep -c 'Monitoring bus message stream' '$err') -gt $seen ]" ;;
        *dbus-monitor*)
                wait_until 20 grep -q "member=NameLost" "$file" ;;
        *)
                echo "bus_monitor_start: $1 is not a bus monitor it knows" >&2; false ;;
        esac || { fail "bus monitor $* is not subscribed; its output: $(cat "$file")"; return 1; }
}

# bus_monitor_stop: stops the busctl monitor of bus_monitor_start once all
# the agent sent so far is in its file: a Peer.Ping to the agent, sent now,
# shows there after it (the bus passes messages on in order).
bus_monitor_stop() {
        local pings
        pings=$(grep -cE 'Member=Ping|"member":"Ping"' "$MONITOR_FILE")
        busctl --system call org.hostagent1 /org/hostagent1 org.freedesktop.DBus.Peer Ping >/dev/null 2>&1
        wait_until 10 sh -c "[ \$(grep -cE 'Member=Ping|\"member\":\"Ping\"' '$MONITOR_FILE') -gt $pings ]" ||
                fail "bus monitor: the Ping to the agent never showed in $MONITOR_FILE"
        kill "$MONITOR_PID"
}

# gv_string TEXT: TEXT as a GVariant string literal, for gdbus arguments (any bytes pass verbatim).
gv_string() { local s=${1//\\/\\\\}; printf '"%s"' "${s//\"/\\\"}"; }

# bus_call PATH INTERFACE.METHOD ARGS...: a call through gdbus, whose failures name the error.
# It waits as long as the agent may take (its own deadline is --call-timeout, 60 s), not gdbus's
# 25 s: a slow machine (a sanitizer build) must not turn a late reply into a missing one.
bus_call() {
        local path=$1 method=$2; shift 2
        gdbus call --system --timeout 120 -d org.hostagent1 -o "$path" -m "$method" "$@" 2>&1
}
# manager_call METHOD ARGS...: a Manager method.
manager_call() { local m=$1; shift; bus_call /org/hostagent1 "org.hostagent1.Manager.$m" "$@"; }

# bus_path_escape TEXT: one element of an object path as sd_bus_path_encode() makes it: what a
# path cannot hold as _xx, and a leading digit too ("web-1" is "web_2d1", a UUID "_3...").
bus_path_escape() {
        local s=$1 out="" c i
        for ((i = 0; i < ${#s}; i++)); do
                c=${s:i:1}
                case "$c" in [A-Za-z0-9]) out+=$c ;; *) out+=$(printf '_%02x' "'$c") ;; esac
        done
        case "$out" in [0-9]*) out=$(printf '_%02x' "'${out:0:1}")${out:1} ;; esac
        echo "${out:-_}"
}

# prop NAME: one Manager property, as busctl prints it ("s \"x\"", "b true").
prop() {
        busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager "$1"
}

# ovs_start: Open vSwitch in user space for $NETNS: ovsdb-server on $OVSDB
# (a socket of ours), ovs-vswitchd in the namespace (bridges need
# datapath_type=netdev there; they appear as tap devices in $NETNS).
ovs_start() {
        O="$T/ovs"
        mkdir -p "$O"
        OVSDB="unix:$O/db.sock"
        ovsdb-tool create "$O/conf.db" /usr/share/openvswitch/vswitch.ovsschema || return 1
        ovsdb_server_start || return 1
        ovs-vsctl --db="$OVSDB" --no-wait init
        ip netns exec "$NETNS" env OVS_RUNDIR="$O" ovs-vswitchd "$OVSDB" --pidfile="$O/vswitchd.pid" \
                --unixctl="$O/vswitchd.ctl" --log-file="$O/vswitchd.log" --detach || return 1
        fixture_track "$(cat "$O/vswitchd.pid")"
}
ovsdb_server_start() {
        ovsdb-server --remote="punix:$O/db.sock" --pidfile="$O/ovsdb.pid" --unixctl="$O/ovsdb.ctl" \
                --log-file="$O/ovsdb.log" --detach "$O/conf.db" || return 1
        OVSDB_PID=$(cat "$O/ovsdb.pid")
        fixture_track "$OVSDB_PID"
}

# netns_start TAG: a network namespace of this test's own, $NETNS
# (hostagent-TAG-PID), with loopback up; deleted when the test ends.
netns_start() {
        NETNS=hostagent-$1-$$
        ip netns add "$NETNS" || return 1
        fixture_on_exit 'ip netns del $NETNS'
        ip -n "$NETNS" link set lo up
}

# nfs_start: a network namespace of our own ($NETNS) with loopback and one
# addressed veth pair (ganesha resolves its bind address with AI_ADDRCONFIG,
# which ignores loopback), rpcbind and nfs-ganesha serving $T/nfs/export as
# /export over NFSv3/v4 on 127.0.0.1, both with a private /run.
# NFS_NETNS and NFS_BIND_ADDR: serve on that address in that (existing) namespace instead
# (two-hosts.sh: host A's address, which host B reaches too).
NFS_NETNS=""
NFS_BIND_ADDR=127.0.0.1
nfs_start() {
        if [ -n "$NFS_NETNS" ]; then
                NETNS=$NFS_NETNS
        else
                netns_start test || return 1
                ip -n "$NETNS" link add hat0 type veth peer name hat1
                ip -n "$NETNS" addr add 198.51.100.1/30 dev hat0
                ip -n "$NETNS" link set hat0 up
                ip -n "$NETNS" link set hat1 up
        fi
        mkdir -p "$T/nfs/export" "$T/nfs/recov" "$T/nfs/run"
        cat > "$T/nfs/ganesha.conf" <<CONF
NFS_CORE_PARAM { Bind_addr = $NFS_BIND_ADDR; NFS_Port = 2049; MNT_Port = 20048; Enable_NLM = false;
  Enable_RQUOTA = false; Enable_UDP = false; Mount_Path_Pseudo = true; Protocols = 3, 4; }
NFSV4 { Graceless = true; RecoveryBackend = fs; RecoveryRoot = $T/nfs/recov; }
EXPORT { Export_Id = 1; Path = $T/nfs/export; Pseudo = /export; Access_Type = RW; Squash = No_Root_Squash;
  Protocols = 3, 4; Transports = TCP; SecType = sys; FSAL { Name = VFS; } }
CONF
        ip netns exec "$NETNS" unshare --mount --propagation private -- sh -c \
                "mount --bind $T/nfs/run /run && exec rpcbind -f" 2>>"$T/nfs/rpcbind.log" &
        fixture_track $!
        wait_until 10 ip netns exec "$NETNS" rpcinfo -p "$NFS_BIND_ADDR" || { echo "rpcbind did not start" >&2; return 1; }
        nfs_server_start
}

# nfs_server_start / nfs_server_kill: the NFS server comes and goes ($NFS_PID).
nfs_server_start() {
        ip netns exec "$NETNS" unshare --mount --propagation private -- sh -c \
                "mount --bind $T/nfs/run /run && exec ganesha.nfsd -F -f $T/nfs/ganesha.conf -L $T/nfs/ganesha.log -p $T/nfs/ganesha.pid -N NIV_EVENT" &
        NFS_PID=$!
        fixture_track "$NFS_PID"
        wait_until 20 sh -c "ip netns exec $NETNS rpcinfo -p $NFS_BIND_ADDR | grep -q nfs" ||
                { echo "ganesha did not start; its log:" >&2; cat "$T/nfs/ganesha.log" >&2; return 1; }
}
nfs_server_kill() { kill -KILL "$NFS_PID"; wait "$NFS_PID" 2>/dev/null; true; }

# A private libvirtd (test driver and QEMU), in its own mount namespace so its
# fixed paths (/run, /etc/libvirt, /var/lib/libvirt) are ours. The QEMU
# capability cache is kept between runs under /var/tmp.
libvirtd_start() {
        LV="$T/libvirt"
        mkdir -p "$LV"/{etc,run,lib,log}
        LV_CACHE=${HOSTAGENT_LIBVIRT_CACHE:-/var/tmp/hostagent-libvirt-cache}
        mkdir -p "$LV_CACHE"
        cat > "$LV/etc/libvirtd.conf" <<CONF
unix_sock_group = "root"
unix_sock_rw_perms = "0770"
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:file:/var/log/libvirtd.log"
${LIBVIRTD_CONF_EXTRA:-}
CONF
        cat > "$LV/etc/qemu.conf" <<CONF
user = "root"
group = "root"
dynamic_ownership = 0
security_driver = "none"
cgroup_controllers = [ ]
stdio_handler = "file"
vnc_listen = "127.0.0.1"
spice_listen = "127.0.0.1"
${QEMU_CONF_EXTRA:-}
CONF
        libvirtd_spawn
        LIBVIRT_TEST_URI="test+unix:///default?socket=$LV/run/libvirt/libvirt-sock"
        LIBVIRT_QEMU_URI="qemu+unix:///system?socket=$LV/run/libvirt/libvirt-sock"
}

LIBVIRTD_PREFIX=()
# LIBVIRTD_HOSTNAME: its own UTS namespace with that host name (two hosts on one
# machine, tests/lib/two-hosts.sh); LIBVIRTD_ARGS: more arguments (-l: listen on TCP).
LIBVIRTD_HOSTNAME=""
LIBVIRTD_ARGS=()
libvirtd_spawn() {
        local uts=() set_hostname=""
        [ -n "$LIBVIRTD_HOSTNAME" ] && uts=(--uts) && set_hostname="hostname $LIBVIRTD_HOSTNAME"
        rm -f "$LV/run/libvirtd.pid"
        # Pinned to one CPU: libvirt 9.0 re-probes QEMU when CPUID's APIC ID differs.
        # LIBVIRTD_PREFIX (an array) may put it, and so its guests, in a network namespace.
        "${LIBVIRTD_PREFIX[@]}" taskset -c 0 unshare --mount "${uts[@]}" --propagation private -- sh -ec "
                $set_hostname
                mount --bind $LV/etc /etc/libvirt
                mount --bind $LV/run /run
                mount --bind $LV/lib /var/lib/libvirt
                mount --bind $LV_CACHE /var/cache/libvirt
                mount --bind $LV/log /var/log
                mkdir -p /var/log/libvirt
                exec /usr/sbin/libvirtd -d ${LIBVIRTD_ARGS[*]} -f /etc/libvirt/libvirtd.conf -p /run/libvirtd.pid"
        wait_until 30 test -S "$LV/run/libvirt/libvirt-sock" || { echo "libvirtd did not start" >&2; return 1; }
        wait_until 10 test -s "$LV/run/libvirtd.pid"
        LIBVIRTD_PID=$(cat "$LV/run/libvirtd.pid")
        fixture_track "$LIBVIRTD_PID"
}

libvirtd_stop() {
        kill -TERM "$LIBVIRTD_PID"
        wait_until 20 sh -c "! kill -0 $LIBVIRTD_PID"
        rm -f "$LV/run/libvirt/libvirt-sock"
}

# polkit_start: polkitd on the test's bus ($T/bus, after bus_start), in a mount
# namespace of its own whose actions and rules directories are $T/polkit's:
# the project's .policy is installed there, and rules come from polkit_rule.
# polkitd drops to its own user, so the directories are world-readable. Its
# PID is POLKIT_PID; polkit_stop ends it (the agent then allows root only).
polkit_start() {
        local p="$T/polkit"
        mkdir -p "$p/actions" "$p/rules.d" "$p/usr-rules.d"
        chmod 0755 "$p" "$p/actions" "$p/rules.d" "$p/usr-rules.d"
        cp "$HOSTAGENT_SOURCE_DIR/polkit/org.hostagent1.policy" "$p/actions/"
        chmod 0644 "$p/actions/org.hostagent1.policy"
        if [ ! -f "$T/bus/system.d/org.freedesktop.PolicyKit1.conf" ]; then
                cp /usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf "$T/bus/system.d/"
                bus_reload
        fi
        setsid unshare --mount --propagation private -- sh -ec "
                mount --bind $p/actions /usr/share/polkit-1/actions
                mount --bind $p/rules.d /etc/polkit-1/rules.d
                mount --bind $p/usr-rules.d /usr/share/polkit-1/rules.d
                exec /usr/lib/polkit-1/polkitd --no-debug" >>"$p/log" 2>&1 &
        POLKIT_PID=$!
        fixture_track "$POLKIT_PID"
        wait_until 20 polkit_owned || { echo "polkitd did not own its name; its log:" >&2; cat "$p/log" >&2; return 1; }
}

polkit_owned() {
        busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
                NameHasOwner s org.freedesktop.PolicyKit1 2>/dev/null | grep -q '^b true$'
}

polkit_stop() {
        kill -TERM "$POLKIT_PID"
        wait "$POLKIT_PID" 2>/dev/null || true
        wait_until 20 sh -c '! busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus NameHasOwner s org.freedesktop.PolicyKit1 | grep -q true'
}

# polkit_rule NAME: a rules file from stdin (JavaScript), or none when stdin
# is empty. polkitd reads it a moment later: wait for pkcheck to agree.
polkit_rule() {
        local f="$T/polkit/rules.d/$1.rules" text
        text=$(cat)
        if [ -z "$text" ]; then rm -f "$f"; return; fi
        printf '%s\n' "$text" > "$f.tmp"
        chmod 0644 "$f.tmp"
        mv "$f.tmp" "$f"
}

# polkit_check NAME ACTION [KEY VALUE]...: pkcheck, the oracle, for the bus
# connection NAME: prints 0 (authorized), 1 (not), 2 (authentication needed).
polkit_check() {
        local name=$1 action=$2 args=() rc=0
        shift 2
        while [ $# -ge 2 ]; do args+=(--detail "$1" "$2"); shift 2; done
        pkcheck --action-id "$action" --system-bus-name "$name" "${args[@]}" >/dev/null 2>&1 || rc=$?
        echo "$rc"
}
