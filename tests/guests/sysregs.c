/*
 * sysregs.c - system-register loads and MSR writes the architecture allows
 * or refuses (64-bit):
 *   - LGDT/LIDT with a non-canonical base: #GP(0), GDTR/IDTR unchanged; a
 *     canonical upper-half base loads;
 *   - LTR/LLDT of a 16-byte descriptor whose 64-bit base is not canonical:
 *     #GP(selector), TR/LDTR unchanged and the TSS not marked busy;
 *   - MOV CR3 with bits at or above MAXPHYADDR (or bit 63, no PCID): #GP(0);
 *   - WRMSR IA32_MISC_ENABLE (0x1a0): fast strings off and on again (it was
 *     #GP for any change);
 *   - IA32_TSC_ADJUST (0x3b, SDM 17.17.3): a write reads back and moves the
 *     TSC by the difference; a write to IA32_TSC moves TSC_ADJUST by the same
 *     amount.
 */
#include "guest.h"

const char guest_name[] = "sysregs";

#define MSR_TSC 0x10u
#define MSR_TSC_ADJUST 0x3bu
#define MSR_MISC_ENABLE 0x1a0u

struct dtr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

static void lgdt_fn(void *p)
{
    __asm__ volatile("lgdt %0" : : "m"(*(struct dtr *)p));
}

static void lidt_fn(void *p)
{
    __asm__ volatile("lidt %0" : : "m"(*(struct dtr *)p));
}

static void ltr_fn(void *p)
{
    __asm__ volatile("ltr %w0" : : "r"((ureg)p));
}

static void lldt_fn(void *p)
{
    __asm__ volatile("lldt %w0" : : "r"((ureg)p));
}

static void wrmsr_fn(void *p)
{
    const uint64_t *a = p;
    wrmsr((uint32_t)a[0], a[1]);
}

static void expect_gp(const char *what, void (*fn)(void *), void *arg, ureg err)
{
    struct trap_info ti;
    int v = trap_run(fn, arg, &ti);
    if (v != 13 || ti.error != err)
        guest_fail("%s: %s (vector %d) error 0x%lx; expected #GP(0x%lx)", what,
                   v >= 0 ? trap_name((unsigned)v) : "completed", v, (unsigned long)ti.error,
                   (unsigned long)err);
}

static void dtr_loads(void)
{
    struct dtr g0, i0, g1, i1;
    __asm__ volatile("sgdt %0; sidt %1" : "=m"(g0), "=m"(i0));
    struct dtr bad = {.limit = 0xfff, .base = 0x0000800000000000ull};
    expect_gp("LGDT with base 0x0000800000000000", lgdt_fn, &bad, 0);
    expect_gp("LIDT with base 0x0000800000000000", lidt_fn, &bad, 0);
    bad.base = 0xfff0000000001000ull;
    expect_gp("LGDT with base 0xfff0000000001000", lgdt_fn, &bad, 0);
    __asm__ volatile("sgdt %0; sidt %1" : "=m"(g1), "=m"(i1));
    CHECK_EQ(g1.base, g0.base);
    CHECK_EQ(g1.limit, g0.limit);
    CHECK_EQ(i1.base, i0.base);
    /* A canonical upper-half base loads (and is put back at once: nothing
     * uses the GDT in between, interrupts are off). */
    struct dtr hi = {.limit = 0x17, .base = 0xffff800000001000ull};
    __asm__ volatile("lgdt %1; sgdt %0; lgdt %2" : "=m"(g1) : "m"(hi), "m"(g0));
    CHECK_EQ(g1.base, hi.base);
    gprintf("ok LGDT/LIDT: a non-canonical base is #GP(0), the registers unchanged\n");
}

static void set_cr3(void *v)
{
    write_cr3((ureg)v);
}

static void cr3_reserved(void)
{
    uint32_t r[4];
    cpuid(0x80000008u, 0, r);
    unsigned maxphy = r[0] & 0xff;
    ureg cr3 = read_cr3();
    expect_gp("MOV CR3 with bit MAXPHYADDR set", set_cr3, (void *)(cr3 | (1ul << maxphy)), 0);
    expect_gp("MOV CR3 with bit 63 set (no PCID)", set_cr3, (void *)(cr3 | (1ul << 63)), 0);
    CHECK_EQ(read_cr3(), cr3);
    gprintf("ok MOV CR3: bits 63:MAXPHYADDR (%u) are #GP(0)\n", maxphy);
}

static void system_loads(void)
{
    unsigned tss_idx = SEL_TSS >> 3, spare = SEL_SPARE >> 3;
    uint64_t lo = gdt[tss_idx] & ~(0xfull << 40);
    uint64_t hi = gdt[tss_idx + 1];
    /* A copy of the runtime's TSS descriptor (available, type 9) with base
     * bits 63:32 = 0x00008000: not canonical. */
    gdt[spare] = lo | (9ull << 40);
    gdt[spare + 1] = 0x00008000u;
    uint16_t tr0;
    __asm__ volatile("str %0" : "=r"(tr0));
    expect_gp("LTR of a TSS with a non-canonical base", ltr_fn, (void *)(ureg)SEL_SPARE, SEL_SPARE);
    uint16_t tr1;
    __asm__ volatile("str %0" : "=r"(tr1));
    CHECK_EQ(tr1, tr0);
    CHECK_EQ((gdt[spare] >> 40) & 0xf, 9); /* not marked busy */
    /* An LDT descriptor (type 2) likewise; with a canonical base it loads. */
    gdt[spare] = (lo & ~(0xfull << 40)) | (2ull << 40);
    expect_gp("LLDT of an LDT with a non-canonical base", lldt_fn, (void *)(ureg)SEL_SPARE,
              SEL_SPARE);
    gdt[spare + 1] = hi;
    struct trap_info ti;
    CHECK_EQ(trap_run(lldt_fn, (void *)(ureg)SEL_SPARE, &ti), -1);
    uint16_t ldt;
    __asm__ volatile("sldt %0" : "=r"(ldt));
    CHECK_EQ(ldt, SEL_SPARE);
    __asm__ volatile("lldt %w0" : : "r"(0));
    gdt[spare] = gdt[spare + 1] = 0;
    gprintf("ok LTR/LLDT: a non-canonical 64-bit base is #GP(selector), nothing changed\n");
}

static void msrs(void)
{
    uint64_t m = rdmsr(MSR_MISC_ENABLE);
    wrmsr(MSR_MISC_ENABLE, m & ~1ull); /* fast strings off */
    CHECK_EQ(rdmsr(MSR_MISC_ENABLE), m & ~1ull);
    wrmsr(MSR_MISC_ENABLE, m | 1);
    CHECK_EQ(rdmsr(MSR_MISC_ENABLE) & 1, 1);
    uint64_t reserved[2] = {MSR_MISC_ENABLE, m | (1ull << 50)};
    expect_gp("MISC_ENABLE with reserved bit 50", wrmsr_fn, reserved, 0);
    gprintf("ok IA32_MISC_ENABLE: fast strings off and on\n");

    uint32_t r[4];
    cpuid(7, 0, r);
    if (!(r[1] & 2)) {
        gprintf("note: no IA32_TSC_ADJUST in CPUID\n");
        return;
    }
    const uint64_t d = 1ull << 40; /* ~18 minutes at 1 GHz */
    uint64_t a0 = rdmsr(MSR_TSC_ADJUST), t0 = rdtsc();
    wrmsr(MSR_TSC_ADJUST, a0 + d);
    uint64_t t1 = rdtsc();
    CHECK_EQ(rdmsr(MSR_TSC_ADJUST), a0 + d);
    if (t1 - t0 < d || t1 - t0 > d + (1ull << 32))
        guest_fail("TSC_ADJUST += 2^40 moved the TSC by 0x%llx", (unsigned long long)(t1 - t0));
    wrmsr(MSR_TSC, rdtsc() - d); /* back: TSC_ADJUST follows */
    uint64_t a1 = rdmsr(MSR_TSC_ADJUST);
    if (a1 - a0 > (1ull << 32) && a0 - a1 > (1ull << 32))
        guest_fail("WRMSR TSC back by 2^40 left TSC_ADJUST at 0x%llx (was 0x%llx)",
                   (unsigned long long)a1, (unsigned long long)a0);
    gprintf("ok IA32_TSC_ADJUST: read back, the TSC moves with it and it with the TSC\n");
}

void guest_main(void)
{
    dtr_loads();
    cr3_reserved();
    system_loads();
    msrs();
}
