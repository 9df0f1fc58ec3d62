#!/bin/sh
# tests/guests/hostile.sh - hostile guests against the host's disk (issue
# 19, item 3). Each payload of BUILD/guests/hostile/ floods the VMM with
# things it logs - POST codes (port80-flood), resets through the i8042
# (reset-loop), a new unclaimed port each time and a reset after each walk
# (port-walk) - and runs for a bounded time (CAPSULE_HOSTILE_SECONDS,
# default 10) under capsule-vm --engine rem (CAPSULE_HOSTILE_ENGINE) with
# its stderr, the VM log, in a file, as capsule-svc gives it
# capsule-vm.log. Checks, per payload:
#   - the VM log (without --stats' table) stays under BOUND bytes
#     (CAPSULE_HOSTILE_LOG_BOUND, default 256 KiB; before the rate limit,
#     port80-flood wrote ~28 MB a second);
#   - it says how many lines the rate limit suppressed;
#   - the guest kept running: --stats' I/O count on the flooded port or its
#     reset count is above a floor, and SIGTERM powered it off (status 0).
# Then the log's own bound: port80-flood with --log-max 1024 writes at most
# that in VMM lines (plus capsule-vm's own few, the line that says so and
# the count at the end: under 2 KiB).
# Prints the sizes; exits non-zero on any failure.
set -u
build=${CAPSULE_BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
vm=$build/bin/capsule-vm
dir=$build/guests/hostile
secs=${CAPSULE_HOSTILE_SECONDS:-10}
engine=${CAPSULE_HOSTILE_ENGINE:-rem}
bound=${CAPSULE_HOSTILE_LOG_BOUND:-262144}
for f in "$vm" "$dir/port80-flood.elf" "$dir/reset-loop.elf" "$dir/port-walk.elf"; do
    [ -e "$f" ] || { echo "hostile: $f is not built (scons guests capsule-vm)"; exit 1; }
done
tmp=$(mktemp -d /tmp/capsule-hostile.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: hostile: $*"; fails=$((fails + 1)); }

# run NAME SECONDS [capsule-vm options]: the VM log in $tmp/NAME.log, the
# status in $rc, the log's size without --stats' table in $size.
run() {
    name=$1 s=$2
    shift 2
    timeout --preserve-status -s TERM "$s" "$vm" --kernel "$dir/$name.elf" --engine "$engine" \
        --serial "file:$tmp/$name.serial" --stats "$@" 2>"$tmp/$name.log"
    rc=$?
    size=$(sed '/^== EM statistics/,$d' "$tmp/$name.log" | wc -c)
}
# stat NAME 'PATTERN': the number after the first line of --stats matching it
stat() { sed -n "s|^$2 *\([0-9][0-9]*\).*|\1|p" "$tmp/$1.log" | head -1; }

# check NAME WHAT FLOOR: WHAT is a statistic of --stats' registry listing
# ("/IOM/Ports/0x0080/Writes", "/EM/Resets")
check() {
    name=$1 what=$2 floor=$3
    run "$name" "$secs"
    n=$(stat "$name" "$what")
    n=${n:-0}
    echo "hostile: $name: ${secs} s under $engine, VM log $size bytes, $what: $n"
    # timeout's SIGTERM: capsule-vm powers the VM off and exits 0
    [ $rc -eq 0 ] || fail "$name: capsule-vm exited $rc (expected 0 after SIGTERM): $(tail -3 "$tmp/$name.log")"
    [ "$size" -lt "$bound" ] || fail "$name: the VM log has $size bytes after $secs s (bound $bound)"
    grep -q 'messages suppressed (rate limit' "$tmp/$name.log" ||
        fail "$name: the log does not say what the rate limit suppressed"
    [ "$n" -ge "$floor" ] || fail "$name: $what is $n after $secs s (the guest stalled? floor $floor)"
}

check port80-flood "/IOM/Ports/0x0080/Writes" 100000
check reset-loop "/EM/Resets" 1000
check port-walk "/EM/Resets" 5

# The log's bound: past --log-max lines are dropped, said once, counted at the end.
run port80-flood 3 --log-max 1024
echo "hostile: port80-flood with --log-max 1024: VM log $size bytes"
grep -q 'this log reached its bound of 1024 bytes' "$tmp/port80-flood.log" ||
    fail "--log-max: the log does not say it reached its bound"
grep -q 'lines were dropped past the log.s bound of 1024 bytes' "$tmp/port80-flood.log" ||
    fail "--log-max: no count of the dropped lines at the end"
[ "$size" -le 2048 ] || fail "--log-max 1024: the log has $size bytes"

if [ $fails -ne 0 ]; then
    echo "hostile: $fails failure(s)"
    exit 1
fi
echo "hostile: all passed"
