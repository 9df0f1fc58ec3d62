#!/usr/bin/env python3
"""tests/bench/net/net_bench.py - TCP throughput and round-trip latency
through a forwarded port of the NAT (user-mode) network, per adapter model
(Intel 82540EM e1000, virtio-net), Capsule (capsule-vm --engine ENGINE,
default rem, PDM's libslirp NAT) side by side with qemu-system-x86_64 TCG's
user networking (-netdev user, also libslirp), both booting the same guest
kit (tools/guestkit: Debian kernel + initramfs with its modules.gz, which
holds e1000 and virtio_net) with 256 MiB of RAM.

The guest sets eth0 to 10.0.2.15/24 (slirp's DHCP address, given statically
so that no DHCP time is in the run) and runs three busybox nc listeners, one
after the other, on guest port 5001, forwarded from a free 127.0.0.1 port:

    nc -l -p 5001 </dev/null >/dev/null            (host -> guest)
    head -c BYTES /dev/zero | nc -l -p 5001         (guest -> host)
    cat FIFO | nc -l -p 5001 >FIFO                  (echo)

and prints a mark on the serial console once each listens (netstat). The
host side (this script, Python sockets) times each phase itself:
host -> guest from the first byte sent to the guest's close (nc exits after
the host's half-close: the guest has every byte); guest -> host from the
first byte received to the last (EOF); the echo NET_RTTS one-byte round
trips (TCP_NODELAY), median in microseconds. MB/s are 10^6 bytes per
second. Ratios are Capsule / QEMU: throughput above 1 and latency below 1
mean Capsule is faster. The driver also reads the emulator's CPU time (all
threads, /proc/PID/task/*/schedstat) around each transfer: MB per emulator
CPU second, the figure the host's other work disturbs least.

Environment: CAPSULE_BUILD (the build directory), NET_MIB (default 64),
NET_RTTS (default 200), NET_TIMEOUT (seconds per boot, default 300),
NET_ENGINE (capsule-vm's --engine, default rem), NET_MODELS (default
"e1000 virtio"). Usage: net_bench.py. QEMU is a peer on the machine, never
a dependency: without it the QEMU rows say "not installed: no ratio". Exit
status 0 when every available emulator finished every model, else 1.
"""
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'blk'))
from blk_bench import cpu_ns  # noqa: E402  (the emulator's CPU time, as blk measures it)

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
KIT = os.path.join(TOP, 'tools', 'guestkit', 'guestkit.sh')
GPORT = 5001

# The guest's command (kept short: the kernel command line holds 2047 bytes).
GUEST = r'''ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up || exit 2
route add default gw 10.0.2.2
echo NETB driver $(basename $(readlink /sys/class/net/eth0/device/driver))
lw() { n=0; while ! netstat -ltn | grep -q ':@P@ '; do n=$((n+1)); [ $n -lt 600 ] || exit 4; sleep 0.05; done; echo NETB ready $1; }
nc -l -p @P@ </dev/null >/dev/null & lw 1; wait
head -c @BYTES@ /dev/zero | nc -l -p @P@ >/dev/null & lw 2; wait
mkfifo /tmp/f; cat /tmp/f | nc -l -p @P@ >/tmp/f & lw 3; wait
echo NETB done'''


def kit():
    """The kit's (vmlinuz, vmlinux, initrd with modules.gz appended, cmdline
    base) - built or taken from the cache by guestkit.sh."""
    p = subprocess.run([KIT], stdout=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise RuntimeError('guestkit.sh failed (exit %d)' % p.returncode)
    k = dict(line.split('=', 1) for line in p.stdout.splitlines() if '=' in line)
    return k


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Console:
    """The emulator's serial console (its stdout), read by a thread."""

    def __init__(self, p):
        self.p, self.lines, self.cv = p, [], threading.Condition()
        self.eof = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.p.stdout:
            with self.cv:
                self.lines.append(raw.decode(errors='replace').replace('\r', '').rstrip('\n'))
                self.cv.notify_all()
        with self.cv:
            self.eof = True
            self.cv.notify_all()

    def wait(self, text, deadline):
        """Waits for a line holding TEXT; False on EOF or past DEADLINE."""
        with self.cv:
            while True:
                if any(text in line for line in self.lines):
                    return True
                left = deadline - time.monotonic()
                if self.eof or left <= 0:
                    return False
                self.cv.wait(min(left, 0.5))

    def tail(self, n=4):
        with self.cv:
            return ' | '.join(line for line in self.lines[-n:] if line.strip())[:300]


def to_guest(port, nbytes, deadline):
    """host -> guest: seconds from the first byte sent to the guest's close."""
    s = socket.create_connection(('127.0.0.1', port), timeout=max(1, deadline - time.monotonic()))
    buf = bytes(1 << 16)
    left = nbytes
    t0 = time.monotonic()
    while left > 0:
        left -= s.send(buf[:min(left, len(buf))])
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536):
        pass
    t = time.monotonic() - t0
    s.close()
    return t


def from_guest(port, nbytes, deadline):
    """guest -> host: seconds from the first byte received to the last."""
    s = socket.create_connection(('127.0.0.1', port), timeout=max(1, deadline - time.monotonic()))
    got, t0 = 0, None
    while True:
        b = s.recv(1 << 16)
        if not b:
            break
        if t0 is None:
            t0 = time.monotonic()
        got += len(b)
    t = time.monotonic() - t0 if t0 is not None else float('nan')
    s.close()
    if got != nbytes:
        raise RuntimeError('guest -> host: %d bytes, want %d' % (got, nbytes))
    return t


def echo(port, n, deadline):
    """N one-byte round trips; their times in microseconds."""
    s = socket.create_connection(('127.0.0.1', port), timeout=max(1, deadline - time.monotonic()))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    rtts = []
    for i in range(n):
        t0 = time.perf_counter()
        s.sendall(b'x')
        if s.recv(16) != b'x':
            raise RuntimeError('echo: round trip %d came back wrong or closed' % i)
        rtts.append((time.perf_counter() - t0) * 1e6)
    s.close()
    return rtts


def run_once(cmd, port, nbytes, nrtt, timeout):
    """Boots; returns ((down_s, up_s, rtt_us, down_cpu_s, up_cpu_s), None) or (None, why)."""
    deadline = time.monotonic() + timeout
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    con = Console(p)
    why, res = None, None
    try:
        if not con.wait('NETB ready 1', deadline):
            raise RuntimeError('no listener (1)')
        c0 = cpu_ns(p.pid)
        down = to_guest(port, nbytes, deadline)
        c1 = cpu_ns(p.pid)
        if not con.wait('NETB ready 2', deadline):
            raise RuntimeError('no listener (2)')
        c2 = cpu_ns(p.pid)
        up = from_guest(port, nbytes, deadline)
        c3 = cpu_ns(p.pid)
        if not con.wait('NETB ready 3', deadline):
            raise RuntimeError('no listener (3)')
        rtt = statistics.median(echo(port, nrtt, deadline))
        if not con.wait('=== capsule-batch end rc=0 ===', deadline):
            raise RuntimeError('the guest command did not end with rc 0')
        res = (down, up, rtt, (c1 - c0) / 1e9, (c3 - c2) / 1e9)
    except (RuntimeError, OSError) as e:
        why = '%s: %s' % (e, con.tail())
    try:
        os.kill(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    p.wait()
    return res, why


def main():
    build = os.environ.get('CAPSULE_BUILD', os.path.join(TOP, 'build'))
    mib = int(os.environ.get('NET_MIB', '64'))
    nrtt = int(os.environ.get('NET_RTTS', '200'))
    timeout = float(os.environ.get('NET_TIMEOUT', '300'))
    engine = os.environ.get('NET_ENGINE', 'rem')
    models = os.environ.get('NET_MODELS', 'e1000 virtio').split()
    nbytes = mib << 20
    k = kit()
    tmp = tempfile.mkdtemp(prefix='net-bench-')
    initrd = os.path.join(tmp, 'initrd-modules')
    with open(initrd, 'wb') as out:
        for f in (k['initrd'], k['modules']):
            with open(f, 'rb') as i:
                shutil.copyfileobj(i, out)
    batch = (GUEST.replace('@P@', str(GPORT)).replace('@BYTES@', str(nbytes)))
    p = subprocess.run([KIT, 'cmdline', '--batch', batch, '--debug-exit'],
                       stdout=subprocess.PIPE, text=True, check=True)
    cmdline = p.stdout.strip()
    qemu = shutil.which('qemu-system-x86_64')
    rate = lambda s: nbytes / 1e6 / s if s > 0 else float('nan')  # noqa: E731
    rc = 0
    res = {}
    print('TCP through a forwarded 127.0.0.1 port to busybox nc in the guest: %d MiB each way '
          '(host clock, MB/s), %d one-byte round trips (median us)' % (mib, nrtt))
    print('%-7s %-13s %10s %10s %9s   %s' % ('', '', 'to guest', 'from guest', 'rtt us',
                                          'MB per emulator CPU s: to from'))
    for model in models:
        qdev = {'e1000': 'e1000', 'virtio': 'virtio-net-pci'}[model]
        emus = []
        port = free_port()
        emus.append(('capsule ' + engine, port,
                     [os.path.join(build, 'bin', 'capsule-vm'), '--engine', engine,
                      '--memory', '256', '--kernel', k['vmlinux'], '--initrd', initrd,
                      '--append', cmdline, '--serial', 'stdio', '--debug-exit',
                      '--nic', 'nat,model=%s,hostfwd=tcp:127.0.0.1:%d-:%d' % (model, port, GPORT)]))
        port = free_port()
        emus.append(('qemu tcg', port, None if not qemu else
                     [qemu, '-accel', 'tcg', '-nodefaults', '-display', 'none', '-m', '256',
                      '-kernel', k['kernel'], '-initrd', initrd, '-append', cmdline,
                      '-serial', 'stdio', '-monitor', 'none', '-no-reboot',
                      '-device', 'isa-debug-exit,iobase=0xf4,iosize=4',
                      '-netdev', 'user,id=n,hostfwd=tcp:127.0.0.1:%d-:%d' % (port, GPORT),
                      '-device', '%s,netdev=n' % qdev]))
        for name, port, cmd in emus:
            if cmd is None:
                print('%-7s %-13s not installed: no ratio (qemu-system-x86_64)' % (model, name))
                continue
            got, why = run_once(cmd, port, nbytes, nrtt, timeout)
            if not got:
                print('%-7s %-13s failed: %s' % (model, name, why))
                rc = 1
                continue
            down, up, rtt, cd, cu = got
            res[(model, name)] = (rate(down), rate(up), rtt, rate(cd), rate(cu))
            print('%-7s %-13s %10.1f %10.1f %9.0f   %7.1f %7.1f' %
                  (model, name, rate(down), rate(up), rtt, rate(cd), rate(cu)))
            sys.stdout.flush()
        c, q = res.get((model, 'capsule ' + engine)), res.get((model, 'qemu tcg'))
        if c and q:
            print('%-7s %-13s %10.2f %10.2f %9.2f   %7.2f %7.2f' %
                  (model, 'capsule/qemu', c[0] / q[0], c[1] / q[1], c[2] / q[2], c[3] / q[3],
                   c[4] / q[4]))
        sys.stdout.flush()
    shutil.rmtree(tmp, ignore_errors=True)
    return rc


if __name__ == '__main__':
    sys.exit(main())
