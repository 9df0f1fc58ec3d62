# tests/bindings/common.sh - sourced by python.sh and java.sh: the build,
# a temporary CAPSULE_HOME, the asan host-process setup, cleanup.
#
# Under asan=1 the bindings are sanitized like the rest of the build, and a
# python3/java host process is not: libasan must be the first library
# loaded, so it is preloaded (BIND_RUN). Leak detection is off in the host
# process (the interpreters keep memory until exit by design); capsule-svc,
# started by the client, is an ASan program itself and keeps it on.
B=${CAPSULE_BUILD:?CAPSULE_BUILD must name the build directory}
export CAPSULE_BUILD=$B CAPSULE_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIND_RUN=
if ldd "$B/lib/libcapsule-rt.so" | grep -q libasan; then
    BIND_RUN="env LD_PRELOAD=$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:handle_segv=0:allow_user_segv_handler=1"
fi
# The README flow's machine keeps the default engine, auto: nothing here
# needs KVM. Without a usable /dev/kvm the VM runs under rem, and the
# tests check that its log says auto fell back to it (NO_KVM=1).
. "$CAPSULE_SRC/tests/lib/skip.sh"
if ! kvm_usable; then
    if [ -n "${CAPSULE_REQUIRE_KVM:-}" ] && [ "$CAPSULE_REQUIRE_KVM" != 0 ]; then
        echo "FAIL: CAPSULE_REQUIRE_KVM=1 says this machine has KVM: $KVM_WHY"
        exit 1
    fi
    echo "no usable KVM ($KVM_WHY): the README flow's VM runs under rem"
    export NO_KVM=1
fi
tmp=$(mktemp -d /tmp/capsule-bindings.XXXXXX)
export CAPSULE_HOME=$tmp/home
cleanup() {
    local pid
    for pid in $(pgrep -f -- "capsule-(svc|vm) .*$CAPSULE_HOME( |\$)" 2>/dev/null); do
        kill -9 "$pid" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
