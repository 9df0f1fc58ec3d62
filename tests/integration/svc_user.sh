#!/bin/bash
# tests/integration/svc_user.sh - the service as a VirtualBox user meets it
# (issue 11), in a temporary CAPSULE_HOME, with a real VM (serial_hlt.bin
# under whatever engine auto picks):
#  - everyday mistakes are told without lock jargon: controlvm of a stopped
#    VM says it is not running; startvm of a running VM says it is already
#    running, with its frontend and pid; unregistervm --delete of a running
#    VM says to power it off first (item 5); a running VM's SessionName is
#    its frontend;
#  - createvm --register of a name already registered fails and leaves
#    nothing behind, so that the same command fails the same way again
#    (item 1).
# Time limits scale with CAPSULE_TIMEOUT_SCALE. Every capsule-svc and
# capsule-vm started here is killed at the end.
set -u
B=${CAPSULE_BUILD:?CAPSULE_BUILD must name the build directory}
S=${CAPSULE_TIMEOUT_SCALE:-1}
CAP=$B/bin/capsule
PAYLOAD=$B/tests/vm-payloads/serial_hlt.bin
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
for f in "$CAP" "$B/bin/capsule-svc" "$B/bin/capsule-vm" "$PAYLOAD"; do
    [ -e "$f" ] || { echo "FAIL: $f is not built"; exit 1; }
done
tmp=$(mktemp -d /tmp/capsule-svcuser.XXXXXX)
export CAPSULE_HOME=$tmp/home

cleanup() {
    local pid
    for pid in $(pgrep -f -- "capsule-(svc|vm) .*$CAPSULE_HOME( |\$)" 2>/dev/null); do
        kill -9 "$pid" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT

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
# expect RC TEXT ARGS...: exits RC and says TEXT (a grep -E pattern) on stderr.
expect() {
    local want=$1 text=$2
    shift 2
    run "$@"
    if [ $rc -eq "$want" ] && grep -qE -- "$text" "$tmp/err"; then
        echo "ok   capsule $*: $(head -1 "$tmp/err")"
    else
        fail "capsule $*: exit $rc (want $want), said: $err (want /$text/)"
    fi
}
# no_jargon ARGS...: the message of the last command (its first line; the
# details line after it names the API call) holds no lock words.
no_jargon() {
    if head -1 "$tmp/err" | grep -qiE 'lock|session \(pid'; then
        fail "capsule $*: lock jargon in: $err"
    fi
}
mr() { "$CAP" showvminfo "$1" --machinereadable 2>/dev/null | sed -n "s/^$2=//p"; }

ok createvm --name demo --register
ok modifyvm demo --kernel "$PAYLOAD"

# --- item 1: a refused createvm leaves nothing --------------------------
mkdir -p "$tmp/base"
for try in first second; do
    expect 1 "a machine named 'demo' is already registered" \
        createvm --name demo --basefolder "$tmp/base" --register
    [ -e "$tmp/base/demo" ] && fail "the $try refused createvm left $(find "$tmp/base/demo")"
done
ok createvm --name other --basefolder "$tmp/base" --register
ok unregistervm other --delete
[ -e "$tmp/base/other" ] && fail "unregistervm --delete left $(find "$tmp/base/other")"

# --- item 5: mistakes told plainly ---------------------------------------
expect 1 "machine 'demo' is not running" controlvm demo poweroff
no_jargon controlvm demo poweroff

ok startvm demo --type headless
pid=$(mr demo SessionPID)
[ -n "$pid" ] && [ "$pid" != 0 ] || fail "no SessionPID while running: '$pid'"
[ "$(mr demo SessionName)" = '"headless"' ] && echo "ok   SessionName headless while running" ||
    fail "SessionName while running: $(mr demo SessionName)"

expect 1 "machine 'demo' is already running \(frontend headless, pid $pid\)" startvm demo
no_jargon startvm demo
expect 1 "machine 'demo' is running \(frontend headless, pid $pid\); power it off first" \
    unregistervm demo --delete
no_jargon unregistervm demo --delete
[ -f "$CAPSULE_HOME/Machines/demo/demo.capsule" ] || fail "the refused delete removed the file"

ok controlvm demo poweroff
[ "$(mr demo SessionName)" = '""' ] && echo "ok   SessionName empty once off" ||
    fail "SessionName once off: $(mr demo SessionName)"

if [ $fails -ne 0 ]; then
    echo "svc_user: $fails failure(s)"
    exit 1
fi
echo "svc_user: all passed"
