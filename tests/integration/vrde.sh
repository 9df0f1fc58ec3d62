#!/bin/bash
# tests/integration/vrde.sh - the remote display server (VirtualBox's VRDE,
# served as VNC by the VM process; issue 13 item 5), with real VNC clients:
# Debian's vncsnapshot and TigerVNC's viewer under Xvfb (typed into with
# xdotool). Under rem, in a temporary CAPSULE_HOME. Checked:
#  - capsule-vm --vrde port=0,password-file=F on a payload that draws a
#    320x200 picture of many colours on the vga's linear framebuffer and
#    echoes the keyboard controller's bytes on COM1 (vnc_kbd.asm):
#    vncsnapshot's picture equals --screenshot's pixel for pixel; a wrong
#    password is refused; the TigerVNC viewer's window (xwd) equals it too,
#    while vncsnapshot connects as a second client; keys typed into the
#    viewer reach the guest as set-1 scancodes (a, then ! with its shift),
#    a click and a move as PS/2 mouse packets; a new mode (640x480) while
#    it is connected, its window following pixel for pixel;
#    a port in use, a password file others may read and a bad --vrde are
#    clear errors; a 17th connection at once is refused;
#  - a managed BIOS machine: modifyvm --vrde on --vrdeport 0 --vrdeproperty
#    VNCPassword=..., showvminfo's VRDE lines (the password never shown),
#    the active port while it runs (vrdeactiveport; also through the API
#    from Python), the paused screen
#    through VNC equal to controlvm screenshotpng, the password on no
#    command line, controlvm vrde off (the port closes) and on (a new one).
set -u
NAME=vrde
KBD=${CAPSULE_BUILD:-}/tests/vm-payloads/vnc_kbd.bin
NEED="${CAPSULE_BUILD:-}/bin/capsule-vm $KBD"
. "$(cd "$(dirname "$0")/../lib" && pwd)/cli.sh"
export CAPSULE_SVC_IDLE_TIMEOUT=60000
VM=$B/bin/capsule-vm
for t in vncsnapshot vncpasswd xtigervncviewer Xvfb xdotool xwd convert; do
    command -v $t >/dev/null ||
        { fail "$t is missing: install it (tools/setup.sh installs what this test needs)"; finish; }
done
if [ ! -f /usr/share/seabios/bios-256k.bin ]; then
    fail "no SeaBIOS (/usr/share/seabios/bios-256k.bin): install seabios (tools/setup.sh does)"
    finish
fi
vmpid= xvfb= viewer=
on_exit() {
    for p in $viewer $xvfb $vmpid; do kill "$p" 2>/dev/null; done
}

ms() { echo $(($(date +%s%N) / 1000000)); }
# wait_for FILE PATTERN SECONDS: polls until grep -E finds it
wait_for() {
    local limit=$(($(ms) + $3 * 1000 * S))
    while [ "$(ms)" -lt "$limit" ]; do
        grep -aqE -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}
# same_pixels A B: the two images have the same size and the same RGB
# pixels, decoded (a PNG against vncsnapshot's JPEG, an X window dump)
same_pixels() {
    convert "$1" -depth 8 rgb:"$tmp/a.rgb" 2>/dev/null &&
        convert "$2" -depth 8 rgb:"$tmp/b.rgb" 2>/dev/null &&
        [ "$(identify -format %wx%h "$1")" = "$(identify -format %wx%h "$2")" ] &&
        cmp -s "$tmp/a.rgb" "$tmp/b.rgb"
}
differing() { compare -metric AE "$1" "$2" null: 2>&1; }
# snap PORT FILE PASSWDFILE: vncsnapshot of the whole screen
snap() {
    timeout $((20 * S)) vncsnapshot -quiet -passwd "$3" "127.0.0.1::$1" "$2" \
        </dev/null >"$tmp/snap.out" 2>&1
}

# viewer PORT: TigerVNC's viewer under Xvfb, lossless (raw encoding, no
# JPEG), connected to PORT; its window into $win (empty: none came)
viewer() {
    xtigervncviewer -passwd "$tmp/good.vncpw" -AutoSelect=0 -PreferredEncoding=raw -NoJPEG \
        -RemoteResize=0 "127.0.0.1::$1" >"$tmp/viewer.log" 2>&1 &
    viewer=$!
    win=
    for i in $(seq $((100 * S))); do
        win=$(xdotool search --pid $viewer --name "Capsule VM" 2>/dev/null | head -1)
        [ -n "$win" ] && break
        sleep 0.1
    done
}
# window_is FILE PNG: the viewer's window (as FILE) shows the pixels of PNG
# within a few seconds (the viewer's hint overlay fades out first)
window_is() {
    local limit=$(($(ms) + 10000 * S))
    while [ "$(ms)" -lt "$limit" ]; do
        xwd -id "$win" -out "$tmp/win.xwd" 2>/dev/null && convert "$tmp/win.xwd" "$1" 2>/dev/null &&
            same_pixels "$1" "$2" && return 0
        sleep 0.2
    done
    return 1
}
viewer_stop() {
    kill $viewer 2>/dev/null
    wait $viewer 2>/dev/null
    viewer=
}

printf 'secret\n' >"$tmp/pw"
chmod 600 "$tmp/pw"
echo secret | vncpasswd -f >"$tmp/good.vncpw"
echo wrong | vncpasswd -f >"$tmp/bad.vncpw"

# --- capsule-vm --vrde: clear errors ----------------------------------------------------
"$VM" --kernel "$KBD" --vrde port=x >"$tmp/out" 2>&1
[ $? = 2 ] && grep -q -- "--vrde: port 'x' is not a number" "$tmp/out" &&
    pass "capsule-vm --vrde port=x: usage error" || fail "--vrde port=x: $(cat "$tmp/out")"
"$VM" --kernel "$KBD" --vrde port=1,pasword=x >"$tmp/out" 2>&1
[ $? = 2 ] && grep -q "unknown key 'pasword'" "$tmp/out" &&
    pass "capsule-vm --vrde with an unknown key: usage error" || fail "--vrde pasword: $(cat "$tmp/out")"
timeout $((20 * S)) "$VM" --kernel "$KBD" --engine rem --serial none --vrde port=0 >"$tmp/out" 2>&1
[ $? = 4 ] && grep -q "the machine has none (add the vga" "$tmp/out" &&
    pass "--vrde on a machine with no display: a clear error" || fail "no display: $(tail -2 "$tmp/out")"
cp "$tmp/pw" "$tmp/pw.open"
chmod 644 "$tmp/pw.open"
timeout $((20 * S)) "$VM" --kernel "$KBD" --engine rem --device vga --serial none \
    --vrde "port=0,password-file=$tmp/pw.open" >"$tmp/out" 2>&1
[ $? = 4 ] && grep -q "chmod 600" "$tmp/out" &&
    pass "a password file others may read is refused" || fail "pw mode 644: $(tail -2 "$tmp/out")"

# --- capsule-vm --vrde: pixels, password, two clients, keys -------------------------------
t0=$(ms)
"$VM" --kernel "$KBD" --engine rem --device vga --serial "file:$tmp/com1" \
    --vrde "port=0,password-file=$tmp/pw" --screenshot "$tmp/shot.png" >"$tmp/vm.log" 2>&1 &
vmpid=$!
wait_for "$tmp/com1" "kbd ready" 20 || fail "the payload did not start: $(tail -3 "$tmp/vm.log")"
port=$(sed -n 's/.*vnc: listening on 127.0.0.1 port \([0-9]*\) (VNC password required).*/\1/p' "$tmp/vm.log")
if [ -z "$port" ]; then
    fail "capsule-vm did not say its VNC port: $(tail -3 "$tmp/vm.log")"
    finish
fi
pass "capsule-vm --vrde port=0: listening on 127.0.0.1 port $port ($(($(ms) - t0)) ms to the picture)"
kill -USR1 $vmpid
wait_for "$tmp/vm.log" "screenshot written" 10 || fail "no --screenshot on SIGUSR1"
if snap "$port" "$tmp/snap.jpg" "$tmp/good.vncpw" && same_pixels "$tmp/snap.jpg" "$tmp/shot.png"; then
    pass "vncsnapshot's picture equals the screenshot pixel for pixel (320x200)"
else
    fail "vncsnapshot: $(cat "$tmp/snap.out"); differing pixels: $(differing "$tmp/snap.jpg" "$tmp/shot.png")"
fi
if snap "$port" "$tmp/bad.jpg" "$tmp/bad.vncpw"; then
    fail "vncsnapshot with a wrong password got in"
elif grep -q "password check failed" "$tmp/vm.log" && [ ! -s "$tmp/bad.jpg" ]; then
    pass "a wrong password is refused: $(grep -m1 "failed" "$tmp/snap.out")"
else
    fail "the wrong password: no refusal in the log: $(tail -3 "$tmp/vm.log")"
fi
timeout $((20 * S)) "$VM" --kernel "$KBD" --engine rem --device vga --serial none \
    --vrde "port=$port" >"$tmp/out" 2>&1
[ $? = 4 ] && grep -q "cannot listen on 127.0.0.1 port $port: Address already in use" "$tmp/out" &&
    pass "a port in use: a clear error" || fail "port in use: $(tail -2 "$tmp/out")"

# the TigerVNC viewer under Xvfb, lossless (raw), and xdotool typing into it
Xvfb -displayfd 3 -screen 0 800x600x24 -nolisten tcp 3>"$tmp/xdisplay" 2>"$tmp/xvfb.log" &
xvfb=$!
wait_for "$tmp/xdisplay" "^[0-9]+" 10 || fail "Xvfb did not start: $(cat "$tmp/xvfb.log")"
export DISPLAY=:$(head -1 "$tmp/xdisplay")
viewer "$port"
if [ -z "$win" ]; then
    fail "the viewer shows no window: $(tail -3 "$tmp/viewer.log")"
else
    if window_is "$tmp/win.png" "$tmp/shot.png"; then
        pass "the TigerVNC viewer's window equals the screenshot pixel for pixel"
    else
        fail "the viewer's window ($(identify -format %wx%h "$tmp/win.png" 2>&1)) differs: $(differing "$tmp/win.png" "$tmp/shot.png") pixels"
    fi
    # a second client while the viewer is connected
    if snap "$port" "$tmp/snap2.jpg" "$tmp/good.vncpw" && same_pixels "$tmp/snap2.jpg" "$tmp/shot.png" &&
        kill -0 $viewer 2>/dev/null; then
        pass "two clients at once: vncsnapshot beside the viewer, the same picture"
    else
        fail "a second client: $(cat "$tmp/snap.out")"
    fi
    # keys: 'a', then '!' (the viewer sends Shift_L and exclam)

    xdotool windowfocus --sync "$win" 2>/dev/null
    xdotool type --delay 40 'a!'
    if wait_for "$tmp/com1" "^1e 9e 2a 02 (aa 82|82 aa) $" 10; then
        pass "keys typed into the viewer reach the guest: $(sed -n 2p "$tmp/com1")"
    else
        fail "keys: the guest read '$(sed -n 2p "$tmp/com1" 2>/dev/null)$(tail -c 40 "$tmp/com1")', want 1e 9e 2a 02 aa 82"
    fi
    # the pointer (no tablet here: the PS/2 mouse, which the payload
    # enabled): a click where it is, then a move 10 right and 5 up
    xdotool mousemove --window "$win" 100 50
    sleep 0.2
    xdotool click 1
    sleep 0.2
    xdotool mousemove --window "$win" 110 45
    if wait_for "$tmp/com1" "09 00 00 08 00 00 08 0a 05 $" 10; then
        pass "the viewer's pointer reaches the guest's mouse: click 09 00 00 08 00 00, move 08 0a 05"
    else
        fail "pointer: the guest read '$(sed -n 2p "$tmp/com1" 2>/dev/null)', want ... 09 00 00 08 00 00 08 0a 05"
    fi
    # a new mode while the viewer is connected: Enter makes the payload
    # switch to 640x480; the window follows, with the new picture
    n=$(grep -c "screenshot written" "$tmp/vm.log")
    xdotool key Return
    if wait_for "$tmp/com1" "mode 640x480" 10; then
        kill -USR1 $vmpid
        for i in $(seq $((100 * S))); do
            [ "$(grep -c "screenshot written" "$tmp/vm.log")" -gt "$n" ] && break
            sleep 0.05
        done
        if window_is "$tmp/win2.png" "$tmp/shot.png" && file "$tmp/shot.png" | grep -q "640 x 480"; then
            pass "a new mode (640x480) with the viewer connected: its window follows, pixel for pixel"
        else
            fail "after the resize the window ($(identify -format %wx%h "$tmp/win2.png" 2>&1)) differs: $(differing "$tmp/win2.png" "$tmp/shot.png")"
        fi
    else
        fail "Enter did not switch the payload's mode: '$(tail -c 60 "$tmp/com1")'"
    fi
    viewer_stop
fi
# a bound on connections: 16 at once, the 17th closed at once
if python3 - "$port" >"$tmp/many.out" 2>&1 <<'PY'; then
import socket, sys
socks = [socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=20) for _ in range(17)]
got = [s.recv(12) for s in socks]
assert got[:16] == [b'RFB 003.008\n'] * 16 and got[16] == b'', got
PY
    grep -q "refused: 16 are connected" "$tmp/vm.log" &&
        pass "16 connections at once; the 17th is closed, and said" || fail "no refusal said in the log"
else
    fail "17 connections: $(tail -3 "$tmp/many.out")"
fi
kill -TERM $vmpid
wait $vmpid
st=$?
vmpid=
[ $st = 0 ] && grep -q "vnc: stopped" "$tmp/vm.log" &&
    pass "SIGTERM: the VM and its VNC server stopped cleanly" ||
    fail "the VM's end: status $st; $(tail -3 "$tmp/vm.log")"

# --- a managed machine: settings, showvminfo, the active port, controlvm vrde -----------
ok createvm --name pc --register
ok modifyvm pc --firmware bios --boot1 dvd --engine rem --uart1 0x3f8 4 --uartmode1 file "$tmp/pc.com1"
ok storagectl pc --name IDE --add ide
ok storageattach pc --storagectl IDE --port 1 --device 0 --type dvddrive --medium emptydrive
run showvminfo pc
grep -q "^VRDE: *disabled$" "$tmp/out" && pass "showvminfo: VRDE disabled" || fail "showvminfo: $(grep VRDE "$tmp/out")"
ok modifyvm pc --vrde on --vrdeport 0 --vrdeproperty VNCPassword=secret
expect 1 "TCP/Ports '70000' is not a port number" modifyvm pc --vrdeport 70000
expect 1 "TCP/Address 'localhost' is not a numeric IPv4 address" modifyvm pc --vrdeaddress localhost
expect 1 "unknown VRDE property 'Bogus'" modifyvm pc --vrdeproperty Bogus=1
expect 2 "is not KEY=VALUE" modifyvm pc --vrdeproperty novalue
run showvminfo pc
grep -q "^VRDE: *enabled (Address 127.0.0.1, Ports 0, Authentication: VNC password)$" "$tmp/out" &&
    pass "showvminfo: $(grep '^VRDE:' "$tmp/out")" || fail "showvminfo: $(grep VRDE "$tmp/out")"
grep -q secret "$tmp/out" && fail "showvminfo prints the VNC password"
expect_mr pc vrde '"on"'
expect_mr pc vrdeport 0
expect_mr pc vrdeaddress '""'
expect_mr pc vrdeauthtype '"vnc"'
"$CAP" showvminfo pc --machinereadable | grep -q secret && fail "showvminfo --machinereadable prints the password"
ok startvm pc --type headless
wait_for "$tmp/pc.com1" "No bootable device" 30 || fail "SeaBIOS did not reach 'No bootable device'"
sleep 0.2 # the text reaches the VGA screen right after serial
aport=$(mr pc vrdeactiveport)
if [ -n "$aport" ] && [ "$aport" -gt 0 ]; then
    pass "showvminfo while running: vrdeactiveport=$aport"
else
    fail "no vrdeactiveport while running: $("$CAP" showvminfo pc --machinereadable | grep vrde)"
fi
run showvminfo pc
grep -q "^VRDE port: *$aport$" "$tmp/out" || fail "showvminfo has no 'VRDE port: $aport'"
# the same through the API from Python
if [ -d "$B/python/capsule" ]; then
    if PYTHONPATH=$B/python $PY_RUN python3 - "$aport" >"$tmp/py.out" 2>&1 <<'PY'; then
import sys
import capsule
from capsule import LockType
m = capsule.connect().find_machine('pc')
v = m.vrde_server
props = list(v.vrde_properties)
assert v.enabled and props == ['TCP/Ports', 'TCP/Address', 'VNCPassword'], (v.enabled, props)
assert v.get_vrde_property('TCP/Ports') == '0', v.get_vrde_property('TCP/Ports')
with capsule.session(m, LockType.Shared) as s:
    assert s.console.vrde_server_enabled
    assert s.console.vrde_server_port == int(sys.argv[1]), s.console.vrde_server_port
print('python: IMachine.VRDEServer %s, IConsole.VRDEServerPort %d' % (props, int(sys.argv[1])))
PY
        pass "$(tail -1 "$tmp/py.out")"
    else
        fail "the API through Python: $(tail -5 "$tmp/py.out")"
    fi
fi
vm=$(pgrep -f -- "capsule-vm --startvm .*--home $CAPSULE_HOME" | head -1)
if [ -n "$vm" ] && ! grep -aq secret "/proc/$vm/cmdline" && ! grep -aq secret "/proc/$vm/environ"; then
    pass "the VNC password is on no command line and in no environment of the VM process"
else
    fail "the VM process ($vm) shows the password: $(tr '\0' ' ' <"/proc/$vm/cmdline")"
fi
ok controlvm pc pause
ok controlvm pc screenshotpng "$tmp/pc.png"
# vncsnapshot writes JPEG, lossy on text's sharp edges: the viewer's
# window is the exact check, vncsnapshot's count of differing pixels is
# said
viewer "$aport"
if [ -n "$win" ] && window_is "$tmp/pcwin.png" "$tmp/pc.png"; then
    pass "the paused SeaBIOS screen in the viewer equals screenshotpng pixel for pixel ($(identify -format %wx%h "$tmp/pc.png"))"
else
    fail "managed: the viewer's window (${win:-none came}) differs from screenshotpng:" \
        "$(differing "$tmp/pcwin.png" "$tmp/pc.png") pixels; viewer: $(tail -n 5 "$tmp/viewer.log")"
fi
viewer_stop
if snap "$aport" "$tmp/pc.jpg" "$tmp/good.vncpw"; then
    pass "vncsnapshot of the managed VM (JPEG: $(differing "$tmp/pc.jpg" "$tmp/pc.png") of $(($(identify -format '%w*%h' "$tmp/pc.png"))) pixels off by JPEG's loss)"
else
    fail "managed: vncsnapshot: $(cat "$tmp/snap.out")"
fi
ok controlvm pc resume
ok controlvm pc vrde off
[ -z "$(mr pc vrdeactiveport)" ] || fail "vrdeactiveport after vrde off: $(mr pc vrdeactiveport)"
snap "$aport" "$tmp/off.jpg" "$tmp/good.vncpw" && fail "vncsnapshot got in after vrde off"
pass "controlvm vrde off: port $aport closed"
ok controlvm pc vrde on
nport=$(sed -n 's/^VRDE server listening on port //p' "$tmp/out")
if [ -n "$nport" ] && [ "$(mr pc vrdeactiveport)" = "$nport" ] && snap "$nport" "$tmp/on.jpg" "$tmp/good.vncpw"; then
    pass "controlvm vrde on: listening again on port $nport, a client gets in"
else
    fail "controlvm vrde on: port '$nport', active $(mr pc vrdeactiveport): $(cat "$tmp/snap.out")"
fi
expect 2 "vrde: on or off" controlvm pc vrde maybe
expect_mr pc vrde '"on"' # the saved setting stays
ok controlvm pc poweroff
wait_state pc poweroff
finish
