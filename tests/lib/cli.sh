# tests/lib/cli.sh - what an integration script that drives the capsule CLI
# (and capsule-svc, capsule-vm) in a temporary home needs; sourced, bash.
# Before sourcing, set NAME (the script's name, for messages and the
# temporary folder) and NEED (files that must be built, besides capsule and
# capsule-svc). Gives:
#   B, S, CAP, SVC  the build, the time scale (CAPSULE_TIMEOUT_SCALE), the
#                   CLI, the service (CAPSULE_SVC_BIN overrides it)
#   tmp, CAPSULE_HOME  a fresh temporary folder and a home in it; at exit
#                   every capsule-svc and capsule-vm of a home under tmp
#                   is killed, on_exit runs (if the script defines it:
#                   its own processes, mounts) and tmp is removed
#   newhome         another fresh home under tmp: H and CAPSULE_HOME
#   fail MSG        counts a failure;  pass MSG  says one check passed;
#                   finish  reports and exits (1 after any failure)
#   run ARGS...     runs capsule (no input): $rc, $out, $err (files $tmp/out,
#                   $tmp/err), $ms (how long it took)
#   ok ARGS...      run, which must succeed
#   expect RC PATTERN ARGS...  run, which must exit RC and say PATTERN
#                   (grep -E) on stderr
#   mr VM KEY       a value of showvminfo --machinereadable (quoted)
#   expect_mr VM KEY VALUE  mr must give VALUE
#   wait_state VM STATE  polls VMState until it is STATE (10 s; fail if not)
#   svc_pid, svc_count  this home's capsule-svc (pid; how many run)
#   kill_svc [PID]  SIGKILLs it (default: svc_pid) and waits until it is
#                   gone; the next capsule command starts a fresh service
# A service linked with ASan gets no quarantine (freed memory would look
# like growth in the load tests).
B=${CAPSULE_BUILD:?CAPSULE_BUILD must name the build directory}
S=${CAPSULE_TIMEOUT_SCALE:-1}
CAP=$B/bin/capsule
SVC=${CAPSULE_SVC_BIN:-$B/bin/capsule-svc}
fails=0
fail() { echo "FAIL: $NAME: $*"; fails=$((fails + 1)); }
pass() { echo "ok   $*"; }
for f in "$CAP" "$SVC" ${NEED:-}; do
    [ -e "$f" ] || { echo "FAIL: $f is not built"; exit 1; }
done
tmp=$(mktemp -d "/tmp/capsule-$NAME.XXXXXX")
export CAPSULE_HOME=$tmp/home
cli_cleanup() {
    local pid
    for pid in $(pgrep -f -- "capsule-(svc|vm) .*$tmp/" 2>/dev/null); do
        kill -9 "$pid" 2>/dev/null
    done
    if declare -F on_exit >/dev/null; then on_exit; fi
    rm -rf "$tmp"
}
trap cli_cleanup EXIT
PY_RUN= # prefix for a python3 that loads the bindings (asan: libasan first)
if ldd "$SVC" 2>/dev/null | grep -q libasan; then
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
    PY_RUN="env LD_PRELOAD=$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:handle_segv=0:allow_user_segv_handler=1"
fi
newhome() {
    H=$(mktemp -d "$tmp/home.XXXXXX")
    export CAPSULE_HOME=$H
}
run() {
    local t0
    t0=$(date +%s%N)
    timeout $((60 * S)) "$CAP" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
    ms=$((($(date +%s%N) - t0) / 1000000))
    out=$(cat "$tmp/out")
    err=$(cat "$tmp/err")
}
ok() {
    run "$@"
    [ $rc -eq 0 ] && echo "ok   capsule $*" || fail "capsule $* exited $rc: $err"
}
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
mr() { "$CAP" showvminfo "$1" --machinereadable 2>/dev/null | sed -n "s/^$2=//p"; }
expect_mr() {
    local got
    got=$(mr "$1" "$2")
    [ "$got" = "$3" ] || fail "showvminfo $1: $2 is [$got], want [$3]"
}
wait_state() {
    local i
    for i in $(seq $((100 * S))); do
        [ "$(mr "$1" VMState)" = "\"$2\"" ] && return 0
        sleep 0.1
    done
    fail "$1 did not become $2 (VMState $(mr "$1" VMState))"
    return 1
}
svc_pid() { pgrep -f -- "capsule-svc .*$CAPSULE_HOME( |\$)" | head -1; }
svc_count() { pgrep -fc -- "capsule-svc .*$CAPSULE_HOME( |\$)"; }
# A killed process keeps its socket open until the kernel has finished it:
# wait until it is dead or a zombie.
kill_svc() {
    local i st pid=${1:-$(svc_pid)}
    [ -n "$pid" ] || return 0
    kill -9 "$pid"
    for i in $(seq 1 $((100 * S))); do
        st=$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
        [ -z "$st" ] || [ "$st" = Z ] && return 0
        sleep 0.05
    done
    fail "service $pid still alive $((5 * S)) s after SIGKILL"
}
finish() {
    if [ $fails -ne 0 ]; then
        echo "$NAME: $fails failure(s)"
        exit 1
    fi
    echo "$NAME: all passed"
    exit 0
}
