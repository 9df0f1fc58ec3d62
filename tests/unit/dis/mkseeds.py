#!/usr/bin/env python3
"""Writes the dis_fuzz seed corpus into the directory given: one file per
interesting encoding class (prefix chains, REX, VEX, EVEX, XOP, x87, SSE with
mandatory prefixes, moffs, far pointers, 15-byte limit) plus a slice of
random bytes from a fixed seed."""
import os
import random
import sys

SEEDS = {
    'alu': '00c0 4801d8 81c378563412 83c0ff 8b44240c 8d0485000000',
    'prefix': 'f0 66 2e 67 f3 48 a5 f2 ae 66 66 66 66 66 66 66 66 66 66 66 66 66 66 90',
    'rex': '40 88 e0 41 50 4c 8b 3c 24 48 b8 0102030405060708',
    'vex': 'c5f96fc1 c4e27d18 0e c4e3 7d 18 c1 01 c5fc77 c4e2f9f7c1',
    'evex': '62f17c4810c1 62f1fd48 6f 44 24 01',
    'xop': '8fe87885c1',
    'x87': 'd9e8 dd1c24 df3c24 d8c1 dbe3 dfe0',
    'sse': 'f30f10c1 660f6f00 f20f5ec8 660f3a0fc108 660f3800c1 0f0f c1 b4',
    'far': 'ea 00100000 0800 9a 0000 0000 1000',
    'moffs': 'a1 8877665544332211 67a1 44332211',
    'rip': '8b0510000000 ff2500000000',
    'bad': '0f04 c4 06 d6 ff ff',
}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, hexs in SEEDS.items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(bytes.fromhex(hexs.replace(' ', '')))
    rnd = random.Random(5)
    for i in range(4):
        with open(os.path.join(out, 'random%d' % i), 'wb') as f:
            f.write(bytes(rnd.getrandbits(8) for _ in range(64)))


if __name__ == '__main__':
    main()
