#!/usr/bin/env python3
"""tools/check_times.py FILE [N] [LABEL] - the N (default 10) slowest test
aliases of a check run, slowest first, and their sum, from FILE
(BUILD/logs/check-times.txt): one "MILLISECONDS ALIAS STATUS" line per test
alias that ran, appended by the alias itself (SConstruct's cap_test and
cap_script_test; SConstruct clears the file when a `scons check...` run
starts). The times are wall times: under `scons -jN` tests run side by
side, so the sum exceeds the run's own wall time. Printed by ./check.sh
after each test run; run it by hand after a `scons check-X` to see what
the last run took."""
import sys


def read(path):
    rows = []
    try:
        with open(path, encoding='utf-8', errors='replace') as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2 and parts[0].isdigit():
                    rows.append((int(parts[0]), parts[1], parts[2] if len(parts) > 2 else ''))
    except FileNotFoundError:
        pass
    return rows


def summary(path, n=10, label=''):
    rows = sorted(read(path), reverse=True)
    if not rows:
        return 'test times%s: none recorded (%s)' % (' ' + label if label else '', path)
    total = sum(r[0] for r in rows)
    out = ['slowest %d of %d tests%s (sum of wall times %.0f s):'
           % (min(n, len(rows)), len(rows), ' ' + label if label else '', total / 1000.0)]
    for ms, name, status in rows[:n]:
        out.append('  %7.1f s  %4.1f%%  %s%s' % (ms / 1000.0, 100.0 * ms / total, name,
                                                 '' if status in ('', 'ok') else ' (' + status + ')'))
    return '\n'.join(out)


if __name__ == '__main__':
    if len(sys.argv) < 2 or len(sys.argv) > 4:
        sys.exit(__doc__.split('\n')[0])
    print(summary(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 10,
                  sys.argv[3] if len(sys.argv) > 3 else ''))
