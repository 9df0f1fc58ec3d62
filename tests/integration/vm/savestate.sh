#!/bin/sh
# tests/integration/vm/savestate.sh - a running VM saved and restored by
# capsule-vm (issue 17, the VM process's side): counter.bin prints a number
# on COM1 at each PIT tick (~100 Hz) and halts between them; the input
# feed's `save FILE` pauses it mid-count, writes the saved state and powers
# off (status 0); `--restore FILE` goes on from the next number: the
# serial output of both runs joined is one run of consecutive numbers (a
# gap of at most 2, none backwards). Under rem, under hm where KVM is
# usable, and across engines (saved under hm, restored under rem). Then the
# refusals, each before the guest runs (no serial output, status 4): the
# stream with one byte flipped (in the header, a unit, the RAM, the
# trailer), another --memory, another device list, a missing file; and a
# save that cannot be written (a folder that does not exist), which leaves
# the VM counting.
set -u
B=${CAPSULE_BUILD:?CAPSULE_BUILD must name the build directory}
. "$(cd "$(dirname "$0")/../../lib" && pwd)/skip.sh"
VM=$B/bin/capsule-vm
P=$B/tests/vm-payloads/counter.bin
S=${CAPSULE_TIMEOUT_SCALE:-1}
T=$(mktemp -d)
pids=
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
fails=0
ok() { echo "ok   $1"; }
fail() { echo "FAIL $1"; shift; for f in "$@"; do [ -f "$f" ] && sed 's/^/    /' "$f" | tail -20; done; fails=$((fails + 1)); }

# lines FILE: complete lines in FILE
lines() { if [ -f "$1" ]; then tr -cd '\n' <"$1" | wc -c; else echo 0; fi; }

# wait_lines FILE N: up to 10 s (scaled) for N lines
wait_lines() {
    i=0
    while [ "$(lines "$1")" -lt "$2" ] && [ $i -lt $((100 * S)) ]; do sleep 0.1; i=$((i + 1)); done
    [ "$(lines "$1")" -ge "$2" ]
}

# save NAME ENGINE STATE: runs the counter with a feed, saves after ~30
# ticks; the serial output in $T/NAME.out1.
save() {
    name=$1 eng=$2 st=$3
    rm -f "$T/feed" && mkfifo "$T/feed"
    timeout $((30 * S)) "$VM" --kernel "$P" --engine "$eng" --input-feed "$T/feed" \
        >"$T/$name.out1" 2>"$T/$name.err1" &
    vm=$!
    pids="$pids $vm"
    if ! wait_lines "$T/$name.out1" 30; then
        fail "$name: the counter did not count" "$T/$name.err1"
        kill $vm 2>/dev/null
        return 1
    fi
    echo "save $st" >"$T/feed"
    wait $vm
    s=$?
    if [ $s != 0 ] || ! grep -q "saved the state to $st: [0-9]* bytes" "$T/$name.err1" ||
        [ ! -s "$st" ] || [ -e "$st.tmp" ]; then
        fail "$name save: status $s" "$T/$name.err1"
        return 1
    fi
    ok "$name save ($(grep -o 'saved the state.*;' "$T/$name.err1"))"
}

# restore NAME ENGINE STATE SAVED: restores, lets it count ~1 s, checks the
# count went on from where the save SAVED left it.
restore() {
    name=$1 eng=$2 st=$3 sv=$4
    timeout -s TERM $((1 * S)) "$VM" --kernel "$P" --engine "$eng" --restore "$st" \
        >"$T/$name.out2" 2>"$T/$name.err2"
    s=$?
    if [ $s != 0 ] && [ $s != 124 ]; then
        fail "$name restore: status $s" "$T/$name.err2"
        return 1
    fi
    n2=$(lines "$T/$name.out2")
    last1=$(awk '/^[0-9]+$/ { n = $0 } END { print n + 0 }' "$T/$sv.out1")
    # joined, every line is the previous one plus 1 (2: a tick in flight)
    cat "$T/$sv.out1" "$T/$name.out2" >"$T/$name.all"
    bad=$(awk 'BEGIN { p = -1 } /^[0-9]+$/ { if (p >= 0 && ($0 <= p || $0 > p + 2)) { print NR ": " p " -> " $0; exit } p = $0; next } { print NR ": not a number: " $0; exit }' "$T/$name.all")
    first2=$(awk '/^[0-9]+$/ { print; exit }' "$T/$name.out2")
    if [ "$n2" -lt 20 ] || [ -n "$bad" ] || [ "${first2:-0}" -le "$last1" ]; then
        echo "    saved at $last1, restored run: $n2 lines from ${first2:-none}; $bad"
        fail "$name restore" "$T/$name.err2"
        return 1
    fi
    ok "$name restore (saved at $last1, went on at $first2, $n2 ticks)"
}

# refused NAME PATTERN ARGS...: status 4, PATTERN on stderr, no guest output
refused() {
    name=$1 pat=$2
    shift 2
    timeout $((10 * S)) "$VM" --kernel "$P" "$@" >"$T/r.out" 2>"$T/r.err"
    s=$?
    if [ $s = 4 ] && grep -q -- "$pat" "$T/r.err" && [ ! -s "$T/r.out" ]; then
        ok "$name"
    else
        echo "    status $s (want 4), pattern '$pat', $(lines "$T/r.out") guest lines"
        fail "$name" "$T/r.err"
    fi
}

save rem rem "$T/rem.sav" && restore rem rem "$T/rem.sav" rem
if need_kvm "savestate (hm)"; then
    save hm hm "$T/hm.sav" && restore hm hm "$T/hm.sav" hm &&
        restore hm-to-rem rem "$T/hm.sav" hm
fi

ST=$T/rem.sav
if [ -s "$ST" ]; then
    size=$(wc -c <"$ST")
    for off in 8 70 $((size / 2)) $((size - 30)) $((size - 2)); do
        cp "$ST" "$T/bad.sav"
        b=$(od -An -tu1 -j "$off" -N1 "$T/bad.sav" | tr -d ' ')
        printf "\\$(printf %03o $((b ^ 0x5a)))" |
            dd of="$T/bad.sav" bs=1 seek="$off" conv=notrunc 2>/dev/null
        refused "flipped byte at $off of $size" 'VMM_E_SSM_CORRUPT\|VMM_E_SSM_VERSION' \
            --engine rem --restore "$T/bad.sav"
    done
    refused "another --memory" 'another machine: RAM of 64 MiB, this VM has 128 MiB' \
        --engine rem --memory 128 --restore "$ST"
    refused "another device list" 'another machine: devices .*hpet' \
        --engine rem --no-device hpet --restore "$ST"
    refused "a missing file" "--restore '$T/none.sav'" --engine rem --restore "$T/none.sav"
fi

# A save that fails leaves the VM running: it says why and counts on.
rm -f "$T/feed" && mkfifo "$T/feed"
timeout $((30 * S)) "$VM" --kernel "$P" --engine rem --input-feed "$T/feed" \
    >"$T/nf.out" 2>"$T/nf.err" &
vm=$!
pids="$pids $vm"
if wait_lines "$T/nf.out" 10; then
    echo "save $T/no/such/dir/x.sav" >"$T/feed"
    n=$(($(lines "$T/nf.out") + 30))
    if wait_lines "$T/nf.out" $n && grep -q "input feed: line 1: .*no/such/dir" "$T/nf.err"; then
        ok "failed save: said, the VM counts on"
    else
        fail "failed save" "$T/nf.err"
    fi
else
    fail "failed save: the counter did not count" "$T/nf.err"
fi
kill $vm 2>/dev/null
wait $vm 2>/dev/null

[ $fails = 0 ] && echo "savestate: all passed" || echo "savestate: $fails FAILED"
[ $fails = 0 ]
