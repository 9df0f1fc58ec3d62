#!/usr/bin/env python3
"""tests/integration/vm/vdi_crash.py - the host side of vdi_crash.asm's
write pattern, for vdi_crash.sh:

  mkraw PAYLOAD OUT RUN MODE ROUNDS MIB
      a raw disk of MIB MiB whose first sectors are the payload, with its
      configuration (run id, mode, rounds) set in the boot sector.
  killed RAW DEBUGCON
      after a kill: the debug console's last "boot ID" and the "synced R"
      lines after it say which rounds were on the disk; every sector of
      those rounds must hold its newest synced record or a later one of
      the same boot; sectors only the unsynced round wrote may hold it,
      zeros, or an earlier boot's record for that LBA.
  all RAW RUN ROUNDS
      after a clean power-off: every sector of rounds 1..ROUNDS holds
      its record.
Prints one summary line; exits 1 with the first bad sector named.
"""
import struct
import sys

PER_ROUND = 4
NBLK = 127
MULT = 37
SECTOR = 512
BLOCK_SECTORS = 2048


def lba_of(k):
    """The LBA of write k (vdi_crash.asm's lba_of_round)."""
    block = 8 * (1 + (MULT * k) % NBLK)
    return block * BLOCK_SECTORS + (k // NBLK % 4) * 500 + k % NBLK


def lba_dma(r):
    """The first of the 8 sectors round r writes by DMA (lba_dma)."""
    return (8 * (1 + r % NBLK) + 1) * BLOCK_SECTORS - 4


def writes(rounds):
    """LBA -> the rounds that write it, for rounds 1..rounds."""
    out = {}
    for k in range(rounds * PER_ROUND):
        out.setdefault(lba_of(k), []).append(k // PER_ROUND + 1)
    for r in range(1, rounds + 1):
        for s in range(8):
            out.setdefault(lba_dma(r) + s, []).append(r)
    return out


def record(data):
    """(run, round, lba) of a sector of 32 equal records, 'zero' for
    zeros, None for anything else."""
    if data == bytes(SECTOR):
        return 'zero'
    rec = data[:16]
    if rec[:4] != b'VDIC' or data != rec * 32:
        return None
    return struct.unpack('<III', rec[4:])


def sector(f, lba):
    f.seek(lba * SECTOR)
    return f.read(SECTOR)


def bad(msg):
    print('vdi_crash.py: ' + msg)
    sys.exit(1)


def mkraw(payload, out, run, mode, rounds, mib):
    p = bytearray(open(payload, 'rb').read())
    p[4:12] = struct.pack('<IHH', int(run, 0), int(mode), int(rounds))
    with open(out, 'wb') as f:
        f.write(p)
        f.truncate(int(mib) << 20)


def killed(raw, dc):
    boot, synced = None, 0
    with open(dc, 'rb') as f:
        lines = f.read().split(b'\n')[:-1]  # the last piece: no newline yet
    for line in lines:
        if line.startswith(b'boot '):
            boot, synced = int(line[5:], 16), 0
        elif line.startswith(b'synced ') and boot is not None:
            r = int(line[7:], 16)
            if r != synced + 1:
                bad('"synced %d" after "synced %d"' % (r, synced))
            synced = r
    if boot is None:
        bad('no "boot" line on the debug console')
    w = writes(synced + 1)
    n, blocks = 0, set()
    with open(raw, 'rb') as f:
        for lba, rounds in w.items():
            got = record(sector(f, lba))
            done = [r for r in rounds if r <= synced]
            where = 'LBA %d (block %d, rounds %s, synced up to %d)' % (
                lba, lba // BLOCK_SECTORS, rounds, synced)
            if done:
                if got in (None, 'zero') or got[0] != boot or got[2] != lba:
                    bad('%s: lost, holds %s' % (where, got))
                if got[1] < max(done) or got[1] not in rounds:
                    bad('%s: holds round %d' % (where, got[1]))
                n += 1
                blocks.add(lba // BLOCK_SECTORS)
            elif got is None or (got != 'zero' and (got[2] != lba or
                                                    (got[0] == boot and got[1] not in rounds))):
                bad('%s (not synced): holds %s' % (where, got))
    print('%d rounds synced: their %d sectors in %d blocks hold their data' %
          (synced, n, len(blocks)))


def all_rounds(raw, run, rounds):
    run, rounds = int(run, 0), int(rounds)
    w = writes(rounds)
    with open(raw, 'rb') as f:
        for lba, rs in w.items():
            got = record(sector(f, lba))
            if got != (run, rs[-1], lba):
                bad('LBA %d: holds %s, not round %d of run %#x' % (lba, got, rs[-1], run))
    print('%d rounds: %d sectors hold their data' % (rounds, len(w)))


if __name__ == '__main__':
    cmds = {'mkraw': (mkraw, 6), 'killed': (killed, 2), 'all': (all_rounds, 3)}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds or len(sys.argv) != cmds[sys.argv[1]][1] + 2:
        bad('usage: mkraw PAYLOAD OUT RUN MODE ROUNDS MIB | killed RAW DEBUGCON | all RAW RUN ROUNDS')
    cmds[sys.argv[1]][0](*sys.argv[2:])
