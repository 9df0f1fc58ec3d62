/*
 * test_basic.c - small programs in each mode: real mode (arithmetic,
 * segments, IVT interrupt + IRET, port I/O exits), 32-bit protected mode
 * (stack, calls, strings), 64-bit mode (REX registers, RIP-relative,
 * CMPXCHG/XADD, SETcc/CMOVcc, MUL/DIV, BSWAP, CPUID).
 */
#include <string.h>

#include "rem_test.h"

START_TEST(real_mode_basics)
{
    rt_asm(0x7c00, "bits 16\n org 0x7c00\n"
                   " mov ax, 0x1234\n mov bx, 0x0011\n add ax, bx\n"   /* 0x1245 */
                   " mov cx, 0x2000\n mov ds, cx\n mov word [0x10], ax\n" /* 0x20010 */
                   " mov dx, [0x10]\n"
                   " hlt\n"
                   "isr: iret\n");
    rt_real(0x7c00);
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    ck_assert_uint_eq(CTX->gpr[CPUM_RAX] & 0xffff, 0x1245);
    ck_assert_uint_eq(CTX->gpr[CPUM_RDX] & 0xffff, 0x1245);
    ck_assert_uint_eq(rt_rd32(0x20010) & 0xffff, 0x1245);
    ck_assert_uint_eq(CTX->seg[CPUM_DS].base, 0x20000);
}
END_TEST

START_TEST(real_mode_int_iret)
{
    rt_asm(0x7c00, "bits 16\n org 0x7c00\n"
                   " xor ax, ax\n mov ds, ax\n"
                   " mov word [0x21*4], isr\n mov word [0x21*4+2], 0\n"
                   " sti\n mov bx, 5\n int 0x21\n add bx, 1\n hlt\n"
                   "isr: pushf\n pop cx\n mov bx, 40\n iret\n");
    rt_real(0x7c00);
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    ck_assert_uint_eq(CTX->gpr[CPUM_RBX] & 0xffff, 41);
    ck_assert_uint_eq(CTX->gpr[CPUM_RCX] & 0x200, 0); /* IF cleared in the handler */
    ck_assert_uint_ne(CTX->rflags & 0x200, 0);         /* and restored by IRET */
    ck_assert_uint_eq(CTX->gpr[CPUM_RSP] & 0xffff, 0x8000);
}
END_TEST

START_TEST(port_io_exits)
{
    rt_asm(0x7c00, "bits 16\n org 0x7c00\n"
                   " mov al, 0x41\n out 0xe9, al\n"
                   " in al, 0x60\n mov bl, al\n"
                   " mov si, msg\n mov cx, 3\n mov dx, 0x3f8\n cld\n rep outsb\n hlt\n"
                   "msg: db 'xyz'\n");
    rt_real(0x7c00);
    ck_assert_int_eq(rt_run(), VMM_EXIT_IO);
    ck_assert_uint_eq(M.exit.io.port, 0xe9);
    ck_assert(M.exit.io.write);
    ck_assert_uint_eq(M.exit.io.data[0], 0x41);
    ck_assert_int_eq(rt_run(), VMM_EXIT_IO);
    ck_assert_uint_eq(M.exit.io.port, 0x60);
    ck_assert(!M.exit.io.write);
    M.exit.io.data[0] = 0x5a; /* EM fills the IN data */
    ck_assert_int_eq(rt_run(), VMM_EXIT_IO);
    ck_assert_uint_eq(CTX->gpr[CPUM_RBX] & 0xff, 0x5a);
    ck_assert_uint_eq(M.exit.io.port, 0x3f8);
    ck_assert_uint_eq(M.exit.io.count, 3);
    ck_assert(memcmp(M.exit.io.data, "xyz", 3) == 0);
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    ck_assert_uint_eq(CTX->gpr[CPUM_RCX] & 0xffff, 0);
}
END_TEST

START_TEST(prot32_calls_strings)
{
    rt_asm(0x100000, "bits 32\n org 0x100000\n"
                     " mov esi, src\n mov edi, 0x200000\n mov ecx, 10\n cld\n rep movsb\n"
                     " push 7\n push 5\n call addf\n add esp, 8\n mov ebx, eax\n"
                     " mov edi, 0x200100\n mov eax, 0xabababab\n mov ecx, 4\n rep stosd\n"
                     " mov esi, 0x200000\n mov edi, src\n mov ecx, 10\n repe cmpsb\n"
                     " setz dl\n hlt\n"
                     "addf: push ebp\n mov ebp, esp\n mov eax, [ebp+8]\n imul eax, [ebp+12]\n leave\n ret\n"
                     "src: db 'hello rem!'\n");
    rt_prot32(0x100000, 0);
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    ck_assert(memcmp(M.ram + 0x200000, "hello rem!", 10) == 0);
    ck_assert_uint_eq(CTX->gpr[CPUM_RBX], 35);
    ck_assert_uint_eq(rt_rd32(0x20010c), 0xabababab);
    ck_assert_uint_eq(CTX->gpr[CPUM_RDX] & 0xff, 1);
    ck_assert_uint_eq(CTX->gpr[CPUM_RSP], 0x80000);
}
END_TEST

START_TEST(long64_misc)
{
    rt_asm(0x100000, "bits 64\n default rel\n org 0x100000\n"
                     " mov r8, 0x123456789abcdef0\n mov [val], r8\n bswap r8\n"
                     " mov rax, [val]\n mov rcx, 99\n lock cmpxchg [val], rcx\n setz r9b\n"
                     " mov rdx, 5\n lock xadd [val], rdx\n"
                     " mov eax, 7\n xor edx, edx\n mov r10, 3\n div r10\n"   /* 2 rem 1 */
                     " mov r11, -1\n mov r12d, 1\n cmp r12, 2\n cmovl r11, r12\n"
                     " mov eax, 0\n cpuid\n mov r13, rbx\n"
                     " hlt\n"
                     "val: dq 0\n");
    rt_long64(0x100000);
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    struct cpum_ctx *c = CTX;
    ck_assert_uint_eq(c->gpr[CPUM_R8], 0xf0debc9a78563412ull);
    ck_assert_uint_eq(c->gpr[CPUM_R9] & 0xff, 1);
    ck_assert_uint_eq(c->gpr[CPUM_R11], 1);
    ck_assert_uint_eq(c->gpr[CPUM_R13], 0x756e6547); /* "Genu" */
}
END_TEST

START_TEST(long64_xadd_div)
{
    rt_asm(0x100000, "bits 64\n default rel\n org 0x100000\n"
                     " mov qword [val], 10\n mov rdx, 5\n lock xadd [val], rdx\n mov r14, rdx\n"
                     " mov eax, 7\n xor edx, edx\n mov r10, 3\n div r10\n"
                     " mov r11, -1\n mov r12d, 1\n cmp r12, 2\n cmovl r11, r12\n"
                     " hlt\n"
                     "val: dq 0\n");
    rt_long64(0x100000);
    ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
    struct cpum_ctx *c = CTX;
    ck_assert_uint_eq(c->gpr[CPUM_R14], 10);
    ck_assert_uint_eq(c->gpr[CPUM_RAX], 2);
    ck_assert_uint_eq(c->gpr[CPUM_RDX], 1);
    ck_assert_uint_eq(c->gpr[CPUM_R11], 1);
}
END_TEST

TCase *tcase_basic(void)
{
    TCase *tc = tcase_create("basic");
    tcase_add_checked_fixture(tc, rt_setup, rt_teardown);
    tcase_add_test(tc, real_mode_basics);
    tcase_add_test(tc, real_mode_int_iret);
    tcase_add_test(tc, port_io_exits);
    tcase_add_test(tc, prot32_calls_strings);
    tcase_add_test(tc, long64_misc);
    tcase_add_test(tc, long64_xadd_div);
    return tc;
}
