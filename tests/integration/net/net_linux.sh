#!/bin/bash
# tests/integration/net/net_linux.sh [MODEL] - a network adapter of MODEL
# (virtio, the default here: virtio-net of plugins/devices/virtio; e1000:
# the Intel 82540EM of plugins/devices/e1000, net_linux_e1000.sh) on PDM's
# NAT backend (libslirp, vmm/pdm/pdm_nat.c) driven by Linux: the guest
# kit's Debian kernel under --engine rem with its driver module
# (virtio_net or e1000, guestkit.sh's modules.gz), two adapters:
#   --nic nat,model=M,hostfwd=tcp:127.0.0.1:HPORT-:22,trace=PCAP  (00:03.0, eth0)
#   --nic nat,model=M,mac=52:54:00:ab:cd:ef,link=off             (00:04.0, eth1)
# One boot checks:
#  - eth0 has the default MAC 52:54:00:12:34:56, eth1 the given one; eth1's
#    carrier is 0 (virtio: VIRTIO_NET_F_STATUS without LINK_UP; e1000: the
#    PHY's BMSR without link), eth0's 1; both are bound to MODEL's driver;
#  - busybox udhcpc on eth0 gets 10.0.2.15/255.255.255.0, router 10.0.2.2,
#    DNS 10.0.2.3 (slirp's DHCP server);
#  - wget http://10.0.2.2:PORT/blob from an HTTP server this test runs on
#    127.0.0.1 (python3) returns the 300 KB file, same sha256;
#  - a guest `nc -l -p 22` is reached from the host through the forwarded
#    port: the guest reads the host's line, the host reads the 300 KB file
#    the guest sends back, same sha256 (guest -> host in bulk: the e1000's
#    TSO and checksum offload as Linux uses them);
#  - the pcap (trace=) reads with tcpdump -r and holds the DHCP request
#    from the guest's MAC and the server's reply;
#  - /PDM/Net/<device>0 counted frames both ways (--stats).
# The kernel log must be free of oopses and warnings. Fails (does not
# skip) when the kit cannot be fetched; skips only on a host without
# Debian's tools (tests/lib/guestkit.sh). About 20 s.
set -u
MODEL=${1:-virtio}
case $MODEL in
virtio) T=net-linux DEV=virtionet DRIVER=virtio_net ;;
e1000) T=net-linux-e1000 DEV=e1000 DRIVER=e1000 ;;
*)
    echo "net_linux.sh: unknown model '$MODEL' (virtio, e1000)"
    exit 2
    ;;
esac
B=${CAPSULE_BUILD:?CAPSULE_BUILD must name the build directory}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
KIT=$TOP/tools/guestkit/guestkit.sh
VM=$B/bin/capsule-vm
LIMIT=$((120 * ${CAPSULE_TIMEOUT_SCALE:-1}))
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
tmp=$(mktemp -d)
pid=
http=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; [ -n "$http" ] && kill "$http" 2>/dev/null; rm -rf "$tmp"' EXIT

. "$TOP/tests/lib/skip.sh"
. "$TOP/tests/lib/guestkit.sh"
guestkit_load "$T" "$tmp"
case $? in 2) exit 0 ;; 1) exit 1 ;; esac
guestkit_modules "$tmp" || exit 1

# the host side: a file and an HTTP server on loopback (port chosen by the
# kernel, written to a file once it listens)
mkdir "$tmp/www"
head -c 300000 /dev/urandom >"$tmp/www/blob"
want_sum=$(sha256sum "$tmp/www/blob" | cut -c1-64)
python3 - "$tmp/www" "$tmp/http.port" <<'PY' >"$tmp/http.log" 2>&1 &
import functools, http.server, os, sys
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), h)
open(sys.argv[2] + '.tmp', 'w').write(str(s.server_address[1]))
os.rename(sys.argv[2] + '.tmp', sys.argv[2])
s.serve_forever()
PY
http=$!
n=0
while [ ! -s "$tmp/http.port" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
port=$(cat "$tmp/http.port" 2>/dev/null)
[ -n "$port" ] || { echo "FAIL: the test's HTTP server did not start: $(cat "$tmp/http.log")"; exit 1; }
# a free host port for the forward (released before capsule-vm binds it)
fwd=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

batch="printf '#!/bin/sh\n[ \"\$1\" = bound ] && ifconfig \$interface \$ip netmask \$subnet && route add default gw \$router && echo lease=\$ip/\$subnet/\$router/\$dns\nexit 0\n' >/tmp/dhcp.sh; chmod +x /tmp/dhcp.sh
ifconfig eth0 up; ifconfig eth1 up; sleep 1
echo mac0=\$(cat /sys/class/net/eth0/address) carrier0=\$(cat /sys/class/net/eth0/carrier)
echo mac1=\$(cat /sys/class/net/eth1/address) carrier1=\$(cat /sys/class/net/eth1/carrier)
echo driver0=\$(basename \$(readlink /sys/class/net/eth0/device/driver)) driver1=\$(basename \$(readlink /sys/class/net/eth1/device/driver))
udhcpc -i eth0 -s /tmp/dhcp.sh -q -n -t 5
wget -q -O /tmp/blob http://10.0.2.2:$port/blob; echo blob=\$(sha256sum /tmp/blob | cut -c1-64)
nc -l -p 22 </tmp/blob >/tmp/got & n=0
while ! netstat -ltn | grep -q ':22 '; do n=\$((n+1)); [ \$n -lt 600 ] || exit 4; sleep 0.1; done
echo listener-ready
wait
echo guest-got=\$(cat /tmp/got)"
cmdline=$("$KIT" cmdline --batch "$batch" --debug-exit) || { echo "FAIL: guestkit cmdline"; exit 1; }
start=$(date +%s%N)
timeout "$LIMIT" "$VM" --engine rem --memory 256 --kernel "$kit_vmlinux" --initrd "$kit_initrd_modules" \
    --append "$cmdline" --serial stdio --debug-exit --stats \
    --nic "nat,model=$MODEL,hostfwd=tcp:127.0.0.1:$fwd-:22,trace=$tmp/t.pcap" \
    --nic "nat,model=$MODEL,mac=52:54:00:ab:cd:ef,link=off" </dev/null >"$tmp/out" 2>&1 &
pid=$!
# the guest's listener is up: the host connects through the forward (a
# bound, not a timing assertion: a VM that ends or never gets there fails
# below)
while kill -0 "$pid" 2>/dev/null && ! grep -q "^listener-ready" "$tmp/out"; do
    sleep 0.1
done
# (the host closes once it has the whole file: nc may not half-close)
host_got=$(python3 - "$fwd" 300000 <<'PY' 2>&1
import hashlib, socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=60)
s.sendall(b'HOST-HELLO\n')
data = b''
while len(data) < int(sys.argv[2]):
    b = s.recv(65536)
    if not b:
        break
    data += b
s.close()
print(hashlib.sha256(data).hexdigest(), len(data))
PY
)
wait "$pid"
rc=$?
pid=
ms=$((($(date +%s%N) - start) / 1000000))
[ $rc -eq 1 ] || fail "capsule-vm exited $rc, want 1 (debug-exit of rc 0); last lines:$(tail -8 "$tmp/out" | sed 's/^/\n  /')"

for want in "mac0=52:54:00:12:34:56 carrier0=1" "mac1=52:54:00:ab:cd:ef carrier1=0" \
    "driver0=$DRIVER driver1=$DRIVER" "lease=10.0.2.15/255.255.255.0/10.0.2.2/10.0.2.3" \
    "blob=$want_sum" "guest-got=HOST-HELLO" "=== capsule-batch end rc=0 ==="; do
    grep -qF -- "$want" "$tmp/out" || fail "output lacks '$want'"
done
[ "$host_got" = "$want_sum 300000" ] ||
    fail "the host read '$host_got' (sha256, bytes) through the forwarded port, want '$want_sum 300000'"
if command -v tcpdump >/dev/null; then
    tcpdump -r "$tmp/t.pcap" -n >"$tmp/pcap.txt" 2>"$tmp/pcap.err" || fail "tcpdump -r: $(cat "$tmp/pcap.err")"
    grep -q "BOOTP/DHCP, Request from 52:54:00:12:34:56" "$tmp/pcap.txt" || fail "the trace lacks the DHCP request"
    grep -q "10.0.2.2.67 > .*BOOTP/DHCP, Reply" "$tmp/pcap.txt" || fail "the trace lacks the DHCP reply"
    frames=$(wc -l <"$tmp/pcap.txt")
else
    fail "tcpdump is missing (tools/setup.sh installs it)"
fi
rxf=$(sed -n "s|^/PDM/Net/${DEV}0/RxFrames *\([0-9]*\).*|\1|p" "$tmp/out")
txf=$(sed -n "s|^/PDM/Net/${DEV}0/TxFrames *\([0-9]*\).*|\1|p" "$tmp/out")
rxd=$(sed -n "s|^/PDM/Net/${DEV}0/RxDropped *\([0-9]*\).*|\1|p" "$tmp/out")
[ -n "$rxf" ] && [ "$rxf" -gt 200 ] 2>/dev/null || fail "${DEV}0 took $rxf frames for the guest, want > 200"
[ -n "$txf" ] && [ "$txf" -gt 10 ] 2>/dev/null || fail "${DEV}0 sent $txf frames, want > 10"
grep -q "capsule-guest: cannot load" "$tmp/out" &&
    fail "a driver did not load: $(grep 'cannot load' "$tmp/out" | head -3)"
if grep -nE 'Oops|Call Trace|Kernel panic|BUG:|WARNING:|virtio_net.*error|needs reset|Tx Unit Hang|EEPROM|e1000.*(rror|nvalid)|mistake' "$tmp/out" |
    grep -vE 'RETBleed: WARNING|Speculative Return Stack Overflow: WARNING' >"$tmp/bad"; then
    fail "kernel log shows trouble:$(head -5 "$tmp/bad" | sed 's/^/\n  /')"
fi
echo "$T: boot to power-off ${ms} ms; ${DEV}0 frames to the guest $rxf (dropped $rxd), from it $txf; trace ${frames:-?} frames"
if [ $fails -ne 0 ]; then
    echo "$T: $fails failure(s); guest output:"
    grep -v '^capsule-vm: debugcon' "$tmp/out" | sed -n '/capsule-batch begin/,$p' | head -30 | sed 's/^/  /'
    grep -E '1af4:1041|8086:100e|virtio_net|virtionet|e1000' "$tmp/out" | head -8 | sed 's/^/  /'
    exit 1
fi
echo "$T: ok"
