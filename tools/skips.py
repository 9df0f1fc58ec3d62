#!/usr/bin/env python3
"""tools/skips.py FILE [LABEL] - one line summing up the test parts skipped
in a check run: "skipped: N (REASON: TEST, TEST (2x); REASON: TEST)", or
"skipped: 0". FILE holds one "TEST: REASON" line per skip, written by
tests/lib/skip.sh, tests/lib/testskip.c and tests/rem_diff/run.sh into
$CAPSULE_SKIPS (BUILD/logs/skips.txt; SConstruct clears it when a `scons
check...` run starts). LABEL, if given, follows "skipped: N" (e.g. "in tests
under ASan+UBSan"). Used by SConstruct at the end of a check run and by
./check.sh after both of its test runs."""
import sys


def summary(path, label=''):
    groups = {}
    n = 0
    try:
        with open(path, encoding='utf-8', errors='replace') as f:
            for line in f:
                line = line.rstrip('\n')
                if not line:
                    continue
                test, _, reason = line.partition(': ')
                groups.setdefault(reason or 'no reason given', []).append(test)
                n += 1
    except FileNotFoundError:
        pass
    head = 'skipped: %d%s' % (n, ' ' + label if label else '')
    if not n:
        return head
    parts = []
    for reason, tests in sorted(groups.items()):
        names = ['%s (%dx)' % (t, tests.count(t)) if tests.count(t) > 1 else t
                 for t in sorted(set(tests))]
        parts.append('%s: %s' % (reason, ', '.join(names)))
    return '%s (%s)' % (head, '; '.join(parts))


if __name__ == '__main__':
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.split('\n')[0])
    print(summary(*sys.argv[1:]))
