#!/bin/bash
# tests/integration/virtio/virtio_linux.sh - virtio-blk (plugins/devices/virtio)
# driven by Linux: the guest kit's Debian kernel under --engine rem, with
# the kit's disk drivers (guestkit.sh's modules.gz: virtio_pci and
# virtio_blk among them; Debian builds them as modules) appended to its
# initramfs, which its init loads before the batch command. Two drives:
#  - vda: 8 MiB, each 512-byte sector starting with "VIRTIO-SECTOR-NNNNNN":
#    /sys/block/vda/size is 16384, the serial (GET_ID) is the device's,
#    sector 5 reads back as written on the host (dd | od), a write of
#    sector 9 plus fsync lands in the image file and reaches the block
#    layer as a FLUSH, the device's interrupt line counted interrupts (INTx
#    through PIIX3's PIRQ routing, the ACPI _PRT) and an 8 MiB sequential
#    read is timed;
#  - vdb: readonly=on on port 3: /sys/block/vdb/ro is 1 (VIRTIO_BLK_F_RO).
# The kernel log must be free of oopses and warnings. Fails (does not
# skip) when the kit or its modules cannot be fetched; skips only on a
# host without Debian's tools (tests/lib/guestkit.sh). About 15 s.
set -u
B=${CAPSULE_BUILD:?CAPSULE_BUILD must name the build directory}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
KIT=$TOP/tools/guestkit/guestkit.sh
VM=$B/bin/capsule-vm
LIMIT=$((120 * ${CAPSULE_TIMEOUT_SCALE:-1}))
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. "$TOP/tests/lib/skip.sh"
. "$TOP/tests/lib/guestkit.sh"
guestkit_load virtio-linux "$tmp"
case $? in 2) exit 0 ;; 1) exit 1 ;; esac
# the kit's disk drivers (guestkit.sh's modules.gz, virtio among them): its
# init insmods what /lib/modules/capsule.load names before the batch runs
guestkit_modules "$tmp" || exit 1

python3 - "$tmp/vda.img" <<'EOF'
import sys
b = bytearray(8 << 20)
for s in range(len(b) // 512):
    t = b'VIRTIO-SECTOR-%06d' % s
    b[s * 512:s * 512 + len(t)] = t
open(sys.argv[1], 'wb').write(b)
EOF
truncate -s 1M "$tmp/vdb.img"

batch="echo vda-size=\$(cat /sys/block/vda/size) vdb-ro=\$(cat /sys/block/vdb/ro) vda-ro=\$(cat /sys/block/vda/ro)
echo vda-serial=\$(cat /sys/block/vda/serial)
echo sector5=\$(dd if=/dev/vda bs=512 skip=5 count=1 2>/dev/null | head -c 20)
dd if=/dev/vda bs=512 skip=5 count=1 2>/dev/null | od -An -c | head -1
printf GUEST-WROTE-SECTOR-9 | dd of=/dev/vda bs=512 seek=9 conv=sync,fsync 2>/dev/null
echo vda-cache=\$(cat /sys/block/vda/queue/write_cache)
t0=\$(cut -d' ' -f1 /proc/uptime); dd if=/dev/vda of=/dev/null bs=1M count=8 skip=0 iflag=direct 2>/dev/null
t1=\$(cut -d' ' -f1 /proc/uptime); echo read8m=\$t0..\$t1
v=\$(basename \$(readlink /sys/block/vda/device)); echo irqs=\$(grep \" \$v\$\" /proc/interrupts | awk '{print \$2}')"
cmdline=$("$KIT" cmdline --batch "$batch" --debug-exit) || { echo "FAIL: guestkit cmdline"; exit 1; }
start=$(date +%s%N)
timeout "$LIMIT" "$VM" --engine rem --memory 256 --kernel "$kit_vmlinux" --initrd "$kit_initrd_modules" \
    --append "$cmdline" --serial stdio --debug-exit --stats \
    --drive "if=virtio,port=0,media=disk,file=$tmp/vda.img" \
    --drive "if=virtio,port=3,media=disk,readonly=on,file=$tmp/vdb.img" </dev/null >"$tmp/out" 2>&1
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
[ $rc -eq 1 ] || fail "capsule-vm exited $rc, want 1 (debug-exit of rc 0); last lines:$(tail -8 "$tmp/out" | sed 's/^/\n  /')"

for want in "vda-size=16384 vdb-ro=1 vda-ro=0" "vda-serial=CAPSULE-VBLK-0-00" \
    "sector5=VIRTIO-SECTOR-000005" "   V   I   R   T   I   O   -   S   E   C   T   O   R   -   0   0" \
    "vda-cache=write back" "=== capsule-batch end rc=0 ==="; do
    grep -qF -- "$want" "$tmp/out" || fail "output lacks '$want'"
done
grep -q "capsule-guest: cannot load" "$tmp/out" &&
    fail "a disk driver did not load: $(grep 'cannot load' "$tmp/out" | head -3)"
irqs=$(sed -n 's/^irqs=//p' "$tmp/out" | tr -d '\r')
[ -n "$irqs" ] && [ "$irqs" -gt 0 ] 2>/dev/null || fail "no virtio interrupts counted ('$irqs')"
# fsync after the write: the device offers VIRTIO_BLK_F_FLUSH, so the
# kernel keeps a write-back cache and flushes it: a FLUSH through the
# block layer (fdatasync)
flushes=$(sed -n 's|^/PDM/Blk/virtioblk0/LUN0/Flushes *\([0-9]*\).*|\1|p' "$tmp/out")
[ -n "$flushes" ] && [ "$flushes" -gt 0 ] || fail "no FLUSH reached the block layer ('$flushes')"
got=$(dd if="$tmp/vda.img" bs=512 skip=9 count=1 status=none | head -c 20)
[ "$got" = GUEST-WROTE-SECTOR-9 ] || fail "sector 9 of the image holds '$got', not the guest's write"
if grep -nE 'Oops|Call Trace|Kernel panic|BUG:|WARNING:|I/O error|virtio_blk.*error' "$tmp/out" |
    grep -vE 'RETBleed: WARNING|Speculative Return Stack Overflow: WARNING' >"$tmp/bad"; then
    fail "kernel log shows trouble:$(head -5 "$tmp/bad" | sed 's/^/\n  /')"
fi
read8m=$(sed -n 's/^read8m=//p' "$tmp/out" | tr -d '\r')
echo "virtio-linux: boot to power-off ${ms} ms; 8 MiB O_DIRECT read in the guest: uptime $read8m s; $irqs interrupts, $flushes flushes"
if [ $fails -ne 0 ]; then
    echo "virtio-linux: $fails failure(s); guest output:"
    grep -v '^capsule-vm: debugcon' "$tmp/out" | sed -n '/capsule-batch begin/,$p' | head -30 | sed 's/^/  /'
    echo "  the kernel about the function (BARs need the host bridge's ACPI _CRS, INTx its _PRT):"
    grep -E '1af4:1042|virtio-pci|virtio_blk' "$tmp/out" | head -8 | sed 's/^/  /'
    exit 1
fi
echo "virtio-linux: ok"
