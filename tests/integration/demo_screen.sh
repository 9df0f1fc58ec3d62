#!/bin/bash
# tests/integration/demo_screen.sh - the demo VM's screen (issue 13): a
# machine like quickstart's "demo" (the guest kit's kernel booted directly,
# its initrd and its command line - console=tty0 before console=ttyS0 -,
# COM1 to a file; here --engine rem) through the service, with the default
# graphics controller:
#  - showvminfo says graphicscontroller="vga" and capsule-vm was given
#    --graphics vga;
#  - the VGA is in 80x25 text mode without a BIOS: `controlvm screenshotpng`
#    gives a 720x400 PNG on which OCR reads busybox's "Please press Enter to
#    activate this console" (tty1's shell, the kit's inittab), and so does a
#    real VNC client's snapshot (vncsnapshot) of the machine's remote display
#    (modifyvm --vrde on, a free port);
#  - keys typed with `controlvm keyboardputstring` start that shell and run
#    a line there that hands the kernel a message (/dev/kmsg, level 2: shown
#    on every console despite `quiet`): "kmsg-42" - computed by the shell,
#    so the typed line itself never shows it - is read by OCR on the screen
#    (the kernel's vgacon drew it) and found on COM1;
#  - `startvm --type sdl` on an X server (Xvfb, no window manager): the
#    window "demo [Running] - Capsule" shows the prompt (OCR of the X
#    screen where the window is); keys typed into it with xdotool start
#    tty1's shell and run a line whose output ("typed-42", computed by the
#    shell) OCR reads there too;
#  - then `modifyvm --graphicscontroller none`: showvminfo says none; with
#    the remote display server still on, power-up is refused saying why;
#    with it off the guest boots as before (COM1's banner), capsule-vm was
#    given --graphics none, and the screenshot call says the machine has no
#    display.
# Skips (counted) without Debian's tools; fails when the kit cannot be
# built or a tool is missing (tesseract, vncsnapshot, Xvfb, xdotool,
# x11-utils, ImageMagick: tools/setup.sh installs them). Bounded by
# DEMO_SCREEN_TIMEOUT seconds per wait (default 120, times
# CAPSULE_TIMEOUT_SCALE); four power-ups, about 55 s here under rem.
set -u
NAME=demo_screen
NEED="${CAPSULE_BUILD:-}/bin/capsule-vm"
. "$(cd "$(dirname "$0")/../lib" && pwd)/cli.sh"
. "$(cd "$(dirname "$0")/../lib" && pwd)/ocr.sh"
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LIMIT=$((${DEMO_SCREEN_TIMEOUT:-120} * S))
export CAPSULE_SVC_IDLE_TIMEOUT=60000
for t in tesseract vncsnapshot Xvfb xdotool xwininfo xwd convert; do
    command -v $t >/dev/null || { fail "$t is missing: install it (tools/setup.sh does)"; finish; }
done
. "$TOP/tests/lib/skip.sh"
. "$TOP/tests/lib/guestkit.sh"
guestkit_load demo-screen "$tmp"
case $? in 2) exit 0 ;; 1) exit 1 ;; esac
case " $kit_cmdline " in
*" console=tty0 "*"console=ttyS0 "*) pass "the kit's command line has console=tty0 before console=ttyS0" ;;
*) fail "the kit's command line lacks console=tty0 before console=ttyS0: $kit_cmdline" ;;
esac
com1=$tmp/com1

# wait_com1 TEXT N: until COM1 holds TEXT N times.
wait_com1() {
    local t0=$SECONDS
    while [ "$(grep -acF -- "$1" "$com1" 2>/dev/null)" -lt "$2" ]; do
        if [ $((SECONDS - t0)) -ge "$LIMIT" ]; then
            fail "COM1 has no '$1' (x$2) within ${LIMIT}s: $(tr -d '\r' <"$com1" 2>&1 | tail -3)"
            return 1
        fi
        sleep 0.3
    done
}
# wait_screen TEXT: until OCR reads TEXT on a screenshot ($tmp/screen.png,
# its reading in $tmp/ocr.txt).
wait_screen() {
    local t0=$SECONDS
    while :; do
        run controlvm demo screenshotpng "$tmp/screen.png"
        if [ $rc -eq 0 ]; then
            ocr "$tmp/screen.png" "$tmp/ocr"
            grep -qF -- "$1" "$tmp/ocr.txt" && return 0
        fi
        if [ $((SECONDS - t0)) -ge "$LIMIT" ]; then
            fail "OCR reads no '$1' on the screen within ${LIMIT}s (screenshotpng: rc $rc $err): $(tr '\n' '|' <"$tmp/ocr.txt" 2>&1)"
            return 1
        fi
        sleep 1
    done
}
vm_log() { cat "$(mr demo LogFldr | tr -d '"')/capsule-vm.log" 2>/dev/null; }

# ---- the demo as quickstart makes it: the default VGA ------------------------------
ok createvm --name demo --ostype Linux_64 --register
ok modifyvm demo --engine rem --memory 256 --kernel "$kit_vmlinux" --initrd "$kit_initrd" \
    --cmdline "$kit_cmdline" --uart1 0x3f8 4 --uartmode1 file "$com1" --vrde on --vrdeport 0
expect_mr demo graphicscontroller '"vga"'
ok startvm demo --type headless
t0=$(date +%s%N)
if wait_com1 "Capsule demo guest: Linux" 1 && wait_screen "Please press Enter to activate this console"; then
    pass "the screen shows tty1's 'Please press Enter to activate this console' $((($(date +%s%N) - t0) / 1000000)) ms after power-on"
fi
vm_log | grep -q "as options: --kernel .* --graphics vga" ||
    fail "capsule-vm was not given --graphics vga: $(vm_log | grep 'as options')"
file "$tmp/screen.png" | grep -q "PNG image data, 720 x 400" &&
    pass "the screenshot is 720x400: VGA text mode 3" ||
    fail "the screenshot is not 720x400 (text mode 3): $(file "$tmp/screen.png")"
port=$(mr demo vrdeactiveport)
if timeout $((20 * S)) vncsnapshot -quiet "127.0.0.1::$port" "$tmp/vnc.jpg" >"$tmp/vnc.out" 2>&1; then
    ocr "$tmp/vnc.jpg" "$tmp/vnc"
    grep -qF "Please press Enter to activate this console" "$tmp/vnc.txt" &&
        pass "a VNC client's snapshot (port $port) shows the same prompt" ||
        fail "OCR reads no prompt on the VNC snapshot: $(tr '\n' '|' <"$tmp/vnc.txt")"
else
    fail "vncsnapshot of port '$port' failed: $(tail -3 "$tmp/vnc.out")"
fi
ok controlvm demo keyboardputstring $'\n'
ok controlvm demo keyboardputstring $'echo "<2>kmsg-$((6*7))" >/dev/kmsg\n'
if wait_screen "kmsg-42"; then
    pass "the kernel's message is on the screen: $(grep -m1 -F kmsg-42 "$tmp/ocr.txt")"
fi
wait_com1 "kmsg-42" 1 && pass "... and on COM1"
ok controlvm demo poweroff
wait_state demo poweroff

# ---- the VM window -------------------------------------------------------------------
unset DISPLAY XAUTHORITY # the service has none; startvm passes the client's
Xvfb -displayfd 3 -screen 0 1024x768x24 -nolisten tcp 3>"$tmp/xdisplay" >"$tmp/xvfb.log" 2>&1 &
xvfb=$!
on_exit() { kill "$xvfb" 2>/dev/null; wait "$xvfb" 2>/dev/null; }
for i in $(seq $((100 * S))); do grep -qE '^[0-9]+' "$tmp/xdisplay" && break; sleep 0.1; done
X=":$(head -1 "$tmp/xdisplay")"
xdo() { DISPLAY=$X xdotool "$@"; }
# window_text TEXT: until OCR reads TEXT in the window ($tmp/window.png)
window_text() {
    local t0=$SECONDS w h x y
    while :; do
        read -r w h x y <<<"$(DISPLAY=$X xwininfo -id "$wid" 2>/dev/null | awk '/Absolute upper-left X/ {x=$NF} /Absolute upper-left Y/ {y=$NF} /Width:/ {w=$NF} /Height:/ {h=$NF} END {print w, h, x, y}')"
        DISPLAY=$X xwd -root -silent | convert xwd:- -crop "${w}x$h+$x+$y" +repage "$tmp/window.png" 2>/dev/null &&
            ocr "$tmp/window.png" "$tmp/wocr" && grep -qF -- "$1" "$tmp/wocr.txt" && return 0
        if [ $((SECONDS - t0)) -ge "$LIMIT" ]; then
            fail "OCR reads no '$1' in the window within ${LIMIT}s: $(tr '\n' '|' <"$tmp/wocr.txt" 2>&1)"
            return 1
        fi
        sleep 1
    done
}
ok modifyvm demo --vrde off
DISPLAY=$X ok startvm demo --type sdl
wid=
for i in $(seq $((300 * S))); do
    wid=$(xdo search --name '^demo \[Running\] - Capsule$' 2>/dev/null | head -1)
    [ -n "$wid" ] && break
    sleep 0.1
done
if [ -z "$wid" ]; then
    fail "no window 'demo [Running] - Capsule' on $X"
elif window_text "Please press Enter to activate this console"; then
    pass "the window 'demo [Running] - Capsule' shows tty1's prompt"
    xdo mousemove --window "$wid" 360 200
    xdo windowfocus --sync "$wid" 2>/dev/null
    xdo key Return
    sleep 1
    xdo type --delay 40 'echo typed-$((6*7))'
    xdo key Return
    window_text "typed-42" && pass "keys typed into the window ran in tty1's shell: $(grep -m1 -F typed-42 "$tmp/wocr.txt")"
fi
ok controlvm demo poweroff
wait_state demo poweroff

# ---- no graphics controller ----------------------------------------------------------
ok modifyvm demo --graphicscontroller none
expect_mr demo graphicscontroller '"none"'
ok showvminfo demo
grep -q '^Graphics Controller: none$' "$tmp/out" || fail "showvminfo: no 'Graphics Controller: none': $out"
# The remote display server has nothing to show: power-up says so.
ok modifyvm demo --vrde on
expect 1 "the machine has none \(add the vga: capsule modifyvm VM --graphicscontroller vga" \
    startvm demo --type headless
wait_state demo poweroff
ok modifyvm demo --vrde off
rm -f "$com1" # the VM process makes it anew
ok startvm demo --type headless
wait_com1 "Capsule demo guest: Linux" 1 && pass "the guest boots without a graphics controller"
vm_log | grep -q "as options: --kernel .* --graphics none" ||
    fail "capsule-vm was not given --graphics none: $(vm_log | grep 'as options')"
expect 1 "the machine has no display" controlvm demo screenshotpng "$tmp/none.png"
[ -e "$tmp/none.png" ] && fail "a machine without a graphics controller left a screenshot"
ok controlvm demo poweroff
wait_state demo poweroff
finish
