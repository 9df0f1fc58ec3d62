#!/bin/bash
# tools/guestkit/mkdebian.sh - a minimal Debian system on a BIOS-bootable disk,
# from Debian packages (debootstrap), for Capsule's disk boots.
#
#   mkdebian.sh [--out DIR] [--force] [--size MIB] [--suite S] [--mirror URL]
#       Makes sure DIR (default $CAPSULE_GUEST_DIR, else BUILD/guest) holds
#         debian.img   a raw disk of MIB MiB (default 1024; the file is
#                      sparse), MBR-partitioned:
#                        1  FAT16, active, 64 MiB: syslinux (boot sector,
#                           ldlinux.sys), syslinux.cfg, Debian's vmlinuz and
#                           initrd.gz: busybox, this folder's debian-init and
#                           the modules for ATA/AHCI/virtio disks and ext4
#                           (about 2 MB; initramfs-tools' own initrd.img, with
#                           udev, costs most of a minute of a software CPU's
#                           boot: it stays in the root's /boot, unused)
#                        2  ext4 root, the rest: debootstrap --variant=minbase
#                           of the host's Debian release plus linux-image-amd64,
#                           systemd-sysv and busybox-static (documentation and
#                           the kernel's sound/GPU/wireless/media modules left
#                           out)
#                      syslinux's MBR code boots partition 1; the kernel runs
#                      with console=ttyS0 and systemd starts a getty there:
#                      "login:" as root, with no password.
#         debian.vdi   the same disk as a dynamic VDI (qemu-img convert)
#       and prints on stdout, one key=value line each (for scripts):
#         disk=/abs/debian.img
#         vdi=/abs/debian.vdi
#         drive=if=ide,port=0,device=0,media=disk,file=/abs/debian.img
#                                    (capsule-vm --firmware bios --drive ...)
#         release=6.1.0-N-amd64      the kernel's uname -r
#         prompt=login:              what the serial console shows when the
#                                    system is up (log in as root, no password)
#       The packages come from the Debian mirror and release apt uses
#       (/etc/apt/sources.list*, /etc/os-release) unless --mirror/--suite
#       say otherwise; downloaded .debs are kept in DIR/debs, so a rebuild
#       does not fetch them again. A finished disk is reused as it is unless
#       the code of this script or imagelib.sh changed (comments and what it
#       prints do not count) or --force; a rerun takes well under a second.
#
# Builds without loop devices or mounts (mke2fs -d writes the root file
# system from the debootstrap tree; mtools and syslinux's mtools installer
# write the boot partition), but debootstrap itself needs root. Needs
# debootstrap, e2fsprogs, dosfstools, mtools, syslinux, syslinux-common,
# fdisk (sfdisk) and qemu-utils (tools/setup.sh installs them).
# Exit status: 0, 1 on a failure, 2 on bad arguments.
set -eu -o pipefail

# The whole script is one compound command: bash reads it all before it
# runs any of it, so editing this file while a build runs cannot change
# what that build does.
{
PROG=mkdebian
USAGE="mkdebian.sh [--out DIR] [--force] [--size MIB] [--suite SUITE] [--mirror URL]"
. "$(dirname "${BASH_SOURCE[0]}")/imagelib.sh"

BOOT_MIB=64
# The root file system's UUID (fixed: the image is the same on every build
# machine, and root=UUID= finds it behind any controller: sda or vda).
ROOT_UUID=cab51e00-0000-4000-8000-00000000de61
# Kernel command line:
#   root=UUID=... rw    the root partition, mounted read-write at once
#                       (no remount by systemd-remount-fs)
#   console=ttyS0,115200  kernel messages and systemd's serial getty
#   quiet               only warnings on the console
#   cryptomgr.notests   no crypto self-tests (seconds under a software CPU)
CMDLINE="root=UUID=$ROOT_UUID rw console=ttyS0,115200 quiet cryptomgr.notests"
# Modules initramfs-tools' initrd carries (MODULES=list) for in-guest use:
# the disk controllers Capsule and QEMU offer and ext4.
INITRD_MODULES="ata_piix ata_generic pata_acpi ahci sd_mod sr_mod virtio_pci virtio_blk virtio_scsi
ext4 crc32c_generic"
# Modules the boot's initrd.gz loads (debian-init), with what they need.
BOOT_MODULES="ata_piix ahci crct10dif_generic sd_mod virtio_pci virtio_blk crc32c_generic ext4"
# Modules udev would load for what QEMU and Capsule show a guest but a
# serial-console test VM does not use (blacklisted: seconds of probing under
# a software CPU, the floppy's above all): KVM (the CPU model may offer
# VMX/SVM), the floppy, PC speaker, PS/2 mouse, AMD's crypto coprocessor and
# the PIIX4 SMBus.
BLACKLIST="kvm kvm_amd kvm_intel floppy pcspkr psmouse serio_raw ccp i2c_piix4 joydev"
# What dpkg does not unpack (dpkg path-exclude): documentation (translations
# stay: excluding /usr/share/locale/* makes dpkg fail on systemd's be@latin),
# and kernel modules for hardware a VM does not have.
EXCLUDES="/usr/share/doc/* /usr/share/man/* /usr/share/info/* /usr/share/lintian/*
/lib/modules/*/kernel/sound/* /lib/modules/*/kernel/drivers/gpu/* /lib/modules/*/kernel/drivers/media/*
/lib/modules/*/kernel/drivers/net/wireless/* /lib/modules/*/kernel/net/wireless/*
/lib/modules/*/kernel/net/mac80211/* /lib/modules/*/kernel/drivers/infiniband/*
/lib/modules/*/kernel/drivers/staging/* /lib/modules/*/kernel/drivers/bluetooth/*
/lib/modules/*/kernel/net/bluetooth/* /lib/modules/*/kernel/drivers/isdn/*
/lib/modules/*/kernel/drivers/net/ethernet/mellanox/* /lib/modules/*/kernel/drivers/iio/*"

# The release and mirror apt uses: the first "deb" source (one-line or
# deb822 format) with the host's codename among its suites.
host_suite() {
    (. /etc/os-release 2>/dev/null && [ "${ID:-}" = debian ] && echo "${VERSION_CODENAME:-}") || true
}
apt_mirror() { # apt_mirror SUITE
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        case $f in
        *.sources)
            awk -v s="$1" 'BEGIN { RS = ""; FS = "\n" }
                { deb = 0; ok = 0; uri = ""
                  for (i = 1; i <= NF; i++) {
                      if ($i ~ /^Types:/ && $i ~ /[ \t]deb([ \t]|$)/) deb = 1
                      if ($i ~ /^Suites:/ && (" " $i " ") ~ ("[ \t]" s "[ \t]")) ok = 1
                      if ($i ~ /^URIs:/) { split($i, a, /[ \t]+/); uri = a[2] }
                  }
                  if (deb && ok && uri != "") { print uri; exit } }' "$f"
            ;;
        *)
            sed -n 's/^deb[ \t]\+\(\[[^]]*\][ \t]\+\)\?\([^ \t]\+\)[ \t]\+'"$1"'[ \t].*/\2/p' "$f"
            ;;
        esac
    done | head -1
}

size=1024 suite= mirror=${CAPSULE_DEBIAN_MIRROR:-} args="$*"
parse_out "$@"
set -- ${REST[@]+"${REST[@]}"}
while [ $# -gt 0 ]; do
    case $1 in
    --size) [ $# -ge 2 ] || usage_error "--size needs MiB"; size=$2; shift 2 ;;
    --size=*) size=${1#--size=}; shift ;;
    --suite) [ $# -ge 2 ] || usage_error "--suite needs a name"; suite=$2; shift 2 ;;
    --suite=*) suite=${1#--suite=}; shift ;;
    --mirror) [ $# -ge 2 ] || usage_error "--mirror needs a URL"; mirror=$2; shift 2 ;;
    --mirror=*) mirror=${1#--mirror=}; shift ;;
    *) usage_error "unexpected argument '$1'" ;;
    esac
done
case $size in '' | *[!0-9]*) usage_error "--size: '$size' is not a number of MiB" ;; esac
[ "$size" -ge 512 ] && [ "$size" -le 65536 ] || usage_error "--size: $size MiB is outside 512..65536"
[ -n "$suite" ] || suite=$(host_suite)
[ -n "$suite" ] || suite=bookworm
[ -n "$mirror" ] || mirror=$(apt_mirror "$suite")
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian

DISK=$OUT/debian.img
VDI=$OUT/debian.vdi
STAMP=$OUT/debian.stamp
ROOT=$OUT/.debian-root
hash=$(code_hash "$KIT_DIR/mkdebian.sh" "$KIT_DIR/imagelib.sh" "$KIT_DIR/debian-init")

result() {
    echo "disk=$DISK"
    echo "vdi=$VDI"
    echo "drive=if=ide,port=0,device=0,media=disk,file=$DISK"
    echo "release=$(stamp_get "$STAMP" release)"
    echo "prompt=login:"
}

lock debian
if [ $FORCE = 0 ] && [ -s "$DISK" ] && [ -s "$VDI" ] &&
    [ "$(stamp_get "$STAMP" script)" = "$hash" ] && [ "$(stamp_get "$STAMP" suite)" = "$suite" ] &&
    [ "$(stamp_get "$STAMP" mirror)" = "$mirror" ] && [ "$(stamp_get "$STAMP" size)" = "$size" ] &&
    check_mbr "$DISK"; then
    result
    exit 0
fi

need python3:python3 debootstrap:debootstrap chroot:coreutils mke2fs:e2fsprogs mkfs.fat:dosfstools mcopy:mtools \
    syslinux:syslinux "$SYSLINUX_MBR:syslinux-common" sfdisk:fdisk qemu-img:qemu-utils flock:util-linux
if [ "$(id -u)" -ne 0 ]; then
    err "debootstrap needs root: run 'sudo $0${args:+ $args}' (the disk itself is built without mounts)"
    exit 1
fi

# Anything debootstrap left mounted in the tree (it unmounts on success).
unmount_root() {
    local m
    [ -d "$ROOT" ] || return 0
    for m in $(awk -v r="$ROOT/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r); do
        umount -l "$m" 2>/dev/null || true
    done
}
cleanup() {
    unmount_root
    [ -f "$ROOT/debootstrap/debootstrap.log" ] && cp "$ROOT/debootstrap/debootstrap.log" "$OUT/debootstrap-chroot.log"
    rm -rf "$ROOT" "$OUT/.debian-boot.img" "$DISK.tmp" "$VDI.tmp" "$OUT/.debian-initrd.gz" \
        "$OUT/.debian-initrd.list" "$OUT/.debian-load"
}
trap cleanup EXIT

t0=$(date +%s)
rm -f "$STAMP"
cleanup
mkdir -p "$OUT/debs"
say "debootstrap $suite (minbase + linux-image-amd64, systemd-sysv, busybox-static) from $mirror"
log=$OUT/debootstrap.log
# --foreign first, so that dpkg's excludes and initramfs-tools' settings are
# in place before the second stage installs the kernel.
if ! debootstrap --foreign --variant=minbase --arch=amd64 --cache-dir="$OUT/debs" \
    --include=linux-image-amd64,systemd-sysv,busybox-static "$suite" "$ROOT" "$mirror" >"$log" 2>&1; then
    err "debootstrap (first stage) failed; the end of $log:"
    tail -n 20 "$log" | sed 's/^/  /' >&2
    exit 1
fi
mkdir -p "$ROOT/etc/dpkg/dpkg.cfg.d" "$ROOT/etc/initramfs-tools/conf.d" \
    "$ROOT/usr/share/initramfs-tools/modules.d"
{
    echo "# Capsule's guest image (tools/guestkit/mkdebian.sh): what dpkg leaves out"
    for x in $EXCLUDES; do echo "path-exclude=$x"; done
    echo "path-include=/usr/share/doc/*/copyright"
} >"$ROOT/etc/dpkg/dpkg.cfg.d/capsule-slim"
printf 'MODULES=list\nCOMPRESS=gzip\nRESUME=none\n' >"$ROOT/etc/initramfs-tools/conf.d/capsule"
printf '%s\n' $INITRD_MODULES >"$ROOT/usr/share/initramfs-tools/modules.d/capsule"
mkdir -p "$ROOT/etc/modprobe.d"
printf 'blacklist %s\n' $BLACKLIST >"$ROOT/etc/modprobe.d/capsule-blacklist.conf"
if ! chroot "$ROOT" /debootstrap/debootstrap --second-stage >>"$log" 2>&1; then
    err "debootstrap (second stage, in the chroot) failed; the end of its log ($OUT/debootstrap-chroot.log):"
    tail -n 20 "$ROOT/debootstrap/debootstrap.log" | sed 's/^/  /' >&2
    exit 1
fi
unmount_root

# The system's settings, written into the tree (no chroot needed).
echo capsule-debian >"$ROOT/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tcapsule-debian\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' \
    >"$ROOT/etc/hosts"
printf 'UUID=%s\t/\text4\trw,relatime\t0\t1\n' "$ROOT_UUID" >"$ROOT/etc/fstab"
# root logs in without a password (pam_unix has nullok in Debian).
sed -i 's/^root:[^:]*:/root::/' "$ROOT/etc/shadow"
# A machine id of its own: an empty one makes systemd treat the boot as the
# first and run its first-boot setup.
tr -d '-' </proc/sys/kernel/random/uuid >"$ROOT/etc/machine-id"
# Units a serial-console test VM does without (masked), each a second or
# more of the boot under a software CPU: timers that start maintenance,
# Debian's getty-static (gettys on tty2-6 for machines without dbus: it
# alone held the login prompt back 5 s), pseudo file systems nothing here
# uses, modules loaded ahead of need, the journal's flush to disk (it stays
# in /run: Storage=volatile) and the remount the kernel's "rw" made
# unnecessary.
MASK="apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer
getty-static.service dev-hugepages.mount dev-mqueue.mount sys-kernel-debug.mount
sys-kernel-tracing.mount sys-kernel-config.mount sys-fs-fuse-connections.mount
modprobe@configfs.service modprobe@dm_mod.service modprobe@efi_pstore.service modprobe@fuse.service
modprobe@drm.service modprobe@loop.service systemd-journal-flush.service systemd-remount-fs.service"
for u in $MASK; do
    ln -sf /dev/null "$ROOT/etc/systemd/system/$u"
done
mkdir -p "$ROOT/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\n' >"$ROOT/etc/systemd/journald.conf.d/capsule.conf"
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/* "$ROOT/debootstrap"

kernel=$(ls "$ROOT"/boot/vmlinuz-* 2>/dev/null | head -1)
release=${kernel##*/vmlinuz-}
if [ -z "$kernel" ] || [ ! -x "$ROOT/bin/busybox" ]; then
    err "the tree has no /boot/vmlinuz-* or no /bin/busybox (see $log)"
    exit 1
fi

# The boot's initramfs: busybox, debian-init, the disk and ext4 modules.
initrd=$OUT/.debian-initrd.gz
{
    for d in /bin /sbin /dev /proc /sys /root; do echo "dir $d 0755 0 0"; done
    echo "nod /dev/console 0600 0 0 c 5 1"
    echo "file /bin/busybox $ROOT/bin/busybox 0755 0 0"
    for a in sh cat mount umount insmod findfs sleep uname switch_root; do
        echo "slink /bin/$a busybox 0777 0 0"
    done
    echo "file /init $KIT_DIR/debian-init 0755 0 0"
    modules_cpio_list "$ROOT/lib/modules/$release" "$release" "$OUT/.debian-load" $BOOT_MODULES
} >"$OUT/.debian-initrd.list"
python3 "$KIT_DIR/mkinitramfs.py" "$OUT/.debian-initrd.list" "$initrd"

# The disk: boot partition, then the root file system straight from the tree.
cfg=$OUT/.debian-boot.cfg
syslinux_cfg debian vmlinuz initrd.gz "$CMDLINE" >"$cfg"
fat_part "$OUT/.debian-boot.img" $BOOT_MIB CAPSULEBOOT "$cfg" "$kernel=vmlinuz" "$initrd=initrd.gz"
rm -f "$cfg"
used=$(du -sm "$ROOT" | cut -f1)
if [ $((used + used / 4 + 64)) -gt $((size - BOOT_MIB - 1)) ]; then
    err "the system takes $used MiB: a $size MiB disk is too small (--size)"
    exit 1
fi
mkroot() { # mkroot OFFSET KIB
    mke2fs -q -F -t ext4 -L debian-root -U "$ROOT_UUID" -m 1 -d "$ROOT" \
        -E "offset=$1,lazy_itable_init=0,lazy_journal_init=0" "$DISK.tmp" "$2"k
}
mbr_disk "$DISK.tmp" "$size" "$OUT/.debian-boot.img" mkroot
check_mbr "$DISK.tmp"
mv "$DISK.tmp" "$DISK"
to_vdi "$DISK" "$VDI"
printf 'script=%s\nsuite=%s\nmirror=%s\nsize=%s\nrelease=%s\n' "$hash" "$suite" "$mirror" "$size" "$release" \
    >"$STAMP"
say "$DISK: $(du -m "$DISK" | cut -f1) MiB used of $size MiB (root $used MiB), VDI $(du -m "$VDI" | cut -f1) MiB, kernel $release, built in $(($(date +%s) - t0)) s"
result
exit 0
}
