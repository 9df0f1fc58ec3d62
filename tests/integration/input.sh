#!/bin/bash
# tests/integration/input.sh - keys and the mouse through the API (issue 13
# items 3 and 6): `capsule controlvm VM keyboardputscancode|keyboardputstring|
# keyboardputfile` goes CLI -> service -> the VM process's IConsole keyboard
# (IKeyboard) -> PDM (pdm_keyboard_put) -> the i8042, and IMouse's events
# (through the Python binding) -> pdm_mouse_put -> its PS/2 mouse. The guest
# is input_echo.bin (tests/integration/vm), which turns the mouse on and
# prints every byte it reads from the controller on COM1 ("k 1e", "m 08"),
# so the checks compare the exact bytes. In a temporary CAPSULE_HOME, under
# rem. Checked:
#  - scancodes arrive as given (300 of them too, in several calls);
#    "Hello, World!" arrives as the US layout's 32 set-1 bytes, in order,
#    though the controller buffers only 16 (the VM process feeds them as
#    the guest reads); a file of 200 lines (more than one API call's worth)
#    arrives whole; Ctrl-Alt-Del, releaseKeys;
#  - mouse motion and buttons arrive as PS/2 packets; without a tablet the
#    absolute event is refused with the reason (a BIOS machine with the
#    virtio tablet takes it; invalidateAndUpdate on its screen);
#  - bad input is refused before anything is sent: a bad hex byte (named),
#    missing arguments, an untypable character (its position), too many
#    scancodes in one call, unknown button bits, a stopped machine;
#  - setvideomodehint on a machine with a VGA (a BIOS machine): a clear
#    "not supported" with the reason; on one without a display: says so.
set -u
NAME=input
ECHO=${CAPSULE_BUILD:-}/tests/vm-payloads/input_echo.bin
NEED="${CAPSULE_BUILD:-}/bin/capsule-vm $ECHO"
. "$(cd "$(dirname "$0")/../lib" && pwd)/cli.sh"
export CAPSULE_SVC_IDLE_TIMEOUT=60000

# The bytes the guest read from the keyboard ("k" lines) or the mouse ("m"),
# as one line of hex.
bytes() { tr -d '\r' <"$tmp/com1" | sed -n "s/^$1 \([0-9a-f][0-9a-f]\)\$/\1/p" | tr '\n' ' ' | sed 's/ $//'; }
# Waits until the guest has read at least N bytes of kind $1.
wait_bytes() {
    local i
    for i in $(seq $((200 * S))); do
        [ "$(bytes "$1" | wc -w)" -ge "$2" ] && return 0
        sleep 0.05
    done
    return 1
}
# Checks that the bytes of kind $1 read since the last check are $2.
seen_k=0 seen_m=0
check_bytes() {
    local kind=$1 want=$2 what=$3 n all got seen
    n=$(echo "$want" | wc -w)
    seen=$([ "$kind" = k ] && echo $seen_k || echo $seen_m)
    wait_bytes "$kind" $((seen + n))
    all=$(bytes "$kind")
    got=$(echo "$all" | cut -d' ' -f$((seen + 1))-$((seen + n)))
    if [ "$got" = "$want" ] && [ "$(echo "$all" | wc -w)" -eq $((seen + n)) ]; then
        [ ${#want} -le 120 ] && pass "$what: the guest read $want" ||
            pass "$what: the guest read ${want:0:60}... ($n bytes)"
    else
        fail "$what: the guest read [$(echo "$all" | cut -d' ' -f$((seen + 1))-)], want [$want]"
    fi
    seen=$(echo "$all" | wc -w)
    [ "$kind" = k ] && seen_k=$seen || seen_m=$seen
}

ok createvm --name echo --register
ok modifyvm echo --kernel "$ECHO" --engine rem --graphicscontroller none --uart1 0x3f8 4 \
    --uartmode1 file "$tmp/com1"
# Usage errors (exit 2; the parsers' own cases are in tests/unit/manage)
# need no machine; a stopped one gets the usual message.
expect 2 "argument 2 \('zz'\) is not a scancode" controlvm echo keyboardputscancode 1e zz 9e
expect 2 "keyboardputstring: the text \(TEXT...\) is missing" controlvm echo keyboardputstring
expect 2 "'12' is not a depth" controlvm echo setvideomodehint 800 600 12
expect 2 "pause takes no argument \('x'\)" controlvm echo pause x
expect 1 "is not running|no running VM" controlvm echo keyboardputstring hi
ok startvm echo --type headless
for i in $(seq $((300 * S))); do
    grep -aq "input echo ready" "$tmp/com1" 2>/dev/null && break
    sleep 0.05
done
grep -aq "input echo ready" "$tmp/com1" || fail "input_echo did not get ready: $(tail -3 "$tmp/com1" 2>&1)"
check_bytes m "fa" "the mouse's acknowledgement of 0xF4 (reporting on)"

# --- the keyboard from the CLI ------------------------------------------------------
ok controlvm echo keyboardputscancode 1e 9E 0xe0 4b e0 cb
check_bytes k "1e 9e e0 4b e0 cb" "keyboardputscancode 1e 9E 0xe0 4b e0 cb"
# More than one call's worth (the CLI sends pieces of 256 scancodes).
ok controlvm echo keyboardputscancode $(for i in $(seq 150); do printf '1e 9e '; done)
check_bytes k "$(for i in $(seq 150); do printf '1e 9e '; done | sed 's/ $//')" "keyboardputscancode of 300 bytes"
ok controlvm echo keyboardputstring "Hello," "World!"
echo "     keyboardputstring 'Hello, World!' (32 scancodes): $ms ms"
check_bytes k "2a 23 a3 aa 12 92 26 a6 26 a6 18 98 33 b3 39 b9 2a 11 91 aa 18 98 13 93 26 a6 20 a0 2a 02 82 aa" \
    "keyboardputstring 'Hello, World!'"
# A file longer than one call (the CLI sends pieces of 256 bytes).
for i in $(seq 200); do echo "line $i"; done >"$tmp/typed.txt"
ok controlvm echo keyboardputfile "$tmp/typed.txt"
echo "     keyboardputfile $(wc -c <"$tmp/typed.txt") bytes: $ms ms"
want=$(($(wc -c <"$tmp/typed.txt") * 2)) # digits, letters, space, Enter: one key down and up each
wait_bytes k $((seen_k + want))
got=$(($(bytes k | wc -w) - seen_k))
first=$(bytes k | cut -d' ' -f$((seen_k + 1))-$((seen_k + 6)))
if [ "$got" -eq "$want" ] && [ "$first" = "26 a6 17 97 31 b1" ]; then
    pass "keyboardputfile: $got scancodes for $(wc -c <"$tmp/typed.txt") characters, starting 'lin'"
else
    fail "keyboardputfile: $got scancodes read, want $want; first: $first"
fi
seen_k=$(bytes k | wc -w)
expect 1 "character 3 of the text \(byte 0xe2\) is typed by no key" controlvm echo keyboardputstring "ab€"
printf 'ok\0no' >"$tmp/nul.txt"
expect 1 "holds a NUL byte at 2" controlvm echo keyboardputfile "$tmp/nul.txt"
expect 1 "cannot open" controlvm echo keyboardputfile "$tmp/none.txt"

# --- the keyboard and the mouse through the API (Python) ----------------------------
if [ -d "$B/python/capsule" ]; then
    if PYTHONPATH=$B/python $PY_RUN python3 - >"$tmp/py.out" 2>&1 <<'PY'; then
import capsule
from capsule import LockType, MouseButtonState as MB
c = capsule.connect()
m = c.find_machine('echo')
def refused(code, want, fn, *args):
    try:
        fn(*args)
        raise SystemExit('no error for %s%r' % (fn.__name__, args))
    except capsule.Error as e:
        assert e.code & 0xffffffff == code and want in str(e), str(e)
        print('refused:', e)
with capsule.session(m, LockType.Shared) as s:
    k, mouse = s.console.keyboard, s.console.mouse
    assert k.put_scancodes([0x1e, 0x9e]) == 2
    k.put_scancode(0x30)
    k.put_string('a')
    k.put_cad()
    k.release_keys()
    assert mouse.relative_supported and not mouse.absolute_supported
    mouse.put_mouse_event(5, -3, 0, 0, MB.LeftButton)
    mouse.put_mouse_event(0, 0, 0, 0, 0)
    mouse.put_mouse_event(-2, 4, 0, 0, MB.RightButton | MB.MiddleButton)
    refused(0x80000005, 'at most 4096', k.put_scancodes, [0x1e] * 4097)
    refused(0x80000005, 'scancode 1 is 256', k.put_scancodes, [0x1e, 256])
    refused(0x80000005, 'at most 1024', k.put_string, 'a' * 1025)
    refused(0x80BB0006, 'no absolute pointing device (no tablet)',
            mouse.put_mouse_event_absolute, 10, 10, 0, 0, 0)
    refused(0x80000005, 'buttonState 0x40', mouse.put_mouse_event, 1, 1, 0, 0, 0x40)
    refused(0x80BB0006, 'no horizontal wheel', mouse.put_mouse_event, 1, 1, 0, 1, 0)
print('api: keyboard and mouse events sent')
PY
        pass "the API: $(tail -1 "$tmp/py.out")"
        grep '^refused' "$tmp/py.out" | sed 's/^/     /'
    else
        fail "the API through Python: $(tail -5 "$tmp/py.out")"
    fi
    check_bytes k "1e 9e 30 1e 9e 1d 38 e0 53 e0 d3 b8 9d aa b6 9d e0 9d b8 e0 b8 e0 db e0 dc" \
        "putScancodes, putScancode, putString, putCAD, releaseKeys"
    # PS/2 packets: buttons | bit 3 | sign bits, dx, dy (up is positive)
    check_bytes m "09 05 03 08 00 00 3e fe fc" "putMouseEvent (5,-3 left), (0,0 none), (-2,4 right+middle)"
else
    fail "no Python binding in $B/python: IKeyboard and IMouse through the API cannot be checked (scons builds it)"
fi
expect 1 "the machine has no display" controlvm echo setvideomodehint 800 600 32
ok controlvm echo poweroff
wait_state echo poweroff

# --- setvideomodehint on a machine with a VGA ------------------------------------------
if [ -f /usr/share/seabios/bios-256k.bin ]; then
    ok createvm --name pc --register
    ok modifyvm pc --firmware bios --engine rem
    ok startvm pc --type headless
    wait_state pc running
    expect 1 "video mode hints are not supported: .*guest additions or an EDID" \
        controlvm pc setvideomodehint 1024 768 32
    # The absolute pointer: with a tablet (the BIOS machine's virtio one,
    # where it exists) events are taken, positions past the screen at its
    # edge; without, the reason. invalidateAndUpdate on a real screen.
    if [ -d "$B/python/capsule" ]; then
        if PYTHONPATH=$B/python $PY_RUN python3 - >"$tmp/py2.out" 2>&1 <<'PY'; then
import capsule
from capsule import LockType, MouseButtonState as MB
c = capsule.connect()
with capsule.session(c.find_machine('pc'), LockType.Shared) as s:
    mouse = s.console.mouse
    assert mouse.relative_supported
    if mouse.absolute_supported:
        mouse.put_mouse_event_absolute(1, 1, 0, 0, 0)
        mouse.put_mouse_event_absolute(100000, -5, 1, 0, MB.LeftButton)
        print('tablet: absolute events taken')
    else:
        try:
            mouse.put_mouse_event_absolute(1, 1, 0, 0, 0)
            raise SystemExit('no error without a tablet')
        except capsule.Error as e:
            assert e.code & 0xffffffff == 0x80BB0006 and 'no tablet' in str(e), str(e)
            print('no tablet: refused:', e)
    s.console.display.invalidate_and_update()
PY
            pass "the absolute pointer on a BIOS machine: $(tail -1 "$tmp/py2.out")"
        else
            fail "the absolute pointer on a BIOS machine: $(tail -5 "$tmp/py2.out")"
        fi
    fi
    ok controlvm pc poweroff
    wait_state pc poweroff
else
    fail "no SeaBIOS (/usr/share/seabios/bios-256k.bin): install Debian's seabios package (tools/setup.sh does)"
fi
finish
