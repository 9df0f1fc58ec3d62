/*
 * test_debug.c - debug exceptions and the MOV SS / POP SS shadow: the
 * single-step trap skips the boundary after POP SS (32-bit), interrupts
 * wait one instruction after MOV SS, a data breakpoint hit by a faulting
 * instruction is dropped, and LGDT/LIDT/LLDT refuse non-canonical bases.
 */
#include "rem_test.h"

/* #DB handler at 0x100040 (32-bit): appends the return EIP at 0x200004 +
 * 4 * count, count at 0x200000. The expected EIPs sit at 0x100080. */
START_TEST(pop_ss_single_step)
{
    rt_asm(0x100000, "bits 32\n org 0x100000\n"
                     " pushfd\n or dword [esp], 0x100\n popfd\n"
                     "l1: push ss\n l2: pop ss\n l3: nop\n l4: pushfd\n l5: and dword [esp], ~0x100\n"
                     "l6: popfd\n l7: hlt\n"
                     " times 0x40-($-$$) nop\n"
                     "db: push eax\n push ebx\n mov ebx, [0x200000]\n mov eax, [esp+8]\n"
                     " mov [0x200004+ebx*4], eax\n inc dword [0x200000]\n pop ebx\n pop eax\n iretd\n"
                     " times 0x80-($-$$) nop\n"
                     " dd l2, l4, l5, l6, l7\n");
    rt_prot32(0x100000, 0);
    rt_idt_gate(1, 0x100040, 0, 0);
    rt_wr32(0x200000, 0);
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    ck_assert_uint_eq(rt_rd32(0x200000), 5);
    for (unsigned i = 0; i < 5; i++)
        ck_assert_uint_eq(rt_rd32(0x200004 + 4 * i), rt_rd32(0x100080 + 4 * i));
    ck_assert_uint_ne(CTX->dr[6] & (1u << 14), 0); /* BS */
}
END_TEST

/* Interrupts wait for the instruction after MOV SS (and after STI). */
START_TEST(mov_ss_irq_shadow)
{
    rt_asm(0x100000, "bits 64\n org 0x100000\n mov eax, ss\n mov ss, eax\n nop\n sti\n nop\n nop\n hlt\n");
    rt_long64(0x100000);
    CTX->rflags |= 0x200;
    ck_assert_int_eq(rem_vcpu_run(M.v, 2, &M.exit), CAP_OK);
    ck_assert_int_eq(M.exit.reason, VMM_EXIT_INTERRUPTED);
    ck_assert(!rem_vcpu_irq_ready(M.v)); /* after MOV SS */
    ck_assert_int_eq(rem_vcpu_run(M.v, 1, &M.exit), CAP_OK);
    ck_assert(rem_vcpu_irq_ready(M.v)); /* after the nop */
    CTX->rflags &= ~0x200ull;
    ck_assert_int_eq(rem_vcpu_run(M.v, 1, &M.exit), CAP_OK); /* sti */
    ck_assert(!rem_vcpu_irq_ready(M.v));
    ck_assert_int_eq(rem_vcpu_run(M.v, 1, &M.exit), CAP_OK);
    ck_assert(rem_vcpu_irq_ready(M.v));
}
END_TEST

/* A data breakpoint hit by an instruction that then faults is dropped:
 * POP [mem] reads the watched stack slot, then its write to a read-only
 * page faults - no #DB; a plain read of a watched word traps after it. */
START_TEST(data_bp_dropped_on_fault)
{
    rt_asm(0x100000, "bits 64\n org 0x100000\n"
                     " mov rax, [0x200100]\n"   /* 8 bytes: DR1 read hit, #DB after it */
                     " pop qword [0x300100]\n"  /* 7 bytes: DR0 read hit, then #PF: no #DB */
                     " hlt\n"
                     " times 0x40-($-$$) nop\n"
                     "db: inc r12\n mov r13, [rsp]\n iretq\n"
                     " times 0x80-($-$$) nop\n"
                     "pf: inc r14\n add qword [rsp+8], 7\n add rsp, 8\n iretq\n");
    rt_long64(0x100000);
    rt_wr64(0x12000 + 8, 0x200000ull | 0x85); /* 2 MiB at 2 MiB: read-only */
    rt_idt_gate(1, 0x100040, 0, 0);
    rt_idt_gate(14, 0x100080, 0, 0);
    CTX->gpr[CPUM_RSP] = 0x7fff8;
    CTX->dr[0] = 0x7fff8;
    CTX->dr[1] = 0x200100;
    /* L0 L1; DR0: reads/writes, 8 bytes; DR1: reads/writes, 4 bytes */
    CTX->dr[7] = 0x400 | 1 | 4 | (3ull << 16) | (2ull << 18) | (3ull << 20) | (3ull << 22);
    CTX->gpr[CPUM_R12] = CTX->gpr[CPUM_R14] = 0;
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    ck_assert_uint_eq(CTX->gpr[CPUM_R12], 1); /* only the read's trap */
    ck_assert_uint_eq(CTX->gpr[CPUM_R13], 0x100008);
    ck_assert_uint_eq(CTX->gpr[CPUM_R14], 1);
    ck_assert_uint_eq(CTX->dr[6] & 0xf, 2); /* B1 */
}
END_TEST

/* A data breakpoint hit by MOV SS waits past the next instruction: with
 * INT3 next, the #DB arrives at the #BP handler's first instruction (what
 * the hardware does - CVE-2018-8897 is kernels not expecting it). */
START_TEST(mov_ss_data_bp_deferred)
{
    rt_asm(0x100000, "bits 64\n org 0x100000\n"
                     " mov ss, [0x200100]\n int3\n hlt\n"
                     " times 0x40-($-$$) nop\n"
                     "db: inc r12\n mov r13, [rsp]\n iretq\n"
                     " times 0x80-($-$$) nop\n"
                     "brk: inc r14\n iretq\n");
    rt_long64(0x100000);
    rt_idt_gate(1, 0x100040, 0, 0);
    rt_idt_gate(3, 0x100080, 0, 0);
    rt_wr64(0x200100, 0x18);
    CTX->dr[0] = 0x200100;
    CTX->dr[7] = 0x400 | 1 | (3ull << 16) | (1ull << 18); /* L0, reads/writes, 2 bytes */
    CTX->gpr[CPUM_R12] = CTX->gpr[CPUM_R14] = 0;
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    ck_assert_uint_eq(CTX->gpr[CPUM_R12], 1);
    ck_assert_uint_eq(CTX->gpr[CPUM_R13], 0x100080); /* inside the #BP handler */
    ck_assert_uint_eq(CTX->gpr[CPUM_R14], 1);
}
END_TEST

/* 64-bit LGDT/LIDT of a non-canonical base and LLDT of a descriptor whose
 * 64-bit base is not canonical: #GP(0) and #GP(selector). */
START_TEST(noncanonical_bases)
{
    rt_wr64(0x200000, 0x0000800000000fffull << 16); /* limit 0xfff, base 0x0000800000000000 */
    rt_wr64(0x200008, 0);
    ck_assert_int_eq(rt_feat_run("0x0f,0x01,0x10" /* lgdt [rax] */, 0), 13);
    ck_assert_uint_eq(CTX->gpr[CPUM_R13], 0);
    ck_assert_uint_eq(CTX->gdtr.base, 0x500);
    ck_assert_int_eq(rt_feat_run("0x0f,0x01,0x18" /* lidt [rax] */, 0), 13);
    ck_assert_uint_eq(CTX->idtr.base, 0x1000);
    /* LDT descriptor at GDT 0x58 with base bits 63:32 = 0x8000. */
    rt_wr64(0x500 + 0x58, 0x000f | 0x82ull << 40);
    rt_wr64(0x500 + 0x60, 0x8000);
    /* mov ax, 0x58; lldt ax (GDTR limit raised by the snippet's caller below) */
    rt_asm(0x100000, "bits 64\n org 0x100000\n mov ax, 0x58\n lldt ax\n hlt\n"
                     " times 0x800-($-$$) nop\n"
                     "gp: mov r15, 13\n mov r13, [rsp]\n hlt\n");
    rt_long64(0x100000);
    CTX->gdtr.limit = 0x67;
    rt_idt_gate(13, 0x100800, 0, 0);
    CTX->gpr[CPUM_R15] = 0;
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    ck_assert_uint_eq(CTX->gpr[CPUM_R15], 13);
    ck_assert_uint_eq(CTX->gpr[CPUM_R13], 0x58);
    ck_assert_uint_eq(CTX->ldtr.sel, 0);
    /* MOV CR3 with a bit at or above MAXPHYADDR (36): #GP(0). */
    ck_assert_int_eq(rt_feat_run("0x48,0xb8,0x00,0x00,0x01,0x00,0x00,0x10,0x00,0x00, 0x0f,0x22,0xd8"
                                 /* mov rax, 0x1000010000; mov cr3, rax */, 0), 13);
    ck_assert_uint_eq(CTX->cr3, 0x10000);
}
END_TEST

TCase *tcase_debug(void)
{
    TCase *tc = tcase_create("debug");
    tcase_add_checked_fixture(tc, rt_setup, rt_teardown);
    tcase_add_test(tc, pop_ss_single_step);
    tcase_add_test(tc, mov_ss_irq_shadow);
    tcase_add_test(tc, data_bp_dropped_on_fault);
    tcase_add_test(tc, noncanonical_bases);
    tcase_add_test(tc, mov_ss_data_bp_deferred);
    return tc;
}
