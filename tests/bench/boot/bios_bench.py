#!/usr/bin/env python3
"""tests/bench/boot/bios_bench.py - BIOS power-on to "No bootable device":
SeaBIOS (Debian's seabios package, the same bios-256k.bin for both) under
Capsule's rem engine against QEMU's software CPU (TCG), side by side.

Both machines have 64 MiB, no disks, and SeaBIOS's console on the serial
port through fw_cfg's etc/sercon-port (capsule-vm --firmware bios gives it
itself; QEMU gets the same 2-byte file through -fw_cfg). Measured from
starting the emulator, by polling the serial output file every 5 ms:

  banner     until "SeaBIOS (version" appears on serial
  no boot    until "No bootable device" appears (the end of POST and of the
             boot attempts: there is nothing to boot)
  CPU time   user + system time of the emulator up to then (it is stopped
             right after)

Each runs RUNS times (env BIOS_RUNS, default 5); the table shows medians
and the ratio Capsule / QEMU (below 1: Capsule is faster). QEMU is a peer
on the machine, never a dependency: when qemu-system-x86_64 is missing its
line says so and there is no ratio.

Environment: CAPSULE_BUILD (the build directory), BIOS_RUNS, BIOS_TIMEOUT
(seconds per run, default 60). Exit status 0 when every available engine
reached "No bootable device" each time, else 1.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BIOS = '/usr/share/seabios/bios-256k.bin'


def run_once(cmd, serial, timeout):
    """Returns (banner s, no-boot s, cpu s) or None on a timeout."""
    if os.path.exists(serial):
        os.unlink(serial)
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    banner = end = None
    while time.monotonic() - t0 < timeout and p.poll() is None:
        try:
            with open(serial, 'rb') as f:
                data = f.read()
        except FileNotFoundError:
            data = b''
        now = time.monotonic() - t0
        if banner is None and b'SeaBIOS (version' in data:
            banner = now
        if b'No bootable device' in data:
            end = now
            break
        time.sleep(0.005)
    p.terminate()
    _, status, ru = os.wait4(p.pid, 0)
    if end is None:
        return None
    return (banner if banner is not None else end, end, ru.ru_utime + ru.ru_stime)


def main():
    build = os.environ.get('CAPSULE_BUILD', 'build')
    runs = int(os.environ.get('BIOS_RUNS', '5'))
    timeout = float(os.environ.get('BIOS_TIMEOUT', '60'))
    if not os.path.exists(BIOS):
        print('bios bench: %s missing: install the seabios package (tools/setup.sh)' % BIOS)
        return 1
    tmp = tempfile.mkdtemp(prefix='bios-bench-')
    serial = os.path.join(tmp, 'serial')
    sercon = os.path.join(tmp, 'sercon-port')
    with open(sercon, 'wb') as f:
        f.write((0x3f8).to_bytes(2, 'little'))
    engines = [('capsule rem', [os.path.join(build, 'bin', 'capsule-vm'), '--firmware', 'bios',
                                '--engine', 'rem', '--memory', '64', '--serial',
                                'file:' + serial])]
    qemu = shutil.which('qemu-system-x86_64')
    if qemu:
        engines.append(('qemu tcg', [qemu, '-accel', 'tcg', '-bios', BIOS, '-display', 'none',
                                     '-nodefaults', '-m', '64', '-serial', 'file:' + serial,
                                     '-fw_cfg', 'name=etc/sercon-port,file=' + sercon]))
    rc = 0
    medians = {}
    print('%-12s %10s %10s %10s  (medians of %d runs)' % ('engine', 'banner', 'no boot', 'CPU',
                                                         runs))
    for name, cmd in engines:
        results = []
        for _ in range(runs):
            r = run_once(cmd, serial, timeout)
            if r is None:
                print('%-12s did not reach "No bootable device" within %g s' % (name, timeout))
                rc = 1
                break
            results.append(r)
        if len(results) != runs:
            continue
        m = tuple(statistics.median(x[i] for x in results) for i in range(3))
        medians[name] = m
        print('%-12s %8.0f ms %8.0f ms %8.0f ms' % (name, m[0] * 1e3, m[1] * 1e3, m[2] * 1e3))
    if not qemu:
        print('qemu tcg     not installed (qemu-system-x86_64): no ratio')
    elif len(medians) == 2:
        c, q = medians['capsule rem'], medians['qemu tcg']
        print('ratio capsule/qemu: banner %.2f, no boot %.2f, CPU %.2f' %
              (c[0] / q[0], c[1] / q[1], c[2] / q[2]))
    shutil.rmtree(tmp, ignore_errors=True)
    return rc


if __name__ == '__main__':
    sys.exit(main())
