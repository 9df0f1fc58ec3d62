#!/bin/bash
# tests/integration/linux_raw.sh - the guest kit's Linux (tools/guestkit)
# booted under --engine raw: its 64-bit user code (init, busybox) runs
# natively in KVM, the kernel in rem. A batch command computes with awk
# (the result is checked), the guest powers off through the debug-exit port
# (status 2*rc+1), the kernel log is free of oopses and panics, and
# --stats shows raw at work: syscalls, page faults and flushes counted.
# The AMD profile: a Linux guest on an Intel profile turns on page-table
# isolation, whose CR3 write at every kernel exit costs raw a flush each
# (vmm/raw/README.md). Needs KVM (a counted skip without, tests/lib/skip.sh)
# and the guest kit (fails when it cannot be fetched). In `scons check`
# (~10-15 s of CPU); check.sh's ASan pass leaves it out.
set -u
B=${CAPSULE_BUILD:?CAPSULE_BUILD must name the build directory}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KIT=$TOP/tools/guestkit/guestkit.sh
VM=$B/bin/capsule-vm
LIMIT=$((${LINUX_RAW_TIMEOUT:-240} * ${CAPSULE_TIMEOUT_SCALE:-1}))
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. "$TOP/tests/lib/skip.sh"
need_kvm linux-raw || exit 0
. "$TOP/tests/lib/guestkit.sh"
guestkit_load linux-raw "$tmp"
case $? in 2) exit 0 ;; 1) exit 1 ;; esac

batch='uname -r; time awk "BEGIN { s = 0; for (i = 1; i <= 1000000; i++) s += i % 7; print \"sum\", s }"'
cmdline=$("$KIT" cmdline --batch "$batch" --debug-exit) || { echo "FAIL: guestkit cmdline"; exit 1; }
start=$(date +%s)
timeout "$LIMIT" "$VM" --engine raw --cpu-profile amd-epyc --memory 256 --kernel "$kit_vmlinux" \
    --initrd "$kit_initrd" --append "$cmdline" --serial stdio --debug-exit --stats </dev/null \
    >"$tmp/out" 2>&1
rc=$?
secs=$(($(date +%s) - start))
[ $rc -eq 124 ] && fail "no power-off within ${LIMIT}s; last lines:$(tail -5 "$tmp/out" | sed 's/^/\n  /')"
[ $rc -eq 1 ] || [ $rc -eq 124 ] || fail "capsule-vm exited $rc, want 1 (debug-exit of rc 0)$(grep -a 'aborted' "$tmp/out" | head -2 | sed 's/^/\n  /')"
for want in "raw: the native user context passed its probe" "$kit_release" "sum 2999998" \
    "=== capsule-batch end rc=0 ==="; do
    grep -aqF -- "$want" "$tmp/out" || fail "output lacks '$want'"
done
if grep -anE 'Oops|Call Trace|Kernel panic|BUG:|WARNING:' "$tmp/out" |
    grep -vE 'RETBleed: WARNING|Speculative Return Stack Overflow: WARNING' >"$tmp/bad"; then
    fail "kernel log shows trouble:$(head -5 "$tmp/bad" | sed 's/^/\n  /')"
fi
stat() { grep -a "^$1 " "$tmp/out" | awk '{print $2}'; }
for c in /RAW/Exits/Syscall /RAW/Exits/Faults/PF /RAW/Flushes; do
    [ "$(stat $c)" -gt 0 ] 2>/dev/null || fail "$c is '$(stat $c)', want > 0"
done
echo "linux-raw: ${secs}s; raw $(($(stat /RAW/RawNs) / 1000000)) ms, rem $(($(stat /RAW/RemNs) / 1000000)) ms," \
    "flushes $(stat /RAW/Flushes) ($(($(stat /RAW/FlushNs) / 1000000)) ms), syscalls $(stat /RAW/Exits/Syscall)," \
    "#PF $(stat /RAW/Exits/Faults/PF), kicks $(stat /RAW/Exits/Kick); awk:" \
    "$(grep -a '^real' "$tmp/out" | head -1)"
[ $fails -eq 0 ] && echo "linux-raw: all passed" || { echo "linux-raw: $fails failed"; exit 1; }
