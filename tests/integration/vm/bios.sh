#!/bin/bash
# tests/integration/vm/bios.sh - capsule-vm --firmware bios: SeaBIOS from
# Debian's seabios package (tools/setup.sh installs it) powers on at the
# reset vector under engine rem, POSTs, and shows its console on COM1
# (sercon through fw_cfg's etc/sercon-port): its banner "SeaBIOS (version
# ...)", then "No bootable device." (there are no disks yet), both within
# a bound; its debug log (port 0x402) reaches the VM's log, or a file
# whole with --device debugcon,path=F; SIGTERM ends
# the VM cleanly. Bad BIOS images and options that do not go with the
# BIOS get clear errors (a bad --boot order among them; the order's effect
# needs disks, which SeaBIOS tries before its fixed fallback entries, so
# its CMOS bytes are checked by the rtc unit test). Prints the times from
# start to the banner and to "No bootable device"
# (tests/bench/boot/bios_bench.py compares them with QEMU's TCG).
set -u
SEABIOS_TEST=bios
. "$(dirname "$0")/../../lib/seabios.sh"

# ---- POST to "No bootable device" under rem ------------------------------
bios_post
[ -n "$t_end" ] && [ -z "$t_banner" ] && t_banner=$t_end
if [ -z "$t_end" ]; then
    fail "bios: no 'No bootable device' on serial within $((15 * S)) s"
    echo "    serial:"; tr -d '\033' <"$T/serial" 2>/dev/null | sed 's/^/    /'
    echo "    log:"; tail -30 "$T/log" | sed 's/^/    /'
else
    echo "bios: SeaBIOS banner on serial after $t_banner ms, 'No bootable device' after $t_end ms (rem)"
fi
# the banner comes first, once POST set up the console
if ! tr -d '\r' <"$T/serial" | grep -aq "SeaBIOS (version [^)]*)"; then
    fail "bios: no SeaBIOS banner on serial"
elif ! tr -d '\r' <"$T/serial" | awk '/SeaBIOS \(version/ {b = NR} /No bootable device/ {if (!b) bad = 1} END {exit bad}'; then
    fail "bios: 'No bootable device' before the banner"
fi
[ "$st" = 0 ] || fail "bios: SIGTERM ended capsule-vm with status $st (want 0)"
grep -q "loaded $BIOS: BIOS image, 256 KiB at 0xfffc0000" "$T/log" ||
    fail "bios: the log does not say where the BIOS was mapped"
grep -q "debugcon0: SeaBIOS (version" "$T/log" || fail "bios: no SeaBIOS debug log in the VM log"
grep -q "debugcon0: Running on QEMU (i440fx)" "$T/log" ||
    fail "bios: SeaBIOS did not recognise the i440FX machine (fw_cfg, e820 and CPUs go with it)"
grep -q "debugcon0: qemu/e820: addr 0x0000000000000000 len 0x0000000004000000 \[RAM\]" "$T/log" ||
    fail "bios: SeaBIOS did not read the RAM size from fw_cfg's etc/e820"
if [ $fails -ne 0 ]; then
    echo "    log:"; sed 's/^/    /' "$T/log" | head -60
fi

# ---- the whole debug log into a file (the VM log rate-limits it) --------
bios_post --device "debugcon,path=$T/debug.log"
if [ -z "$t_end" ] || ! grep -q "PCI: init bdf=00:00.0 id=8086:1237" "$T/debug.log" ||
    ! grep -q "Found 1 cpu(s) max supported 1 cpu(s)" "$T/debug.log"; then
    fail "bios: SeaBIOS's debug log did not reach debugcon's file (or POST did not get there)"
    sed 's/^/    /' "$T/debug.log" 2>/dev/null | tail -20
fi
# the default devices of a BIOS machine: the virtio tablet beside the VGA, at its slot
grep -q "PCI: init bdf=00:0e.0 id=1af4:1052" "$T/debug.log" ||
    fail "bios: SeaBIOS did not find the virtio tablet (a default device) at 00:0e.0"

# ---- bad input -----------------------------------------------------------
head -c 100000 "$BIOS" >"$T/odd.bin"
expect "bios size" 4 "odd.bin': 100000 bytes: a BIOS image is a multiple of 64 KiB" -- \
    --firmware bios --bios "$T/odd.bin" --engine rem --serial none
head -c 65536 /dev/zero >"$T/zero.bin"
expect "bios blank" 4 "no code at the reset vector" -- \
    --firmware bios --bios "$T/zero.bin" --engine rem --serial none
expect "bios missing" 4 "cannot open" -- \
    --firmware bios --bios "$T/nonexistent.bin" --engine rem --serial none
expect "bios + kernel" 2 "not supported with it yet" -- \
    --firmware bios --kernel "$BIOS" --engine rem
expect "bad boot order" 4 "'boot_order': 'disk,tape' is not a list" -- \
    --firmware bios --boot disk,tape --engine rem --serial none
expect "boot without bios" 2 "it needs --firmware bios" -- --kernel "$BIOS" --boot disk
expect "firmware efi" 2 "expected none or bios" -- --firmware efi --engine rem

seabios_finish
