#!/bin/bash
# tests/integration/stall_listener.sh - one stalled event listener must not
# hang the service for everyone (issue 19 item 2). In a temporary
# CAPSULE_HOME, stallclient registers an active listener whose handleEvent
# never returns, and a second one is stopped (SIGSTOP) after registering.
# While they are registered (the first stalled in a call), other
# clients' modifyvm, createvm, startvm and controlvm poweroff of a machine
# under engine rem each finish within 1 s (scaled), and the machine powers
# off; after CAPSULE_SVC_LISTENER_TIMEOUT the service drops both listeners and
# logs each with the client's connection and pid, and the clients themselves
# stay connected. Each call's latency is printed (ms). Time limits scale with
# CAPSULE_TIMEOUT_SCALE; every process started here is killed at the end.
set -u
NAME=stall_listener
PAYLOAD=${CAPSULE_BUILD:-}/tests/vm-payloads/serial_hlt.bin
NEED="${CAPSULE_BUILD:-}/bin/capsule-vm ${CAPSULE_BUILD:-}/tests/stallclient $PAYLOAD"
. "$(cd "$(dirname "$0")/../lib" && pwd)/cli.sh"
STALL=$B/tests/stallclient
BOUND_MS=$((5000 * S)) # past the time the calls below take, so they all run while stalled
export CAPSULE_SVC_LISTENER_TIMEOUT=$BOUND_MS
stallpid=
stoppid=
on_exit() {
    local pid
    for pid in $stallpid $stoppid; do
        kill -9 "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# fast WHAT ARGS...: capsule ARGS must succeed within 1 s (scaled).
fast() {
    local t0 t1 ms
    t0=$(now_ms)
    timeout $((60 * S)) "$CAP" "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    t1=$(now_ms)
    ms=$((t1 - t0))
    if [ $rc -ne 0 ]; then
        fail "capsule $* exited $rc after $ms ms: $(cat "$tmp/err")"
    elif [ $ms -gt $((1000 * S)) ]; then
        fail "capsule $* took $ms ms (> $((1000 * S)) ms) with a stalled listener"
    else
        echo "ok   capsule $* ($ms ms)"
    fi
}
svclog() { cat "$CAPSULE_HOME/logs/svc.log" 2>/dev/null; }

"$CAP" createvm --name demo --register >/dev/null 2>"$tmp/err" || fail "createvm: $(cat "$tmp/err")"
"$CAP" modifyvm demo --engine rem --kernel "$PAYLOAD" --uart1 0x3f8 4 --uartmode1 file \
    "$tmp/com1" 2>"$tmp/err" || fail "modifyvm: $(cat "$tmp/err")"

"$STALL" >"$tmp/stall.out" 2>"$tmp/stall.err" &
stallpid=$!
for i in $(seq 1 $((100 * S))); do grep -q '^registered' "$tmp/stall.out" && break; sleep 0.05; done
grep -q "^registered pid $stallpid\$" "$tmp/stall.out" ||
    { fail "stallclient did not register: $(cat "$tmp/stall.out" "$tmp/stall.err")"; exit 1; }
"$STALL" >"$tmp/stop.out" 2>"$tmp/stop.err" &
stoppid=$!
for i in $(seq 1 $((100 * S))); do grep -q '^registered' "$tmp/stop.out" && break; sleep 0.05; done
grep -q "^registered pid $stoppid\$" "$tmp/stop.out" ||
    { fail "the second stallclient did not register: $(cat "$tmp/stop.out" "$tmp/stop.err")"; exit 1; }
kill -STOP "$stoppid"
t_reg=$(now_ms)

# The first event stalls the listener; everything after must not wait.
fast modifyvm demo --memory 32
for i in $(seq 1 $((40 * S))); do grep -q '^stalled' "$tmp/stall.out" && break; sleep 0.05; done
grep -q '^stalled' "$tmp/stall.out" && echo "ok   the listener is called and stalls" ||
    fail "the stalled listener was never called"
fast modifyvm demo --memory 16
fast createvm --name other --register
fast startvm demo --type headless
[ "$(mr demo VMState)" = '"running"' ] && echo "ok   VMState running" ||
    fail "VMState after startvm: $(mr demo VMState)"
fast controlvm demo poweroff
[ "$(mr demo VMState)" = '"poweroff"' ] && echo "ok   VMState poweroff" ||
    fail "VMState after poweroff: $(mr demo VMState)"
t_calls=$(now_ms)
[ $((t_calls - t_reg)) -lt $BOUND_MS ] ||
    fail "the calls took $((t_calls - t_reg)) ms, past the bound: not all ran while stalled"

# Dropped (and logged, naming the client) after the bound.
for who in "stalled:$stallpid" "stopped:$stoppid"; do
    want="dropped an active event listener of connection [0-9]* (pid ${who#*:}): handleEvent did not return within $BOUND_MS ms"
    for i in $(seq 1 $(((BOUND_MS / 50 + 60) * S))); do svclog | grep -q "$want" && break; sleep 0.05; done
    if svclog | grep -q "$want"; then
        echo "ok   the ${who%%:*} listener is dropped and logged"
    else
        fail "no '$want' in the service log: $(svclog | tail -5)"
    fi
    kill -0 "${who#*:}" 2>/dev/null && echo "ok   the ${who%%:*} client is still there" ||
        fail "the ${who%%:*} client is gone"
done
fast modifyvm demo --memory 32

finish
