#!/bin/bash
# tests/integration/linux_rem.sh - Debian's kernel and the busybox initramfs
# (tools/guestkit) booted under the software CPU: capsule-vm --engine rem
# with the uncompressed vmlinux the kit extracts, a batch command (uname, a
# small awk computation, a line of /proc/cpuinfo) whose output is checked,
# the exit through the debug-exit port written from the guest via /dev/port
# (status 2*rc+1), and a kernel log free of oopses, call traces and panics;
# this boot also runs the kernel's crypto self-tests (a check of rem's
# arithmetic; the kit's default command line skips them).
# A second boot ends with the init's `poweroff -f` alone: the kernel powers
# off through ACPI (the loader's FADT/DSDT \_S5, plugins/devices/acpipm) and
# capsule-vm must exit 0 with the VM powered off, the kernel log free of
# ACPI errors.
# The two boots name their CPU profile, so that both vendors' paths through
# the kernel (its Intel and AMD set-up code, MSRs, TSC calibration) run on
# every host: the first as intel-core, the second as amd-epyc.
#
# The kit is built (or taken from its cache, build/guest or
# $CAPSULE_GUEST_DIR) with guestkit.sh: packages come from Debian's archive,
# so a host where the kit cannot be fetched FAILS this test - it does not
# skip. Only a host without Debian's tools (apt-get, dpkg-deb) skips, loudly.
# Time-bounded: LINUX_REM_TIMEOUT seconds (default 240, times
# CAPSULE_TIMEOUT_SCALE) for each boot; here the first takes about 25 s and
# the second about 15 s.
set -u
B=${CAPSULE_BUILD:?CAPSULE_BUILD must name the build directory}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KIT=$TOP/tools/guestkit/guestkit.sh
VM=$B/bin/capsule-vm
LIMIT=$((${LINUX_REM_TIMEOUT:-240} * ${CAPSULE_TIMEOUT_SCALE:-1}))
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. "$TOP/tests/lib/skip.sh"
. "$TOP/tests/lib/guestkit.sh"
guestkit_load linux-rem "$tmp"
case $? in 2) exit 0 ;; 1) exit 1 ;; esac
vmlinux=$kit_vmlinux initrd=$kit_initrd release=$kit_release

cpuinfo='grep -m1 vendor_id /proc/cpuinfo; grep -m1 "model name" /proc/cpuinfo'
batch="uname -a; awk \"BEGIN { s = 0; for (i = 1; i <= 100; i++) s += i * i; print \\\"squares\\\", s }\"; $cpuinfo"
cmdline=$("$KIT" cmdline --batch "$batch" --debug-exit) || { echo "FAIL: guestkit cmdline"; exit 1; }
# The whole kernel log, so that a warning would show (quiet hides it), and
# the kernel's crypto self-tests on (the kit's default line skips them for
# speed): ~6 s of hashing and ciphers in the guest, checked by the kernel
# itself - a failure prints "alg: ... failed" and a WARNING.
cmdline="${cmdline/quiet/ignore_loglevel}"
cmdline="${cmdline/cryptomgr.notests/}"

start=$(date +%s)
timeout "$LIMIT" "$VM" --engine rem --cpu-profile intel-core --memory 256 --kernel "$vmlinux" \
    --initrd "$initrd" --append "$cmdline" --serial stdio --debug-exit --stats </dev/null \
    >"$tmp/out" 2>&1
rc=$?
secs=$(($(date +%s) - start))
[ $rc -eq 124 ] && fail "no power-off within ${LIMIT}s; last lines:$(tail -5 "$tmp/out" | sed 's/^/\n  /')"
[ $rc -eq 1 ] || [ $rc -eq 124 ] || fail "capsule-vm exited $rc, want 1 (debug-exit of rc 0)"

want_lines=(
    "Capsule demo guest: Linux $release x86_64"
    "=== capsule-batch begin ==="
    "Linux capsule $release "
    "squares 338350"
    "vendor_id	: GenuineIntel"
    "model name	: Intel(R) Core(TM) i7-6700K CPU @ 4.00GHz"
    "=== capsule-batch end rc=0 ==="
    "guest wrote 0x0 to port 0xf4"
)
for want in "${want_lines[@]}"; do
    grep -qF -- "$want" "$tmp/out" || fail "output lacks '$want'"
done
# The kernel's notes on the named CPU models' speculative-execution
# vulnerabilities (RETBleed on Skylake, SRSO on Zen 2) say "WARNING:" too;
# they are about the model, not about the VMM, and are left out.
hwvuln='RETBleed: WARNING|Speculative Return Stack Overflow: WARNING'
if grep -nE 'Oops|Call Trace|Kernel panic|BUG:|WARNING:|unchecked MSR|alg: .*fail' "$tmp/out" |
    grep -vE "$hwvuln" >"$tmp/bad"; then
    fail "kernel log shows trouble:$(head -5 "$tmp/bad" | sed 's/^/\n  /')"
fi

# The ACPI power-off: no debug-exit, the batch's `poweroff -f` ends the VM.
cmdline=$("$KIT" cmdline --batch "echo acpi-off; $cpuinfo") || { echo "FAIL: guestkit cmdline"; exit 1; }
cmdline="${cmdline/quiet/ignore_loglevel}"
timeout "$LIMIT" "$VM" --engine rem --cpu-profile amd-epyc --memory 256 --kernel "$vmlinux" \
    --initrd "$initrd" --append "$cmdline" --serial stdio </dev/null >"$tmp/off" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "poweroff -f: capsule-vm exited $rc, want 0 (ACPI S5); last lines:$(tail -5 "$tmp/off" | sed 's/^/\n  /')"
for want in "acpi-off" "vendor_id	: AuthenticAMD" "model name	: AMD EPYC 7702 64-Core Processor" \
    "ACPI: PM: Preparing to enter system sleep state S5" \
    "guest entered S5 (soft off)" "guest powered off"; do
    grep -qF -- "$want" "$tmp/off" || fail "poweroff -f run lacks '$want'"
done
if grep -nE 'Oops|Call Trace|Kernel panic|BUG:|WARNING:|unchecked MSR|ACPI BIOS|ACPI Error|ACPI Warning|System halted' \
    "$tmp/off" | grep -vE "$hwvuln" >"$tmp/bad"; then
    fail "poweroff -f run: kernel log shows trouble:$(head -5 "$tmp/bad" | sed 's/^/\n  /')"
fi

# Machine checks: the CPU shows MCE and MCA with zero banks (vmm/cpum), so
# neither boot (Intel and AMD profile) logs "mce: Unable to init MCE
# device" or any other mce: complaint.
for run in "$tmp/out" "$tmp/off"; do
    if grep -nE '\] mce: ' "$run" >"$tmp/bad"; then
        fail "the kernel log has machine-check complaints:$(head -3 "$tmp/bad" | sed 's/^/\n  /')"
    fi
done

insns=$(sed -n 's/^rem instructions *\([0-9]*\).*/\1/p' "$tmp/out")
mips=$(sed -n 's/.* \([0-9.]*\) MIPS while in rem/\1/p' "$tmp/out")
echo "linux_rem: boot + batch in ${secs}s, ${insns:-?} guest instructions, ${mips:-?} MIPS"
# The start of the first kernel report in a run's output (an oops begins
# some lines before its "Call Trace"), so a rare failure can be diagnosed
# from the CI log alone.
first_report() {
    local n
    n=$(grep -nE 'BUG:|Oops|unable to handle|general protection|invalid opcode|WARNING:|Call Trace' "$1" |
        grep -vE "$hwvuln" | head -1 | cut -d: -f1)
    [ -n "$n" ] && { echo "--- $2: the first kernel report (from line $n) ---"; sed -n "$((n > 5 ? n - 5 : 1)),$((n + 40))p" "$1"; }
}
if [ $fails -ne 0 ]; then
    first_report "$tmp/out" "boot + batch"
    echo "--- guest output (last 40 lines) ---"
    tail -40 "$tmp/out"
    if [ -s "$tmp/off" ]; then
        first_report "$tmp/off" "poweroff -f run"
        echo "--- poweroff -f run (last 20 lines) ---"
        tail -20 "$tmp/off"
    fi
fi
[ $fails -eq 0 ] && echo "linux_rem: all passed"
exit $((fails > 0))
