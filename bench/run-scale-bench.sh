#!/bin/bash
# hostagentd at 100, 1,000 and 10,000 VMs beside the libvirt floor: time to
# READY=1 and to Ready=true, RSS and private memory (Private_Dirty), ListVMs,
# GetManagedObjects, a property read and bulk statistics (beside libvirt's own
# bulk call), and the growth per VM between sizes.
# The VMs are libvirt's test driver in a private libvirtd: a node XML with N
# running domains, each with a disk, a VNC console and the agent's spec in its
# metadata. With QEMU=1, the sizes up to 1,000 are also run as defined QEMU
# domains (shut off: 1,000 running guests do not fit a 2-core machine).
# PERF_DIR=DIR records each daemon's start with perf into DIR/perf-N.data (then the
# memory figures are perf's, not the daemon's).
# Usage: bench/run-scale-bench.sh [BUILD_DIR] [SIZES...]   (default 100 1000 10000)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1000 10000)
export HOSTAGENTD="$build/agent/hostagentd" HOSTAGENT_SOURCE_DIR="$top"
source "$top/tests/lib/fixture.sh"

libvirtd_start
bus_start
"$build/tests/notify-listener" "$T/notify" > "$T/notify.log" &
fixture_track $!
wait_until 5 test -S "$T/notify"

# node_xml N FILE: N test-driver domains.
node_xml() {
        awk -v n="$1" 'BEGIN {
                print "<node>"
                for (i = 0; i < n; i++) {
                        printf "<domain type=\"test\"><name>scale-%d</name><uuid>%08x-0000-4000-8000-%012x</uuid>", i, i, i
                        printf "<memory unit=\"MiB\">128</memory><vcpu>1</vcpu><os><type arch=\"x86_64\">hvm</type></os>"
                        printf "<metadata><ha:hostagent xmlns:ha=\"urn:org.hostagent1:vm:1\"><ha:spec>"
                        printf "{\"name\":\"scale-%d\",\"vcpus\":1,\"memory_mib\":128,\"disks\":[{\"volume\":\"/var/lib/scale/%d.qcow2\"}],\"graphics\":\"vnc\"}", i, i
                        printf "</ha:spec></ha:hostagent></metadata>"
                        printf "<devices><disk type=\"file\" device=\"disk\"><source file=\"/var/lib/scale/%d.qcow2\"/>", i
                        printf "<target dev=\"vda\"/></disk><graphics type=\"vnc\" port=\"%d\" listen=\"127.0.0.1\"/></devices></domain>\n", 5900 + i % 1000
                }
                print "</node>"
        }' > "$2"
}

# qemu_define N: N shut-off QEMU domains (more of them than there were before).
qemu_defined=0
qemu_define() {
        local i
        for i in $(seq "$qemu_defined" $(($1 - 1))); do
                cat > "$T/q-$i.xml" <<XML
<domain type='qemu'><name>scale-$i</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
<os><type arch='x86_64'>hvm</type></os>
<metadata><ha:hostagent xmlns:ha="urn:org.hostagent1:vm:1"><ha:spec>{"name":"scale-$i","vcpus":1,"memory_mib":128}</ha:spec></ha:hostagent></metadata>
<devices><disk type='file' device='disk'><source file='/var/lib/scale/$i.qcow2'/><target dev='vda'/></disk>
<graphics type='vnc' autoport='yes' listen='127.0.0.1'/></devices></domain>
XML
                echo "define $T/q-$i.xml"
        done > "$T/define.cmds"
        virsh -q -c "$LIBVIRT_QEMU_URI" < "$T/define.cmds" > /dev/null
        qemu_defined=$1
}

rollup() { awk -v k="$2:" '$1 == k { s += $2 } END { print s }' "/proc/$1/smaps_rollup"; }
status() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
ms() { echo $((($2 - $1) / 1000000)); }

# measure KIND N URI: one row of figures (see the header printed below).
measure() {
        local kind=$1 n=$2 uri=$3 t0 t_ready t_loaded calls path floor reads
        : > "$T/notify.log"
        [ -z "${PERF_DIR:-}" ] || DAEMON_PREFIX=(perf record -F 400 --call-graph dwarf,8192 -o "$PERF_DIR/perf-$kind-$n.data" --)
        "$build/bench/scale-bench" --wait-ready > "$T/ready-ms" &
        waiter=$!
        t0=$(date +%s%N)
        NOTIFY_SOCKET="$T/notify" daemon_start --libvirt-uri="$uri"
        until grep -q READY=1 "$T/notify.log"; do sleep 0.005; done
        t_ready=$(date +%s%N)
        wait "$waiter"
        t_loaded=$((t0 + $(cat "$T/ready-ms") * 1000000))
        # Memory once quiet (freed heap goes back after 2 s), before the reads
        # and long before the first reconcile (a full re-read after 60 s).
        sleep 3
        memory="$(status "$DAEMON_PID" VmRSS) $(rollup "$DAEMON_PID" Private_Dirty)"
        # The floor: a bare libvirt client reading the same domains (its own test-driver instance).
        read -r -d '' floor < <("$build/bench/libvirt-floor" "$uri"; printf '\0') || true
        calls=$((20000 / n)); [ $calls -ge 5 ] || calls=5
        path=$(busctl --system call org.hostagent1 /org/hostagent1 org.hostagent1.Manager GetVM s scale-1 | cut -d'"' -f2)
        reads=$("$build/bench/scale-bench" "$calls" "$path" "$uri")
        printf '%s %s %s %s %s %s %s\n' "$kind" "$n" "$(ms "$t0" "$t_ready")" "$(ms "$t0" "$t_loaded")" \
                "$memory" "$(echo "$floor" | tr '\n' ' ')" "$reads" >> "$T/rows"
        daemon_stop || [ -n "${PERF_DIR:-}" ]
}

: > "$T/rows"
for n in "${sizes[@]}"; do
        node_xml "$n" "$T/node-$n.xml"
        measure test "$n" "test+unix://$T/node-$n.xml?socket=$LV/run/libvirt/libvirt-sock"
done
if [ "${QEMU:-0}" = 1 ]; then
        for n in "${sizes[@]}"; do
                [ "$n" -le 1000 ] || continue
                qemu_define "$n"
                measure qemu "$n" "$LIBVIRT_QEMU_URI"
        done
fi

# rows: kind n ready loaded rss private floor_rss floor_pss floor_priv floor_open floor_bulk floor_all
#       floor_private_dirty list gmo get stats lv_stats
awk '
function per(a, b, na, nb) { return nb > na ? (b - a) / (nb - na) : 0 }
{
        k = $1; n[NR] = $2; kind[NR] = k
        ready[NR] = $3; loaded[NR] = $4; rss[NR] = $5; priv[NR] = $6
        frss[NR] = $7; fopen[NR] = $10; fbulk[NR] = $11; fall[NR] = $12; fpriv[NR] = $13
        list[NR] = $14; gmo[NR] = $15; get[NR] = $16; stats[NR] = $17; lvstats[NR] = $18
}
END {
        printf "%-5s %6s | %8s %8s %8s %8s %9s | %8s %8s %8s %8s | %8s %8s %8s %8s %8s %6s\n",
               "", "VMs", "READY=1", "Ready", "lv bulk", "lv+XML", "Ready-lv", "RSS", "private", "lv priv",
               "KiB/VM", "ListVMs", "GetMO", "Get", "stats", "lv stats", "ratio"
        printf "%-5s %6s | %8s %8s %8s %8s %9s | %8s %8s %8s %8s | %8s %8s %8s %8s %8s %6s\n",
               "", "", "ms", "ms", "ms", "ms", "ms", "KiB", "KiB", "KiB", "beyond", "us", "us", "us", "us", "us", ""
        for (i = 1; i <= NR; i++)
                printf "%-5s %6d | %8d %8d %8.0f %8.0f %9.0f | %8d %8d %8d %8.2f | %8.0f %8.0f %8.0f %8.0f %8.0f %5.2fx\n",
                       kind[i], n[i], ready[i], loaded[i], fbulk[i], fall[i], loaded[i] - fbulk[i], rss[i], priv[i],
                       fpriv[i], (priv[i] - fpriv[i]) / n[i], list[i], gmo[i], get[i], stats[i], lvstats[i],
                       (lvstats[i] > 0 ? stats[i] / lvstats[i] : 0)
        print ""
        print "growth per added VM (between consecutive sizes)"
        printf "%-5s %13s | %10s %12s %12s | %10s %10s %10s\n", "", "VMs", "Ready us", "private KiB", "lv priv KiB",
               "ListVMs us", "GetMO us", "stats us"
        for (i = 2; i <= NR; i++) {
                if (kind[i] != kind[i - 1])
                        continue
                printf "%-5s %6d-%-6d | %10.1f %12.3f %12.3f | %10.3f %10.3f %10.3f\n", kind[i], n[i - 1], n[i],
                       per(loaded[i - 1], loaded[i], n[i - 1], n[i]) * 1000, per(priv[i - 1], priv[i], n[i - 1], n[i]),
                       per(fpriv[i - 1], fpriv[i], n[i - 1], n[i]), per(list[i - 1], list[i], n[i - 1], n[i]),
                       per(gmo[i - 1], gmo[i], n[i - 1], n[i]), per(stats[i - 1], stats[i], n[i - 1], n[i])
        }
}' "$T/rows"
echo
echo "lv bulk: a bare libvirt client connected, listed every domain and read every state (ms after it began);"
echo "lv+XML: and read every domain's XML. Ready-lv: hostagentd's Ready=true minus lv bulk."
echo "private: Private_Dirty; KiB/VM beyond: (hostagentd's - the libvirt floor's) / VMs."
echo "ratio: GetAllVMStats / libvirt's own virConnectGetAllDomainStats (same groups, NOWAIT, in-process)."
