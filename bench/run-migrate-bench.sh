#!/bin/bash
# The same guest migrated back and forth between two hosts on one machine
# (tests/lib/two-hosts.sh), RUNS times by libvirt directly (virsh migrate --live
# --p2p) and RUNS times through the agent (VM.Migrate, waited for by
# hostagentctl migrate, as a person would), side by side: the wall time of each
# and the agent's overhead; then how often a subscriber hears of progress
# (Migration.PropertiesChanged) during one slower migration.
# Usage: bench/run-migrate-bench.sh [BUILD_DIR] [RUNS]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
runs=${2:-10}
export HOSTAGENTD="$build/agent/hostagentd" HOSTAGENT_SOURCE_DIR="$top"
CTL="$build/ctl/hostagentctl"
source "$top/tests/lib/fixture.sh"
source "$top/tests/lib/storage.sh"
source "$top/tests/lib/small-guest.sh"
source "$top/tests/lib/two-hosts.sh"
set +e

small_guest_build && two_hosts_start && two_hosts_nfs || { echo "cannot set up the two hosts" >&2; exit 1; }
on_a pool_call /org/hostagent1/storage/shared CreateVolume bdisk 16777216 qcow2 {} >/dev/null
DISK="<disk type='network' device='disk'><driver name='qemu' type='qcow2'/><source protocol='nfs' name='/export/bdisk'>
  <host name='$A_ADDR'/><identity user='root' group='root'/></source><target dev='vda' bus='virtio'/></disk>"
SMALL_GUEST_DIRTY_RATE=16 small_guest_xml bench "$T/bench.console" 16 "$DISK" > "$T/bench.xml"
virsh -q -c "$A_LV_URI" define "$T/bench.xml" >/dev/null && virsh -q -c "$A_LV_URI" start bench >/dev/null
wait_until 60 grep -q 'small-guest: uptime [3-9]' "$T/bench.console" || { echo "the guest did not boot" >&2; exit 1; }

now() { date +%s.%N; }
# One migration of "bench" from host $1 to the other, by libvirt: its wall time.
by_libvirt() {
        local uri dest t0
        if [ "$1" = a ]; then uri=$A_LV_URI dest=$B_URI; else uri=$B_LV_URI dest=$A_URI; fi
        t0=$(now)
        virsh -q -c "$uri" migrate --live --p2p --persistent --undefinesource bench "$dest" >/dev/null || return 1
        echo "$(now) - $t0" | bc
}
# The same through that host's agent, waited for by hostagentctl.
by_agent() {
        local dest t0
        if [ "$1" = a ]; then dest=$B_URI; else dest=$A_URI; fi
        t0=$(now)
        "on_$1" "$CTL" -q migrate bench "$dest" >/dev/null || return 1
        echo "$(now) - $t0" | bc
}
settle() { wait_until 30 sh -c "virsh -q -c $1 domstate bench 2>/dev/null | grep -qx running"; sleep 0.5; }

declare -a lv ag
from=a
for i in $(seq "$runs"); do
        for how in libvirt agent; do
                t=$("by_$how" "$from") || { echo "migration $i by $how failed" >&2; exit 1; }
                if [ "$how" = libvirt ]; then lv+=("$t"); else ag+=("$t"); fi
                if [ "$from" = a ]; then from=b; settle "$B_LV_URI"; else from=a; settle "$A_LV_URI"; fi
        done
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
mean() { printf '%s\n' "$@" | awk '{s+=$1} END {printf "%.3f", s/NR}'; }
printf '\n%-32s %10s %10s\n' "$runs migrations each" "median s" "mean s"
printf '%-32s %10.3f %10s\n' "virsh migrate --live --p2p" "$(median "${lv[@]}")" "$(mean "${lv[@]}")"
printf '%-32s %10.3f %10s\n' "agent (hostagentctl migrate)" "$(median "${ag[@]}")" "$(mean "${ag[@]}")"
printf '%-32s %9.1f%%\n' "agent overhead (median)" \
        "$(echo "($(median "${ag[@]}") / $(median "${lv[@]}") - 1) * 100" | bc -l)"

# Progress as a subscriber hears it: one migration under a 32 MiB/s cap.
[ "$from" = a ] && on=on_a dest=$B_URI || { on=on_b; dest=$A_URI; }
$on bus_monitor_start "$T/mon" busctl --system monitor --json=short org.hostagent1
$on "$CTL" -q migrate bench "$dest" --bandwidth=32 >/dev/null
MONITOR_FILE=$T/mon $on bus_monitor_stop
/usr/bin/python3 - "$T/mon" <<'PY'
import json, sys
ts = []
for line in open(sys.argv[1]):
    try:
        m = json.loads(line)
    except ValueError:
        continue
    p = (m.get("payload") or {}).get("data") or []
    if m.get("member") == "PropertiesChanged" and p and p[0] == "org.hostagent1.Migration":
        ts.append(m.get("timestamp-realtime", 0) / 1e6)
gaps = [b - a for a, b in zip(ts, ts[1:])]
print("Migration updates heard: %d, largest gap between two: %.2f s" % (len(ts), max(gaps) if gaps else float("nan")))
PY
