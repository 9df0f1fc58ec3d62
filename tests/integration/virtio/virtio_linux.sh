#!/bin/bash
# tests/integration/virtio/virtio_linux.sh - virtio-blk and the virtio-input
# tablet (plugins/devices/virtio) driven by Linux: the guest kit's Debian
# kernel under --engine rem, with the kit's drivers (guestkit.sh's
# modules.gz: virtio_pci, virtio_blk, virtio_input and evdev among them;
# Debian builds them as modules) appended to its initramfs, which its init
# loads before the batch command. One boot checks:
#  - vda: 8 MiB, each 512-byte sector starting with "VIRTIO-SECTOR-NNNNNN":
#    /sys/block/vda/size is 16384, the serial (GET_ID) is the device's,
#    sector 5 reads back as written on the host (dd | od), a write of
#    sector 9 plus fsync lands in the image file and reaches the block
#    layer as a FLUSH, the device's interrupt line counted interrupts (INTx
#    through PIIX3's PIRQ routing, the ACPI _PRT) and an 8 MiB sequential
#    read is timed;
#  - vdb: readonly=on on port 3: /sys/block/vdb/ro is 1 (VIRTIO_BLK_F_RO);
#  - the tablet (--device virtioinput at 00:0e.0, its slot under a BIOS;
#    its INTx line shared with vda's): Linux binds it - virtio_input, and
#    /proc/bus/input/devices lists "Capsule virtio tablet" (bus 0006, 1af4:
#    1052) with an evdev handler and the bitmaps its configuration gives
#    (EV=f: SYN KEY REL ABS; ABS=3: X, Y; REL=100: the wheel; KEY: three
#    buttons) -; and host events reach the guest: once the guest's reader
#    has the tablet's /dev/input/eventN open ("tablet-reader-ready"), the
#    test writes into capsule-vm's --input-feed FIFO a move with the left
#    button pressed, a bad line (said on stderr, skipped), the release with
#    a wheel notch; the guest reads the evdev records ABS_X 1000, ABS_Y
#    2000, BTN_LEFT 1, SYN, BTN_LEFT 0, REL_WHEEL 1, SYN, in that order.
# The kernel log must be free of oopses and warnings. Fails (does not
# skip) when the kit or its modules cannot be fetched; skips only on a
# host without Debian's tools (tests/lib/guestkit.sh). About 20 s.
set -u
B=${CAPSULE_BUILD:?CAPSULE_BUILD must name the build directory}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
KIT=$TOP/tools/guestkit/guestkit.sh
VM=$B/bin/capsule-vm
LIMIT=$((120 * ${CAPSULE_TIMEOUT_SCALE:-1}))
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

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
v=\$(basename \$(readlink /sys/block/vda/device)); echo irqs=\$(grep -E \" \$v(,|\$)\" /proc/interrupts | awk '{print \$2}')
"'grep -B1 -A9 "Capsule virtio tablet" /proc/bus/input/devices
for d in /sys/bus/virtio/devices/*; do echo virtio-driver=$(cat $d/device) $(basename $(readlink $d/driver)); done
ev=$(grep -A6 "Capsule virtio tablet" /proc/bus/input/devices | sed -n "s/^H: .*\(event[0-9]*\).*/\1/p")
[ -n "$ev" ] || exit 3
dd if=/dev/input/$ev of=/tmp/ev bs=24 count=7 2>/dev/null & r=$!
n=0; while ! ls -l /proc/$r/fd | grep -q input/; do n=$((n+1)); [ $n -lt 600 ] || exit 4; sleep 0.1; done
echo tablet-reader-ready
wait $r
echo tablet-events=$(od -An -v -tx1 /tmp/ev | tr -d " \n")'
cmdline=$("$KIT" cmdline --batch "$batch" --debug-exit) || { echo "FAIL: guestkit cmdline"; exit 1; }
mkfifo "$tmp/feed"
exec 3<>"$tmp/feed" # read-write: writing never blocks, whether capsule-vm is there or not
start=$(date +%s%N)
timeout "$LIMIT" "$VM" --engine rem --memory 256 --kernel "$kit_vmlinux" --initrd "$kit_initrd_modules" \
    --append "$cmdline" --serial stdio --debug-exit --stats \
    --drive "if=virtio,port=0,media=disk,file=$tmp/vda.img" \
    --drive "if=virtio,port=3,media=disk,readonly=on,file=$tmp/vdb.img" \
    --device virtioinput,devfn=0x70 --input-feed "$tmp/feed" </dev/null >"$tmp/out" 2>&1 &
pid=$!
# the guest's tablet reader is ready: the events go in (a bound, not a
# timing assertion: a VM that ends or never gets there fails below)
while kill -0 "$pid" 2>/dev/null && ! grep -q "^tablet-reader-ready" "$tmp/out"; do
    sleep 0.1
done
printf 'abs 1000 2000 0 1\nabsolutely not\nabs 1000 2000 -1 0\n' >&3
wait "$pid"
rc=$?
pid=
ms=$((($(date +%s%N) - start) / 1000000))
[ $rc -eq 1 ] || fail "capsule-vm exited $rc, want 1 (debug-exit of rc 0); last lines:$(tail -8 "$tmp/out" | sed 's/^/\n  /')"

for want in "vda-size=16384 vdb-ro=1 vda-ro=0" "vda-serial=CAPSULE-VBLK-0-00" \
    "sector5=VIRTIO-SECTOR-000005" "   V   I   R   T   I   O   -   S   E   C   T   O   R   -   0   0" \
    "vda-cache=write back" "=== capsule-batch end rc=0 ===" \
    'N: Name="Capsule virtio tablet"' "I: Bus=0006 Vendor=1af4 Product=1052 Version=0001" \
    "U: Uniq=CAPSULE-TABLET-0" "B: EV=f" "B: ABS=3" "B: REL=100" "B: KEY=70000 0 0 0 0" \
    "virtio-driver=0x0012 virtio_input" "virtio-driver=0x0002 virtio_blk" \
    "capsule-vm: input feed: line 2: not abs, rel, keys or save"; do
    grep -qF -- "$want" "$tmp/out" || fail "output lacks '$want'"
done
grep -A6 'Capsule virtio tablet' "$tmp/out" | grep -q '^H: Handlers=.*event[0-9]' ||
    fail "the tablet has no evdev handler"
# evdev records: 16 bytes of time, le16 type, le16 code, le32 value
hex=$(sed -n 's/^tablet-events=//p' "$tmp/out" | tr -d '\r')
events=$(python3 - "$hex" <<'EOF'
import struct, sys
b = bytes.fromhex(sys.argv[1])
print(';'.join('%d %#x %d' % struct.unpack_from('<HHi', b, o + 16) for o in range(0, len(b) - 23, 24)))
EOF
)
want="3 0x0 1000;3 0x1 2000;1 0x110 1;0 0x0 0;1 0x110 0;2 0x8 1;0 0x0 0"
[ "$events" = "$want" ] || fail "the guest read the tablet's events '$events', want '$want'"
grep -q "capsule-guest: cannot load" "$tmp/out" &&
    fail "a driver did not load: $(grep 'cannot load' "$tmp/out" | head -3)"
irqs=$(sed -n 's/^irqs=//p' "$tmp/out" | tr -d '\r')
[ -n "$irqs" ] && [ "$irqs" -gt 0 ] 2>/dev/null || fail "no virtio interrupts counted ('$irqs')"
# fsync after the write: the device offers VIRTIO_BLK_F_FLUSH, so the
# kernel keeps a write-back cache and flushes it: a FLUSH through the
# block layer (fdatasync)
flushes=$(sed -n 's|^/PDM/Blk/virtioblk0/LUN0/Flushes *\([0-9]*\).*|\1|p' "$tmp/out")
[ -n "$flushes" ] && [ "$flushes" -gt 0 ] || fail "no FLUSH reached the block layer ('$flushes')"
got=$(dd if="$tmp/vda.img" bs=512 skip=9 count=1 status=none | head -c 20)
[ "$got" = GUEST-WROTE-SECTOR-9 ] || fail "sector 9 of the image holds '$got', not the guest's write"
if grep -nE 'Oops|Call Trace|Kernel panic|BUG:|WARNING:|I/O error|virtio_(blk|input).*error' "$tmp/out" |
    grep -vE 'RETBleed: WARNING|Speculative Return Stack Overflow: WARNING' >"$tmp/bad"; then
    fail "kernel log shows trouble:$(head -5 "$tmp/bad" | sed 's/^/\n  /')"
fi
read8m=$(sed -n 's/^read8m=//p' "$tmp/out" | tr -d '\r')
echo "virtio-linux: boot to power-off ${ms} ms; 8 MiB O_DIRECT read in the guest: uptime $read8m s; $irqs interrupts, $flushes flushes; the tablet's events: $events"
if [ $fails -ne 0 ]; then
    echo "virtio-linux: $fails failure(s); guest output:"
    grep -v '^capsule-vm: debugcon' "$tmp/out" | sed -n '/capsule-batch begin/,$p' | head -30 | sed 's/^/  /'
    echo "  the kernel about the function (BARs need the host bridge's ACPI _CRS, INTx its _PRT):"
    grep -E '1af4:1042|virtio-pci|virtio_blk' "$tmp/out" | head -8 | sed 's/^/  /'
    exit 1
fi
echo "virtio-linux: ok"
