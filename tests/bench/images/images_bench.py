#!/usr/bin/env python3
"""tests/bench/images/images_bench.py - BIOS boots of the guest images from
tools/guestkit (mkiso.sh, mkdisk.sh, mkdebian.sh), Capsule side by side with
QEMU's software CPU (TCG), both with Debian's SeaBIOS and its console on the
serial port:

  kit.iso       the guest kit on a CD-ROM (secondary channel master), isolinux
  kit-disk.img  the guest kit on a small FAT disk (primary master), syslinux
  debian.img    minimal Debian (debootstrap, systemd) on a disk, syslinux;
                after "login:" the bench logs in as root (no password) and
                waits for the shell's prompt

Measured from starting the emulator (medians of BOOT_RUNS runs):

  loader    until the boot loader's banner (ISOLINUX/SYSLINUX) on serial
  prompt    until the guest's prompt: "capsule:~#" for the kit, "login:"
            for Debian
  shell     Debian only: until the root shell's prompt after logging in
  CPU       the emulator's user + system time up to then

QEMU runs `qemu-system-x86_64 -accel tcg -m 512 -bios
/usr/share/seabios/bios-256k.bin` with the image on IDE; Capsule runs
`capsule-vm --firmware bios --engine ENGINE --memory 512 --drive
if=ide,port=P,device=D,media=disk|cdrom,file=IMAGE` (ENGINE: env
BOOT_ENGINE, default rem). An engine that cannot boot the image yet (a
build without IDE) gets a line saying why and no ratio. QEMU is a peer on
the machine, never a dependency.

Usage: images_bench.py [--no-debian] [IMAGE-NAME...]   (names: iso, disk,
debian). Environment: CAPSULE_BUILD (the build directory), BOOT_RUNS
(default 1), BOOT_TIMEOUT (seconds per boot, default 300), BOOT_ENGINE.
Exit status: 0 when QEMU (if installed) booted every image to its prompt,
else 1 (Capsule's failures are reported, not yet counted).
"""
import os
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

BIOS = '/usr/share/seabios/bios-256k.bin'
TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
KIT = os.path.join(TOP, 'tools', 'guestkit')


def build_image(script):
    """Runs a guestkit image script; returns its key=value lines as a dict."""
    p = subprocess.run([os.path.join(KIT, script)], stdout=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise RuntimeError('%s failed (exit %d)' % (script, p.returncode))
    return dict(line.split('=', 1) for line in p.stdout.splitlines() if '=' in line)


class Boot:
    """One emulator run with the guest's serial console on its stdio."""

    def __init__(self, cmd, timeout):
        self.t0 = time.monotonic()
        self.deadline = self.t0 + timeout
        self.out = b''
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        os.set_blocking(self.p.stdout.fileno(), False)

    def wait_for(self, marker):
        """Seconds since the start when MARKER appeared, or None."""
        while marker not in self.out:
            left = self.deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.p.stdout], [], [], min(left, 0.05))
            if r:
                data = self.p.stdout.read()
                if not data:
                    return None  # the emulator ended
                self.out += data
        return time.monotonic() - self.t0

    def send(self, text):
        self.p.stdin.write(text)
        self.p.stdin.flush()

    def stop(self):
        """Kills the emulator; returns (its CPU seconds, its stderr's first line)."""
        # os.kill, not Popen.kill: that polls, and a reaped child has no rusage.
        try:
            os.kill(self.p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _, _, ru = os.wait4(self.p.pid, 0)
        self.p.returncode = 0
        err = self.p.stderr.read().decode(errors='replace').strip().splitlines()
        return ru.ru_utime + ru.ru_stime, (err[0] if err else '')


def run_once(cmd, img, timeout, scratch):
    """Returns ((loader, prompt, shell, cpu), None) or (None, why). A disk
    boots from a fresh copy in SCRATCH (the guest writes to it, and the
    emulator is killed at the prompt: the cached image stays as built)."""
    if img['kind'] == 'disk':
        subprocess.run(['cp', '--sparse=always', '--reflink=auto', img['file'], scratch], check=True)
    b = Boot([a.replace('@IMAGE@', scratch if img['kind'] == 'disk' else img['file']) for a in cmd],
             timeout)
    loader = b.wait_for(b'SYSLINUX' if img['kind'] != 'iso' else b'ISOLINUX')
    prompt = b.wait_for(img['prompt'].encode()) if loader is not None else None
    shell = None
    if prompt is not None and img.get('login'):
        b.send(b'root\r')
        shell = b.wait_for(b'root@capsule-debian:~#')
        if shell is None:
            prompt = None
    cpu, err = b.stop()
    if prompt is None:
        tail = b.out.decode(errors='replace').replace('\r', '').strip().splitlines()[-3:]
        why = err or ' | '.join(tail) or 'no serial output'
        return None, why[:160]
    return (loader, prompt, shell, cpu), None


def main(argv):
    build = os.environ.get('CAPSULE_BUILD', os.path.join(TOP, 'build'))
    runs = int(os.environ.get('BOOT_RUNS', '1'))
    timeout = float(os.environ.get('BOOT_TIMEOUT', '300'))
    engine = os.environ.get('BOOT_ENGINE', 'rem')
    want = [a for a in argv if not a.startswith('-')] or ['iso', 'disk', 'debian']
    if '--no-debian' in argv and 'debian' in want:
        want.remove('debian')
    if not os.path.exists(BIOS):
        print('images bench: %s missing: install the seabios package (tools/setup.sh)' % BIOS)
        return 1
    images = []
    t = time.monotonic()
    if 'iso' in want:
        r = build_image('mkiso.sh')
        images.append({'name': 'kit.iso', 'kind': 'iso', 'file': r['iso'], 'prompt': r['prompt'],
                       'capsule': 'if=ide,port=1,device=0,media=cdrom', 'qemu': 'index=2,media=cdrom'})
    if 'disk' in want:
        r = build_image('mkdisk.sh')
        images.append({'name': 'kit-disk.img', 'kind': 'disk', 'file': r['disk'],
                       'prompt': r['prompt'], 'capsule': 'if=ide,port=0,device=0,media=disk',
                       'qemu': 'index=0,media=disk'})
    if 'debian' in want:
        r = build_image('mkdebian.sh')
        images.append({'name': 'debian.img', 'kind': 'disk', 'file': r['disk'],
                       'prompt': r['prompt'], 'login': True,
                       'capsule': 'if=ide,port=0,device=0,media=disk', 'qemu': 'index=0,media=disk'})
    print('images ready in %.1f s' % (time.monotonic() - t))

    tmp = tempfile.mkdtemp(prefix='images-bench-')
    sercon = os.path.join(tmp, 'sercon-port')
    with open(sercon, 'wb') as f:
        f.write((0x3f8).to_bytes(2, 'little'))
    qemu = shutil.which('qemu-system-x86_64')
    capsule_vm = os.path.join(build, 'bin', 'capsule-vm')

    def engines(img):
        fmt = ',format=raw' if img['kind'] == 'disk' else ''
        e = [('capsule ' + engine,
              [capsule_vm, '--firmware', 'bios', '--engine', engine, '--memory', '512',
               '--serial', 'stdio', '--drive', img['capsule'] + ',file=@IMAGE@'])]
        if qemu:
            # -fw_cfg's name draws a warning (not "opt/..."); SeaBIOS reads it.
            e.append(('qemu tcg', [qemu, '-accel', 'tcg', '-bios', BIOS, '-display', 'none',
                                   '-nodefaults', '-m', '512', '-serial', 'stdio',
                                   '-fw_cfg', 'name=etc/sercon-port,file=' + sercon,
                                   '-drive', 'file=@IMAGE@,if=ide,%s%s' % (img['qemu'], fmt)]))
        return e

    rc = 0
    print('%-13s %-12s %8s %8s %8s %8s  (seconds, medians of %d runs)' %
          ('image', 'engine', 'loader', 'prompt', 'shell', 'CPU', runs))
    for img in images:
        medians = {}
        for name, cmd in engines(img):
            results = []
            why = None
            for _ in range(runs):
                r, why = run_once(cmd, img, timeout, os.path.join(tmp, 'disk.img'))
                if r is None:
                    break
                results.append(r)
            if why is not None:
                print('%-13s %-12s did not reach its prompt: %s' % (img['name'], name, why))
                if name == 'qemu tcg':
                    rc = 1
                continue
            m = [statistics.median(x[i] for x in results) if results[0][i] is not None else None
                 for i in range(4)]
            medians[name] = m
            print('%-13s %-12s %8.2f %8.2f %8s %8.2f' %
                  (img['name'], name, m[0], m[1], '%.2f' % m[2] if m[2] is not None else '-', m[3]))
        if len(medians) == 2:
            c, q = medians['capsule ' + engine], medians['qemu tcg']
            print('%-13s ratio capsule/qemu: loader %.2f, prompt %.2f, CPU %.2f' %
                  (img['name'], c[0] / q[0], c[1] / q[1], c[3] / q[3]))
    if not qemu:
        print('qemu tcg: not installed (qemu-system-x86_64): no ratios')
    shutil.rmtree(tmp, ignore_errors=True)
    return rc


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
