#!/bin/bash
# confine.sh COMMAND...: runs COMMAND (the agent under the fuzzer) in the mount namespace it is
# started in (run it through `unshare --mount --propagation private`), with the whole file system
# read-only but for $CONFINE_RW (directories, kept writable) and $CONFINE_TMPFS (directories that
# get a small tmpfs of their own: the pools, so that no fuzzed size or preallocation fills the
# host's disk), and a /dev with only null, zero, full, random and urandom: a fuzzed pool path or
# LVM device can then reach nothing of the host's. It execs COMMAND, so its PID stays the agent's.
set -euo pipefail
: "${CONFINE_RW:?}" "${CONFINE_TMPFS:?}"

keep=()
for dir in $CONFINE_RW; do mount --bind "$dir" "$dir"; keep+=("$dir"); done
for dir in $CONFINE_TMPFS; do mount -t tmpfs -o size=64m,mode=0755 fuzz-pools "$dir"; keep+=("$dir"); done

# Every other mount read-only (this namespace's copies of them only), deepest first.
mapfile -t mounts < <(awk '{ print $5 }' /proc/self/mountinfo | sort -r)
for mp in "${mounts[@]}"; do
        for k in "${keep[@]}"; do [ "$mp" != "$k" ] || continue 2; done
        case "$mp" in /dev|/dev/*|/proc/*) continue ;; esac
        mount -o remount,bind,ro "$mp" 2>/dev/null || true
done
mount -t tmpfs -o size=1m,mode=0755 fuzz-dev /dev
while read -r name major minor; do
        mknod -m 0666 "/dev/$name" c "$major" "$minor"
done <<'NODES'
null 1 3
zero 1 5
full 1 7
random 1 8
urandom 1 9
NODES
mount -o remount,bind,ro /dev

# The host is out of reach, or the agent does not start.
for probe in / /tmp /var/tmp /run "$(dirname "$(echo $CONFINE_RW | cut -d' ' -f1)")"; do
        if touch "$probe/.fuzz-confine-probe" 2>/dev/null; then
                rm -f "$probe/.fuzz-confine-probe"
                echo "confine.sh: $probe is still writable" >&2
                exit 1
        fi
done
[ ! -e /dev/vda ] || { echo "confine.sh: the host's block devices are still in /dev" >&2; exit 1; }
# A crash's core goes where the run looks for it ($CONFINE_CWD, one of the writable ones).
[ -z "${CONFINE_CWD:-}" ] || cd "$CONFINE_CWD"
exec "$@"
