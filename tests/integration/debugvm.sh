#!/bin/bash
# tests/integration/debugvm.sh - the VMM statistics registry (vmm/stam) as
# users read it, in a temporary CAPSULE_HOME, under engine rem (no
# /dev/kvm needed):
#   `capsule debugvm VM statistics` of a running VM (spin64.bin: 64-bit code
#   in a loop, one OUT to port 0x99 per 100000 iterations) prints rem's JIT
#   counters (non-zero blocks translated, chained exits, code bytes) and
#   EM's, one "name value unit" line each, sorted by name; --pattern
#   filters ('/REM/*' only /REM/ lines; 'a|b' exactly those two; no match:
#   exit 1 naming the pattern); --descriptions adds a tab and the
#   description; --reset sets matching counters to zero (the loop is fully
#   translated by then, so BlocksTranslated stays 0), others keep counting;
#   usage errors exit 2; a VM that is not running fails (exit 1);
#   capsule-vm --stats prints the summary and the same registry (hello.bin:
#   6 writes to COM1, 1 to debug-exit).
# Every capsule-svc and capsule-vm started here is killed at the end.
set -u
NAME=debugvm
SPIN=${CAPSULE_BUILD:-}/tests/vm-payloads/spin64.bin
HELLO=${CAPSULE_BUILD:-}/tests/vm-payloads/hello.bin
NEED="${CAPSULE_BUILD:-}/bin/capsule-vm $SPIN $HELLO"
. "$(cd "$(dirname "$0")/../lib" && pwd)/cli.sh"
VM=$B/bin/capsule-vm
export CAPSULE_SVC_IDLE_TIMEOUT=60000

value() { echo "$out" | awk -v n="$1" '$1 == n { print $2 }'; }
stats() { run debugvm demo statistics "$@"; }

# ---- a running VM ------------------------------------------------------------
ok createvm --name demo --register
ok modifyvm demo --engine rem --memory 16 --kernel "$SPIN"
ok startvm demo --type headless

# rem translates the loop once it is hot: wait (bounded) until it has.
for _ in $(seq $((100 * S))); do
    stats --pattern '/REM/JIT/BlocksTranslated'
    [ $rc -eq 0 ] && [ "$(value /REM/JIT/BlocksTranslated)" != 0 ] && break
    sleep 0.1
done

stats --pattern '/REM/*'
[ $rc -eq 0 ] || fail "debugvm statistics --pattern '/REM/*' exited $rc: $err"
if [ -n "$out" ] && ! echo "$out" | grep -qv '^/REM/'; then
    pass "--pattern '/REM/*' prints only /REM/ statistics ($(echo "$out" | wc -l) lines)"
else
    fail "--pattern '/REM/*' printed: $out"
fi
for n in /REM/Insns /REM/Blocks/Built /REM/Blocks/Hits /REM/JIT/BlocksTranslated /REM/JIT/Links \
         /REM/JIT/CodeBytes /REM/JIT/BufferBytes; do
    v=$(value "$n")
    [ -n "$v" ] && [ "$v" -gt 0 ] 2>/dev/null && pass "$n $v" || fail "$n is '${v}' in: $out"
done
echo "$out" | grep -q '^/REM/JIT/CodeBytes [0-9]* bytes$' && pass "units printed" ||
    fail "no '/REM/JIT/CodeBytes N bytes' line in: $out"

stats
[ $rc -eq 0 ] || fail "debugvm statistics exited $rc: $err"
echo "$out" | LC_ALL=C sort -c 2>/dev/null && pass "all statistics sorted by name" ||
    fail "the statistics are not sorted: $out"
for n in /EM/Runs /EM/RemNs /EM/UptimeNs /EM/Exits/io /IOM/Ports/0x0099/Writes \
         /IOM/IO/UnclaimedWrites; do
    v=$(value "$n")
    [ -n "$v" ] && [ "$v" -gt 0 ] 2>/dev/null && pass "$n $v" || fail "$n is '${v}' in: $out"
done
bad=$(echo "$out" | grep -Evc '^/[^ ]+ [0-9]+ (count|bytes|ns|insns|calls)( \(.*\))?$')
[ "$bad" = 0 ] && pass "every line is 'name value unit'" ||
    fail "$bad lines are not 'name value unit': $out"

stats --pattern '/EM/Runs|/REM/Insns'
[ $rc -eq 0 ] && [ "$(echo "$out" | cut -d' ' -f1 | tr '\n' ' ')" = "/EM/Runs /REM/Insns " ] &&
    pass "--pattern 'a|b' prints exactly those two" || fail "--pattern 'a|b' ($rc): $out $err"
stats --pattern '/EM/Exit?/io'
[ $rc -eq 0 ] && [ "$(echo "$out" | cut -d' ' -f1)" = /EM/Exits/io ] && pass "'?' matches one character" ||
    fail "--pattern '/EM/Exit?/io' ($rc): $out $err"
stats --pattern '/REM/JIT/Links' --descriptions
printf '%s' "$out" | grep -qP '^/REM/JIT/Links [0-9]+ count\ttranslation exits chained' &&
    pass "--descriptions" || fail "--descriptions printed: $out"
stats --pattern '/NoSuch/*'
[ $rc -eq 1 ] && [ -z "$out" ] && echo "$err" | grep -q "no statistic of machine 'demo' matches '/NoSuch/\*'" &&
    pass "a pattern that matches nothing fails" || fail "no match: exit $rc: $out $err"

# --reset: the loop is translated for good, so its translations stay at 0;
# what keeps counting was not matched.
stats --pattern '/EM/Runs'
runs0=$(value /EM/Runs)
ok debugvm demo statistics --reset --pattern '/REM/JIT/BlocksTranslated'
[ -z "$out" ] || fail "--reset printed: $out"
sleep 0.2
stats --pattern '/REM/JIT/BlocksTranslated|/EM/Runs'
[ "$(value /REM/JIT/BlocksTranslated)" = 0 ] && pass "--reset: /REM/JIT/BlocksTranslated 0" ||
    fail "after --reset: $out"
[ "$(value /EM/Runs)" -gt "${runs0:-0}" ] 2>/dev/null && pass "unmatched counters go on" ||
    fail "/EM/Runs was $runs0, now: $out"

# Usage errors.
for args in "demo" "demo stats" "demo statistics extra" "demo statistics --pattern" \
            "demo statistics --reset --descriptions" "demo statistics --bogus"; do
    run debugvm $args
    [ $rc -eq 2 ] && echo "$err" | grep -q '^capsule: error: debugvm: ' && pass "debugvm $args: usage error" ||
        fail "debugvm $args: exit $rc: $err"
done
run debugvm
[ $rc -eq 2 ] && echo "$err" | grep -q 'VM (name or UUID) is missing' || fail "debugvm alone: exit $rc: $err"
run help debugvm
[ $rc -eq 0 ] && echo "$out" | grep -q -- '--pattern GLOB' && pass "help debugvm" || fail "help debugvm: $out"

ok controlvm demo poweroff
run debugvm demo statistics
[ $rc -eq 1 ] && [ -z "$out" ] && pass "a stopped VM has no statistics (exit 1: $(head -1 "$tmp/err"))" ||
    fail "debugvm of a stopped VM: exit $rc: $out $err"
run debugvm nosuchvm statistics
[ $rc -eq 1 ] && pass "an unknown VM fails" || fail "debugvm nosuchvm: exit $rc: $err"

# ---- capsule-vm --stats: the summary, then the same registry ---------------------
timeout $((30 * S)) "$VM" --kernel "$HELLO" --engine rem --debug-exit --stats >"$tmp/vm.out" 2>&1
rc=$?
[ $rc -eq 85 ] || fail "capsule-vm --stats exited $rc: $(tail -5 "$tmp/vm.out")"
grep -q '^== EM statistics$' "$tmp/vm.out" &&
    grep -q '^rem instructions *[1-9][0-9]* *[0-9.]* MIPS while in rem$' "$tmp/vm.out" &&
    grep -q '^/IOM/Ports/0x03f8/Writes 6 count$' "$tmp/vm.out" &&
    grep -q '^/IOM/Ports/0x00f4/Writes 1 count$' "$tmp/vm.out" &&
    grep -q '^/REM/Insns [1-9][0-9]* insns$' "$tmp/vm.out" &&
    grep -q '^/EM/Exits/io 7 count$' "$tmp/vm.out" &&
    pass "capsule-vm --stats: summary and registry" || fail "capsule-vm --stats printed: $(cat "$tmp/vm.out")"

finish
