#!/usr/bin/env python3
"""tests/bench/virtio/virtio_bench.py - SeaBIOS reading a disk through INT
13h, the disk on virtio-blk (capsule-vm --drive if=virtio; QEMU's
virtio-blk-pci) and, for comparison, on the PIIX3 IDE controller: the
boot sector and method of tests/bench/boot/ide_bench.py (int13_read.asm
reads MiB in 32 KiB calls and exits through the debug-exit port), reused
from there. Capsule's rem engine against QEMU's TCG with the same SeaBIOS
and image; QEMU is a peer on the machine, never a dependency.

Medians of VIRTIO_RUNS runs (default 3) of wall and CPU time, the read
rate after subtracting a zero-MiB run, and the ratio Capsule / QEMU.
Environment: CAPSULE_BUILD, VIRTIO_RUNS, VIRTIO_MIB (default 32),
VIRTIO_TIMEOUT (seconds per run, default 120). Exit status 0 when every
available engine finished each run, else 1.
"""
import os
import shutil
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'boot'))
import ide_bench  # noqa: E402  (run_once, image, BIOS)


def commands(build, img, bus):
    capsule = [os.path.join(build, 'bin', 'capsule-vm'), '--firmware', 'bios', '--engine', 'rem',
               '--memory', '64', '--serial', 'none', '--debug-exit', '--boot', 'disk',
               '--drive', 'if=%s,port=0,device=0,media=disk,format=raw,file=%s' % (bus, img)]
    qemu = ['qemu-system-x86_64', '-accel', 'tcg', '-m', '64', '-bios', ide_bench.BIOS,
            '-nographic', '-display', 'none', '-serial', 'none', '-monitor', 'none',
            '-no-reboot', '-device', 'isa-debug-exit,iobase=0xf4,iosize=4',
            '-drive', 'file=%s,format=raw,if=%s' % (img, bus), '-boot', 'c']
    return [('capsule rem', capsule), ('qemu tcg', qemu if shutil.which(qemu[0]) else None)]


def main():
    build = os.environ.get('CAPSULE_BUILD', 'build')
    runs = int(os.environ.get('VIRTIO_RUNS', '3'))
    mib = int(os.environ.get('VIRTIO_MIB', '32'))
    timeout = float(os.environ.get('VIRTIO_TIMEOUT', '120'))
    ok = True
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in (0, mib):
            img = ide_bench.image(tmp, size)
            for bus in ('virtio', 'ide'):
                for name, cmd in commands(build, img, bus):
                    got = [ide_bench.run_once(cmd, timeout) for _ in range(runs)] if cmd else None
                    if got and any(g is None for g in got):
                        print('%s %s: a run with %d MiB failed or timed out' % (name, bus, size))
                        ok = False
                        got = None
                    res[(bus, name, size)] = got and (statistics.median(g[0] for g in got),
                                                      statistics.median(g[1] for g in got))
    print('SeaBIOS INT 13h reads of %d MiB (medians of %d runs)' % (mib, runs))
    print('%-20s %10s %10s %12s %12s' % ('', 'wall s', 'cpu s', 'boot only s', 'read MB/s'))
    for bus in ('virtio', 'ide'):
        for name in ('capsule rem', 'qemu tcg'):
            r, base = res.get((bus, name, mib)), res.get((bus, name, 0))
            label = '%s %s' % (bus, name)
            if not r:
                print('%-20s %s' % (label, 'not available or failed'))
                continue
            rate = mib * 1.048576 / (r[0] - base[0]) if base and r[0] > base[0] else float('nan')
            print('%-20s %10.3f %10.3f %12.3f %12.1f' % (label, r[0], r[1],
                                                        base[0] if base else 0, rate))
        c, q = res.get((bus, 'capsule rem', mib)), res.get((bus, 'qemu tcg', mib))
        if c and q:
            print('%-20s wall %.2f, cpu %.2f' % (bus + ' capsule/qemu', c[0] / q[0], c[1] / q[1]))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
