#!/bin/sh
# tests/integration/vm/vm_run.sh - the real capsule-vm on /dev/kvm with the
# tiny payloads of this folder (built by nasm into BUILD/tests/vm-payloads):
# serial "hello" + debug-exit status; HLT woken by a PIT interrupt through
# the PIC, and while the guest spins without exits (EM's kick timer);
# --no-device / --device on a default device; triple fault -> "aborted:
# triple fault" and status 3; emulation failure (stmxcsr, LSL in CPL0) ->
# all the instruction bytes; SIGTERM -> clean power-off; bad image / bad
# arguments -> clear errors.
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
    timeout 20 "$VM" "$@" >"$T/out" 2>&1
    got=$?
    if [ "$got" != "$want" ] || ! grep -q -- "$pat" "$T/out"; then
        echo "FAIL $name: status $got (want $want), pattern '$pat'"; sed 's/^/    /' "$T/out"
        fails=$((fails + 1))
    else
        echo "ok   $name"
    fi
}

expect hello 85 '^hello$' -- --kernel "$P/hello.bin" --debug-exit
expect serial-file 85 'guest wrote 0x2a' -- --kernel "$P/hello.bin" --debug-exit --serial "file:$T/com1"
grep -qx hello "$T/com1" && echo "ok   serial-file content" || { echo "FAIL serial-file content"; fails=$((fails + 1)); }
expect pit-hlt 33 '^T$' -- --kernel "$P/pit_hlt.bin" --debug-exit --stats
grep -q 'irqs injected *1 ' "$T/out" || { echo "FAIL pit-hlt: no injected IRQ in --stats"; fails=$((fails + 1)); }
expect pit-spin 33 '^T$' -- --kernel "$P/pit_spin.bin" --debug-exit
expect no-device 33 '^T$' -- --kernel "$P/pit_hlt.bin" --debug-exit --no-device rtc --no-device apic
expect bad-no-device 1 "no-device rtcx: not a default device" -- --kernel "$P/hello.bin" --no-device rtcx
expect device-edits-default 85 '^hello$' -- --kernel "$P/hello.bin" --debug-exit --device rtc,irq=8
expect triple-fault 3 'aborted: triple fault at 0010:' -- --kernel "$P/triple.bin"
# all 15 bytes at CS:EIP (the payload, then zeroed RAM), not just the first
expect emulation-failure 3 'at 0010:0010000b (linear 0x10000b, CPL 0): .*instruction bytes \[0f ae 1d 00 20 00 00 b0 01 e6 f4 f4 00 00 00\]' \
    -- --kernel "$P/emulfail.bin" --debug-exit
expect emulation-failure-lsl 3 'at 0010:00100005 .*instruction bytes \[0f 03 c8 b0 01 e6 f4 f4 00 00 00 00 00 00 00\]' \
    -- --kernel "$P/emulfail_lsl.bin" --debug-exit
expect no-debug-exit-device 3 'triple fault' -- --kernel "$P/triple.bin" --serial none
expect missing-image 1 'capsule-vm: ' -- --kernel "$T/nonexistent.bin"
expect bad-engine 2 "unknown engine 'fast'" -- --kernel "$P/hello.bin" --engine fast
expect rem-engine 1 "'rem' is not available yet" -- --kernel "$P/hello.bin" --engine rem
expect smp 2 'only 1 vCPU' -- --kernel "$P/hello.bin" --cpus 2
expect no-kernel 2 'required' --
expect help 0 'usage: capsule-vm' -- --help
expect unknown-device 1 'rtcx' -- --kernel "$P/hello.bin" --device rtcx

# SIGTERM powers a running guest off cleanly (status 0)
"$VM" --kernel "$P/ioloop.bin" --serial none >"$T/out" 2>&1 &
pid=$!
sleep 0.3
kill -TERM $pid
wait $pid
st=$?
if [ $st = 0 ] && grep -q 'powering the VM off' "$T/out"; then echo "ok   sigterm"
else echo "FAIL sigterm: status $st"; sed 's/^/    /' "$T/out"; fails=$((fails + 1)); fi

[ $fails = 0 ] && echo "vm_run: all passed" || echo "vm_run: $fails FAILED"
[ $fails = 0 ]
