#!/bin/bash
# tests/integration/pci_linux.sh - the PCI bus as Linux sees it: the guest
# kit's kernel (tools/guestkit) under --engine rem, with the test function
# plugins/devices/pcitest added (--device pcitest), no firmware: Linux
# enumerates the bus itself and assigns the BARs (pci=nocrs: the loader's
# DSDT gives the root bridge no memory window yet), then a batch command
# reads sysfs and the BARs from the guest.
# Checks: the guest lists 00:00.0 8086:1237 (i440FX), 00:01.0 8086:7000
# (PIIX3 ISA bridge, whose Linux quirk runs: "PIIX3: Enabling Passive
# Release") and 00:02.0 1b36:0005 (pcitest); each of pcitest's BARs (I/O,
# 32-bit memory, 64-bit prefetchable memory), once Linux assigned an
# address and the guest enabled the device, answers with pcitest's
# registers at that address (through IOM, PGM and rem: /dev/port and
# busybox devmem); a write through one BAR is read back through another;
# and the kernel log has no "PCI: Fatal", no oops, no warning.
# Then SeaBIOS (--firmware bios, Debian's seabios package, as bios.sh) on
# the same machine (less the vga, which would take slot 2) until "No bootable
# device": it finds PIIX3, routes the
# PIRQs (the bus logs PIRQC# - pcitest's INTA# at slot 2 - to IRQ 11) and
# assigns and maps pcitest's three BARs, with nothing refused.
# One boot, about 10 s, and 1 s of SeaBIOS (LINUX_REM_TIMEOUT, default 240 s, times
# CAPSULE_TIMEOUT_SCALE). The kit policy is linux_rem.sh's: it is built or
# taken from build/guest; no Debian tools skips, a failed fetch fails.
set -u
B=${CAPSULE_BUILD:?CAPSULE_BUILD must name the build directory}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KIT=$TOP/tools/guestkit/guestkit.sh
VM=$B/bin/capsule-vm
LIMIT=$((${LINUX_REM_TIMEOUT:-240} * ${CAPSULE_TIMEOUT_SCALE:-1}))
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

. "$TOP/tests/lib/skip.sh"
. "$TOP/tests/lib/guestkit.sh"
guestkit_load pci-linux "$tmp"
case $? in 2) exit 0 ;; 1) exit 1 ;; esac

# In the guest: every function's ids, pcitest's resources, then its
# registers through each BAR (+0 signature "CPCI", +8 scratch, +12 BAR id).
batch='for x in /sys/bus/pci/devices/*; do echo pcidev ${x##*/} $(cat $x/vendor $x/device $x/class); done
d=/sys/bus/pci/devices/0000:00:02.0; echo 1 >$d/enable
io=$(sed -n 1p $d/resource | cut -d" " -f1); m32=$(sed -n 2p $d/resource | cut -d" " -f1)
m64=$(sed -n 3p $d/resource | cut -d" " -f1); echo bars $io $m32 $m64
echo bar0-sig $(dd if=/dev/port bs=1 skip=$((io)) count=4 2>/dev/null | od -An -tx1)
echo bar1-sig $(devmem $m32 32) bar1-id $(devmem $((m32 + 12)) 32)
echo bar2-sig $(devmem $m64 32) bar2-id $(devmem $((m64 + 12)) 32)
devmem $((m64 + 8)) 32 0x5a5aa5a5; echo scratch-via-bar1 $(devmem $((m32 + 8)) 32)'
cmdline=$("$KIT" cmdline --batch "$batch" --debug-exit) || { echo "FAIL: guestkit cmdline"; exit 1; }
cmdline="${cmdline/quiet/ignore_loglevel} pci=nocrs"

start=$(date +%s)
timeout "$LIMIT" "$VM" --engine rem --memory 256 --kernel "$kit_vmlinux" --initrd "$kit_initrd" \
    --append "$cmdline" --serial stdio --debug-exit --device pcitest </dev/null >"$tmp/out" 2>&1
rc=$?
secs=$(($(date +%s) - start))
[ $rc -eq 124 ] && fail "no power-off within ${LIMIT}s"
[ $rc -eq 1 ] || [ $rc -eq 124 ] || fail "capsule-vm exited $rc, want 1 (debug-exit of rc 0)"

want_lines=(
    "pcidev 0000:00:00.0 0x8086 0x1237 0x060000"
    "pcidev 0000:00:01.0 0x8086 0x7000 0x060100"
    "pcidev 0000:00:02.0 0x1b36 0x0005 0xff0000"
    "pci 0000:00:01.0: PIIX3: Enabling Passive Release"
    "bar0-sig 43 50 43 49"
    "bar1-sig 0x49435043 bar1-id 0x00000001"
    "bar2-sig 0x49435043 bar2-id 0x00000002"
    "scratch-via-bar1 0x5A5AA5A5"
    "=== capsule-batch end rc=0 ==="
)
for want in "${want_lines[@]}"; do
    grep -qiF -- "$want" "$tmp/out" || fail "output lacks '$want'"
done
# the BARs got real addresses: I/O, below 4 GiB, and the 64-bit one anywhere
grep -qE '^bars 0x0*[1-9a-f][0-9a-f]{3} 0x0*[1-9a-f][0-9a-f]{7} 0x[0-9a-f]+' "$tmp/out" ||
    fail "pcitest's BARs were not all assigned: $(grep '^bars' "$tmp/out")"
hwvuln='RETBleed: WARNING|Speculative Return Stack Overflow: WARNING'
if grep -nE 'PCI: Fatal|Oops|Call Trace|Kernel panic|BUG:|WARNING:|refused' "$tmp/out" |
    grep -vE "$hwvuln" >"$tmp/bad"; then
    fail "the log shows trouble:$(head -5 "$tmp/bad" | sed 's/^/\n  /')"
fi
# ---- SeaBIOS: PIIX3's PIRQ routing and BAR assignment --------------------
BIOS=/usr/share/seabios/bios-256k.bin
if [ ! -r "$BIOS" ]; then
    fail "$BIOS is missing: install Debian's seabios package (tools/setup.sh does)"
else
    "$VM" --firmware bios --engine rem --serial "file:$tmp/serial" --device pcitest --no-device vga \
        --device "debugcon,path=$tmp/debug.log" >"$tmp/bios" 2>&1 &
    pid=$!
    for _ in $(seq $((1500 * ${CAPSULE_TIMEOUT_SCALE:-1}))); do
        grep -aq "No bootable device" "$tmp/serial" 2>/dev/null && break
        kill -0 $pid 2>/dev/null || break
        sleep 0.01
    done
    kill -TERM $pid 2>/dev/null
    wait $pid
    pid=
    grep -aq "No bootable device" "$tmp/serial" 2>/dev/null || fail "SeaBIOS: no 'No bootable device'"
    for want in "PCI: init bdf=00:01.0 id=8086:7000" "PCI: init bdf=00:02.0 id=1b36:0005"; do
        grep -qF "$want" "$tmp/debug.log" || fail "SeaBIOS's log lacks '$want'"
    done
    for bar in '0, .*\[io\]' '1, .*\[mem\]' '2, .*\[prefmem\]'; do
        grep -qE "map device bdf=00:02.0 +bar $bar" "$tmp/debug.log" ||
            fail "SeaBIOS did not map pcitest's BAR${bar%%,*}"
    done
    grep -qF "pci0: PIRQC# routed to IRQ 11" "$tmp/bios" || fail "SeaBIOS did not route PIRQC#"
    ! grep -q "refused" "$tmp/bios" || fail "SeaBIOS: $(grep refused "$tmp/bios" | head -3)"
    [ $fails -eq 0 ] || { grep -E 'PCI|pci0' "$tmp/debug.log" "$tmp/bios" | head -30; }
fi

if [ $fails -ne 0 ]; then
    echo "--- guest output (PCI lines and the last 30) ---"
    grep -iE 'pci|bar' "$tmp/out" | head -40
    tail -30 "$tmp/out"
fi
[ $fails -eq 0 ] && echo "pci_linux: all passed (Linux boot + checks in ${secs}s; SeaBIOS)"
exit $((fails > 0))
