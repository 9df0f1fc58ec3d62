#!/usr/bin/env python3
"""tests/bench/boot/boot_bench.py - how long the default guest takes to boot:
Capsule's rem engine against QEMU's software CPU (TCG, no KVM), on the same
kernel, initramfs and command line, side by side in one run.

The guest is the guest kit's (tools/guestkit: Debian's kernel + busybox),
booted in batch mode: its init prints the banner ("Capsule demo guest: ..."),
runs `uname -r` and writes its exit code to the debug-exit port 0xf4, which
ends the VM (QEMU's isa-debug-exit and `capsule-vm --debug-exit` both exit
with status 1 for code 0). Measured from starting the emulator:

  first line   until the init's banner appears on the serial port
  power-off    until the emulator process has exited
  CPU time     user + system time the emulator used (all its threads); on
               a busy shared host the steadier of the numbers

Each engine runs RUNS times (env BOOT_RUNS, default 5); the table shows the
medians and the ratio rem / QEMU (below 1: rem is faster). An engine that
cannot run the guest says so on its own line - QEMU when
qemu-system-x86_64 is missing (it is a peer on the machine, never a
dependency of Capsule), capsule-vm when its rem engine is not there yet -
and is left out of the ratio; nothing pretends.

Environment: CAPSULE_BUILD (the build directory; the guest is cached in
CAPSULE_BUILD/guest unless CAPSULE_GUEST_DIR says otherwise), BOOT_RUNS,
BOOT_TIMEOUT (seconds per boot, default 120), BOOT_MEMORY (MiB, default 256).
Exit status: 0 if every available engine booted the guest each time, 1 if
one failed, 2 if the guest could not be built.
"""
import os
import select
import shutil
import statistics
import subprocess
import sys
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
KIT = os.path.join(TOP, 'tools', 'guestkit', 'guestkit.sh')
BANNER = b'Capsule demo guest'
END_MARK = b'=== capsule-batch end rc=0 ==='


def build_guest(build):
    """kernel, initrd and the batch command line from the guest kit."""
    out = os.environ.get('CAPSULE_GUEST_DIR') or os.path.join(build, 'guest')
    r = subprocess.run([KIT, 'build', '--out', out], stdout=subprocess.PIPE)
    if r.returncode != 0:
        return None
    kv = dict(line.split('=', 1) for line in r.stdout.decode().splitlines() if '=' in line)
    r = subprocess.run([KIT, 'cmdline', '--batch', 'uname -r', '--debug-exit'],
                       stdout=subprocess.PIPE)
    if r.returncode != 0:
        return None
    kv['batch_cmdline'] = r.stdout.decode().strip()
    return kv


class Boot:
    """One boot: its timings (None when not reached) and a reason on failure."""

    def __init__(self):
        self.first = self.off = self.cpu = None
        self.status = None
        self.error = None
        self.output = b''


def boot_once(argv, timeout):
    b = Boot()
    t0 = time.monotonic()
    try:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
    except OSError as e:
        b.error = 'cannot start %s: %s' % (argv[0], e.strerror)
        return b
    fd = p.stdout.fileno()
    while True:
        left = t0 + timeout - time.monotonic()
        if left <= 0:
            p.kill()
            p.wait()
            b.error = 'no power-off within %d s' % timeout
            return b
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        data = os.read(fd, 65536)
        if not data:
            break
        b.output += data
        if b.first is None and BANNER in b.output:
            b.first = time.monotonic() - t0
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = b.status = os.waitstatus_to_exitcode(status)
    b.off = time.monotonic() - t0
    b.cpu = usage.ru_utime + usage.ru_stime
    if b.first is None:
        b.error = 'exited with status %d before the banner' % b.status
    elif END_MARK not in b.output or b.status != 1:
        b.error = 'the batch did not complete (exit status %d, debug-exit expected 1)' % b.status
    return b


def last_lines(data, n=6):
    lines = data.decode(errors='replace').replace('\r', '').splitlines()
    return '\n'.join('    ' + l for l in lines[-n:])


def run_engine(name, argv, runs, timeout):
    """Medians (first line, power-off, CPU time) over runs, or None with a
    message printed."""
    firsts, offs, cpus = [], [], []
    for i in range(runs):
        b = boot_once(argv, timeout)
        if b.error:
            print('%-16s run %d failed: %s' % (name, i + 1, b.error))
            if b.output:
                print(last_lines(b.output))
            return None, False
        firsts.append(b.first)
        offs.append(b.off)
        cpus.append(b.cpu)
        print('%-16s run %d: first line %.2f s, power-off %.2f s, CPU %.2f s'
              % (name, i + 1, b.first, b.off, b.cpu))
        sys.stdout.flush()
    return (statistics.median(firsts), statistics.median(offs), statistics.median(cpus)), True


def rem_available(vm, argv, timeout):
    """None if capsule-vm's rem engine can boot, else the reason."""
    if not os.access(vm, os.X_OK):
        return 'capsule-vm is not built (%s)' % vm
    b = boot_once(argv, timeout)
    if b.first is not None:
        return None
    text = b.output.decode(errors='replace')
    if 'not available' in text:
        last = [l for l in text.strip().splitlines() if 'not available' in l][-1]
        return 'rem not available yet (%s)' % last.strip()
    return 'rem does not boot the guest yet (%s): %s' % (
        b.error, text.strip().splitlines()[-1] if text.strip() else 'no output')


def main():
    build = os.environ.get('CAPSULE_BUILD') or os.path.join(TOP, 'build')
    runs = int(os.environ.get('BOOT_RUNS', '5'))
    timeout = int(os.environ.get('BOOT_TIMEOUT', '120'))
    mem = os.environ.get('BOOT_MEMORY', '256')
    g = build_guest(build)
    if not g:
        print('boot bench: the guest kit failed (see above)')
        return 2
    k, i, cmdline = g['kernel'], g['initrd'], g['batch_cmdline']
    print('boot bench: Linux %s + busybox initramfs, %s MiB, median of %d, cmdline "%s"'
          % (g.get('release', '?'), mem, runs, cmdline))
    try:
        with open('/proc/loadavg') as f:
            load = f.read().split()[0]
    except OSError:
        load = '?'
    # Other work on the host slows a software CPU down as much as any change
    # in it: the load says how far to trust a run.
    print('host: %d CPUs, load average %s at the start' % (os.cpu_count() or 0, load))
    results, ok = {}, True

    qemu = shutil.which('qemu-system-x86_64')
    if not qemu:
        print('qemu-tcg         qemu-system-x86_64 not installed (optional peer): skipped')
    else:
        argv = [qemu, '-accel', 'tcg', '-m', mem, '-nographic', '-no-reboot',
                '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
                '-kernel', k, '-initrd', i, '-append', cmdline]
        results['qemu-tcg'], good = run_engine('qemu-tcg', argv, runs, timeout)
        ok = ok and good

    vm = os.path.join(build, 'bin', 'capsule-vm')
    argv = [vm, '--engine', 'rem', '--memory', mem, '--kernel', k, '--initrd', i,
            '--append', cmdline, '--serial', 'stdio', '--debug-exit']
    why = rem_available(vm, argv, timeout)
    if why:
        print('capsule-vm: %s' % why)
    else:
        results['capsule-vm rem'], good = run_engine('capsule-vm rem', argv, runs, timeout)
        ok = ok and good

    print()
    print('%-16s %14s %14s %14s' % ('engine', 'first line', 'power-off', 'CPU time'))
    for name in ('qemu-tcg', 'capsule-vm rem'):
        r = results.get(name)
        if r:
            print('%-16s %12.2f s %12.2f s %12.2f s' % (name, r[0], r[1], r[2]))
        else:
            print('%-16s %14s %14s %14s' % (name, 'n/a', 'n/a', 'n/a'))
    q, r = results.get('qemu-tcg'), results.get('capsule-vm rem')
    if q and r:
        print('ratio rem/qemu   %14.2f %14.2f %14.2f   (below 1: rem is faster)'
              % (r[0] / q[0], r[1] / q[1], r[2] / q[2]))
    else:
        print('ratio rem/qemu   n/a (needs both engines)')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
