#!/usr/bin/env python3
"""vmm/platform/fuzz/mkseeds.py DIR - seeds for table_loader_fuzz: small
BIOS linker/loader scripts over the platform's files (etc/acpi/rsdp,
etc/acpi/tables), in the 128-byte entry layout of platform_loader.c."""
import os
import struct
import sys


def name(s):
    return s.encode().ljust(56, b'\0')


def allocate(f, align, zone):
    return struct.pack('<I', 1) + name(f) + struct.pack('<IB', align, zone)


def pointer(dst, src, off, size):
    return struct.pack('<I', 2) + name(dst) + name(src) + struct.pack('<IB', off, size)


def checksum(f, off, start, length):
    return struct.pack('<I', 3) + name(f) + struct.pack('<III', off, start, length)


def entry(b):
    return b.ljust(128, b'\0')


R, T = 'etc/acpi/rsdp', 'etc/acpi/tables'
seeds = {
    'allocate': [allocate(R, 16, 2), allocate(T, 64, 1)],
    'rsdp': [allocate(R, 16, 2), allocate(T, 64, 1), pointer(R, T, 16, 4), pointer(R, T, 24, 8),
             checksum(R, 8, 0, 20), checksum(R, 32, 0, 36)],
    'tables': [allocate(T, 64, 1), pointer(T, T, 100, 4), checksum(T, 73, 64, 36)],
}
os.makedirs(sys.argv[1], exist_ok=True)
for n, entries in seeds.items():
    with open(os.path.join(sys.argv[1], n), 'wb') as f:
        f.write(b''.join(entry(e) for e in entries))
