#!/bin/bash
# tests/integration/vm/vga_linux.sh - Linux draws on the vga device: the
# guest kit's Debian kernel booted directly (no BIOS; Linux assigns the PCI
# BARs itself) under --engine rem with --device vga and Linux's bochs DRM
# driver (bochs, drm, drm_kms_helper, ttm and helpers: modules in Debian,
# appended to the kit's initramfs by tools/guestkit/kmods.sh). One boot:
#  - lfbfill (lfbfill.c, built static here and added to the initramfs)
#    maps the vga's BAR0 through sysfs and fills 10 frames of 1024x768x32
#    with plain stores: the time is printed, and the VM's statistics must
#    show far fewer MMIO operations than those stores (BAR0 is guest RAM
#    with dirty tracking, not MMIO: 7.8 million stores through the device
#    otherwise) - a count, not a timing;
#  - bochs-drm binds, fbcon takes the framebuffer (/proc/fb), a line
#    written to /dev/tty1 shows on the screen: --screenshot's PNG at
#    power-off is 1024x768 and tesseract reads the line back;
#  - the kernel log shows no oops, BUG or warning.
# The hm engine's side (KVM's dirty log) is covered by the hwaccm suite's
# dirty_log_of_tracked_ram, which needs /dev/kvm (skipped, counted, without
# it). Fails (does not skip) when the kit or its modules cannot be had;
# skips only on a host without Debian's tools (tests/lib/guestkit.sh).
set -u
VM=${CAPSULE_BUILD:?CAPSULE_BUILD must name the build directory}/bin/capsule-vm
command -v tesseract >/dev/null ||
    { echo "FAIL: tesseract is missing: install tesseract-ocr (tools/setup.sh does)"; exit 1; }
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
. "$TOP/tests/lib/skip.sh"
. "$TOP/tests/lib/guestkit.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
guestkit_load vga-linux "$tmp"
case $? in 2) exit 0 ;; 1) exit 1 ;; esac
guestkit_kmods "$tmp" drm drm_kms_helper ttm drm_ttm_helper drm_vram_helper bochs || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
if ! ${CC:-cc} -static -O2 -o "$tmp/lfbfill" "$TOP/tests/integration/vm/lfbfill.c" 2>"$tmp/cc.err"; then
    echo "FAIL: lfbfill.c does not build static (libc6-dev):"
    sed 's/^/  /' "$tmp/cc.err"
    exit 1
fi
printf 'dir /bin 0755 0 0\nfile /bin/lfbfill %s 0755 0 0\n' "$tmp/lfbfill" >"$tmp/list"
python3 "$TOP/tools/guestkit/mkinitramfs.py" "$tmp/list" "$tmp/fill.cpio.gz" ||
    { echo "FAIL: mkinitramfs.py"; exit 1; }
cat "$kit_initrd" "$kmods_overlay" "$tmp/fill.cpio.gz" >"$tmp/initrd"

batch="d=/sys/bus/pci/devices/0000:00:02.0
echo vga=\$(cat \$d/vendor):\$(cat \$d/device)
echo 1 >\$d/enable
lfbfill \$d/resource0 3145728 10
for m in $kmods_load; do
  insmod /lib/modules/\$m.ko || echo module \$m did not load; done
echo fb=\$(cat /proc/fb)
printf '\\033[2J\\033[H' >/dev/tty1
echo 'CAPSULE FRAMEBUFFER CONSOLE' >/dev/tty1
sleep 1"
cmdline=$("$TOP/tools/guestkit/guestkit.sh" cmdline --batch "$batch" --debug-exit) ||
    { echo "FAIL: guestkit cmdline"; exit 1; }
t0=$(date +%s%N)
timeout $((180 * ${CAPSULE_TIMEOUT_SCALE:-1})) "$VM" --engine rem --memory 256 --kernel "$kit_vmlinux" --initrd "$tmp/initrd" \
    --append "$cmdline" --serial stdio --debug-exit --device vga --stats \
    --screenshot "$tmp/screen.png" </dev/null >"$tmp/out" 2>&1
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
[ $rc -eq 1 ] || fail "capsule-vm exited $rc, want 1 (the batch's rc 0 through debug-exit)"
tr -d '\r' <"$tmp/out" >"$tmp/log"
for want in "vga=0x1234:0x1111" "fb=0 bochs-drmdrmfb" "=== capsule-batch end rc=0 ==="; do
    grep -qF -- "$want" "$tmp/log" || fail "the guest did not print '$want'"
done
grep -q "module .* did not load" "$tmp/log" && fail "$(grep -m3 'did not load' "$tmp/log")"
fill=$(sed -n 's/^lfbfill //p' "$tmp/log")
[ -n "$fill" ] || fail "lfbfill printed nothing: $(grep -m3 -i lfbfill "$tmp/log")"
ops=$(awk '$1 == "/EM/MMIOOps" { print $2 }' "$tmp/log")
if [ -z "$ops" ]; then
    fail "--stats printed no /EM/MMIOOps"
elif [ "$ops" -ge 2000000 ]; then
    fail "$ops MMIO operations: the framebuffer's stores went through the device (BAR0 is not RAM)"
fi
if file "$tmp/screen.png" 2>/dev/null | grep -q "PNG image data, 1024 x 768"; then
    tesseract "$tmp/screen.png" "$tmp/ocr" >/dev/null 2>&1
    grep -q "FRAMEBUFFER" "$tmp/ocr.txt" 2>/dev/null ||
        fail "OCR does not read the line written to /dev/tty1: $(tr '\n' '|' <"$tmp/ocr.txt" 2>&1)"
else
    fail "the screenshot is not a 1024x768 PNG: $(file "$tmp/screen.png" 2>&1)"
fi
if grep -E 'Oops|Call Trace|BUG:|WARNING:' "$tmp/log" |
    grep -vE '(RETBleed|Speculative Return Stack Overflow): WARNING' >"$tmp/bad"; then
    fail "the kernel log shows trouble:$(head -5 "$tmp/bad" | sed 's/^/\n  /')"
fi
echo "vga-linux: power-on to power-off ${ms} ms; ${fill:-?} (frames of 1024x768x32); $ops MMIO operations in all; OCR: $(head -1 "$tmp/ocr.txt" 2>/dev/null)"
if [ $fails -ne 0 ]; then
    echo "vga-linux: $fails failure(s); the guest's output:"
    grep -aE 'batch|vga=|fb=|lfbfill|bochs|drm|fbcon' "$tmp/log" | tail -30 | sed 's/^/  /'
    exit 1
fi
echo "vga-linux: ok"
