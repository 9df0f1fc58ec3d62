/*
 * test_fpu.c - directed x87/SSE tests: the FXSAVE image layout (both
 * formats), FXRSTOR's MXCSR check, alignment #GP of the aligned moves,
 * #NM (CR0.TS, WAIT with MP), #UD (CR0.EM, CR4.OSFXSR, SSE3 not in the
 * policy), #MF for a pending unmasked x87 exception, #XM / #UD for an
 * unmasked SIMD exception, and the x87 stack overflow response.
 * Each exception vector goes to a stub "mov r8, vec; hlt".
 */
#include <stdio.h>

#include "rem_test.h"

/* Runs `body` in 64-bit mode; returns the vector taken or 0xff for none. */
static unsigned run_x(const char *body)
{
    char src[2048];
    snprintf(src, sizeof(src),
             "bits 64\n org 0x100000\n mov r8, 0xff\n %s\n hlt\n"
             " times 0x800-($-$$) nop\n"
             "mov r8, 6\n hlt\n align 16\n mov r8, 7\n hlt\n align 16\n mov r8, 13\n hlt\n"
             " align 16\n mov r8, 16\n hlt\n align 16\n mov r8, 19\n hlt\n", body);
    rt_asm(0x100000, src);
    static const unsigned vec[] = { 6, 7, 13, 16, 19 };
    for (unsigned i = 0; i < 5; i++)
        rt_idt_gate(vec[i], 0x100800 + 16 * i, 0, 0);
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    return (unsigned)CTX->gpr[CPUM_R8];
}

START_TEST(fxsave_layout)
{
    rt_long64(0x100000);
    struct cpum_fxsave *fx = &CTX->fpu;
    fx->fcw = 0x27f;
    fx->fsw = 0x3800 | 0x20;
    fx->ftw = 0x80;
    fx->mxcsr = 0x1fa0;
    fx->st[0][0] = 0x11;
    fx->st[0][9] = 0x3f;
    fx->xmm[5][3] = 0x55;
    fx->xmm[12][0] = 0xcc;
    ck_assert_uint_eq(run_x("fxsave64 [0x200000]\n fxsave [0x200400]\n"
                            " mov dword [0x200018], 0x1f80\n fxrstor64 [0x200000]"), 0xff);
    uint8_t *m = M.ram + 0x200000;
    ck_assert_uint_eq(m[0] | m[1] << 8, 0x27f);
    ck_assert_uint_eq(m[2] | m[3] << 8, 0x3820);
    ck_assert_uint_eq(m[4], 0x80);
    ck_assert_uint_eq(rt_rd32(0x200018), 0x1f80);      /* MXCSR (rewritten, restored) */
    ck_assert_uint_eq(rt_rd32(0x20001c), 0xffff);      /* MXCSR_MASK */
    ck_assert_uint_eq(m[32], 0x11);                    /* ST0 at 32 */
    ck_assert_uint_eq(m[41], 0x3f);
    ck_assert_uint_eq(m[160 + 5 * 16 + 3], 0x55);      /* XMM5 */
    ck_assert_uint_eq(m[160 + 12 * 16], 0xcc);         /* XMM12: 64-bit mode */
    ck_assert_uint_eq(M.ram[0x200400 + 160 + 5 * 16 + 3], 0x55);
    ck_assert_uint_eq(CTX->fpu.mxcsr, 0x1f80);         /* FXRSTOR loaded it */
    ck_assert_uint_eq(CTX->fpu.fcw, 0x27f);
}
END_TEST

START_TEST(faults)
{
    rt_long64(0x100000);
    /* FXRSTOR: reserved MXCSR bit -> #GP; misaligned image -> #GP. */
    ck_assert_uint_eq(run_x("fxsave64 [0x200000]\n mov dword [0x200018], 0x10000\n"
                            " fxrstor64 [0x200000]"), 13);
    rt_long64(0x100000);
    ck_assert_uint_eq(run_x("fxsave [0x200008]"), 13);
    rt_long64(0x100000);
    ck_assert_uint_eq(run_x("movaps xmm0, [0x200008]"), 13);
    rt_long64(0x100000);
    ck_assert_uint_eq(run_x("movups xmm0, [0x200008]\n movdqu [0x200003], xmm0"), 0xff);
    rt_long64(0x100000);
    ck_assert_uint_eq(run_x("pxor xmm0, [0x200004]"), 13);
    rt_long64(0x100000);
    ck_assert_uint_eq(run_x("haddps xmm0, xmm1"), 6); /* SSE3: not in the policy */
}
END_TEST

START_TEST(nm_ud)
{
    rt_long64(0x100000);
    CTX->cr0 |= CR0_TS;
    ck_assert_uint_eq(run_x("fld1"), 7);
    rt_long64(0x100000);
    CTX->cr0 |= CR0_TS;
    ck_assert_uint_eq(run_x("addps xmm0, xmm1"), 7);
    rt_long64(0x100000);
    CTX->cr0 |= CR0_TS;
    ck_assert_uint_eq(run_x("paddb mm0, mm1"), 7);
    rt_long64(0x100000);
    CTX->cr0 |= CR0_TS;
    ck_assert_uint_eq(run_x("fwait"), 7); /* MP set by rt_long64 */
    rt_long64(0x100000);
    CTX->cr0 = (CTX->cr0 | CR0_TS) & ~CR0_MP;
    ck_assert_uint_eq(run_x("fwait"), 0xff);
    rt_long64(0x100000);
    CTX->cr0 |= CR0_TS;
    ck_assert_uint_eq(run_x("fxsave [0x200000]"), 7);
    rt_long64(0x100000);
    CTX->cr0 |= CR0_EM;
    ck_assert_uint_eq(run_x("fld1"), 7);
    rt_long64(0x100000);
    CTX->cr0 |= CR0_EM;
    ck_assert_uint_eq(run_x("addps xmm0, xmm1"), 6);
    rt_long64(0x100000);
    CTX->cr0 |= CR0_EM;
    ck_assert_uint_eq(run_x("pxor mm0, mm1"), 6);
    rt_long64(0x100000);
    CTX->cr4 &= ~CR4_OSFXSR;
    ck_assert_uint_eq(run_x("addps xmm0, xmm1"), 6);
    rt_long64(0x100000);
    CTX->cr4 &= ~CR4_OSFXSR;
    ck_assert_uint_eq(run_x("paddb mm0, mm1"), 0xff); /* MMX does not need OSFXSR */
}
END_TEST

START_TEST(mf_xm_stack)
{
    /* Unmasked ZE: the division sets ES, the NEXT x87 instruction takes #MF. */
    rt_long64(0x100000);
    ck_assert_uint_eq(run_x("fninit\n mov word [0x200000], 0x37b\n fldcw [0x200000]\n"
                            " fld1\n fldz\n fdivp st1, st0\n mov r9, 1\n fld1"), 16);
    ck_assert_uint_eq(CTX->gpr[CPUM_R9], 1);
    ck_assert_uint_eq(CTX->fpu.fsw & 0x84, 0x84); /* ZE, ES */
    /* Unmasked SIMD ZE: #XM, destination unchanged, flag set; #UD without OSXMMEXCPT. */
    rt_long64(0x100000);
    ck_assert_uint_eq(run_x("mov dword [0x200000], 0x1d80\n ldmxcsr [0x200000]\n"
                            " mov eax, 1\n cvtsi2ss xmm0, eax\n xorps xmm1, xmm1\n"
                            " divss xmm0, xmm1"), 19);
    ck_assert_uint_eq(CTX->fpu.mxcsr & 4, 4);
    ck_assert_uint_eq(CTX->fpu.xmm[0][3], 0x3f); /* still 1.0f */
    rt_long64(0x100000);
    CTX->cr4 &= ~CR4_OSXMMEXCPT;
    ck_assert_uint_eq(run_x("mov dword [0x200000], 0x1d80\n ldmxcsr [0x200000]\n"
                            " xorps xmm1, xmm1\n divss xmm0, xmm1"), 6);
    /* Nine pushes: the ninth overflows (IE|SF|C1), ST0 = indefinite. */
    rt_long64(0x100000);
    ck_assert_uint_eq(run_x("fninit\n fld1\n fld1\n fld1\n fld1\n fld1\n fld1\n fld1\n fld1\n"
                            " fldpi\n fnstsw ax"), 0xff);
    ck_assert_uint_eq(CTX->gpr[CPUM_RAX] & 0x2c1, 0x241);
    ck_assert_uint_eq(CTX->fpu.st[0][9], 0xff);
    ck_assert_uint_eq(CTX->fpu.st[0][7], 0xc0);
}
END_TEST

TCase *tcase_fpu(void)
{
    TCase *tc = tcase_create("fpu");
    tcase_add_checked_fixture(tc, rt_setup, rt_teardown);
    tcase_add_test(tc, fxsave_layout);
    tcase_add_test(tc, faults);
    tcase_add_test(tc, nm_ud);
    tcase_add_test(tc, mf_xm_stack);
    return tc;
}
