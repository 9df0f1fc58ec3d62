#!/bin/bash
# tests/integration/guest_console.sh - the guest kit's interactive console
# as a user types at it (issue 11, items 8 and 10), in one capsule-vm run
# under --engine rem, typed into through a FIFO on the serial port:
#   boot 1: the login shell has job control (no "can't access tty"); `stty
#     size` prints the window size from capsule.winsize=30x100; the PCI bus
#     is there - no "PCI: Fatal" in the kernel log and the i440FX host
#     bridge in /sys/bus/pci/devices/0000:00:00.0 (8086:1237, class
#     060000); then `reboot` (no -f): busybox's init stops everything and
#     the kernel resets the machine;
#   boot 2: the guest comes back (banner twice, capsule-vm's EM logs the
#     reset), `stty size` again, then `poweroff` (no -f): init shuts down,
#     the kernel enters ACPI S5 and capsule-vm exits 0 - powered off, not
#     aborted.
# Skips like linux_rem.sh (no Debian tools), fails when the kit cannot be
# built. Time-bounded: GUEST_CONSOLE_TIMEOUT seconds (default 240, times
# CAPSULE_TIMEOUT_SCALE) for the whole run; 45-65 s here (two boots).
set -u
B=${CAPSULE_BUILD:?CAPSULE_BUILD must name the build directory}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VM=$B/bin/capsule-vm
LIMIT=$((${GUEST_CONSOLE_TIMEOUT:-240} * ${CAPSULE_TIMEOUT_SCALE:-1}))
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
tmp=$(mktemp -d)
vm=
cleanup() {
    [ -n "$vm" ] && kill "$vm" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

. "$TOP/tests/lib/skip.sh"
. "$TOP/tests/lib/guestkit.sh"
guestkit_load guest-console "$tmp"
case $? in 2) exit 0 ;; 1) exit 1 ;; esac
vmlinux=$kit_vmlinux initrd=$kit_initrd cmdline=$kit_cmdline

# The FIFO is held open for writing here, so the VM never sees end of input.
mkfifo "$tmp/in"
exec 3<>"$tmp/in"
out=$tmp/out
start=$(date +%s)
"$VM" --engine rem --memory 256 --kernel "$vmlinux" --initrd "$initrd" \
    --append "$cmdline capsule.winsize=30x100" --serial stdio <"$tmp/in" >"$out" 2>&1 &
vm=$!

# wait_for TEXT N: until TEXT occurs N times in the output; fails (and
# stops the test) when the VM exits first or the time is up.
wait_for() {
    while [ "$(grep -cF -- "$1" "$out")" -lt "$2" ]; do
        if ! kill -0 "$vm" 2>/dev/null; then
            fail "the VM ended while waiting for '$1' (x$2)"
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
    type_line "stty size; echo mark-\$((40+3))"
    wait_for mark-43 1 || return
    type_line poweroff
    local i
    for i in $(seq 1 $((LIMIT * 2))); do
        kill -0 "$vm" 2>/dev/null || break
        [ $(($(date +%s) - start)) -ge "$LIMIT" ] && break
        sleep 0.5
    done
}
run
if kill -0 "$vm" 2>/dev/null; then
    fail "the VM still runs after 'poweroff'"
    kill "$vm"
fi
wait "$vm"
rc=$?
vm=
secs=$(($(date +%s) - start))
[ $rc -eq 0 ] || fail "capsule-vm exited $rc, want 0 (the guest powered off)"

tr -d '\r' <"$out" >"$tmp/log"
count() { grep -cF -- "$1" "$tmp/log"; }
[ "$(count '30 100')" -ge 2 ] || fail "stty size did not print '30 100' in both boots"
for want in 0x8086 0x1237 0x060000 "Requesting system reboot" "reboot: Restarting system" \
    "capsule-vm: em: reset" "Requesting system poweroff" "reboot: Power down" \
    "guest entered S5 (soft off)" "guest powered off"; do
    grep -qF -- "$want" "$tmp/log" || fail "output lacks '$want'"
done
[ "$(count 'Capsule demo guest: Linux')" -eq 2 ] || fail "want the boot banner twice (reboot), saw $(count 'Capsule demo guest: Linux')"
if grep -nE 'PCI: Fatal|job control turned off|stty: standard input|Oops|Call Trace|Kernel panic|BUG:' \
    "$tmp/log" >"$tmp/bad"; then
    fail "the log shows trouble:$(head -5 "$tmp/bad" | sed 's/^/\n  /')"
fi
if [ $fails -ne 0 ]; then
    echo "--- output (last 40 lines) ---"
    tail -40 "$tmp/log" | cat -v
fi
echo "guest_console: two boots, reboot and poweroff in ${secs}s"
[ $fails -eq 0 ] && echo "guest_console: all passed"
exit $((fails > 0))
