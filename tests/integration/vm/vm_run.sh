#!/bin/sh
# tests/integration/vm/vm_run.sh - the real capsule-vm with the tiny
# payloads of this folder (built by nasm into BUILD/tests/vm-payloads), on
# /dev/kvm (engine hm) and on the software CPU (engine rem): serial "hello"
# + debug-exit status; HLT woken by a PIT interrupt through the PIC, and
# while the guest spins without exits (EM's kick timer); --no-device /
# --device on a default device; triple fault -> "aborted: triple fault" and
# status 6 (capsule-vm's own statuses are even: 2 usage, 4 setup failure,
# 6 aborted), a guest's debug-exit failure (V=1) -> 3, never mistaken for
# an abort; instructions the host cannot emulate (LSL, stmxcsr in CPL0)
# stepped by rem under hm, the guest going on to report success; one outside
# the CPUID policy (RDSEED) -> #UD in the guest under both engines; one rem
# does not implement (a 16-bit TSS task switch) -> all the instruction bytes;
# `auto` measuring the host and saying why it chose; the HPET (its
# capabilities, its counter advancing only once enabled, a one-shot timer's
# IRQ0 in legacy replacement mode) and --no-device hpet leaving it out; SIGTERM -> clean
# power-off under both engines; bad image / bad arguments -> clear errors.
# Without a usable /dev/kvm the hm half is skipped and counted
# (tests/lib/skip.sh: "SKIP: vm-run (hm half): ..."); the rem half, the
# device and argument checks (under rem then) and auto's fallback to rem
# still run. CAPSULE_REQUIRE_KVM=1 makes a missing /dev/kvm a failure.
set -u
B=${CAPSULE_BUILD:?CAPSULE_BUILD must name the build directory}
. "$(cd "$(dirname "$0")/../../lib" && pwd)/skip.sh"
VM=$B/bin/capsule-vm
P=$B/tests/vm-payloads
S=${CAPSULE_TIMEOUT_SCALE:-1}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0

# hm=1: the hm half runs. E: the engine of the checks about devices and
# exits rather than an engine (hm where there is KVM, else rem).
if need_kvm "vm-run (hm half)"; then hm=1 E=hm; else hm=0 E=rem; fi
# hm_only CMD...: runs CMD only in the hm half.
hm_only() { [ $hm = 0 ] || "$@"; }
# Whether this host's KVM emulates guest kernel code (no VT-x/AMD-V flag:
# KVM's PVM backend, DESIGN.md); the checks of its emulator's limits hold
# only there. On a VT-x/AMD-V host the CPU runs LSL and stmxcsr itself
# (the payloads pass, nothing is stepped) and runs or refuses RDSEED as its
# CPUID says.
if grep -qwE 'vmx|svm' /proc/cpuinfo 2>/dev/null; then
    host_limited=0 lsl_pat='engine hm' mxcsr_pat='engine hm'
else
    host_limited=1 lsl_pat='instructions stepped by rem for hm 1: lsl 1'
    mxcsr_pat='stepped by rem for hm 1: stmxcsr 1'
fi
# limited_hm_only CMD...: runs CMD in the hm half on such a host only, and
# says so (a counted skip) on another.
limited_hm_only() {
    if [ $host_limited = 1 ]; then hm_only "$@"
    else hm_only test_skip "vm-run $2" "needs a KVM that emulates guest kernel code (this host has VT-x/AMD-V)"; fi
}

# expect NAME STATUS GREP-PATTERN (in stdout+stderr) -- capsule-vm args...
expect() {
    name=$1 want=$2 pat=$3; shift 4
    timeout $((20 * S)) "$VM" "$@" >"$T/out" 2>&1
    got=$?
    if [ "$got" != "$want" ] || ! grep -q -- "$pat" "$T/out"; then
        echo "FAIL $name: status $got (want $want), pattern '$pat'"; sed 's/^/    /' "$T/out"
        fails=$((fails + 1))
    else
        echo "ok   $name"
    fi
}

hm_only expect hello 85 '^hello$' -- --kernel "$P/hello.bin" --debug-exit --engine hm
expect serial-file 85 'guest wrote 0x2a' -- --kernel "$P/hello.bin" --debug-exit --engine $E --serial "file:$T/com1"
grep -qx hello "$T/com1" && echo "ok   serial-file content" || { echo "FAIL serial-file content"; fails=$((fails + 1)); }
expect pit-hlt 33 '^T$' -- --kernel "$P/pit_hlt.bin" --debug-exit --engine $E --stats
grep -q 'irqs injected *1 ' "$T/out" || { echo "FAIL pit-hlt: no injected IRQ in --stats"; fails=$((fails + 1)); }
hm_only expect pit-spin 33 '^T$' -- --kernel "$P/pit_spin.bin" --debug-exit --engine hm
expect no-device 33 '^T$' -- --kernel "$P/pit_hlt.bin" --debug-exit --engine $E --no-device rtc --no-device apic
expect bad-no-device 4 "no-device rtcx: not a default device" -- --kernel "$P/hello.bin" --no-device rtcx
expect device-edits-default 85 '^hello$' -- --kernel "$P/hello.bin" --debug-exit --engine $E --device rtc,irq=8
# --device's values are typed by their form; the device names a mismatch
expect device-typed-mismatch 4 "rtc0: config key 'irq': expected an integer, got the string 'eight'" -- --kernel "$P/hello.bin" --device rtc,irq=eight
expect device-typed-string 85 '^hello$' -- --kernel "$P/hello.bin" --debug-exit --engine $E --device rtc,base_time=string:0
hm_only expect triple-fault 6 'aborted: triple fault at 0010:' -- --kernel "$P/triple.bin" --engine hm
expect debug-exit-fail 3 'guest wrote 0x1 to port 0xf4' -- --kernel "$P/fail.bin" --debug-exit --engine $E
# hm + rem stepping in: the host cannot emulate these in guest kernel code
# (on a VT-x host hm runs them itself: the payloads pass either way)
hm_only expect hm-rem-step-lsl 33 "$lsl_pat" \
    -- --kernel "$P/emulfail_lsl.bin" --debug-exit --engine hm --stats
hm_only expect hm-rem-step-stmxcsr 33 "$mxcsr_pat" \
    -- --kernel "$P/emulfail.bin" --debug-exit --engine hm --stats
# an instruction outside the CPUID policy (RDSEED): #UD in the guest under
# both engines (hm: the host cannot emulate it, rem steps it and raises #UD)
limited_hm_only expect ud-absent-hm 33 'exit code 33' -- --kernel "$P/ud_absent.bin" --debug-exit --engine hm
expect ud-absent-rem 33 'exit code 33' -- --kernel "$P/ud_absent.bin" --debug-exit --engine rem
# what rem does not implement (a 16-bit TSS task switch) stops the VM naming
# all 15 bytes at CS:EIP; under hm the host performs task switches itself
expect emulation-failure-rem 6 'at 0010:00100007 (linear 0x100007, CPL 0): the instruction bytes \[ea 00 00 00 00 18 00 f4 90 00 00 00 00 00 00\] are not implemented in rem$' \
    -- --kernel "$P/emulfail_unimpl.bin" --debug-exit --engine rem

# engine rem: the same payloads on the software CPU, same devices, same exits
expect rem-hello 85 '^hello$' -- --kernel "$P/hello.bin" --debug-exit --engine rem
expect rem-pit-hlt 33 '^T$' -- --kernel "$P/pit_hlt.bin" --debug-exit --engine rem --stats
grep -q 'irqs injected *1 ' "$T/out" || { echo "FAIL rem-pit-hlt: no injected IRQ in --stats"; fails=$((fails + 1)); }
grep -q 'halts *[1-9]' "$T/out" || { echo "FAIL rem-pit-hlt: no HLT wait in --stats"; fails=$((fails + 1)); }
expect rem-pit-spin 33 '^T$' -- --kernel "$P/pit_spin.bin" --debug-exit --engine rem --stats
grep -q 'rem instructions *[1-9][0-9]* *[0-9.]* MIPS while in rem' "$T/out" || { echo "FAIL rem-pit-spin: no rem instruction count in --stats"; fails=$((fails + 1)); }
grep -q '^/REM/Blocks/Built [1-9][0-9]* count$' "$T/out" && grep -q '^/REM/JIT/BlocksTranslated [0-9]* count$' "$T/out" || { echo "FAIL rem-pit-spin: no rem block-cache statistics in --stats"; fails=$((fails + 1)); }
expect rem-lsl 33 'engine rem' -- --kernel "$P/emulfail_lsl.bin" --debug-exit --engine rem
expect rem-triple-fault 6 'aborted: triple fault at 0010:' -- --kernel "$P/triple.bin" --engine rem
# the guest's verdict (odd: (V<<1)|1) is never one of capsule-vm's own statuses (even)
expect rem-debug-exit-fail 3 'guest wrote 0x1 to port 0xf4' -- --kernel "$P/fail.bin" --debug-exit --engine rem
# the HPET: counter and a timer interrupt under both engines; without it the
# payload finds no capabilities register (its verdict 1)
hm_only expect hpet 33 '^hpet irq0$' -- --kernel "$P/hpet.bin" --debug-exit --engine hm --serial stdio
expect rem-hpet 33 '^hpet irq0$' -- --kernel "$P/hpet.bin" --debug-exit --engine rem --serial stdio
grep -q '^hpet counter advanced$' "$T/out" || { echo "FAIL rem-hpet: no 'hpet counter advanced'"; fails=$((fails + 1)); }
expect no-device-hpet 3 'guest wrote 0x1 to port 0xf4' -- --kernel "$P/hpet.bin" --debug-exit --engine rem --no-device hpet
# auto measures hm and rem on a CPL0 loop and logs the numbers and the
# reason; without KVM it says hm is not usable and takes rem
if [ $hm = 0 ]; then
    expect auto-without-kvm 85 'engine rem (asked: auto): hm is not usable here' \
        -- --kernel "$P/hello.bin" --debug-exit --engine auto
    grep -q 'auto probe: hm not usable' "$T/out" ||
        { echo "FAIL auto-without-kvm: no probe line"; fails=$((fails + 1)); }
else
    expect auto-probe 85 'auto probe: hm usable, [0-9.]* ns/insn under hm, [0-9.]* ns/insn under rem' \
        -- --kernel "$P/hello.bin" --debug-exit --engine auto
    grep -q 'engine \(hm\|rem\) (asked: auto): measured guest kernel code at' "$T/out" ||
        { echo "FAIL auto-probe: no measured reason"; fails=$((fails + 1)); }
fi
if [ $hm = 1 ] && [ $host_limited = 1 ]; then
    grep -q 'engine rem (asked: auto)' "$T/out" && echo "ok   auto picks rem where the host emulates guest kernel code" ||
        { echo "FAIL auto-probe: rem not chosen on a host without VT-x/AMD-V"; fails=$((fails + 1)); }
fi
sed -n 's/.*\(auto probe: .*\)/    \1/p' "$T/out"
expect no-debug-exit-device 6 'triple fault' -- --kernel "$P/triple.bin" --serial none
expect missing-image 4 'capsule-vm: ' -- --kernel "$T/nonexistent.bin"
# a FIFO as a boot file or serial file is refused at once, never waited on
# (issue 19 item 6): through fw_cfg, through the loader, as the initrd, as
# the serial output with no reader
mkfifo "$T/fifo"
expect_fast() {
    name=$1 want=$2 pat=$3; shift 4
    timeout $((3 * S)) "$VM" "$@" >"$T/out" 2>&1
    got=$?
    if [ "$got" != "$want" ] || ! grep -q -- "$pat" "$T/out"; then
        echo "FAIL $name: status $got (want $want within $((3 * S)) s), pattern '$pat'"
        sed 's/^/    /' "$T/out"; fails=$((fails + 1))
    else
        echo "ok   $name"
    fi
}
expect_fast fifo-kernel-fwcfg 4 "'$T/fifo' is not a regular file (a FIFO)" -- --kernel "$T/fifo" --engine rem
expect_fast fifo-kernel-loader 4 "'$T/fifo': not a regular file (a FIFO)" -- --kernel "$T/fifo" --engine rem --no-device fwcfg
expect_fast fifo-initrd 4 "'$T/fifo': not a regular file (a FIFO)" -- --kernel "$P/hello.bin" --initrd "$T/fifo" --engine rem --no-device fwcfg
expect_fast fifo-initrd-fwcfg 4 "'$T/fifo' is not a regular file (a FIFO)" -- --kernel "$P/hello.bin" --initrd "$T/fifo" --engine rem
expect_fast fifo-serial 4 "a FIFO with no reader" -- --kernel "$P/hello.bin" --debug-exit --engine rem --serial "file:$T/fifo"
expect bad-engine 2 "unknown engine 'fast'" -- --kernel "$P/hello.bin" --engine fast
# raw: where the host has no native context, a clear error at the start
CAPSULE_KVM_DEVICE=/nonexistent/kvm
export CAPSULE_KVM_DEVICE
expect raw-no-kvm 4 "raw: no native context on this host" -- --kernel "$P/hello.bin" --engine raw
unset CAPSULE_KVM_DEVICE
hm_only expect raw-hello 85 '^hello$' -- --kernel "$P/hello.bin" --debug-exit --engine raw
expect smp 2 '1 vCPU per machine until SMP' -- --kernel "$P/hello.bin" --cpus 2
expect no-kernel 2 'required' --
expect help 0 'usage: capsule-vm' -- --help
expect unknown-device 4 'rtcx' -- --kernel "$P/hello.bin" --device rtcx

# SIGTERM powers a running guest off cleanly (status 0), under both engines
# (rem alone without KVM), sent once the guest runs (its OUTs to port 0x80
# are logged) however long the start takes
for engine in $([ $hm = 1 ] && echo hm) rem; do
    # emptied here, not only by the child's redirection: the wait below
    # must not find the previous engine's POST codes before the child runs
    : >"$T/out"
    "$VM" --kernel "$P/ioloop.bin" --serial none --engine $engine >"$T/out" 2>&1 &
    pid=$!
    i=0
    while [ $i -lt $((200 * S)) ] && ! grep -q 'POST code' "$T/out"; do
        sleep 0.05
        i=$((i + 1))
    done
    kill -TERM $pid
    wait $pid
    st=$?
    if [ $st = 0 ] && grep -q 'powering the VM off' "$T/out"; then echo "ok   sigterm-$engine"
    else echo "FAIL sigterm-$engine: status $st"; sed 's/^/    /' "$T/out"; fails=$((fails + 1)); fi
done

[ $fails = 0 ] && echo "vm_run: all passed" || echo "vm_run: $fails FAILED"
[ $fails = 0 ]
