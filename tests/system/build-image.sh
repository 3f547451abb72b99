#!/bin/bash
# Builds (or finds in the cache) a Debian 12 system image for the system
# tests: systemd as PID 1, dbus, the stock kernel, and the runtime libraries
# hostagentd links. The cache is keyed by a hash of this recipe, so changing
# the recipe rebuilds; concurrent runs share one build through a lock.
# Prints the image directory (holding img.raw, vmlinuz, initrd.img).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache_root=${HOSTAGENT_SYSTEST_CACHE:-/var/tmp/hostagent-systest}
recipe_hash=$(cat "$here/build-image.sh" "$here/guest/"* | sha256sum | cut -c1-16)
image="$cache_root/image-$recipe_hash"

# The packages the guest needs; runtime libraries of hostagentd included.
# polkitd answers the agent's authorization questions; libpam-systemd makes a
# console login a logind session (the active seat session allow_active is for).
PACKAGES="linux-image-amd64 initramfs-tools dbus libsystemd0 libvirt0 libnl-3-200 libnl-route-3-200
          libjson-c5 libxml2 libnfs13 qemu-utils util-linux procps iproute2
          polkitd libpam-systemd passwd login
          libvirt-daemon-system libvirt-clients qemu-system-x86
          lvm2 nfs-kernel-server nfs-common rpcbind openvswitch-switch"

mkdir -p "$cache_root"
exec 9>"$cache_root/lock"
flock 9
if [ -f "$image/ready" ]; then
        echo "$image"
        exit 0
fi

# The same Debian mirror the machine's apt uses (deb822 sources first).
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
[ -n "$mirror" ] || mirror=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list 2>/dev/null)
[ -n "$mirror" ] || { echo "no Debian mirror in the apt configuration" >&2; exit 1; }

work=$(mktemp -d "$cache_root/build.XXXXXX")
root="$work/root"
cleanup() {
        for m in dev/pts dev sys proc; do umount -l "$root/$m" 2>/dev/null || true; done
        rm -rf "$work"
}
trap cleanup EXIT

echo "building the system-test image ($recipe_hash) from $mirror" >&2
debootstrap --variant=minbase --include=systemd-sysv,dbus,iproute2,kmod,udev bookworm "$root" "$mirror" \
        > "$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
mount -t proc proc "$root/proc"; mount --bind /sys "$root/sys"
mount --bind /dev "$root/dev"; mount --bind /dev/pts "$root/dev/pts"
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"; chmod +x "$root/usr/sbin/policy-rc.d"
mkdir -p "$root/etc/initramfs-tools/conf.d"
cat > "$root/etc/initramfs-tools/conf.d/hostagent-systest" <<'CONF'
MODULES=list
FSTYPE=ext4
CONF
printf '%s\n' virtio_pci virtio_blk virtio_console ext4 9p 9pnet_virtio > "$root/etc/initramfs-tools/modules"
chroot "$root" sh -ec "apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends $(echo $PACKAGES)" > "$work/install.log" 2>&1 \
        || { tail -20 "$work/install.log" >&2; exit 1; }
rm -f "$root/usr/sbin/policy-rc.d"
# libvirt's default network needs dnsmasq, which the image does not have.
rm -f "$root/etc/libvirt/qemu/networks/autostart/default.xml"
# A fixed machine id: without it every -snapshot boot is a (slower) first boot.
chroot "$root" systemd-machine-id-setup >/dev/null 2>&1
echo hostagent-systest > "$root/etc/hostname"
install -m 0644 "$here/guest/hostagent-systest.service" "$root/etc/systemd/system/"
ln -sf /etc/systemd/system/hostagent-systest.service "$root/etc/systemd/system/multi-user.target.wants/"
chroot "$root" apt-get clean
for m in dev/pts dev sys proc; do umount -l "$root/$m"; done

cp "$root"/boot/vmlinuz-* "$work/vmlinuz"
cp "$root"/boot/initrd.img-* "$work/initrd.img"
mkfs.ext4 -q -F -L root -d "$root" "$work/img.raw" 2G > /dev/null
rm -rf "$root"
mkdir -p "$image"
mv "$work/vmlinuz" "$work/initrd.img" "$work/img.raw" "$image/"
touch "$image/ready"
echo "$image"
