/*
 * test_vendor.c - the behaviours where Intel and AMD CPUs differ and rem
 * follows the VM's CPU profile (cpum_profile.h, CPUM_B_*). Each test runs
 * the same guest code under "intel-core" and under "amd-epyc" and checks
 * each vendor's documented (and natively checked) outcome, whatever the
 * host is.
 */
#include <stdbool.h>

#include "rem_test.h"

static const char *const profiles[] = {"intel-core", "amd-epyc"};
#define NPROF 2
#define IS_AMD(i) ((i) == 1)

/* Handlers: #UD r8 = 6, #GP r8 = 13 (r9 = the CS of the frame), #PF r8 = 14
 * (r10 = CR2, r11 = the RFLAGS of the frame); each halts. */
static void handlers(void)
{
    rt_asm(0x101000, "bits 64\n org 0x101000\n"
                     "ud: mov r8, 6\n hlt\n times 0x10-($-$$) nop\n"
                     "gp: mov r8, 13\n mov r9, [rsp+16]\n hlt\n times 0x20-($-$$) nop\n"
                     "pf: mov r8, 14\n mov r10, cr2\n mov r11, [rsp+24]\n hlt\n");
    rt_idt_gate(6, 0x101000, 0, 0);
    rt_idt_gate(13, 0x101010, 0, 0);
    rt_idt_gate(14, 0x101020, 0, 0);
    CTX->gpr[CPUM_R8] = 0;
}

/* Runs `code` (64-bit, at 0x100000) under profile i to its HLT, with the
 * handlers above, page 0x5000 absent when `hole`, after `prep` (if any)
 * adjusted the state. The machine stays up for the checks: the caller
 * tears it down. */
static void run_under(unsigned i, const char *code, bool hole, void (*prep)(void))
{
    rt_setup_profile(profiles[i]);
    rt_asm(0x100000, code);
    rt_long64(0x100000);
    handlers();
    if (hole)
        rt_wr64(0x13000 + 8 * 5, 0);
    if (prep) {
        prep();
        cpum_mark_dirty(&M.cpu, CPUM_STATE_ALL);
    }
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
}

/* CMPS: Intel reads ES:[rDI] first, AMD DS:[rSI]. A non-canonical rDI and an
 * absent DS:[rSI]: #GP on Intel, #PF on AMD. */
START_TEST(cmps_fault_order)
{
    for (unsigned i = 0; i < NPROF; i++) {
        run_under(i, "bits 64\n mov rsi, 0x5000\n mov rdi, 0x8000000000000000\n cmpsb\n hlt\n",
                  true, NULL);
        ck_assert_uint_eq(CTX->gpr[CPUM_R8], IS_AMD(i) ? 14 : 13);
        rt_teardown();
    }
}
END_TEST

/* A32 REP MOVSB whose first element faults, and one with ECX = 0: Intel
 * writes ECX/ESI/EDI as 32-bit registers anyway, AMD leaves them. */
START_TEST(rep_a32_no_element)
{
    static const char *const code[] = {
        "bits 64\n mov rcx, 0xdead00000003\n mov rsi, 0xbeef00005000\n"
        " mov rdi, 0xbeef00006000\n a32 rep movsb\n hlt\n",
        "bits 64\n mov rcx, 0xdead00000000\n mov rsi, 0xbeef00005000\n"
        " mov rdi, 0xbeef00006000\n a32 rep movsb\n hlt\n",
    };
    for (unsigned i = 0; i < NPROF; i++)
        for (unsigned k = 0; k < 2; k++) {
            run_under(i, code[k], true, NULL); /* 0x5000 absent: the first element faults */
            ck_assert_uint_eq(CTX->gpr[CPUM_R8], k == 0 ? 14 : 0);
            uint64_t hi = IS_AMD(i) ? 0xdead00000000ull : 0, shi = IS_AMD(i) ? 0xbeef00000000ull : 0;
            ck_assert_uint_eq(CTX->gpr[CPUM_RCX], hi | (k == 0 ? 3 : 0));
            ck_assert_uint_eq(CTX->gpr[CPUM_RSI], shi | 0x5000);
            ck_assert_uint_eq(CTX->gpr[CPUM_RDI], shi | 0x6000);
            rt_teardown();
        }
}
END_TEST

/* After elements complete, both vendors have written all three as 32-bit
 * registers. */
START_TEST(rep_a32_elements)
{
    for (unsigned i = 0; i < NPROF; i++) {
        run_under(i, "bits 64\n mov rcx, 0xdead00000003\n mov rsi, 0xbeef00007000\n"
                     " mov rdi, 0xbeef00006000\n a32 rep movsb\n hlt\n", false, NULL);
        ck_assert_uint_eq(CTX->gpr[CPUM_RCX], 0);
        ck_assert_uint_eq(CTX->gpr[CPUM_RSI], 0x7003);
        ck_assert_uint_eq(CTX->gpr[CPUM_RDI], 0x6003);
        rt_teardown();
    }
}
END_TEST

/* REPNE SCASB faulting on its second element: AMD leaves the flags of the
 * first comparison (0 - 1: SF AF PF CF), Intel those of the start (ZF, PF). */
START_TEST(rep_scas_fault_flags)
{
    for (unsigned i = 0; i < NPROF; i++) {
        run_under(i, "bits 64\n mov rdi, 0x4fff\n mov byte [rdi], 1\n mov ecx, 8\n"
                     " xor eax, eax\n repne scasb\n hlt\n", true, NULL);
        ck_assert_uint_eq(CTX->gpr[CPUM_R8], 14);
        ck_assert_uint_eq(CTX->gpr[CPUM_RCX], 7);
        uint64_t fl = CTX->gpr[CPUM_R11] & 0x8d5; /* OF SF ZF AF PF CF */
        ck_assert_uint_eq(fl, IS_AMD(i) ? 0x095u /* SF AF PF CF */ : 0x044u /* ZF PF */);
        rt_teardown();
    }
}
END_TEST

static void prep_star(void)
{
    CTX->msr.star = (0x23ull << 48) | (0x10ull << 32);
    CTX->msr.cstar = 0x100040;
}

/* SYSCALL in compatibility mode: #UD on Intel, CSTAR on AMD. */
START_TEST(syscall_compat)
{
    for (unsigned i = 0; i < NPROF; i++) {
        run_under(i, "bits 64\n org 0x100000\n push 0x08\n push compat\n retfq\n"
                     "compat: bits 32\n syscall\n hlt\n"
                     " times 0x40-($-$$) nop\n"
                     "bits 64\n cstar: mov r8, 0x5c\n hlt\n",
                  false, prep_star);
        ck_assert_uint_eq(CTX->gpr[CPUM_R8], IS_AMD(i) ? 0x5c : 6);
        rt_teardown();
    }
}
END_TEST

static void prep_sysenter(void)
{
    CTX->msr.sysenter_cs = 0x10;
    CTX->msr.sysenter_eip = 0x100040;
    CTX->msr.sysenter_esp = 0x80000;
}

/* SYSENTER in 64-bit mode: works on Intel, #UD on AMD. */
START_TEST(sysenter_long)
{
    for (unsigned i = 0; i < NPROF; i++) {
        run_under(i, "bits 64\n org 0x100000\n sysenter\n hlt\n"
                     " times 0x40-($-$$) nop\n"
                     "entry: mov r8, 0x5e\n hlt\n",
                  false, prep_sysenter);
        ck_assert_uint_eq(CTX->gpr[CPUM_R8], IS_AMD(i) ? 6 : 0x5e);
        rt_teardown();
    }
}
END_TEST

/* SYSRET to a non-canonical RIP: #GP at CPL0 on Intel; AMD switches to
 * CPL3 first and the fetch faults there. SYSRET at CPL3 is #GP(0) on both. */
START_TEST(sysret_noncanonical)
{
    for (unsigned i = 0; i < NPROF; i++) {
        run_under(i, "bits 64\n mov rcx, 0x800000000000\n mov r11, 2\n o64 sysret\n hlt\n",
                  false, prep_star);
        ck_assert_uint_eq(CTX->gpr[CPUM_R8], 13);
        ck_assert_uint_eq(CTX->gpr[CPUM_R9], IS_AMD(i) ? 0x33 : 0x10);
        rt_teardown();
    }
}
END_TEST

TCase *tcase_vendor(void)
{
    TCase *tc = tcase_create("vendor");
    tcase_add_test(tc, cmps_fault_order);
    tcase_add_test(tc, rep_a32_no_element);
    tcase_add_test(tc, rep_a32_elements);
    tcase_add_test(tc, rep_scas_fault_flags);
    tcase_add_test(tc, syscall_compat);
    tcase_add_test(tc, sysenter_long);
    tcase_add_test(tc, sysret_noncanonical);
    return tc;
}
