#!/bin/bash
# tests/integration/sdl.sh - the VM window (plugins/frontends/sdl, issue 13
# item 4) on a real X server without a window manager (Xvfb on a free
# display number, killed at the end), under rem, in a temporary
# CAPSULE_HOME. Checked:
#  - the errors: startvm --type sdl|gui without DISPLAY says so (exit 1,
#    nothing started); capsule-vm --display sdl without DISPLAY: "cannot
#    open the VM window" (exit 4); an unknown --display lists the known
#    ones (exit 2);
#  - standalone `capsule-vm --display sdl --name solo` with the payload
#    acpi_button.bin (no display device: a black window): the title is
#    "solo [Running] - Capsule"; closing the window (WM_DELETE_WINDOW, as
#    a window manager sends it: xclose.c) presses the ACPI power button,
#    the guest enters S5, capsule-vm exits 0; without the ACPI device
#    (--no-device acpipm) closing powers off at once, said on stderr;
#  - through the service and CLI, `startvm --type sdl` from a client with
#    DISPLAY while capsule-svc has none: a BIOS machine booting the boot
#    sector kbd_echo.bin from its IDE disk (SeaBIOS, the VGA BIOS, text
#    mode 3): the window titled "kbd [Running] - Capsule" is 720x400 (it
#    follows the guest's mode), the X screen's pixels in it are those of
#    `controlvm screenshotpng`, tesseract reads the guest's banner in it;
#    keys typed with xdotool reach the guest (COM1 echoes them); Right Ctrl
#    is the host key (Right Ctrl+a reaches the guest as 'a', Left Ctrl+b as
#    ^B); resized by the user to 1440x800 the window shows the picture
#    scaled twice; a click grabs the mouse (no tablet driver in the guest;
#    the title says how to release it), Right Ctrl releases it; "[Paused]" while paused; closing the window presses
#    the ACPI power button, and as SeaBIOS ignores it the VM is powered off
#    CAPSULE_VM_CLOSE_WAIT (2) s later, said in the VM's log.
set -u
NAME=sdl
P=${CAPSULE_BUILD:-}/tests/vm-payloads
NEED="${CAPSULE_BUILD:-}/bin/capsule-vm $P/kbd_echo.bin $P/acpi_button.bin ${CAPSULE_BUILD:-}/tests/xclose"
. "$(cd "$(dirname "$0")/../lib" && pwd)/cli.sh"
export CAPSULE_SVC_IDLE_TIMEOUT=60000 CAPSULE_VM_CLOSE_WAIT=2
# asan=1: SDL's and D-Bus's own state lives until exit (sdl_lsan.supp)
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$(cd "$(dirname "$0")" && pwd)/sdl_lsan.supp:print_suppressions=0"
unset DISPLAY XAUTHORITY # the service starts without a display, as a real one would
XCLOSE=$B/tests/xclose
for t in Xvfb xdotool xwininfo xwd convert compare tesseract; do
    command -v $t >/dev/null ||
        { fail "$t is missing: install xvfb, xdotool, x11-utils, x11-apps, imagemagick, tesseract-ocr (tools/setup.sh does)"; finish; }
done
if [ ! -f /usr/share/seabios/bios-256k.bin ]; then
    fail "no SeaBIOS (/usr/share/seabios/bios-256k.bin): install seabios (tools/setup.sh does)"
    finish
fi
ms() { echo $(($(date +%s%N) / 1000000)); }
# poll SECONDS CMD...: runs CMD every 0.1 s until it succeeds (0) or the
# time (scaled) is up (1). Bounds a hang only.
poll() {
    local i n=$(($1 * 10 * S))
    shift
    for i in $(seq "$n"); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

# --- the errors, no X needed ----------------------------------------------------------
ok createvm --name kbd --register
cp "$P/kbd_echo.bin" "$tmp/kbd.img"
truncate -s 4M "$tmp/kbd.img"
ok modifyvm kbd --firmware bios --boot1 disk --engine rem --uart1 0x3f8 4 --uartmode1 file "$tmp/com1"
ok storagectl kbd --name IDE --add ide
ok storageattach kbd --storagectl IDE --port 0 --device 0 --type hdd --medium "$tmp/kbd.img"
expect 1 "DISPLAY is not set" startvm kbd --type sdl
expect 1 "DISPLAY is not set" startvm kbd --type gui
expect 1 "no frontend 'qt' in this build \(known: sdl, gui, headless\)" startvm kbd --type qt
expect_mr kbd VMState '"poweroff"'
"$B/bin/capsule-vm" --display sdl --kernel "$P/acpi_button.bin" --engine rem --serial none \
    >"$tmp/nodisp.out" 2>&1
st=$?
[ $st = 4 ] && grep -q "cannot open the VM window: .*DISPLAY is not set" "$tmp/nodisp.out" &&
    pass "capsule-vm --display sdl without DISPLAY: exit 4, $(grep -o 'cannot open the VM window.*' "$tmp/nodisp.out")" ||
    fail "capsule-vm --display sdl without DISPLAY: exit $st: $(cat "$tmp/nodisp.out")"
"$B/bin/capsule-vm" --display qt --kernel "$P/acpi_button.bin" >"$tmp/bad.out" 2>&1
st=$?
[ $st = 2 ] && grep -q "display 'qt': unknown frontend (known: headless, sdl, gui)" "$tmp/bad.out" &&
    pass "capsule-vm --display qt: exit 2, the known frontends listed" ||
    fail "capsule-vm --display qt: exit $st: $(cat "$tmp/bad.out")"

# --- an X server (it picks a free display number) -------------------------------------
Xvfb -displayfd 3 -screen 0 1024x768x24 -nolisten tcp 3>"$tmp/xdisplay" >"$tmp/xvfb.log" 2>&1 &
xvfb=$!
on_exit() { kill "$xvfb" 2>/dev/null; wait "$xvfb" 2>/dev/null; }
poll 10 grep -qE '^[0-9]+' "$tmp/xdisplay" || { fail "Xvfb did not start: $(cat "$tmp/xvfb.log")"; finish; }
X=":$(head -1 "$tmp/xdisplay")"
xdo() { DISPLAY=$X xdotool "$@"; }
# win TITLE-REGEX: the id of the window with that name, if any
win() { xdo search --name "$1" 2>/dev/null | head -1; }
has_win() { [ -n "$(win "$1")" ]; }

# --- standalone: capsule-vm --display sdl, the ACPI power button on close ---------------
DISPLAY=$X "$B/bin/capsule-vm" --display sdl --name solo --kernel "$P/acpi_button.bin" \
    --engine rem --serial "file:$tmp/solo.com1" >"$tmp/solo.log" 2>&1 &
solo=$!
if poll 20 has_win '^solo \[Running\] - Capsule$'; then
    pass "capsule-vm --display sdl --name solo: a window titled 'solo [Running] - Capsule'"
else
    fail "no window 'solo [Running] - Capsule'; windows: $(xdo search --name . getwindowname %@ 2>&1 | head -5 | tr '\n' '|'); log: $(tail -5 "$tmp/solo.log")"
fi
poll 20 grep -aq "acpi payload up" "$tmp/solo.com1" || fail "the ACPI payload did not start"
DISPLAY=$X "$XCLOSE" "$(win '^solo ')" 2>&1 | sed 's/^/     /'
st=
for i in $(seq $((200 * S))); do
    kill -0 $solo 2>/dev/null || break
    sleep 0.1
done
if kill -0 $solo 2>/dev/null; then
    kill $solo
    fail "closing the window did not end the VM; log: $(tail -5 "$tmp/solo.log")"
fi
wait $solo
st=$?
[ $st = 0 ] && grep -q "ACPI power button pressed" "$tmp/solo.log" &&
    grep -aq "power button" "$tmp/solo.com1" && ! grep -q "powering the VM off" "$tmp/solo.log" &&
    pass "closing the window pressed the ACPI power button: the guest entered S5, exit 0" ||
    fail "close: exit $st; log: $(tail -5 "$tmp/solo.log"); COM1: $(tr -d '\r' <"$tmp/solo.com1" | tr '\n' '|')"
grep -q "the machine has no display" "$tmp/solo.log" ||
    fail "no word that the window stays black without a display device: $(tail -3 "$tmp/solo.log")"

# without ACPI (--no-device acpipm) closing the window powers off at once
DISPLAY=$X "$B/bin/capsule-vm" --display sdl --name noacpi --kernel "$P/acpi_button.bin" \
    --engine rem --serial "file:$tmp/noacpi.com1" --no-device acpipm >"$tmp/noacpi.log" 2>&1 &
noacpi=$!
poll 20 has_win '^noacpi \[Running\] - Capsule$' || fail "no window 'noacpi [Running] - Capsule'"
DISPLAY=$X "$XCLOSE" "$(win '^noacpi ')" 2>&1 | sed 's/^/     /'
poll 20 eval '! kill -0 $noacpi 2>/dev/null' || { kill $noacpi; fail "closing the window of a VM without ACPI did not end it"; }
wait $noacpi
st=$?
[ $st = 0 ] && grep -q "the window was closed: .*no ACPI power button.*: powering the VM off" "$tmp/noacpi.log" &&
    pass "without ACPI, closing the window powers the VM off at once: $(grep -o 'the window was closed: .*' "$tmp/noacpi.log")" ||
    fail "close without ACPI: exit $st; log: $(tail -3 "$tmp/noacpi.log")"

# --- startvm --type sdl through the service -------------------------------------------
# a DISPLAY with no X server behind it: the VM process says so, startvm fails
bad=
for d in $(seq 191 250); do
    [ -e "/tmp/.X$d-lock" ] || [ -e "/tmp/.X11-unix/X$d" ] || { bad=:$d; break; }
done
DISPLAY=$bad expect 1 "cannot open the VM window: .*DISPLAY is $bad" startvm kbd --type sdl
expect_mr kbd VMState '"poweroff"'
t0=$(ms)
DISPLAY=$X ok startvm kbd --type sdl
log=$(mr kbd LogFldr | tr -d '"')/capsule-vm.log
poll 30 grep -aq "kbd ready" "$tmp/com1" && pass "SeaBIOS booted kbd_echo.bin in $(($(ms) - t0)) ms" ||
    fail "kbd_echo.bin did not start: COM1 $(tr -d '\033\r' <"$tmp/com1" 2>&1 | tail -3)"
poll 10 has_win '^kbd \[Running\] - Capsule$' &&
    pass "startvm --type sdl: the window 'kbd [Running] - Capsule' is on the client's display" ||
    fail "no window 'kbd [Running] - Capsule'; log: $(tail -5 "$log")"
wid=$(win '^kbd ')
geom() { DISPLAY=$X xwininfo -id "$wid" | awk '/Absolute upper-left X/ {x=$NF} /Absolute upper-left Y/ {y=$NF} /Width:/ {w=$NF} /Height:/ {h=$NF} END {print w, h, x, y}'; }
is_720() { read -r w h x y <<<"$(geom)"; [ "$w" = 720 ] && [ "$h" = 400 ]; }
poll 10 is_720 && pass "the window follows the guest's mode: 720x400 at $x,$y" ||
    fail "the window is ${w}x$h, not 720x400 (text mode 3)"
# The window shows what the screenshot shows (the cursor may blink: a few
# pixels may differ).
same() {
    run controlvm kbd screenshotpng "$tmp/guest.png"
    DISPLAY=$X xwd -root -silent | convert xwd:- -crop "${w}x$h+$x+$y" +repage "$tmp/window.png"
    diff=$(compare -metric AE "$tmp/guest.png" "$tmp/window.png" null: 2>&1)
    [ "${diff%% *}" -lt $((720 * 400 / 100)) ] 2>/dev/null
}
poll 10 same && pass "the X screen in the window matches screenshotpng ($diff of 288000 pixels differ)" ||
    fail "the window's pixels differ from screenshotpng: $diff"
tesseract "$tmp/window.png" "$tmp/ocr" >/dev/null 2>&1
grep -q "KEYBOARD TEST" "$tmp/ocr.txt" && pass "OCR reads the guest's banner in the window" ||
    fail "OCR finds no 'KEYBOARD TEST' in the window: $(tr '\n' '|' <"$tmp/ocr.txt")"

# keys: typed into the window (the pointer over it: X's focus follows it
# without a window manager)
xdo mousemove --window "$wid" 360 200
xdo windowfocus --sync "$wid" 2>/dev/null
xdo type --delay 30 "hello"
xdo key Return
# by keycode (Xvfb's: 105 Right Ctrl, 37 Left Ctrl): xdotool's Control_R
# presses Left Ctrl too
xdo keydown 105 key a keyup 105
xdo keydown 37 key b keyup 37
keys() { grep -ao 'k=[^;]*;' "$tmp/com1" | tr -d '\n'; }
want=$(printf 'k=h;k=e;k=l;k=l;k=o;k=enter;k=a;k=\002;')
poll 10 eval '[ "$(keys)" = "$want" ]' &&
    pass "xdotool's keys reached the guest: hello, Enter; Right Ctrl+a as 'a' (the host key stays on the host), Left Ctrl+b as ^B" ||
    fail "the guest got $(keys | cat -v), want $(echo "$want" | cat -v)"
typed() {
    run controlvm kbd screenshotpng "$tmp/typed.png"
    tesseract "$tmp/typed.png" "$tmp/ocr2" >/dev/null 2>&1
    grep -q "type> hello" "$tmp/ocr2.txt"
}
poll 10 typed && pass "the typed text is on the guest's screen (OCR: 'type> hello')" ||
    fail "OCR finds no 'type> hello': $(tr '\n' '|' <"$tmp/ocr2.txt")"

# the user resizes the window: the picture is scaled to it (twice the size:
# every guest pixel a 2x2 block, which -sample 50% takes back)
xdo windowsize "$wid" 1440 800
is_1440() { read -r w h x y <<<"$(geom)"; [ "$w" = 1440 ] && [ "$h" = 800 ]; }
scaled() {
    is_1440 || return 1
    run controlvm kbd screenshotpng "$tmp/guest.png"
    DISPLAY=$X xwd -root -silent | convert xwd:- -crop "${w}x$h+$x+$y" +repage -sample 50% "$tmp/half.png"
    diff=$(compare -metric AE "$tmp/guest.png" "$tmp/half.png" null: 2>&1)
    [ "${diff%% *}" -lt $((720 * 400 / 100)) ] 2>/dev/null
}
poll 10 scaled && pass "resized by the user to 1440x800, the window shows the guest scaled ($diff pixels differ at half size)" ||
    fail "the resized window (${w}x$h) does not show the guest scaled: $diff"

# the mouse: the tablet's guest driver is not there (SeaBIOS), so a click
# grabs it; the host key releases it
xdo click 1
poll 5 has_win '^kbd \[Running\] - Capsule - Right Ctrl releases the mouse$' &&
    pass "a click grabs the mouse: the title says 'Right Ctrl releases the mouse'" ||
    fail "no grab after a click: title $(xdo getwindowname "$wid")"
xdo key 105
poll 5 has_win '^kbd \[Running\] - Capsule$' && pass "Right Ctrl released the mouse" ||
    fail "Right Ctrl did not release the mouse: title $(xdo getwindowname "$wid")"

# the state in the title
ok controlvm kbd pause
poll 5 has_win '^kbd \[Paused\] - Capsule$' && pass "paused: 'kbd [Paused] - Capsule'" ||
    fail "paused, the title is $(xdo getwindowname "$wid")"
ok controlvm kbd resume
poll 5 has_win '^kbd \[Running\] - Capsule$' || fail "resumed, the title is $(xdo getwindowname "$wid")"

# closing the window: the power button, which SeaBIOS ignores, then power off
DISPLAY=$X "$XCLOSE" "$wid" 2>&1 | sed 's/^/     /'
t0=$(ms)
wait_state kbd poweroff
grep -q "ACPI power button pressed" "$log" &&
    grep -q "the guest did not stop within 2 s of the ACPI power button: powering the VM off" "$log" &&
    pass "close: the ACPI power button, then power off after 2 s ($(($(ms) - t0)) ms), said in the log" ||
    fail "close: the log says: $(grep sdl: "$log" | tail -3)"
has_win '^kbd ' && fail "the window is still there after the VM powered off"
finish
