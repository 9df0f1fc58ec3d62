#!/bin/bash
# tests/integration/vm/vdi_crash.sh - crash safety of dynamic VDI images
# under a guest (issue 12): SeaBIOS boots vdi_crash.bin from a 1 GiB
# dynamic VDI on the PIIX3 IDE primary master (--engine rem); the payload
# writes rounds of sectors spread over the image's 1 MiB blocks (PIO
# sectors, and a bus-master DMA request across a block boundary), each
# round followed by FLUSH CACHE and then "synced R" on the debug console
# (vdi_crash.asm).
#  - kill -9 of capsule-vm at a random moment of the write loop, several
#    times: the images made by Capsule (clonemedium) and by qemu-img,
#    fresh ones (killed while the guest allocates blocks) and ones a
#    killed VM left (reopened by Capsule, killed while it rewrites);
#    after each kill `qemu-img check` finds no errors and every sector of
#    every round reported synced reads back (qemu-img convert to raw,
#    vdi_crash.py). One state is let through, loudly: the header's block
#    count one above the block map, which a kill leaves between the two
#    writes of a block whose map entry is past the map's first 4 KiB
#    (runtime/vd/vdi.c: no single write can hold both there); the next
#    read-write open repairs it, which is then checked;
#  - a power-off and a restart: the payload writes 127 rounds (1524
#    sectors: 254 new blocks, then more sectors in them), flushes once,
#    records that in a state sector and powers off (debug-exit); qemu-img
#    finds the image clean and the data in it; a second boot's payload
#    reads every sector back and compares (and finds a sector changed
#    behind its back, with qemu-io).
# The kill points come from a seed printed first; VDI_CRASH_SEED=N runs
# the same ones again, VDI_CRASH_KILLS=N sets how many (default 8).
set -u
NAME=vdi_crash
NEED="${CAPSULE_BUILD:-}/bin/capsule-vm"
. "$(cd "$(dirname "$0")/../../lib" && pwd)/cli.sh"
VM=$B/bin/capsule-vm
PAY=$B/tests/vm-payloads/vdi_crash.bin
# Debian's python3 when there is one: a version manager's shim in PATH can
# take a second to start, and the script runs it after every kill
py3=/usr/bin/python3
[ -x $py3 ] || py3=python3
PY="$py3 $(cd "$(dirname "$0")" && pwd)/vdi_crash.py"
BIOS=/usr/share/seabios/bios-256k.bin
MIB=1024
for need in "$BIOS:Debian's seabios package" /usr/bin/qemu-img:qemu-utils; do
    if [ ! -e "${need%%:*}" ]; then
        echo "FAIL: $NAME: ${need%%:*} is missing: install ${need#*:} (tools/setup.sh does)"
        exit 1
    fi
done
[ -e "$PAY" ] || { echo "FAIL: $PAY is not built"; exit 1; }
seed=${VDI_CRASH_SEED:-$(($(date +%s%N) / 1000 % 1000000000))}
kills=${VDI_CRASH_KILLS:-8}
RANDOM=$seed
echo "$NAME: seed $seed (VDI_CRASH_SEED=$seed repeats the kill points)"
run_id=$(printf '0x%08x' $(((seed * 2654435761) & 0xffffffff)))

ms() { echo $(($(date +%s%N) / 1000000)); }

# vmstart IMAGE [ARGS]: capsule-vm booting IMAGE in the background ($vm),
# its debug console in $tmp/dc, its log in $tmp/vmlog.
vmstart() {
    rm -f "$tmp/dc"
    "$VM" --firmware bios --engine rem --serial none --debug-exit "${@:2}" \
        --device "debugcon,path=$tmp/dc" \
        --drive "if=ide,port=0,device=0,media=disk,file=$1" >"$tmp/vmlog" 2>&1 &
    vm=$!
}

# vmwait: until capsule-vm ends (killed after 30 s): its status in $st
vmwait() {
    timeout $((30 * S)) tail --pid=$vm -f /dev/null || kill -9 $vm 2>/dev/null
    wait $vm
    st=$?
}

# synced: the last round the payload reported synced (0: none yet)
synced() {
    local last
    last=$(grep -a '^synced ' "$tmp/dc" | tail -1)
    echo $((16#${last#synced } + 0))
}

# waitboot: until the payload's "boot" line (1 if capsule-vm ended first)
waitboot() {
    for _ in $(seq $((500 * S))); do
        grep -qa '^boot ' "$tmp/dc" 2>/dev/null && return 0
        kill -0 $vm 2>/dev/null || return 1
        sleep 0.02
    done
    return 1
}

# clean IMAGE WHAT [killed]: qemu-img check finds no errors (after a kill:
# or only the count one above the map, $window=1); the image as raw in
# $tmp/back.raw
clean() {
    window=0
    if qemu-img check -f vdi "$1" >"$tmp/check" 2>&1 && grep -q "No errors" "$tmp/check"; then
        :
    elif [ "${3:-}" = killed ] && [ "$(grep -c ERROR "$tmp/check")" = 1 ] &&
        grep -q "^1 errors were found" "$tmp/check" &&
        m=$(sed -n 's/^ERROR: allocated blocks mismatch, is \([0-9]*\), should be \([0-9]*\)$/\1 \2/p' \
            "$tmp/check") && [ -n "$m" ] && [ $((${m% *} + 1)) = "${m#* }" ]; then
        echo "note $2: killed between a block's count and map entry: $(grep ERROR "$tmp/check")"
        window=1
    else
        fail "$2: qemu-img check: $(cat "$tmp/check")"
        return 1
    fi
    qemu-img convert -f vdi -O raw "$1" "$tmp/back.raw" || { fail "$2: qemu-img convert"; return 1; }
}

# ---- the images: the payload in block 0, the other blocks unallocated ------
$PY mkraw "$PAY" "$tmp/loop.raw" "$run_id" 1 0 $MIB || exit 1
$PY mkraw "$PAY" "$tmp/once.raw" "$run_id" 2 127 $MIB || exit 1
for m in loop once; do
    ok clonemedium "$tmp/$m.raw" "$tmp/$m-capsule.vdi" --format VDI
    qemu-img convert -f raw -O vdi "$tmp/$m.raw" "$tmp/$m-qemu.vdi" || fail "qemu-img convert $m"
done
for f in "$tmp"/*.vdi; do # dynamic, only block 0 allocated
    size=$(stat -c %s "$f")
    [ "$size" -lt $((3 << 20)) ] || fail "$(basename "$f") is $size bytes: not a dynamic image?"
done
[ $fails = 0 ] || finish

# ---- kill -9 during the write loop ------------------------------------------
# Even kills: a fresh image, killed once the guest reports a random round
# of the first 120 synced (it allocates: each of the first 127 rounds takes
# 5 or 6 new blocks, 254 in all); odd ones: the image the kill before left,
# reopened, killed a random time within 1.2 s (its blocks rewritten, the
# rest allocated).
total=0
for i in $(seq 0 $((kills - 1))); do
    maker=$([ $((i / 2 % 2)) = 0 ] && echo capsule || echo qemu)
    if [ $((i % 2)) = 0 ]; then
        cp --sparse=always "$tmp/loop-$maker.vdi" "$tmp/k.vdi"
        target=$((RANDOM % 120))
        when="fresh, round $target synced"
    else
        delay=$((RANDOM % 1200))
        when="reopened, ${delay} ms"
    fi
    t0=$(ms)
    vmstart "$tmp/k.vdi"
    if ! waitboot; then
        kill -9 $vm 2>/dev/null
        wait $vm 2>/dev/null
        fail "kill $i: the payload did not start"
        sed 's/^/    /' "$tmp/vmlog" | tail -20
        continue
    fi
    if [ $((i % 2)) = 0 ]; then
        until [ "$(synced)" -ge $target ] || ! kill -0 $vm 2>/dev/null; do
            sleep 0.002
        done
    else
        sleep "$((delay / 1000)).$(printf %03d $((delay % 1000)))"
    fi
    kill -9 $vm
    wait $vm 2>/dev/null
    st=$?
    total=$((total + 1))
    if [ $st != 137 ]; then
        fail "kill $i: capsule-vm ended with status $st before the kill"
        sed 's/^/    /' "$tmp/vmlog" | tail -20
        continue
    fi
    what="kill $i ($maker image, $when)"
    clean "$tmp/k.vdi" "$what" killed || continue
    if out=$($PY killed "$tmp/back.raw" "$tmp/dc"); then
        pass "$what: qemu-img check clean, $out ($(($(ms) - t0)) ms)"
    else
        fail "$what: $out"
    fi
    if [ $window = 1 ]; then # Capsule's read-write open repairs the count
        vmstart "$tmp/k.vdi"
        waitboot
        kill -9 $vm
        wait $vm 2>/dev/null
        clean "$tmp/k.vdi" "$what, reopened" && pass "$what: reopened: qemu-img check clean"
    fi
done

# ---- power-off and restart --------------------------------------------------
for maker in capsule qemu; do
    img=$tmp/once-$maker.vdi
    t0=$(ms)
    vmstart "$img" --stats
    vmwait
    # the block layer saw the two FLUSH CACHE commands and 636 writes: 127
    # rounds of 4 PIO sectors and one 8-sector DMA request, the state sector
    for want in "Flushes 2 count" "Writes 636 count" "WriteBytes $(((127 * 12 + 1) * 512)) bytes"; do
        grep -q "^/PDM/Blk/piix3ide0/LUN0/$want" "$tmp/vmlog" ||
            fail "power-off ($maker image): --stats lacks '$want': $(grep Blk "$tmp/vmlog")"
    done
    if [ $st != 99 ] || ! grep -qa '^written 0000007f' "$tmp/dc"; then
        fail "power-off ($maker image): status $st (want 99), no 'written 0000007f'"
        sed 's/^/    /' "$tmp/vmlog" | tail -20
        grep -a -v '^synced' "$tmp/dc" | tail -5 | sed 's/^/    /'
        continue
    fi
    clean "$img" "power-off ($maker image)" || continue
    out=$($PY all "$tmp/back.raw" "$run_id" 127) || { fail "power-off ($maker image): $out"; continue; }
    pass "power-off ($maker image): written, flushed, powered off: qemu-img check clean, $out"
    vmstart "$img"
    vmwait
    if [ $st != 103 ] || ! grep -qa '^verified 0000007f' "$tmp/dc"; then
        fail "restart ($maker image): status $st (want 103): $(grep -a FAILED "$tmp/dc")"
        sed 's/^/    /' "$tmp/vmlog" | tail -20
        continue
    fi
    pass "restart ($maker image): the guest read the 1524 sectors back ($(($(ms) - t0)) ms both boots)"
done
# and the guest's comparison sees a change: one sector of the last round's
# DMA write (the first LBA of block 9) overwritten behind its back
bad=$((9 * 2048))
if qemu-io -f vdi -c "write -P 0x55 $((bad * 512)) 512" "$tmp/once-capsule.vdi" >"$tmp/qio" 2>&1; then
    vmstart "$tmp/once-capsule.vdi"
    vmwait
    want=$(printf 'verify FAILED at LBA %08x' $bad)
    [ $st = 123 ] && grep -qa "^$want" "$tmp/dc" && pass "a changed sector: '$want'" ||
        fail "a changed sector: status $st (want 123), no '$want'"
else
    fail "qemu-io could not change the image: $(cat "$tmp/qio")"
fi

echo "$NAME: $total kill points (seed $seed)"
finish
