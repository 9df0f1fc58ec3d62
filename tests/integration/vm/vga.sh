#!/bin/bash
# tests/integration/vm/vga.sh - the vga device (plugins/devices/vga) as a
# person sees it: capsule-vm --firmware bios (vga is a default device with
# the BIOS) under rem runs SeaBIOS, which finds the PCI VGA function
# 1234:1111, copies Debian's vgabios-stdvga.bin from its expansion ROM BAR
# and runs it; SeaBIOS then prints its banner and "No bootable device" on
# the VGA text screen too. --screenshot writes the screen as PNG when the
# VM stops (SIGTERM here) and on SIGUSR1 while it runs; tesseract reads
# them back (OCR), as an eye would.
# Without the device the screenshot is a clear error, the VM still runs.
# Then two payloads without the BIOS (vga_13h.asm, vga_vbe.asm) draw in
# mode 13h and in a VBE mode on the linear framebuffer; the screenshot's
# pixels are checked exactly.
set -u
SEABIOS_TEST=vga
SEABIOS_NEED="/usr/share/seabios/vgabios-stdvga.bin:Debian's seabios package"
. "$(dirname "$0")/../../lib/seabios.sh"
. "$(dirname "$0")/../../lib/ocr.sh"
if ! command -v tesseract >/dev/null; then
    echo "FAIL vga: tesseract is missing: install tesseract-ocr (tools/setup.sh does)"
    exit 1
fi

# run ARGS...: capsule-vm --firmware bios ARGS until "No bootable device" on
# serial or the bound, then (with usr1 set: a SIGUSR1 screenshot into it
# first) SIGTERM; sets st and t_end (ms, empty: timeout).
run() {
    bios_start "$@"
    bios_wait
    sleep 0.2 # the same text reaches the VGA screen right after serial
    if [ -n "${usr1-}" ] && [ -n "$t_end" ]; then
        # a screenshot while the VM runs: SIGUSR1
        kill -USR1 "$pid"
        limit=$(($(ms) + 5000 * S))
        while [ "$(ms)" -lt "$limit" ] && ! grep -q "screenshot written" "$T/log"; do
            sleep 0.01
        done
        cp "$usr1" "$T/usr1.png" 2>/dev/null
        kill -0 "$pid" 2>/dev/null || fail "vga: SIGUSR1 ended the VM"
    fi
    bios_stop
}

usr1=$T/screen.png
run --screenshot "$T/screen.png" --device "debugcon,path=$T/debug.log"
usr1=
[ -n "$t_end" ] || fail "vga: no 'No bootable device' on serial within $((15 * S)) s"
[ "$st" = 0 ] || fail "vga: status $st (want 0)"
grep -q "Running option rom at c000:0003" "$T/debug.log" 2>/dev/null ||
    fail "vga: SeaBIOS did not run the VGA ROM from the expansion ROM BAR"
grep -q "Start SeaVGABIOS" "$T/debug.log" 2>/dev/null || fail "vga: SeaVGABIOS did not start"
[ "$(grep -c "screenshot written to $T/screen.png" "$T/log")" = 2 ] ||
    fail "vga: not two screenshots said (SIGUSR1, the end)"
# the screen did not change between the two: the same PNG (one OCR is enough)
cmp -s "$T/usr1.png" "$T/screen.png" ||
    fail "vga: the SIGUSR1 screenshot differs from the one at the end (same screen)"
if ! file "$T/screen.png" | grep -q "PNG image data, 720 x 400"; then
    fail "vga: the screenshot is not a 720x400 PNG (text mode 3)"
    file "$T/screen.png"
fi
ocr "$T/screen.png" "$T/ocr"
grep -q "SeaBIOS (version" "$T/ocr.txt" 2>/dev/null || fail "vga: OCR finds no 'SeaBIOS (version' on the screen"
grep -q "No bootable device" "$T/ocr.txt" 2>/dev/null || fail "vga: OCR finds no 'No bootable device' on the screen"
if [ $fails -ne 0 ]; then
    echo "    OCR:"; sed 's/^/    /' "$T/ocr.txt" 2>/dev/null
    echo "    log:"; tail -20 "$T/log" | sed 's/^/    /'
else
    echo "vga: SeaBIOS on the VGA screen after $t_end ms (rem); OCR reads it"
fi

# without the display (no BIOS, no --device vga): a clear error, the VM ran
P=$PAY
timeout $((20 * S)) "$VM" --kernel "$P/hello.bin" --engine rem --debug-exit --serial none \
    --screenshot "$T/none.png" >"$T/log" 2>&1
got=$?
[ "$got" = 85 ] || fail "vga: without a display: status $got (want 85: the VM ran)"
grep -q "this VM has no display (add --graphics vga)" "$T/log" ||
    fail "vga: without a display: no clear screenshot error"
[ ! -e "$T/none.png" ] || fail "vga: without a display a screenshot was written"

# pixels X,Y... of an RGB PNG as RRGGBB words (python's zlib: no PNG tools needed)
pixels() {
    python3 - "$@" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
pos, idat, w, h = 8, b'', 0, 0
while pos < len(data):
    n, kind = struct.unpack('>I4s', data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b'IHDR':
        w, h = struct.unpack('>II', body[:8])
    elif kind == b'IDAT':
        idat += body
    pos += 12 + n
raw, rows, prev = zlib.decompress(idat), [], bytearray(3 * w)
for y in range(h):
    f, line = raw[y * (3 * w + 1)], bytearray(raw[y * (3 * w + 1) + 1:(y + 1) * (3 * w + 1)])
    if f == 2:  # Up, the common one on a screen: without the per-byte branches
        line = bytearray((u + v) & 255 for u, v in zip(line, prev))
        f = 0
    for i in range(3 * w if f else 0):
        a = line[i - 3] if i >= 3 else 0
        b, c = prev[i], prev[i - 3] if i >= 3 else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(line)
    prev = line
out = []
for xy in sys.argv[2:]:
    x, y = map(int, xy.split(','))
    out.append('%02x%02x%02x' % tuple(rows[y][3 * x:3 * x + 3]))
print(w, h, ' '.join(out))
PY
}

# guest payloads without a BIOS: mode 13h by registers, a VBE mode on the LFB
for p in "vga_13h:320 200 ff0000 00ff00 0000ff ffffff" "vga_vbe:320 200 ff0000 00ff00 0000ff ffffff"; do
    name=${p%%:*} want=${p#*:}
    t0=$(ms)
    timeout $((20 * S)) "$VM" --kernel "$P/$name.bin" --engine rem --debug-exit --serial none \
        --device vga --screenshot "$T/$name.png" >"$T/out" 2>&1
    got=$?
    t=$(($(ms) - t0))
    # 13h: one point per band; vbe: one per quadrant
    case $name in
    vga_13h) pts="10,10 300,60 150,120 5,199" ;;
    *) pts="10,10 300,60 10,150 319,199" ;;
    esac
    seen=$(pixels "$T/$name.png" $pts 2>"$T/pixels.err")
    if [ "$got" != 85 ] || [ "$seen" != "$want" ]; then
        fail "vga: $name: status $got (want 85), pixels '$seen' (want '$want')"
        sed 's/^/    /' "$T/out" "$T/pixels.err"
    else
        echo "vga: $name drawn and seen in the screenshot ($t ms)"
    fi
done

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

seabios_finish
