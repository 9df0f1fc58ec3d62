#!/bin/bash
# tests/integration/machine_limits.sh - one definition of the machine limits
# (vmm/platform/platform_limits.h) seen through the real CLI and service
# (issue 11, items 3 and 4), in a temporary CAPSULE_HOME:
#   - `list systemproperties` prints the header's limits and engines;
#   - modifyvm refuses what startvm would refuse, saying why: --cpus 2 (one
#     vCPU until SMP), --engine raw (not there yet), a --kernel or --initrd
#     file that does not exist; nothing is saved;
#   - a settings file an older build wrote (cpus 4, 1 TiB, engine raw)
#     still loads: showvminfo works, startvm refuses it with the limit and
#     why and leaves it off; modifyvm fixes it and it runs.
# Payload hello.bin (tests/integration/vm): "hello" on COM1, then a
# debug-exit power-off. No KVM needed: engine rem. Every capsule-svc and
# capsule-vm started here is killed at the end.
set -u
B=${CAPSULE_BUILD:?CAPSULE_BUILD must name the build directory}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
S=${CAPSULE_TIMEOUT_SCALE:-1}
CAP=$B/bin/capsule
PAYLOAD=$B/tests/vm-payloads/hello.bin
fails=0
fail() { echo "FAIL: machine-limits: $*"; fails=$((fails + 1)); }
for f in "$CAP" "$B/bin/capsule-svc" "$B/bin/capsule-vm" "$PAYLOAD"; do
    [ -e "$f" ] || { echo "FAIL: $f is not built"; exit 1; }
done
tmp=$(mktemp -d /tmp/capsule-machlim.XXXXXX)
export CAPSULE_HOME=$tmp/home
cleanup() {
    local pid
    for pid in $(pgrep -f -- "capsule-(svc|vm) .*$CAPSULE_HOME( |\$)" 2>/dev/null); do
        kill -9 "$pid" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT

# The header's values, as the compiler sees them: min/max RAM, min/max
# vCPUs, then the engines this build lacks (numbered as ExecutionEngine).
cat >"$tmp/limits.c" <<'EOF'
#include <stdio.h>
#include "platform/platform_limits.h"
int main(void)
{
    printf("%u %u %u %u", PLATFORM_MIN_RAM_MB, PLATFORM_MAX_RAM_MB, PLATFORM_MIN_CPUS,
           PLATFORM_MAX_CPUS);
    for (unsigned e = 0; e < PLATFORM_ENGINE_COUNT; e++)
        printf(" %u", platform_engine_missing(e) ? e : 99u);
    printf("\n");
    return 0;
}
EOF
${CC:-cc} -I"$SRC/vmm" -o "$tmp/limits" "$tmp/limits.c" || { echo "FAIL: cannot build the header probe"; exit 1; }
read -r minram maxram mincpu maxcpu missing <<<"$("$tmp/limits")"
names=(auto hm rem raw)
have=
for i in 0 1 2 3; do
    case " $missing " in *" $i "*) ;; *) have="$have ${names[$i]}" ;; esac
done

run() {
    timeout $((60 * S)) "$CAP" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    out=$(cat "$tmp/out")
    err=$(cat "$tmp/err")
}
ok() {
    run "$@"
    [ $rc -eq 0 ] && echo "ok   capsule $*" || fail "capsule $* exited $rc: $err"
}
mr() { "$CAP" showvminfo "$1" --machinereadable 2>/dev/null | sed -n "s/^$2=//p"; }
# refused WHAT WANT CMD...: exits 1 with WANT in the message.
refused() {
    local what=$1 want=$2
    shift 2
    run "$@"
    [ $rc -eq 1 ] && grep -qF -- "$want" "$tmp/err" && echo "ok   $what: refused ($want)" ||
        fail "$what: exit $rc (want 1 with '$want'): $err"
}

# ---- item 4: ISystemProperties publishes the header -------------------------
ok list systemproperties
line() { sed -n "s/^$1: *\\(.*\\)$/\\1/p" "$tmp/out"; }
[ "$(line 'Minimum guest RAM size')" = "$minram Megabytes" ] &&
    [ "$(line 'Maximum guest RAM size')" = "$maxram Megabytes" ] &&
    [ "$(line 'Minimum guest CPU count')" = "$mincpu" ] &&
    [ "$(line 'Maximum guest CPU count')" = "$maxcpu" ] &&
    echo "ok   list systemproperties: RAM $minram..$maxram MB, CPUs $mincpu..$maxcpu (platform_limits.h)" ||
    fail "list systemproperties differs from platform_limits.h ($minram..$maxram MB, $mincpu..$maxcpu CPUs): $out"
[ "$(line 'Execution engines')" = "${have# }" ] && echo "ok   list systemproperties: engines$have" ||
    fail "engines: [$(line 'Execution engines')], the header has [${have# }]"

# ---- item 3: modifyvm refuses what startvm would ----------------------------
ok createvm --name lim --register
ok modifyvm lim --kernel "$PAYLOAD" --engine rem --memory 16 --debugexit on
# --cpus 2: the service's reason (the CLI leaves values above
# maxGuestCPUCount to it).
run modifyvm lim --cpus 2
[ $rc -eq 1 ] && grep -qF "CPU count 2 is more than 1: this build runs 1 vCPU per machine until SMP" "$tmp/err" ||
    fail "modifyvm --cpus 2: exit $rc: $err"
echo "ok   modifyvm --cpus 2: refused by the service, with why"
[ "$(mr lim cpus)" = 1 ] || fail "after --cpus 2: cpus=$(mr lim cpus)"
# raw is an engine of this build (Linux); whether the host can run it is
# the VM's start to say (vmm/raw/raw.h)
ok modifyvm lim --engine raw
[ "$(mr lim engine)" = '"raw"' ] || fail "after --engine raw: engine=$(mr lim engine)"
ok modifyvm lim --engine rem
refused "modifyvm --kernel MISSING" "cannot use the kernel '$tmp/nokernel': No such file or directory" \
    modifyvm lim --kernel "$tmp/nokernel"
refused "modifyvm --initrd MISSING" "cannot use the initrd '$tmp/noinitrd': No such file or directory" \
    modifyvm lim --initrd "$tmp/noinitrd"
[ "$(mr lim kernel)" = "\"$PAYLOAD\"" ] || fail "after a missing --kernel: kernel=$(mr lim kernel)"
# Nothing of a refused command is saved, also what came before the refusal.
run modifyvm lim --memory 32 --cpus 2
[ $rc -eq 1 ] && [ "$(mr lim memory)" = 16 ] && echo "ok   a refused modifyvm saves nothing" ||
    fail "modifyvm --memory 32 --cpus 2: exit $rc, memory=$(mr lim memory)"

# ---- a file an older build wrote still loads; startvm says why not --------
old=$tmp/old/old.capsule
mkdir -p "$tmp/old"
write_old() { # CPUS MEMORY ENGINE
    cat >"$old" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<CapsuleMachine version="1">
  <Machine uuid="5e1f0a7c-0d1d-4c11-9a55-01d0f11e0001" name="old" osType="Other" state="poweroff" lastStateChange="0">
    <Hardware memory="$2" cpus="$1" engine="$3" debugExit="true">
      <Boot kernel="$PAYLOAD" initrd="" cmdline=""/>
    </Hardware>
  </Machine>
</CapsuleMachine>
EOF
}
# startvm_refused WHAT WANT: startvm fails with WANT; the machine stays off.
startvm_refused() {
    run startvm old --type headless
    [ $rc -eq 1 ] && grep -qF -- "$2" "$tmp/err" && [ "$(mr old VMState)" = '"poweroff"' ] &&
        echo "ok   startvm of $1: refused ($2)" ||
        fail "startvm of $1: exit $rc, state $(mr old VMState): $err"
}
write_old 4 16 rem
ok registervm "$old"
ok showvminfo old
[ "$(mr old cpus)" = 4 ] || fail "older file: cpus=$(mr old cpus), want 4"
startvm_refused "4 vCPUs" "4 vCPUs asked for: this build runs 1 vCPU per machine until SMP"
ok unregistervm old
write_old 1 1048576 rem
ok registervm "$old"
[ "$(mr old memory)" = 1048576 ] || fail "older file: memory=$(mr old memory), want 1048576"
startvm_refused "1 TiB" "guest RAM of 1048576 MiB is more than the $maxram MiB a guest can address here"
ok unregistervm old
write_old 1 16 raw
ok registervm "$old"
[ "$(mr old engine)" = '"raw"' ] || fail "older file: engine=$(mr old engine), want raw"
# Fixed with modifyvm, the machine runs (hello.bin powers off by itself).
ok modifyvm old --engine rem
ok startvm old --type headless
ok waitfor old --state poweroff --timeout $((20 * S))

if [ $fails -ne 0 ]; then
    echo "machine-limits: $fails failure(s)"
    tail -20 "$CAPSULE_HOME/logs/svc.log" 2>/dev/null
    exit 1
fi
echo "machine-limits: all passed"
