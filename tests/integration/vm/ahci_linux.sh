#!/bin/bash
# tests/integration/vm/ahci_linux.sh - the AHCI controller driven by Linux's
# ahci driver: the guest kit's Debian kernel under --engine rem, with
# libata, ahci, sd_mod, sr_mod and what they need (Debian builds them as
# modules) appended to the kit's initramfs by tools/guestkit/kmods.sh and
# loaded by the batch command. Two SATA drives:
#  - port 0, an 8 MiB disk whose sectors start with "AHCI-SECTOR-NNNNNN":
#    /sys/block/sda/size is 16384, sector 5 reads back as the host wrote it,
#    a write of sector 9 plus sync reaches the image file, an 8 MiB O_DIRECT
#    read is timed, and the controller's interrupt (INTA# through PIIX3's
#    PIRQ routing) was counted; Linux queues its commands (NCQ: the queue depth is 32);
#  - port 3, a DVD drive with an ISO: /sys/block/sr0 exists and the volume
#    descriptor at 32 KiB reads "CD001" (ATAPI READ(10) through AHCI).
# The kernel log must show no ATA error handling (exceptions, failed
# commands, link resets), no oops and no warning. Fails (does not skip)
# when the kit or its modules cannot be had; skips only on a host without
# Debian's tools (tests/lib/guestkit.sh). About 10 s.
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
. "$TOP/tests/lib/skip.sh"
. "$TOP/tests/lib/guestkit.sh"
VM=${CAPSULE_BUILD:?CAPSULE_BUILD must name the build directory}/bin/capsule-vm
LIMIT=$((120 * ${CAPSULE_TIMEOUT_SCALE:-1}))
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
guestkit_load ahci-linux "$tmp"
case $? in 2) exit 0 ;; 1) exit 1 ;; esac
mods="scsi_common scsi_mod crct10dif_common crct10dif_generic crc-t10dif crc64 crc64-rocksoft
      crc64_rocksoft_generic t10-pi sd_mod cdrom sr_mod libata libahci ahci"
# shellcheck disable=SC2086
if ! "$TOP/tools/guestkit/kmods.sh" --out "$(dirname "$kit_initrd")" $mods >"$tmp/kmods" \
    2>"$tmp/kmods.err"; then
    echo "FAIL: the kit's SCSI/ATA modules could not be had:"
    sed 's/^/  /' "$tmp/kmods.err"
    exit 1
fi
cat "$kit_initrd" "$(sed -n 's/^overlay=//p' "$tmp/kmods")" >"$tmp/initrd"

python3 - "$tmp/sda.img" <<'EOF'
import sys
img = bytearray(8 << 20)
for lba in range(len(img) // 512):
    tag = b'AHCI-SECTOR-%06d' % lba
    img[lba * 512:lba * 512 + len(tag)] = tag
open(sys.argv[1], 'wb').write(img)
EOF
mkdir "$tmp/iso" && echo "a file on the DVD" >"$tmp/iso/readme.txt"
xorriso -as mkisofs -quiet -o "$tmp/dvd.iso" "$tmp/iso" >/dev/null 2>&1 ||
    { echo "FAIL: xorriso could not make the ISO (tools/setup.sh installs it)"; exit 1; }

batch="for m in $(sed -n 's/^load=//p' "$tmp/kmods"); do
  insmod /lib/modules/\$m.ko || echo module \$m did not load; done
echo sizes sda=\$(cat /sys/block/sda/size) sr0=\$(cat /sys/block/sr0/size)
echo qdepth=\$(cat /sys/block/sda/device/queue_depth)
echo lba5=\$(dd if=/dev/sda bs=512 skip=5 count=1 2>/dev/null | head -c 18)
printf GUEST-WROTE-SECTOR-9 | dd of=/dev/sda bs=512 seek=9 conv=sync 2>/dev/null; sync
echo dvd=\$(dd if=/dev/sr0 bs=2048 skip=16 count=1 2>/dev/null | head -c 6 | tail -c 5)
u0=\$(cut -d' ' -f1 /proc/uptime); dd if=/dev/sda of=/dev/null bs=1M count=8 iflag=direct 2>/dev/null
echo read8m \$u0 \$(cut -d' ' -f1 /proc/uptime)
echo ahci-irqs=\$(awk '/ahci/ {print \$2; exit}' /proc/interrupts)"
cmdline=$("$TOP/tools/guestkit/guestkit.sh" cmdline --batch "$batch" --debug-exit) ||
    { echo "FAIL: guestkit cmdline"; exit 1; }
t0=$(date +%s%N)
timeout "$LIMIT" "$VM" --engine rem --memory 256 --kernel "$kit_vmlinux" --initrd "$tmp/initrd" \
    --append "$cmdline" --serial stdio --debug-exit \
    --drive "if=sata,port=0,media=disk,file=$tmp/sda.img" \
    --drive "if=sata,port=3,media=cdrom,file=$tmp/dvd.iso" </dev/null >"$tmp/out" 2>&1
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
[ $rc -eq 1 ] || fail "capsule-vm exited $rc, want 1 (the batch's rc 0 through debug-exit)"
tr -d '\r' <"$tmp/out" >"$tmp/log"
for want in "sizes sda=16384 sr0=" "lba5=AHCI-SECTOR-000005" "dvd=CD001" "qdepth=32" \
    "=== capsule-batch end rc=0 ==="; do
    grep -qF -- "$want" "$tmp/log" || fail "the guest did not print '$want'"
done
grep -q "module .* did not load" "$tmp/log" && fail "$(grep -m3 'did not load' "$tmp/log")"
irqs=$(sed -n 's/^ahci-irqs=//p' "$tmp/log")
[ "${irqs:-0}" -gt 0 ] 2>/dev/null || fail "Linux counted no AHCI interrupts ('$irqs')"
wrote=$(dd if="$tmp/sda.img" bs=512 skip=9 count=1 status=none | head -c 20)
[ "$wrote" = GUEST-WROTE-SECTOR-9 ] || fail "sector 9 of the image holds '$wrote'"
if grep -E 'exception Emask|failed command|hard resetting link|I/O error|Oops|Call Trace|BUG:|WARNING:' \
    "$tmp/log" | grep -vE '(RETBleed|Speculative Return Stack Overflow): WARNING' >"$tmp/bad"; then
    fail "the kernel log shows trouble:$(head -5 "$tmp/bad" | sed 's/^/\n  /')"
fi
read8m=$(sed -n 's/^read8m //p' "$tmp/log")
echo "ahci-linux: power-on to power-off ${ms} ms; 8 MiB O_DIRECT read: uptime ${read8m% *} -> ${read8m#* } s; $irqs interrupts"
if [ $fails -ne 0 ]; then
    echo "ahci-linux: $fails failure(s); the guest's output:"
    grep -v '^capsule-vm: debugcon' "$tmp/log" | grep -aE 'ata|ahci|sd |sr |batch|sizes|qdepth|lba5|dvd|irqs' |
        tail -40 | sed 's/^/  /'
    exit 1
fi
echo "ahci-linux: ok"
