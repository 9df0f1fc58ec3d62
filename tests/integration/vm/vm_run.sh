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
# `auto` measuring the host and saying why it chose; SIGTERM -> clean
# power-off under both engines; bad image / bad arguments -> clear errors.
# Fails loudly without /dev/kvm unless CAPSULE_SKIP_KVM=1 (then SKIPPED).
set -u
B=${CAPSULE_BUILD:?CAPSULE_BUILD must name the build directory}
VM=$B/bin/capsule-vm
P=$B/tests/vm-payloads
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
    if [ -n "${CAPSULE_SKIP_KVM:-}" ]; then
        echo "vm_run: SKIPPED: no usable /dev/kvm (CAPSULE_SKIP_KVM=1)"; exit 0
    fi
    echo "vm_run: FAILED: /dev/kvm is missing or not accessible (CAPSULE_SKIP_KVM=1 skips)"; exit 1
fi

# expect NAME STATUS GREP-PATTERN (in stdout+stderr) -- capsule-vm args...
expect() {
    name=$1 want=$2 pat=$3; shift 4
    timeout $((20 * ${CAPSULE_TIMEOUT_SCALE:-1})) "$VM" "$@" >"$T/out" 2>&1
    got=$?
    if [ "$got" != "$want" ] || ! grep -q -- "$pat" "$T/out"; then
        echo "FAIL $name: status $got (want $want), pattern '$pat'"; sed 's/^/    /' "$T/out"
        fails=$((fails + 1))
    else
        echo "ok   $name"
    fi
}

expect hello 85 '^hello$' -- --kernel "$P/hello.bin" --debug-exit --engine hm
expect serial-file 85 'guest wrote 0x2a' -- --kernel "$P/hello.bin" --debug-exit --engine hm --serial "file:$T/com1"
grep -qx hello "$T/com1" && echo "ok   serial-file content" || { echo "FAIL serial-file content"; fails=$((fails + 1)); }
expect pit-hlt 33 '^T$' -- --kernel "$P/pit_hlt.bin" --debug-exit --engine hm --stats
grep -q 'irqs injected *1 ' "$T/out" || { echo "FAIL pit-hlt: no injected IRQ in --stats"; fails=$((fails + 1)); }
expect pit-spin 33 '^T$' -- --kernel "$P/pit_spin.bin" --debug-exit --engine hm
expect no-device 33 '^T$' -- --kernel "$P/pit_hlt.bin" --debug-exit --engine hm --no-device rtc --no-device apic
expect bad-no-device 4 "no-device rtcx: not a default device" -- --kernel "$P/hello.bin" --no-device rtcx
expect device-edits-default 85 '^hello$' -- --kernel "$P/hello.bin" --debug-exit --engine hm --device rtc,irq=8
expect triple-fault 6 'aborted: triple fault at 0010:' -- --kernel "$P/triple.bin" --engine hm
expect debug-exit-fail 3 'guest wrote 0x1 to port 0xf4' -- --kernel "$P/fail.bin" --debug-exit --engine hm
# hm + rem stepping in: the host cannot emulate these in guest kernel code
# (on a VT-x host hm runs them itself: the payloads pass either way)
expect hm-rem-step-lsl 33 'instructions stepped by rem for hm 1: lsl 1' \
    -- --kernel "$P/emulfail_lsl.bin" --debug-exit --engine hm --stats
expect hm-rem-step-stmxcsr 33 'stepped by rem for hm 1: stmxcsr 1' \
    -- --kernel "$P/emulfail.bin" --debug-exit --engine hm --stats
# an instruction outside the CPUID policy (RDSEED): #UD in the guest under
# both engines (hm: the host cannot emulate it, rem steps it and raises #UD)
expect ud-absent-hm 33 'exit code 33' -- --kernel "$P/ud_absent.bin" --debug-exit --engine hm
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
grep -q 'rem blocks *[1-9][0-9]* *built, [0-9]* cache flushes; JIT: [0-9]* translated, [0-9]* exits chained' "$T/out" || { echo "FAIL rem-pit-spin: no rem block-cache line in --stats"; fails=$((fails + 1)); }
expect rem-lsl 33 'engine rem' -- --kernel "$P/emulfail_lsl.bin" --debug-exit --engine rem
expect rem-triple-fault 6 'aborted: triple fault at 0010:' -- --kernel "$P/triple.bin" --engine rem
# the guest's verdict (odd: (V<<1)|1) is never one of capsule-vm's own statuses (even)
expect rem-debug-exit-fail 3 'guest wrote 0x1 to port 0xf4' -- --kernel "$P/fail.bin" --debug-exit --engine rem
# auto measures hm and rem on a CPL0 loop and logs the numbers and the reason
expect auto-probe 85 'auto probe: hm usable, [0-9.]* ns/insn under hm, [0-9.]* ns/insn under rem' \
    -- --kernel "$P/hello.bin" --debug-exit --engine auto
grep -q 'engine \(hm\|rem\) (asked: auto): measured guest kernel code at' "$T/out" ||
    { echo "FAIL auto-probe: no measured reason"; fails=$((fails + 1)); }
if ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
    grep -q 'engine rem (asked: auto)' "$T/out" && echo "ok   auto picks rem where the host emulates guest kernel code" ||
        { echo "FAIL auto-probe: rem not chosen on a host without VT-x/AMD-V"; fails=$((fails + 1)); }
fi
sed -n 's/.*\(auto probe: .*\)/    \1/p' "$T/out"
expect no-debug-exit-device 6 'triple fault' -- --kernel "$P/triple.bin" --serial none
expect missing-image 4 'capsule-vm: ' -- --kernel "$T/nonexistent.bin"
expect bad-engine 2 "unknown engine 'fast'" -- --kernel "$P/hello.bin" --engine fast
expect raw-engine 4 "'raw' is not available yet" -- --kernel "$P/hello.bin" --engine raw
expect smp 2 'only 1 vCPU' -- --kernel "$P/hello.bin" --cpus 2
expect no-kernel 2 'required' --
expect help 0 'usage: capsule-vm' -- --help
expect unknown-device 4 'rtcx' -- --kernel "$P/hello.bin" --device rtcx

# SIGTERM powers a running guest off cleanly (status 0), under both engines
for engine in hm rem; do
    "$VM" --kernel "$P/ioloop.bin" --serial none --engine $engine >"$T/out" 2>&1 &
    pid=$!
    sleep 0.3
    kill -TERM $pid
    wait $pid
    st=$?
    if [ $st = 0 ] && grep -q 'powering the VM off' "$T/out"; then echo "ok   sigterm-$engine"
    else echo "FAIL sigterm-$engine: status $st"; sed 's/^/    /' "$T/out"; fails=$((fails + 1)); fi
done

[ $fails = 0 ] && echo "vm_run: all passed" || echo "vm_run: $fails FAILED"
[ $fails = 0 ]
