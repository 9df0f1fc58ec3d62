/*
 * smc.c - code patched through another mapping while it is cached: the
 * pattern of Linux's text_poke_bp (ftrace turning `call __fentry__` into a
 * 5-byte NOP and back), which writes the int3 first, then the tail, then
 * the first byte, through a temporary alias of the text's physical page
 * (its own page tables) while the code runs through the kernel's mapping.
 *
 * A page holds f (`call bump; add rax, 1; ret`, bump: `inc rdx; ret`) and
 * a loop calling it; the loop runs often enough to be cached and
 * translated (rem's block cache and JIT, the links between translations),
 * then f's call is patched to `nopl 0(rax,rax)` and back, each time
 * checked by running the loop again: every variant must run the new code.
 * Variants: byte stores through a 4 KiB alias; the tail by REP MOVSB; the
 * alias in another address space (CR3 switched for the writes); the int3
 * executed between the steps (#BP at f + 1); a caller in another page, as
 * compiled code calls f.
 */
#include "guest.h"

const char guest_name[] = "smc";

#define ALIAS    0x0000010000000000ull /* PML4 slot 2: the alias in the live tables */
#define ALIAS2   0x0000018000000000ull /* PML4 slot 3: the alias of the other CR3 */
#define F_OFF    0x100u
#define BUMP_OFF 0x180u
#define LOOP_OFF 0x200u
#define RUNS     300u

static uint8_t *code;   /* the code page, run at its identity address */
static uint8_t *alias;  /* where the writes go */
static uint64_t *root2; /* another PML4: the same kernel half, plus ALIAS2 */

static const uint8_t nop5[5] = {0x0f, 0x1f, 0x44, 0x00, 0x00};

static void call5(uint8_t *out, uint32_t from, uint32_t to)
{
    uint32_t rel = to - (from + 5);
    out[0] = 0xe8;
    memcpy(out + 1, &rel, 4);
}

/* Runs the in-page loop n times; returns rax (f's adds) and *dx (bumps). */
static uint64_t run_loop(unsigned n, uint64_t *dx)
{
    uint64_t ax = 0, d = 0, c = n;
    void *fn = code + LOOP_OFF;
    __asm__ volatile("call *%3" : "+a"(ax), "+d"(d), "+c"(c) : "r"(fn) : "memory", "cc");
    *dx = d;
    return ax;
}

/* Calls f from this (compiled) code n times. */
static uint64_t run_direct(unsigned n, uint64_t *dx)
{
    uint64_t ax = 0, d = 0;
    void *fn = code + F_OFF;
    for (unsigned i = 0; i < n; i++)
        __asm__ volatile("call *%2" : "+a"(ax), "+d"(d) : "r"(fn) : "memory", "cc", "rcx");
    *dx = d;
    return ax;
}

enum how { BYTES, REP_MOVSB, OTHER_CR3, INT3_RUN };

static void call_f(void *arg)
{
    (void)arg;
    uint64_t ax = 0, d = 0;
    void *fn = code + F_OFF;
    __asm__ volatile("call *%2" : "+a"(ax), "+d"(d) : "r"(fn) : "memory", "cc", "rcx");
}

/* text_poke_bp's order: int3, the tail, the first byte. */
static void poke(const uint8_t *insn, enum how how)
{
    uint64_t cr3 = read_cr3();
    volatile uint8_t *w = (volatile uint8_t *)(alias + F_OFF);
    if (how == OTHER_CR3) {
        write_cr3((uint64_t)(ureg)root2);
        w = (volatile uint8_t *)(ureg)(ALIAS2 + F_OFF);
    }
    w[0] = 0xcc;
    if (how == INT3_RUN) {
        struct trap_info ti;
        CHECK_EQ(trap_run(call_f, NULL, &ti), 3);
        CHECK_EQ(ti.ip, (ureg)(code + F_OFF + 1));
    }
    if (how == REP_MOVSB) {
        void *d = (void *)(w + 1);
        const void *s = insn + 1;
        unsigned long n = 4;
        __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    } else {
        for (unsigned i = 1; i < 5; i++)
            w[i] = insn[i];
    }
    w[0] = insn[0];
    if (how == OTHER_CR3)
        write_cr3(cr3);
}

/* The whole poke and one call of f in a few instructions, with nothing in
 * between that would start a new check epoch (rem compares cached bytes
 * once per epoch): only the invalidation by the write itself can make the
 * call run the new code. Returns how many times f called bump (0 or 1). */
static uint64_t poke_and_call(const uint8_t *insn)
{
    uint64_t ax = 0, d = 0;
    uint32_t tail;
    memcpy(&tail, insn + 1, 4);
    volatile uint8_t *w = (volatile uint8_t *)(alias + F_OFF);
    void *fn = code + F_OFF;
    __asm__ volatile("movb $0xcc, (%[w])\n\t"
                     "movl %[tail], 1(%[w])\n\t"
                     "movb %[first], (%[w])\n\t"
                     "call *%[fn]"
                     : "+a"(ax), "+d"(d)
                     : [w] "r"(w), [tail] "r"(tail), [first] "q"(insn[0]), [fn] "r"(fn)
                     : "memory", "cc", "rcx");
    CHECK_EQ(ax, 1);
    return d;
}

static void check_runs(const char *what, int has_call)
{
    uint64_t dx, ax = run_loop(RUNS, &dx);
    if (ax != RUNS || dx != (has_call ? RUNS : 0))
        guest_fail("%s: in-page loop ran f %llu times, the call %llu times (want %u, %u)", what,
                   (unsigned long long)ax, (unsigned long long)dx, RUNS, has_call ? RUNS : 0);
    ax = run_direct(RUNS, &dx);
    if (ax != RUNS || dx != (has_call ? RUNS : 0))
        guest_fail("%s: calls from outside ran f %llu times, the call %llu times (want %u, %u)",
                   what, (unsigned long long)ax, (unsigned long long)dx, RUNS, has_call ? RUNS : 0);
}

void guest_main(void)
{
    code = page_alloc();
    uint32_t base = (uint32_t)(ureg)code;
    uint64_t *root = pg4_root();
    pg4_map(root, ALIAS, (ureg)code, PTE_P | PTE_W);
    alias = (uint8_t *)(ureg)ALIAS;
    root2 = page_alloc();
    for (unsigned i = 0; i < 512; i++)
        root2[i] = root[i];
    pg4_map(root2, ALIAS2, (ureg)code, PTE_P | PTE_W);

    /* f: call bump; add rax, 1; ret   bump: inc rdx; ret
     * loop: call f; dec ecx; jnz loop; ret */
    memset(code, 0xcc, 4096);
    call5(code + F_OFF, base + F_OFF, base + BUMP_OFF);
    memcpy(code + F_OFF + 5, "\x48\x83\xc0\x01\xc3", 5);
    memcpy(code + BUMP_OFF, "\x48\xff\xc2\xc3", 4);
    call5(code + LOOP_OFF, base + LOOP_OFF, base + F_OFF);
    memcpy(code + LOOP_OFF + 5, "\xff\xc9\x75\xf7\xc3", 5);
    CHECK_EQ(alias[F_OFF], 0xe8);

    uint8_t call[5];
    call5(call, base + F_OFF, base + BUMP_OFF);
    static const char *const names[] = {"byte stores", "rep movsb", "other CR3", "int3 run"};
    for (unsigned round = 0; round < 3; round++)
        for (unsigned how = BYTES; how <= INT3_RUN; how++) {
            check_runs("before", 1);
            poke(nop5, (enum how)how);
            CHECK_EQ(code[F_OFF], 0x0f);
            check_runs(names[how], 0);
            poke(call, (enum how)how);
            CHECK_EQ(code[F_OFF], 0xe8);
            check_runs(names[how], 1);
        }
    /* Warm f up again (cached, translated), then poke and call at once. */
    for (unsigned round = 0; round < 3; round++) {
        check_runs("before", 1);
        CHECK_EQ(poke_and_call(nop5), 0);
        check_runs("tight", 0);
        CHECK_EQ(poke_and_call(call), 1);
        check_runs("tight", 1);
    }
    gprintf("ok poke and call in one run of instructions\n");
    gprintf("ok call -> nop5 -> call through an alias: byte stores, rep movsb, another CR3, "
            "int3 executed between (3 rounds of %u runs each)\n",
            RUNS);
}
