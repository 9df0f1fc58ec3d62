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
uint64_t rt_feat_cr4;

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
    CTX->cr4 |= rt_feat_cr4;
    handlers();
    CTX->gpr[CPUM_RAX] = 0x200000; /* memory forms: a valid address */
    CTX->gpr[CPUM_R15] = ~0ull;
    enum vmm_exit_reason r = rt_run();
    ck_assert_msg(r == VMM_EXIT_HLT, "%s (cpl3 %d): exit %d at rip 0x%llx", db, cpl3, r,
                  (unsigned long long)CTX->rip);
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

/* SMAP: explicit supervisor reads of a user page follow EFLAGS.AC, implicit
 * ones (here an LDT descriptor read) fault whatever AC says. The tests'
 * pages are all user pages; those the #PF delivery touches (IDT, GDT, TSS,
 * stacks, handlers: everything below 2 MiB but page 0) become supervisor
 * pages, the LDT and data live at 2 MiB (user). */
START_TEST(smap_explicit_implicit)
{
    for (unsigned i = 0; i < 512; i++)
        rt_wr64(0x13000 + 8 * i, ((uint64_t)i << 12) | 3);
    /* LDT descriptor at GDT 0x58 (16 bytes): base 0x200000, limit 0xf. */
    rt_wr64(0x500 + 0x58, 0x000f | (0x200000ull & 0xffffff) << 16 | 0x82ull << 40);
    rt_wr64(0x500 + 0x60, 0);
    rt_wr64(0x200000, 0x00cf93000000ffffull); /* LDT[0]: flat data */
    rt_wr64(0x200100, 0x1234);
    static const struct {
        const char *db;
        int vec;
        uint64_t err;
    } c[] = {
        {"0x48,0x8b,0x04,0x25,0x00,0x01,0x20,0x00" /* mov rax, [0x200100] */, 14, 1},
        {"0x0f,0x01,0xcb,0x48,0x8b,0x04,0x25,0x00,0x01,0x20,0x00" /* stac; mov */, -1, 0},
        {"0x0f,0x01,0xcb,0x48,0x89,0x04,0x25,0x00,0x01,0x20,0x00" /* stac; mov [], rax */, -1, 0},
        {"0x0f,0x01,0xcb,0x0f,0x01,0xca,0x48,0x89,0x04,0x25,0x00,0x01,0x20,0x00" /* stac; clac; mov [],rax */,
         14, 3},
        {"0x0f,0x01,0xcb,0x66,0xb8,0x04,0x00,0x8e,0xd8" /* stac; mov ax, 4; mov ds, ax */, 14, 1},
    };
    for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        char src[512];
        snprintf(src, sizeof(src), "bits 64\n org 0x100000\n mov ax, 0x58\n lldt ax\n db %s\n hlt\n",
                 c[i].db);
        rt_asm(0x100000, src);
        rt_long64(0x100000);
        CTX->gdtr.limit = 0x67;
        CTX->cr4 |= CR4_SMAP;
        handlers();
        CTX->gpr[CPUM_R15] = ~0ull;
        ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
        int vec = CTX->gpr[CPUM_R15] == ~0ull ? -1 : (int)CTX->gpr[CPUM_R15];
        ck_assert_msg(vec == c[i].vec, "case %u: vector %d, want %d", i, vec, c[i].vec);
        if (vec == 14) {
            ck_assert_uint_eq(CTX->gpr[CPUM_R13], c[i].err);
            ck_assert_uint_eq(CTX->cr2, i == 4 ? 0x200000 : 0x200100);
        }
    }
}
END_TEST

/* SMEP: a CPL0 fetch from a user page is #PF P|I/D. */
START_TEST(smep_fetch)
{
    rt_asm(0x100000, "bits 64\n org 0x100000\n call 0x200000\n hlt\n");
    rt_wr32(0x200000, 0xc3); /* ret, on a user page */
    rt_long64(0x100000);
    handlers();
    CTX->gpr[CPUM_R15] = ~0ull;
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    ck_assert_uint_eq(CTX->gpr[CPUM_R15], ~0ull); /* without SMEP: fine */
    for (unsigned i = 0; i < 512; i++)
        rt_wr64(0x13000 + 8 * i, ((uint64_t)i << 12) | 3);
    rt_long64(0x100000);
    CTX->cr4 |= CR4_SMEP;
    CTX->gpr[CPUM_R15] = ~0ull;
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    ck_assert_uint_eq(CTX->gpr[CPUM_R15], 14);
    ck_assert_uint_eq(CTX->gpr[CPUM_R13], 0x11); /* P, I/D */
    ck_assert_uint_eq(CTX->cr2, 0x200000);
}
END_TEST

/* RDTSCP / RDPID read IA32_TSC_AUX where the profile has them, else #UD;
 * CR4 bits follow the profile (intel-core: no UMIP, no RDPID). */
START_TEST(tsc_aux_profiles)
{
    CTX->msr.tsc_aux = 0xabcd;
    ck_assert_int_eq(rt_feat_run("0x0f,0x01,0xf9" /* rdtscp */, 0), -1);
    ck_assert_uint_eq(CTX->gpr[CPUM_RCX], 0xabcd);
    ck_assert_int_eq(rt_feat_run("0xf3,0x48,0x0f,0xc7,0xf8" /* rdpid rax */, 0), 6);
    /* mov rax, cr4; or rax, 0x800 (UMIP); mov cr4, rax */
    ck_assert_int_eq(rt_feat_run("0x0f,0x20,0xe0, 0x48,0x0d,0x00,0x08,0x00,0x00, 0x0f,0x22,0xe0", 0), 13);
    rt_teardown();
    rt_setup_profile("amd-epyc");
    CTX->msr.tsc_aux = 0xabcd;
    CTX->gpr[CPUM_RAX] = ~0ull;
    ck_assert_int_eq(rt_feat_run("0xf3,0x48,0x0f,0xc7,0xf8, 0x48,0x89,0xc3" /* rdpid rax; mov rbx, rax */, 0), -1);
    ck_assert_uint_eq(CTX->gpr[CPUM_RBX], 0xabcd);
    /* mov rax, cr4; or rax, 0x800 (UMIP); mov cr4, rax (SMEP and SMAP would stop
     * this test's CPL0 code, on user pages: smep_fetch, smap_explicit_implicit) */
    ck_assert_int_eq(rt_feat_run("0x0f,0x20,0xe0, 0x48,0x0d,0x00,0x08,0x00,0x00, 0x0f,0x22,0xe0", 0), -1);
    ck_assert_uint_eq(CTX->cr4 & CR4_UMIP, CR4_UMIP);
    /* UMIP: SMSW, SLDT, STR, SGDT at CPL3 are #GP(0), fine without it. */
    static const char *const umip[] = {"0x0f,0x01,0xe0" /* smsw eax */, "0x0f,0x00,0xc0" /* sldt eax */,
                                       "0x0f,0x00,0xc8" /* str eax */,
                                       "0x0f,0x01,0x04,0x25,0x00,0x00,0x09,0x00" /* sgdt [0x90000] */};
    for (unsigned i = 0; i < 4; i++) {
        ck_assert_int_eq(rt_feat_run(umip[i], 1), 6); /* ran, then ud2 */
        rt_feat_cr4 = CR4_UMIP;
        ck_assert_int_eq(rt_feat_run(umip[i], 1), 13);
        ck_assert_uint_eq(CTX->gpr[CPUM_R14], 0x101000);
        rt_feat_cr4 = 0;
    }
}
END_TEST

TCase *tcase_feat(void)
{
    TCase *tc = tcase_create("feat");
    tcase_add_checked_fixture(tc, rt_setup, rt_teardown);
    tcase_add_test(tc, absent_ud_cpl0);
    tcase_add_test(tc, absent_priv_ud_cpl3);
    tcase_add_test(tc, smap_explicit_implicit);
    tcase_add_test(tc, smep_fetch);
    tcase_add_test(tc, tsc_aux_profiles);
    return tc;
}
