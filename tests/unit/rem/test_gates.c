/*
 * test_gates.c - far CALL and JMP through call gates (SDM Vol. 3A 5.8):
 * 32-bit gates in protected mode (same level, an inner level with the TSS
 * stack switch and parameter copying, the far RET back), 64-bit gates in
 * long mode, and the checks' faults with their error codes; task switches
 * (7.3) by JMP to a TSS, CALL through a task gate and IRET back, an
 * exception through an IDT task gate, a busy TSS refused. Gates and TSS
 * descriptors go into the test GDT (test_main.c) from 0x58 up.
 */
#include <stdio.h>
#include <string.h>

#include "rem_test.h"

#define GDT 0x500u

/* A gate descriptor at GDT selector `sel` (the GDT limit grows to hold it). */
static void gate(uint16_t sel, uint64_t off, uint16_t cs, unsigned dpl, unsigned params,
                 unsigned type, int present)
{
    uint64_t lo = (off & 0xffff) | ((uint64_t)cs << 16) | ((uint64_t)(params & 0x1f) << 32) |
                  ((uint64_t)((present ? 0x80 : 0) | (dpl << 5) | type) << 40) |
                  (((off >> 16) & 0xffff) << 48);
    rt_wr64(GDT + sel, lo);
    unsigned end = sel + 7;
    if (CTX->msr.efer & EFER_LMA) {
        rt_wr64(GDT + sel + 8, off >> 32); /* upper half: type 0 */
        end = sel + 15;
    }
    if (CTX->gdtr.limit < end)
        CTX->gdtr.limit = end;
    cpum_mark_dirty(&M.cpu, CPUM_STATE_ALL);
}

/* Protected mode with a 32-bit TSS whose ring-0 stack is 0x18:0x70000, and
 * a #GP handler at 0x100200 that stores its error code at 0x9100 and halts. */
static void prot32_kernel(void)
{
    rt_prot32(0x100000, 0);
    rt_wr32(0x3000 + 4, 0x70000);
    rt_wr32(0x3000 + 8, 0x18);
    rt_asm(0x100200, "bits 32\n mov eax, [esp]\n mov [0x9100], eax\n hlt\n");
    rt_idt_gate(13, 0x100200, 0, 0);
    rt_idt_gate(11, 0x100200, 0, 0); /* #NP: the same */
    rt_wr32(0x9100, 0xdeadbeef);
}

/* Ring-0 code at 0x100000 that drops to ring 3 (32-bit), where DS and ES
 * (nulled by the IRET to an outer level) get the user data segment. */
#define TO_RING3_32                                                                 \
    " push 0x2b\n push 0x90000\n pushfd\n push 0x23\n push user\n iretd\n"            \
    "user: mov eax, 0x2b\n mov ds, eax\n mov es, eax\n"

START_TEST(gate32_inner_level_params)
{
    prot32_kernel();
    gate(0x58, 0x100100, 0x08, 3, 2, 0xc, 1);
    rt_asm(0x100000, "bits 32\n org 0x100000\n" TO_RING3_32
                     " push 0x11111111\n push 0x22222222\n call 0x5b:0\n"
                     " mov [0x9000], esp\n mov eax, cs\n mov [0x9004], eax\n"
                     " mov eax, ss\n mov [0x9008], eax\n hlt\n");
    rt_asm(0x100100, "bits 32\n org 0x100100\n"
                     " mov eax, [esp]\n mov ebx, [esp+4]\n mov ecx, [esp+8]\n mov edx, [esp+12]\n"
                     " mov esi, [esp+16]\n mov ebp, [esp+20]\n mov edi, esp\n"
                     " mov [0x9010], cs\n mov [0x9014], ss\n mov [0x9018], eax\n retf 8\n");
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    struct cpum_ctx *c = CTX;
    /* The inner frame on the TSS stack: EIP, CS, the two parameters in their
     * order, the caller's ESP and SS. */
    ck_assert_uint_eq(c->gpr[CPUM_RBX], 0x23);
    ck_assert_uint_eq(c->gpr[CPUM_RCX], 0x22222222);
    ck_assert_uint_eq(c->gpr[CPUM_RDX], 0x11111111);
    ck_assert_uint_eq(c->gpr[CPUM_RSI], 0x90000 - 8);
    ck_assert_uint_eq(c->gpr[CPUM_RBP], 0x2b);
    ck_assert_uint_eq(c->gpr[CPUM_RDI], 0x70000 - 24);
    ck_assert_uint_eq(rt_rd32(0x9010) & 0xffff, 0x08); /* CPL 0 in the gate's code */
    ck_assert_uint_eq(rt_rd32(0x9014) & 0xffff, 0x18);
    /* RETF 8 back to ring 3: the caller's stack without the parameters. */
    ck_assert_uint_eq(rt_rd32(0x9000), 0x90000);
    ck_assert_uint_eq(rt_rd32(0x9004) & 0xffff, 0x23);
    ck_assert_uint_eq(rt_rd32(0x9008) & 0xffff, 0x2b);
    /* The return address pushed: after the 25 bytes of TO_RING3_32, two
     * 5-byte PUSHes and the 7-byte CALL. */
    ck_assert_uint_eq(rt_rd32(0x9018), 0x10002a);
    ck_assert_uint_eq(rt_rd32(0x9100), 0); /* the final HLT at CPL3 raised #GP(0) */
}
END_TEST

START_TEST(gate32_same_level_and_jmp)
{
    prot32_kernel();
    gate(0x58, 0x100100, 0x08, 0, 5, 0xc, 1); /* parameters only matter on a level change */
    gate(0x60, 0x100180, 0x08, 0, 0, 0xc, 1);
    rt_asm(0x100000, "bits 32\n org 0x100000\n"
                     " mov esp, 0x80000\n call 0x58:0x1234\n"
                     "back: mov [0x9000], esp\n jmp 0x60:0\n");
    rt_asm(0x100100, "bits 32\n org 0x100100\n"
                     " mov eax, [esp]\n mov ebx, [esp+4]\n mov ecx, esp\n retf\n");
    rt_asm(0x100180, "bits 32\n org 0x100180\n mov edx, 0x600d\n hlt\n");
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    struct cpum_ctx *c = CTX;
    ck_assert_uint_eq(c->gpr[CPUM_RAX], 0x10000c); /* after `mov esp` (5) + CALL (7) */
    ck_assert_uint_eq(c->gpr[CPUM_RBX], 0x08);
    ck_assert_uint_eq(c->gpr[CPUM_RCX], 0x80000 - 8);
    ck_assert_uint_eq(rt_rd32(0x9000), 0x80000);
    ck_assert_uint_eq(c->gpr[CPUM_RDX], 0x600d); /* the JMP through the gate */
    ck_assert_uint_eq(c->seg[CPUM_CS].sel, 0x08);
}
END_TEST

/* Each case: the gate, then ring-3 code doing one far transfer; the #GP/#NP
 * handler stores the error code. */
static uint32_t faulting_transfer(uint16_t gsel, unsigned gdpl, int present, uint16_t cs,
                                  const char *insn)
{
    prot32_kernel();
    gate(gsel, 0x100100, cs, gdpl, 0, 0xc, present);
    char src[512];
    snprintf(src, sizeof(src), "bits 32\n org 0x100000\n" TO_RING3_32 " %s\n hlt\n", insn);
    rt_asm(0x100000, src);
    rt_asm(0x100100, "bits 32\n mov dword [0x9100], 0x600d\n hlt\n");
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    return rt_rd32(0x9100);
}

START_TEST(gate32_faults)
{
    /* Gate DPL 0 < CPL 3 (selector RPL 0): #GP(gate). */
    ck_assert_uint_eq(faulting_transfer(0x58, 0, 1, 0x08, "call 0x58:0"), 0x58);
    rt_teardown();
    rt_setup();
    /* Gate DPL 2 below the selector's RPL 3 (and CPL 3): #GP(gate). */
    ck_assert_uint_eq(faulting_transfer(0x58, 2, 1, 0x08, "call 0x5b:0"), 0x58);
    rt_teardown();
    rt_setup();
    /* Gate not present: #NP(gate). */
    ck_assert_uint_eq(faulting_transfer(0x58, 3, 0, 0x08, "call 0x5b:0"), 0x58);
    rt_teardown();
    rt_setup();
    /* JMP cannot reach an inner level: #GP(target CS). */
    ck_assert_uint_eq(faulting_transfer(0x58, 3, 1, 0x08, "jmp 0x5b:0"), 0x08);
    rt_teardown();
    rt_setup();
    /* A null code-segment selector in the gate: #GP(0). */
    ck_assert_uint_eq(faulting_transfer(0x58, 3, 1, 0x00, "call 0x5b:0"), 0);
    rt_teardown();
    rt_setup();
    /* The same call with a valid gate works (control for the cases above). */
    ck_assert_uint_eq(faulting_transfer(0x58, 3, 1, 0x08, "call 0x5b:0"), 0x600d);
}
END_TEST

START_TEST(gate64_inner_level)
{
    rt_long64(0x100000);
    gate(0x58, 0x100100, 0x10, 3, 7, 0xc, 1); /* the count is ignored in long mode */
    rt_asm(0x100000, "bits 64\n org 0x100000\n"
                     " push 0x2b\n push 0x90000\n push 0x202\n push 0x33\n push user\n iretq\n"
                     "user: call far dword [rel fptr]\n mov r14, rsp\n mov r15, cs\n hlt\n"
                     "fptr: dd 0\n dw 0x5b\n");
    rt_asm(0x100100, "bits 64\n org 0x100100\n"
                     " mov r8, [rsp]\n mov r9, [rsp+8]\n mov r10, [rsp+16]\n mov r11, [rsp+24]\n"
                     " mov r12, rsp\n mov r13, ss\n o64 retf\n");
    rt_asm(0x101000, "bits 64\n hlt\n");
    rt_idt_gate(13, 0x101000, 0, 0);
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    struct cpum_ctx *c = CTX;
    ck_assert_uint_eq(c->gpr[CPUM_R8], 0x100015 + 6); /* after the 6-byte CALL */
    ck_assert_uint_eq(c->gpr[CPUM_R9], 0x33);
    ck_assert_uint_eq(c->gpr[CPUM_R10], 0x90000);
    ck_assert_uint_eq(c->gpr[CPUM_R11], 0x2b);
    ck_assert_uint_eq(c->gpr[CPUM_R12], 0x70000 - 32); /* RSP0, 4 qwords, no alignment */
    ck_assert_uint_eq(c->gpr[CPUM_R13], 0);            /* SS = NULL */
    ck_assert_uint_eq(c->gpr[CPUM_R14], 0x90000);      /* back at CPL3 */
    ck_assert_uint_eq(c->gpr[CPUM_R15], 0x33);
}
END_TEST

START_TEST(gate64_needs_64bit_target)
{
    /* A 64-bit gate to the 32-bit code segment 0x08: #GP(0x08). */
    rt_long64(0x100000);
    gate(0x58, 0x100100, 0x08, 0, 0, 0xc, 1);
    rt_asm(0x100000, "bits 64\n org 0x100000\n call far dword [rel fptr]\n hlt\n"
                     "fptr: dd 0\n dw 0x58\n");
    rt_asm(0x101000, "bits 64\n mov rax, [rsp]\n hlt\n");
    rt_idt_gate(13, 0x101000, 0, 0);
    CTX->gpr[CPUM_RAX] = 0x1234;
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    ck_assert_uint_eq(CTX->gpr[CPUM_RAX], 0x08);
}
END_TEST

/* ---- task switches ------------------------------------------------------------- */

/* A 32-bit TSS at `base` (CS 0x08, the other segments 0x18, EFLAGS 2) and
 * its descriptor (available, DPL 0) at GDT selector `sel`. */
static void tss32(uint16_t sel, uint32_t base, uint32_t eip, uint32_t esp)
{
    for (unsigned off = 0; off < 0x68; off += 4)
        rt_wr32(base + off, 0);
    rt_wr32(base + 0x20, eip);
    rt_wr32(base + 0x24, 2);
    rt_wr32(base + 0x38, esp);
    static const uint16_t sels[6] = {0x18, 0x08, 0x18, 0x18, 0x18, 0x18};
    for (unsigned i = 0; i < 6; i++)
        rt_wr32(base + 0x48 + 4 * i, sels[i]);
    uint64_t d = 0x67 | ((uint64_t)(base & 0xffffff) << 16) | (0x89ull << 40) |
                 ((uint64_t)(base >> 24) << 56);
    rt_wr64(GDT + sel, d);
    if (CTX->gdtr.limit < sel + 7u)
        CTX->gdtr.limit = sel + 7u;
    cpum_mark_dirty(&M.cpu, CPUM_STATE_ALL);
}

static unsigned access_byte(uint16_t sel)
{
    return (unsigned)(rt_rd64(GDT + sel) >> 40) & 0xff;
}

/* The running task's TSS (0x38 at 0x3000) marked busy in the GDT, as LTR
 * would have left it. */
static void task_kernel(void)
{
    prot32_kernel();
    rt_wr64(GDT + 0x38, rt_rd64(GDT + 0x38) | (2ull << 40));
}

START_TEST(task_jmp)
{
    task_kernel();
    tss32(0x58, 0x4000, 0x100100, 0x60000);
    rt_wr32(0x4000 + 0x28, 0x1234); /* the new task's EAX */
    rt_asm(0x100000, "bits 32\n org 0x100000\n mov ebx, 0x5555\n jmp 0x58:0\n");
    rt_asm(0x100100, "bits 32\n org 0x100100\n str eax\n mov [0x9000], eax\n mov [0x9004], ebx\n"
                     " pushfd\n pop ecx\n mov [0x9008], ecx\n mov ecx, cr0\n mov [0x900c], ecx\n"
                     " mov [0x9010], esp\n hlt\n");
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    ck_assert_uint_eq(rt_rd32(0x9000) & 0xffff, 0x58);
    ck_assert_uint_eq(CTX->gpr[CPUM_RAX], 0x58);     /* the new task's registers... */
    ck_assert_uint_eq(rt_rd32(0x9004), 0);            /* ...not the old one's EBX */
    ck_assert_uint_eq(rt_rd32(0x9008) & 0x4000, 0);   /* JMP: no NT */
    ck_assert_uint_eq(rt_rd32(0x900c) & 8, 8);        /* CR0.TS */
    ck_assert_uint_eq(rt_rd32(0x9010), 0x60000);
    /* The old task saved: EIP after the JMP, its EBX; busy bits moved. */
    ck_assert_uint_eq(rt_rd32(0x3000 + 0x20), 0x10000c);
    ck_assert_uint_eq(rt_rd32(0x3000 + 0x34), 0x5555);
    ck_assert_uint_eq(access_byte(0x38), 0x89);
    ck_assert_uint_eq(access_byte(0x58), 0x8b);
    ck_assert_uint_eq(CTX->tr.sel, 0x58);
}
END_TEST

START_TEST(task_call_gate_and_iret)
{
    task_kernel();
    tss32(0x58, 0x4000, 0x100100, 0x60000);
    /* A task gate (type 5) at 0x60 for TSS 0x58. */
    rt_wr64(GDT + 0x60, (0x58ull << 16) | (0x85ull << 40));
    CTX->gdtr.limit = 0x67;
    cpum_mark_dirty(&M.cpu, CPUM_STATE_ALL);
    rt_asm(0x100000, "bits 32\n org 0x100000\n mov ebx, 0x5555\n mov eax, 0x7777\n call 0x60:0\n"
                     " mov [0x9010], eax\n mov [0x9014], ebx\n pushfd\n pop ecx\n mov [0x9018], ecx\n"
                     " str edx\n mov [0x901c], edx\n hlt\n");
    rt_asm(0x100100, "bits 32\n org 0x100100\n mov eax, 0x1111\n str edx\n mov [0x9000], edx\n"
                     " pushfd\n pop ecx\n mov [0x9004], ecx\n movzx esi, word [0x4000]\n"
                     " mov [0x9008], esi\n iretd\n");
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    ck_assert_uint_eq(rt_rd32(0x9000) & 0xffff, 0x58);
    ck_assert_uint_eq(rt_rd32(0x9004) & 0x4000, 0x4000); /* CALL: NT set */
    ck_assert_uint_eq(rt_rd32(0x9008), 0x38);            /* the back link */
    /* IRET went back: the caller's registers as it left them. */
    ck_assert_uint_eq(rt_rd32(0x9010), 0x7777);
    ck_assert_uint_eq(rt_rd32(0x9014), 0x5555);
    ck_assert_uint_eq(rt_rd32(0x9018) & 0x4000, 0);
    ck_assert_uint_eq(rt_rd32(0x901c) & 0xffff, 0x38);
    ck_assert_uint_eq(access_byte(0x38), 0x8b);
    ck_assert_uint_eq(access_byte(0x58), 0x89);
    /* The called task was saved at its IRET's successor, NT clear. */
    ck_assert_uint_eq(rt_rd32(0x4000 + 0x20), 0x100124);
    ck_assert_uint_eq(rt_rd32(0x4000 + 0x24) & 0x4000, 0);
}
END_TEST

START_TEST(task_gate_exception)
{
    task_kernel();
    tss32(0x58, 0x4000, 0x100100, 0x60000);
    /* #GP through an IDT task gate: the error code on the new task's stack. */
    rt_wr64(0x1000 + 8 * 13, (0x58ull << 16) | (0x85ull << 40));
    rt_asm(0x100000, "bits 32\n org 0x100000\n mov ax, 0x1234\n mov ds, ax\n hlt\n");
    rt_asm(0x100100, "bits 32\n org 0x100100\n pop eax\n mov [0x9000], eax\n"
                     " mov eax, [0x3020]\n mov [0x9004], eax\n mov [0x9008], esp\n hlt\n");
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    ck_assert_uint_eq(rt_rd32(0x9000), 0x1234);
    ck_assert_uint_eq(rt_rd32(0x9004), 0x100004); /* the faulting MOV DS */
    ck_assert_uint_eq(rt_rd32(0x9008), 0x60000);
}
END_TEST

START_TEST(task_busy_refused)
{
    task_kernel();
    rt_asm(0x100000, "bits 32\n org 0x100000\n jmp 0x38:0\n");
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    ck_assert_uint_eq(rt_rd32(0x9100), 0x38); /* #GP(TSS): it is busy */
    ck_assert_uint_eq(CTX->tr.sel, 0x38);
}
END_TEST

TCase *tcase_gates(void)
{
    TCase *tc = tcase_create("gates");
    tcase_add_checked_fixture(tc, rt_setup, rt_teardown);
    tcase_add_test(tc, gate32_inner_level_params);
    tcase_add_test(tc, gate32_same_level_and_jmp);
    tcase_add_test(tc, gate32_faults);
    tcase_add_test(tc, gate64_inner_level);
    tcase_add_test(tc, gate64_needs_64bit_target);
    tcase_add_test(tc, task_jmp);
    tcase_add_test(tc, task_call_gate_and_iret);
    tcase_add_test(tc, task_gate_exception);
    tcase_add_test(tc, task_busy_refused);
    return tc;
}
