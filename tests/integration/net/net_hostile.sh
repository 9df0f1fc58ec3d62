#!/bin/bash
# tests/integration/net/net_hostile.sh - a hostile guest against virtio-net
# on the NAT (capsule-vm --nic nat,model=virtio), without a BIOS: net_hostile.bin
# drives the function by hand and lies to it - a looping transmit chain and
# a transmit buffer outside RAM (DEVICE_NEEDS_RESET, said once in the log
# each), zero-length and almost-4-GiB buffers (dropped, returned), a storm
# of 256 chains at one notify (all returned, in bounded batches) - then
# gets the NAT's ARP reply to its request into a receive buffer. The ARP
# replies to the storm find no receive buffer: dropped and counted
# (/PDM/Net/virtionet0/RxDropped). Then the same for the Intel 82540EM
# (--nic nat,model=e1000) with tests/guests/hostile/e1000_hostile.c. Bad
# --nic arguments end with a clear error and status 2. About a second.
set -u
B=${CAPSULE_BUILD:?CAPSULE_BUILD must name the build directory}
VM=$B/bin/capsule-vm
PAY=$B/tests/vm-payloads
S=${CAPSULE_TIMEOUT_SCALE:-1}
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# hostile NAME PAYLOAD MODEL STATUS: runs PAYLOAD on one adapter of MODEL
# (the serial in $T/NAME.serial, the VM's log in $T/NAME.log); fails unless
# it ends with STATUS and its serial says "arp reply".
hostile() {
    timeout $((30 * S)) "$VM" --kernel "$2" --engine rem --debug-exit \
        --serial "file:$T/$1.serial" --nic "nat,model=$3" --stats >"$T/$1.log" 2>&1
    local st=$?
    if [ "$st" != "$4" ] || ! grep -q "^arp reply" "$T/$1.serial"; then
        fail "$1 hostile: status $st (want $4)"
        sed 's/^/    /' "$T/$1.serial"
        grep -v debugcon "$T/$1.log" | tail -10 | sed 's/^/    /'
    fi
}

hostile virtio "$PAY/net_hostile.bin" virtio 75
mv "$T/virtio.log" "$T/log"
for why in "a loop in the descriptor chain" "a transmit buffer outside RAM"; do
    n=$(grep -c "the driver broke the protocol ($why" "$T/log")
    [ "$n" = 1 ] || fail "hostile: the log says '$why' $n times, want once"
done
txf=$(sed -n 's|^/PDM/Net/virtionet0/TxFrames *\([0-9]*\).*|\1|p' "$T/log")
rxd=$(sed -n 's|^/PDM/Net/virtionet0/RxDropped *\([0-9]*\).*|\1|p' "$T/log")
rxf=$(sed -n 's|^/PDM/Net/virtionet0/RxFrames *\([0-9]*\).*|\1|p' "$T/log")
[ "$txf" = 257 ] || fail "TxFrames $txf, want 257 (the storm and the last request)"
[ "$rxf" = 1 ] || fail "RxFrames $rxf, want 1 (the reply with a buffer)"
[ -n "$rxd" ] && [ "$rxd" -gt 0 ] 2>/dev/null || fail "RxDropped '$rxd', want > 0"

# The e1000 (tests/guests/hostile/e1000_hostile.c): every lie said in the
# log (at most 8 lines per reset, the 65527 bad buffers of the largest ring
# included), the storm's 10200 requests sent or dropped (PDM's queue is
# bounded), the last ARP reply in its buffer, the runtime's PASS (33).
hostile e1k "$B/guests/hostile/e1000-hostile.elf" e1000 33
for why in "the transmit descriptor ring is outside RAM" "a transmit buffer is outside RAM" \
    "TDH or TDT beyond the transmit ring" "RDH or RDT beyond the receive ring" \
    "a transmit packet larger than 64 KiB" "a TSO context that does not fit its packet" \
    "a transmit descriptor of an unknown type" "the receive descriptor ring is outside RAM" \
    "a receive buffer is outside RAM"; do
    grep -q "e10000: the driver's mistake: $why" "$T/e1k.log" || fail "e1000 hostile: the log lacks '$why'"
done
n=$(grep -c "the driver's mistake" "$T/e1k.log")
[ "$n" -le 24 ] || fail "e1000 hostile: $n lines about mistakes, want them bounded (8 per reset)"
e1k_tx=$(sed -n 's|^/PDM/Net/e10000/TxFrames *\([0-9]*\).*|\1|p' "$T/e1k.log")
e1k_txd=$(sed -n 's|^/PDM/Net/e10000/TxDropped *\([0-9]*\).*|\1|p' "$T/e1k.log")
[ $((${e1k_tx:-0} + ${e1k_txd:-0})) -ge 10200 ] ||
    fail "e1000 hostile: TxFrames $e1k_tx + TxDropped $e1k_txd, want the storm's 10200 at least"

# bad --nic: a clear error, status 2, no VM
expect() {
    local pat=$1
    shift
    "$VM" --kernel "$PAY/net_hostile.bin" --engine rem "$@" >"$T/bad" 2>&1
    local st=$?
    [ "$st" = 2 ] || fail "$* exited $st, want 2"
    grep -qF -- "$pat" "$T/bad" || fail "$* said '$(head -1 "$T/bad")', want '$pat'"
}
expect "unknown model 'rtl8139' (e1000, 82540EM, virtio)" --nic nat,model=rtl8139
expect "hostfwd 'tcp:22' is not" --nic nat,hostfwd=tcp:22
expect "attachment 'bridged' is not in this build yet" --nic bridged
# a forwarded port that is taken: the VM does not start (status 4)
python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); print(s.getsockname()[1]); import sys; sys.stdout.flush(); import time; time.sleep(30)' >"$T/port" &
holder=$!
n=0
while [ ! -s "$T/port" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
port=$(cat "$T/port")
"$VM" --kernel "$PAY/net_hostile.bin" --engine rem --nic "nat,model=virtio,hostfwd=tcp::$port-:22" >"$T/taken" 2>&1
st=$?
kill $holder 2>/dev/null
[ "$st" = 4 ] || fail "a taken host port: status $st, want 4"
grep -q "cannot forward tcp 127.0.0.1:$port to the guest's port 22" "$T/taken" ||
    fail "a taken host port: '$(grep -v debugcon "$T/taken" | tail -1)'"
if [ $fails -ne 0 ]; then
    echo "net-hostile: $fails failure(s)"
    exit 1
fi
echo "net-hostile: loop, DMA outside RAM, zero/huge buffers, a 256-chain storm survived; the ARP reply arrived; $rxd replies dropped for want of buffers; bad --nic refused"
echo "net-hostile: e1000: rings outside RAM, the largest ring, heads past the rings, zero/80 KB/TSO/unknown descriptors, a storm of 10200 ($e1k_txd dropped by PDM's queue) survived; the ARP reply arrived"
echo "net-hostile: ok"
