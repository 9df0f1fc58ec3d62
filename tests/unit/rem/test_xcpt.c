/*
 * test_xcpt.c - exceptions and privilege changes: #PF through a 32-bit IDT
 * with CR2 and error code, #DE, #UD, #GP from CPL3 through a 64-bit gate
 * with the TSS stack switch and IRETQ back, IST, SYSCALL/SYSRET round trip,
 * double fault and triple fault (SHUTDOWN exit).
 */
#include "rem_test.h"

START_TEST(pf_prot32)
{
    /* Unmap page 0x300000 (in a PSE page: use a PT page inside the first 4 MiB: 0x5000). */
    rt_wr32(0x21000 + 4 * 5, 0); /* 0x5000 not present */
    rt_asm(0x100000, "bits 32\n org 0x100000\n"
                     " mov ebx, 1\n mov eax, [0x5008]\n mov ebx, 2\n hlt\n"
                     " times 0x40-($-$$) nop\n"
                     "pf: pop ecx\n mov edx, cr2\n mov dword [0x21000+4*5], 0x5007\n iretd\n");
    rt_prot32(0x100000, 1);
    rt_idt_gate(14, 0x100040, 0, 0);
    rt_wr32(0x5008, 0xcafe);
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    ck_assert_uint_eq(CTX->gpr[CPUM_RCX], 0);      /* not present, read, supervisor */
    ck_assert_uint_eq(CTX->gpr[CPUM_RDX], 0x5008); /* CR2 */
    ck_assert_uint_eq(CTX->gpr[CPUM_RAX], 0xcafe); /* restarted after the handler */
    ck_assert_uint_eq(CTX->gpr[CPUM_RBX], 2);
    ck_assert_uint_eq(CTX->gpr[CPUM_RSP], 0x80000);
}
END_TEST

START_TEST(de_ud_long)
{
    rt_asm(0x100000, "bits 64\n org 0x100000\n"
                     " xor ebx, ebx\n mov eax, 1\n div ebx\n ud2\n hlt\n"
                     "de: add qword [rsp], 2\n inc r8\n iretq\n"
                     "ud: add qword [rsp], 2\n add r8, 16\n iretq\n");
    rt_long64(0x100000);
    rt_idt_gate(0, 0x100000 + 12, 0, 0);
    rt_idt_gate(6, 0x100000 + 12 + 10, 0, 0);
    CTX->gpr[CPUM_R8] = 0;
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    ck_assert_uint_eq(CTX->gpr[CPUM_R8], 17);
}
END_TEST

START_TEST(user_gp_stack_switch)
{
    /* Kernel at 0x100000 drops to CPL3 with IRETQ; user code does CLI -> #GP(0),
     * handled on the TSS RSP0 stack; then INT 0x80 through a DPL3 gate; the
     * handler uses IST1 for vector 0x81. */
    rt_asm(0x100000, "bits 64\n org 0x100000\n"
                     " push 0x2b\n push 0x90000\n push 0x202\n push 0x33\n push user\n iretq\n"
                     "user: mov rax, rsp\n cli\n int 0x80\n hlt\n"
                     " times 0x40-($-$$) nop\n"
                     "gp: mov r9, [rsp]\n mov r10, rsp\n mov r11, [rsp+16]\n add qword [rsp+8], 1\n"
                     "    add rsp, 8\n iretq\n"
                     " times 0x80-($-$$) nop\n"
                     "sys: mov r12, rsp\n mov r13, [rsp+8]\n mov r14, ss\n hlt\n");
    rt_long64(0x100000);
    rt_idt_gate(13, 0x100040, 0, 0);
    rt_idt_gate(0x80, 0x100080, 3, 0);
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    struct cpum_ctx *c = CTX;
    ck_assert_uint_eq(c->gpr[CPUM_RAX], 0x90000);
    ck_assert_uint_eq(c->gpr[CPUM_R9], 0);            /* #GP error code 0 */
    ck_assert_uint_eq(c->gpr[CPUM_R10], 0x70000 - 48); /* RSP0 minus the 6-qword frame */
    ck_assert_uint_eq(c->gpr[CPUM_R11], 0x33);
    ck_assert_uint_eq(c->gpr[CPUM_R12], 0x70000 - 40); /* INT: no error code */
    ck_assert_uint_eq(c->gpr[CPUM_R13], 0x33);
    ck_assert_uint_eq(c->gpr[CPUM_R14], 0);            /* SS = NULL after the privilege change */
    ck_assert_uint_eq(c->seg[CPUM_CS].sel, 0x10);
}
END_TEST

START_TEST(syscall_sysret)
{
    rt_asm(0x100000, "bits 64\n org 0x100000\n"
                     " mov rcx, user\n mov r11, 0x202\n o64 sysret\n"
                     "user: mov rax, 60\n syscall\n mov r8, cs\n mov r9, ss\n hlt\n"
                     " times 0x40-($-$$) nop\n"
                     "entry: mov rbx, rcx\n mov rdx, r11\n mov r10, cs\n o64 sysret\n");
    rt_long64(0x100000);
    CTX->msr.star = (0x23ull << 48) | (0x10ull << 32);
    CTX->msr.lstar = 0x100040;
    CTX->msr.sfmask = 0x200;
    cpum_mark_dirty(&M.cpu, CPUM_STATE_ALL);
    /* hlt at CPL3 is #GP: give it a handler that halts at CPL0. */
    rt_asm(0x101000, "bits 64\n hlt\n");
    rt_idt_gate(13, 0x101000, 0, 0);
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    struct cpum_ctx *c = CTX;
    ck_assert_uint_eq(c->gpr[CPUM_R10], 0x10);
    ck_assert_uint_eq(c->gpr[CPUM_RBX], 0x10001a); /* after SYSCALL */
    ck_assert_uint_eq(c->gpr[CPUM_RDX] & 0x200, 0x200);
    ck_assert_uint_eq(c->gpr[CPUM_R8], 0x33);
    ck_assert_uint_eq(c->gpr[CPUM_R9], 0x2b);
}
END_TEST

START_TEST(triple_fault)
{
    rt_asm(0x100000, "bits 64\n mov rax, 0x7ffffffffff0\n mov rax, [rax]\n hlt\n");
    rt_long64(0x100000);
    CTX->idtr.limit = 0; /* #PF -> #GP (no gate) -> #DF -> shutdown */
    cpum_mark_dirty(&M.cpu, CPUM_STATE_ALL);
    ck_assert_int_eq(rt_run(), VMM_EXIT_SHUTDOWN);
    ck_assert_uint_eq(CTX->rip, 0x10000a);
}
END_TEST

START_TEST(double_fault_delivered)
{
    /* #PF handler gate not present -> #NP during #PF delivery -> #DF. */
    rt_asm(0x100000, "bits 64\n org 0x100000\n mov rax, 0x7ffffffffff0\n mov rax, [rax]\n hlt\n"
                     " times 0x40-($-$$) nop\n"
                     "df: mov r15, [rsp]\n mov r14, cr2\n hlt\n");
    rt_long64(0x100000);
    rt_idt_gate(8, 0x100040, 0, 0);
    rt_wr64(0x1000 + 16 * 14, 0); /* not present */
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    ck_assert_uint_eq(CTX->gpr[CPUM_R15], 0);
    ck_assert_uint_eq(CTX->gpr[CPUM_R14], 0x7ffffffffff0ull);
    ck_assert_uint_eq(CTX->rip, 0x100049); /* after the handler's HLT */
}
END_TEST

TCase *tcase_xcpt(void)
{
    TCase *tc = tcase_create("xcpt");
    tcase_add_checked_fixture(tc, rt_setup, rt_teardown);
    tcase_add_test(tc, pf_prot32);
    tcase_add_test(tc, de_ud_long);
    tcase_add_test(tc, user_gp_stack_switch);
    tcase_add_test(tc, syscall_sysret);
    tcase_add_test(tc, triple_fault);
    tcase_add_test(tc, double_fault_delivered);
    return tc;
}
