#!/bin/bash
# tests/integration/savestate_linux.sh - the guest kit's Linux (tools/guestkit)
# saved at its shell prompt and restored (issue 17, the VM process's side):
# capsule-vm --engine rem boots the kit with COM1 on stdin/stdout (a FIFO)
# and the PCI VGA (its registers and text-mode VRAM in the saved state),
# a command is answered, the input feed's `save FILE` writes the saved
# state and powers off (status 0); `--restore FILE` brings the same shell
# back without a boot (no kernel banner in its output), answers a new
# command computed by the guest's shell, and `poweroff -f` ends it through
# ACPI (status 0). Where KVM is usable and runs guest kernel code (a
# vmx/svm host) the same under hm, and the hm save restored under rem (the
# kernel goes on on another engine); elsewhere that half is a counted skip. Prints the
# stream's size and the save's time.
# Skips like linux_rem.sh (no Debian tools), fails when the kit cannot be
# built. Time-bounded: SAVESTATE_LINUX_TIMEOUT seconds (default 120, times
# CAPSULE_TIMEOUT_SCALE) for each wait; ~15 s here.
set -u
B=${CAPSULE_BUILD:?CAPSULE_BUILD must name the build directory}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VM=$B/bin/capsule-vm
LIMIT=$((${SAVESTATE_LINUX_TIMEOUT:-120} * ${CAPSULE_TIMEOUT_SCALE:-1}))
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
tmp=$(mktemp -d)
pids=
trap 'exec 3>&- 2>/dev/null; for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT

. "$TOP/tests/lib/skip.sh"
. "$TOP/tests/lib/guestkit.sh"
guestkit_load savestate-linux "$tmp"
case $? in 2) exit 0 ;; 1) exit 1 ;; esac

# wait_for FILE TEXT: until TEXT is in FILE, or the limit passes.
wait_for() {
    local s=$SECONDS
    until grep -qF -- "$2" "$1" 2>/dev/null; do
        if [ $((SECONDS - s)) -ge "$LIMIT" ]; then
            fail "no '$2' in $(basename "$1") within ${LIMIT}s"
            tail -5 "$1" 2>/dev/null | sed 's/^/    /'
            return 1
        fi
        sleep 0.2
    done
}

# run NAME ENGINE ARGS...: capsule-vm in the background, COM1 on the FIFO
# $tmp/NAME.in (held open on fd 3) and $tmp/NAME.out, the log in NAME.err.
run() {
    local name=$1 engine=$2
    shift 2
    rm -f "$tmp/$name.in" && mkfifo "$tmp/$name.in"
    timeout $((LIMIT * 2)) "$VM" --engine "$engine" --memory 256 --kernel "$kit_vmlinux" \
        --initrd "$kit_initrd" --append "$kit_cmdline" --graphics vga "$@" \
        <"$tmp/$name.in" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    vm=$!
    pids="$pids $vm"
    exec 3>"$tmp/$name.in"
}

# ended NAME: waits for the VM of run, expecting status 0.
ended() {
    wait $vm
    local st=$?
    exec 3>&-
    if [ $st != 0 ]; then
        fail "$1: capsule-vm status $st"
        tail -5 "$tmp/$1.err" | sed 's/^/    /'
        return 1
    fi
}

# save NAME ENGINE: boots, answers a command, saves to $tmp/NAME.sav.
save() {
    local name=$1
    rm -f "$tmp/feed" && mkfifo "$tmp/feed"
    run "$name" "$2" --input-feed "$tmp/feed"
    wait_for "$tmp/$name.out" "Enter 'help' for a list of built-in commands." || return 1
    sleep 1
    echo 'echo before$((6*7))' >&3
    wait_for "$tmp/$name.out" before42 || return 1
    sleep 0.5
    echo "save $tmp/$name.sav" >"$tmp/feed"
    ended "$name" || return 1
    local line
    line=$(grep -o 'saved the state to .*;' "$tmp/$name.err")
    [ -n "$line" ] || { fail "$name: no 'saved the state' line"; return 1; }
    echo "ok   $name: booted, answered, ${line#saved the state to $tmp/}"
}

# restore NAME ENGINE SAVED: restores, a new command is answered, poweroff.
restore() {
    local name=$1
    local t0=$SECONDS
    run "$name" "$2" --restore "$tmp/$3.sav"
    wait_for "$tmp/$name.err" "restored the saved state" || return 1
    echo 'echo after$((20+3))' >&3
    wait_for "$tmp/$name.out" after23 || return 1
    if grep -q "Linux version" "$tmp/$name.out" "$tmp/$name.err"; then
        fail "$name: the kernel booted again"
        return 1
    fi
    echo 'poweroff -f' >&3
    ended "$name" || return 1
    grep -q "guest powered off through acpipm0" "$tmp/$name.err" ||
        { fail "$name: no ACPI power-off"; return 1; }
    echo "ok   $name: the shell answered after the restore ($((SECONDS - t0)) s), poweroff"
}

save rem rem && restore rem-restored rem rem
# The hm half boots Linux under hm: only where the CPU runs guest kernel
# code (vmx/svm); a KVM that emulates it (PVM, DESIGN.md) takes minutes.
if need_kvm "savestate-linux (hm)"; then
    if grep -qwE 'vmx|svm' /proc/cpuinfo 2>/dev/null; then
        save hm hm && restore hm-restored hm hm && restore hm-to-rem rem hm
    else
        test_skip "savestate-linux (hm)" "NOT RUN under hm on this host: its KVM emulates guest kernel code (no vmx/svm flag), a Linux boot takes minutes"
    fi
fi

[ $fails = 0 ] && echo "savestate_linux: all passed" || echo "savestate_linux: $fails FAILED"
[ $fails = 0 ]
