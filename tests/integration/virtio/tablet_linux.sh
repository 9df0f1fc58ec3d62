#!/bin/bash
# tests/integration/virtio/tablet_linux.sh - the virtio-input tablet
# (plugins/devices/virtio/virtio_input.c) driven by Linux: the guest kit's
# Debian kernel under --engine rem with the kit's modules.gz (virtio_pci,
# virtio_input and evdev among them; Debian builds them as modules) and
# capsule-vm --device virtioinput --input-feed FIFO. Checks:
#  - Linux binds it: /proc/bus/input/devices lists "Capsule virtio tablet"
#    (bus 0006 BUS_VIRTUAL, 1af4:1052) with an evdev handler and the
#    bitmaps the device's configuration gives (EV=f: SYN KEY REL ABS,
#    ABS=3: X and Y, REL=100: the wheel, KEY: the three buttons), and the
#    virtio device's driver is virtio_input;
#  - host events reach the guest: once the guest's reader has opened the
#    tablet's /dev/input/eventN (it says "tablet-reader-ready"), the test
#    writes two absolute events into the feed (a move with the left button
#    pressed, then its release with a wheel notch); the guest reads them as
#    evdev records: ABS_X 1000, ABS_Y 2000, BTN_LEFT 1, SYN, BTN_LEFT 0,
#    REL_WHEEL 1, SYN - in that order;
#  - a bad feed line is said on stderr and skipped (the next one works).
# The kernel log must be free of oopses and warnings. Fails (does not skip)
# when the kit cannot be fetched; skips only on a host without Debian's
# tools (tests/lib/guestkit.sh). About 20 s under rem.
set -u
B=${CAPSULE_BUILD:?CAPSULE_BUILD must name the build directory}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
KIT=$TOP/tools/guestkit/guestkit.sh
VM=$B/bin/capsule-vm
S=${CAPSULE_TIMEOUT_SCALE:-1}
LIMIT=$((120 * S))
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

. "$TOP/tests/lib/skip.sh"
. "$TOP/tests/lib/guestkit.sh"
guestkit_load virtio-tablet "$tmp"
case $? in 2) exit 0 ;; 1) exit 1 ;; esac
guestkit_modules "$tmp" || exit 1

# The guest: the tablet's entry, its driver, then 7 evdev records (24 bytes
# each on x86-64) read from its event device once the reader has it open.
batch='grep -B1 -A9 "Capsule virtio tablet" /proc/bus/input/devices
for d in /sys/bus/virtio/devices/*; do echo virtio-driver=$(cat $d/device) $(basename $(readlink $d/driver)); done
ev=$(grep -A6 "Capsule virtio tablet" /proc/bus/input/devices | sed -n "s/^H: Handlers=.*\(event[0-9]*\).*/\1/p")
echo tablet-event=$ev
[ -n "$ev" ] || exit 3
dd if=/dev/input/$ev of=/tmp/ev bs=24 count=7 2>/dev/null & r=$!
n=0; while ! ls -l /proc/$r/fd 2>/dev/null | grep -q /dev/input/$ev; do n=$((n+1)); [ $n -lt 600 ] || exit 4; sleep 0.1; done
echo tablet-reader-ready
wait $r
echo tablet-events=$(od -An -v -tx1 /tmp/ev | tr -d " \n")'
cmdline=$("$KIT" cmdline --batch "$batch" --debug-exit) || { echo "FAIL: guestkit cmdline"; exit 1; }
mkfifo "$tmp/feed"
exec 3<>"$tmp/feed" # read-write: writing never blocks, whether capsule-vm is there or not
start=$(date +%s%N)
timeout "$LIMIT" "$VM" --engine rem --memory 256 --kernel "$kit_vmlinux" --initrd "$kit_initrd_modules" \
    --append "$cmdline" --serial stdio --debug-exit --device virtioinput \
    --input-feed "$tmp/feed" </dev/null >"$tmp/out" 2>&1 &
pid=$!
# the guest's reader is ready: the events go in (a bound, not a timing
# assertion: a VM that ends or never gets there fails below)
while kill -0 "$pid" 2>/dev/null && ! grep -q "^tablet-reader-ready" "$tmp/out"; do
    sleep 0.1
done
ready_ms=$((($(date +%s%N) - start) / 1000000))
printf 'abs 1000 2000 0 1\nabsolutely not\nabs 1000 2000 -1 0\n' >&3
wait "$pid"
rc=$?
pid=
ms=$((($(date +%s%N) - start) / 1000000))
[ $rc -eq 1 ] || fail "capsule-vm exited $rc, want 1 (debug-exit of rc 0); last lines:$(tail -8 "$tmp/out" | sed 's/^/\n  /')"

tr -d '\r' <"$tmp/out" >"$tmp/log"
for want in 'N: Name="Capsule virtio tablet"' "I: Bus=0006 Vendor=1af4 Product=1052 Version=0001" \
    "U: Uniq=CAPSULE-TABLET-0" "B: EV=f" "B: ABS=3" "B: REL=100" "B: KEY=70000 0 0 0 0" \
    "virtio-driver=0x0012 virtio_input" "=== capsule-batch end rc=0 ===" \
    "capsule-vm: input feed: line 2: not abs, rel or keys"; do
    grep -qF -- "$want" "$tmp/log" || fail "output lacks '$want'"
done
grep -A6 'Capsule virtio tablet' "$tmp/log" | grep -q '^H: Handlers=.*event[0-9]' ||
    fail "the tablet has no evdev handler"
grep -q "capsule-guest: cannot load" "$tmp/log" &&
    fail "a driver did not load: $(grep 'cannot load' "$tmp/log" | head -3)"

# evdev records: 16 bytes of time, le16 type, le16 code, le32 value
hex=$(sed -n 's/^tablet-events=//p' "$tmp/log")
got=$(python3 - "$hex" <<'EOF'
import struct, sys
b = bytes.fromhex(sys.argv[1])
print(';'.join('%d %#x %d' % struct.unpack_from('<HHi', b, o + 16) for o in range(0, len(b) - 23, 24)))
EOF
)
want="3 0x0 1000;3 0x1 2000;1 0x110 1;0 0x0 0;1 0x110 0;2 0x8 1;0 0x0 0"
[ "$got" = "$want" ] || fail "the guest read the events '$got', want '$want'"

if grep -nE 'Oops|Call Trace|Kernel panic|BUG:|WARNING:|virtio_input.*error' "$tmp/log" |
    grep -vE 'RETBleed: WARNING|Speculative Return Stack Overflow: WARNING' >"$tmp/bad"; then
    fail "kernel log shows trouble:$(head -5 "$tmp/bad" | sed 's/^/\n  /')"
fi
echo "virtio-tablet: reader ready after ${ready_ms} ms, boot to power-off ${ms} ms; guest read: $got"
if [ $fails -ne 0 ]; then
    echo "virtio-tablet: $fails failure(s); guest output:"
    grep -v '^capsule-vm: debugcon' "$tmp/log" | sed -n '/capsule-batch begin/,$p' | head -40 | sed 's/^/  /'
    exit 1
fi
echo "virtio-tablet: ok"
