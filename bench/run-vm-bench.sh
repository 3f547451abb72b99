#!/bin/bash
# hostagentd and libvirt-dbus side by side on one private libvirtd holding
# DOMAINS defined QEMU domains (three running, two of them paused): listing,
# reading one VM's state and all its properties, GetManagedObjects (and
# Ping while 8 clients pull it), bulk statistics, event latency, the bus floor;
# then hostagentd's startup time and both daemons' memory.
# CALLS 0 measures the event latency alone (from a third libvirt client).
# BENCH_BUSES (default "daemon", or "daemon broker") runs it all on each bus
# daemon in turn, on the same libvirtd: dbus-daemon, then dbus-broker (as on
# Fedora/RHEL hosts), both with the project's policy, and then prints the
# reads of both side by side. BENCH_READS_ONLY=1 measures on each bus only
# what the bus relays for hostagentd: the reads and Ping while 8 clients pull.
# HOSTAGENTD_OPTIONS are more options for hostagentd (e.g. "--listing-rate=64", then with
# BENCH_LOAD_ONLY=1: only Ping under load, not one caller's reads back to back).
# Usage: bench/run-vm-bench.sh [BUILD_DIR] [DOMAINS] [CALLS]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
domains=${2:-1000}
calls=${3:-2000}
buses=${BENCH_BUSES:-daemon}
reads_only=${BENCH_READS_ONLY:-}
export HOSTAGENTD="$build/agent/hostagentd" HOSTAGENT_SOURCE_DIR="$top"
source "$top/tests/lib/fixture.sh"

libvirtd_start
VIRSH="virsh -q -c $LIBVIRT_QEMU_URI"
mkdir -p "$T/domains"
for i in $(seq 0 $((domains - 1))); do
        cat > "$T/domains/$i.xml" <<XML
<domain type='qemu'><name>bench-$i</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
<os><type arch='x86_64'>hvm</type></os>
<devices><graphics type='vnc' autoport='yes' listen='127.0.0.1'/></devices></domain>
XML
        echo "define $T/domains/$i.xml"
done > "$T/define.cmds"
start=$(date +%s.%N)
$VIRSH < "$T/define.cmds" >/dev/null
printf 'defined %d domains in %.1f s\n' "$domains" "$(echo "$(date +%s.%N) - $start" | bc)"
for i in 0 1 2; do $VIRSH start "bench-$i" >/dev/null; done
$VIRSH suspend bench-1 >/dev/null; $VIRSH suspend bench-2 >/dev/null

path_of() { busctl --system call org.hostagent1 /org/hostagent1 org.hostagent1.Manager GetVM s "$1" | cut -d'"' -f2; }
lv_path_of() { busctl --system call org.libvirt /org/libvirt/QEMU org.libvirt.Connect DomainLookupByName s "$1" | cut -d'"' -f2; }
rss() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
rollup() { awk -v k="$2:" '$1 == k { s += $2 } END { print s }' "/proc/$1/smaps_rollup"; }
private() { echo $(($(rollup "$1" Private_Clean) + $(rollup "$1" Private_Dirty))); }

# bench_on_bus KIND: everything below on a fresh private bus of KIND
# (daemon or broker, fixture.sh's HOSTAGENT_TEST_BUS), stopped at the end.
bench_on_bus() {
        HOSTAGENT_TEST_BUS=$1 bus_start
        case $1 in
        daemon) echo "== on $(dbus-daemon --version | head -1), pid $BUS_RELAY_PID ==" ;;
        broker) echo "== on dbus-broker $(dbus-broker-launch --version | awk '{print $2; exit}'), pid $BUS_RELAY_PID ==" ;;
        esac
        LVD_PID=
        if [ -z "$reads_only" ]; then
                cat > "$T/bus/system.d/bench-libvirt-dbus.conf" <<'CONF'
<busconfig><policy user="root"><allow own="org.libvirt"/><allow send_destination="org.libvirt"/></policy></busconfig>
CONF
                bus_reload
                # libvirt-dbus reaches this libvirtd as qemu:///system from inside its mount namespace.
                nsenter -t "$LIBVIRTD_PID" -m -- env DBUS_SYSTEM_BUS_ADDRESS="$DBUS_SYSTEM_BUS_ADDRESS" \
                        libvirt-dbus --system 2>"$T/libvirt-dbus.log" &
                LVD_PID=$!; fixture_track $LVD_PID
                wait_until 120 busctl --system call org.libvirt /org/libvirt/QEMU org.libvirt.Connect ListDomains u 0
        fi

        # Startup: from exec to READY=1 (sd_notify) and to Ready=true (every VM read).
        rm -f "$T/notify" "$T/notify.log"
        "$build/tests/notify-listener" "$T/notify" > "$T/notify.log" &
        NOTIFY_PID=$!; fixture_track $NOTIFY_PID
        wait_until 5 test -S "$T/notify"
        t0=$(date +%s%N)
        NOTIFY_SOCKET="$T/notify" HOSTAGENT_OBJECTS_FAILPOINT="$T/sd-bus-answers" daemon_start --libvirt-uri="$LIBVIRT_QEMU_URI" \
                ${HOSTAGENTD_OPTIONS:-}
        until grep -q READY=1 "$T/notify.log"; do sleep 0.002; done
        t_ready=$(date +%s%N)
        until busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | grep -q true; do
                sleep 0.002
        done
        t_loaded=$(date +%s%N)
        n_vms=$(busctl --system call org.hostagent1 /org/hostagent1 org.hostagent1.Manager ListVMs | awk '{print $2}')

        echo
        if [ -n "$reads_only" ]; then
                BENCH_READS_ONLY=1 BENCH_BUS_PID=$BUS_RELAY_PID BENCH_HOSTAGENTD_PID=$DAEMON_PID \
                        "$build/bench/vm-bench" "$calls" "$(path_of bench-5)" - "$(path_of bench-0)" - | tee "$T/reads-$1.txt"
        else
                BENCH_BUS_PID=$BUS_RELAY_PID BENCH_OBJECTS_FAILPOINT="$T/sd-bus-answers" BENCH_HOSTAGENTD_PID=$DAEMON_PID \
                BENCH_LIBVIRT_DBUS_PID=$LVD_PID \
                        "$build/bench/vm-bench" "$calls" "$(path_of bench-5)" "$(lv_path_of bench-5)" "$(path_of bench-0)" \
                        "$(lv_path_of bench-0)" "$LIBVIRT_QEMU_URI" bench-0 | tee "$T/reads-$1.txt"
        fi
        echo
        printf 'hostagentd startup with %s VMs: READY=1 after %d ms, Ready=true (all VMs read) after %d ms\n' "$n_vms" \
                $(((t_ready - t0) / 1000000)) $(((t_loaded - t0) / 1000000))
        [ -n "$reads_only" ] || memory
        bench_stop
}

# memory: both daemons' memory beside the libvirt floor.
memory() {
        sleep 3   # let the daemon go quiet: it hands freed heap back after 2 s
        echo
        # The floor: a libvirt client that only mirrors the domains (connection,
        # lifecycle events, every domain's state and XML), nothing else.
        read -r floor_rss floor_pss floor_private < <("$build/bench/libvirt-floor" "$LIBVIRT_QEMU_URI")
        printf '%-34s %10s %10s %10s %10s %8s\n' "memory (KiB)" "VmRSS" "VmHWM" "Pss" "private" "threads"
        for who in "hostagentd:$DAEMON_PID" "libvirt-dbus:$LVD_PID"; do
                name=${who%%:*}; pid=${who##*:}
                printf '%-34s %10s %10s %10s %10s %8s\n' "$name" "$(rss "$pid" VmRSS)" "$(rss "$pid" VmHWM)" \
                        "$(rollup "$pid" Pss)" "$(private "$pid")" "$(rss "$pid" Threads)"
        done
        printf '%-34s %10s %10s %10s %10s %8s\n' "libvirt floor (a bare libvirt client)" "$floor_rss" "-" "$floor_pss" \
                "$floor_private" "-"
        for who in "hostagentd:$DAEMON_PID" "libvirt-dbus:$LVD_PID"; do
                name=${who%%:*}; pid=${who##*:}
                printf '%s above the libvirt floor: VmRSS +%d KiB, private +%d KiB\n' "$name" \
                        $(($(rss "$pid" VmRSS) - floor_rss)) $(($(private "$pid") - floor_private))
        done
}

# bench_stop: hostagentd, libvirt-dbus and the bus go; the next bus starts afresh.
bench_stop() {
        local pid
        daemon_stop || true
        for pid in $LVD_PID $NOTIFY_PID $BUS_PID; do
                kill -TERM "$pid" 2>/dev/null || true
                wait_until 20 sh -c "! kill -0 $pid 2>/dev/null" || true
        done
        rm -rf "$T/bus"
        echo
}

for kind in $buses; do bench_on_bus "$kind"; done

# Side by side: the rows every bus measured.
set -- $buses
if [ $# -gt 1 ]; then
        echo "== the reads on each bus (p50 us, p99 us, bus CPU us, hostagentd CPU us per call) =="
        for label in "bus floor: Peer.Ping" "hostagentd ListVMs" "hostagentd Properties.GetAll of one VM" \
                     "hostagentd GetManagedObjects (kept entries)" "Ping, 8 clients pulling GetManagedObjects" \
                     "Ping, 8 clients pulling ListVMs"; do
                for kind in "$@"; do
                        printf '%-7s %s\n' "$kind" "$(grep -F -m1 "$label" "$T/reads-$kind.txt")"
                done
        done
fi
