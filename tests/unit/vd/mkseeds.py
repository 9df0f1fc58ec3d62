#!/usr/bin/env python3
"""tests/unit/vd/mkseeds.py OUTDIR - writes the seed images of vdi_fuzz:
small VDI 1.1 files (4 KiB blocks, so that allocated data stays small)
built field by field from the layout in runtime/vd/vdi.c."""
import os
import struct
import sys

FREE, ZERO = 0xFFFFFFFF, 0xFFFFFFFE


def image(disk_size, block_size, entries, fixed=False, header_size=400):
    blocks = len(entries)
    allocated = sum(1 for e in entries if e not in (FREE, ZERO))
    off_map = 512
    off_data = (off_map + 4 * blocks + 511) // 512 * 512
    h = bytearray(512)
    text = b'<<< Capsule VM Virtual Disk Image >>>\n'
    h[0:len(text)] = text
    struct.pack_into('<IIIII', h, 64, 0xBEDA107F, 0x00010001, header_size, 2 if fixed else 1, 0)
    struct.pack_into('<II', h, 340, off_map, off_data)
    struct.pack_into('<I', h, 360, 512)
    struct.pack_into('<QIIII', h, 368, disk_size, block_size, 0, blocks, allocated)
    h[392:408] = bytes(range(1, 17))
    m = b''.join(struct.pack('<I', e) for e in entries)
    body = bytes(h) + m
    body += bytes(off_data - len(body))
    for i in range(allocated):
        body += bytes([0x40 + i]) * block_size
    return body


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    seeds = {
        'empty': image(16384, 4096, [FREE] * 4),
        'mib-blocks': image(4 << 20, 1 << 20, [FREE] * 4),
        'sparse': image(32768, 4096, [1, FREE, 0, ZERO, FREE, 2, FREE, FREE]),
        'fixed': image(16384, 4096, [0, 1, 2, 3], fixed=True),
        'qemu-header': image(8192, 4096, [FREE, 0], header_size=384),
        'odd-size': image(12800, 4096, [FREE, FREE, FREE, 0]),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name + '.vdi'), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()
