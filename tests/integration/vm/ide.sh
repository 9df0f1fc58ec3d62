#!/bin/bash
# tests/integration/vm/ide.sh - capsule-vm --drive with the PIIX3 IDE
# controller under SeaBIOS (--firmware bios, engine rem):
#  - BIOS -> disk: a raw image whose boot sector is ide_mbr.bin boots; the
#    payload writes LBA 2050 through INT 13h and reads it back (ATA WRITE and
#    READ SECTORS), and the data is in the image file afterwards; --stats
#    counts the requests under /PDM/Blk/;
#  - the same from a dynamic VDI made by qemu-img (a new block allocated by
#    the guest's write; qemu-img check calls it clean, the data is there);
#  - BIOS -> DVD: an ISO made with xorriso, ide_cdboot.bin as its El Torito
#    no-emulation boot image, boots from the secondary master; the payload
#    reads the ISO's volume descriptor through INT 13h (ATAPI READ(10));
#  - the boot order (--boot) picks between the two, an empty DVD drive
#    is passed over;
#  - without a BIOS (ide_irq.bin): PIO and bus-master DMA completions
#    arrive as IRQ 14 and wake the CPU from HLT;
#  - readonly=on: the guest's write fails (the device reports an error),
#    the image is unchanged;
#  - bad --drive arguments and images (missing, held by another VM):
#    clear errors, status 2 or 4, in the standalone and the managed mode
#    (--startvm ... --drive).
# Prints the time from start to each payload's verdict.
set -u
SEABIOS_TEST=ide
SEABIOS_NEED=/usr/bin/xorriso:xorriso
. "$(dirname "$0")/../../lib/seabios.sh"
holder=
on_exit() { [ -n "$holder" ] && kill "$holder" 2>/dev/null; }

# ---- BIOS -> disk, the guest's write reaches the image ---------------------
mbr_disk "$T/disk.img" 4M
boot "disk boot" 67 "disk write ok" --boot disk --stats \
    --drive "if=ide,port=0,device=0,media=disk,format=raw,file=$T/disk.img"
# the block layer's counters: the boot sector and the read-back, one write
for want in "/PDM/Blk/piix3ide0/LUN0/Reads 2 count" "/PDM/Blk/piix3ide0/LUN0/ReadBytes 1024 bytes" \
    "/PDM/Blk/piix3ide0/LUN0/Writes 1 count" "/PDM/Blk/piix3ide0/LUN0/WriteBytes 512 bytes"; do
    grep -q "^$want" "$T/log" || fail "disk: --stats lacks '$want'"
done
check_guest_write "$T/disk.img" disk

# ---- the same from a dynamic VDI made by qemu-img: the guest's write
# allocates a block; qemu-img finds the image clean and the data in it ----
if command -v qemu-img >/dev/null; then
    mbr_disk "$T/v.raw" 4M
    qemu-img convert -f raw -O vdi "$T/v.raw" "$T/v.vdi"
    boot "vdi boot" 67 "disk write ok" --boot disk \
        --drive "if=ide,port=0,device=0,media=disk,file=$T/v.vdi"
    qemu-img check -f vdi "$T/v.vdi" >"$T/check" 2>&1 ||
        { fail "vdi: qemu-img check"; sed 's/^/    /' "$T/check"; }
    qemu-img convert -f vdi -O raw "$T/v.vdi" "$T/v.back"
    check_guest_write "$T/v.back" vdi
else
    echo "FAIL ide: qemu-img is missing: install qemu-utils (tools/setup.sh does)"
    fails=$((fails + 1))
fi

# ---- BIOS -> DVD (El Torito, no emulation) ----------------------------------
make_cd_iso
boot "dvd boot" 69 "CD read ok" --boot dvd \
    --drive "if=ide,port=1,device=0,media=cdrom,file=$T/cd.iso"
grep -q "piix3ide0: secondary master: DVD drive with a medium" "$T/log" ||
    fail "dvd: the log does not name the drive"

# ---- the boot order decides; an empty DVD drive is passed over --------------
all=(--drive "if=ide,port=0,device=0,media=disk,file=$T/disk.img"
     --drive "if=ide,port=0,device=1,media=cdrom"
     --drive "if=ide,port=1,device=0,media=cdrom,format=iso,file=$T/cd.iso")
boot "order dvd,disk" 69 "CD read ok" --boot dvd,disk "${all[@]}"
boot "order disk,dvd" 67 "disk write ok" --boot disk,dvd "${all[@]}"
boot "empty dvd, then disk" 67 "disk write ok" --boot dvd,disk \
    --drive "if=ide,port=1,device=1,media=cdrom" \
    --drive "if=ide,port=0,device=0,media=disk,file=$T/disk.img"

# ---- read-only media refuse writes --------------------------------------
readonly_boot "if=ide,port=0,device=0,media=disk"

# ---- without a BIOS: completions as IRQ 14 wake the CPU from HLT ----------
# (ide_irq.bin: PIO, then DMA through the PCI function it sets up itself;
# nothing else interrupts, so a lost wake-up hangs until the timeout)
{ head -c 2560 /dev/zero; for i in $(seq 128); do printf 'IRQ!'; done
  for i in $(seq 128); do printf 'DMA!'; done; } >"$T/irq.img"
truncate -s 1M "$T/irq.img"
t0=$(ms)
timeout $((20 * S)) "$VM" --kernel "$PAY/ide_irq.bin" --engine rem --debug-exit \
    --serial "file:$T/serial" --drive "if=ide,media=disk,file=$T/irq.img" >"$T/log" 2>&1
st=$?
if [ "$st" != 71 ] || ! grep -q "dma irq ok" "$T/serial"; then
    fail "irq: status $st (want 71)"
    sed 's/^/    /' "$T/serial" "$T/log" | tail -20
else
    echo "ide: irq: PIO and DMA completions woke the CPU, $(($(ms) - t0)) ms"
fi

# ---- bad input --------------------------------------------------------------
K=(--kernel "$PAY/hello.bin" --engine rem --serial none)
expect "ide port" 2 "ide has ports 0-1 and devices 0-1" -- "${K[@]}" \
    --drive "if=ide,port=2,device=0,media=disk,file=$T/disk.img"
expect "unknown key" 2 "unknown key 'speed'" -- "${K[@]}" \
    --drive "if=ide,speed=9,media=disk,file=$T/disk.img"
expect "disk without file" 2 "a disk needs file=PATH" -- "${K[@]}" \
    --drive "if=ide,port=0,device=0,media=disk"
expect "same slot twice" 2 "ide port 0 device 1 has a drive already" -- "${K[@]}" \
    --drive "if=ide,port=0,device=1,media=cdrom" --drive "if=ide,port=0,device=1,media=cdrom"
expect "missing image" 4 "$T/none.img" -- "${K[@]}" \
    --drive "if=ide,port=0,device=0,media=disk,file=$T/none.img"
expect "bad format" 2 "format= is raw, vdi or iso, not 'qcow2'" -- "${K[@]}" \
    --drive "if=ide,port=0,device=0,media=disk,format=qcow2,file=$T/disk.img"
# the managed mode (the service passes the machine's attachments as --drive)
# takes the same syntax; without a service it then stops at the connection
mkdir -p "$T/home"
expect "managed bad drive" 2 "ide has ports 0-1 and devices 0-1" -- \
    --startvm vm1 --home "$T/home" --drive "if=ide,port=2,media=disk,file=$T/disk.img"
expect "managed drive" 4 "cannot reach the service" -- \
    --startvm vm1 --home "$T/home" --drive "if=ide,port=1,media=cdrom"
# an image another VM has open read-write is refused (runtime/vd's lock)
truncate -s 1M "$T/held.img"
"$VM" --firmware bios --engine rem --serial none \
    --drive "if=ide,media=disk,file=$T/held.img" >/dev/null 2>&1 &
holder=$!
for i in $(seq 100); do
    [ -n "$(find /proc/$holder/fd -lname "$T/held.img" 2>/dev/null)" ] && break
    sleep 0.05
done
expect "image in use" 4 "held.img: in use by another process" -- "${K[@]}" \
    --drive "if=ide,media=disk,file=$T/held.img"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
# a path with commas: file= takes the rest of the argument
cp "$T/disk.img" "$T/a,b=c.img"
expect "comma in path" 85 "piix3ide0: primary master: hard disk" -- "${K[@]}" --debug-exit \
    --drive "if=ide,media=disk,file=$T/a,b=c.img"

seabios_finish
