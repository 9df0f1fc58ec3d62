# tests/lib/cli.sh - what an integration script that drives the capsule CLI
# against its own capsule-svc needs (sourced, bash). Before sourcing, set
# NAME (the script's name, for messages) and NEED (files that must be
# built, besides capsule and capsule-svc). Gives:
#   B, S, CAP       the build, the time scale, the CLI
#   tmp, CAPSULE_HOME  a fresh temporary home; at exit every capsule-svc and
#                   capsule-vm of that home is killed and tmp removed
#   fail MSG        counts a failure;  finish  reports and exits
#   run ARGS...     runs capsule: $rc, $out, $err (files $tmp/out, $tmp/err)
#   ok ARGS...      run, which must succeed
#   expect RC PATTERN ARGS...  run, which must exit RC and say PATTERN
#                   (grep -E) on stderr
#   mr VM KEY       a value of showvminfo --machinereadable (quoted)
#   wait_state VM STATE  polls VMState until it is STATE (10 s; fail if not)
#   svc_pid         the pid of this home's capsule-svc (empty: none runs)
#   kill_svc [PID]  SIGKILLs it and waits until it is gone; the next
#                   capsule command starts a fresh service
B=${CAPSULE_BUILD:?CAPSULE_BUILD must name the build directory}
S=${CAPSULE_TIMEOUT_SCALE:-1}
CAP=$B/bin/capsule
fails=0
fail() { echo "FAIL: $NAME: $*"; fails=$((fails + 1)); }
for f in "$CAP" "$B/bin/capsule-svc" ${NEED:-}; do
    [ -e "$f" ] || { echo "FAIL: $f is not built"; exit 1; }
done
tmp=$(mktemp -d "/tmp/capsule-$NAME.XXXXXX")
export CAPSULE_HOME=$tmp/home
cli_cleanup() {
    local pid
    for pid in $(pgrep -f -- "capsule-(svc|vm) .*$CAPSULE_HOME( |\$)" 2>/dev/null); do
        kill -9 "$pid" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cli_cleanup EXIT
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
