# The small guest of small-guest.sh (helper "migrate"'s, used unchanged) made
# ready for hot-plug: its initramfs also loads virtio_net and virtio_balloon,
# and its init brings hot-added vCPUs online (no udev does it). Its domain
# has ACPI on the pc machine (PCI hot-plug goes through ACPI), a virtio
# balloon, room for one more vCPU and 128 MiB more memory. Built into a cache
# of its own (/var/tmp/hostagent-hotplug-guest-UID), not small-guest.sh's.
# Sourced after fixture.sh.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/small-guest.sh"

HOSTAGENT_GUEST_CACHE=${HOSTAGENT_HOTPLUG_GUEST_CACHE:-/var/tmp/hostagent-hotplug-guest-$(id -u)}
HOTPLUG_GUEST_MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_console
virtio_blk failover net_failover virtio_net virtio_balloon"

small_guest_init() {
        cat <<INIT
#!/bin/sh
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mkdir -p /run && mount -t tmpfs run /run
for m in $(echo $HOTPLUG_GUEST_MODULES); do [ -f /lib/modules/\$m.ko ] && insmod /lib/modules/\$m.ko; done
echo "small-guest: booted"
port=""
for i in \$(seq 50); do
        for n in /sys/class/virtio-ports/*; do
                [ "\$(cat \$n/name 2>/dev/null)" = org.qemu.guest_agent.0 ] && port=/dev/\${n##*/}
        done
        [ -n "\$port" ] && break; sleep 0.1
done
[ -n "\$port" ] && /bin/qemu-ga -m virtio-serial -p "\$port" -t /run &
while :; do
        for c in /sys/devices/system/cpu/cpu*/online; do [ "\$(cat \$c)" = 0 ] && echo 1 > \$c; done
        sleep 1
done
INIT
}

small_guest_pack() {
        local dir=$1 kpkg=$2 kver=$3 root="$1/root" lib f m
        (cd "$dir" && apt-get download -q "$kpkg" qemu-guest-agent busybox-static >/dev/null) || return 1
        for deb in "$dir"/*.deb; do dpkg-deb -x "$deb" "$dir/x"; done
        mkdir -p "$root"/{bin,lib/modules,proc,sys,dev,run,tmp,lib64,usr/lib/x86_64-linux-gnu}
        cp "$dir/x/bin/busybox" "$root/bin/"
        for a in $("$root/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"; done
        cp "$dir/x/usr/sbin/qemu-ga" "$root/bin/"
        for lib in $(ldd "$dir/x/usr/sbin/qemu-ga" | grep -o '/[^ ]*'); do
                mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib" || return 1
        done
        for m in $HOTPLUG_GUEST_MODULES; do
                f=$(find "$dir/x/lib/modules/$kver" -name "$m.ko*" | head -1)
                [ -n "$f" ] || continue
                case "$f" in *.xz) xz -dc "$f" > "$root/lib/modules/$m.ko" ;; *) cp "$f" "$root/lib/modules/$m.ko" ;; esac
        done
        small_guest_init > "$root/init"
        chmod 0755 "$root/init"
        cp "$dir/x/boot/vmlinuz-$kver" "$dir/vmlinuz"
        cp "$root/bin/busybox" "$dir/busybox"
        (cd "$root" && find . | "$dir/busybox" cpio -o -H newc | gzip -1) > "$dir/initrd.img" 2>"$dir/cpio.log" || return 1
        [ "$(stat -c %s "$dir/initrd.img")" -gt 1000000 ] || { cat "$dir/cpio.log" >&2; return 1; }
}

# hotplug_guest_xml NAME CONSOLE_FILE: 256 MiB (384 at most), 1 vCPU (2 at most), no disk, no NIC.
hotplug_guest_xml() {
        cat <<XML
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>384</memory>
  <currentMemory unit='MiB'>256</currentMemory>
  <vcpu current='1'>2</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>$SMALL_GUEST_KERNEL</kernel>
    <initrd>$SMALL_GUEST_INITRD</initrd><cmdline>console=ttyS0 rdinit=/init quiet panic=-1</cmdline></os>
  <features><acpi/><apic/></features>
  <on_poweroff>destroy</on_poweroff><on_reboot>destroy</on_reboot><on_crash>destroy</on_crash>
  <devices>
    <serial type='file'><source path='$2' append='on'/><target port='0'/></serial>
    <console type='file'><source path='$2' append='on'/><target type='serial' port='0'/></console>
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
    <memballoon model='virtio'><stats period='1'/></memballoon>
  </devices>
</domain>
XML
}

# guest_exec VIRSH NAME COMMAND: runs COMMAND with sh in the guest (its agent's guest-exec), prints its output.
guest_exec() {
        local virsh=$1 name=$2 cmd=$3 pid out i
        cmd=${cmd//\\/\\\\}; cmd=${cmd//\"/\\\"}
        out=$($virsh qemu-agent-command "$name" \
                "{\"execute\":\"guest-exec\",\"arguments\":{\"path\":\"/bin/sh\",\"arg\":[\"-c\",\"$cmd\"],\"capture-output\":true}}" 2>&1)
        pid=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' <<<"$out")
        [ -n "$pid" ] || { echo "guest-exec failed: $out"; return 1; }
        for i in $(seq 100); do
                out=$($virsh qemu-agent-command "$name" "{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":$pid}}" 2>&1)
                case "$out" in *'"exited":true'*) break ;; esac
                sleep 0.1
        done
        sed -n 's/.*"out-data":"\([^"]*\)".*/\1/p' <<<"$out" | base64 -d
}

# guest_agent_ready VIRSH NAME: its agent answers.
guest_agent_ready() { $1 qemu-agent-command "$2" '{"execute":"guest-ping"}' >/dev/null 2>&1; }
