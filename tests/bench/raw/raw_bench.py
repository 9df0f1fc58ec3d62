#!/usr/bin/env python3
"""tests/bench/raw/raw_bench.py - issue 14's measurements of raw ring 3
(capsule-vm --engine raw: guest 64-bit user code natively in KVM, the kernel
in rem), side by side in one run on the guest kit's Linux (tools/guestkit:
Debian's kernel + the busybox-static initramfs).

Two parts:

  compute   user-space work in the guest, timed between marker lines the
            guest prints on its serial console:
              awk   busybox awk summing i % 7 for i = 1..AWK_N
              gzip  busybox gzip -c of a 32 MiB file held in the initramfs
                    (a RAM file system; the first 32 MiB of the kit's own
                    vmlinux: code and data, compresses ~4x) to /tmp
            under raw, rem, hm (capped: hm emulates the guest kernel at
            ~1000x, so it reports how far it got; with the host profile,
            the only one hm offers), QEMU TCG, and native:
            the same busybox binary (extracted from the kit's initramfs)
            run on the host on the same file in /dev/shm.
  boot      the Linux boot to power-off (batch `uname -r`), raw vs rem vs
            QEMU TCG.

Times are wall clock on the host: each marker line is timestamped as it
arrives on the serial port (the guest's own `time` is printed beside it as a
check: under raw the guest TSC runs at the host's rate, under rem at 1 GHz).
Medians over RUNS. The raw runs pass --stats: exits by kind, flushes and the
time in raw and rem come from /RAW/... and are printed per second.

Environment: CAPSULE_BUILD, RAW_BENCH_RUNS (default 3), RAW_BENCH_TIMEOUT
(seconds per guest run, default 300), RAW_BENCH_HM_TIMEOUT (default 120),
RAW_BENCH_AWK_N (default 1000000), RAW_BENCH_PROFILE (amd-epyc: an Intel
profile makes Linux turn page-table isolation on, vmm/raw/README.md),
RAW_BENCH_ENGINES (default "raw rem hm qemu native").
Exit status 0 when every engine that ran got the right results, 1 if one
failed (a capped hm is not a failure), 2 if the guest kit failed.
"""
import gzip
import os
import re
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
KIT = os.path.join(TOP, 'tools', 'guestkit', 'guestkit.sh')
END_MARK = b'=== capsule-batch end rc=0 ==='
BLOB_MIB = 32
MARK = re.compile(rb'^BENCH (\w+)-(begin|end)\b', re.M)


def awk_prog(n):
    return 'BEGIN { s = 0; for (i = 1; i <= %d; i++) s += i %% 7; print "sum", s }' % n


def awk_sum(n):
    return sum(i % 7 for i in range(1, n + 1))


def compute_batch(n):
    return ('echo BENCH awk-begin; time awk \'%s\'; echo BENCH awk-end; '
            'echo BENCH gzip-begin; time gzip -c /blob >/tmp/z; echo BENCH gzip-end; '
            'echo gzsize $(wc -c </tmp/z)' % awk_prog(n))


def newc(entries):
    """An uncompressed cpio (newc) archive of (name, mode, data)."""
    out = bytearray()
    for ino, (name, mode, data) in enumerate(entries + [('TRAILER!!!', 0, b'')], 1):
        nb = name.encode() + b'\0'
        fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nb), 0]
        out += b'070701' + b''.join(b'%08x' % f for f in fields) + nb
        out += b'\0' * (-len(out) % 4) + data
        out += b'\0' * (-len(out) % 4)
    out += b'\0' * (-len(out) % 512)
    return bytes(out)


def cpio_member(archive, want):
    """A member's bytes from a newc archive (the kit's initramfs)."""
    pos = 0
    while archive[pos:pos + 6] == b'070701':
        f = [int(archive[pos + 6 + 8 * i:pos + 14 + 8 * i], 16) for i in range(13)]
        size, nlen = f[6], f[11]
        name = archive[pos + 110:pos + 110 + nlen - 1].decode()
        pos += 110 + nlen
        pos += -pos % 4
        if name.lstrip('/') == want:
            return archive[pos:pos + size]
        pos += size
        pos += -pos % 4
    return None


def prepare(build, tmp):
    """The kit, the compute initrd (kit + /blob), the host's busybox and blob."""
    out = os.environ.get('CAPSULE_GUEST_DIR') or os.path.join(build, 'guest')
    r = subprocess.run([KIT, 'build', '--out', out], stdout=subprocess.PIPE)
    if r.returncode != 0:
        return None
    g = dict(l.split('=', 1) for l in r.stdout.decode().splitlines() if '=' in l)
    with open(g['vmlinux'], 'rb') as f:
        blob = f.read(BLOB_MIB << 20)
    with open(g['initrd'], 'rb') as f:
        kit = f.read()
    bb = cpio_member(gzip.decompress(kit), 'bin/busybox')
    if bb is None or len(blob) != BLOB_MIB << 20:
        print('raw bench: no bin/busybox in the kit\'s initramfs, or vmlinux < %d MiB' % BLOB_MIB)
        return None
    g['initrd_compute'] = os.path.join(tmp, 'initrd-compute')
    with open(g['initrd_compute'], 'wb') as f:
        f.write(kit + b'\0' * (-len(kit) % 512) + newc([('blob', 0o100644, blob)]))
    g['busybox'] = os.path.join(tmp, 'busybox')
    with open(g['busybox'], 'wb') as f:
        f.write(bb)
    os.chmod(g['busybox'], 0o755)
    shm = '/dev/shm' if os.path.isdir('/dev/shm') else tmp
    g['blob'] = tempfile.mkstemp(prefix='rawbench-blob-', dir=shm)[1]
    with open(g['blob'], 'wb') as f:
        f.write(blob)
    return g


class Run:
    """One guest run: marker times (host wall clock from the start), the
    exit status, the output and an error when it did not finish."""

    def __init__(self):
        self.marks, self.output, self.status, self.error, self.wall = {}, b'', None, None, None


def run_guest(argv, timeout):
    r = Run()
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    fd = p.stdout.fileno()
    while True:
        left = t0 + timeout - time.monotonic()
        if left <= 0:
            p.kill()
            p.wait()
            r.error = 'timed out after %d s' % timeout
            r.wall = timeout
            return r
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        data = os.read(fd, 65536)
        if not data:
            break
        now = time.monotonic() - t0
        r.output += data
        for m in MARK.finditer(r.output):
            r.marks.setdefault(m.group(1).decode() + '-' + m.group(2).decode(), now)
    p.wait()
    r.status = p.returncode
    r.wall = time.monotonic() - t0
    if END_MARK not in r.output or r.status != 1:
        r.error = 'the batch did not complete (exit status %d, debug-exit expected 1)' % r.status
    return r


def phase(r, name):
    b, e = r.marks.get(name + '-begin'), r.marks.get(name + '-end')
    return e - b if b is not None and e is not None else None


def guest_time(r, idx):
    """The guest's `time` real seconds for the idx-th timed command."""
    t = re.findall(rb'^real\s+(\d+)m\s*([\d.]+)s', r.output, re.M)
    return int(t[idx][0]) * 60 + float(t[idx][1]) if len(t) > idx else None


def stats(r):
    return {m.group(1).decode(): int(m.group(2))
            for m in re.finditer(rb'^(/RAW/\S+) (\d+) ', r.output, re.M)}


def last_lines(data, n=5):
    lines = data.decode(errors='replace').replace('\r', '').splitlines()
    return '\n'.join('    ' + l for l in lines[-n:])


def fmt(v, unit='s'):
    return '%8.2f %s' % (v, unit) if v is not None else '%10s' % 'n/a'


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def compute_engine(name, argv, runs, timeout, want_sum, want_gz, capped=False):
    """Median awk/gzip times of an engine, or None; prints each run."""
    awk, gz, gawk, ggz, st = [], [], [], [], []
    for i in range(runs):
        r = run_guest(argv, timeout)
        a, z = phase(r, 'awk'), phase(r, 'gzip')
        if r.error:
            reached = ', '.join(k for k in ('awk-begin', 'awk-end', 'gzip-begin', 'gzip-end')
                                if k in r.marks) or 'not even the awk (still booting)'
            stamps = re.findall(rb'^\[\s*(\d+\.\d+)\]', r.output, re.M)
            if stamps:
                reached += ' (kernel log up to %s s of guest time)' % stamps[-1].decode()
            print('%-8s run %d: %s; reached: %s' % (name, i + 1, r.error, reached))
            if not capped or not r.error.startswith('timed out'):
                print(last_lines(r.output))
            return {'error': r.error, 'awk': a, 'gzip': z}
        bad = []
        if b'sum %d' % want_sum not in r.output:
            bad.append('awk printed no "sum %d"' % want_sum)
        if b'gzsize %d' % want_gz not in r.output:
            bad.append('gzip output is not %d bytes' % want_gz)
        if bad:
            print('%-8s run %d: WRONG: %s' % (name, i + 1, '; '.join(bad)))
            return {'error': 'wrong result', 'awk': a, 'gzip': z}
        awk.append(a)
        gz.append(z)
        gawk.append(guest_time(r, 0))
        ggz.append(guest_time(r, 1))
        st.append(stats(r))
        print('%-8s run %d: awk %.2f s (guest: %s s), gzip %.2f s (guest: %s s), whole run %.2f s'
              % (name, i + 1, a, gawk[-1], z, ggz[-1], r.wall))
        sys.stdout.flush()
    return {'awk': med(awk), 'gzip': med(gz), 'stats': st}


def native(busybox, blob, n, runs, want_sum):
    awk, gz, size = [], [], None
    for _ in range(runs):
        t = time.monotonic()
        out = subprocess.run([busybox, 'awk', awk_prog(n)], stdout=subprocess.PIPE).stdout
        awk.append(time.monotonic() - t)
        if b'sum %d' % want_sum not in out:
            print('native: busybox awk printed %r' % out)
            return None
        with open(blob + '.gz', 'wb') as o:
            t = time.monotonic()
            subprocess.run([busybox, 'gzip', '-c', blob], stdout=o, check=True)
            gz.append(time.monotonic() - t)
        size = os.path.getsize(blob + '.gz')
        os.unlink(blob + '.gz')
    print('native   awk %s s, gzip %s s (%d -> %d bytes)' % (
        ', '.join('%.2f' % x for x in awk), ', '.join('%.2f' % x for x in gz), BLOB_MIB << 20,
        size))
    return {'awk': med(awk), 'gzip': med(gz), 'gzsize': size}


def boot_engine(name, argv, runs, timeout):
    offs, st = [], []
    for i in range(runs):
        r = run_guest(argv, timeout)
        if r.error:
            print('%-8s boot %d: %s' % (name, i + 1, r.error))
            print(last_lines(r.output))
            return None, st
        offs.append(r.wall)
        st.append(stats(r))
        print('%-8s boot %d: power-off after %.2f s' % (name, i + 1, r.wall))
        sys.stdout.flush()
    return med(offs), st


def print_stats(title, st):
    """/RAW/ counters of raw runs (medians), per second of the run's VM time."""
    if not st:
        return
    keys = sorted(set().union(*st))
    m = {k: med([s.get(k, 0) for s in st]) for k in keys}
    raw_s, rem_s = m.get('/RAW/RawNs', 0) / 1e9, m.get('/RAW/RemNs', 0) / 1e9
    tot = raw_s + rem_s
    print('%s (median of %d): time in raw %.2f s, in rem %.2f s (raw %.0f %%); flushes %d '
          '(%.2f s, %.0f us each), %d skipped (nothing lost)'
          % (title, len(st), raw_s, rem_s, 100 * raw_s / tot if tot else 0,
             m.get('/RAW/Flushes', 0), m.get('/RAW/FlushNs', 0) / 1e9,
             m.get('/RAW/FlushNs', 0) / 1e3 / max(1, m.get('/RAW/Flushes', 1)),
             m.get('/RAW/FlushesSkipped', 0)))
    for k in keys:
        if k.startswith('/RAW/Exits/') and m[k]:
            print('  %-24s %8d  %8.0f /s of raw+rem time' % (k[len('/RAW/Exits/'):], m[k],
                                                           m[k] / tot if tot else 0))
    ex = sum(m[k] for k in keys if k in ('/RAW/Exits/Fault', '/RAW/Exits/Syscall',
                                         '/RAW/Exits/IntN', '/RAW/Exits/Kick', '/RAW/Exits/Trap'))
    if ex and raw_s:
        print('  %-24s %8d  %8.0f /s; %.0f us of raw time per exit' % ('all exits', ex,
                                                                       ex / tot, raw_s * 1e6 / ex))


def main():
    build = os.environ.get('CAPSULE_BUILD') or os.path.join(TOP, 'build')
    runs = int(os.environ.get('RAW_BENCH_RUNS', '3'))
    timeout = int(os.environ.get('RAW_BENCH_TIMEOUT', '300'))
    hm_timeout = int(os.environ.get('RAW_BENCH_HM_TIMEOUT', '120'))
    n = int(os.environ.get('RAW_BENCH_AWK_N', '1000000'))
    profile = os.environ.get('RAW_BENCH_PROFILE', 'amd-epyc')
    engines = os.environ.get('RAW_BENCH_ENGINES', 'raw rem hm qemu native').split()
    tmp = tempfile.mkdtemp(prefix='rawbench-')
    g = None
    try:
        g = prepare(build, tmp)
        if not g:
            print('raw bench: the guest kit failed (see above)')
            return 2
        return bench(build, g, runs, timeout, hm_timeout, n, profile, engines)
    finally:
        if g and os.path.exists(g['blob']):
            os.unlink(g['blob'])
        shutil.rmtree(tmp, ignore_errors=True)


def bench(build, g, runs, timeout, hm_timeout, n, profile, engines):
    mem = '512'
    with open('/proc/loadavg') as f:
        load = f.read().split()[0]
    cpu = '?'
    with open('/proc/cpuinfo') as f:
        for l in f:
            if l.startswith('model name'):
                cpu = l.split(':', 1)[1].strip()
                break
    print('raw bench: Linux %s + busybox, %s MiB, profile %s, median of %d; host %s, %d CPUs, '
          'load average %s at the start' % (g.get('release', '?'), mem, profile, runs, cpu,
                                            os.cpu_count() or 0, load))
    want_sum = awk_sum(n)
    # the reference results come from the same busybox on the host, also
    # when native is not timed
    nat = native(g['busybox'], g['blob'], n, runs if 'native' in engines else 1, want_sum)
    ok = nat is not None
    if not nat:
        return 1
    want_gz = nat['gzsize']
    if 'native' not in engines:
        nat = None
    cl = subprocess.run([KIT, 'cmdline', '--batch', compute_batch(n), '--debug-exit'],
                        stdout=subprocess.PIPE, check=True).stdout.decode().strip()
    bcl = subprocess.run([KIT, 'cmdline', '--batch', 'uname -r', '--debug-exit'],
                         stdout=subprocess.PIPE, check=True).stdout.decode().strip()
    vm = os.path.join(build, 'bin', 'capsule-vm')
    qemu = shutil.which('qemu-system-x86_64')

    def cvm(engine, initrd, cmdline, extra=()):
        # hm shows the guest the host's CPUID whatever the profile says, and
        # refuses a named profile the host cannot offer: hm runs "host"
        return [vm, '--engine', engine, '--cpu-profile', 'host' if engine == 'hm' else profile, '--memory', mem, '--kernel',
                g['vmlinux'], '--initrd', initrd, '--append', cmdline, '--serial', 'stdio',
                '--debug-exit'] + list(extra)

    def qargv(initrd, cmdline):
        return [qemu, '-accel', 'tcg', '-m', mem, '-nographic', '-no-reboot', '-device',
                'isa-debug-exit,iobase=0xf4,iosize=0x04', '-kernel', g['vmlinux'], '-initrd',
                initrd, '-append', cmdline]

    res, boots, bstats = {'native': nat}, {}, []
    for e in engines:
        if e in ('raw', 'rem', 'hm'):
            capped = e == 'hm'
            r = compute_engine(e, cvm(e, g['initrd_compute'], cl, ['--stats'] if e == 'raw' else []),
                               1 if capped else runs, hm_timeout if capped else timeout, want_sum,
                               want_gz, capped)
            ok = ok and (capped or 'error' not in r)
            res[e] = r
        elif e == 'qemu':
            if not qemu:
                print('qemu     qemu-system-x86_64 not installed (optional peer): skipped')
                continue
            r = compute_engine('qemu-tcg', qargv(g['initrd_compute'], cl), runs, timeout, want_sum,
                               want_gz)
            ok = ok and 'error' not in r
            res['qemu-tcg'] = r
    for e in ('raw', 'rem', 'qemu'):
        if e not in engines:
            continue
        if e == 'qemu':
            if qemu:
                boots['qemu-tcg'], _ = boot_engine('qemu-tcg', qargv(g['initrd'], bcl), runs,
                                                   timeout)
            continue
        boots[e], st = boot_engine(e, cvm(e, g['initrd'], bcl, ['--stats'] if e == 'raw' else []),
                                   runs, timeout)
        ok = ok and boots[e] is not None
        if e == 'raw':
            bstats = st

    print()
    print('compute (host wall clock, median)   %12s %12s' % ('awk', 'gzip 32 MiB'))
    base = nat or {}
    for name in ('native', 'raw', 'rem', 'hm', 'qemu-tcg'):
        r = res.get(name)
        if r is None:
            continue
        cells = []
        for k in ('awk', 'gzip'):
            v = r.get(k)
            if v is None:
                err = r.get('error', '')
                cells.append('%12s' % ('timed out' if err.startswith('timed out')
                                       else 'failed' if err else 'n/a'))
            elif base.get(k):
                cells.append('%7.2f s %4.1fx' % (v, v / base[k]))
            else:
                cells.append('%10.2f s' % v)
        print('%-35s %s %s%s' % (name, cells[0], cells[1],
                                 '   (%s)' % r['error'] if r.get('error') else ''))
    print('(x: times native; issue 14\'s goal for raw: within 1.5x)')
    print()
    print('boot to power-off (median)          %12s' % 'wall')
    for name in ('raw', 'rem', 'qemu-tcg'):
        if name in boots:
            v = boots[name]
            print('%-35s %s' % (name, fmt(v)))
    rb, rm, q = boots.get('raw'), boots.get('rem'), boots.get('qemu-tcg')
    if rb and rm:
        print('ratio raw/rem %.2f%s (below 1: raw is faster; goal: faster than both)'
              % (rb / rm, ', raw/qemu-tcg %.2f' % (rb / q) if q else ''))
    print()
    if res.get('raw') and res['raw'].get('stats'):
        print_stats('raw, compute run', res['raw']['stats'])
    print_stats('raw, boot only', bstats)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
