#!/bin/bash
# tests/integration/screenshot.sh - a running VM's screen through the API
# (issue 13 item 3): `capsule controlvm VM screenshotpng FILE` goes CLI ->
# service -> the VM process's IConsole display (IDisplay's
# getScreenResolution and takeScreenShotToArray, PNG) -> PDM's display
# interface (pdm_display_snapshot) -> the vga device. In a temporary
# CAPSULE_HOME, under rem. Checked:
#  - a BIOS machine with an empty DVD drive: once SeaBIOS said "No bootable
#    device" (COM1), the screenshot is a 720x400 PNG (text mode 3) and
#    tesseract reads "SeaBIOS" on it, as an eye would;
#  - the API through the Python binding: getScreenResolution 720x400x32,
#    takeScreenShotToArray BGRA (w*h*4 bytes, alpha 255) and PNG; a size
#    that is not the screen's and a screen other than 0 are refused;
#  - a machine with no display (modifyvm --graphicscontroller none) gets
#    "the machine has no display" and no file; a stopped machine and a
#    missing FILE are refused.
set -u
NAME=screenshot
HELLO=${CAPSULE_BUILD:-}/tests/vm-payloads/serial_hlt.bin
NEED="${CAPSULE_BUILD:-}/bin/capsule-vm $HELLO"
. "$(cd "$(dirname "$0")/../lib" && pwd)/cli.sh"
. "$(cd "$(dirname "$0")/../lib" && pwd)/ocr.sh"
export CAPSULE_SVC_IDLE_TIMEOUT=60000
command -v tesseract >/dev/null || { fail "tesseract is missing: install tesseract-ocr (tools/setup.sh does)"; finish; }
if [ ! -f /usr/share/seabios/bios-256k.bin ]; then
    test_skip screenshot "no SeaBIOS (/usr/share/seabios/bios-256k.bin): install seabios"
    finish
fi

# --- a BIOS machine: SeaBIOS on its screen ------------------------------------------
ok createvm --name pc --register
ok modifyvm pc --firmware bios --boot1 dvd --engine rem --uart1 0x3f8 4 --uartmode1 file "$tmp/com1"
ok storagectl pc --name IDE --add ide
ok storageattach pc --storagectl IDE --port 1 --device 0 --type dvddrive --medium emptydrive
expect 1 "is not running|no running VM" controlvm pc screenshotpng "$tmp/early.png"
[ -e "$tmp/early.png" ] && fail "a stopped machine's screenshot left a file"
expect 2 "screenshotpng: the PNG file \(FILE\) is missing" controlvm pc screenshotpng
t0=$(date +%s%N)
ok startvm pc --type headless
for i in $(seq $((300 * S))); do
    grep -aq "No bootable device" "$tmp/com1" 2>/dev/null && break
    sleep 0.1
done
if grep -aq "No bootable device" "$tmp/com1" 2>/dev/null; then
    pass "SeaBIOS said 'No bootable device' after $((($(date +%s%N) - t0) / 1000000)) ms (rem)"
else
    fail "SeaBIOS did not reach 'No bootable device'; COM1: $(tr -d '\033\r' <"$tmp/com1" 2>&1 | tail -3)"
fi
t1=$(date +%s%N)
ok controlvm pc screenshotpng "$tmp/screen.png"
echo "     screenshotpng: $((($(date +%s%N) - t1) / 1000000)) ms"
if file "$tmp/screen.png" 2>/dev/null | grep -q "PNG image data, 720 x 400"; then
    pass "the screenshot is a 720x400 PNG (text mode 3)"
else
    fail "the screenshot is not a 720x400 PNG: $(file "$tmp/screen.png" 2>&1)"
fi
ocr "$tmp/screen.png" "$tmp/ocr"
if grep -q "SeaBIOS" "$tmp/ocr.txt" 2>/dev/null; then
    pass "OCR reads 'SeaBIOS' on the screenshot"
else
    fail "OCR finds no 'SeaBIOS' on the screenshot: $(tr '\n' '|' <"$tmp/ocr.txt" 2>&1)"
fi
# The API itself (the Python binding): the resolution, raw BGRA pixels (the
# same picture as the PNG), a size or screen that is not the screen's.
if [ -d "$B/python/capsule" ]; then
    if PYTHONPATH=$B/python $PY_RUN python3 - "$tmp/screen.png" >"$tmp/py.out" 2>&1 <<'PY'; then
import sys, zlib, struct
import capsule
from capsule import BitmapFormat, LockType
c = capsule.connect()
m = c.find_machine('pc')
with capsule.session(m, LockType.Shared) as s:
    d = s.console.display
    w, h, bpp, x, y = d.get_screen_resolution(0)
    assert (w, h, bpp, x, y) == (720, 400, 32, 0, 0), (w, h, bpp, x, y)
    bgra = bytes(d.take_screen_shot_to_array(0, w, h, BitmapFormat.BGRA))
    assert len(bgra) == w * h * 4, len(bgra)
    assert all(bgra[i] == 255 for i in range(3, len(bgra), 4 * 97)), 'alpha'
    assert len(set(bgra[i:i + 3] for i in range(0, len(bgra), 4 * 7))) >= 2, 'one colour'
    png = bytes(d.take_screen_shot_to_array(0, w, h, BitmapFormat.PNG))
    assert png[:8] == b'\x89PNG\r\n\x1a\n', png[:8]
    for args, want in (((0, 640, 480, BitmapFormat.BGRA), 'not 640x480'),
                       ((1, w, h, BitmapFormat.PNG), 'no screen 1')):
        try:
            d.take_screen_shot_to_array(*args)
            raise SystemExit('no error for %r' % (args,))
        except capsule.Error as e:
            assert e.code & 0xffffffff == 0x80000005 and want in str(e), str(e)  # CAP_E_INVALIDARG
            print('refused:', e)
print('api: %dx%d, %d bits; BGRA %d bytes; PNG %d bytes' % (w, h, bpp, len(bgra), len(png)))
PY
        pass "the API: $(tail -1 "$tmp/py.out")"
        grep '^refused' "$tmp/py.out" | sed 's/^/     /'
    else
        fail "the API through Python: $(tail -5 "$tmp/py.out")"
    fi
else
    test_skip screenshot "no Python binding in this build: IDisplay through the API is not run"
fi
expect 1 "cannot create" controlvm pc screenshotpng "$tmp/no/such/dir/x.png"
ok controlvm pc poweroff
wait_state pc poweroff

# --- a machine with no display --------------------------------------------------------
ok createvm --name plain --register
ok modifyvm plain --kernel "$HELLO" --engine rem --graphicscontroller none
ok startvm plain --type headless
wait_state plain running
expect 1 "the machine has no display" controlvm plain screenshotpng "$tmp/none.png"
[ -e "$tmp/none.png" ] && fail "a machine with no display left a file" ||
    pass "no file for a machine with no display"
ok controlvm plain poweroff
wait_state plain poweroff
finish
