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
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
    if [ -z "${CAPSULE_SKIP_KVM:-}" ]; then
        echo "FAIL: /dev/kvm is missing or not accessible (CAPSULE_SKIP_KVM=1 skips the VM flow)"
        exit 1
    fi
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
