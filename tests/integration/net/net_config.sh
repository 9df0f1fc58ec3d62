#!/bin/bash
# tests/integration/net/net_config.sh - networking configured the
# VirtualBox way through the service and the CLI (issue 15 items 2 and 3),
# one boot of the guest kit's Linux under --engine rem with its e1000
# module (guestkit.sh's modules.gz):
#  - a new machine has adapter 1 on NAT, an 82540EM, a MAC 080027xxxxxx
#    (showvminfo --machinereadable: nic1, nictype1, macaddress1,
#    cableconnected1); modifyvm --natpf1 "guestnc,tcp,,PORT,,22" adds
#    Forwarding(0); bad values are usage errors (exit 2);
#  - startvm --type headless: the service hands the adapter to capsule-vm;
#    the guest's eth0 (driver e1000) has the machine's MAC and gets
#    10.0.2.15 by DHCP;
#  - the host reaches a guest `nc -l -p 22` through 127.0.0.1:PORT (both
#    ways);
#  - controlvm setlinkstate1 off: the guest's /sys/class/net/eth0/carrier
#    reads 0; on: 1 again;
#  - controlvm natpf1 "live,tcp,,PORT2,,23": the host reaches a guest
#    listener on 23 through the new rule; natpf1 delete live (and delete
#    of the rule the machine started with) closes the host ports; bad
#    rules and a missing adapter are refused;
#  - --nictrace1 on --nictracefile1 FILE: the pcap tcpdump reads holds the
#    guest's DHCP request from the machine's MAC;
#  - the guest powers off (debug-exit) and the settings are unchanged by
#    the live changes (Forwarding(0) only).
# Skips like net_linux.sh (no Debian tools), fails when the kit cannot be
# built. About 20 s.
set -u
NAME=net_config
NEED="${CAPSULE_BUILD:-}/bin/capsule-vm"
. "$(cd "$(dirname "$0")/../../lib" && pwd)/cli.sh"
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
KIT=$TOP/tools/guestkit/guestkit.sh
LIMIT=$((120 * S))
mkdir -p "$CAPSULE_HOME"
export CAPSULE_SVC_IDLE_TIMEOUT=60000

. "$TOP/tests/lib/skip.sh"
. "$TOP/tests/lib/guestkit.sh"
guestkit_load net-config "$tmp"
case $? in 2) exit 0 ;; 1) exit 1 ;; esac
guestkit_modules "$tmp" || exit 1

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
fwd=$(free_port)
fwd2=$(free_port)
serial=$tmp/serial.log
start=$(date +%s)
# wait_line TEXT: until the guest printed TEXT on its serial port
wait_line() {
    while ! grep -qF -- "$1" "$serial" 2>/dev/null; do
        if [ $(($(date +%s) - start)) -ge "$LIMIT" ]; then
            fail "the guest did not print '$1' within ${LIMIT}s"
            return 1
        fi
        sleep 0.1
    done
}
# talk PORT: connects to 127.0.0.1:PORT, sends a line, prints what comes back
talk() {
    python3 - "$1" <<'PY' 2>&1
import socket, sys
try:
    s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=20)
    s.sendall(b'HOST-HELLO\n')
    data = b''
    while b'\n' not in data:
        b = s.recv(4096)
        if not b:
            break
        data += b
    s.close()
    print(data.decode().strip() or 'nothing')
except OSError as e:
    print('error', e.__class__.__name__)
PY
}

# the guest: DHCP, a listener on 22, the carrier seen going and coming,
# a listener on 23, then it waits for the cable to go once more, so the VM
# runs until the host has checked the deleted rules (each loop bounded: a
# missing event ends the batch)
batch="printf '#!/bin/sh\n[ \"\$1\" = bound ] && ifconfig \$interface \$ip netmask \$subnet && route add default gw \$router && echo lease=\$ip\nexit 0\n' >/tmp/dhcp.sh; chmod +x /tmp/dhcp.sh
ifconfig eth0 up
echo mac0=\$(cat /sys/class/net/eth0/address) driver0=\$(basename \$(readlink /sys/class/net/eth0/device/driver))
udhcpc -i eth0 -s /tmp/dhcp.sh -q -n -t 5
listen() { echo guest-line-\$1 >/tmp/m\$1; nc -l -p \$1 </tmp/m\$1 >/tmp/got\$1 & n=0; while ! netstat -ltn | grep -q \":\$1 \"; do n=\$((n+1)); [ \$n -lt 600 ] || exit 4; sleep 0.1; done; echo listener\$1-ready; wait; echo got\$1=\$(cat /tmp/got\$1); }
carrier() { n=0; while [ \"\$(cat /sys/class/net/eth0/carrier)\" != \$1 ]; do n=\$((n+1)); [ \$n -lt 600 ] || break; sleep 0.1; done; echo carrier-now=\$(cat /sys/class/net/eth0/carrier); }
listen 22
carrier 0
carrier 1
listen 23
carrier 0"
cmdline=$("$KIT" cmdline --batch "$batch" --debug-exit) || { fail "guestkit cmdline"; finish; }

ok createvm --name net --ostype Linux_64 --register
expect_mr net nic1 '"nat"'
expect_mr net nictype1 '"82540EM"'
expect_mr net cableconnected1 '"on"'
expect_mr net nic2 '"none"'
mac=$(mr net macaddress1 | tr -d '"')
echo "$mac" | grep -qE '^080027[0-9A-F]{6}$' || fail "macaddress1 is '$mac', want 080027 and 6 hex digits"
expect 2 "--natpf1: 'x,tcp,,0,,22' has a port that is not a number" modifyvm net --natpf1 "x,tcp,,0,,22"
expect 2 "--nictype1: 'Am79C973' is not in this build" modifyvm net --nictype1 Am79C973
expect 2 "--nic1: 'bridged' is not nat or none" modifyvm net --nic1 bridged
expect 2 "--macaddress1: '090027000001' is a multicast address" modifyvm net --macaddress1 090027000001
ok modifyvm net --engine rem --memory 256 --kernel "$kit_vmlinux" --initrd "$kit_initrd_modules" \
    --cmdline "$cmdline" --debugexit on --uart1 0x3f8 4 --uartmode1 file "$serial" \
    --natpf1 "guestnc,tcp,,$fwd,,22" --nictrace1 on --nictracefile1 "$tmp/net.pcap"
expect_mr net 'Forwarding(0)' "\"guestnc,tcp,,$fwd,,22\""
expect_mr net nictracefile1 "\"$tmp/net.pcap\""
run showvminfo net
echo "$out" | grep -qF "NIC 1:           MAC: $mac, Attachment: NAT, Cable connected: on, Trace: on (file: $tmp/net.pcap), Type: 82540EM" ||
    fail "showvminfo's NIC 1 line: $(echo "$out" | grep '^NIC 1')"
echo "$out" | grep -qF "NIC 1 Rule(0):   name = guestnc, protocol = tcp, host ip = , host port = $fwd, guest ip = , guest port = 22" ||
    fail "showvminfo's rule line: $(echo "$out" | grep 'Rule(0)')"
ok startvm net --type headless

if wait_line listener22-ready; then
    got=$(talk "$fwd")
    [ "$got" = guest-line-22 ] && pass "host -> guest port 22 through 127.0.0.1:$fwd" ||
        fail "through the forwarded port $fwd the host read '$got', want guest-line-22"
fi
wait_line got22=HOST-HELLO
expect 1 "no network adapter 2" controlvm net setlinkstate2 off
expect 2 "setlinkstate1: on or off" controlvm net setlinkstate1 down
ok controlvm net setlinkstate1 off
wait_line carrier-now=0
ok controlvm net setlinkstate1 on
if wait_line listener23-ready; then
    [ "$(talk "$fwd2")" != guest-line-23 ] || fail "port $fwd2 reached the guest before any rule"
    expect 2 "natpf1: 'live,tcp,,$fwd2,,23,x' is not name,tcp" controlvm net natpf1 "live,tcp,,$fwd2,,23,x"
    ok controlvm net natpf1 "live,tcp,,$fwd2,,23"
    expect 1 "a rule called 'guestnc' already" controlvm net natpf1 "guestnc,tcp,,$(free_port),,23"
    got=$(talk "$fwd2")
    [ "$got" = guest-line-23 ] && pass "host -> guest port 23 through the live rule" ||
        fail "through the live rule's port $fwd2 the host read '$got', want guest-line-23"
fi
ok controlvm net natpf1 delete live
ok controlvm net natpf1 delete guestnc
expect 1 "no port forwarding rule called 'live'" controlvm net natpf1 delete live
for p in $fwd $fwd2; do
    got=$(talk "$p")
    case $got in "error "*) ;; *) fail "port $p still answers after its rule was deleted: '$got'" ;; esac
done
ok controlvm net setlinkstate1 off # the guest's batch ends on it
"$CAP" waitfor net --state poweroff --timeout "$LIMIT" >"$tmp/waitfor.out" 2>&1 ||
    fail "the VM did not power off at the end of the batch: $(cat "$tmp/waitfor.out")"
secs=$(($(date +%s) - start))

colons=$(echo "$mac" | sed 's/../&:/g; s/:$//' | tr A-F a-f)
if command -v tcpdump >/dev/null; then
    tcpdump -r "$tmp/net.pcap" -n >"$tmp/pcap.txt" 2>"$tmp/pcap.err" || fail "tcpdump -r: $(cat "$tmp/pcap.err")"
    grep -q "BOOTP/DHCP, Request from $colons" "$tmp/pcap.txt" || fail "the trace lacks the DHCP request from $colons"
else
    fail "tcpdump is missing (tools/setup.sh installs it)"
fi
for want in "mac0=$colons driver0=e1000" \
    "lease=10.0.2.15" "carrier-now=0" "carrier-now=1" "got23=HOST-HELLO" \
    "=== capsule-batch end rc=0 ==="; do
    grep -qF -- "$want" "$serial" || fail "the guest did not print '$want'"
done
expect_mr net 'Forwarding(0)' "\"guestnc,tcp,,$fwd,,22\"" # the live changes are not saved
[ -z "$(mr net 'Forwarding(1)')" ] || fail "the live rule was saved: $(mr net 'Forwarding(1)')"
if grep -nE 'Oops|Call Trace|Kernel panic|BUG:|Tx Unit Hang' "$serial" >"$tmp/bad"; then
    fail "kernel log shows trouble:$(head -5 "$tmp/bad" | sed 's/^/\n  /')"
fi
[ $fails -eq 0 ] || { echo "--- guest serial:"; tail -30 "$serial"; }
echo "$NAME: boot to power-off ${secs} s"
finish
