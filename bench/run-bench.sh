#!/bin/bash
# Side by side in one run, on one private system bus: hostagentd and
# libvirt-dbus (both on libvirt's test driver), the bus daemon itself as the
# floor, and libvirt called in-process. Prints latencies, throughput, memory
# and the ratios. Usage: bench/run-bench.sh [BUILD_DIR] [CALLS]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
calls=${2:-5000}
export HOSTAGENTD="$build/agent/hostagentd" HOSTAGENT_SOURCE_DIR="$top"
source "$top/tests/lib/fixture.sh"

bus_start
# libvirt-dbus's own policy lets only its service user own org.libvirt; the
# benchmark runs it as root, so this bus allows that.
cat > "$T/bus/system.d/bench-libvirt-dbus.conf" <<'CONF'
<busconfig><policy user="root"><allow own="org.libvirt"/><allow send_destination="org.libvirt"/></policy></busconfig>
CONF
bus_reload
daemon_start --libvirt-uri=test:///default
libvirt-dbus --system 2>"$T/libvirt-dbus.log" &
LVD_PID=$!; fixture_track $LVD_PID
wait_until 20 busctl --system get-property org.libvirt /org/libvirt/Test org.libvirt.Connect Version
wait_until 20 sh -c 'busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager LibvirtConnected | grep -q true'

"$build/bench/bus-bench" "$calls"

rss() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
echo
printf '%-14s %12s %12s %8s\n' "memory" "VmRSS KiB" "VmHWM KiB" "threads"
for who in "hostagentd:$DAEMON_PID" "libvirt-dbus:$LVD_PID"; do
        name=${who%%:*}; pid=${who##*:}
        printf '%-14s %12s %12s %8s\n' "$name" "$(rss "$pid" VmRSS)" "$(rss "$pid" VmHWM)" "$(rss "$pid" Threads)"
done
echo "hostagentd peak RSS is $(awk "BEGIN { printf \"%.2f\", $(rss "$DAEMON_PID" VmHWM) / $(rss "$LVD_PID" VmHWM) }")x libvirt-dbus's"
