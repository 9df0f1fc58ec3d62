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
B=${CAPSULE_BUILD:?CAPSULE_BUILD must name the build directory}
VM=$B/bin/capsule-vm
S=${CAPSULE_TIMEOUT_SCALE:-1}
BIOS=/usr/share/seabios/bios-256k.bin
T=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$T"' EXIT
fails=0
fail() {
    echo "FAIL $*"
    fails=$((fails + 1))
}

if [ ! -r "$BIOS" ]; then
    echo "FAIL bios: $BIOS is missing: install Debian's seabios package (tools/setup.sh does)"
    exit 1
fi

ms() { echo $(($(date +%s%N) / 1000000)); }

# boot_run ARGS...: capsule-vm --firmware bios ARGS until "No bootable
# device" on serial ($T/serial) or the bound; then SIGTERM. Sets t_banner
# and t_end (ms from the start; t_end empty on a timeout) and st (status).
boot_run() {
    # a fresh file: the last run's "No bootable device" must not end this
    # one before capsule-vm has truncated it (a slow start, under ASan)
    rm -f "$T/serial"
    t0=$(ms)
    "$VM" --firmware bios --engine rem --serial "file:$T/serial" "$@" >"$T/log" 2>&1 &
    pid=$!
    t_banner= t_end=
    limit=$(($(ms) + 15000 * S))
    while [ "$(ms)" -lt "$limit" ] && kill -0 "$pid" 2>/dev/null; do
        if [ -z "$t_banner" ] && grep -aq "SeaBIOS (version" "$T/serial" 2>/dev/null; then
            t_banner=$(($(ms) - t0))
        fi
        if grep -aq "No bootable device" "$T/serial" 2>/dev/null; then
            t_end=$(($(ms) - t0))
            break
        fi
        sleep 0.01
    done
    kill -TERM "$pid" 2>/dev/null
    wait "$pid"
    st=$?
    pid=
}
# ---- POST to "No bootable device" under rem ------------------------------
boot_run
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
boot_run --device "debugcon,path=$T/debug.log"
if [ -z "$t_end" ] || ! grep -q "PCI: init bdf=00:00.0 id=8086:1237" "$T/debug.log" ||
    ! grep -q "Found 1 cpu(s) max supported 1 cpu(s)" "$T/debug.log"; then
    fail "bios: SeaBIOS's debug log did not reach debugcon's file (or POST did not get there)"
    sed 's/^/    /' "$T/debug.log" 2>/dev/null | tail -20
fi
# the default devices of a BIOS machine: the virtio tablet beside the VGA, at its slot
grep -q "PCI: init bdf=00:0e.0 id=1af4:1052" "$T/debug.log" ||
    fail "bios: SeaBIOS did not find the virtio tablet (a default device) at 00:0e.0"

# ---- bad input -----------------------------------------------------------
# expect NAME STATUS PATTERN -- args...
expect() {
    name=$1 want=$2 pat=$3
    shift 4
    timeout $((20 * S)) "$VM" "$@" >"$T/out" 2>&1
    got=$?
    if [ "$got" != "$want" ] || ! grep -q -- "$pat" "$T/out"; then
        fail "$name: status $got (want $want), pattern '$pat'"
        sed 's/^/    /' "$T/out"
    fi
}
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

if [ $fails -ne 0 ]; then
    echo "bios: $fails failure(s)"
    exit 1
fi
echo "bios: ok"
