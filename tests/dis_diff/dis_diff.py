#!/usr/bin/env python3
"""Differential test of capsule-dis against GNU objdump.

For each input (the .text of real binaries, decoded as 64-bit code, and
random bytes decoded as 16-, 32- and 64-bit code) both disassemblers run over
the same flat file; their listings (same layout) are parsed into
(offset, length, mnemonic) lists and compared:

  in sync     share of objdump's instruction start offsets that capsule-dis
              also starts an instruction at (printed, not thresholded: after
              (bad) objdump may skip several bytes where capsule-dis skips one);
  boundaries  at offsets where both start and objdump decodes a valid
              instruction, the share where capsule-dis finds the same length
              (objdump-accepted #UD forms -- LOCK misuse, mov cs, Sreg > 5 --
              are counted apart as "deliberate #UD");
  mnemonics   among instructions both decode at the same offset with the same
              length and neither calls bad, the share whose mnemonic agrees
              (prefix words such as rep/lock/data16/rex.W/bnd/notrack and
              objdump's size suffixes on far branches are ignored).

capsule-dis decodes EVEX, XOP and 3DNow! encodings for their length only and
prints "(evex)" etc.; those count for boundaries but not for mnemonics (they
are reported separately as "length-only").

Usage: dis_diff.py [--quick|--full] [--capsule-dis PATH] [--show N]
Exit status 1 if an agreement rate falls below its threshold.
"""
import argparse
import collections
import os
import random
import re
import subprocess
import sys
import tempfile

MODES = {64: 'i386:x86-64', 32: 'i386', 16: 'i8086'}
PREFIX_WORDS = {'rep', 'repz', 'repnz', 'repe', 'repne', 'lock', 'data16', 'data32',
                'addr16', 'addr32', 'bnd', 'notrack', 'xacquire', 'xrelease', 'cs', 'ds',
                'es', 'ss', 'fs', 'gs', '{vex}', '{vex3}', '{evex}'}
LINE = re.compile(r'^\s*([0-9a-f]+):\t([0-9a-f ]+?)\s*(?:\t(.*))?$')

# Thresholds (percent). Real compiler output must decode exactly like objdump
# (boundaries); a handful of mnemonic spellings may differ (aliases such as
# objdump's choice between two names of the same opcode). Random bytes hit
# every corner of the encoding space, including ones capsule-dis rejects on
# purpose (#UD cases objdump prints anyway, e.g. LOCK on a register form) and
# AVX-512/AMX/rare extensions it only sizes; there we require high but not
# perfect agreement.
THRESH = {'real': (99.9, 99.5), 'random': (97.0, 98.5)}


def parse(text):
    insns = []
    for line in text.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        off = int(m.group(1), 16)
        nbytes = len(m.group(2).split())
        if m.group(3) is None or m.group(3).strip() == '':
            if insns and insns[-1][0] + insns[-1][1] == off:
                insns[-1][1] += nbytes
            continue
        insns.append([off, nbytes, m.group(3).strip()])
    return insns


def mnemonic(text):
    words = text.replace(',', ' ').split()
    for w in words:
        if w in PREFIX_WORDS or w.startswith('rex'):
            continue
        return w
    return words[0] if words else ''


def deliberate_ud(text):
    """objdump prints these, the CPU raises #UD: LOCK on an instruction that
    cannot take it, MOV to CS, MOV with a segment register number above 5."""
    return text.startswith('lock ') or '?' in text or re.match(r'mov\s+cs,', text)


def is_bad(text):
    return '(bad)' in text or text.startswith('.byte')


# objdump appends w/d/q to these when the operand size is not the mode's
# default (retfw, pushw cs, callw, leaveq, sidtw, fldenvd...); the size is in
# the operands, so the base name is what is compared.
SUFFIXED = {'ret', 'retf', 'leave', 'push', 'pop', 'call', 'jmp', 'sidt', 'sgdt', 'lidt',
            'lgdt', 'fldenv', 'fnstenv', 'frstor', 'fnsave', 'enter', 'iret', 'pusha', 'popa',
            'pushf', 'popf', 'sysret', 'sysexit', 'lret'}


def run(cmd):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True).stdout


def compare(path, bits, capsule_dis, stats, mism):
    ob = parse(run(['objdump', '-D', '-z', '-b', 'binary', '-m', MODES[bits], '-M', 'intel',
                    path]))
    us = parse(run([capsule_dis, '--bits', str(bits), path]))
    ours = {i[0]: i for i in us}
    size = os.path.getsize(path)
    for off, ln, txt in ob:
        if off + ln > size - 15:  # objdump and we treat the truncated tail differently
            continue
        stats['obj'] += 1
        u = ours.get(off)
        if u is None:
            stats['bmiss'] += 1
            if len(mism['boundary']) < 2000:
                mism['boundary'].append((bits, path, off, txt, ''))
            continue
        stats['bok'] += 1
        if is_bad(txt):
            continue
        if is_bad(u[2]) and deliberate_ud(txt):
            stats['ud'] += 1
            continue
        stats['valid'] += 1
        if u[1] != ln:
            mism['length'].append((bits, path, off, txt, u[2]))
            continue
        stats['lenok'] += 1
        if is_bad(u[2]):
            continue
        if u[2].startswith('('):
            stats['lenonly'] += 1
            continue
        stats['both'] += 1
        a, b = mnemonic(txt), mnemonic(u[2])
        if a == b or (a[:-1] == b and a[-1] in 'wdq' and b in SUFFIXED):
            stats['mok'] += 1
        else:
            mism['mnem'].append((bits, path, off, txt, u[2]))


def text_section(binary, out):
    subprocess.run(['objcopy', '-O', 'binary', '--only-section=.text', binary, out],
                   check=True, stderr=subprocess.DEVNULL)
    return os.path.getsize(out) > 0


def report(name, stats, mism, show):
    sync = 100.0 * stats['bok'] / max(stats['obj'], 1)
    b = 100.0 * stats['lenok'] / max(stats['valid'], 1)
    m = 100.0 * stats['mok'] / max(stats['both'], 1)
    print('%-7s objdump insns %8d  in sync %7.3f%%  boundaries %7.3f%% (of %d valid)  '
          'mnemonics %7.3f%% (of %d)  length-only %d  deliberate #UD %d'
          % (name, stats['obj'], sync, b, stats['valid'], m, stats['both'], stats['lenonly'],
             stats['ud']))
    if show:
        c = collections.Counter('%s -> %s' % (x[3].split()[0] if x[3] else '', x[4].split()[0]
                                              if x[4] else '') for x in mism['mnem'])
        for k, v in c.most_common(show):
            ex = next(x for x in mism['mnem'] if '%s -> %s' % (
                x[3].split()[0], x[4].split()[0]) == k)
            print('   mnemonic %5d x  %-40s e.g. %d-bit +%#x: objdump "%s" / ours "%s"'
                  % (v, k, ex[0], ex[2], ex[3], ex[4]))
        key = lambda x: '%s / %s' % (mnemonic(x[3]), mnemonic(x[4]))
        c = collections.Counter(key(x) for x in mism['length'])
        for k, v in c.most_common(show):
            ex = next(x for x in mism['length'] if key(x) == k)
            print('   length   %5d x  %-30s e.g. %d-bit +%#x: objdump "%s" / ours "%s"'
                  % (v, k, ex[0], ex[2], ex[3], ex[4]))
    return b, m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--full', action='store_true', help='long run: whole .text of several binaries, 4 MB random')
    ap.add_argument('--capsule-dis', default=os.path.join(os.environ.get('CAPSULE_BUILD', 'build'),
                                                          'bin', 'capsule-dis'))
    ap.add_argument('--show', type=int, default=8, help='mismatch classes to print')
    ap.add_argument('--seed', type=int, default=1)
    args = ap.parse_args()
    for tool in ('objdump', 'objcopy'):
        if subprocess.run(['which', tool], stdout=subprocess.DEVNULL).returncode:
            # said and counted (tests/lib/skip.sh's convention), never silent
            print('SKIP: dis-diff: %s not installed' % tool)
            if os.environ.get('CAPSULE_SKIPS'):
                with open(os.environ['CAPSULE_SKIPS'], 'a', encoding='utf-8') as f:
                    f.write('dis-diff: %s not installed\n' % tool)
            return 0
    tmp = tempfile.mkdtemp(prefix='dis-diff-')
    ok = True
    try:
        # (a) real code
        cands = ['/bin/busybox', '/bin/bash', '/usr/bin/python3', '/usr/bin/gdb',
                 '/usr/bin/objdump', '/usr/bin/clang', '/usr/lib/x86_64-linux-gnu/libc.so.6',
                 '/usr/lib/x86_64-linux-gnu/libcrypto.so.3']
        bins = [b for b in cands if os.path.exists(b)]
        if not args.full:
            bins = bins[:1]
        stats, mism = collections.Counter(), {'mnem': [], 'boundary': [], 'length': []}
        for i, b in enumerate(bins):
            out = os.path.join(tmp, 'text%d.bin' % i)
            if not text_section(os.path.realpath(b), out):
                continue
            if not args.full:  # a bounded slice: 256 KB from the middle
                data = open(out, 'rb').read()
                mid = max(0, len(data) // 2 - 128 * 1024)
                open(out, 'wb').write(data[mid:mid + 256 * 1024])
            compare(out, 64, args.capsule_dis, stats, mism)
        print('real code: %s' % ', '.join(bins))
        b, m = report('real64', stats, mism, args.show)
        if b < THRESH['real'][0] or m < THRESH['real'][1]:
            print('dis_diff: FAIL: real code below %.1f%% boundaries / %.1f%% mnemonics'
                  % THRESH['real'])
            ok = False
        # (b) random bytes
        rnd = random.Random(args.seed)
        size = 4 * 1024 * 1024 if args.full else 48 * 1024
        for bits in (64, 32, 16):
            path = os.path.join(tmp, 'random%d.bin' % bits)
            with open(path, 'wb') as f:
                f.write(bytes(rnd.getrandbits(8) for _ in range(size)))
            stats, mism = collections.Counter(), {'mnem': [], 'boundary': [], 'length': []}
            compare(path, bits, args.capsule_dis, stats, mism)
            b, m = report('rand%d' % bits, stats, mism, args.show)
            if b < THRESH['random'][0] or m < THRESH['random'][1]:
                print('dis_diff: FAIL: random %d-bit below %.1f%% boundaries / %.1f%% mnemonics'
                      % ((bits,) + THRESH['random']))
                ok = False
    finally:
        for f in os.listdir(tmp):
            os.unlink(os.path.join(tmp, f))
        os.rmdir(tmp)
    print('dis_diff: %s' % ('PASS' if ok else 'FAIL'))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
