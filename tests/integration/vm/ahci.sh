#!/bin/bash
# tests/integration/vm/ahci.sh - capsule-vm --drive if=sata: the AHCI
# controller (plugins/devices/ahci, ICH9 at 00:0d.0) under SeaBIOS
# (--firmware bios, engine rem), with ide.sh's payloads:
#  - BIOS -> SATA disk on port 2 (ports 0-1 empty): SeaBIOS's AHCI driver
#    finds it (IDENTIFY PACKET DEVICE fails, IDENTIFY DEVICE by PIO), boots
#    ide_mbr.bin, whose INT 13h write (WRITE DMA) and read back (READ DMA)
#    go through the command list; the data is in the image afterwards;
#  - BIOS -> SATA DVD (El Torito from an ISO, ATAPI PACKET READ(10) by DMA);
#  - IDE and SATA drives in one machine, the boot order picking between them;
#  - readonly=on: the guest's write fails (TFES), the image is unchanged;
#  - bad --drive arguments for sata: clear errors, status 2.
# Prints the time from start to each payload's verdict.
set -u
SEABIOS_TEST=ahci
SEABIOS_NEED=/usr/bin/xorriso:xorriso
. "$(dirname "$0")/../../lib/seabios.sh"

# ---- BIOS -> SATA disk on port 2, the guest's write reaches the image -------
mbr_disk "$T/disk.img" 4M
boot "disk boot" 67 "disk write ok" --boot disk \
    --drive "if=sata,port=2,media=disk,format=raw,file=$T/disk.img"
grep -q "ahci0: port 2: hard disk" "$T/log" || fail "disk: the log does not name the drive"
check_guest_write "$T/disk.img" disk

# ---- BIOS -> SATA DVD (El Torito, no emulation) ------------------------------
make_cd_iso
boot "dvd boot" 69 "CD read ok" --boot dvd --drive "if=sata,port=0,media=cdrom,file=$T/cd.iso"
grep -q "ahci0: port 0: DVD drive with a medium" "$T/log" || fail "dvd: the log does not name it"

# ---- IDE and SATA together: the boot order decides ---------------------------
both=(--drive "if=ide,port=0,device=0,media=disk,file=$T/disk.img"
      --drive "if=sata,port=1,media=cdrom,file=$T/cd.iso")
boot "ide disk + sata dvd, dvd first" 69 "CD read ok" --boot dvd,disk "${both[@]}"
boot "ide disk + sata dvd, disk first" 67 "disk write ok" --boot disk,dvd "${both[@]}"

# ---- a read-only SATA disk refuses the write ----------------------------------
readonly_boot "if=sata,port=0,media=disk"

# ---- bad input ----------------------------------------------------------------
K=(--kernel "$PAY/hello.bin" --engine rem --serial none)
expect "sata port 30" 2 "sata has ports 0-29 and devices 0-0" -- "${K[@]}" \
    --drive "if=sata,port=30,media=disk,file=$T/disk.img"
expect "sata device 1" 2 "sata has ports 0-29 and devices 0-0" -- "${K[@]}" \
    --drive "if=sata,port=0,device=1,media=disk,file=$T/disk.img"
expect "same port twice" 2 "sata port 4 device 0 has a drive already" -- "${K[@]}" \
    --drive "if=sata,port=4,media=cdrom" --drive "if=sata,port=4,media=cdrom"
expect "missing image" 4 "$T/none.img" -- "${K[@]}" \
    --drive "if=sata,port=0,media=disk,file=$T/none.img"

seabios_finish
