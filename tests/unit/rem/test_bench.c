/*
 * test_bench.c - a measurement, not a pass/fail: guest MIPS of the
 * two-instruction loop (dec ecx / jnz) issue 5 compares with QEMU TCG
 * (~510 MIPS on this machine), and of a small ALU+memory loop.
 */
#include <stdio.h>
#include <time.h>

#include "rem_test.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void bench(const char *name, const char *src, uint64_t iters, unsigned per_iter)
{
    rt_asm(0x100000, src);
    rt_long64(0x100000);
    CTX->gpr[CPUM_RCX] = iters;
    cpum_mark_dirty(&M.cpu, CPUM_STATE_ALL);
    uint64_t i0 = rem_vcpu_insns(M.v);
    double t0 = now();
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    double dt = now() - t0;
    uint64_t n = rem_vcpu_insns(M.v) - i0;
    ck_assert_uint_ge(n, iters * per_iter);
    fprintf(stderr, "rem bench %-22s %llu insns in %.3f s = %.1f MIPS\n", name,
            (unsigned long long)n, dt, n / dt / 1e6);
}

START_TEST(mips)
{
    bench("dec/jnz loop", "bits 64\n l: dec ecx\n jnz l\n hlt\n", 20000000, 2);
    bench("alu+mem loop", "bits 64\n mov rbx, 0x200000\n l: add rax, [rbx]\n mov [rbx+8], rax\n"
                          " xor rdx, rax\n dec rcx\n jnz l\n hlt\n", 5000000, 5);
}
END_TEST

TCase *tcase_bench(void)
{
    TCase *tc = tcase_create("bench");
    tcase_add_checked_fixture(tc, rt_setup, rt_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, mips);
    return tc;
}
