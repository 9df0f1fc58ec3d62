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
NAME=console
. "$(cd "$(dirname "$0")/../../lib" && pwd)/cli.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$CAPSULE_HOME"
export CAPSULE_SVC_IDLE_TIMEOUT=60000

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

finish
