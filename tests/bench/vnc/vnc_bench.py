#!/usr/bin/env python3
"""tests/bench/vnc/vnc_bench.py - Capsule's remote display server (capsule-vm
--vrde, libvncserver fed from the display hub's dirty rectangles) against
QEMU's -vnc, on the same guest (redraw.elf / idle.elf, multiboot ELFs that
draw on the Bochs VBE linear framebuffer at 640x480x32) under each one's
software CPU (rem, TCG).

One VNC client (a small RFB 3.8 reader here: it asks for 32-bit true colour
and ZRLE, which both servers speak, requests an incremental update after
each one it gets and counts them and their bytes without decoding) measures
  - frames per second and bytes per frame while the guest redraws the
    whole screen continuously (redraw.elf), and while it only blinks an
    8x16 block as a text cursor does (cursor.elf);
  - CPU time of the VM process per second of a still screen (idle.elf, the
    client connected and asking), from /proc/PID/stat.
Each over BENCH_SECONDS (default 5) after a second of warm-up.
Environment: CAPSULE_BUILD, BENCH_SECONDS. Exit status 0 when every
available server was measured, else 1.
"""
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

ZRLE, RAW, DESKTOP_SIZE = 16, 0, -223


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        got = s.recv(n - len(buf))
        if not got:
            raise EOFError('the server closed the connection')
        buf += got
    return bytes(buf)


class Client:
    """An RFB 3.8 client with no authentication that counts updates."""

    def __init__(self, port):
        deadline = time.time() + 20
        while True:
            try:
                self.s = socket.create_connection(('127.0.0.1', port), timeout=20)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        recv_exact(self.s, 12)
        self.s.sendall(b'RFB 003.008\n')
        types = recv_exact(self.s, recv_exact(self.s, 1)[0])
        if 1 not in types:
            raise RuntimeError('the server wants authentication: %r' % types)
        self.s.sendall(b'\x01')
        if struct.unpack('>I', recv_exact(self.s, 4))[0] != 0:
            raise RuntimeError('security handshake failed')
        self.s.sendall(b'\x01')  # shared
        self.w, self.h = struct.unpack('>HH', recv_exact(self.s, 4))
        recv_exact(self.s, 16)
        recv_exact(self.s, struct.unpack('>I', recv_exact(self.s, 4))[0])
        self.s.sendall(struct.pack('>B3xBBBBHHHBBB3x', 0, 32, 24, 0, 1, 255, 255, 255, 16, 8, 0))
        encs = (ZRLE, RAW, DESKTOP_SIZE)
        self.s.sendall(struct.pack('>BxH%di' % len(encs), 2, len(encs), *encs))
        self.request(False)

    def request(self, incremental):
        self.s.sendall(struct.pack('>BBHHHH', 3, int(incremental), 0, 0, self.w, self.h))

    def update(self):
        """Reads messages up to one framebuffer update; its size in bytes."""
        while True:
            kind = recv_exact(self.s, 1)[0]
            if kind == 0:
                break
            if kind == 1:  # colour map
                _, _, n = struct.unpack('>BHH', recv_exact(self.s, 5))
                recv_exact(self.s, 6 * n)
            elif kind == 2:  # bell
                pass
            elif kind == 3:  # cut text
                recv_exact(self.s, 3)
                recv_exact(self.s, struct.unpack('>I', recv_exact(self.s, 4))[0])
            else:
                raise RuntimeError('unknown server message %d' % kind)
        size = 4
        n = struct.unpack('>xH', recv_exact(self.s, 3))[0]
        for _ in range(n):
            x, y, w, h, enc = struct.unpack('>HHHHi', recv_exact(self.s, 12))
            size += 12
            if enc == RAW:
                recv_exact(self.s, w * h * 4)
                size += w * h * 4
            elif enc == ZRLE:
                length = struct.unpack('>I', recv_exact(self.s, 4))[0]
                recv_exact(self.s, length)
                size += 4 + length
            elif enc == DESKTOP_SIZE:
                self.w, self.h = w, h
            else:
                raise RuntimeError('unexpected encoding %d' % enc)
        return size

    def measure(self, seconds):
        """(updates, bytes, elapsed) over about `seconds`."""
        frames = total = 0
        t0 = time.time()
        while time.time() - t0 < seconds:
            total += self.update()
            frames += 1
            self.request(True)
        return frames, total, time.time() - t0

    def idle(self, seconds):
        """Waits `seconds` with an incremental request outstanding, reading
        whatever updates come: (updates, bytes)."""
        frames = total = 0
        t0 = time.time()
        while True:
            left = seconds - (time.time() - t0)
            if left <= 0:
                return frames, total
            self.s.settimeout(left)
            try:
                self.s.recv(1, socket.MSG_PEEK)
            except socket.timeout:
                return frames, total
            finally:
                self.s.settimeout(20)
            total += self.update()
            frames += 1
            self.request(True)

    def close(self):
        self.s.close()


def cpu_seconds(pid):
    fields = open('/proc/%d/stat' % pid).read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def free_display():
    for n in range(50, 99):
        with socket.socket() as s:
            try:
                s.bind(('127.0.0.1', 5900 + n))
                return n
            except OSError:
                continue
    raise RuntimeError('no free VNC display number')


def start(server, build, elf, log):
    """Starts the VM with the server; (process, VNC port)."""
    if server == 'capsule':
        cmd = [os.path.join(build, 'bin', 'capsule-vm'), '--kernel', elf, '--engine', 'rem',
               '--memory', '64', '--device', 'vga', '--serial', 'none', '--vrde', 'port=0']
        p = subprocess.Popen(cmd, stdout=log, stderr=log)
        deadline = time.time() + 20
        while time.time() < deadline:
            m = re.search(r'vnc: listening on 127.0.0.1 port (\d+)', open(log.name).read())
            if m:
                return p, int(m.group(1))
            if p.poll() is not None:
                break
            time.sleep(0.05)
        p.kill()
        raise RuntimeError('capsule-vm said no port: %s' % open(log.name).read()[-400:])
    n = free_display()
    cmd = ['qemu-system-x86_64', '-accel', 'tcg', '-m', '64', '-kernel', elf, '-vga', 'std',
           '-nic', 'none', '-serial', 'none', '-monitor', 'none', '-vnc', '127.0.0.1:%d' % n]
    return subprocess.Popen(cmd, stdout=log, stderr=log), 5900 + n


def run(server, build, elf, seconds, still):
    """(fps, bytes per frame, VM CPU s per s) for one server and guest."""
    with tempfile.NamedTemporaryFile('w+', suffix='.log') as log:
        p, port = start(server, build, elf, log)
        try:
            c = Client(port)
            if still:
                c.update()  # the whole screen once, then quiet
                c.request(True)
                c.idle(1.0)
                cpu0, t0 = cpu_seconds(p.pid), time.time()
                frames, total = c.idle(seconds)
                elapsed = time.time() - t0
            else:
                c.measure(1.0)  # warm-up: the mode set, the first frames
                cpu0 = cpu_seconds(p.pid)
                frames, total, elapsed = c.measure(seconds)
            cpu = (cpu_seconds(p.pid) - cpu0) / elapsed
            c.close()
            return frames / elapsed, total / max(frames, 1), cpu, c.w, c.h
        finally:
            p.kill()
            p.wait()


def main():
    build = os.environ.get('CAPSULE_BUILD', 'build')
    seconds = float(os.environ.get('BENCH_SECONDS', '5'))
    out = os.path.join(build, 'bench', 'vnc')
    servers = ['capsule'] + (['qemu'] if shutil.which('qemu-system-x86_64') else [])
    if len(servers) == 1:
        print('qemu-system-x86_64 is not installed: its column is left out')
    ok = True
    rows = {}
    for server in servers:
        for guest in ('redraw', 'cursor', 'idle'):
            try:
                rows[(server, guest)] = run(server, build, os.path.join(out, guest + '.elf'),
                                            seconds, guest == 'idle')
            except (OSError, RuntimeError, EOFError) as e:
                print('%s %s: %s' % (server, guest, e))
                ok = False
    print('VNC, one client, ZRLE, 32-bit colour; %.0f s per measure' % seconds)
    print('%-8s %-28s %10s %14s %14s' % ('server', 'guest', 'frames/s', 'bytes/frame',
                                           'VM CPU s/s'))
    for (server, guest), (fps, bpf, cpu, w, h) in sorted(rows.items()):
        what = {'redraw': 'full-screen redraws %dx%d' % (w, h), 'cursor': '8x16 cursor blinking',
                'idle': 'still screen'}[guest]
        print('%-8s %-28s %10.1f %14.0f %14.3f' % (server, what, fps, bpf, cpu))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
