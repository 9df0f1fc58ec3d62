#!/bin/bash
# tests/integration/console/console.sh - `capsule console`:
#   usage errors (exit 2) and its help;
#   against the real capsule-svc (own CAPSULE_HOME): an unknown machine, a
#   machine whose serial port 1 is not a server socket, and one that is but
#   is not running all fail with exit 1 and say why;
#   against a fake VM side (fakevm.py: a Python socket server standing in
#   for the serial socket a VM process listens on): bytes both ways, the
#   detach key and its escapes, end of input, the VM closing the connection,
#   a socket nobody listens on, and raw mode on a terminal restored after
#   SIGTERM.
# Needs no VM and no /dev/kvm. Every capsule-svc started here is killed at
# the end.
set -u
B=${CAPSULE_BUILD:?CAPSULE_BUILD must name the build directory}
CAP=$B/bin/capsule
HERE=$(cd "$(dirname "$0")" && pwd)
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
[ -x "$CAP" ] || { echo "FAIL: $CAP is not built"; exit 1; }
tmp=$(mktemp -d /tmp/capsule-console.XXXXXX)
export CAPSULE_HOME=$tmp/home
mkdir -p "$CAPSULE_HOME"
export CAPSULE_SVC_IDLE_TIMEOUT=60000
cleanup() {
    local pid
    for pid in $(pgrep -f -- "capsule-svc .*$CAPSULE_HOME( |\$)" 2>/dev/null); do
        kill -9 "$pid" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT

# run ARGS...: runs the CLI with no input; sets rc, out and err.
run() {
    timeout $((30 * ${CAPSULE_TIMEOUT_SCALE:-1})) "$CAP" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
    out=$(cat "$tmp/out")
    err=$(cat "$tmp/err")
}
# expect RC PATTERN ARGS...: exit status RC and PATTERN (grep -E) on stderr.
expect() {
    local want=$1 pat=$2
    shift 2
    run "$@"
    if [ "$rc" != "$want" ]; then
        fail "capsule $*: exit $rc, expected $want (stderr: $err)"
    elif ! grep -qE -- "$pat" <<<"$err"; then
        fail "capsule $*: stderr lacks /$pat/: $err"
    fi
}

# ---- usage -------------------------------------------------------------------
expect 2 "the VM .* is missing" console
expect 2 "unexpected argument 'b'" console a b
expect 2 "--socket: the path must not be empty" console --socket ''
expect 2 "either a VM or --socket" console demo --socket "$tmp/x.sock"
expect 2 "unknown option|--bogus" console demo --bogus
run help console
{ [ "$rc" = 0 ] && grep -q 'Ctrl-\] then q' <<<"$out"; } || fail "help console: exit $rc: $out"
run --help
grep -qE '^  console +attach' <<<"$out" || fail "capsule --help does not list console: $out"

# ---- through the service -----------------------------------------------------
expect 1 "demo" console demo
run createvm --name demo --register
[ "$rc" = 0 ] || fail "createvm: $err"
expect 1 "serial port 1 of machine 'demo' is disabled, not a server socket" console demo
run modifyvm demo --uart1 0x3f8 4 --uartmode1 file "$tmp/serial.log"
[ "$rc" = 0 ] || fail "modifyvm file: $err"
expect 1 "is in mode file, not a server socket" console demo
run modifyvm demo --uartmode1 server "$tmp/demo.sock"
[ "$rc" = 0 ] || fail "modifyvm server: $err"
expect 1 "machine 'demo' is not running \(it is powered off\); start it with 'capsule startvm demo'" \
    console demo

# ---- against a fake VM side --------------------------------------------------
python3 "$HERE/fakevm.py" "$CAP" "$tmp" || fails=$((fails + 1))

if [ $fails -ne 0 ]; then
    echo "console: $fails failure(s)"
    exit 1
fi
echo "console: all passed"
