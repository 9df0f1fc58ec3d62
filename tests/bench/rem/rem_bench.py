#!/usr/bin/env python3
"""tests/bench/rem/rem_bench.py - guest MIPS of the software CPU
(capsule-vm --engine rem) against QEMU's TCG (qemu-system-x86_64 -accel
tcg) on the same payload, side by side in one run (`scons bench-rem`).

The payload (rembench.elf, rembench.c) runs compute kernels at CPL0 in
64-bit mode; the instruction count of each follows from its loop
structure and is printed by the guest with `BENCH <k> begin <insns>`;
`BENCH <k> end <ticks> <checksum>` follows when the kernel is done. The
driver timestamps both lines as they arrive on the serial port (host
monotonic clock, so the figure does not depend on how either VMM
virtualises the TSC) and reports instructions / wall time, and
instructions / CPU time the VMM process used meanwhile (all its threads,
/proc/PID/task/*/schedstat) - the steadier figure when other work shares
the CPU. Kernels run for 0.1 .. 5 s, so the serial latency (well under
1 ms) does not matter.

Robustness on a loaded host: the driver pins itself, and so every VMM it
starts, to one CPU (REMBENCH_CPU, default the last); the VMMs take turns
within each round (REMBENCH_RUNS, default 3), so drifting load hits both
columns alike; the table shows the median and the spread (min..max as
+-% around it). The checksums of every kernel must agree between the
VMMs: a wrong result is a failure, not a fast run.

QEMU is a peer on the machine, not a dependency: when it is missing its
column says so and the ratios are left out. REMBENCH_BASELINE=PATH adds a
column for another capsule-vm binary (e.g. one built from an older commit)
running the same payload under --engine rem. Exit status: 0 when every
available VMM ran every kernel with the same checksums, 1 otherwise.
"""
import os
import select
import shutil
import statistics
import subprocess
import sys
import time

BUILD = os.environ.get('CAPSULE_BUILD') or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'build')
PAYLOAD = os.path.join(BUILD, 'bench', 'rem', 'rembench.elf')
CAPSULE_VM = os.path.join(BUILD, 'bin', 'capsule-vm')
QEMU = shutil.which('qemu-system-x86_64')
# Optional: another capsule-vm (e.g. built from an older commit) as a third column.
BASELINE = os.environ.get('REMBENCH_BASELINE')
RUNS = int(os.environ.get('REMBENCH_RUNS', '3'))
TIMEOUT = float(os.environ.get('REMBENCH_TIMEOUT', '300'))
KERNELS = ('loop', 'crc32', 'mix', 'copy')
QEMU_LOOP_MIPS_HERE = 510.0   # issue 5: QEMU TCG on the 2-instruction loop, this host
TARGET_RATIO = 4.0            # first target: within 4x of QEMU

failures = []


def argv_for(vmm):
    if vmm in ('rem', 'base'):
        return [CAPSULE_VM if vmm == 'rem' else BASELINE, '--kernel', PAYLOAD, '--engine', 'rem',
                '--memory', '64', '--serial', 'stdio', '--debug-exit']
    return [QEMU, '-accel', 'tcg', '-M', 'pc', '-m', '64', '-nodefaults', '-no-user-config',
            '-display', 'none', '-monitor', 'none', '-no-reboot', '-serial', 'stdio',
            '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-kernel', PAYLOAD]


def cpu_ns(pid):
    """CPU time of all threads of `pid` so far (ns, /proc/PID/task/*/schedstat)."""
    total = 0
    try:
        for t in os.listdir('/proc/%d/task' % pid):
            try:
                with open('/proc/%d/task/%s/schedstat' % (pid, t)) as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    except OSError:
        pass
    return total


def run_once(vmm):
    """Runs the payload once; returns {kernel: (wall mips, cpu mips, checksum)} or None."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv_for(vmm), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    fds = {p.stdout.fileno(): b'', p.stderr.fileno(): b''}
    open_fds = set(fds)
    begin, res, lines, err = {}, {}, [], b''
    pending = b''
    while open_fds:
        left = t0 + TIMEOUT - time.monotonic()
        if left <= 0:
            p.kill()
            failures.append('%s: timed out after %.0f s' % (vmm, TIMEOUT))
            break
        ready, _, _ = select.select(list(open_fds), [], [], left)
        now = time.monotonic()
        for fd in ready:
            data = os.read(fd, 65536)
            if not data:
                open_fds.discard(fd)
                continue
            if fd == p.stderr.fileno():
                err += data
                continue
            pending += data
            while b'\n' in pending:
                line, pending = pending.split(b'\n', 1)
                text = line.decode(errors='replace').strip()
                lines.append(text)
                w = text.split()
                if len(w) >= 4 and w[0] == 'BENCH' and w[2] == 'begin':
                    begin[w[1]] = (now, cpu_ns(p.pid), int(w[3]))
                elif len(w) >= 5 and w[0] == 'BENCH' and w[2] == 'end' and w[1] in begin:
                    t, c, n = begin[w[1]]
                    cpu = (cpu_ns(p.pid) - c) / 1e9
                    if cpu <= 0:
                        failures.append('%s: no CPU time for kernel %s (process gone?)' % (vmm, w[1]))
                    res[w[1]] = (n / (now - t) / 1e6, n / cpu / 1e6 if cpu > 0 else 0.0, w[4])
    status = p.wait()
    if status != 33 or not lines or not lines[-1].startswith('PASS'):
        tail = '\n    '.join((lines + err.decode(errors='replace').splitlines())[-6:])
        failures.append('%s: exit status %d, transcript ends:\n    %s' % (vmm, status, tail))
        return None
    return res


def spread(vals):
    med = statistics.median(vals)
    if len(vals) < 2 or med == 0:
        return med, ''
    return med, ' +-%.0f%%' % (max(abs(max(vals) - med), abs(med - min(vals))) / med * 100)


def main():
    cpu = int(os.environ.get('REMBENCH_CPU', str(os.cpu_count() - 1)))
    os.sched_setaffinity(0, {cpu})
    vmms = ['rem'] + (['base'] if BASELINE else []) + (['qemu'] if QEMU else [])
    if not QEMU:
        print('bench-rem: qemu-system-x86_64 not found: its column is left out')
    for f in (CAPSULE_VM, PAYLOAD):
        if not os.path.exists(f):
            print('bench-rem: FAILED: %s is missing (scons bench-rem builds it)' % f)
            return 1
    print('bench-rem: %d run(s) per VMM, pinned to CPU %d, load average %s' %
          (RUNS, cpu, ' '.join('%.2f' % x for x in os.getloadavg())))
    # per VMM and kernel: wall-clock MIPS, CPU-time MIPS, checksums
    wall = {v: {k: [] for k in KERNELS} for v in vmms}
    cpu = {v: {k: [] for k in KERNELS} for v in vmms}
    sums = {v: {k: set() for k in KERNELS} for v in vmms}
    for r in range(RUNS):
        for v in vmms:
            res = run_once(v)
            if res is None:
                continue
            for k in KERNELS:
                if k not in res:
                    failures.append('%s: kernel %s did not report' % (v, k))
                    continue
                wall[v][k].append(res[k][0])
                cpu[v][k].append(res[k][1])
                sums[v][k].add(res[k][2])
    for title, table in (('wall clock', wall), ('CPU time of the VMM process (all threads)', cpu)):
        print('\nguest MIPS, %s; median of %d +- spread' % (title, RUNS))
        names = {'rem': 'rem', 'base': 'rem baseline', 'qemu': 'QEMU TCG'}
        print('%-7s' % 'kernel' + ''.join('%16s' % names[v] for v in vmms) + '%10s' % 'QEMU/rem')
        for k in KERNELS:
            cells, meds = [], {}
            for v in vmms:
                if v not in vmms or not table[v][k]:
                    cells.append('-')
                    continue
                med, sp = spread(table[v][k])
                meds[v] = med
                cells.append('%.1f%s' % (med, sp))
            ratio = ('%.2fx' % (meds['qemu'] / meds['rem'])
                     if meds.get('qemu') and meds.get('rem') else '-')
            print('%-7s' % k + ''.join('%16s' % c for c in cells) + '%10s' % ratio)
    for k in KERNELS:
        all_sums = set().union(*(sums[v][k] for v in vmms))
        if len(all_sums) > 1:
            failures.append('kernel %s: checksums differ: %s' % (k, ', '.join(
                '%s %s' % (v, sorted(sums[v][k])) for v in vmms)))
    if 'qemu' in vmms and cpu['rem']['loop'] and cpu['qemu']['loop']:
        r = statistics.median(cpu['qemu']['loop']) / statistics.median(cpu['rem']['loop'])
        print('\n2-instruction loop, CPU time: QEMU/rem %.2fx (first target: <= %.0fx; issue 5 '
              'measured QEMU at ~%.0f MIPS on this host idle) - %s' %
              (r, TARGET_RATIO, QEMU_LOOP_MIPS_HERE, 'met' if r <= TARGET_RATIO else 'NOT met'))
    for f in failures:
        print('bench-rem: FAILED: ' + f)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
