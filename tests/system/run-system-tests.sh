#!/bin/bash
# System tests on a real host: boots a Debian 12 VM (systemd as PID 1) under
# TCG with this build installed by cmake --install, runs guest-run.sh inside
# it and reports each check. The guest's journal is printed on failure.
set -euo pipefail
: "${HOSTAGENT_SOURCE_DIR:?}" "${HOSTAGENT_BUILD_DIR:?}"
here=$(cd "$(dirname "$0")" && pwd)

image=$(bash "$here/build-image.sh")
share=$(mktemp -d /tmp/hostagent-systest.XXXXXX)
# A blank disk for LVM each run: a volume group left on it would come back.
scratch=$(mktemp /var/tmp/hostagent-scratch.XXXXXX)
# The guest's disk: an overlay of the cached image, kept across the guest's
# reboot within this run and thrown away after it.
overlay=$(mktemp /var/tmp/hostagent-overlay.XXXXXX)
trap 'rm -rf "$share" "$scratch" "$overlay"' EXIT
truncate -s 1G "$scratch"
qemu-img create -q -f qcow2 -b "$image/img.raw" -F raw "$overlay"

# Installed exactly as on a host: the unit, activation file, policy and
# interfaces land at the paths the system's pkg-config files name.
DESTDIR="$share/root" cmake --install "$HOSTAGENT_BUILD_DIR" > "$share/install.log"
cp "$here/guest-run.sh" "$share/"
# A client that prints a refusal's error name (busctl prints only its message).
cp "${POLKIT_CALLER:?}" "$share/polkit-caller"

boot() {
        timeout 900 qemu-system-x86_64 -accel tcg -m 2048 -smp 2 -nographic -no-reboot -nic none \
                -kernel "$image/vmlinuz" -initrd "$image/initrd.img" \
                -append 'root=/dev/vda rw console=ttyS0 panic=1 quiet' \
                -drive "file=$overlay,if=virtio,format=qcow2,cache=unsafe" \
                -drive "file=$scratch,if=virtio,format=raw,cache=unsafe" \
                -virtfs "local,path=$share,mount_tag=hostshare,security_model=none,id=hostshare" \
                > "$share/console$1.log" 2>&1 || true
}
boot ""
# The second boot checks what a reboot must not lose.
if [ -f "$share/reboot-requested" ]; then
        boot 2
        if [ -f "$share/results2.txt" ]; then
                cat "$share/results2.txt" >> "$share/results.txt"
        else
                echo "not ok - the guest produced no results after its reboot" >> "$share/results.txt"
        fi
fi

if [ ! -f "$share/results.txt" ]; then
        echo "not ok - the guest produced no results; its console:"
        tail -50 "$share/console.log"
        exit 1
fi
cat "$share/results.txt"
if grep -q '^not ok' "$share/results.txt" || ! grep -q '^[0-9]* passed, 0 failed$' "$share/results.txt"; then
        echo "--- the guest's journal (last 200 lines) ---"
        tail -200 "$share/journal.txt" 2>/dev/null || true
        echo "--- the guest's script log ---"
        cat "$share/guest.log" 2>/dev/null || true
        exit 1
fi
