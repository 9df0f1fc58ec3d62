#!/usr/bin/env python3
"""Writes seed images for a loader fuzz target into a directory:
`mkseeds.py linux|multiboot|vmlinux OUTDIR`. The same shapes the unit tests build:
a minimal bzImage (64-bit and 32-bit-only), a multiboot ELF32 kernel and an
a.out-kludge kernel. (The fuzz driver reads its options from byte 0.)"""
import os
import struct
import sys


def bzimage(xlf):
    img = bytearray(1024 + 8192)
    img[0x1f1] = 1
    struct.pack_into('<I', img, 0x1f4, 8192 // 16)
    struct.pack_into('<H', img, 0x1fe, 0xaa55)
    img[0x200:0x202] = b'\xeb\x66'
    img[0x202:0x206] = b'HdrS'
    struct.pack_into('<H', img, 0x206, 0x020f)
    img[0x211] = 1
    struct.pack_into('<I', img, 0x22c, 0x7fffffff)
    struct.pack_into('<I', img, 0x230, 0x200000)
    struct.pack_into('<H', img, 0x236, xlf)
    struct.pack_into('<I', img, 0x238, 2047)
    struct.pack_into('<Q', img, 0x258, 0x1000000)
    struct.pack_into('<I', img, 0x260, 0x200000)
    return bytes(img)


def mbheader(flags):
    return struct.pack('<III', 0x1badb002, flags, (-(0x1badb002 + flags)) & 0xffffffff)


def elf():
    img = bytearray(0x1900)
    img[0:7] = b'\x7fELF\x01\x01\x01'
    struct.pack_into('<HHIIIIIHHHHHH', img, 16, 2, 3, 1, 0xc0200010, 52, 0, 0, 52, 32, 2, 0, 0, 0)
    struct.pack_into('<IIIIIIII', img, 52, 1, 0x1000, 0xc0200000, 0x200000, 0x800, 0x800, 5, 0x1000)
    struct.pack_into('<IIIIIIII', img, 84, 1, 0x1800, 0xc0201000, 0x201000, 0x100, 0x2000, 6, 0x1000)
    img[0x100:0x10c] = mbheader(3)
    return bytes(img)


def aout():
    img = bytearray(0x900)
    img[0x40:0x4c] = mbheader(0x10003)
    struct.pack_into('<IIIII', img, 0x4c, 0x100040, 0x100000, 0x100800, 0x102000, 0x100080)
    return bytes(img)


def vmlinux():
    """A minimal ELF64 vmlinux: text at 16 MiB (entry there), data + bss after."""
    img = bytearray(0x3000)
    img[0:8] = b'\x7fELF\x02\x01\x01\x00'
    struct.pack_into('<HHIQQQIHHHHHH', img, 16, 2, 62, 1, 0x1000000, 64, 0, 0, 64, 56, 2,
                     64, 0, 0)
    struct.pack_into('<IIQQQQQQ', img, 64, 1, 5, 0x1000, 0xffffffff81000000, 0x1000000,
                     0x1000, 0x1000, 0x200000)
    struct.pack_into('<IIQQQQQQ', img, 120, 1, 6, 0x2000, 0xffffffff81200000, 0x1200000,
                     0x1000, 0x3000, 0x200000)
    return bytes(img)


def patched(img, off, fmt, value):
    img = bytearray(img)
    struct.pack_into(fmt, img, off, value)
    return bytes(img)


def bad_bzimages():
    """Malformed bzImages each loader check must name (issue 19 item 8)."""
    bz = bzimage(3)
    return {'bz-short-hdrs': bz[:0x204], 'bz-short-mz': b'MZ' + bz[2:0x100],
            'bz-init-size-0': patched(bz, 0x260, '<I', 0),
            'bz-kernel-alignment-0': patched(bz, 0x230, '<I', 0)}


def bad_vmlinuxes():
    """Malformed ELF images: wrong class, wrong machine, e_phentsize 0xffff."""
    vml = vmlinux()
    return {'elf32-class': patched(vml, 4, '<B', 1), 'elf-machine-arm64': patched(vml, 18, '<H', 183),
            'elf-phentsize-ffff': patched(vml, 54, '<H', 0xffff)}


def main():
    kind, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    if kind == 'linux':
        seeds = {'bz64': bzimage(3), 'bz32': bzimage(0)}
        seeds.update(bad_bzimages())
    elif kind == 'vmlinux':
        seeds = {'vmlinux': vmlinux(), 'vmlinux-initrd-cmdline': b'\x0c' + vmlinux()[1:]}
        seeds.update(bad_vmlinuxes())
    else:
        seeds = {'elf': elf(), 'aout': aout()}
    for name, data in seeds.items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()
