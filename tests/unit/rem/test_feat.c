/*
 * test_feat.c - a profile advertises exactly what works: encodings of
 * features outside the CPUID policy raise #UD (at CPL3 too, before any CPL
 * check), never an emulation failure.
 */
#include <stdio.h>

#include "rem_test.h"

/* The handlers at 0x100800: vector in R15, the faulting RIP in R14, the
 * error code (or 0) in R13; then HLT. */
static void handlers(void)
{
    rt_asm(0x100800, "bits 64\n org 0x100800\n"
                     "ud: mov r15, 6\n mov r14, [rsp]\n xor r13, r13\n hlt\n"
                     " times 0x40-($-$$) nop\n"
                     "gp: mov r15, 13\n mov r13, [rsp]\n mov r14, [rsp+8]\n hlt\n"
                     " times 0x80-($-$$) nop\n"
                     "pf: mov r15, 14\n mov r13, [rsp]\n mov r14, [rsp+8]\n hlt\n"
                     " times 0xc0-($-$$) nop\n"
                     "db: mov r15, 1\n mov r14, [rsp]\n xor r13, r13\n hlt\n");
    rt_idt_gate(6, 0x100800, 0, 0);
    rt_idt_gate(13, 0x100840, 0, 0);
    rt_idt_gate(14, 0x100880, 0, 0);
    rt_idt_gate(1, 0x1008c0, 0, 0);
}

/* Runs `db` (a nasm `db` operand list) at 0x100000 (CPL0) or from CPL3 at
 * 0x101000; returns the vector taken, -1 when it ran to its HLT/ud2 end. */
int rt_feat_run(const char *db, int cpl3)
{
    char src[512];
    if (cpl3)
        snprintf(src, sizeof(src),
                 "bits 64\n org 0x100000\n push 0x2b\n push 0x90000\n push 0x202\n push 0x33\n"
                 " push 0x101000\n iretq\n times 0x1000-($-$$) nop\n db %s\n ud2\n", db);
    else
        snprintf(src, sizeof(src), "bits 64\n org 0x100000\n db %s\n hlt\n", db);
    rt_asm(0x100000, src);
    rt_long64(0x100000);
    handlers();
    CTX->gpr[CPUM_RAX] = 0x200000; /* memory forms: a valid address */
    CTX->gpr[CPUM_R15] = ~0ull;
    ck_assert_int_eq(rt_run(), HWACCM_EXIT_HLT);
    return CTX->gpr[CPUM_R15] == ~0ull ? -1 : (int)CTX->gpr[CPUM_R15];
}

static const char *const absent[] = {
    "0x0f,0x01,0xd0" /* xgetbv */, "0x0f,0x01,0xd1" /* xsetbv */,
    "0x0f,0x01,0xc1" /* vmcall */, "0x0f,0x01,0xd9" /* vmmcall */,
    "0x0f,0x01,0xc2" /* vmlaunch */, "0xf3,0x0f,0xc7,0x30" /* vmxon */,
    "0x0f,0x01,0xd8" /* vmrun */, "0x0f,0x01,0xdc" /* stgi */,
    "0x0f,0x01,0xc8" /* monitor */, "0x0f,0x01,0xc9" /* mwait */,
    "0x66,0x0f,0x38,0x82,0x00" /* invpcid */, "0x0f,0x01,0xee" /* rdpkru */,
    "0x0f,0xc7,0xf0" /* rdrand */, "0x0f,0xc7,0xf8" /* rdseed */,
    "0xf3,0x48,0x0f,0xae,0xc0" /* rdfsbase */, "0x0f,0xae,0x20" /* xsave */,
    "0x0f,0xc7,0x28" /* xsaves */, "0x0f,0x37" /* getsec */, "0x0f,0xaa" /* rsm */,
    "0x0f,0x01,0xd6" /* xtest */, "0x0f,0x01,0xe8" /* serialize */,
    "0xf3,0x0f,0xb8,0xc0" /* popcnt */, "0x0f,0x38,0xf0,0x00" /* movbe */,
    "0xf2,0x0f,0x38,0xf0,0xc0" /* crc32 */, "0x66,0x0f,0x38,0x00,0xc0" /* pshufb */,
    "0x66,0x0f,0xd0,0xc0" /* addsubpd */, "0x66,0x0f,0x3a,0x0f,0xc0,0x01" /* palignr */,
    "0xc4,0xe2,0x78,0xf2,0xc0" /* andn */, "0x66,0x0f,0xae,0x38" /* clflushopt */,
};

START_TEST(absent_ud_cpl0)
{
    for (unsigned i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
        int vec = rt_feat_run(absent[i], 0);
        ck_assert_msg(vec == 6 && CTX->gpr[CPUM_R14] == 0x100000,
                      "%s: vector %d at 0x%llx, want #UD at 0x100000", absent[i], vec,
                      (unsigned long long)CTX->gpr[CPUM_R14]);
    }
}
END_TEST

START_TEST(absent_priv_ud_cpl3)
{
    static const char *const priv[] = {
        "0x0f,0x01,0xd1" /* xsetbv */, "0x0f,0x01,0xc8" /* monitor */,
        "0x0f,0x01,0xd8" /* vmrun */, "0xf3,0x0f,0xc7,0x30" /* vmxon */,
        "0x66,0x0f,0x38,0x82,0x00" /* invpcid */, "0x0f,0xc7,0x28" /* xsaves */,
        "0x0f,0x01,0xca" /* clac */, "0x0f,0x01,0xcb" /* stac */,
    };
    for (unsigned i = 0; i < sizeof(priv) / sizeof(priv[0]); i++) {
        int vec = rt_feat_run(priv[i], 1);
        ck_assert_msg(vec == 6 && CTX->gpr[CPUM_R14] == 0x101000, "%s at CPL3: vector %d at 0x%llx",
                      priv[i], vec, (unsigned long long)CTX->gpr[CPUM_R14]);
    }
    /* Known privileged instructions keep #GP(0). */
    ck_assert_int_eq(rt_feat_run("0x0f,0x30" /* wrmsr */, 1), 13);
    ck_assert_int_eq(rt_feat_run("0x0f,0x01,0xf8" /* swapgs */, 1), 13);
}
END_TEST

TCase *tcase_feat(void)
{
    TCase *tc = tcase_create("feat");
    tcase_add_checked_fixture(tc, rt_setup, rt_teardown);
    tcase_add_test(tc, absent_ud_cpl0);
    tcase_add_test(tc, absent_priv_ud_cpl3);
    return tc;
}
