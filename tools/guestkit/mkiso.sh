#!/bin/bash
# tools/guestkit/mkiso.sh - a bootable CD-ROM image of the guest kit.
#
#   mkiso.sh [--out DIR] [--force] [--name NAME] [--append ARGS]
#       Builds the guest kit (guestkit.sh: Debian's kernel and the busybox
#       initramfs) if needed, and makes sure DIR (default
#       $CAPSULE_GUEST_DIR, else BUILD/guest) holds
#         NAME.iso   (default kit.iso) an ISO 9660 image (Rock Ridge and
#                    Joliet names) made by xorriso: isolinux as its El Torito
#                    boot image (no emulation), /boot/vmlinuz, /boot/initrd.gz
#                    and /boot/modules.gz (the kit's disk drivers, a second
#                    initramfs the init loads them from),
#                    /isolinux/isolinux.cfg booting them at once (no prompt)
#                    with the kit's command line plus ARGS; isolinux's own
#                    messages also go to the first serial port. An isohybrid
#                    MBR makes the same file boot as a disk (a USB stick).
#       and prints on stdout, one key=value line each:
#         iso=/abs/NAME.iso
#         drive=if=ide,port=1,device=0,media=cdrom,file=/abs/NAME.iso
#                    (capsule-vm --firmware bios --drive ..., the secondary
#                    channel's master, where PC firmware looks for a CD)
#         cmdline=...    the kernel command line in the image
#         prompt=capsule:~#   the shell's prompt on the serial console
#       It is rebuilt only when the kit or this script changed, or --force.
#       --append 'capsule.batch=...' (guestkit.sh cmdline --batch CMD)
#       makes an image whose guest runs CMD and powers off; give such images
#       a --name of their own.
#
# Needs xorriso, isolinux and syslinux-common (tools/setup.sh installs
# them); never root. Exit status: 0, 1 on a failure, 2 on bad arguments.
set -eu -o pipefail

PROG=mkiso
USAGE="mkiso.sh [--out DIR] [--force] [--name NAME] [--append ARGS]"
. "$(dirname "${BASH_SOURCE[0]}")/imagelib.sh"

parse_out "$@"
need xorriso:xorriso "$ISOLINUX_BIN:isolinux" "$ISOHYBRID_MBR:isolinux" \
    "$SYSLINUX_MODULES/ldlinux.c32:syslinux-common" flock:util-linux

parse_variant kit ${REST[@]+"${REST[@]}"}
ISO=$OUT/$name.iso
STAMP=$OUT/$name.iso.stamp
lock "iso-$name"
hash=$(variant_hash mkiso.sh)

result() {
    echo "iso=$ISO"
    echo "drive=if=ide,port=1,device=0,media=cdrom,file=$ISO"
    echo "cmdline=$cmdline"
    echo "prompt=capsule:~#"
}

# check_iso FILE: ISO 9660's volume descriptor, an El Torito boot record and
# the isohybrid MBR's signature.
check_iso() {
    [ "$(dd if="$1" bs=1 skip=32769 count=5 status=none)" = CD001 ] ||
        { err "$1: no ISO 9660 volume descriptor"; return 1; }
    [ "$(dd if="$1" bs=1 skip=34823 count=23 status=none)" = "EL TORITO SPECIFICATION" ] ||
        { err "$1: no El Torito boot record"; return 1; }
    [ "$(od -An -tx1 -j510 -N2 "$1" | tr -d ' ')" = 55aa ] ||
        { err "$1: no isohybrid MBR"; return 1; }
}

if [ $FORCE = 0 ] && [ -s "$ISO" ] && [ "$(stamp_get "$STAMP" hash)" = "$hash" ] && check_iso "$ISO"; then
    result
    exit 0
fi

tree=$OUT/.iso-$name
trap 'rm -rf "$tree" "$ISO.tmp"' EXIT
rm -rf "$tree" "$STAMP"
mkdir -p "$tree/isolinux" "$tree/boot"
cp "$ISOLINUX_BIN" "$SYSLINUX_MODULES/ldlinux.c32" "$tree/isolinux/"
cp "$KIT_KERNEL" "$tree/boot/vmlinuz"
cp "$KIT_INITRD" "$tree/boot/initrd.gz"
cp "$KIT_MODULES" "$tree/boot/modules.gz"
syslinux_cfg kit /boot/vmlinuz /boot/initrd.gz,/boot/modules.gz "$cmdline" >"$tree/isolinux/isolinux.cfg"
# Fixed dates: the same kit gives the same image.
if ! SOURCE_DATE_EPOCH=1 xorriso -as mkisofs -quiet -o "$ISO.tmp" -V CAPSULE_KIT -r -J \
    -isohybrid-mbr "$ISOHYBRID_MBR" -c isolinux/boot.cat -b isolinux/isolinux.bin \
    -no-emul-boot -boot-load-size 4 -boot-info-table "$tree" >"$tree.log" 2>&1; then
    err "xorriso failed:"
    sed 's/^/  /' "$tree.log" >&2
    rm -f "$tree.log"
    exit 1
fi
rm -f "$tree.log"
check_iso "$ISO.tmp"
mv "$ISO.tmp" "$ISO"
printf 'hash=%s\nrelease=%s\n' "$hash" "$KIT_RELEASE" >"$STAMP"
say "$ISO: $(($(stat -c %s "$ISO") / 1024)) KiB, kernel $KIT_RELEASE"
result
