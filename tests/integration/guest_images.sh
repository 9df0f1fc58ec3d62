#!/bin/bash
# tests/integration/guest_images.sh - the guest kit's boot media
# (tools/guestkit/mkiso.sh and mkdisk.sh, issue 12 item 8) and Capsule's
# media code on them. Built in a scratch folder from the cached kit (no
# download), each check in seconds:
#   mkdisk.sh: the MBR (syslinux's boot code, disk id, partition 1 FAT16
#     active at sector 2048, partition 2 Linux scratch), the FAT's
#     syslinux.cfg (the kit's command line, no prompt, serial), ldlinux.sys
#     and the kit's very kernel, initramfs and disk drivers (modules.gz, whose
#     capsule.load lists the ATA, AHCI, SCSI and virtio modules in loading
#     order) on it; a second run reuses
#     the disk (the same file, untouched); --name/--append make a variant with
#     the arguments on its command line; bad --name and an over-long
#     command line are refused with a message;
#   mkiso.sh: ISO 9660 with an El Torito no-emulation isolinux image, an
#     isohybrid MBR, isolinux.cfg and the kit's kernel and initramfs;
#   capsule clonemedium: the raw disk into a VDI that qemu-img checks clean
#     and finds identical to the raw one; that VDI back into RAW, and
#     qemu-img's own VDI of the disk (mkdisk.sh's) into RAW, both
#     byte-identical to the original (Capsule's VDI reader and writer on a
#     real boot disk, interoperable with qemu-img).
# Booting these media under capsule-vm --firmware bios --drive ... comes
# with the IDE controller (tests/bench/images/images_bench.py boots them
# under QEMU today). Skips (recorded) where the Debian image tools are not
# installed (tools/setup.sh installs them).
set -u
NAME=guest_images
. "$(cd "$(dirname "$0")/../lib" && pwd)/cli.sh"
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KIT=$TOP/tools/guestkit
. "$TOP/tests/lib/skip.sh"
. "$TOP/tests/lib/guestkit.sh"
guestkit_media guest-images "$tmp" xorriso mkfs.fat mcopy syslinux sfdisk qemu-img
case $? in 2) exit 0 ;; 1) exit 1 ;; esac
key() { sed -n "s/^$1=//p" "$2"; }

# ---- mkdisk.sh ---------------------------------------------------------------
if ! "$KIT/mkdisk.sh" >"$tmp/disk" 2>"$tmp/disk.err"; then
    fail "mkdisk.sh failed: $(cat "$tmp/disk.err")"
    finish
fi
disk=$(key disk "$tmp/disk")
vdi=$(key vdi "$tmp/disk")
[ "$disk" = "$G/kit-disk.img" ] && [ "$vdi" = "$G/kit-disk.vdi" ] && pass "mkdisk.sh: disk= and vdi= in the kit's folder" ||
    fail "mkdisk.sh printed disk=$disk vdi=$vdi"
[ "$(key drive "$tmp/disk")" = "if=ide,port=0,device=0,media=disk,file=$disk" ] &&
    [ "$(key prompt "$tmp/disk")" = "capsule:~#" ] && [ "$(key cmdline "$tmp/disk")" = "$kit_cmdline" ] &&
    pass "mkdisk.sh: drive=, prompt= and cmdline= (the kit's)" || fail "mkdisk.sh's output: $(cat "$tmp/disk")"
[ "$(stat -c %s "$disk")" = $((48 * 1024 * 1024)) ] && pass "the disk is 48 MiB" ||
    fail "the disk is $(stat -c %s "$disk") bytes"
sfdisk --dump "$disk" >"$tmp/parts" 2>&1
if grep -q '^label: dos' "$tmp/parts" && grep -q '^label-id: 0xcab51e00' "$tmp/parts" &&
    grep -q "^$disk""1 : start= *2048, size= *49152, type=e, bootable" "$tmp/parts" &&
    grep -q "^$disk""2 : start= *51200, size= *47104, type=83$" "$tmp/parts"; then
    pass "MBR: partition 1 FAT16 (LBA) active at 2048, partition 2 Linux scratch"
else
    fail "the partition table: $(cat "$tmp/parts")"
fi
cmp -s -n 440 "$disk" /usr/lib/syslinux/mbr/mbr.bin && pass "the MBR's boot code is syslinux's mbr.bin" ||
    fail "the MBR's boot code is not syslinux's"
[ "$(od -An -tx1 -j$((51200 * 512)) -N16 "$disk" | tr -d ' ')" = 00000000000000000000000000000000 ] &&
    pass "the scratch partition is zeros" || fail "the scratch partition is not zeroed"
fat="$disk@@1M"
mtype -i "$fat" ::/syslinux.cfg >"$tmp/cfg" 2>&1
if grep -q "^  APPEND $kit_cmdline\$" "$tmp/cfg" && grep -q '^SERIAL 0 115200' "$tmp/cfg" &&
    grep -q '^PROMPT 0' "$tmp/cfg" && grep -q '^  KERNEL vmlinuz' "$tmp/cfg" &&
    grep -q '^  INITRD initrd.gz,modules.gz$' "$tmp/cfg"; then
    pass "syslinux.cfg: the kit's kernel, initrd and command line, serial, no prompt"
else
    fail "syslinux.cfg: $(cat "$tmp/cfg")"
fi
mcopy -n -i "$fat" ::/vmlinuz "$tmp/vmlinuz" && mcopy -n -i "$fat" ::/initrd.gz "$tmp/initrd.gz" &&
    mcopy -n -i "$fat" ::/modules.gz "$tmp/modules.gz" &&
    cmp -s "$tmp/vmlinuz" "$kdir/vmlinuz" && cmp -s "$tmp/initrd.gz" "$kdir/initrd.gz" &&
    cmp -s "$tmp/modules.gz" "$kdir/modules.gz" &&
    pass "the FAT holds the kit's very vmlinuz, initrd.gz and modules.gz" ||
    fail "the FAT's kernel, initrd or modules differ from the kit's"
# The disk drivers' archive: capsule.load names ata_piix, ahci, sd_mod,
# sr_mod, virtio_pci and virtio_blk, each after what it needs.
python3 - "$kdir/modules.gz" "$kit_release" >"$tmp/load" 2>&1 <<'PY'
import gzip, sys
d, i, files = gzip.open(sys.argv[1]).read(), 0, {}
while d[i:i + 6] == b'070701':
    size, ns = int(d[i + 54:i + 62], 16), int(d[i + 94:i + 102], 16)
    name = d[i + 110:i + 110 + ns - 1].decode()
    i = (i + 110 + ns + 3) & ~3
    files[name] = d[i:i + size]
    i = (i + size + 3) & ~3
order = files['lib/modules/capsule.load'].decode().split()
for m in order:
    assert 'lib/modules/%s/%s' % (sys.argv[2], m) in files, m
print(' '.join(p.rsplit('/', 1)[1][:-3] for p in order))
PY
load=$(cat "$tmp/load")
prev=0 inorder=1
for m in scsi_mod libata ata_piix ahci sd_mod sr_mod virtio_pci virtio_blk virtio_net; do
    i=$(tr ' ' '\n' <"$tmp/load" | grep -nx -- "$m" | cut -d: -f1)
    { [ -n "$i" ] && [ "$i" -gt $prev ]; } || inorder=0
    prev=${i:-0}
done
[ $inorder = 1 ] && pass "modules.gz: $(wc -w <"$tmp/load") modules in loading order ($load)" ||
    fail "modules.gz's capsule.load: $load"
mdir -a -b -i "$fat" ::/ 2>/dev/null | grep -q 'ldlinux.sys$' && pass "syslinux is installed (ldlinux.sys)" ||
    fail "no ldlinux.sys on the FAT"
[ "$(dd if="$disk" bs=1 skip=$((1048576 + 3)) count=8 status=none)" = SYSLINUX ] &&
    pass "partition 1's boot sector is syslinux's" || fail "partition 1's boot sector is not syslinux's"

t0=$(date +%s%N)
before=$(stat -c %Y.%i "$disk")
"$KIT/mkdisk.sh" >"$tmp/disk2" 2>"$tmp/disk2.err"
ms=$((($(date +%s%N) - t0) / 1000000))
# reuse is the same file left untouched (its time and inode), not a time bound
if cmp -s "$tmp/disk" "$tmp/disk2" && [ "$(stat -c %Y.%i "$disk")" = "$before" ]; then
    pass "a second mkdisk.sh reuses the disk ($ms ms)"
else
    fail "the second mkdisk.sh rebuilt the disk ($ms ms): $(cat "$tmp/disk2.err")"
fi

"$KIT/mkdisk.sh" --name kit-variant --append 'capsule.test=1' >"$tmp/var" 2>"$tmp/var.err" ||
    fail "mkdisk.sh --name --append failed: $(cat "$tmp/var.err")"
[ "$(key disk "$tmp/var")" = "$G/kit-variant.img" ] &&
    mtype -i "$G/kit-variant.img@@1M" ::/syslinux.cfg | grep -q "^  APPEND $kit_cmdline capsule.test=1\$" &&
    cmp -s "$tmp/disk" <("$KIT/mkdisk.sh" 2>/dev/null) &&
    pass "--name kit-variant --append: its own disk, the arguments on its command line" ||
    fail "the variant: $(cat "$tmp/var")"

"$KIT/mkdisk.sh" --name ../x >/dev/null 2>"$tmp/e"
[ $? -eq 2 ] && grep -q "not a plain file name" "$tmp/e" && pass "mkdisk.sh --name ../x: exit 2, $(head -1 "$tmp/e")" ||
    fail "mkdisk.sh --name ../x: $(cat "$tmp/e")"
"$KIT/mkdisk.sh" --name long --append "capsule.x=$(head -c 2100 /dev/zero | tr '\0' a)" >/dev/null 2>"$tmp/e"
[ $? -eq 1 ] && grep -q "at most 2047" "$tmp/e" && [ ! -e "$G/long.img" ] &&
    pass "an over-long command line: exit 1, $(head -1 "$tmp/e")" || fail "an over-long command line: $(cat "$tmp/e")"

# ---- mkiso.sh ----------------------------------------------------------------
if "$KIT/mkiso.sh" >"$tmp/iso" 2>"$tmp/iso.err"; then
    iso=$(key iso "$tmp/iso")
    [ "$(key drive "$tmp/iso")" = "if=ide,port=1,device=0,media=cdrom,file=$iso" ] &&
        pass "mkiso.sh: iso= and drive= (the secondary master, a CD-ROM)" || fail "mkiso.sh's output: $(cat "$tmp/iso")"
    xorriso -indev "$iso" -report_el_torito plain 2>/dev/null >"$tmp/et"
    grep -q 'El Torito boot img :   1  BIOS  y   none' "$tmp/et" && grep -q '/isolinux/isolinux.bin' "$tmp/et" &&
        pass "El Torito: a bootable no-emulation image, /isolinux/isolinux.bin" || fail "El Torito: $(cat "$tmp/et")"
    [ "$(od -An -tx1 -j510 -N2 "$iso" | tr -d ' ')" = 55aa ] && sfdisk --dump "$iso" 2>/dev/null | grep -q 'bootable' &&
        pass "isohybrid: an MBR with an active partition" || fail "no isohybrid MBR"
    mkdir -p "$tmp/x"
    xorriso -osirrox on -indev "$iso" -extract /isolinux/isolinux.cfg "$tmp/x/cfg" \
        -extract /boot/vmlinuz "$tmp/x/vmlinuz" -extract /boot/initrd.gz "$tmp/x/initrd.gz" \
        -extract /boot/modules.gz "$tmp/x/modules.gz" >/dev/null 2>&1
    grep -q "^  APPEND $kit_cmdline\$" "$tmp/x/cfg" && cmp -s "$tmp/x/vmlinuz" "$kdir/vmlinuz" &&
        grep -q '^  INITRD /boot/initrd.gz,/boot/modules.gz$' "$tmp/x/cfg" &&
        cmp -s "$tmp/x/initrd.gz" "$kdir/initrd.gz" && cmp -s "$tmp/x/modules.gz" "$kdir/modules.gz" &&
        pass "the ISO holds isolinux.cfg with the kit's command line and the kit's kernel and initrd" ||
        fail "the ISO's files: $(cat "$tmp/x/cfg" 2>&1)"
else
    fail "mkiso.sh failed: $(cat "$tmp/iso.err")"
fi

# ---- Capsule's VDI code on the disk ------------------------------------------
ok clonemedium disk "$disk" "$tmp/c.vdi" --format VDI
if qemu-img check -q -f vdi "$tmp/c.vdi" && qemu-img compare -q -f raw -F vdi "$disk" "$tmp/c.vdi"; then
    pass "capsule's VDI of the disk: qemu-img check clean, identical to the raw disk"
else
    fail "capsule's VDI of the disk fails qemu-img check or compare"
fi
ok clonemedium "$tmp/c.vdi" "$tmp/c.raw" --format RAW
cmp -s "$disk" "$tmp/c.raw" && pass "capsule's VDI back to RAW: byte-identical" ||
    fail "capsule's VDI back to RAW differs from the disk"
ok clonemedium "$vdi" "$tmp/q.raw" --format RAW
cmp -s "$disk" "$tmp/q.raw" && pass "qemu-img's VDI (mkdisk.sh's) read by capsule: byte-identical" ||
    fail "capsule read qemu-img's VDI differently"
finish
