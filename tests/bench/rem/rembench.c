/*
 * rembench.c - the guest side of `scons bench-rem`: compute kernels whose
 * instruction counts follow from their loop structure, run at CPL0 in
 * 64-bit mode. capsule-vm --engine rem and qemu-system-x86_64 -accel tcg
 * boot this same multiboot file, so both columns of the table execute the
 * very same guest instructions.
 *
 * Each kernel prints `BENCH <name> begin <instructions>` before it starts
 * and `BENCH <name> end <tsc ticks> <checksum>` after it; the driver
 * (rem_bench.py) timestamps the two lines as they arrive on COM1 and
 * divides. The checksum is the same under both VMMs (and on hardware):
 * a wrong result is a failure, not a fast run.
 *
 *   loop   dec rcx; jnz                      2 instructions per iteration
 *   crc32  bytewise table-driven CRC-32      8 per byte: loads, movzx,
 *          over a 64 KiB buffer              shift, xor with a memory
 *                                            operand, compare, branch
 *   mix    load, call a leaf that pushes,    14 per iteration: call/ret,
 *          lea/imul/cmp/cmov/shr/xor, pops,  push/pop, stores, cmov, imul
 *          returns; store, next element
 *   copy   memcpy-like byte loop over       5 per byte: load, store,
 *          64 KiB per pass                   increment, compare, branch
 */
#include "guest.h"

const char guest_name[] = "rembench";

/* REMBENCH_SCALE divides the work (a short run under valgrind --tool=callgrind). */
#ifndef REMBENCH_SCALE
#define REMBENCH_SCALE 1
#endif
#define LOOP_ITERS  (100000000ull / REMBENCH_SCALE) /* 200M instructions */
#define CRC_BYTES   65536u
#define CRC_PASSES  (200u / REMBENCH_SCALE)         /* 13.1M bytes, 105M instructions */
#define MIX_ELEMS   4096u
#define MIX_PASSES  (1700u / REMBENCH_SCALE)        /* 6.96M iterations, 97M instructions */
#define COPY_BYTES  65536u
#define COPY_PASSES (300u / REMBENCH_SCALE)         /* 19.7M bytes, 98M instructions */

static uint8_t buf[CRC_BYTES] __attribute__((aligned(64)));
static uint8_t dst[COPY_BYTES] __attribute__((aligned(64)));
static uint32_t crc_table[256];
static uint64_t mix_data[MIX_ELEMS];

static uint64_t k_loop(void)
{
    uint64_t n = LOOP_ITERS;
    __asm__ volatile("1: dec %0\n\tjnz 1b" : "+r"(n) : : "memory");
    return n;
}

static uint64_t k_crc32(void)
{
    uint32_t crc = 0xffffffffu;
    for (unsigned p = 0; p < CRC_PASSES; p++) {
        const uint8_t *s = buf, *e = buf + CRC_BYTES;
        /* 8 instructions per byte. */
        __asm__ volatile("1: movzbl (%[s]), %%edx\n\t"
                         "inc %[s]\n\t"
                         "xor %[c], %%edx\n\t"
                         "movzbl %%dl, %%edx\n\t"
                         "shr $8, %[c]\n\t"
                         "xor (%[t],%%rdx,4), %[c]\n\t"
                         "cmp %[e], %[s]\n\t"
                         "jne 1b"
                         : [c] "+r"(crc), [s] "+r"(s)
                         : [e] "r"(e), [t] "r"(crc_table)
                         : "rdx", "memory", "cc");
    }
    return ~crc;
}

static uint64_t k_mix(void)
{
    for (unsigned p = 0; p < MIX_PASSES; p++) {
        uint64_t n = MIX_ELEMS;
        /* 5 instructions in the loop + 9 in the leaf = 14 per iteration. */
        __asm__ volatile("jmp 2f\n"
                         "3: push %%rbx\n\t"
                         "lea (%%rax,%%rax,2), %%rbx\n\t"
                         "imul $0x5bd1e995, %%rax, %%rax\n\t"
                         "cmp %%rbx, %%rax\n\t"
                         "cmovb %%rbx, %%rax\n\t"
                         "shr $3, %%rbx\n\t"
                         "xor %%rbx, %%rax\n\t"
                         "pop %%rbx\n\t"
                         "ret\n"
                         "2: mov -8(%[d],%[n],8), %%rax\n\t"
                         "call 3b\n\t"
                         "mov %%rax, -8(%[d],%[n],8)\n\t"
                         "dec %[n]\n\t"
                         "jnz 2b"
                         : [n] "+r"(n)
                         : [d] "r"(mix_data)
                         : "rax", "memory", "cc");
    }
    uint64_t sum = 0;
    for (unsigned i = 0; i < MIX_ELEMS; i++)
        sum = sum * 31 + mix_data[i];
    return sum;
}

static uint64_t k_copy(void)
{
    for (unsigned p = 0; p < COPY_PASSES; p++) {
        uint64_t i = 0;
        /* 5 instructions per byte: load, store, increment, compare, branch. */
        __asm__ volatile("1: movzbl (%[s],%[i]), %%eax\n\t"
                         "mov %%al, (%[d],%[i])\n\t"
                         "inc %[i]\n\t"
                         "cmp %[n], %[i]\n\t"
                         "jne 1b"
                         : [i] "+r"(i)
                         : [s] "r"(buf + (p & 7)), [d] "r"(dst), [n] "r"((uint64_t)COPY_BYTES - 8)
                         : "rax", "memory", "cc");
    }
    uint64_t sum = 0;
    for (unsigned i = 0; i < COPY_BYTES; i++)
        sum = sum * 31 + dst[i];
    return sum;
}

static void run(const char *name, unsigned long long insns, uint64_t (*fn)(void))
{
    gprintf("BENCH %s begin %llu\n", name, insns);
    uint64_t t0 = rdtsc();
    uint64_t sum = fn();
    uint64_t t = rdtsc() - t0;
    gprintf("BENCH %s end %llu %llx\n", name, (unsigned long long)t, (unsigned long long)sum);
}

void guest_main(void)
{
    uint32_t x = 12345;
    for (unsigned i = 0; i < CRC_BYTES; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
    for (unsigned i = 0; i < MIX_ELEMS; i++)
        mix_data[i] = i * 0x0123456789abull;

    run("loop", 2 * LOOP_ITERS, k_loop);
    run("crc32", 8ull * CRC_BYTES * CRC_PASSES, k_crc32);
    run("mix", 14ull * MIX_ELEMS * MIX_PASSES, k_mix);
    run("copy", 5ull * (COPY_BYTES - 8) * COPY_PASSES, k_copy);
    /* The driver samples the VMM's CPU time when the last `end` line
     * arrives: the process must still be there. */
    unsigned n = 1000000;
    __asm__ volatile("1: dec %0\n\tjnz 1b" : "+r"(n) : : "memory");
    gprintf("BENCH done\n");
}
