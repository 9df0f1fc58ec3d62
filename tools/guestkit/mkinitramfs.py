#!/usr/bin/env python3
"""tools/guestkit/mkinitramfs.py - writes a gzip'd cpio (newc) archive from a
file list, without root and without the cpio program.

The list has the format of the kernel's usr/gen_init_cpio (one entry a line,
'#' comments):

    dir   NAME MODE UID GID
    file  NAME SOURCE MODE UID GID
    slink NAME TARGET MODE UID GID
    nod   NAME MODE UID GID c|b MAJOR MINOR

so device nodes such as /dev/console are plain archive entries: nothing is
created with mknod on the host, and the owner of every entry is whatever the
list says (root), whoever runs this. Every timestamp is 0 and entries keep
the list's order, so the same list and files give the same bytes.

Usage: mkinitramfs.py LIST OUTPUT.gz
Exit status: 0, 1 on an error (named with the list's file and line), 2 on
bad arguments.
"""
import gzip
import os
import stat
import sys


class ListError(Exception):
    pass


def header(ino, mode, uid, gid, nlink, size, rmaj, rmin, name):
    """One newc header + name, padded to 4 bytes."""
    namez = name.encode() + b'\0'
    fields = (ino, mode, uid, gid, nlink, 0, size, 0, 0, rmaj, rmin, len(namez), 0)
    hdr = b'070701' + b''.join(b'%08X' % f for f in fields)
    data = hdr + namez
    return data + b'\0' * (-len(data) % 4)


def pad(data):
    return data + b'\0' * (-len(data) % 4)


def number(tok, base, what):
    try:
        v = int(tok, base)
    except ValueError:
        raise ListError('%s: %r is not a number' % (what, tok))
    if v < 0:
        raise ListError('%s: %r is negative' % (what, tok))
    return v


def entry(fields, ino):
    """The archive bytes of one list line (split into fields)."""
    kind = fields[0]
    want = {'dir': 5, 'file': 6, 'slink': 6, 'nod': 8}
    if kind not in want:
        raise ListError('unknown entry type %r (dir, file, slink, nod)' % kind)
    if len(fields) != want[kind]:
        raise ListError('%s takes %d fields, not %d' % (kind, want[kind] - 1, len(fields) - 1))
    name = fields[1].lstrip('/')
    if not name or '..' in name.split('/'):
        raise ListError('bad name %r' % fields[1])
    if kind in ('file', 'slink'):
        extra, rest = fields[2], fields[3:]
    else:
        extra, rest = None, fields[2:]
    mode = number(rest[0], 8, 'mode') & 0o7777
    uid = number(rest[1], 10, 'uid')
    gid = number(rest[2], 10, 'gid')
    if kind == 'dir':
        return header(ino, stat.S_IFDIR | mode, uid, gid, 2, 0, 0, 0, name)
    if kind == 'slink':
        target = extra.encode()
        return header(ino, stat.S_IFLNK | mode, uid, gid, 1, len(target), 0, 0, name) + \
            pad(target)
    if kind == 'nod':
        if rest[3] not in ('c', 'b'):
            raise ListError('device type %r is neither c nor b' % rest[3])
        ftype = stat.S_IFCHR if rest[3] == 'c' else stat.S_IFBLK
        return header(ino, ftype | mode, uid, gid, 1, 0,
                      number(rest[4], 10, 'major'), number(rest[5], 10, 'minor'), name)
    try:
        with open(extra, 'rb') as f:
            data = f.read()
    except OSError as e:
        raise ListError('cannot read %s: %s' % (extra, e.strerror))
    return header(ino, stat.S_IFREG | mode, uid, gid, 1, len(data), 0, 0, name) + pad(data)


def build(list_path):
    out = []
    ino = 721  # gen_init_cpio's first inode number; any distinct values do
    with open(list_path) as f:
        for lineno, line in enumerate(f, 1):
            fields = line.split('#', 1)[0].split()
            if not fields:
                continue
            try:
                out.append(entry(fields, ino))
            except ListError as e:
                raise ListError('%s:%d: %s' % (list_path, lineno, e))
            ino += 1
    out.append(header(0, 0, 0, 0, 1, 0, 0, 0, 'TRAILER!!!'))
    data = b''.join(out)
    return data + b'\0' * (-len(data) % 512)


def main(argv):
    if len(argv) != 3:
        sys.stderr.write('usage: mkinitramfs.py LIST OUTPUT.gz\n')
        return 2
    try:
        data = build(argv[1])
    except (ListError, OSError) as e:
        sys.stderr.write('mkinitramfs: error: %s\n' % e)
        return 1
    tmp = argv[2] + '.tmp'
    with open(tmp, 'wb') as raw:
        with gzip.GzipFile(filename='', mode='wb', fileobj=raw, mtime=0, compresslevel=9) as gz:
            gz.write(data)
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(tmp, argv[2])
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
