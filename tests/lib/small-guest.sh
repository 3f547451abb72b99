# The small Linux guest of ../../../shared/RECIPES.md ("A small guest that runs
# qemu-guest-agent"): Debian's kernel and an initramfs with busybox, qemu-ga and
# a memory writer, no root file system. It boots in seconds under TCG and says
# on its serial console that it booted, then its uptime once a second, so a
# test sees that a migrated guest never rebooted. Kernel options:
#   dirty=MB        rewrite MB of memory, from user space only, for ever
#   dirtyrate=MB/s  at this rate (default 64)
# Under QEMU 7.2's TCG a guest whose kernel keeps writing can lose dirty pages
# in a migration: the writer is a user-space program that waits in getppid()
# (every kernel entry flushes TCG's TLB with pti=on), as the recipe found.
#
# Built once per kernel version into a per-user cache (HOSTAGENT_GUEST_CACHE,
# default /var/tmp/hostagent-small-guest-UID), under a lock: runs share it.
# Sourced after fixture.sh. small_guest_build sets SMALL_GUEST_KERNEL and
# SMALL_GUEST_INITRD; small_guest_xml prints a domain.

small_guest_cache_dir() { echo "${HOSTAGENT_GUEST_CACHE:-/var/tmp/hostagent-small-guest-$(id -u)}"; }

# The writer: touches one byte per page over its buffer at the rate asked.
small_guest_writer_c() {
        cat <<'C'
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(int argc, char **argv) {
        size_t mb = argc > 1 ? strtoul(argv[1], NULL, 10) : 0, rate = argc > 2 ? strtoul(argv[2], NULL, 10) : 64;
        size_t pages = mb * 256, done = 0;
        volatile unsigned char *buf = malloc(mb << 20);
        double start = now();
        if (!buf || !pages) return 1;
        memset((void *) buf, 1, mb << 20);
        for (unsigned char v = 2;; v++)
                for (size_t p = 0; p < pages; p++, done++) {
                        buf[p << 12] = v;
                        while (done / 256.0 / rate > now() - start)
                                (void) getppid();
                }
}
C
}

small_guest_init() {
        cat <<'INIT'
#!/bin/sh
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mkdir -p /run && mount -t tmpfs run /run
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_console virtio_blk; do
        [ -f /lib/modules/$m.ko ] && insmod /lib/modules/$m.ko
done
echo "small-guest: booted"
port=""
for i in $(seq 50); do
        for n in /sys/class/virtio-ports/*; do
                [ "$(cat $n/name 2>/dev/null)" = org.qemu.guest_agent.0 ] && port=/dev/${n##*/}
        done
        [ -n "$port" ] && break; sleep 0.1
done
[ -n "$port" ] && /bin/qemu-ga -m virtio-serial -p "$port" -t /run &
dirty=$(sed -n 's/.*dirty=\([0-9]*\).*/\1/p' /proc/cmdline)
rate=$(sed -n 's/.*dirtyrate=\([0-9]*\).*/\1/p' /proc/cmdline)
[ -n "$dirty" ] && /bin/writer "$dirty" "${rate:-64}" &
while :; do echo "small-guest: uptime $(cut -d' ' -f1 /proc/uptime)"; sleep 1; done
INIT
}

# Extracts the packages and packs the initramfs into DIR.
small_guest_pack() {
        local dir=$1 kpkg=$2 kver=$3 root="$1/root" lib
        (cd "$dir" && apt-get download -q "$kpkg" qemu-guest-agent busybox-static >/dev/null) || return 1
        for deb in "$dir"/*.deb; do dpkg-deb -x "$deb" "$dir/x"; done
        mkdir -p "$root"/{bin,lib/modules,proc,sys,dev,run,tmp,lib64,usr/lib/x86_64-linux-gnu}
        cp "$dir/x/bin/busybox" "$root/bin/"
        for a in $("$root/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"; done
        cp "$dir/x/usr/sbin/qemu-ga" "$root/bin/"
        for lib in $(ldd "$dir/x/usr/sbin/qemu-ga" | grep -o '/[^ ]*'); do
                mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib" || return 1
        done
        for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_console virtio_blk; do
                f=$(find "$dir/x/lib/modules/$kver" -name "$m.ko*" | head -1)
                [ -n "$f" ] || continue
                case "$f" in *.xz) xz -dc "$f" > "$root/lib/modules/$m.ko" ;; *) cp "$f" "$root/lib/modules/$m.ko" ;; esac
        done
        small_guest_writer_c > "$dir/writer.c"
        gcc -O2 -static -o "$root/bin/writer" "$dir/writer.c" || return 1
        small_guest_init > "$root/init"
        chmod 0755 "$root/init"
        cp "$dir/x/boot/vmlinuz-$kver" "$dir/vmlinuz"
        cp "$root/bin/busybox" "$dir/busybox"
        (cd "$root" && find . | "$dir/busybox" cpio -o -H newc | gzip -1) > "$dir/initrd.img" 2>"$dir/cpio.log" || return 1
        [ "$(stat -c %s "$dir/initrd.img")" -gt 1000000 ] || { cat "$dir/cpio.log" >&2; return 1; }
}

small_guest_build() {
        local cache kpkg kver dir
        cache=$(small_guest_cache_dir)
        kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: \(linux-image-[^ ]*\)/\1/p' | head -1)
        [ -n "$kpkg" ] || { echo "small_guest_build: no linux-image-amd64 in apt's lists" >&2; return 1; }
        kver=${kpkg#linux-image-}
        SMALL_GUEST_KERNEL="$cache/$kver/vmlinuz"
        SMALL_GUEST_INITRD="$cache/$kver/initrd.img"
        mkdir -p "$cache"
        (
                flock 9
                [ -s "$SMALL_GUEST_INITRD" ] && exit 0
                dir=$(mktemp -d "$cache/build.XXXXXX")
                chmod 0755 "$dir"   # apt-get download writes as _apt
                trap 'rm -rf "$dir"' EXIT
                small_guest_pack "$dir" "$kpkg" "$kver" || exit 1
                mkdir -p "$cache/$kver.new"
                mv "$dir/vmlinuz" "$dir/initrd.img" "$cache/$kver.new/"
                rm -rf "$cache/$kver" && mv "$cache/$kver.new" "$cache/$kver"
        ) 9>"$cache/lock"
}

# small_guest_xml NAME CONSOLE_FILE [DIRTY_MB] [DISK_XML]: a domain of 256 MiB
# with the console in CONSOLE_FILE (append: a migrated guest's next QEMU writes on).
small_guest_xml() {
        local name=$1 console=$2 dirty=${3:-} disk=${4:-} cmdline="console=ttyS0 rdinit=/init quiet panic=-1 pti=on"
        [ -n "$dirty" ] && cmdline+=" dirty=$dirty dirtyrate=${SMALL_GUEST_DIRTY_RATE:-64}"
        cat <<XML
<domain type='qemu'>
  <name>$name</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>$SMALL_GUEST_KERNEL</kernel>
    <initrd>$SMALL_GUEST_INITRD</initrd><cmdline>$cmdline</cmdline></os>
  <on_poweroff>destroy</on_poweroff><on_reboot>destroy</on_reboot><on_crash>destroy</on_crash>
  <devices>
    $disk
    <serial type='file'><source path='$console' append='on'/><target port='0'/></serial>
    <console type='file'><source path='$console' append='on'/><target type='serial' port='0'/></console>
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
    <memballoon model='none'/>
  </devices>
</domain>
XML
}

# small_guest_uptime CONSOLE_FILE: the last uptime the guest printed (seconds, integer).
small_guest_uptime() { sed -n 's/^small-guest: uptime \([0-9]*\).*/\1/p' "$1" | tail -1; }
# small_guest_boots CONSOLE_FILE: how many times it booted.
small_guest_boots() { grep -c '^small-guest: booted' "$1"; }
# small_guest_crashed CONSOLE_FILE: a kernel crash shows (a QEMU fault, not the agent's).
small_guest_crashed() { grep -qE 'Kernel panic|BUG:|list_add corruption|general protection' "$1"; }
