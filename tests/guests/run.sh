#!/bin/sh
# tests/guests/run.sh - runs the guest payloads (BUILD/guests/*.elf) and
# checks each one: the VM's exit status must be 33 (the payload wrote 0x10
# to the debug-exit port) and its serial transcript must end with
# "PASS <name>". Prints one line per payload and engine with its time and a
# summary per engine (passed / failed / not run); exits non-zero if any
# failed.
#
#   run.sh [--vmm capsule|qemu] [--engine hm|rem|raw|both] [--accel kvm|tcg]
#          [--timeout S] [--keep] [NAME...]
#
# --vmm capsule (default): BUILD/bin/capsule-vm --kernel X --serial file:T
#   --debug-exit --memory 64 --engine E --stats (capsule-vm's default
#   devices are a PC's: pic, pit, COM1, port80, rtc, i8042, fwcfg, apic,
#   ioapic), once per engine: --engine both (the default; `scons check`
#   runs this) runs the suite under hm - where instructions the host cannot
#   emulate are stepped in rem - and then under rem; without a usable
#   /dev/kvm its hm half prints "SKIP: guests (hm half): <reason>", is
#   counted (tests/lib/skip.sh; CAPSULE_REQUIRE_KVM=1 makes it a failure)
#   and the suite runs under rem. CAPSULE_GUEST_ENGINE
#   sets the default, CAPSULE_GUEST_DEVICES adds --device options,
#   CAPSULE_GUEST_CPU_PROFILE names the CPU profile (default host). --vmm
#   qemu: qemu-system-x86_64 -M pc -m 64 with isa-debug-exit at 0xf4, as a
#   peer for cross-checking.
# Host limits: under hm on a host without VT-x/AMD-V (no vmx/svm flag in
#   /proc/cpuinfo: guest kernel code is emulated by KVM, see README.md),
#   paging32 cannot run: KVM raises #GP at the CR0.PG write outside long
#   mode without telling user space; and sysregs' last check, a TSC_ADJUST
#   write moving RDTSC: KVM keeps TSC_ADJUST but cannot offset the guest
#   TSC there. When one fails there with exactly that
#   signature it is reported as "NOT RUN under hm on this host: <reason>;
#   needs --engine rem", counted apart, and does not fail the run. So is
#   debug, when only its MOV SS single-step failed (known_limit_debug_hm),
#   and cpl3-int with exactly its three known failures (issue 10).
# Where capsule-vm says "em: hm: this host's hypervisor does not show the
#   guest the CPU profile's CPUID (...)" (KVM's PVM backend: the guest sees
#   host-derived CPUID bits), absent and features, which judge the CPU by
#   its CPUID, are NOT RUN with that line as the reason when they fail on a
#   bit that line shows the guest had and the profile lacks (cpuid_limit).
# Under rem there is no such limit: a payload that stops on an instruction
#   rem does not implement fails.
# Any other outcome is judged as usual.
# BUILD comes from $CAPSULE_BUILD (set by `scons check`), else ./build.
set -u
. "$(cd "$(dirname "$0")/../lib" && pwd)/skip.sh"

vmm=capsule
engines=${CAPSULE_GUEST_ENGINE:-both}
accel=kvm
timeout_s=$((${CAPSULE_GUEST_TIMEOUT:-60} * ${CAPSULE_TIMEOUT_SCALE:-1}))
keep=0
names=
while [ $# -gt 0 ]; do
    case "$1" in
    --vmm) vmm=$2; shift 2 ;;
    --engine) engines=$2; shift 2 ;;
    --accel) accel=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,/^# BUILD comes from/p' "$0"; exit 0 ;;
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

both_engines=0
case "$engines" in
both) engines="hm rem" both_engines=1 ;;
hm|rem|raw|auto) ;;
*) echo "run.sh: --engine must be hm, rem, raw, auto or both" >&2; exit 2 ;;
esac

case "$vmm" in
capsule)
    vm=$build/bin/capsule-vm
    if [ ! -x "$vm" ]; then
        echo "run.sh: $vm is missing (build it first)" >&2
        exit 1
    fi
    # hm needs KVM. Asked for by name, it fails without; as half of "both"
    # (the default, and `scons check`) it is skipped and counted
    # (tests/lib/skip.sh) and the suite runs under rem alone.
    case " $engines " in
    *" hm "*)
        if [ "$both_engines" = 1 ]; then
            need_kvm "guests (hm half)" || engines=rem
        elif ! kvm_usable; then
            echo "run.sh: the hm engine needs KVM: $KVM_WHY" >&2
            exit 1
        fi
        ;;
    *" raw "*)
        # raw (64-bit user code in a KVM vCPU, the rest in rem) is not in
        # "both" yet; asked for by name it is a counted skip without KVM
        need_kvm "guests (raw)" || exit 0
        ;;
    esac
    devices=
    for d in ${CAPSULE_GUEST_DEVICES-}; do
        devices="$devices --device $d"
    done
    [ -z "${CAPSULE_GUEST_CPU_PROFILE-}" ] || devices="$devices --cpu-profile $CAPSULE_GUEST_CPU_PROFILE"
    ;;
qemu)
    command -v qemu-system-x86_64 >/dev/null || { echo "run.sh: qemu-system-x86_64 not found" >&2; exit 1; }
    engines=qemu
    ;;
*) echo "run.sh: --vmm must be capsule or qemu" >&2; exit 2 ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/capsule-guests.XXXXXX")
[ "$keep" = 1 ] || trap 'rm -rf "$tmp"' EXIT INT TERM

now_ms() { date +%s%3N; }

# Whether hm here emulates guest kernel code (KVM without VT-x/AMD-V).
host_limited=0
grep -qwE 'vmx|svm' /proc/cpuinfo 2>/dev/null || host_limited=1

# debug under hm where the host emulates guest kernel code (capsule-vm
# says so): KVM's instruction emulator takes a single-step trap between MOV SS
# and the next instruction, and data breakpoints never fire under it (nor in
# guest user code, which DR0-3 do not watch there either). debug.c checks
# those two last, so the transcript must show the rest passed, then the trap
# right after the payload's `mov %eax,%ss`.
known_limit_debug_hm() {
    grep -q 'no VT-x/AMD-V: guest kernel code will be emulated by the host kernel' "$2" || return 1
    t=$(tr -d '\r' <"$1")
    for ok in 'ok instruction breakpoint:' 'ok DR7.GD:' 'ok single-step:'; do
        printf '%s\n' "$t" | grep -q "^$ok" || return 1
    done
    fail=$(printf '%s\n' "$t" | tail -n 1 | grep -x 'FAIL debug: single-step over MOV SS: #DB 1 at 0x[0-9a-f]*, between the MOV SS and the next instruction') || return 1
    ip=${fail#*at 0x}
    ip=${ip%%,*}
    insn=$(objdump -d --start-address=$((0x$ip - 2)) --stop-address=$((0x$ip)) "$elf" 2>/dev/null |
        grep -E '^ *[0-9a-f]+:' | head -n 1)
    case "$insn" in
    *"mov "*"%eax,%ss"*) echo "KVM without VT-x/AMD-V single-steps the instruction after MOV SS, and data breakpoints do not fire there (the rest of debug passed)" ;;
    *) return 1 ;;
    esac
}

# cpl3-int under hm where the host emulates guest kernel code (capsule-vm
# says so; issue 10): 64-bit user code runs natively and reads the host's
# SS selector (0x2b), and the host's IRETQ to compatibility mode leaves the
# kernel's DS, ES, FS and GS - both inside KVM, with no exit for hm to hand
# to rem (INT n, which KVM turns into #UD, hm does hand over: udtrap in
# vmm/hwaccm). Exactly these three FAILED lines and the other seven ok.
known_limit_cpl3_int_hm() {
    grep -q 'no VT-x/AMD-V: guest kernel code will be emulated by the host kernel' "$2" || return 1
    h='0x[0-9a-f]+'
    cpl3_int_failed "$1" 3 "$cpl3_int_ss_iretq" "$cpl3_int_ss_mov" \
        "^FAILED compat: IRETQ nulled DS ES FS GS, SS the user's: #UD \(vector 6\) at ($h); DS 0x10 ES 0x10 FS 0x10 GS 0x10 SS 0x3b; expected #UD at \1, DS ES FS GS null, SS 0x3b$" || return 1
    echo "KVM without VT-x/AMD-V: 64-bit user code reads the host's SS, IRETQ to compatibility mode keeps kernel data selectors (issue 10; inside KVM, no exit)"
}

# raw runs 64-bit user code in that same KVM context (compat-mode user code
# runs in rem): only the two 64-bit SS reads differ.
known_limit_cpl3_int_raw() {
    grep -q 'raw: the native user context passed its probe' "$2" || return 1
    cpl3_int_failed "$1" 2 "$cpl3_int_ss_iretq" "$cpl3_int_ss_mov" || return 1
    echo "KVM without VT-x/AMD-V runs 64-bit user code with the host's user selectors: it reads SS 0x2b (issue 10; inside KVM, no exit)"
}

# The two 64-bit checks that read SS in user code.
cpl3_int_ss_iretq="^FAILED 64-bit: IRETQ nulled DS ES FS GS, SS the user's: #UD \(vector 6\) at (0x[0-9a-f]+); DS 0x0 ES 0x0 FS 0x0 GS 0x0 SS 0x2b; expected #UD at \1, DS ES FS GS null, SS 0x3b$"
cpl3_int_ss_mov="^FAILED 64-bit MOV SS of SS: #UD \(vector 6\) error 0x0 at (0x[0-9a-f]+), SS read 0x2b; expected #UD at \1, SS 0x3b$"

# cpl3_int_failed SERIAL N PATTERN...: cpl3-int failed exactly N of its 10
# checks, each PATTERN matching one FAILED line.
cpl3_int_failed() {
    t=$(tr -d '\r' <"$1")
    n=$2
    shift 2
    [ "$(printf '%s\n' "$t" | tail -n 1)" = "FAIL cpl3-int: $n of 10 checks failed (the FAILED lines above)" ] || return 1
    [ "$(printf '%s\n' "$t" | grep -c '^ok ')" = $((10 - n)) ] || return 1
    for p in "$@"; do
        [ "$(printf '%s\n' "$t" | grep -c -E "$p")" = 1 ] || return 1
    done
}

# shown_not_in_policy LINE LEAF REG BIT: whether the hm CPUID line LINE
# lists CPUID leaf LEAF (hex, as the line spells it) register REG with BIT
# set in what the guest saw and clear in the policy.
shown_not_in_policy() {
    vals=$(echo "$1" | grep -o "leaf $2 $3 0x[0-9a-f]* (policy: 0x[0-9a-f]*)" | head -n 1 |
        sed 's/.* \(0x[0-9a-f]*\) (policy: \(0x[0-9a-f]*\))$/\1 \2/')
    [ -n "$vals" ] || return 1
    # shellcheck disable=SC2086 # the two values are split on purpose
    set -- $vals "$4"
    [ $((($1 >> $3) & 1)) = 1 ] && [ $((($2 >> $3) & 1)) = 0 ]
}

# cpuid_limit NAME SERIAL STDERR: absent or features failed on a CPUID bit
# that capsule-vm's line says the guest saw though the profile lacks it
# (absent: one of its CPUID checks; features: the SMEP or SMAP part, run
# because CPUID showed the feature). Prints that line.
cpuid_limit() {
    line=$(grep -a -o "em: hm: this host's hypervisor does not show the guest the CPU profile's CPUID.*" "$3" | head -n 1)
    [ -n "$line" ] || return 1
    fail=$(tr -d '\r' <"$2" | grep -a "^FAIL $1: " | head -n 1)
    case "$1:$fail" in
    absent:*)
        # "absent.c:N: r[R] & (1u << B) is V, expected 0 = 0x0", the leaf
        # from the cpuid() call before line N of absent.c
        at=$(echo "$fail" | sed -n 's/^FAIL absent: absent\.c:\([0-9]*\): r\[\([1-3]\)\] & (1u << \([0-9]*\)) is 0x[0-9a-f]*, expected 0 = 0x0$/\1 \2 \3/p')
        [ -n "$at" ] || return 1
        # shellcheck disable=SC2086 # line, register and bit, split on purpose
        set -- $at
        leaf=$(awk -v n="$1" 'NR <= n && match($0, /cpuid\((0x)?[0-9a-f]+u?,/) { l = substr($0, RSTART + 6, RLENGTH - 7) } END { sub(/u$/, "", l); print l }' "$(dirname "$0")/absent.c")
        [ -n "$leaf" ] || return 1
        reg=$(echo "eax ebx ecx edx" | cut -d' ' -f$(($2 + 1)))
        shown_not_in_policy "$line" "$(printf %x "$leaf")" "$reg" "$3" || return 1
        ;;
    "features:FAIL features: SMEP"*) shown_not_in_policy "$line" 7 ebx 7 || return 1 ;;
    "features:FAIL features: SMAP"* | "features:FAIL features: stac at CPL3"* | "features:FAIL features: clac at CPL3"*)
        shown_not_in_policy "$line" 7 ebx 20 || return 1 ;;
    *) return 1 ;;
    esac
    echo "${line#em: }"
}

# known_limit ENGINE NAME SERIAL STDERR: prints the reason and succeeds when
# the payload failed exactly the way a documented limit makes it fail.
known_limit() {
    [ "$1:$2:$host_limited" = hm:debug:1 ] && { known_limit_debug_hm "$3" "$4"; return; }
    [ "$1:$2:$host_limited" = hm:cpl3-int:1 ] && { known_limit_cpl3_int_hm "$3" "$4"; return; }
    [ "$1:$2:$host_limited" = raw:cpl3-int:1 ] && { known_limit_cpl3_int_raw "$3" "$4"; return; }
    case "$1" in
    hm)
        case "$2" in
        absent | features)
            cpuid_limit "$2" "$3" "$4"
            return
            ;;
        esac
        [ "$host_limited" = 1 ] || return 1
        if [ "$2" = sysregs ]; then
            # the last check: RDTSC moved by elapsed time only (< 2^32), not 2^40
            tr -d '\r' <"$3" | grep -a . | tail -n 1 |
                grep -qxE 'FAIL sysregs: TSC_ADJUST \+= 2\^40 moved the TSC by 0x[0-9a-f]{1,8}' || return 1
            echo "KVM without VT-x/AMD-V (PVM) cannot move the guest TSC: IA32_TSC_ADJUST reads back, RDTSC does not follow"
            return 0
        fi
        [ "$2" = paging32 ] || return 1
        # the payload's trap report for the first CR0.PG write: #GP(0) at
        # the mov to CR0 (paging_enable in lib/paging.c)
        gp=$(tr -d '\r' <"$3" | grep -a -o 'FAIL paging32: unexpected #GP (vector 13) error 0x0 at 8:[0-9a-f]*' | head -n 1)
        [ -n "$gp" ] || return 1
        ip=${gp##*at 8:}
        insn=$(objdump -d --start-address=0x$ip --stop-address=$((0x$ip + 3)) "$elf" 2>/dev/null |
            grep -E '^ *[0-9a-f]+:' | head -n 1)
        case "$insn" in
        *"mov "*",%cr0"*) echo "CR0.PG outside long mode raises #GP under KVM without VT-x/AMD-V" ;;
        *) return 1 ;;
        esac
        ;;
    *) return 1 ;;
    esac
}

# run_one ENGINE NAME: runs and judges one payload; updates the counters.
run_one() {
    engine=$1 name=$2
    elf=$dir/$name.elf
    log=$tmp/$engine-$name.serial
    err=$tmp/$engine-$name.stderr
    : >"$log"
    total=$((total + 1))
    if [ ! -f "$elf" ]; then
        printf '%-12s %-4s FAIL    (no %s)\n' "$name" "$engine" "$elf"
        failed="$failed $engine:$name"
        return
    fi
    t0=$(now_ms)
    if [ "$vmm" = capsule ]; then
        # shellcheck disable=SC2086 # the device list is split on purpose
        timeout -k 5 "$timeout_s" "$vm" --kernel "$elf" --serial "file:$log" --debug-exit \
            --memory 64 --engine "$engine" --stats $devices </dev/null >"$err" 2>&1
    else
        timeout -k 5 "$timeout_s" qemu-system-x86_64 -accel "$accel" -M pc -m 64 \
            -display none -monitor none -no-reboot -serial "file:$log" \
            -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel "$elf" </dev/null >"$err" 2>&1
    fi
    rc=$?
    ms=$(($(now_ms) - t0))
    if [ "$vmm" = capsule ] && [ "$rc" != 33 ] && reason=$(known_limit "$engine" "$name" "$log" "$err"); then
        if [ "$engine" = hm ]; then
            printf '%-12s %-4s NOT RUN under hm on this host: %s; needs --engine rem\n' "$name" "$engine" "$reason"
        elif [ "$engine" = raw ]; then
            printf '%-12s %-4s NOT RUN under raw on this host: %s; needs --engine rem\n' "$name" "$engine" "$reason"
        else
            printf '%-12s %-4s NOT RUN under rem: %s\n' "$name" "$engine" "$reason"
        fi
        notrun="$notrun $engine:$name"
        return
    fi
    last=$(tr -d '\r' <"$log" | grep -a . | tail -n 1)
    if [ "$rc" = 33 ] && [ "$last" = "PASS $name" ]; then
        extra=
        steps=$(grep -o 'instructions stepped by rem for hm .*' "$err" | sed 's/instructions stepped by rem for hm //')
        [ -n "$steps" ] && extra="  (rem stepped $steps)"
        mips=$(grep -o '[0-9.]* MIPS while in rem' "$err" | awk '{print $1}')
        [ "$engine" = rem ] && [ -n "$mips" ] && extra="  ($mips MIPS in rem)"
        printf '%-12s %-4s ok    %6d ms%s\n' "$name" "$engine" "$ms" "$extra"
        return
    fi
    # capsule-vm's own statuses are even (4 setup failure, 6 aborted), a
    # debug-exit code (V<<1)|1 is odd (capsule-vm --help)
    case "$vmm:$rc" in
    *:33) why="exit 33 but the transcript does not end with 'PASS $name'" ;;
    *:35) why="the payload failed (exit 35)" ;;
    *:124|*:137) why="timed out after ${timeout_s} s" ;;
    capsule:4) why="capsule-vm could not set the VM up (exit 4)" ;;
    capsule:6) why="the VM aborted (exit 6): $(grep -a -o 'aborted: .*' "$err" | head -n 1)" ;;
    *) why="exit status $rc" ;;
    esac
    printf '%-12s %-4s FAIL  %6d ms  %s\n' "$name" "$engine" "$ms" "$why"
    tr -d '\r' <"$log" | tail -n 8 | sed 's/^/    serial| /'
    sed '/^== EM statistics/,$d' "$err" | tail -n 8 | sed 's/^/    stderr| /'
    failed="$failed $engine:$name"
}

allfailed=
summary=
for engine in $engines; do
    failed=
    notrun=
    total=0
    for name in $names; do
        run_one "$engine" "$name"
    done
    nf=$(echo $failed | wc -w)
    nn=$(echo $notrun | wc -w)
    np=$((total - nf - nn))
    under=$vmm
    [ "$vmm" = capsule ] && under="capsule --engine $engine"
    line="guests: $np passed, $nf failed, $nn not run of $total under $under${failed:+ - FAILED:$failed}${notrun:+ - NOT RUN:$notrun}"
    echo "$line"
    summary="$summary$line
"
    allfailed="$allfailed$failed"
done
[ "$(echo $engines | wc -w)" -gt 1 ] && printf '== summary\n%s' "$summary"
[ "$keep" = 1 ] && echo "guests: transcripts kept in $tmp"
[ -z "$allfailed" ]
