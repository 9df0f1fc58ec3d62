#!/bin/sh
# tests/guests/run.sh - runs the guest payloads (BUILD/guests/*.elf) and
# checks each one: the VM's exit status must be 33 (the payload wrote 0x10
# to the debug-exit port) and its serial transcript must end with
# "PASS <name>". Prints one line per payload with its time and a summary
# (passed / failed / not run); exits non-zero if any failed.
#
#   run.sh [--vmm capsule|qemu] [--accel kvm|tcg] [--timeout S] [--keep] [NAME...]
#
# --vmm capsule (default): BUILD/bin/capsule-vm --kernel X --serial file:T
#   --debug-exit --memory 64 --engine hm (capsule-vm's default devices are
#   a PC's: pic, pit, COM1, port80, rtc, i8042, fwcfg, apic, ioapic);
#   CAPSULE_GUEST_ENGINE overrides the engine, CAPSULE_GUEST_DEVICES adds
#   --device options. --vmm qemu: qemu-system-x86_64 -M pc -m 64 with
#   isa-debug-exit at 0xf4, as a peer for cross-checking.
# Host limits: under hm on a host without VT-x/AMD-V (no vmx/svm flag in
#   /proc/cpuinfo: guest kernel code is emulated by KVM, see README.md),
#   paging32 and descinsn cannot run. When one of them fails there with
#   exactly its known signature (paging32: #GP at the CR0.PG write;
#   descinsn: an emulation failure at LSL/LAR/VERR/VERW) it is reported as
#   "NOT RUN under hm on this host: <reason>; needs --engine rem", counted
#   apart, and does not fail the run. Any other outcome is judged as usual.
# BUILD comes from $CAPSULE_BUILD (set by `scons check`), else ./build.
set -u

vmm=capsule
accel=kvm
timeout_s=${CAPSULE_GUEST_TIMEOUT:-60}
keep=0
names=
while [ $# -gt 0 ]; do
    case "$1" in
    --vmm) vmm=$2; shift 2 ;;
    --accel) accel=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) names="$names $1"; shift ;;
    esac
done

build=${CAPSULE_BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
dir=$build/guests
if [ -z "$names" ]; then
    names=$(cd "$dir" 2>/dev/null && ls *.elf 2>/dev/null | sed 's/\.elf$//')
fi
if [ -z "$names" ]; then
    echo "run.sh: no payloads in $dir (build them with: scons guests)" >&2
    exit 1
fi

case "$vmm" in
capsule)
    vm=$build/bin/capsule-vm
    if [ ! -x "$vm" ]; then
        echo "run.sh: $vm is missing (build it first)" >&2
        exit 1
    fi
    [ -e /dev/kvm ] || { echo "run.sh: /dev/kvm is missing: the hm engine needs it" >&2; exit 1; }
    devices=
    for d in ${CAPSULE_GUEST_DEVICES-}; do
        devices="$devices --device $d"
    done
    ;;
qemu)
    command -v qemu-system-x86_64 >/dev/null || { echo "run.sh: qemu-system-x86_64 not found" >&2; exit 1; }
    ;;
*) echo "run.sh: --vmm must be capsule or qemu" >&2; exit 2 ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/capsule-guests.XXXXXX")
[ "$keep" = 1 ] || trap 'rm -rf "$tmp"' EXIT INT TERM

now_ms() { date +%s%3N; }

# Whether hm here emulates guest kernel code (KVM without VT-x/AMD-V).
host_limited=0
if [ "$vmm" = capsule ] && [ "${CAPSULE_GUEST_ENGINE:-hm}" = hm ] &&
    ! grep -qwE 'vmx|svm' /proc/cpuinfo 2>/dev/null; then
    host_limited=1
fi

# known_limit NAME SERIAL STDERR: prints the reason and succeeds when the
# payload failed exactly the way this host's KVM is known to make it fail.
known_limit() {
    [ "$host_limited" = 1 ] || return 1
    case "$1" in
    paging32)
        # the payload's trap report for the first CR0.PG write: #GP(0) at
        # the mov to CR0 (paging_enable in lib/paging.c)
        gp=$(tr -d '\r' <"$2" | grep -a -o 'FAIL paging32: unexpected #GP (vector 13) error 0x0 at 8:[0-9a-f]*' | head -n 1)
        [ -n "$gp" ] || return 1
        ip=${gp##*at 8:}
        insn=$(objdump -d --start-address=0x$ip --stop-address=$((0x$ip + 3)) "$elf" 2>/dev/null |
            grep -E '^ *[0-9a-f]+:' | head -n 1)
        case "$insn" in
        *"mov "*",%cr0"*) echo "CR0.PG outside long mode raises #GP under KVM without VT-x/AMD-V" ;;
        *) return 1 ;;
        esac
        ;;
    descinsn)
        grep -qE 'aborted: emulation failure at 0008:[0-9a-f]+ .*instruction bytes \[0f 0[023] ' "$3" || return 1
        echo "LAR/LSL/VERR/VERW in guest kernel code are an emulation failure under KVM without VT-x/AMD-V"
        ;;
    *) return 1 ;;
    esac
}

failed=
notrun=
total=0
for name in $names; do
    elf=$dir/$name.elf
    log=$tmp/$name.serial
    err=$tmp/$name.stderr
    : >"$log"
    total=$((total + 1))
    if [ ! -f "$elf" ]; then
        printf '%-12s FAIL    (no %s)\n' "$name" "$elf"
        failed="$failed $name"
        continue
    fi
    t0=$(now_ms)
    if [ "$vmm" = capsule ]; then
        # shellcheck disable=SC2086 # the device list is split on purpose
        timeout -k 5 "$timeout_s" "$vm" --kernel "$elf" --serial "file:$log" --debug-exit \
            --memory 64 --engine "${CAPSULE_GUEST_ENGINE:-hm}" $devices </dev/null >"$err" 2>&1
    else
        timeout -k 5 "$timeout_s" qemu-system-x86_64 -accel "$accel" -M pc -m 64 \
            -display none -monitor none -no-reboot -serial "file:$log" \
            -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel "$elf" </dev/null >"$err" 2>&1
    fi
    rc=$?
    ms=$(($(now_ms) - t0))
    if [ "$vmm" = capsule ] && [ "$rc" != 33 ] && reason=$(known_limit "$name" "$log" "$err"); then
        printf '%-12s NOT RUN under hm on this host: %s; needs --engine rem\n' "$name" "$reason"
        notrun="$notrun $name"
        continue
    fi
    last=$(tr -d '\r' <"$log" | grep -a . | tail -n 1)
    if [ "$rc" = 33 ] && [ "$last" = "PASS $name" ]; then
        printf '%-12s ok    %6d ms\n' "$name" "$ms"
        continue
    fi
    case "$rc" in
    33) why="exit 33 but the transcript does not end with 'PASS $name'" ;;
    35) why="the payload failed (exit 35)" ;;
    124|137) why="timed out after ${timeout_s} s" ;;
    *) why="exit status $rc" ;;
    esac
    printf '%-12s FAIL  %6d ms  %s\n' "$name" "$ms" "$why"
    tr -d '\r' <"$log" | tail -n 8 | sed 's/^/    serial| /'
    tail -n 8 "$err" | sed 's/^/    stderr| /'
    failed="$failed $name"
done

nf=$(echo $failed | wc -w)
nn=$(echo $notrun | wc -w)
np=$((total - nf - nn))
echo "guests: $np passed, $nf failed, $nn not run (host-limited) of $total under $vmm${failed:+ - FAILED:$failed}${notrun:+ - NOT RUN:$notrun}"
[ "$keep" = 1 ] && [ $((nf + nn)) -gt 0 ] && echo "guests: transcripts kept in $tmp"
[ "$nf" = 0 ]
