#!/bin/bash
# tests/integration/virtio/virtio.sh - capsule-vm --drive if=virtio: virtio-blk
# (plugins/devices/virtio) under SeaBIOS (--firmware bios, engine rem),
# whose virtio-blk driver (src/hw/virtio-blk.c) uses the modern PCI
# interface:
#  - BIOS -> virtio disk: a raw image whose boot sector is ide_mbr.bin
#    boots; the payload writes a sector through INT 13h (VIRTIO_BLK_T_OUT) and
#    reads it back (T_IN), and the data is in the image afterwards;
#  - a drive on port 5 alone (its function goes to the first free slot);
#  - readonly=on: the device offers VIRTIO_BLK_F_RO, the guest's write
#    fails, the image is unchanged;
#  - without a BIOS, virtio_hostile.bin drives the function by hand and
#    lies to it (a looping chain, DMA outside RAM, an absurd length, the
#    available index jumping): DEVICE_NEEDS_RESET or VIRTIO_BLK_S_IOERR
#    each time, and after a reset a good read works;
#  - bad --drive arguments: clear errors, status 2.
# The Linux side (the guest kit's kernel with its virtio modules) is
# virtio_linux.sh. Prints the time from start to each payload's verdict.
set -u
SEABIOS_TEST=virtio
. "$(dirname "$0")/../../lib/seabios.sh"

# ---- BIOS -> virtio disk, the guest's write reaches the image -------------
mbr_disk "$T/disk.img" 4M
boot "disk boot" 67 "disk write ok" --boot disk --stats \
    --drive "if=virtio,port=0,device=0,media=disk,format=raw,file=$T/disk.img"
# the block layer's counters: the boot sector and the read-back, one write
for want in "/PDM/Blk/virtioblk0/LUN0/Reads 2 count" "/PDM/Blk/virtioblk0/LUN0/ReadBytes 1024 bytes" \
    "/PDM/Blk/virtioblk0/LUN0/Writes 1 count" "/PDM/Blk/virtioblk0/LUN0/Errors 0 count"; do
    grep -q "^$want" "$T/log" || fail "disk: --stats lacks '$want'"
done
check_guest_write "$T/disk.img" disk
grep -q "virtioblk0: port 0: disk, 8192 sectors" "$T/log" || fail "disk: the log does not name the drive"
grep -q "bdf=00:[01][0-9a-f].0  bar 0, addr .*size 00004000 \[mem\]" "$T/log" ||
    fail "disk: SeaBIOS did not map the function's BAR 0 (16 KiB)"

# ---- another port: the function still goes to the first free slot --------
cp "$T/disk.img" "$T/port5.img"
boot "port 5" 67 "disk write ok" --boot disk \
    --drive "if=virtio,port=5,media=disk,file=$T/port5.img"
grep -q "virtioblk0: port 5: disk" "$T/log" || fail "port 5: the log does not name the drive"

# ---- read-only media refuse writes --------------------------------------
readonly_boot "if=virtio,port=0,media=disk"
grep -q "virtioblk0: port 0: read-only disk" "$T/log" || fail "readonly: the log does not say read-only"

# ---- a hostile driver without a BIOS (virtio_hostile.bin) ------------------
python3 -c "
b = bytearray(1 << 20)
b[512:512 + 23] = b'VIRTIO-HOSTILE-SECTOR-1'
open('$T/hostile.img', 'wb').write(b)"
t0=$(ms)
timeout $((20 * S)) "$VM" --kernel "$PAY/virtio_hostile.bin" --engine rem --debug-exit \
    --serial "file:$T/serial" --drive "if=virtio,port=0,media=disk,file=$T/hostile.img" \
    >"$T/log" 2>&1
st=$?
if [ "$st" != 75 ] || ! grep -q "read ok" "$T/serial"; then
    fail "hostile: status $st (want 75)"
    sed 's/^/    /' "$T/serial"
    grep -v debugcon "$T/log" | tail -10 | sed 's/^/    /'
else
    echo "virtio: hostile driver: loop, bad DMA, index jump survived, then a good read, $(($(ms) - t0)) ms"
fi
for why in "a loop in the descriptor chain" "the available index ran ahead"; do
    grep -q "the driver broke the protocol ($why" "$T/log" || fail "hostile: the log does not say '$why'"
done

# ---- bad input --------------------------------------------------------------
K=(--kernel "$PAY/hello.bin" --engine rem --serial none)
expect "virtio port" 2 "virtio has ports 0-15 and devices 0-0" -- "${K[@]}" \
    --drive "if=virtio,port=16,media=disk,file=$T/disk.img"
expect "virtio device" 2 "virtio has ports 0-15 and devices 0-0" -- "${K[@]}" \
    --drive "if=virtio,port=0,device=1,media=disk,file=$T/disk.img"
expect "same port twice" 2 "virtio port 3 device 0 has a drive already" -- "${K[@]}" \
    --drive "if=virtio,port=3,media=disk,file=$T/disk.img" \
    --drive "if=virtio,port=3,media=disk,file=$T/ro.img"
expect "cdrom" 2 "virtio-blk has no removable media" -- "${K[@]}" \
    --drive "if=virtio,port=0,media=cdrom"
expect "missing image" 4 "$T/none.img" -- "${K[@]}" \
    --drive "if=virtio,port=0,media=disk,file=$T/none.img"
expect "no-device" 4 "no such device" -- "${K[@]}" --no-device virtioblk \
    --drive "if=virtio,port=0,media=disk,file=$T/disk.img"

seabios_finish
