#!/bin/sh
# tests/lib/skip_test.sh - the skip policy itself (`scons check-skip-policy`):
# tests/lib/skip.sh and tests/lib/testskip.c (through BUILD/tests/hwaccm,
# which skips all but its no-KVM tests without KVM) against a device that
# does not exist, a device that opens, CAPSULE_SKIP_KVM and
# CAPSULE_REQUIRE_KVM; and tools/skips.py's summary. Records go to a file of its own, never to the
# run's $CAPSULE_SKIPS.
set -u
B=${CAPSULE_BUILD:?CAPSULE_BUILD must name the build directory}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok   $*"; }
unset CAPSULE_SKIP_KVM CAPSULE_REQUIRE_KVM
export CAPSULE_SKIPS=$T/skips.txt
export CAPSULE_KVM_DEVICE=$T/no-such-kvm

# shell: a missing device is skipped, said and recorded
(. "$here/skip.sh"; need_kvm "part one" && echo RAN) >"$T/out" 2>&1
grep -qx "SKIP: part one: no usable KVM (no $T/no-such-kvm on this host)" "$T/out" && ! grep -q RAN "$T/out" &&
    grep -qx "part one: no usable KVM (no $T/no-such-kvm on this host)" "$T/skips.txt" &&
    ok "skip.sh: missing device -> SKIP line and record" || fail "skip.sh missing device: $(cat "$T/out")"
# ... and fails under CAPSULE_REQUIRE_KVM=1, recording nothing
(CAPSULE_REQUIRE_KVM=1; . "$here/skip.sh"; need_kvm "part two"; echo RAN) >"$T/out" 2>&1
rc=$?
[ $rc = 1 ] && grep -q "^FAIL: part two: needs KVM, and CAPSULE_REQUIRE_KVM=1" "$T/out" &&
    ! grep -q RAN "$T/out" && ! grep -q "part two" "$T/skips.txt" &&
    ok "skip.sh: CAPSULE_REQUIRE_KVM=1 -> failure" || fail "skip.sh require: exit $rc: $(cat "$T/out")"
# a device that is there and opens is used (/dev/null stands in for it)
(CAPSULE_KVM_DEVICE=/dev/null; . "$here/skip.sh"; need_kvm "part three" && echo RAN) >"$T/out" 2>&1
grep -qx RAN "$T/out" && ! grep -q "part three" "$T/skips.txt" &&
    ok "skip.sh: a device that opens -> the part runs" || fail "skip.sh usable device: $(cat "$T/out")"
# CAPSULE_SKIP_KVM=1 skips even then, and hides the device from programs
(CAPSULE_KVM_DEVICE=/dev/null CAPSULE_SKIP_KVM=1; . "$here/skip.sh"; need_kvm "part four" && echo RAN
 echo "device=$CAPSULE_KVM_DEVICE") >"$T/out" 2>&1
grep -qx "SKIP: part four: no usable KVM (CAPSULE_SKIP_KVM=1)" "$T/out" && ! grep -q RAN "$T/out" &&
    grep -q "^device=/dev/null/kvm-hidden" "$T/out" &&
    ok "skip.sh: CAPSULE_SKIP_KVM=1 -> SKIP, device hidden" || fail "skip.sh forced: $(cat "$T/out")"

# C (testskip.c, through the hwaccm suite): the same for a missing device;
# the no-KVM error test still runs and passes
"$B/tests/hwaccm" >"$T/out" 2>&1
rc=$?
[ $rc = 0 ] && grep -Eq "Checks: [1-9][0-9]*, Failures: 0, Errors: 0" "$T/out" &&
    grep -qx "SKIP: hwaccm (on KVM): no usable KVM (no $T/no-such-kvm on this host)" "$T/out" &&
    grep -qx "hwaccm (on KVM): no usable KVM (no $T/no-such-kvm on this host)" "$T/skips.txt" &&
    ok "testskip.c: missing device -> SKIP line and record" || fail "testskip.c missing: exit $rc: $(cat "$T/out")"
CAPSULE_REQUIRE_KVM=1 "$B/tests/hwaccm" >"$T/out" 2>&1
rc=$?
[ $rc = 1 ] && grep -q "^FAIL: hwaccm (on KVM): needs KVM, and CAPSULE_REQUIRE_KVM=1" "$T/out" &&
    [ "$(grep -c "^hwaccm (on KVM):" "$T/skips.txt")" = 1 ] &&
    ok "testskip.c: CAPSULE_REQUIRE_KVM=1 -> failure" || fail "testskip.c require: exit $rc: $(cat "$T/out")"

# the summary: counted, grouped by reason, repeats counted
sum=$(python3 "$top/tools/skips.py" "$CAPSULE_SKIPS" "in this test")
want="skipped: 3 in this test (no usable KVM (CAPSULE_SKIP_KVM=1): part four; no usable KVM (no $T/no-such-kvm on this host): hwaccm (on KVM), part one)"
[ "$sum" = "$want" ] && ok "skips.py: $sum" || fail "skips.py: [$sum], want [$want]"
echo "hwaccm: again" >>"$CAPSULE_SKIPS"
echo "hwaccm: again" >>"$CAPSULE_SKIPS"
python3 "$top/tools/skips.py" "$CAPSULE_SKIPS" | grep -q "again: hwaccm (2x)" && ok "skips.py: repeats" ||
    fail "skips.py repeats: $(python3 "$top/tools/skips.py" "$CAPSULE_SKIPS")"
[ "$(python3 "$top/tools/skips.py" "$T/none.txt")" = "skipped: 0" ] && ok "skips.py: no file" ||
    fail "skips.py without a file"

[ $fails = 0 ] && echo "skip-policy: all passed"
[ $fails = 0 ]
