#!/bin/bash
# The attacks of issue 14 ("who may do what, and everyone gets a fair share"), each by unprivileged
# clients (uid 65534) on a private bus with the project's policy, the agent on a private libvirtd's
# test driver; meanwhile root creates VMs one after the other (each undefined again, untimed) and
# pings the agent every 10 ms. Prints, per attack beside a run without attackers: root's CreateVM
# success rate and latency, Ping's p50/p99, the agent's peak memory and the lines it logged, and
# the targets. Not a test: it measures what is there.
# Usage: bench/run-attack-bench.sh [BUILD_DIR] [SECONDS_PER_RUN] [VMS_FOR_THE_LISTING_ATTACK]
# ATTACKS="hoststats bigarg" (kinds of attack-bench; "none" the run without attackers) runs only
# those rows; HOSTAGENTD_OPTIONS are more options for hostagentd (e.g. "--listing-rate=256");
# HOSTAGENT_TEST_BUS_LIMITS="max_message_size=1048576 ..." sets the bus daemon's limits (its main
# configuration: a host's, not the project's policy file, can set them);
# PERF_RECORD=DIR records each attack's agent with perf record -g into DIR/KIND.data.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
seconds=${2:-15}
vms=${3:-1000}
export HOSTAGENTD="$build/agent/hostagentd" HOSTAGENT_SOURCE_DIR="$top"
AB="$build/bench/attack-bench"
source "$top/tests/lib/fixture.sh"

libvirtd_start
bus_start
daemon_start --libvirt-uri="$LIBVIRT_TEST_URI" ${HOSTAGENTD_OPTIONS:-}
wait_until 60 sh -c 'busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | grep -q true'
max_ops=$(busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager MaxOperations | cut -d' ' -f2)

printf '%s s per run; hostagentd MaxOperations %s; %s\n\n' "$seconds" "$max_ops" "$(nproc) CPUs"
printf '%-52s %15s %8s %8s %8s | %8s %8s %8s | %8s %9s  %s\n' "attack (by uid 65534)" "root CreateVM" "p50 ms" \
        "p99 ms" "max ms" "Ping p50" "p99" "max" "peak MiB" "log lines/s" "root's errors"
RUN=0
# run LABEL [KIND CLIENTS CONNECTIONS WINDOW]: one row.
run() {
        local label=$1 apid="" lines0 out ok tries p50 p99 max rest ping_p50 ping_p99 ping_max hwm
        shift
        RUN=$((RUN + 1))
        if [ -n "${ATTACKS:-}" ] && ! grep -qw -- "${1:-none}" <<< "$ATTACKS"; then return 0; fi
        echo 5 > "/proc/$DAEMON_PID/clear_refs"     # VmHWM from now on
        if [ $# -gt 0 ]; then
                setpriv --reuid=65534 --regid=65534 --clear-groups "$AB" attack "$@" &
                apid=$!
                fixture_track "$apid"
                sleep 2   # the attack under way
                if [ -n "${PERF_RECORD:-}" ]; then
                        perf record -g -o "$PERF_RECORD/$1.data" -p "$DAEMON_PID" -- sleep "$seconds" >/dev/null 2>&1 &
                        perf record -g -o "$PERF_RECORD/$1-bus.data" -p "$BUS_PID" -- sleep "$seconds" >/dev/null 2>&1 &
                fi
        fi
        lines0=$(wc -l < "$T/daemon.log")
        out=$("$AB" victim "$seconds" "victim$RUN")
        sed -n "s|^note |  $label: |p" <<< "$out" >> "$T/notes"
        out=$(head -1 <<< "$out")
        hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$DAEMON_PID/status")
        if [ -n "$apid" ]; then kill "$apid"; wait "$apid" 2>/dev/null || true; fi
        # "createvm OK TRIES P50 P99 MAX ERRORS... | ping N P50 P99 MAX"
        read -r _ ok tries p50 p99 max rest <<< "${out%%|*}"
        read -r _ _ ping_p50 ping_p99 ping_max <<< "${out##*|}"
        printf '%-52s %6.1f%% %4s/%-4s %8s %8s %8s | %8s %8s %8s | %8d %11d  %s\n' "$label" \
                "$(echo "scale=1; 100 * $ok / ($tries + ($tries == 0))" | bc)" "$ok" "$tries" "$p50" "$p99" "$max" \
                "$ping_p50" "$ping_p99" "$ping_max" $((hwm / 1024)) $((($(wc -l < "$T/daemon.log") - lines0) / seconds)) "${rest:--}"
        sleep 1   # let what the attack left in flight drain
}

run "none"
run "8 pipelining GetHostStats/AllVMStats/NetworkCaps" stats 8 1 16
run "250 conns (10 x 25), 100 GetHostStats pending each" hoststats 10 25 100
run "8 sending GetVM with a 30 MB argument" bigarg 8 1 1
run "8 sending CreateVM, refused (the denial log)" denials 8 1 16

# A host with many VMs (libvirt's test driver): the listing attack.
if [ -z "${ATTACKS:-}" ] || grep -qw lists <<< "$ATTACKS"; then
mkdir -p "$T/domains"
for i in $(seq 0 $((vms - 1))); do
        printf "<domain type='test'><name>many-%d</name><memory unit='MiB'>128</memory><os><type>hvm</type></os></domain>\n" \
                "$i" > "$T/domains/$i.xml"
        echo "define $T/domains/$i.xml"
done | virsh -q -c "$LIBVIRT_TEST_URI" >/dev/null
wait_until 120 sh -c "[ \$(busctl --system call org.hostagent1 /org/hostagent1 org.hostagent1.Manager ListVMs | awk '{print \$2}') -ge $vms ]"
echo "-- with $vms more VMs (test driver)"
run "none"
run "8 pipelining GetManagedObjects/ListVMs" lists 8 1 4
fi

[ ! -s "$T/notes" ] || { echo; echo "the first message of each error root got:"; cat "$T/notes"; }
echo
echo "targets (issue 14): root's CreateVM succeeds >= 99 % and Ping p99 < 20 ms under every attack"
