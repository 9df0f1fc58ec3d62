#!/bin/bash
# tests/integration/net/net_hostile.sh - a hostile guest against virtio-net
# on the NAT (capsule-vm --nic nat,model=virtio), without a BIOS: net_hostile.bin
# drives the function by hand and lies to it - a looping transmit chain and
# a transmit buffer outside RAM (DEVICE_NEEDS_RESET, said once in the log
# each), zero-length and almost-4-GiB buffers (dropped, returned), a storm
# of 256 chains at one notify (all returned, in bounded batches) - then
# gets the NAT's ARP reply to its request into a receive buffer. The ARP
# replies to the storm find no receive buffer: dropped and counted
# (/PDM/Net/virtionet0/RxDropped). Bad --nic arguments end with a clear
# error and status 2. Under a second.
set -u
B=${CAPSULE_BUILD:?CAPSULE_BUILD must name the build directory}
VM=$B/bin/capsule-vm
PAY=$B/tests/vm-payloads
S=${CAPSULE_TIMEOUT_SCALE:-1}
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

timeout $((30 * S)) "$VM" --kernel "$PAY/net_hostile.bin" --engine rem --debug-exit \
    --serial "file:$T/serial" --nic nat,model=virtio --stats >"$T/log" 2>&1
st=$?
if [ "$st" != 75 ] || ! grep -q "arp reply" "$T/serial"; then
    fail "hostile: status $st (want 75)"
    sed 's/^/    /' "$T/serial"
    grep -v debugcon "$T/log" | tail -10 | sed 's/^/    /'
fi
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
echo "net-hostile: ok"
