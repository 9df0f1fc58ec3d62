#!/usr/bin/env python3
"""tests/bench/boot/ide_bench.py - SeaBIOS reading a disk through INT 13h:
power-on, then a boot sector (int13_read.asm) that reads MiB of the disk
in 32 KiB calls (SeaBIOS's ATA PIO on the PIIX3 IDE controller) and exits
through the debug-exit port. Capsule's rem engine against QEMU's TCG with
the same SeaBIOS (Debian's bios-256k.bin) and the same raw image, side by
side; QEMU is a peer on the machine, never a dependency (its line says
when it is missing).

Measured from starting the emulator to its exit: wall time and CPU time
(user + system). Medians of IDE_RUNS runs (default 5), the ratio Capsule /
QEMU (below 1: Capsule is faster), and the read rate after subtracting the
same machine's time for a zero-MiB run (POST and the boot itself).

Environment: CAPSULE_BUILD, IDE_RUNS, IDE_MIB (default 16), IDE_TIMEOUT
(seconds per run, default 120), IDE_BUS (ide, the default, or sata: the
disk on the AHCI controller, where SeaBIOS reads by DMA). Exit status 0 when every available engine
finished each run, else 1.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BIOS = '/usr/share/seabios/bios-256k.bin'
HERE = os.path.dirname(os.path.abspath(__file__))


def run_once(cmd, timeout):
    """(wall s, cpu s) or None when it failed or timed out."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _, status, ru = os.wait4(p.pid, 0) if timeout is None else wait(p, timeout)
    except TimeoutError:
        return None
    wall = time.monotonic() - t0
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0x21:
        return None
    return wall, ru.ru_utime + ru.ru_stime


def wait(p, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            return pid, status, ru
        time.sleep(0.002)
    p.kill()
    os.wait4(p.pid, 0)
    raise TimeoutError


def image(tmp, mib):
    boot = os.path.join(tmp, 'boot%d.bin' % mib)
    subprocess.run(['nasm', '-f', 'bin', '-DMIB=%d' % mib, '-o', boot,
                    os.path.join(HERE, 'int13_read.asm')], check=True)
    img = os.path.join(tmp, 'disk%d.img' % mib)
    with open(boot, 'rb') as f, open(img, 'wb') as out:
        out.write(f.read())
        out.truncate((mib + 2) << 20)
    return img


def commands(build, img):
    sata = os.environ.get('IDE_BUS', 'ide') == 'sata'
    capsule = [os.path.join(build, 'bin', 'capsule-vm'), '--firmware', 'bios', '--engine', 'rem',
               '--memory', '64', '--serial', 'none', '--debug-exit', '--boot', 'disk',
               '--drive', '%s,media=disk,format=raw,file=%s'
               % ('if=sata,port=0' if sata else 'if=ide,port=0,device=0', img)]
    qemu = ['qemu-system-x86_64', '-accel', 'tcg', '-m', '64', '-bios', BIOS, '-nographic',
            '-display', 'none', '-serial', 'none', '-monitor', 'none', '-no-reboot',
            '-device', 'isa-debug-exit,iobase=0xf4,iosize=4', '-boot', 'c']
    qemu += (['-device', 'ahci,id=ahci', '-drive', 'file=%s,format=raw,if=none,id=d0' % img,
              '-device', 'ide-hd,drive=d0,bus=ahci.0'] if sata else
             ['-drive', 'file=%s,format=raw,if=ide' % img])
    return [('capsule rem', capsule), ('qemu tcg', qemu if shutil.which(qemu[0]) else None)]


def main():
    build = os.environ.get('CAPSULE_BUILD', 'build')
    runs = int(os.environ.get('IDE_RUNS', '5'))
    mib = int(os.environ.get('IDE_MIB', '16'))
    timeout = float(os.environ.get('IDE_TIMEOUT', '120'))
    ok = True
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in (0, mib):
            img = image(tmp, size)
            for name, cmd in commands(build, img):
                if cmd is None:
                    res[(name, size)] = None
                    continue
                got = [run_once(cmd, timeout) for _ in range(runs)]
                if any(g is None for g in got):
                    print('%s: a run with %d MiB failed or timed out' % (name, size))
                    ok = False
                    res[(name, size)] = None
                    continue
                res[(name, size)] = (statistics.median(g[0] for g in got),
                                     statistics.median(g[1] for g in got))
    bus = 'n AHCI (SATA)' if os.environ.get('IDE_BUS') == 'sata' else ' PIIX3 IDE'
    print('SeaBIOS INT 13h reads of %d MiB from a%s disk (medians of %d runs)'
          % (mib, bus, runs))
    print('%-12s %10s %10s %12s %12s' % ('', 'wall s', 'cpu s', 'boot only s', 'read MB/s'))
    for name in ('capsule rem', 'qemu tcg'):
        r, base = res.get((name, mib)), res.get((name, 0))
        if r is None:
            print('%-12s %s' % (name, 'not available' if name == 'qemu tcg' and not
                                shutil.which('qemu-system-x86_64') else 'failed'))
            continue
        rate = mib * 1.048576 / (r[0] - base[0]) if base and r[0] > base[0] else float('nan')
        print('%-12s %10.3f %10.3f %12.3f %12.1f' % (name, r[0], r[1], base[0] if base else 0,
                                                    rate))
    c, q = res.get(('capsule rem', mib)), res.get(('qemu tcg', mib))
    if c and q:
        print('ratio capsule/qemu: wall %.2f, cpu %.2f' % (c[0] / q[0], c[1] / q[1]))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
