#!/bin/bash
# tools/guestkit/mkdisk.sh - a small BIOS-bootable disk of the guest kit, for
# the test suite: seconds to build, a few MiB on the host.
#
#   mkdisk.sh [--out DIR] [--force] [--name NAME] [--append ARGS]
#       Builds the guest kit (guestkit.sh) if needed, and makes sure DIR
#       (default $CAPSULE_GUEST_DIR, else BUILD/guest) holds
#         NAME.img   (default kit-disk.img) a raw disk of 48 MiB (sparse:
#                    about 10 MiB on the host), MBR-partitioned, with
#                    syslinux's MBR boot code:
#                      1  FAT16, active, 24 MiB: syslinux (boot sector,
#                         ldlinux.sys, ldlinux.c32), syslinux.cfg, the kit's
#                         vmlinuz, initrd.gz and modules.gz (its disk
#                         drivers, loaded by the init from this second
#                         initramfs: ATA, AHCI, virtio); booted at once (no prompt)
#                         with the kit's command line plus ARGS, syslinux's
#                         messages also on the first serial port
#                      2  Linux (0x83), 23 MiB of zeros and no file system:
#                         scratch space a test guest writes (/dev/sda2 on
#                         IDE/SATA, /dev/vda2 on virtio) and checks later
#         NAME.vdi   the same disk as a dynamic VDI (qemu-img convert;
#                    `capsule clonemedium NAME.img X.vdi --format VDI`
#                    makes one with Capsule's own code)
#       and prints on stdout, one key=value line each:
#         disk=/abs/NAME.img
#         vdi=/abs/NAME.vdi
#         drive=if=ide,port=0,device=0,media=disk,file=/abs/NAME.img
#                    (capsule-vm --firmware bios --drive ...: the primary
#                    channel's master)
#         scratch=2  the scratch partition's number
#         cmdline=...    the kernel command line in the image
#         prompt=capsule:~#   the shell's prompt on the serial console
#       It is rebuilt only when the kit or this script changed, or --force
#       (then in about a second). --append 'capsule.batch=...'
#       (guestkit.sh cmdline --batch CMD) makes a disk whose guest runs CMD
#       and powers off; give such disks a --name of their own.
#
# No root, loop devices or mounts: sfdisk writes the partition table into
# the file, mkfs.fat and mtools the FAT, syslinux's mtools installer its
# boot sector. Needs dosfstools, mtools, syslinux, syslinux-common, fdisk
# and qemu-utils (tools/setup.sh installs them).
# Exit status: 0, 1 on a failure, 2 on bad arguments.
set -eu -o pipefail

PROG=mkdisk
USAGE="mkdisk.sh [--out DIR] [--force] [--name NAME] [--append ARGS]"
. "$(dirname "${BASH_SOURCE[0]}")/imagelib.sh"

DISK_MIB=48
BOOT_MIB=24

parse_out "$@"
need mkfs.fat:dosfstools mcopy:mtools syslinux:syslinux "$SYSLINUX_MBR:syslinux-common" \
    sfdisk:fdisk qemu-img:qemu-utils flock:util-linux

parse_variant kit-disk ${REST[@]+"${REST[@]}"}
DISK=$OUT/$name.img
VDI=$OUT/$name.vdi
STAMP=$OUT/$name.stamp
lock "disk-$name"
hash=$(variant_hash mkdisk.sh)

result() {
    echo "disk=$DISK"
    echo "vdi=$VDI"
    echo "drive=if=ide,port=0,device=0,media=disk,file=$DISK"
    echo "scratch=2"
    echo "cmdline=$cmdline"
    echo "prompt=capsule:~#"
}

if [ $FORCE = 0 ] && [ -s "$DISK" ] && [ -s "$VDI" ] && [ "$(stamp_get "$STAMP" hash)" = "$hash" ] &&
    check_mbr "$DISK"; then
    result
    exit 0
fi

boot=$OUT/.$name-boot.img
cfg=$OUT/.$name.cfg
trap 'rm -f "$boot" "$cfg" "$DISK.tmp" "$VDI.tmp"' EXIT
rm -f "$STAMP"
syslinux_cfg kit vmlinuz initrd.gz,modules.gz "$cmdline" >"$cfg"
fat_part "$boot" $BOOT_MIB KITBOOT "$cfg" "$KIT_KERNEL=vmlinuz" "$KIT_INITRD=initrd.gz" \
    "$KIT_MODULES=modules.gz"
# Partition 2 stays zeros: `true` writes no file system.
mbr_disk "$DISK.tmp" $DISK_MIB "$boot" true
check_mbr "$DISK.tmp"
mv "$DISK.tmp" "$DISK"
to_vdi "$DISK" "$VDI"
printf 'hash=%s\nrelease=%s\n' "$hash" "$KIT_RELEASE" >"$STAMP"
say "$DISK: $DISK_MIB MiB ($(du -k "$DISK" | cut -f1) KiB on the host), VDI $(du -k "$VDI" | cut -f1) KiB, kernel $KIT_RELEASE"
result
