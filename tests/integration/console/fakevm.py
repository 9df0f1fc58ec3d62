#!/usr/bin/env python3
"""tests/integration/console/fakevm.py - `capsule console` against a fake VM
side: a Unix stream socket server standing in for the serial socket a VM
process listens on in server mode (--uartmode1 server SOCKET). Needs no VM,
no /dev/kvm, no service (the console runs with --socket PATH).

Checks, each with a fresh socket and console:
  both-ways  the "guest's" output (all 256 byte values) reaches the
             console's stdout unchanged; typed bytes (all but Ctrl-]) reach
             the guest unchanged
  escape     Ctrl-] Ctrl-] sends one Ctrl-], Ctrl-] x sends both bytes
  detach     Ctrl-] q detaches: exit 0, "Detached" on stderr, nothing after
             it is sent, the VM side sees the connection close
  eof        the end of standard input detaches (exit 0)
  peer       the VM closing the connection ends the console (exit 0)
  nosocket   a socket nobody listens on: exit 1 with the reason
  pty        on a terminal: raw mode (Ctrl-C reaches the guest instead of
             killing the console), SIGTERM ends it with exit 1 and the
             terminal's settings restored

Usage: fakevm.py CAPSULE-BINARY TMPDIR. Prints "ok NAME" or "FAIL: NAME:
why" per check; exit status 1 if any failed.
"""
import os
import select
import signal
import socket
import subprocess
import sys
import termios
import time

CAP, TMP = sys.argv[1], sys.argv[2]
# bounds a hang only; CAPSULE_TIMEOUT_SCALE is 6 under asan=1
TIMEOUT = 10 * int(os.environ.get('CAPSULE_TIMEOUT_SCALE') or 1)
fails = 0


def fail(name, why):
    global fails
    fails += 1
    print('FAIL: %s: %s' % (name, why))


class FakeVM:
    """The listening side: accepts one client."""

    def __init__(self, name):
        self.path = os.path.join(TMP, name + '.sock')
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(self.path)
        self.srv.listen(1)
        self.conn = None

    def accept(self):
        self.srv.settimeout(TIMEOUT)
        self.conn, _ = self.srv.accept()
        self.conn.settimeout(TIMEOUT)

    def recv_exactly(self, n):
        data = b''
        while len(data) < n:
            chunk = self.conn.recv(n - len(data))
            if not chunk:
                break
            data += chunk
        return data

    def recv_until_eof(self):
        data = b''
        while True:
            chunk = self.conn.recv(4096)
            if not chunk:
                return data
            data += chunk

    def close(self):
        if self.conn:
            self.conn.close()
        self.srv.close()


def console(path, **kw):
    return subprocess.Popen([CAP, 'console', '--socket', path], stdin=kw.get('stdin', subprocess.PIPE),
                            stdout=kw.get('stdout', subprocess.PIPE), stderr=subprocess.PIPE)


def read_exactly(fd, n):
    data = b''
    end = time.monotonic() + TIMEOUT
    while len(data) < n and time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            chunk = os.read(fd, n - len(data))
            if not chunk:
                break
            data += chunk
    return data


def finish(p, data=None):
    try:
        out, err = p.communicate(input=data, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        return None, out, err
    return p.returncode, out, err


def check_both_ways():
    vm = FakeVM('both')
    p = console(vm.path)
    try:
        vm.accept()
        out_bytes = bytes(range(256)) * 4
        vm.conn.sendall(out_bytes)
        got = read_exactly(p.stdout.fileno(), len(out_bytes))
        if got != out_bytes:
            fail('both-ways', 'guest output arrived as %d bytes, differing' % len(got))
            return
        typed = bytes(b for b in range(256) if b != 0x1d) * 4
        p.stdin.write(typed)
        p.stdin.flush()
        got = vm.recv_exactly(len(typed))
        if got != typed:
            fail('both-ways', 'typed input arrived as %d bytes, differing' % len(got))
            return
        # Escapes: the prefix doubled sends one; prefix + other sends both.
        p.stdin.write(b'\x1d\x1d' + b'\x1dx' + b'end')
        p.stdin.flush()
        got = vm.recv_exactly(6)
        if got != b'\x1d\x1dxend':
            fail('escape', 'sent %r' % got)
        else:
            print('ok escape')
        # Detach; what follows the detach key is not sent.
        p.stdin.write(b'\x1dqNOT-SENT')
        p.stdin.flush()
        rc, _, err = finish(p)
        rest = vm.recv_until_eof()
        if rc != 0 or b'Detached' not in err or rest:
            fail('detach', 'exit %s, stderr %r, sent after detach %r' % (rc, err, rest))
            return
        print('ok both-ways')
        print('ok detach')
    finally:
        if p.poll() is None:
            p.kill()
        vm.close()


def check_eof():
    vm = FakeVM('eof')
    p = console(vm.path)
    try:
        vm.accept()
        rc, _, err = finish(p, b'last words')
        got = vm.recv_until_eof()
        if rc != 0 or got != b'last words':
            fail('eof', 'exit %s, sent %r, stderr %r' % (rc, got, err))
        else:
            print('ok eof')
    finally:
        vm.close()


def check_peer():
    vm = FakeVM('peer')
    p = console(vm.path)
    try:
        vm.accept()
        vm.conn.sendall(b'reboot: Power down\r\n')
        vm.conn.close()
        vm.conn = None
        # stdin stays open: only the VM's side ends.
        try:
            rc = p.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = None
        out, err = p.stdout.read(), p.stderr.read()
        p.stdin.close()
        if rc != 0 or out != b'reboot: Power down\r\n' or b'closed' not in err:
            fail('peer', 'exit %s, stdout %r, stderr %r' % (rc, out, err))
        else:
            print('ok peer')
    finally:
        vm.close()


def check_nosocket():
    path = os.path.join(TMP, 'nobody.sock')
    p = console(path)
    rc, _, err = finish(p)
    if rc != 1 or b'cannot connect' not in err or path.encode() not in err:
        fail('nosocket', 'exit %s, stderr %r' % (rc, err))
    else:
        print('ok nosocket')


def check_pty():
    vm = FakeVM('pty')
    master, slave = os.openpty()
    before = termios.tcgetattr(slave)
    p = console(vm.path, stdin=slave, stdout=slave)
    try:
        vm.accept()
        # The console prints its greeting to stderr (a pipe here) after
        # setting raw mode; wait for it so the terminal is raw.
        line = p.stderr.readline()
        if b'Connected' not in line:
            fail('pty', 'no greeting: %r' % line)
            return
        raw = termios.tcgetattr(slave)
        if raw[3] & (termios.ICANON | termios.ECHO | termios.ISIG):
            fail('pty', 'the terminal is not in raw mode')
            return
        os.write(master, b'\x03\x1a')  # Ctrl-C, Ctrl-Z: to the guest
        got = vm.recv_exactly(2)
        if got != b'\x03\x1a' or p.poll() is not None:
            fail('pty', 'Ctrl-C/Ctrl-Z: guest got %r, console %s' %
                 (got, 'alive' if p.poll() is None else 'exited'))
            return
        vm.conn.sendall(b'guest\r\n')
        if read_exactly(master, 7) != b'guest\r\n':
            fail('pty', 'guest output did not reach the terminal')
            return
        p.send_signal(signal.SIGTERM)
        rc, _, err = finish(p)
        after = termios.tcgetattr(slave)
        if rc != 1 or after != before:
            fail('pty', 'after SIGTERM: exit %s, terminal %s, stderr %r' %
                 (rc, 'restored' if after == before else 'NOT restored', err))
            return
        print('ok pty')
    finally:
        if p.poll() is None:
            p.kill()
        os.close(master)
        os.close(slave)
        vm.close()


for check in (check_both_ways, check_eof, check_peer, check_nosocket, check_pty):
    try:
        check()
    except (OSError, socket.timeout) as e:
        fail(check.__name__[6:], 'exception %r' % e)
sys.exit(1 if fails else 0)
