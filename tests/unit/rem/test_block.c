/*
 * test_block.c - the decoded-block cache (vmm/rem/rem_block.c) stays exact:
 * a store into the instruction that follows it in the same block, code
 * patched inside a loop, code rewritten by the host between runs, the same
 * linear page remapped to other code (INVLPG), and an interrupt shadow set
 * by the last instruction of a block.
 */
#include "rem_test.h"

START_TEST(smc_next_insn)
{
    /* The store patches the immediate of the very next instruction. */
    rt_asm(0x100000, "bits 64\n org 0x100000\n"
                     " mov byte [rel p+1], 42\n"
                     "p: mov eax, 1\n"
                     " hlt\n");
    rt_long64(0x100000);
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    ck_assert_uint_eq(CTX->gpr[CPUM_RAX], 42);
}
END_TEST

START_TEST(smc_in_loop)
{
    /* f's immediate goes 1, 2, 3: the block of f is rebuilt each time. */
    rt_asm(0x100000, "bits 64\n org 0x100000\n"
                     " mov ecx, 3\n xor ebx, ebx\n"
                     "l: call f\n add ebx, eax\n inc byte [rel f+1]\n dec ecx\n jnz l\n hlt\n"
                     "f: mov eax, 1\n ret\n");
    rt_long64(0x100000);
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    ck_assert_uint_eq(CTX->gpr[CPUM_RBX], 6);
}
END_TEST

START_TEST(host_rewrites_code)
{
    rt_asm(0x100000, "bits 64\n mov eax, 1\n hlt\n");
    rt_long64(0x100000);
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    ck_assert_uint_eq(CTX->gpr[CPUM_RAX], 1);
    /* Same address, same length, other immediate, written behind rem's back. */
    rt_asm(0x100000, "bits 64\n mov eax, 2\n hlt\n");
    CTX->rip = 0x100000;
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    ck_assert_uint_eq(CTX->gpr[CPUM_RAX], 2);
}
END_TEST

START_TEST(remapped_code_page)
{
    /* Linear 0x5000 maps physical 0x5000 (mov eax, 5), then 0x9000 (mov eax, 9). */
    rt_asm(0x5000, "bits 64\n mov eax, 5\n ret\n");
    rt_asm(0x9000, "bits 64\n mov eax, 9\n ret\n");
    uint64_t pte = rt_rd64(0x13000 + 8 * 5);
    rt_wr64(0x200000, (pte & ~0x000ffffffffff000ull) | 0x9000);
    rt_asm(0x100000, "bits 64\n org 0x100000\n"
                     " mov eax, 0x5000\n call rax\n mov ebx, eax\n"
                     " mov rdx, [0x200000]\n mov [0x13000 + 8 * 5], rdx\n invlpg [0x5000]\n"
                     " mov eax, 0x5000\n call rax\n hlt\n");
    rt_long64(0x100000);
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    ck_assert_uint_eq(CTX->gpr[CPUM_RBX], 5);
    ck_assert_uint_eq(CTX->gpr[CPUM_RAX], 9);
}
END_TEST

START_TEST(sti_shadow_in_block)
{
    /* STI ends its block; with an interrupt window requested the run must
     * stop after the instruction that follows STI, not inside a block. */
    rt_asm(0x100000, "bits 64\n org 0x100000\n cli\n sti\n mov eax, 7\n mov ebx, 8\n hlt\n");
    rt_long64(0x100000);
    rem_vcpu_request_irq_window(M.v, 1);
    cap_result rc = rem_vcpu_run(M.v, 100, &M.exit);
    rem_vcpu_request_irq_window(M.v, 0);
    ck_assert_int_eq(rc, CAP_OK);
    ck_assert_int_eq(M.exit.reason, VMM_EXIT_IRQ_WINDOW);
    ck_assert_uint_eq(CTX->gpr[CPUM_RAX], 7);
    ck_assert_uint_ne(CTX->gpr[CPUM_RBX], 8);
}
END_TEST

TCase *tcase_block(void)
{
    TCase *tc = tcase_create("block");
    tcase_add_checked_fixture(tc, rt_setup, rt_teardown);
    tcase_add_test(tc, smc_next_insn);
    tcase_add_test(tc, smc_in_loop);
    tcase_add_test(tc, host_rewrites_code);
    tcase_add_test(tc, remapped_code_page);
    tcase_add_test(tc, sti_shadow_in_block);
    return tc;
}
