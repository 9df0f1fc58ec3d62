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
finish() {
    if [ $fails -ne 0 ]; then
        echo "$NAME: $fails failure(s)"
        exit 1
    fi
    echo "$NAME: all passed"
    exit 0
}
