/*
 * longmode.c - 64-bit mode: EFER.LMA and the L code segment, the 64-bit
 * registers and arithmetic (r8-r15, 128-bit MUL/DIV, zero- and
 * sign-extension rules), RIP-relative addressing, non-canonical addresses
 * (#GP, not #PF), an unmapped canonical address (#PF with CR2), and a
 * round trip through compatibility mode.
 */
#include "guest.h"

const char guest_name[] = "longmode";

uint32_t lm_compat(void);
uint64_t lm_rip_value(uint64_t *addr);
extern uint64_t lm_rip_data;

static void mode(void)
{
    uint16_t cs;
    __asm__ volatile("mov %%cs,%0" : "=r"(cs));
    CHECK_EQ(cs, SEL_CODE64);
    CHECK(rdmsr(MSR_EFER) & EFER_LMA);
    CHECK(rdmsr(MSR_EFER) & EFER_LME);
    CHECK(read_cr4() & CR4_PAE);
    CHECK(read_cr0() & CR0_PG);
    uint32_t r[4];
    cpuid(0x80000001, 0, r);
    CHECK(r[3] & (1u << 29)); /* LM */
}

static void registers(void)
{
    uint64_t r8, r9, r15, hi, lo;
    __asm__ volatile("mov $0x123456789abcdef0,%%r8\n"
                     "mov %%r8,%%r9; add %%r8,%%r9\n"
                     "mov %%r9,%%r15; shr $36,%%r15\n"
                     "mov %%r8,%0; mov %%r9,%1; mov %%r15,%2"
                     : "=r"(r8), "=r"(r9), "=r"(r15) : : "r8", "r9", "r15");
    CHECK_EQ(r8, 0x123456789abcdef0ull);
    CHECK_EQ(r9, 0x2468acf13579bde0ull);
    CHECK_EQ(r15, 0x2468acfull);
    __asm__ volatile("mov $-1,%%rax; mov $2,%%rcx; mul %%rcx" : "=a"(lo), "=d"(hi) : : "rcx");
    CHECK_EQ(hi, 1);
    CHECK_EQ(lo, 0xfffffffffffffffeull);
    uint64_t q, rem;
    __asm__ volatile("div %4" : "=a"(q), "=d"(rem) : "a"(0x5ull), "d"(0x3ull), "r"(0x10ull));
    CHECK_EQ(q, 0x3000000000000000ull); /* 0x3_0000000000000005 / 16 */
    CHECK_EQ(rem, 5);
    uint64_t v;
    __asm__ volatile("mov $-1,%0; mov $1,%k0" : "=r"(v)); /* 32-bit writes zero-extend */
    CHECK_EQ(v, 1);
    __asm__ volatile("mov $-1,%0; mov $1,%w0" : "=r"(v)); /* 16-bit writes merge */
    CHECK_EQ(v, 0xffffffffffff0001ull);
    __asm__ volatile("mov $-2,%0" : "=r"(v)); /* imm32 sign-extended */
    CHECK_EQ(v, 0xfffffffffffffffeull);
    int32_t s = -5;
    __asm__ volatile("movslq %1,%0" : "=r"(v) : "r"(s));
    CHECK_EQ(v, (uint64_t)-5);
    uint64_t sp0, sp1;
    __asm__ volatile("mov %%rsp,%0; push %%rax; mov %%rsp,%1; pop %%rax" : "=r"(sp0), "=r"(sp1) : : "rax");
    CHECK_EQ(sp0 - sp1, 8);
    uint64_t b;
    __asm__ volatile("bsr %1,%0" : "=r"(b) : "r"(0x8000000000000000ull));
    CHECK_EQ(b, 63);
}

static uint64_t probe_addr;

static void read_probe(void *a)
{
    (void)a;
    *(volatile uint64_t *)(ureg)probe_addr;
}

static void addresses(void)
{
    uint64_t lea;
    CHECK_EQ(lm_rip_value(&lea), 0x0123456789abcdefull);
    CHECK_EQ(lea, (ureg)&lm_rip_data);
    struct trap_info ti;
    static const uint64_t noncanonical[] = {0x0000800000000000ull, 0xffff7fffffffffffull,
                                            0x8000000000000000ull};
    for (unsigned i = 0; i < 3; i++) {
        probe_addr = noncanonical[i];
        CHECK_EQ(trap_run(read_probe, NULL, &ti), 13);
        CHECK_EQ(ti.error, 0);
    }
    /* Canonical but unmapped (PML4 entries 1 and 256 are empty): #PF. */
    probe_addr = 0x0000008000000000ull;
    CHECK_EQ(trap_run(read_probe, NULL, &ti), 14);
    CHECK_EQ(ti.cr2, probe_addr);
    CHECK_EQ(ti.error, 0);
    probe_addr = 0xffff800000000000ull;
    CHECK_EQ(trap_run(read_probe, NULL, &ti), 14);
    CHECK_EQ(ti.cr2, probe_addr);
}

void guest_main(void)
{
    mode();
    gprintf("ok long mode active, CS.L\n");
    registers();
    gprintf("ok 64-bit registers and arithmetic\n");
    addresses();
    gprintf("ok RIP-relative, canonical checks, #PF\n");
    CHECK_EQ(lm_compat(), 42);
    gprintf("ok compatibility mode round trip\n");
}
