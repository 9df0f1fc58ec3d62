/*
 * test_jit.c - the block translator (vmm/rem/rem_jit.c) against the
 * interpreter: the same guest code run with translation off and with every
 * block translated at its first run (rem_vcpu_set_jit 0) must end in the
 * same state - registers, RFLAGS (pushed after each kind of flag producer),
 * memory, retired instructions - for the inlined forms and conditions (Jcc,
 * SETcc, CMOVcc after every producer: ALU, ADC/SBB, IMUL, read-modify-write
 * memory, INC/DEC, shifts), a fault in the middle of a translated block
 * (RIP, CR2, registers), code that patches itself inside a translated block,
 * budgets that end runs at every point, and chained translations whose
 * target is rewritten by the guest or from outside. And the encoder
 * (rem_x86emit.h) against nasm.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rem/rem_x86emit.h"
#include "rem_test.h"

#define DATA 0x200000u

struct snap {
    uint64_t gpr[16], rip, rflags, insns;
    int reason;
    uint8_t data[4096];
};

static void take(struct snap *s, uint64_t insns0)
{
    memcpy(s->gpr, CTX->gpr, sizeof(s->gpr));
    s->rip = CTX->rip;
    s->rflags = CTX->rflags;
    s->insns = rem_vcpu_insns(M.v) - insns0;
    memcpy(s->data, M.ram + DATA, sizeof(s->data));
}

static void same(const struct snap *a, const struct snap *b, const char *what)
{
    for (unsigned i = 0; i < 16; i++)
        ck_assert_msg(a->gpr[i] == b->gpr[i], "%s: gpr %u: interp %#llx jit %#llx", what, i,
                      (unsigned long long)a->gpr[i], (unsigned long long)b->gpr[i]);
    ck_assert_msg(a->rip == b->rip, "%s: rip %#llx vs %#llx", what, (unsigned long long)a->rip,
                  (unsigned long long)b->rip);
    ck_assert_msg(a->rflags == b->rflags, "%s: rflags %#llx vs %#llx", what,
                  (unsigned long long)a->rflags, (unsigned long long)b->rflags);
    ck_assert_msg(a->insns == b->insns, "%s: insns %llu vs %llu", what,
                  (unsigned long long)a->insns, (unsigned long long)b->insns);
    ck_assert_msg(a->reason == b->reason, "%s: exit %d vs %d", what, a->reason, b->reason);
    ck_assert_msg(!memcmp(a->data, b->data, sizeof(a->data)), "%s: data differs", what);
}

/* The generated program: every producer followed by every condition, and
 * by PUSHF (all six flags), in a loop over pseudo-random operands. */
static const char *const producers[] = {
    "cmp r10, r11", "cmp r10d, r11d", "cmp r10w, r11w", "cmp r10b, r11b", "sub r10d, r11d",
    "add r10, r11", "add r10d, 0x7fffffff", "add r10b, r11b", "and r10d, r11d", "or r10b, r11b",
    "xor r10, r11", "test r10d, r11d", "test r10w, 0x8000", "inc r10d", "dec r10", "inc r10b",
    "dec r10w", "shl r10d, 3", "shr r10, 1", "sar r10d, 31", "shl r10, 63", "sar r10, 7",
    "cmp qword [r14 + 8], r10", "cmp r10d, [r14 + 16]", "test [r14 + 24], r11b",
    "add r10, [r14]", "sub r10w, [r14 + 2]", "cmp sil, dil", "add dil, sil", "xor sil, 0x80",
    "cmp dword [r14 + 32], 0x40000000",
    "adc r10, r11", "sbb r10d, r11d", "adc r10b, 0x85", "sbb r10w, 7", "adc sil, dil",
    "imul r10, r11", "imul r10d, r11d, 0x12345", "imul r10w, [r14 + 2]", "imul r10d, [r14 + 16], -3",
    "add [r14 + 40], r10", "sub dword [r14 + 44], 0x1234", "xor byte [r14 + 48], r11b",
    "or word [r14 + 50], r11w", "and qword [r14 + 56], r11", "inc qword [r14 + 40]",
    "dec dword [r14 + 44]", "inc byte [r14 + 49]", "dec word [r14 + 50]", "neg r10",
    "neg r10b", "neg dword [r14 + 44]", "neg word [r14 + 50]",
};
static const char *const conds[] = { "o", "no", "b", "ae", "e", "ne", "be", "a",
                                     "s", "ns", "p", "np", "l", "ge", "le", "g" };

static char *gen_program(unsigned iters)
{
    size_t cap = 1 << 20, o = 0;
    char *s = malloc(cap);
    ck_assert_ptr_nonnull(s);
#define P(...) (o += (size_t)snprintf(s + o, cap - o, __VA_ARGS__))
    P("bits 64\n org 0x100000\n"
      "%%macro J 1\n j%%1 %%%%t\n rol r9, 1\n jmp %%%%e\n%%%%t: add r9, 7\n%%%%e:\n%%endmacro\n"
      "%%macro F 0\n pushfq\n pop rcx\n xor rbp, rcx\n rol rbp, 3\n%%endmacro\n"
      "%%macro L 0\n mov r10, rax\n mov r11, rbx\n mov rsi, rax\n mov rdi, rbx\n%%endmacro\n"
      "%%macro S 1\n set%%1 r12b\n set%%1 [r14 + 72]\n cmov%%1 r13, r11\n cmov%%1 r13d, [r14 + 8]\n"
      " cmov%%1 r12w, r10w\n xor rbp, r12\n add rbp, r13\n xchg r12, r13\n xchg r12d, ebp\n%%endmacro\n"
      " mov r14, 0x%x\n mov r15d, %u\n mov rax, 0x123456789abcdef1\n mov rbx, 0x0fedcba987654321\n"
      " xor ebp, ebp\n xor r9d, r9d\n"
      "top:\n mov r8, 6364136223846793005\n imul rax, r8\n mov r8, 1442695040888963407\n"
      " add rax, r8\n mov rbx, rax\n ror rbx, 23\n"
      " mov [r14], rax\n mov [r14 + 8], rbx\n mov dword [r14 + 16], eax\n mov [r14 + 24], bl\n"
      " mov [r14 + 32], ebx\n",
      DATA, iters);
    for (unsigned p = 0; p < sizeof(producers) / sizeof(producers[0]); p++) {
        for (unsigned c = 0; c < 16; c++)
            P(" L\n %s\n J %s\n", producers[p], conds[c]);
        for (unsigned c = 0; c < 4; c++) /* 4 of the 16 per producer: the whole fits rt_asm */
            P(" L\n %s\n S %s\n", producers[p], conds[(p + 5 * c) % 16]);
        P(" L\n %s\n F\n", producers[p]);
    }
    /* Moves, extensions, addresses, the stack, calls. */
    P(" movzx r12d, al\n movsx r13, bx\n movsxd rdx, eax\n movzx ecx, word [r14 + 6]\n"
      " movsx edx, byte [r14 + 3]\n lea r12, [r12 + r13*4 - 16]\n lea ecx, [rdx + rcx*8 + 5]\n"
      " not r12\n not r13d\n not word [r14 + 52]\n not byte [r14 + 53]\n"
      " mov r11, 0x123456789abcdef0\n add rbp, r11\n"
      " mov r8, rax\n and r8d, 511\n mov [r14 + r8*4 + 64], r12d\n mov [r14 + r8 + 64], dl\n"
      " mov word [r14 + r8*2 + 96], 0x1234\n add r12, [r14 + r8*4 + 64]\n"
      " mov ecx, [rel top]\n push rax\n push 0x55\n push qword [r14]\n pop rdx\n pop rsi\n pop rdi\n"
      " call sub1\n xor rbp, rdx\n"
      " dec r15d\n jnz top\n hlt\n"
      "sub1: push rbx\n lea rbx, [rax + rax*2]\n cmp rbx, rax\n cmovb rax, rbx\n shr rbx, 3\n"
      " xor rdx, rbx\n pop rbx\n ret\n");
#undef P
    return s;
}

/* Loads the code at 0x100000 and a fixed state, translation `hot`;
 * returns the retired-instruction count to measure from. */
static uint64_t start(const char *src, int hot)
{
    memset(M.ram + DATA, 0, 4096);
    ck_assert_uint_lt(rt_asm(0x100000, src), 65536); /* not cut off */
    rt_long64(0x100000);
    for (unsigned i = 0; i < 16; i++)
        CTX->gpr[i] = 0;
    CTX->gpr[CPUM_RSP] = 0x80000;
    rem_vcpu_set_jit(M.v, hot);
    return rem_vcpu_insns(M.v);
}

/* Runs the code at 0x100000 from a fixed state with translation `hot`;
 * budget 0: one run to HLT, else runs of `budget` instructions until HLT. */
static void run_prog(const char *src, int hot, uint64_t budget, struct snap *out, unsigned nout)
{
    uint64_t insns0 = start(src, hot);
    for (unsigned k = 0; k < nout; k++) {
        if (!budget) {
            out[k].reason = rt_run();
        } else {
            ck_assert_int_eq(rem_vcpu_run(M.v, budget, &M.exit), CAP_OK);
            out[k].reason = M.exit.reason;
        }
        take(&out[k], insns0);
        if (out[k].reason == VMM_EXIT_HLT)
            break;
    }
}

START_TEST(jit_matches_interpreter)
{
    char *src = gen_program(40);
    static struct snap a, b;
    run_prog(src, -1, 0, &a, 1);
    run_prog(src, 0, 0, &b, 1);
    ck_assert_int_eq(a.reason, VMM_EXIT_HLT);
    ck_assert_uint_gt(rem_vcpu_jit_translations(M.v), 100); /* the translator ran */
    same(&a, &b, "whole program");
    /* The default threshold: blocks switch from interpreted to translated mid-run. */
    run_prog(src, 3, 0, &b, 1);
    same(&a, &b, "threshold 3");
    free(src);
}
END_TEST

/* A code buffer that fills again and again (every translation and link
 * dropped, records from before a reset never linked): the same result. */
START_TEST(jit_buffer_full)
{
    char *src = gen_program(6);
    static struct snap a, b;
    run_prog(src, -1, 0, &a, 1);
    setenv("CAPSULE_REM_JIT_BUF_KB", "64", 1);
    run_prog(src, 0, 0, &b, 1); /* the block cache is created anew: with the small buffer */
    uint64_t n = rem_vcpu_jit_translations(M.v);
    unsetenv("CAPSULE_REM_JIT_BUF_KB");
    rem_vcpu_set_jit(M.v, -1); /* the next test's buffer is the default one */
    same(&a, &b, "64 KiB buffer");
    ck_assert_uint_gt(n, 100);
    free(src);
}
END_TEST

START_TEST(jit_budget_exact)
{
    char *src = gen_program(2);
    static const uint64_t budgets[] = { 1, 2, 3, 5, 7, 13, 31, 33, 64, 1000 };
    enum { STEPS = 64 };
    static struct snap a[STEPS], b[STEPS];
    for (unsigned k = 0; k < sizeof(budgets) / sizeof(budgets[0]); k++) {
        memset(a, 0, sizeof(a));
        memset(b, 0, sizeof(b));
        run_prog(src, -1, budgets[k], a, STEPS);
        run_prog(src, 0, budgets[k], b, STEPS);
        for (unsigned i = 0; i < STEPS; i++) {
            char what[64];
            snprintf(what, sizeof(what), "budget %llu step %u", (unsigned long long)budgets[k], i);
            same(&a[i], &b[i], what);
            if (a[i].reason == VMM_EXIT_HLT)
                break;
            ck_assert_int_eq(a[i].reason, VMM_EXIT_INTERRUPTED);
            ck_assert_uint_eq(a[i].insns, budgets[k] * (i + 1)); /* exact per instruction */
        }
    }
    free(src);
}
END_TEST

/* Runs `loop` (from label l, ending in hlt) behind a common start with page
 * 0x5000 not present and a #PF handler that records the error code (r8),
 * CR2 (r9), the faulting RIP (r10) and RDX (r11), maps the page and
 * returns; translation off (jit 0) or at the first run. */
static void run_fault(const char *loop, int jit, struct snap *s)
{
    char src[1024];
    snprintf(src, sizeof(src),
             "bits 64\n org 0x100000\n"
             " mov edx, 0xdead\n mov ecx, 2\n%s"
             " times 0x80-($-$$) nop\n"
             "pf: pop r8\n mov r9, cr2\n mov r10, [rsp]\n mov r11, rdx\n"
             " mov qword [0x13000 + 8 * 5], 0x5007\n invlpg [0x5000]\n iretq\n",
             loop);
    rt_asm(0x100000, src);
    rt_long64(0x100000);
    rt_idt_gate(14, 0x100080, 0, 0);
    rt_wr64(0x13000 + 8 * 5, 0); /* 0x5000 not present */
    rt_wr64(0x5008, 0x40);
    rem_vcpu_set_jit(M.v, jit ? 0 : -1);
    uint64_t insns0 = rem_vcpu_insns(M.v);
    s->reason = rt_run();
    take(s, insns0);
    ck_assert_int_eq(s->reason, VMM_EXIT_HLT);
    ck_assert_uint_eq(CTX->gpr[9], 0x5008);   /* CR2 */
    ck_assert_uint_eq(CTX->gpr[11], 0xdead);  /* RDX not yet written */
}

/* A #PF in the middle of a translated block: RIP of the faulting
 * instruction, CR2, the registers before it committed, after it none. */
START_TEST(jit_fault_mid_block)
{
    struct snap s[2];
    for (int k = 0; k < 2; k++) {
        run_fault("l: mov eax, 1\n mov ebx, 2\n mov rdx, [0x5008]\n add rbx, rdx\n dec ecx\n"
                  " jnz l\n hlt\n", k, &s[k]);
        ck_assert_uint_eq(CTX->gpr[8], 0);                  /* read, not present, CPL0 */
        ck_assert_uint_eq(CTX->gpr[10], 0x100000 + 10 + 10); /* the mov rdx, [0x5008] */
        ck_assert_uint_eq(CTX->gpr[CPUM_RBX], 0x42);
    }
    same(&s[0], &s[1], "fault");
    ck_assert_uint_gt(rem_vcpu_jit_translations(M.v), 0);
}
END_TEST

/* The same with read-modify-write, IMUL and CMOVcc memory forms: the
 * first access of the ADD faults (a write: error code 2). */
START_TEST(jit_fault_rmw)
{
    struct snap s[2];
    for (int k = 0; k < 2; k++) {
        run_fault("l: mov eax, 1\n mov ebx, 2\n add qword [0x5008], rbx\n inc dword [0x500c]\n"
                  " imul edx, [0x5008], 3\n cmovz ecx, [0x5008]\n sub byte [0x5009], 1\n"
                  " dec ecx\n jnz l\n hlt\n", k, &s[k]);
        ck_assert_uint_eq(CTX->gpr[8], 2);                   /* write, not present, CPL0 */
        ck_assert_uint_eq(CTX->gpr[10], 0x100000 + 10 + 10); /* the add */
        s[k].gpr[15] = rt_rd64(0x5008);                      /* the memory the loop changed */
    }
    same(&s[0], &s[1], "fault rmw");
}
END_TEST

/* A store that patches the next instruction of its own (translated) block. */
START_TEST(jit_smc_in_block)
{
    static const char src[] = "bits 64\n org 0x100000\n"
                              " mov ecx, 5\n xor ebx, ebx\n"
                              "l: mov [rel p + 1], cl\n"
                              "p: mov eax, 0\n add ebx, eax\n dec ecx\n jnz l\n hlt\n";
    struct snap s[2];
    for (int k = 0; k < 2; k++) {
        rt_asm(0x100000, src);
        rt_long64(0x100000);
        rem_vcpu_set_jit(M.v, k ? 0 : -1);
        uint64_t insns0 = rem_vcpu_insns(M.v);
        s[k].reason = rt_run();
        take(&s[k], insns0);
        ck_assert_int_eq(s[k].reason, VMM_EXIT_HLT);
        ck_assert_uint_eq(CTX->gpr[CPUM_RBX], 15);
    }
    same(&s[0], &s[1], "smc");
}
END_TEST

/* Chaining: translations linked to the next (CALL into another page, RET
 * back, Jcc within the page) whose targets are then rewritten - by the
 * guest (a store to the page of a linked block) and from outside between
 * runs (a new check epoch) - must run the new code at once, under every
 * budget, as the interpreter does. */
static const char chain_src[] =
    "bits 64\n org 0x100000\n"
    " mov ecx, 40\n xor ebx, ebx\n"
    "l: call far_f\n add ebx, eax\n call near_f\n add ebx, eax\n"
    " cmp ecx, 20\n jne s\n mov byte [rel near_f + 1], 5\n mov byte [rel far_f + 1], 9\n"
    "s: dec ecx\n jnz l\n hlt\n"
    "near_f: mov eax, 1\n ret\n"
    " times 0x1000-($-$$) int3\n"
    "far_f: mov eax, 2\n ret\n";

/* Runs chain_src with runs of `budget`; after run `poke` (if any) rewrites
 * far_f's immediate from outside. */
static unsigned run_chain(int hot, uint64_t budget, unsigned poke, struct snap *out, unsigned nout)
{
    uint64_t insns0 = start(chain_src, hot);
    unsigned k = 0;
    for (; k < nout; k++) {
        ck_assert_int_eq(rem_vcpu_run(M.v, budget, &M.exit), CAP_OK);
        out[k].reason = M.exit.reason;
        take(&out[k], insns0);
        if (out[k].reason == VMM_EXIT_HLT)
            break;
        if (k == poke)
            M.ram[0x101001] = 100;
    }
    return k;
}

START_TEST(jit_chain_invalidated)
{
    static const uint64_t budgets[] = { 3, 7, 16, 61, 1000000 };
    enum { STEPS = 200 };
    static struct snap a[STEPS], b[STEPS];
    for (unsigned k = 0; k < sizeof(budgets) / sizeof(budgets[0]); k++) {
        for (unsigned poke = 0; poke < 2; poke++) {
            unsigned at = poke ? 4 : ~0u;
            memset(a, 0, sizeof(a));
            memset(b, 0, sizeof(b));
            unsigned na = run_chain(-1, budgets[k], at, a, STEPS);
            uint64_t links0 = rem_vcpu_jit_links(M.v);
            unsigned nb = run_chain(0, budgets[k], at, b, STEPS);
            ck_assert_uint_eq(na, nb);
            ck_assert_uint_lt(na, STEPS);
            for (unsigned i = 0; i <= na; i++) {
                char what[64];
                snprintf(what, sizeof(what), "budget %llu poke %u step %u",
                         (unsigned long long)budgets[k], poke, i);
                same(&a[i], &b[i], what);
            }
            if (budgets[k] > 100)
                ck_assert_uint_gt(rem_vcpu_jit_links(M.v), links0); /* it did chain */
        }
    }
}
END_TEST

/* The encoder against nasm, for the register numbers with special encodings. */
START_TEST(emitter_encodings)
{
    uint8_t buf[512], ref[512];
    struct xe e = { buf, buf + sizeof(buf), false };
    xe_mov_load(&e, 8, XR_RAX, xm_mem(XR_R12, 0));
    xe_mov_load(&e, 8, XR_R9, xm_mem(XR_R13, 0));
    xe_mov_load(&e, 4, XR_RSI, xm_mem(XR_RSP, 8));
    xe_mov_store(&e, 1, xm_mem(XR_RBP, 0x88), XR_RSI);
    xe_mov_store(&e, 2, xm_sib(XR_RDX, XR_RSI, 1, 0), XR_RAX);
    xe_load_zx(&e, 1, XR_RDX, xm_reg(XR_RDX));
    xe_load_zx(&e, 1, XR_RAX, xm_reg(XR_RDI));
    xe_load_sx64(&e, 4, XR_R11, xm_sib(XR_RBX, XR_R10, 8, -4));
    xe_load_sx64(&e, 2, XR_RAX, xm_mem(XR_RBP, 0x1000));
    xe_mov_imm(&e, XR_RSI, 0x12345678);
    xe_mov_imm(&e, XR_R8, (uint64_t)-5);
    xe_mov_imm(&e, XR_RAX, 0x123456789abcull);
    xe_mov_store_imm(&e, 2, xm_mem(XR_RBX, 0x40), 0x706);
    xe_mov_store_imm(&e, 8, xm_mem(XR_RBX, 0x48), -1);
    xe_lea(&e, XR_RSI, xm_sib(XR_NONE, XR_RDX, 4, 0x10));
    xe_lea(&e, XR_RAX, xm_mem(XR_R13, -3));
    xe_alu_load(&e, 1, XA_CMP, XR_RSI, xm_mem(XR_RDI, 0));
    xe_alu_load(&e, 8, XA_CMP, XR_RCX, xm_sib(XR_RBX, XR_RDX, 1, 0x4000));
    xe_alu_imm(&e, 8, XA_AND, xm_reg(XR_RCX), -4096);
    xe_alu_imm(&e, 2, XA_CMP, xm_mem(XR_RBX, 0x1c), 0x4006);
    xe_alu_imm(&e, 1, XA_CMP, xm_mem(XR_RBX, 0x30), 0);
    xe_test(&e, 1, xm_reg(XR_RAX), XR_RAX);
    xe_shift_imm(&e, 4, XS_SHL, XR_RDX, 5);
    xe_shift_imm(&e, 8, XS_SAR, XR_R15, 16);
    xe_incdec(&e, 2, true, XR_RAX);
    xe_setcc(&e, XC_B, XR_RSI);
    xe_push(&e, XR_R12);
    xe_pop(&e, XR_RBX);
    xe_imul_load(&e, 4, XR_RAX, xm_reg(XR_RCX));
    xe_imul_load(&e, 2, XR_R10, xm_mem(XR_RBX, 8));
    xe_pushf(&e);
    xe_setcc(&e, XC_B, XR_R8);
    ck_assert(!e.full);
    size_t n = rt_asm_buf("bits 64\n"
                          " mov rax, [r12]\n mov r9, [r13]\n mov esi, [rsp + 8]\n"
                          " mov [rbp + 0x88], sil\n mov [rdx + rsi], ax\n movzx edx, dl\n"
                          " movzx eax, dil\n movsxd r11, dword [rbx + r10*8 - 4]\n"
                          " movsx rax, word [rbp + 0x1000]\n mov esi, 0x12345678\n"
                          " mov r8, -5\n mov rax, 0x123456789abc\n mov word [rbx + 0x40], 0x706\n"
                          " mov qword [rbx + 0x48], -1\n lea rsi, [rdx*4 + 0x10]\n"
                          " lea rax, [r13 - 3]\n cmp sil, [rdi]\n cmp rcx, [rbx + rdx + 0x4000]\n"
                          " and rcx, -4096\n cmp word [rbx + 0x1c], 0x4006\n"
                          " cmp byte [rbx + 0x30], 0\n test al, al\n shl edx, 5\n sar r15, 16\n"
                          " dec ax\n setb sil\n push r12\n pop rbx\n imul eax, ecx\n"
                          " imul r10w, [rbx + 8]\n pushfq\n setb r8b\n",
                          ref, sizeof(ref));
    ck_assert_uint_eq((size_t)(e.p - buf), n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(buf[i] == ref[i], "byte %zu: %02x, nasm %02x", i, buf[i], ref[i]);
    /* A window too small: nothing written past its end, and it says so. */
    struct xe small = { buf, buf + 3, false };
    xe_mov_imm(&small, XR_RAX, 0x123456789abcull);
    ck_assert(small.full);
    ck_assert(small.p <= small.end);
}
END_TEST

TCase *tcase_jit(void)
{
    TCase *tc = tcase_create("jit");
    tcase_add_checked_fixture(tc, rt_setup, rt_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, emitter_encodings);
    tcase_add_test(tc, jit_matches_interpreter);
    tcase_add_test(tc, jit_buffer_full);
    tcase_add_test(tc, jit_budget_exact);
    tcase_add_test(tc, jit_fault_mid_block);
    tcase_add_test(tc, jit_fault_rmw);
    tcase_add_test(tc, jit_smc_in_block);
    tcase_add_test(tc, jit_chain_invalidated);
    return tc;
}
