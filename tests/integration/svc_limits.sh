#!/bin/bash
# tests/integration/svc_limits.sh (scons check-svc-limits) - capsule-svc's resource caps (capsule/ipc.h,
# "Resource caps") against greedy and hostile clients (floodclient), each
# part with its own CAPSULE_HOME and its own service started here:
#   40 connections each sending 15 MiB of a 16 MiB frame: the service's
#     peak RSS stays under 64 MiB, the excess is closed with a logged
#     reason, and other clients' calls still work;
#   more connections than CAPSULE_SVC_MAX_CONNECTIONS: the extra ones are
#     refused with a clear error (the CLI's too) and a logged reason; the
#     service serves again once they close;
#   a frame left incomplete is closed after CAPSULE_SVC_FRAME_TIMEOUT
#     (logged, reason told), an idle connection is kept;
#   the service out of file descriptors (prlimit --nofile): the log says so
#     ("out of file descriptors"), never "out of memory", the clients it
#     cannot serve are told so rather than left waiting, and the service
#     serves again once connections close.
# Set CAPSULE_SVC_BIN to run the same checks against another capsule-svc
# (the figures before a change). Time limits scale with CAPSULE_TIMEOUT_SCALE.
set -u
NAME=svc_limits
NEED="${CAPSULE_BUILD:-}/tests/floodclient ${CAPSULE_BUILD:-}/tests/loadclient"
. "$(cd "$(dirname "$0")/../lib" && pwd)/cli.sh"
FLOOD=$B/tests/floodclient
LOAD=$B/tests/loadclient
pids=()
on_exit() {
    local p
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
}
export CAPSULE_SVC_IDLE_TIMEOUT=0

# start_svc NAME [PREFIX...]: a service on a fresh home (env as set by the
# caller), logging to $H/svc.err; sets H, SPID; waits for its socket.
start_svc() {
    H=$tmp/$1
    shift
    mkdir -p "$H"
    export CAPSULE_HOME=$H
    "$@" "$SVC" --home "$H" --foreground >"$H/svc.err" 2>&1 &
    SPID=$!
    pids+=("$SPID")
    local i
    for i in $(seq 1 $((200 * S))); do
        [ -S "$H/run/svc.sock" ] && return 0
        sleep 0.05
    done
    fail "$H: the service did not start: $(cat "$H/svc.err")"
}
# stop_svc: SIGTERM, and the service must exit 0 within 10 s (under ASan
# that includes its leak check); SIGKILL if it does not.
stop_svc() {
    local i st
    kill -TERM "$SPID" 2>/dev/null
    for i in $(seq 1 $((200 * S))); do
        kill -0 "$SPID" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$SPID" 2>/dev/null && { fail "$H: the service ignored SIGTERM"; kill -9 "$SPID"; }
    wait "$SPID"
    st=$?
    [ $st -eq 0 ] || fail "$H: the service exited $st: $(grep -m3 -A3 'ERROR\|error' "$H/svc.err")"
}
# calls_work WHAT: the CLI and a load client get answers.
calls_work() {
    "$CAP" list vms >"$tmp/out" 2>&1 || fail "$1: capsule list vms: $(cat "$tmp/out")"
    "$LOAD" demo 5 >"$tmp/out" 2>&1 || fail "$1: loadclient: $(cat "$tmp/out")"
}
kib() { awk "/^$2:/ {print \$2}" "/proc/$1/status"; }

# ---- 40 partial 15 MiB frames ----------------------------------------------
start_svc partial env CAPSULE_SVC_FRAME_TIMEOUT=600000
"$CAP" createvm --name demo --register >/dev/null 2>&1 || fail "createvm demo"
base=$(kib "$SPID" VmRSS)
"$FLOOD" partial 40 15360 16384 $((20000 * S)) >"$tmp/flood.out" 2>&1 &
fpid=$!
pids+=("$fpid")
for i in $(seq 1 $((1200 * S))); do
    grep -q '^sent' "$tmp/flood.out" && break
    kill -0 "$fpid" 2>/dev/null || break
    sleep 0.05
done
sleep 0.5
rss=$(kib "$SPID" VmRSS)
hwm=$(kib "$SPID" VmHWM)
echo "partial frames: $(cat "$tmp/flood.out"); service RSS ${base} kB before, ${rss} kB" \
     "with 40 x 15 MiB partial frames (peak ${hwm} kB)"
grep -q '^sent 40' "$tmp/flood.out" || fail "floodclient partial: $(cat "$tmp/flood.out")"
[ "${hwm:-999999999}" -lt 65536 ] || fail "the service's peak RSS is ${hwm} kB (limit 64 MiB)"
calls_work "during 40 partial frames"
grep -q 'receive-buffer budget is exhausted' "$H/svc.err" ||
    fail "no log line about the buffer budget: $(tail -5 "$H/svc.err")"
kill -9 "$fpid" 2>/dev/null
stop_svc

# ---- more connections than the cap ------------------------------------------
start_svc cap env CAPSULE_SVC_MAX_CONNECTIONS=8
"$CAP" createvm --name demo --register >/dev/null 2>&1 || fail "createvm demo (cap)"
"$FLOOD" conns 12 $((5000 * S)) $((3000 * S)) >"$tmp/conns.out" 2>&1 &
fpid=$!
pids+=("$fpid")
for i in $(seq 1 $((200 * S))); do
    grep -q '^ok' "$tmp/conns.out" && break
    sleep 0.05
done
echo "over the cap: $(tr '\n' ' ' <"$tmp/conns.out")"
grep -q '^ok 8 refused 4 pending 0' "$tmp/conns.out" ||
    fail "12 connections with a cap of 8: $(cat "$tmp/conns.out")"
grep -q 'too many connections to the service' "$tmp/conns.out" ||
    fail "the refused client was not told why: $(cat "$tmp/conns.out")"
"$CAP" list vms >"$tmp/out" 2>&1 && fail "the CLI got in past the cap"
grep -q 'too many connections' "$tmp/out" || fail "the CLI's error past the cap: $(cat "$tmp/out")"
grep -q 'refused a connection from pid .*too many connections' "$H/svc.err" ||
    fail "no log line for the refusal: $(tail -5 "$H/svc.err")"
wait "$fpid"
sleep 0.3
calls_work "after the refused connections"
stop_svc

# ---- a frame left incomplete -------------------------------------------------
start_svc stall env CAPSULE_SVC_FRAME_TIMEOUT=500
"$FLOOD" idle $((2000 * S)) >"$tmp/idle.out" 2>&1 &
ipid=$!
"$FLOOD" stall 1000 $((5000 * S)) >"$tmp/stall.out" 2>&1 || fail "stall: $(cat "$tmp/stall.out")"
echo "incomplete frame: $(cat "$tmp/stall.out")"
ms=$(sed -n 's/^closed after \([0-9]*\) ms.*/\1/p' "$tmp/stall.out")
[ -n "$ms" ] && [ "$ms" -ge 450 ] || fail "closed too early or not at all: $(cat "$tmp/stall.out")"
grep -q 'incomplete for more than 500 ms' "$tmp/stall.out" || fail "stalled client not told why"
grep -q 'a frame was left incomplete for more than 500 ms' "$H/svc.err" ||
    fail "no log line for the stalled frame: $(tail -5 "$H/svc.err")"
wait "$ipid" || fail "an idle connection was closed: $(cat "$tmp/idle.out")"
"$CAP" list vms >"$tmp/out" 2>&1 || fail "after the stalled frame: $(cat "$tmp/out")"
stop_svc

# ---- out of file descriptors ---------------------------------------------------
# Three limits, so that both places where fds run out are hit: accept() itself
# and setting up the connection after it (which one depends on how many fds
# the service holds at start).
for nofile in 38 39 40; do
    start_svc "fds$nofile" env CAPSULE_SVC_MAX_CONNECTIONS=1000 \
        CAPSULE_SVC_MAX_CONNECTIONS_PER_UID=1000 prlimit --nofile=$nofile:$nofile
    "$FLOOD" conns 30 $((3000 * S)) $((1500 * S)) >"$tmp/fds.out" 2>&1
    echo "out of fds (nofile $nofile): $(tr '\n' ' ' <"$tmp/fds.out")"
    grep -q '^ok [0-9]* refused [0-9]* pending 0' "$tmp/fds.out" ||
        fail "nofile $nofile: clients left waiting when the service ran out of fds: $(cat "$tmp/fds.out")"
    grep -q '^first refusal: .*out of file descriptors' "$tmp/fds.out" ||
        fail "nofile $nofile: a client refused for want of fds was not told why: $(cat "$tmp/fds.out")"
    grep -q 'out of file descriptors' "$H/svc.err" ||
        fail "nofile $nofile: no 'out of file descriptors' in the log: $(grep ipc "$H/svc.err" | tail -3)"
    grep -q 'out of memory' "$H/svc.err" &&
        fail "nofile $nofile: fd exhaustion logged as memory: $(grep -m1 'out of memory' "$H/svc.err")"
    n=$(grep -c 'cannot accept connections' "$H/svc.err")
    [ "$n" -le 5 ] || fail "nofile $nofile: accept failures logged $n times (once per episode wanted)"
    n=$(grep -c 'refused a connection' "$H/svc.err")
    [ "$n" -le 5 ] || fail "nofile $nofile: $n refusals logged one by one (a summary line wanted)"
    "$CAP" list vms >"$tmp/out" 2>&1 || fail "nofile $nofile: after fd exhaustion: $(cat "$tmp/out")"
    stop_svc
done

finish
