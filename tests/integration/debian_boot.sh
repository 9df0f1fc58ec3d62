#!/bin/bash
# tests/integration/debian_boot.sh - `scons check-debian` (issue 12's slow
# check, not part of `scons check`): a minimal Debian system
# (tools/guestkit/mkdebian.sh: debootstrap of the host's release with
# Debian's kernel, systemd and syslinux, cached in build/guest; the first
# build needs root and the Debian mirror, several minutes) booted the
# VirtualBox way through the real service and CLI: createvm, clonemedium to
# a VDI, storagectl --add ide, storageattach, modifyvm --firmware bios
# --boot1 disk, startvm under --engine auto (CAPSULE_DEBIAN_ENGINE picks
# another), until
# systemd's getty prints "login:" on the serial port; then root logs in
# (no password), the guest reports its kernel and root device, and
# `poweroff` ends the machine cleanly (state PoweredOff). Prints each
# phase's time (build, power-on to login:, login to power-off).
# DEBIAN_BOOT_TIMEOUT (default 600 s) bounds the boot.
set -u
NAME=debian_boot
. "$(cd "$(dirname "$0")/../lib" && pwd)/cli.sh"
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$TOP/tests/lib/skip.sh"
LIMIT=$((${DEBIAN_BOOT_TIMEOUT:-600} * S))
ENGINE=${CAPSULE_DEBIAN_ENGINE:-auto}

for t in debootstrap mkfs.fat mcopy syslinux sfdisk qemu-img; do
    if ! command -v $t >/dev/null; then
        test_skip debian "needs $t (tools/setup.sh installs the image tools)"
        exit 0
    fi
done
t0=$(date +%s)
if ! "$TOP/tools/guestkit/mkdebian.sh" >"$tmp/deb" 2>"$tmp/deb.err"; then
    fail "mkdebian.sh failed: $(tail -5 "$tmp/deb.err")"
    finish
fi
build_s=$(($(date +%s) - t0))
disk=$(sed -n 's/^disk=//p' "$tmp/deb")
pass "the Debian disk ($disk) ready in $build_s s"

ok createvm --name deb --register
ok clonemedium disk "$disk" "$tmp/deb.vdi" --format VDI
ok storagectl deb --name IDE --add ide
ok storageattach deb --storagectl IDE --port 0 --device 0 --type hdd --medium "$tmp/deb.vdi"
ok modifyvm deb --firmware bios --boot1 disk --memory 512 --engine "$ENGINE" \
    --uart1 0x3f8 4 --uartmode1 server "$tmp/deb.sock"
t0=$(date +%s%N)
ok startvm deb --type headless

# The serial console: what the guest prints goes to $tmp/console; lines are
# typed with `say`.
cat >"$tmp/console.py" <<'PY'
import socket, sys, time, os, select
path, out = sys.argv[1], sys.argv[2]
for _ in range(200):
    try:
        s = socket.socket(socket.AF_UNIX); s.connect(path); break
    except OSError:
        time.sleep(0.05)
f = open(out, 'ab', buffering=0)
while True:
    r, _, _ = select.select([s, sys.stdin], [], [])
    if s in r:
        d = s.recv(4096)
        if not d:
            break
        f.write(d)
    if sys.stdin in r:
        line = sys.stdin.buffer.readline()
        if not line:
            break
        s.sendall(line.rstrip(b'\n') + b'\r')
PY
exec 7> >(python3 -u "$tmp/console.py" "$tmp/deb.sock" "$tmp/console")
say() { printf '%s\n' "$1" >&7; }
waitfor_text() { # TEXT SECONDS
    local end=$(($(date +%s) + $2))
    while [ "$(date +%s)" -lt $end ]; do
        grep -q -- "$1" "$tmp/console" 2>/dev/null && return 0
        sleep 0.5
    done
    return 1
}

if waitfor_text 'login:' "$LIMIT"; then
    boot_ms=$((($(date +%s%N) - t0) / 1000000))
    pass "power-on to login: in $boot_ms ms (engine $ENGINE)"
    say root
    if waitfor_text 'root@.*# ' 60; then
        say 'echo "guest: $(uname -r) root=$(findmnt -n -o SOURCE /)"'
        if waitfor_text 'guest: [0-9]' 30; then
            pass "$(grep -a -o -m1 'guest: [0-9].*' "$tmp/console" | tr -d '\r')"
        else
            fail "no answer from the shell; console tail:"
            tail -c 1500 "$tmp/console" | tr -d '\r' | tail -12 | sed 's/^/  /'
        fi
        t1=$(date +%s%N)
        say poweroff
        for i in $(seq $((1200 * S))); do
            [ "$(mr deb VMState)" = '"poweroff"' ] && break
            sleep 0.1
        done
        if [ "$(mr deb VMState)" = '"poweroff"' ]; then
            pass "poweroff in the guest: the machine is off after $((($(date +%s%N) - t1) / 1000000)) ms"
        else
            fail "the machine did not power off: $(mr deb VMState)"
        fi
    else
        fail "no shell after logging in as root"
    fi
else
    fail "no login: within $LIMIT s; console tail:"
    tail -c 2000 "$tmp/console" 2>/dev/null | tr -d '\r' | tail -20 | sed 's/^/  /'
fi
exec 7>&-
"$CAP" controlvm deb poweroff >/dev/null 2>&1
finish
