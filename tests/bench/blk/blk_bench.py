#!/usr/bin/env python3
"""tests/bench/blk/blk_bench.py - in-guest sequential disk throughput with
O_DIRECT on each storage controller (PIIX3 IDE, AHCI/SATA, virtio-blk),
Capsule (capsule-vm --engine ENGINE, default rem) side by side with
qemu-system-x86_64 TCG, both with Debian's SeaBIOS
(/usr/share/seabios/bios-256k.bin) booting the same guest kit disk.

The guest: tools/guestkit/mkdisk.sh's kit disk (SeaBIOS -> syslinux ->
Linux -> the kit's init) in batch mode, with a second, blank raw disk of
BLK_MIB + 1 MiB on the same controller (fresh for every boot). The batch
command finds the blank disk by its size (/dev/sdb on IDE and SATA,
/dev/vdb on virtio), then BLK_REPS times:

    dd if=/dev/zero of=DISK bs=1M count=BLK_MIB oflag=direct   (write)
    dd if=DISK of=/dev/null bs=1M count=BLK_MIB iflag=direct   (read)

(busybox 1.35's dd has oflag=direct and iflag=direct), and prints the
guest's /proc/uptime before and after each dd: the times are the guest's
own, not the emulator's lifetime. The driver also timestamps those lines as
they arrive on the serial console (host column, a cross-check of the
guest's clock). MB/s are 10^6 bytes per second; the figure per engine is
the median of the reps; the ratio is Capsule / QEMU in MB/s (above 1:
Capsule is faster). The guest also prints the first line of /proc/stat
at each mark: the last columns are the share of the guest's CPU time
during each dd that was neither idle nor waiting for I/O (near 100%: the
guest's CPU, not the disk path, is what limits the rate). The driver reads
the emulator's CPU time (all its threads, /proc/PID/task/*/schedstat) as
each mark arrives: MB per emulator CPU second, the steadier figure on a
host whose other work takes CPU time from the emulator, and its ratio. Both emulators keep the images in the host's page cache
(no O_DIRECT on the host side: QEMU's default cache=writeback; Capsule's
block layer uses plain pread/pwrite), and both guests have 256 MiB of RAM.

Environment: CAPSULE_BUILD (the build directory), BLK_MIB (default 256),
BLK_REPS (default 3), BLK_TIMEOUT (seconds per boot, default 600),
BLK_ENGINE (capsule-vm's --engine, default rem), BLK_CONTROLLERS (default
"ide sata virtio"). Usage: blk_bench.py. QEMU is a peer on the machine,
never a dependency: without it the QEMU column says so. Exit status 0 when
every available emulator finished every controller, else 1.
"""
import base64
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

# The guest's command (kept short: the kernel command line holds 2047 bytes).
GUEST = r'''n=@SECTORS@ d=
for s in /sys/block/sd? /sys/block/vd?; do [ "$(cat $s/size 2>/dev/null)" = $n ] && d=/dev/${s##*/}; done
[ -n "$d" ] || { echo "BLK no disk of $n sectors"; exit 1; }
echo "BLK disk $d"
up() { echo $(cut -d" " -f1 /proc/uptime) $(head -1 /proc/stat); }
i=0
while [ $i -lt @REPS@ ]; do
echo "BLK w $i $(up)"
dd if=/dev/zero of=$d bs=1M count=@MIB@ oflag=direct 2>/dev/null || exit 2
echo "BLK r $i $(up)"
dd if=$d of=/dev/null bs=1M count=@MIB@ iflag=direct 2>/dev/null || exit 3
echo "BLK e $i $(up)"
i=$((i+1))
done'''


def kit_disk(mib, reps):
    """Builds (or takes from the cache) the kit disk running GUEST; returns its path."""
    cmd = (GUEST.replace('@SECTORS@', str((mib + 1) * 2048)).replace('@REPS@', str(reps))
           .replace('@MIB@', str(mib)))
    b64 = base64.urlsafe_b64encode(cmd.encode()).decode().rstrip('=')
    p = subprocess.run([os.path.join(KIT, 'mkdisk.sh'), '--name', 'blkbench-%d-%d' % (mib, reps),
                        '--append', 'capsule.batch=%s capsule.debugexit=1' % b64],
                       stdout=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise RuntimeError('mkdisk.sh failed (exit %d)' % p.returncode)
    keys = dict(line.split('=', 1) for line in p.stdout.splitlines() if '=' in line)
    return keys['disk']


def capsule_cmd(build, engine, ctl, boot, blank):
    drives = {'ide': ('if=ide,port=0,device=0', 'if=ide,port=0,device=1'),
              'sata': ('if=sata,port=0,device=0', 'if=sata,port=1,device=0'),
              'virtio': ('if=virtio,port=0,device=0', 'if=virtio,port=1,device=0')}[ctl]
    cmd = [os.path.join(build, 'bin', 'capsule-vm'), '--firmware', 'bios', '--engine', engine,
           '--memory', '256', '--serial', 'stdio', '--debug-exit', '--boot', 'disk']
    for d, f in zip(drives, (boot, blank)):
        cmd += ['--drive', '%s,media=disk,format=raw,file=%s' % (d, f)]
    return cmd


def qemu_cmd(qemu, ctl, boot, blank):
    cmd = [qemu, '-accel', 'tcg', '-bios', BIOS, '-nodefaults', '-vga', 'std', '-display', 'none',
           '-m', '256', '-serial', 'stdio', '-monitor', 'none', '-no-reboot',
           '-device', 'isa-debug-exit,iobase=0xf4,iosize=4']
    if ctl == 'sata':
        cmd += ['-device', 'ahci,id=ahci']
        for i, f in enumerate((boot, blank)):
            cmd += ['-drive', 'if=none,id=d%d,format=raw,file=%s' % (i, f),
                    '-device', 'ide-hd,drive=d%d,bus=ahci.%d' % (i, i)]
    else:
        for i, f in enumerate((boot, blank)):
            cmd += ['-drive', 'if=%s,index=%d,format=raw,file=%s' % (ctl, i, f)]
    return cmd


def cpu_ns(pid):
    """CPU time of every thread of process PID so far (ns; schedstat)."""
    total = 0
    try:
        for t in os.listdir('/proc/%d/task' % pid):
            try:
                with open('/proc/%d/task/%s/schedstat' % (pid, t)) as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass  # the thread ended
    except OSError:
        pass
    return total


def run_once(cmd, timeout):
    """Boots; returns (list of (write_s, read_s, host_write_s, host_read_s,
    write_busy, read_busy, write_cpu_s, read_cpu_s), None) or (None, why).
    busy: the share of the guest's CPU time (/proc/stat) not idle or waiting
    for I/O; cpu_s: the emulator process's CPU time (all threads)."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    os.set_blocking(p.stdout.fileno(), False)
    out, buf, marks = b'', b'', {}
    why = None
    while True:
        left = t0 + timeout - time.monotonic()
        if left <= 0:
            why = 'timed out after %.0f s' % timeout
            break
        r, _, _ = select.select([p.stdout], [], [], min(left, 0.05))
        if not r:
            continue
        data = p.stdout.read()
        if not data:
            break
        now = time.monotonic()
        out += data
        buf += data
        while b'\n' in buf:
            line, buf = buf.split(b'\n', 1)
            f = line.decode(errors='replace').strip().split()
            if len(f) >= 9 and f[0] == 'BLK' and f[1] in 'wre' and f[4] == 'cpu':
                ticks = [int(x) for x in f[5:]]
                idle = ticks[3] + ticks[4]  # idle, iowait
                marks[(f[1], int(f[2]))] = (float(f[3]), now, sum(ticks) - idle, sum(ticks),
                                            cpu_ns(p.pid))
    try:
        os.kill(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    p.wait()
    err = p.stderr.read().decode(errors='replace').strip().splitlines()
    reps = []
    i = 0
    while ('e', i) in marks and ('r', i) in marks and ('w', i) in marks:
        w, r, e = marks[('w', i)], marks[('r', i)], marks[('e', i)]
        busy = lambda a, b: (b[2] - a[2]) / (b[3] - a[3]) if b[3] > a[3] else float('nan')  # noqa
        reps.append((r[0] - w[0], e[0] - r[0], r[1] - w[1], e[1] - r[1], busy(w, r), busy(r, e),
                     (r[4] - w[4]) / 1e9, (e[4] - r[4]) / 1e9))
        i += 1
    if b'=== capsule-batch end rc=0 ===' not in out:
        tail = out.decode(errors='replace').replace('\r', '').strip().splitlines()[-4:]
        return None, (why or 'the guest command failed') + ': ' + \
            ' | '.join(tail + err[:1])[:200]
    return reps, None


def main():
    build = os.environ.get('CAPSULE_BUILD', os.path.join(TOP, 'build'))
    mib = int(os.environ.get('BLK_MIB', '256'))
    reps = int(os.environ.get('BLK_REPS', '3'))
    timeout = float(os.environ.get('BLK_TIMEOUT', '600'))
    engine = os.environ.get('BLK_ENGINE', 'rem')
    ctls = os.environ.get('BLK_CONTROLLERS', 'ide sata virtio').split()
    if not os.path.exists(BIOS):
        print('blk bench: %s missing: install the seabios package (tools/setup.sh)' % BIOS)
        return 1
    boot = kit_disk(mib, reps)
    qemu = shutil.which('qemu-system-x86_64')
    tmp = tempfile.mkdtemp(prefix='blk-bench-')
    blank = os.path.join(tmp, 'blank.img')
    rate = lambda s: mib * 1.048576 / s if s > 0 else float('nan')  # noqa: E731
    rc = 0
    res = {}
    print('in-guest dd %d MiB, bs=1M, O_DIRECT, median of %d reps per boot; MB/s (guest clock, '
          'host clock)' % (mib, reps))
    print('%-7s %-12s %16s %16s   %9s   %s' % ('', '', 'write MB/s', 'read MB/s',
                                                'guest busy', 'MB per emulator CPU s: write read'))
    for ctl in ctls:
        emus = [('capsule ' + engine, capsule_cmd(build, engine, ctl, boot, blank))]
        emus.append(('qemu tcg', qemu_cmd(qemu, ctl, boot, blank) if qemu else None))
        for name, cmd in emus:
            if cmd is None:
                print('%-7s %-12s not installed (qemu-system-x86_64)' % (ctl, name))
                continue
            with open(blank, 'wb') as f:
                f.truncate((mib + 1) << 20)
            got, why = run_once(cmd, timeout)
            if not got:
                print('%-7s %-12s failed: %s' % (ctl, name, why))
                rc = 1
                continue
            m = [statistics.median(g[k] for g in got) for k in range(8)]
            res[(ctl, name)] = (rate(m[0]), rate(m[1]), rate(m[6]), rate(m[7]))
            print('%-7s %-12s %7.1f (%6.1f) %7.1f (%6.1f)   %3.0f%% %3.0f%%   %7.1f %7.1f' %
                  (ctl, name, rate(m[0]), rate(m[2]), rate(m[1]), rate(m[3]), 100 * m[4],
                   100 * m[5], rate(m[6]), rate(m[7])))
        c, q = res.get((ctl, 'capsule ' + engine)), res.get((ctl, 'qemu tcg'))
        if c and q:
            print('%-7s %-12s %16.2f %16.2f   %9s   %7.2f %7.2f' %
                  (ctl, 'capsule/qemu', c[0] / q[0], c[1] / q[1], '', c[2] / q[2], c[3] / q[3]))
        sys.stdout.flush()
    shutil.rmtree(tmp, ignore_errors=True)
    return rc


if __name__ == '__main__':
    sys.exit(main())
