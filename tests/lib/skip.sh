# tests/lib/skip.sh - sourced by the test scripts (POSIX sh): the one policy
# for a test part that needs something the host may lack. Today that is
# /dev/kvm, which the hm engine needs; rem, the software CPU, runs anywhere.
#
# A part that truly needs KVM runs where /dev/kvm opens. Where it does not,
# the part prints "SKIP: TEST: REASON", appends "TEST: REASON" to
# $CAPSULE_SKIPS (set by SConstruct to BUILD/logs/skips.txt, cleared at
# the start of every `scons check...` run, summed up at its end and by
# ./check.sh), and everything else in the test still runs and asserts -
# under engine rem where the hm part had a VM to run. Never a silent pass.
#
#   CAPSULE_SKIP_KVM=1     skip the hm parts even where /dev/kvm works
#   CAPSULE_REQUIRE_KVM=1  a machine known to have KVM: a missing or
#                          unusable /dev/kvm (or CAPSULE_SKIP_KVM) fails
#                          the test instead of skipping its hm parts
#   CAPSULE_KVM_DEVICE     the device to try (default /dev/kvm), as
#                          hostdrivers/linux/hd_kvm.c does
#
# The C tests use tests/lib/testskip.h, which follows the same rules.

# CAPSULE_SKIP_KVM also hides the device from the programs a test starts
# (capsule-vm, and capsule-svc's VM processes, read CAPSULE_KVM_DEVICE), so
# that engine auto falls back to rem as it would on a host without KVM.
if [ -n "${CAPSULE_SKIP_KVM:-}" ] && [ "$CAPSULE_SKIP_KVM" != 0 ]; then
    CAPSULE_KVM_DEVICE=/dev/null/kvm-hidden-by-CAPSULE_SKIP_KVM
    export CAPSULE_KVM_DEVICE
fi

# test_skip TEST REASON: reports and records one skipped part.
test_skip() {
    echo "SKIP: $1: $2"
    if [ -n "${CAPSULE_SKIPS:-}" ]; then
        mkdir -p "$(dirname "$CAPSULE_SKIPS")" 2>/dev/null
        printf '%s: %s\n' "$1" "$2" >>"$CAPSULE_SKIPS"
    fi
}

# kvm_usable: succeeds if the hm engine can open the KVM device; else sets
# KVM_WHY to the reason, in words a person can act on.
kvm_usable() {
    _dev=${CAPSULE_KVM_DEVICE:-/dev/kvm}
    KVM_WHY=
    if [ -n "${CAPSULE_SKIP_KVM:-}" ] && [ "$CAPSULE_SKIP_KVM" != 0 ]; then
        KVM_WHY="CAPSULE_SKIP_KVM=$CAPSULE_SKIP_KVM"
    elif [ ! -e "$_dev" ]; then
        KVM_WHY="no $_dev on this host"
    elif [ ! -c "$_dev" ]; then
        KVM_WHY="$_dev is not a character device"
    elif ! (exec 3<>"$_dev") 2>/dev/null; then
        KVM_WHY="$_dev does not open read-write for user $(id -un 2>/dev/null || id -u)"
    fi
    [ -z "$KVM_WHY" ]
}

# need_kvm TEST: succeeds if the part named TEST may use KVM. Otherwise it
# records the skip and returns 1, or - under CAPSULE_REQUIRE_KVM=1 - says
# FAIL and exits the test with status 1.
need_kvm() {
    kvm_usable && return 0
    if [ -n "${CAPSULE_REQUIRE_KVM:-}" ] && [ "$CAPSULE_REQUIRE_KVM" != 0 ]; then
        echo "FAIL: $1: needs KVM, and CAPSULE_REQUIRE_KVM=1 says this machine has it: $KVM_WHY"
        exit 1
    fi
    test_skip "$1" "no usable KVM ($KVM_WHY)"
    return 1
}
