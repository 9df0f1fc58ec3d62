#!/bin/bash
# tests/bench/bindings/run.sh - the cost of one IPC call (ICapsule's revision
# getter) from Python vs from C, against one capsule-svc in a temporary
# CAPSULE_HOME; prints both and the ratio. Kills the service at the end.
set -u
B=${CAPSULE_BUILD:?}
here=$(cd "$(dirname "$0")" && pwd)
N=${BENCH_N:-20000}
RUN=
if ldd "$B/lib/libcapsule-rt.so" | grep -q libasan; then
    RUN="env LD_PRELOAD=$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0"
    echo "bench-bindings: note: an asan build; numbers are not representative"
fi
tmp=$(mktemp -d /tmp/capsule-bench-bind.XXXXXX)
export CAPSULE_HOME=$tmp/home
cleanup() {
    local pid
    for pid in $(pgrep -f -- "capsule-svc .*$CAPSULE_HOME( |\$)" 2>/dev/null); do kill -9 "$pid"; done
    rm -rf "$tmp"
}
trap cleanup EXIT
"$B/bench/bench_bindings" 200 "$B/bin/capsule-svc" >/dev/null || exit 1 # starts the service
cout=$("$B/bench/bench_bindings" "$N" "$B/bin/capsule-svc") || exit 1
c=$(echo "$cout" | awk '/^c_ns/ {print $2}')
cl=$(echo "$cout" | awk '/^c_local/ {print $2}')
out=$(PYTHONPATH=$B/python $RUN python3 "$here/bench_bindings.py" "$N") || exit 1
py=$(echo "$out" | awk '/^py_ns/ {print $2}')
core=$(echo "$out" | awk '/^py_core/ {print $2}')
pl=$(echo "$out" | awk '/^py_local/ {print $2}')
echo "one IPC call (ICapsule revision getter), best of 5 x $N calls:"
echo "  C  (generated helper):            $c ns"
echo "  Python (c.revision):              $py ns"
echo "  Python (bare core frame calls):   $core ns"
awk -v c="$c" -v p="$py" -v k="$core" 'BEGIN { printf "  ratio Python/C: %.2f (bare core %.2f)\n", p / c, k / c }'
echo "in-process call (ISession state getter, no IPC: the binding's own cost):"
echo "  C: $cl ns   Python: $pl ns"
awk -v c="$cl" -v p="$pl" 'BEGIN { printf "  Python overhead per call: %.0f ns (ratio %.0f)\n", p - c, p / c }'
