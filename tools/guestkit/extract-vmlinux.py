#!/usr/bin/env python3
"""tools/guestkit/extract-vmlinux.py - the uncompressed ELF64 kernel out of a bzImage.

    extract-vmlinux.py BZIMAGE OUT

A bzImage is the real-mode setup code, the decompressor, and the kernel
proper (vmlinux, stripped, plus its relocation table on KASLR kernels)
compressed. The setup header says where the payload is (payload_offset
at 0x248 and payload_length at 0x24c, boot protocol 2.08+, relative to the
protected-mode code that starts after the setup sectors); when that is
missing the payload is found by its magic. Python's standard library
decompresses xz (Debian's 6.1 amd64 kernel: CONFIG_KERNEL_XZ, with the x86
BCJ filter, which liblzma handles), lzma and gzip; zstd, lz4, lzo and bzip2
are named in the error. Only the ELF image is written: whatever follows it
in the decompressed stream (the relocation table) is dropped, since a
vmlinux loaded at its link address needs no relocation.

Written to OUT.tmp and renamed, so a cached OUT is always whole.
Exit status 0, 1 on failure (the reason on stderr), 2 on bad arguments.
"""
import lzma
import os
import struct
import sys
import zlib

MAGICS = (
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x1f\x8b\x08", "gzip"),
    (b"\x5d\x00\x00", "lzma"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"\x02\x21\x4c\x18", "lz4"),
    (b"\x89LZO", "lzo"),
    (b"BZh", "bzip2"),
)


def fail(msg):
    print("extract-vmlinux: error: %s" % msg, file=sys.stderr)
    sys.exit(1)


def payload(img):
    """(compressed bytes, method) of the bzImage's kernel."""
    if len(img) < 0x250 or img[0x1fe:0x200] != b"\x55\xaa" or img[0x202:0x206] != b"HdrS":
        fail("not a bzImage (no 0xAA55 at 0x1fe and \"HdrS\" at 0x202)")
    version = struct.unpack_from("<H", img, 0x206)[0]
    pm = ((img[0x1f1] or 4) + 1) * 512
    if version >= 0x208:
        off, length = struct.unpack_from("<II", img, 0x248)
        data = img[pm + off:pm + off + length]
        for magic, name in MAGICS:
            if data.startswith(magic):
                return data, name
    # No usable header fields: the first known magic after the setup code.
    best = None
    for magic, name in MAGICS[:3]:
        at = img.find(magic, pm)
        if at >= 0 and (best is None or at < best[0]):
            best = (at, name)
    if best is None:
        fail("no xz, gzip or lzma payload found after the setup code")
    return img[best[0]:], best[1]


def decompress(data, method):
    if method == "xz":
        d = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
    elif method == "lzma":
        d = lzma.LZMADecompressor(format=lzma.FORMAT_ALONE)
    elif method == "gzip":
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    else:
        fail("the kernel is compressed with %s, which Python's standard library cannot "
             "decompress (xz, lzma and gzip are supported)" % method)
    try:
        # The kernel's trailing 4-byte decompressed size is left unused.
        return d.decompress(data)
    except (lzma.LZMAError, zlib.error) as e:
        fail("decompressing the %s payload failed: %s" % (method, e))


def elf_end(elf):
    """Length of the ELF image: the furthest of its headers and sections."""
    if elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
        fail("the decompressed kernel is not a little-endian ELF64 image")
    machine = struct.unpack_from("<H", elf, 18)[0]
    if machine != 62:
        fail("the decompressed kernel is ELF for machine %d, not x86-64 (62)" % machine)
    phoff, shoff = struct.unpack_from("<QQ", elf, 32)
    phentsize, phnum, shentsize, shnum = struct.unpack_from("<HHHH", elf, 54)
    end = max(phoff + phentsize * phnum, shoff + shentsize * shnum)
    for i in range(phnum):
        _, _, off, _, _, filesz = struct.unpack_from("<IIQQQQ", elf, phoff + i * phentsize)
        end = max(end, off + filesz)
    for i in range(shnum):
        sh = shoff + i * shentsize
        stype = struct.unpack_from("<I", elf, sh + 4)[0]
        off, size = struct.unpack_from("<QQ", elf, sh + 24)
        if stype != 8:  # SHT_NOBITS takes no file space
            end = max(end, off + size)
    if end > len(elf):
        fail("the decompressed ELF is truncated (%d bytes, needs %d)" % (len(elf), end))
    return end


def main():
    if len(sys.argv) != 3:
        print("usage: extract-vmlinux.py BZIMAGE OUT", file=sys.stderr)
        sys.exit(2)
    src, out = sys.argv[1:]
    try:
        with open(src, "rb") as f:
            img = f.read()
    except OSError as e:
        fail("%s: %s" % (src, e.strerror))
    data, method = payload(img)
    elf = decompress(data, method)
    elf = elf[:elf_end(elf)]
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(elf)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, out)
    print("extract-vmlinux: %s: %s payload, %d bytes of ELF64" % (src, method, len(elf)),
          file=sys.stderr)


if __name__ == "__main__":
    main()
