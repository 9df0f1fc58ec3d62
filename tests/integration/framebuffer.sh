#!/bin/bash
# tests/integration/framebuffer.sh - a client's own framebuffer on a running
# VM's screen (issue 13 item 3): fbclient (fbclient.c) implements
# IFramebuffer in C and hands it to the VM process through IDisplay's
# attachFramebuffer; the VM process bridges it to its display hub
# (plugins/frontends/vmproc/console_fb.c). A BIOS machine under rem, in a
# temporary CAPSULE_HOME, booting kbd_echo.bin (text mode 3, echoes keys to
# the screen). Checked:
#  - a client gets notifyChange 720x400, then notifyUpdateImage rectangles
#    covering the whole picture with pixels of several colours; after
#    detachFramebuffer no call comes, and a second detach of the same id
#    is refused; text typed into the guest (keyboardputstring) arrives as
#    a rectangle smaller than the picture;
#  - a client whose first call never returns (stall) delays nobody: another
#    client still gets the whole picture, screenshotpng works; killed, its
#    framebuffer is detached (the VM process logs the failed call) and the
#    VM runs on;
#  - a client killed while attached (hold): the VM still answers
#    (screenshotpng, a new client gets the picture) and powers off cleanly.
# The Python binding cannot implement an interface (only call them), so
# the client is C.
set -u
NAME=framebuffer
FBC=${CAPSULE_BUILD:-}/tests/fbclient
P=${CAPSULE_BUILD:-}/tests/vm-payloads
NEED="${CAPSULE_BUILD:-}/bin/capsule-vm $FBC $P/kbd_echo.bin"
. "$(cd "$(dirname "$0")/../lib" && pwd)/cli.sh"
export CAPSULE_SVC_IDLE_TIMEOUT=60000
if [ ! -f /usr/share/seabios/bios-256k.bin ]; then
    test_skip framebuffer "no SeaBIOS (/usr/share/seabios/bios-256k.bin): install seabios"
    finish
fi
poll() { # poll SECONDS CMD...: until CMD succeeds
    local n=$(($1 * 10 * S))
    shift
    for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
    return 1
}

ok createvm --name pc --register
cp "$P/kbd_echo.bin" "$tmp/kbd.img"
truncate -s 4M "$tmp/kbd.img"
ok modifyvm pc --firmware bios --boot1 disk --engine rem --uart1 0x3f8 4 --uartmode1 file "$tmp/com1"
ok storagectl pc --name IDE --add ide
ok storageattach pc --storagectl IDE --port 0 --device 0 --type hdd --medium "$tmp/kbd.img"
ok startvm pc --type headless
poll 30 grep -aq "kbd ready" "$tmp/com1" ||
    fail "kbd_echo.bin did not start; COM1: $(tr -d '\033\r' <"$tmp/com1" 2>&1 | tail -3)"
vmlog=$(find "$CAPSULE_HOME" -path "*/pc/Logs/capsule-vm.log" | head -1)

# watch VM: the whole picture, detach, no call after it.
watch() { # watch TAG: runs fbclient watch, checks its output
    if "$FBC" watch pc >"$tmp/$1.out" 2>"$tmp/$1.err"; then
        if grep -q "^change 720 400$" "$tmp/$1.out" &&
            grep -q "^update .* colours \([2-9]\|1[0-9]\)$" "$tmp/$1.out" &&
            grep -q "^calls after detach 0$" "$tmp/$1.out"; then
            pass "$1: notifyChange 720x400, $(grep -c '^update' "$tmp/$1.out") notifyUpdateImage covering the picture, none after detach"
        else
            fail "$1: unexpected calls: $(tr '\n' '|' <"$tmp/$1.out")"
        fi
    else
        fail "$1: fbclient watch failed: $(tail -3 "$tmp/$1.err") | $(tail -3 "$tmp/$1.out" | tr '\n' '|')"
    fi
}
watch watch
grep -q "^second detach refused: no framebuffer [0-9]* is attached" "$tmp/watch.out" &&
    pass "a second detach of the same id is refused" ||
    fail "second detach: $(grep second "$tmp/watch.out")"

# Typed text: a small rectangle.
"$FBC" typed pc >"$tmp/typed.out" 2>"$tmp/typed.err" &
typed=$!
poll 60 grep -q "^whole" "$tmp/typed.out" || fail "typed: no whole picture: $(cat "$tmp/typed.err")"
ok controlvm pc keyboardputstring "fb"
if wait "$typed"; then
    r=$(sed -n '/^whole/,$p' "$tmp/typed.out" | grep -m1 '^update')
    set -- $r
    if [ $# = 7 ] && [ $(($4 * $5)) -lt $((720 * 400)) ] && [ "$7" -ge 2 ]; then
        pass "typed keys: notifyUpdateImage of ${4}x$5 at $2,$3 ($7 colours), not the whole picture"
    else
        fail "typed keys: unexpected update [$r]"
    fi
else
    fail "typed: $(tail -3 "$tmp/typed.err") | $(tr '\n' '|' <"$tmp/typed.out")"
fi

# A client that never answers: nobody else waits for it.
"$FBC" stall pc >"$tmp/stall.out" 2>"$tmp/stall.err" &
stall=$!
poll 30 grep -q "^stalled" "$tmp/stall.out" && pass "the stalling client is in its first call" ||
    fail "the stalling client got no call: $(cat "$tmp/stall.out" "$tmp/stall.err")"
watch "watch-beside-stall"
ok controlvm pc screenshotpng "$tmp/s1.png"
{ kill -9 "$stall" && wait "$stall"; } 2>/dev/null
if [ -n "$vmlog" ]; then
    poll 30 grep -q "framebuffer [0-9]*: notifyChange failed .*detached" "$vmlog" &&
        pass "the killed client's framebuffer is detached: $(grep -o "framebuffer [0-9]*: notifyChange failed.*" "$vmlog" | head -1)" ||
        fail "no detach of the killed client logged: $(tail -3 "$vmlog")"
else
    fail "no pc/Logs/capsule-vm.log under $CAPSULE_HOME"
fi

# A client killed while attached.
"$FBC" hold pc >"$tmp/hold.out" 2>"$tmp/hold.err" &
hold=$!
poll 30 grep -q "^attached" "$tmp/hold.out" || fail "hold: $(cat "$tmp/hold.out" "$tmp/hold.err")"
{ kill -9 "$hold" && wait "$hold"; } 2>/dev/null
ok controlvm pc screenshotpng "$tmp/s2.png"
file "$tmp/s2.png" | grep -q "PNG image data, 720 x 400" &&
    pass "screenshotpng after a client died attached: 720x400" || fail "s2.png: $(file "$tmp/s2.png")"
watch "watch-after-kill"
expect_mr pc VMState '"running"'
ok controlvm pc poweroff
wait_state pc poweroff
finish
