#!/bin/bash
# tests/integration/console/console_vm.sh - `capsule console` against a real
# managed VM: the guest kit's Debian kernel + busybox (tools/guestkit) under
# --engine rem, serial port 1 in server mode, started headless through the
# service (own CAPSULE_HOME). Checks, end to end:
#   - a console attached right after startvm (before the guest writes
#     anything) receives the whole boot: the banner and the shell's prompt;
#   - what it sends is the guest's input (uname -r prints the kit's release);
#   - Ctrl-] q detaches with exit 0 and the VM keeps running;
#   - a second console attached later talks to the same shell;
#   - poweroff ends the VM and removes the socket.
# Input goes through a FIFO, written only once the prompt is seen. Like
# linux_rem.sh, a host where the kit cannot be fetched FAILS; a host without
# Debian's tools skips. About 35 s here; CONSOLE_VM_TIMEOUT (default 120)
# bounds the wait for the prompt; every limit is multiplied by
# CAPSULE_TIMEOUT_SCALE (set by scons: 6 under asan=1). Every capsule-svc and capsule-vm started
# here is killed at the end.
set -u
NAME=console_vm
NEED="${CAPSULE_BUILD:-}/bin/capsule-vm"
. "$(cd "$(dirname "$0")/../../lib" && pwd)/cli.sh"
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
LIMIT=$((${CONSOLE_VM_TIMEOUT:-120} * S))
. "$TOP/tests/lib/skip.sh"
. "$TOP/tests/lib/guestkit.sh"
mkdir -p "$CAPSULE_HOME"
export CAPSULE_SVC_IDLE_TIMEOUT=60000
on_exit() {
    exec 8>&- 2>/dev/null
    [ -n "${cpid:-}" ] && kill "$cpid" 2>/dev/null
}

guestkit_load console-vm "$tmp"
case $? in 2) exit 0 ;; 1) exit 1 ;; esac
vmlinux=$kit_vmlinux initrd=$kit_initrd cmdline=$kit_cmdline release=$kit_release
sock=$CAPSULE_HOME/demo.sock

# wait_for FILE TEXT SECONDS: until FILE holds TEXT (fixed string).
wait_for() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -qF -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

start=$(date +%s)
"$CAP" createvm --name demo --ostype Linux_64 --register >/dev/null &&
    "$CAP" modifyvm demo --engine rem --memory 256 --kernel "$vmlinux" --initrd "$initrd" \
        --cmdline "$cmdline" --uart1 0x3f8 4 --uartmode1 server "$sock" &&
    "$CAP" startvm demo --type headless >/dev/null || { echo "FAIL: could not start the VM"; exit 1; }

# ---- the first console, attached at once ------------------------------------
mkfifo "$tmp/in"
"$CAP" console demo <"$tmp/in" >"$tmp/out1" 2>"$tmp/err1" &
cpid=$!
exec 8>"$tmp/in"
if ! wait_for "$tmp/out1" "capsule:~# " "$LIMIT"; then
    fail "no shell prompt on the console within ${LIMIT}s; it got:$(tail -5 "$tmp/out1" | sed 's/^/\n  /')"
else
    grep -qF "Capsule demo guest: Linux $release x86_64" "$tmp/out1" ||
        fail "the early console missed the banner"
    printf 'uname -r\n' >&8
    wait_for "$tmp/out1" "$(printf '\n%s\r' "$release")" $((20 * S)) || fail "no 'uname -r' output on the console"
fi
printf '\035q' >&8
exec 8>&-
wait "$cpid"
rc=$?
cpid=
[ $rc -eq 0 ] || fail "console after Ctrl-] q: exit $rc: $(cat "$tmp/err1")"
grep -q '^Detached from VM "demo"' "$tmp/err1" || fail "no detach message: $(cat "$tmp/err1")"
state=$("$CAP" showvminfo demo --machinereadable | sed -n 's/^VMState="\(.*\)"/\1/p')
[ "$state" = running ] || fail "the VM is $state after the detach, want running"

# ---- a second console, later ------------------------------------------------
# (its input ends once the answer is there, or after 10 s, scaled)
(printf 'echo hi-$((6*7))\n'
 for _ in $(seq $((100 * S))); do grep -q '^hi-42' "$tmp/out2" 2>/dev/null && break; sleep 0.1; done) |
    timeout $((20 * S)) "$CAP" console demo >"$tmp/out2" 2>"$tmp/err2"
rc=$?
[ $rc -eq 0 ] || fail "second console: exit $rc: $(cat "$tmp/err2")"
grep -q '^hi-42' "$tmp/out2" || fail "second console: no 'hi-42' in: $(cat -v "$tmp/out2")"

# ---- power-off ----------------------------------------------------------------
"$CAP" controlvm demo poweroff >/dev/null && "$CAP" waitfor demo --state poweroff --timeout $((15 * S)) >/dev/null ||
    fail "the VM did not power off"
for _ in $(seq $((50 * S))); do [ -e "$sock" ] || break; sleep 0.1; done
[ -e "$sock" ] && fail "the socket $sock is left after power-off"

echo "console_vm: $(($(date +%s) - start)) s"
finish
