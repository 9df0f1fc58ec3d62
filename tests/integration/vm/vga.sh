#!/bin/bash
# tests/integration/vm/vga.sh - the vga device (plugins/devices/vga) as a
# person sees it: capsule-vm --firmware bios (vga is a default device with
# the BIOS) under rem runs SeaBIOS, which finds the PCI VGA function
# 1234:1111, copies Debian's vgabios-stdvga.bin from its expansion ROM BAR
# and runs it; SeaBIOS then prints its banner and "No bootable device" on
# the VGA text screen too. --screenshot writes the screen as PNG when the
# VM stops (SIGTERM here); tesseract reads it back (OCR), as an eye would.
# Without the device the screenshot is a clear error, the VM still runs.
set -u
B=${CAPSULE_BUILD:?CAPSULE_BUILD must name the build directory}
VM=$B/bin/capsule-vm
S=${CAPSULE_TIMEOUT_SCALE:-1}
T=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$T"' EXIT
fails=0
fail() {
    echo "FAIL $*"
    fails=$((fails + 1))
}
for f in /usr/share/seabios/bios-256k.bin /usr/share/seabios/vgabios-stdvga.bin; do
    if [ ! -r "$f" ]; then
        echo "FAIL vga: $f is missing: install Debian's seabios package (tools/setup.sh does)"
        exit 1
    fi
done
if ! command -v tesseract >/dev/null; then
    echo "FAIL vga: tesseract is missing: install tesseract-ocr (tools/setup.sh does)"
    exit 1
fi

ms() { echo $(($(date +%s%N) / 1000000)); }

# run ARGS...: capsule-vm --firmware bios ARGS until "No bootable device" on
# serial or the bound, then SIGTERM; sets st and t_end (ms, empty: timeout).
run() {
    rm -f "$T/serial"
    t0=$(ms)
    "$VM" --firmware bios --engine rem --serial "file:$T/serial" "$@" >"$T/log" 2>&1 &
    pid=$!
    t_end=
    limit=$(($(ms) + 15000 * S))
    while [ "$(ms)" -lt "$limit" ] && kill -0 "$pid" 2>/dev/null; do
        if grep -aq "No bootable device" "$T/serial" 2>/dev/null; then
            t_end=$(($(ms) - t0))
            break
        fi
        sleep 0.01
    done
    sleep 0.2 # the same text reaches the VGA screen right after serial
    kill -TERM "$pid" 2>/dev/null
    wait "$pid"
    st=$?
    pid=
}

run --screenshot "$T/screen.png" --device "debugcon,path=$T/debug.log"
[ -n "$t_end" ] || fail "vga: no 'No bootable device' on serial within $((15 * S)) s"
[ "$st" = 0 ] || fail "vga: status $st (want 0)"
grep -q "Running option rom at c000:0003" "$T/debug.log" 2>/dev/null ||
    fail "vga: SeaBIOS did not run the VGA ROM from the expansion ROM BAR"
grep -q "Start SeaVGABIOS" "$T/debug.log" 2>/dev/null || fail "vga: SeaVGABIOS did not start"
grep -q "screenshot written to $T/screen.png" "$T/log" || fail "vga: no screenshot said"
if ! file "$T/screen.png" | grep -q "PNG image data, 720 x 400"; then
    fail "vga: the screenshot is not a 720x400 PNG (text mode 3)"
    file "$T/screen.png"
fi
tesseract "$T/screen.png" "$T/ocr" >/dev/null 2>&1
grep -q "SeaBIOS (version" "$T/ocr.txt" 2>/dev/null || fail "vga: OCR finds no 'SeaBIOS (version' on the screen"
grep -q "No bootable device" "$T/ocr.txt" 2>/dev/null || fail "vga: OCR finds no 'No bootable device' on the screen"
if [ $fails -ne 0 ]; then
    echo "    OCR:"; sed 's/^/    /' "$T/ocr.txt" 2>/dev/null
    echo "    log:"; tail -20 "$T/log" | sed 's/^/    /'
else
    echo "vga: SeaBIOS on the VGA screen after $t_end ms (rem); OCR reads it"
fi

# without the display: a clear error, the VM ran as before
run --no-device vga --screenshot "$T/none.png"
[ -n "$t_end" ] || fail "vga: --no-device vga: the BIOS did not reach 'No bootable device'"
grep -q "this VM has no display (add --device vga)" "$T/log" ||
    fail "vga: --no-device vga: no clear screenshot error"
[ ! -e "$T/none.png" ] || fail "vga: --no-device vga wrote a screenshot"

# bad input
timeout $((20 * S)) "$VM" --firmware bios --engine rem --serial none --device vga,vram_mb=3 \
    >"$T/out" 2>&1
got=$?
[ "$got" = 4 ] && grep -q "vram_mb 3: not a power of two" "$T/out" ||
    fail "vga: vram_mb=3: status $got (want 4 with a clear error)"
timeout $((20 * S)) "$VM" --firmware bios --engine rem --serial none --device "vga,rom=$T/nope" \
    >"$T/out" 2>&1
got=$?
[ "$got" = 4 ] && grep -q "nope': cannot open" "$T/out" ||
    fail "vga: a missing rom: status $got (want 4 with a clear error)"
"$VM" --screenshot "" --kernel x >"$T/out" 2>&1
[ $? = 2 ] && grep -q "screenshot: no file name" "$T/out" || fail "vga: --screenshot '' accepted"

if [ $fails -ne 0 ]; then
    echo "vga: $fails failure(s)"
    exit 1
fi
echo "vga: ok"
