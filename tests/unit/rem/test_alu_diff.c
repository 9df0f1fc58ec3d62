#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
/*
 * test_alu_diff.c - differential test against the host CPU: each snippet
 * (one instruction over RAX, RBX, RCX, RDX, RSI, R8 and one memory qword,
 * with random inputs and random arithmetic flags) runs natively on this
 * x86-64 host and in rem in 64-bit mode from the same state; registers,
 * memory and the flags the SDM defines for the instruction must agree.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "rem_test.h"

#define ALL 0x8d5u
#define NOAF 0x8c5u
#define SZPC 0x0c5u
#define SNIPPET_MAX 512 /* bytes of one assembled op (below the hlt at 0x100ff0) */

struct state {
    uint64_t rax, rbx, rcx, rdx, rsi, rflags, r8, mem;
};

struct op {
    const char *text;
    uint32_t flags;   /* defined flags to compare */
    uint64_t cmask;   /* applied to RCX (shift counts) */
    int div;          /* make RDX:RAX / RBX not fault */
};

static const struct op ops[] = {
    {"add rax, rbx", ALL}, {"add eax, ebx", ALL}, {"add ax, bx", ALL}, {"add al, bl", ALL},
    {"adc rax, rbx", ALL}, {"adc ax, bx", ALL}, {"sub rax, rbx", ALL}, {"sub al, bl", ALL},
    {"sbb rax, rbx", ALL}, {"sbb eax, ebx", ALL}, {"cmp rax, rbx", ALL}, {"cmp cl, dl", ALL},
    {"neg rax", ALL}, {"neg bl", ALL}, {"inc rax", ALL}, {"dec ebx", ALL}, {"inc byte [r15+56]", ALL},
    {"and rax, rbx", NOAF}, {"or eax, ebx", NOAF}, {"xor ax, bx", NOAF}, {"test rax, rbx", NOAF},
    {"and al, 0x81", NOAF}, {"add rax, -5", ALL}, {"sub qword [r15+56], rbx", ALL},
    {"adc qword [r15+56], 7", ALL}, {"xor [r15+56], esi", NOAF}, {"not rax", 0},
    {"shl rax, cl", SZPC, 63}, {"shr rax, cl", SZPC, 63}, {"sar rax, cl", SZPC, 63},
    {"shl eax, cl", SZPC, 31}, {"shr ebx, cl", SZPC, 31}, {"sar edx, cl", SZPC, 31},
    {"shl al, cl", SZPC, 7}, {"shr bl, cl", SZPC, 7}, {"sar dl, cl", SZPC, 7},
    {"shl ax, cl", SZPC, 15}, {"sar si, cl", SZPC, 15}, {"shl rax, 1", ALL & ~0x10u},
    {"shr rax, 1", ALL & ~0x10u}, {"sar eax, 1", ALL & ~0x10u},
    {"rol rax, cl", 0x1, 63}, {"ror rax, cl", 0x1, 63}, {"rol al, cl", 0x1, 31},
    {"ror bx, cl", 0x1, 31}, {"rcl rax, cl", 0x1, 63}, {"rcr eax, cl", 0x1, 31},
    {"rcl bl, cl", 0x1, 31}, {"rcr dx, cl", 0x1, 31}, {"rol rax, 1", 0x801}, {"rcr rax, 1", 0x801},
    {"shld rax, rbx, cl", SZPC, 63}, {"shrd rax, rbx, cl", SZPC, 63}, {"shld eax, ebx, cl", SZPC, 31},
    {"shrd eax, ebx, 5", SZPC},
    {"mul rbx", 0x801}, {"mul ebx", 0x801}, {"mul bl", 0x801}, {"imul rbx", 0x801},
    {"imul ecx", 0x801}, {"imul rax, rbx", 0x801}, {"imul eax, ebx, 1234", 0x801}, {"imul bx", 0x801},
    {"div rbx", 0, 0, 1}, {"idiv rbx", 0, 0, 2}, {"div ebx", 0, 0, 1},
    {"bt rax, rbx", 0x1}, {"bts rax, rcx", 0x1, 63}, {"btr eax, 5", 0x1}, {"btc rax, rcx", 0x1, 63},
    {"bts qword [r15+56], rcx", 0x1, 63}, {"bsf rax, rbx", 0x40}, {"bsr rax, rbx", 0x40},
    {"seto al", 0}, {"setb al", 0}, {"setz al", 0}, {"setbe al", 0}, {"sets al", 0}, {"setp al", 0},
    {"setl al", 0}, {"setle al", 0}, {"setnle al", 0}, {"setnb bl", 0},
    {"cmovb rax, rbx", 0}, {"cmovle eax, ebx", 0}, {"cmovns rax, rbx", 0}, {"cmovp eax, [r15+56]", 0},
    {"movsx rax, bl", 0}, {"movzx eax, bx", 0}, {"movsxd rax, ebx", 0}, {"cbw", 0}, {"cwde", 0},
    {"cdqe", 0}, {"cqo", 0}, {"cwd", 0}, {"bswap rax", 0}, {"bswap ebx", 0}, {"xchg rax, rbx", 0},
    {"xchg [r15+56], ecx", 0}, {"lea rax, [rbx+rcx*4-8]", 0}, {"lea eax, [rbx+rsi]", 0},
    {"xadd rax, rbx", ALL}, {"cmpxchg rbx, rcx", ALL}, {"cmpxchg [r15+56], rsi", ALL},
    {"lahf", 0}, {"sahf", ALL & ~0x800u}, {"cmc", ALL}, {"stc", ALL}, {"clc", ALL},
    {"movsx eax, byte [r15+56]", 0}, {"and ah, bh", NOAF}, {"add ch, al", ALL},
};

static const char *tramp =
    "bits 64\n"
    " push rbx\n push rbp\n push r12\n push r15\n mov r15, rdi\n"
    " mov rax, [r15]\n mov rbx, [r15+8]\n mov rcx, [r15+16]\n mov rdx, [r15+24]\n"
    " mov rsi, [r15+32]\n mov r8, [r15+48]\n push qword [r15+40]\n popfq\n"
    " %s\n"
    " pushfq\n pop qword [r15+40]\n mov [r15], rax\n mov [r15+8], rbx\n mov [r15+16], rcx\n"
    " mov [r15+24], rdx\n mov [r15+32], rsi\n mov [r15+48], r8\n"
    " pop r15\n pop r12\n pop rbp\n pop rbx\n ret\n";

static uint64_t rnd(void)
{
    static uint64_t x = 0x9e3779b97f4a7c15ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
}

static uint64_t pick(void)
{
    /* Mix of small, boundary and random values. */
    static const uint64_t special[] = { 0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
                                        0x7fffffff, 0x80000000u, 0xffffffffu,
                                        0x7fffffffffffffffull, 0x8000000000000000ull, ~0ull };
    uint64_t r = rnd();
    if ((r & 3) == 0)
        return special[(r >> 8) % (sizeof(special) / sizeof(special[0]))];
    if ((r & 3) == 1)
        return (r >> 16) & 0xff;
    return rnd();
}

START_TEST(alu_vs_host)
{
    uint8_t *native = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(native, MAP_FAILED);
    unsigned runs = 0, mismatches = 0;
    const size_t nops = sizeof(ops) / sizeof(ops[0]);
    const char *texts[sizeof(ops) / sizeof(ops[0])];
    for (size_t i = 0; i < nops; i++)
        texts[i] = ops[i].text;
    uint8_t *code = rt_asm_batch(tramp, texts, nops, SNIPPET_MAX);
    for (size_t i = 0; i < nops; i++) {
        const struct op *o = &ops[i];
        memcpy(native, code + i * SNIPPET_MAX, SNIPPET_MAX);
        ck_assert_int_eq(pgm_phys_write(M.pgm, 0x100000, native, SNIPPET_MAX), CAP_OK);
        for (unsigned k = 0; k < 200; k++) {
            struct state in = { pick(), pick(), pick(), pick(), pick(), 0, pick(), pick() };
            in.rflags = 2 | (rnd() & ALL);
            if (o->cmask)
                in.rcx &= o->cmask;
            if (o->div) {
                if (!in.rbx)
                    in.rbx = 3;
                in.rdx = 0;
                if (o->div == 2) {
                    in.rax &= 0x7fffffffffffffffull;
                    if (in.rbx == ~0ull)
                        in.rbx = 7;
                }
                if (!strcmp(o->text, "div ebx") && !(in.rbx & 0xffffffff))
                    in.rbx |= 1;
            }
            struct state hw = in, em = in;
            ((void (*)(struct state *))(void *)native)(&hw);

            rt_long64(0x100000);
            ck_assert_int_eq(pgm_phys_write(M.pgm, 0x200000, &em, sizeof(em)), CAP_OK);
            rt_wr64(0x100ff0, 0xf4); /* hlt */
            CTX->gpr[CPUM_RSP] = 0x80000 - 8;
            rt_wr64(0x80000 - 8, 0x100ff0);
            CTX->gpr[CPUM_RDI] = 0x200000;
            ck_assert_int_eq(rt_run(), VMM_EXIT_HLT);
            pgm_phys_read(M.pgm, 0x200000, &em, sizeof(em));
            runs++;
            uint64_t fm = o->flags;
            bool same = hw.rax == em.rax && hw.rbx == em.rbx && hw.rcx == em.rcx &&
                        hw.rdx == em.rdx && hw.rsi == em.rsi && hw.r8 == em.r8 &&
                        hw.mem == em.mem && ((hw.rflags ^ em.rflags) & fm) == 0;
            if (!same) {
                if (mismatches++ < 12)
                    fprintf(stderr,
                            "MISMATCH %-26s in rax=%llx rbx=%llx rcx=%llx rdx=%llx fl=%llx mem=%llx\n"
                            "   hw rax=%llx rbx=%llx rcx=%llx rdx=%llx fl=%llx mem=%llx\n"
                            "  rem rax=%llx rbx=%llx rcx=%llx rdx=%llx fl=%llx mem=%llx\n",
                            o->text, (unsigned long long)in.rax, (unsigned long long)in.rbx,
                            (unsigned long long)in.rcx, (unsigned long long)in.rdx,
                            (unsigned long long)in.rflags, (unsigned long long)in.mem,
                            (unsigned long long)hw.rax, (unsigned long long)hw.rbx,
                            (unsigned long long)hw.rcx, (unsigned long long)hw.rdx,
                            (unsigned long long)hw.rflags, (unsigned long long)hw.mem,
                            (unsigned long long)em.rax, (unsigned long long)em.rbx,
                            (unsigned long long)em.rcx, (unsigned long long)em.rdx,
                            (unsigned long long)em.rflags, (unsigned long long)em.mem);
            }
        }
    }
    fprintf(stderr, "rem alu differential: %u runs of %zu instruction forms, %u mismatches\n", runs,
            nops, mismatches);
    free(code);
    munmap(native, 4096);
    ck_assert_uint_eq(mismatches, 0);
}
END_TEST

TCase *tcase_alu_diff(void)
{
    TCase *tc = tcase_create("alu_diff");
    tcase_add_checked_fixture(tc, rt_setup_host, rt_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, alu_vs_host);
    return tc;
}
