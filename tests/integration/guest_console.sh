#!/bin/bash
# tests/integration/guest_console.sh - the guest kit's interactive console
# as a user types at it (issue 11, items 8 and 10): the VM "demo" as
# quickstart makes it (the kit's kernel, initrd and command line, serial
# port 1 in server mode; here --engine rem and capsule.winsize=30x100),
# started headless through the service, typed into with `capsule console`
# fed from a FIFO. One run, two boots:
#   boot 1: the login shell has job control (no "can't access tty"); `stty
#     size` prints the window size from capsule.winsize; the PCI bus is
#     there - no "PCI: Fatal" in the kernel log and the i440FX host bridge
#     in /sys/bus/pci/devices/0000:00:00.0 (8086:1237, class 060000); then
#     `reboot` (no -f): busybox's init stops everything and the kernel
#     resets the machine (capsule-vm's log: the reset);
#   boot 2: the guest comes back (the banner a second time); the shell's
#     `resize` asks the terminal for its size and takes the answer this side
#     gives (33x99, which `stty size` then prints); lines typed on the
#     VM's keyboard with `controlvm keyboardputstring` (issue 13: the i8042,
#     Linux's atkbd and its VT) reach tty1's shell (the kit's inittab
#     starts it at the first Enter there), which prints the second on the
#     serial port; then `poweroff` (no
#     -f): init shuts down, the kernel enters ACPI S5, and the machine is
#     PoweredOff - not Aborted - by the guest's own hand (showvminfo,
#     capsule-vm's log).
# Skips like linux_rem.sh (no Debian tools), fails when the kit cannot be
# built. Time-bounded: GUEST_CONSOLE_TIMEOUT seconds (default 150, times
# CAPSULE_TIMEOUT_SCALE) for the whole run; 35-65 s here. Every capsule-svc
# and capsule-vm started here is killed at the end.
set -u
NAME=guest_console
NEED="${CAPSULE_BUILD:-}/bin/capsule-vm"
. "$(cd "$(dirname "$0")/../lib" && pwd)/cli.sh"
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LIMIT=$((${GUEST_CONSOLE_TIMEOUT:-150} * S))
mkdir -p "$CAPSULE_HOME"
export CAPSULE_SVC_IDLE_TIMEOUT=60000
cpid=
on_exit() {
    exec 3>&- 2>/dev/null
    [ -n "$cpid" ] && kill "$cpid" 2>/dev/null
}

. "$TOP/tests/lib/skip.sh"
. "$TOP/tests/lib/guestkit.sh"
guestkit_load guest-console "$tmp"
case $? in 2) exit 0 ;; 1) exit 1 ;; esac

start=$(date +%s)
"$CAP" createvm --name demo --ostype Linux_64 --register >/dev/null &&
    "$CAP" modifyvm demo --engine rem --memory 256 --kernel "$kit_vmlinux" --initrd "$kit_initrd" \
        --cmdline "$kit_cmdline capsule.winsize=30x100" --uart1 0x3f8 4 \
        --uartmode1 server "$CAPSULE_HOME/demo.sock" &&
    "$CAP" startvm demo --type headless >/dev/null || { echo "FAIL: could not start the VM"; exit 1; }

# The console, attached at once; the FIFO stays open for writing here.
mkfifo "$tmp/in"
out=$tmp/out
"$CAP" console demo <"$tmp/in" >"$out" 2>"$tmp/err" &
cpid=$!
exec 3>"$tmp/in"

# wait_for TEXT N: until TEXT occurs N times on the console; fails when the
# console ends first or the time is up.
wait_for() {
    while [ "$(grep -cF -- "$1" "$out")" -lt "$2" ]; do
        if ! kill -0 "$cpid" 2>/dev/null; then
            fail "the console ended while waiting for '$1' (x$2)"
            return 1
        fi
        if [ $(($(date +%s) - start)) -ge "$LIMIT" ]; then
            fail "no '$1' (x$2) within ${LIMIT}s"
            return 1
        fi
        sleep 0.3
    done
}
# The shell's banner, then a moment for its prompt: what is typed before
# waits in the UART (capsule-vm reads only when the guest has room).
shell_ready() { wait_for "Enter 'help' for a list of built-in commands." "$1" && sleep 1; }
# Markers are computed by the guest's shell, so the tty's echo of the
# typed line never matches them.
type_line() { printf '%s\n' "$1" >&3; }
dev=/sys/bus/pci/devices/0000:00:00.0

run() {
    shell_ready 1 || return
    type_line "stty size; cat $dev/vendor $dev/device $dev/class; echo mark-\$((40+2))"
    wait_for mark-42 1 || return
    type_line reboot
    wait_for "Capsule demo guest: Linux" 2 || return
    shell_ready 2 || return
    # resize asks the terminal where the cursor lands at 999;999: this
    # side answers as a 33x99 terminal would
    type_line "resize; stty size; echo mark-\$((40+3))"
    wait_for "[999;999H" 1 || return
    printf '\033[33;99R' >&3
    wait_for mark-43 1 || return
    # the keyboard types on tty1: Enter starts its shell, which runs the
    # next line (the input waits in tty1 meanwhile)
    "$CAP" controlvm demo keyboardputstring $'\n' &&
        "$CAP" controlvm demo keyboardputstring $'echo "kbd:Hello, World!" >/dev/ttyS0\n' ||
        fail "controlvm keyboardputstring into the kit's shell failed"
    wait_for "kbd:Hello, World!" 1 || return
    type_line poweroff
    "$CAP" waitfor demo --state poweroff --timeout "$LIMIT" >/dev/null ||
        fail "the VM did not power off after 'poweroff'"
}
run
state=$("$CAP" showvminfo demo --machinereadable | sed -n 's/^VMState="\(.*\)"/\1/p')
[ "$state" = poweroff ] || fail "the VM is '$state' at the end, want poweroff"
secs=$(($(date +%s) - start))
exec 3>&-
wait "$cpid"
cpid=

tr -d '\r' <"$out" >"$tmp/log"
vmlog=$(find "$CAPSULE_HOME" -name capsule-vm.log | head -1)
[ -n "$vmlog" ] && cat "$vmlog" >>"$tmp/log" || fail "no capsule-vm.log in $CAPSULE_HOME"
count() { grep -cF -- "$1" "$tmp/log"; }
[ "$(count '30 100')" -ge 1 ] || fail "stty size did not print '30 100' (capsule.winsize)"
grep -q 'rows 33, columns 99$' "$tmp/log" && grep -qx '33 99' "$tmp/log" ||
    fail "resize did not take the terminal's answer (33x99)"
for want in 0x8086 0x1237 0x060000 "Requesting system reboot" "reboot: Restarting system" \
    "em: reset" "Requesting system poweroff" "reboot: Power down" \
    "guest entered S5 (soft off)" "guest powered off"; do
    grep -qF -- "$want" "$tmp/log" || fail "output lacks '$want'"
done
[ "$(count 'Capsule demo guest: Linux')" -eq 2 ] ||
    fail "want the boot banner twice (reboot), saw $(count 'Capsule demo guest: Linux')"
if grep -nE 'PCI: Fatal|job control turned off|stty: standard input|Oops|Call Trace|Kernel panic|BUG:' \
    "$tmp/log" >"$tmp/bad"; then
    fail "the log shows trouble:$(head -5 "$tmp/bad" | sed 's/^/\n  /')"
fi
if [ $fails -ne 0 ]; then
    echo "--- console and capsule-vm.log (last 40 lines) ---"
    tail -40 "$tmp/log" | cat -v
fi
echo "guest_console: two boots, reboot and poweroff in ${secs}s"
finish
