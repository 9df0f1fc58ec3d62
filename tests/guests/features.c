/*
 * features.c - the optional features a profile advertises work (64-bit):
 * RDTSCP and RDPID with IA32_TSC_AUX (0xc0000103; bits 63:32 reserved);
 * UMIP (CR4.11: SGDT/SIDT/SLDT/STR/SMSW at CPL3 -> #GP(0), fine at CPL0);
 * SMEP (CR4.20: a CPL0 fetch from a user page -> #PF P|I/D, CR2); SMAP
 * (CR4.21: CPL0 data accesses to a user page -> #PF with EFLAGS.AC clear,
 * allowed with it set - STAC/CLAC or POPF - and STAC/CLAC #UD at CPL3).
 * A feature CPUID does not show must #UD / #GP instead (a host profile on
 * a host without it); the transcript says which. Before this payload, rem
 * advertised none of them and raised #UD for RDTSCP.
 */
#include "guest.h"

const char guest_name[] = "features";

#define MSR_TSC_AUX 0xc0000103u
#define CR4_UMIP (1ul << 11)
#define CR4_SMEP (1ul << 20)
#define CR4_SMAP (1ul << 21)
#define RFLAGS_AC (1ul << 18)

/* The .user page (2 MiB at 4 MiB, made a user page below). */
__asm__(".pushsection .user, \"ax\"\n"
        "u_ret: ret\n"
        "u_sgdt: sgdt u_buf(%rip)\n ud2\n"
        "u_sidt: sidt u_buf(%rip)\n ud2\n"
        "u_sldt: sldt %eax\n ud2\n"
        "u_str: str %eax\n ud2\n"
        "u_smsw: smsw %eax\n ud2\n"
        "u_stac: stac\n ud2\n"
        "u_clac: clac\n ud2\n"
        "u_rdtscp: rdtscp\n ud2\n"
        ".balign 16\n"
        "u_buf: .fill 16, 1, 0\n"
        "u_data: .quad 0x5a5a\n"
        ".balign 16\n"
        "u_stack: .fill 1024, 1, 0\n"
        "u_stack_top:\n"
        ".popsection");
extern const char u_ret[], u_sgdt[], u_sidt[], u_sldt[], u_str[], u_smsw[], u_stac[], u_clac[],
    u_rdtscp[], u_stack_top[];
extern volatile uint64_t u_data;

static void set_cr4(void *val)
{
    write_cr4((ureg)val);
}

static int has(uint32_t leaf, unsigned reg, unsigned bit)
{
    uint32_t r[4];
    cpuid(leaf, 0, r);
    return (r[reg] >> bit) & 1;
}

static void expect_user(const char *name, const char *ip, int vector, ureg error)
{
    struct trap_info ti;
    int v = user_run((ureg)ip, (ureg)u_stack_top, &ti);
    if (v != vector || ti.ip != (ureg)ip || ti.cpl != 3 || (vector == 13 && ti.error != error))
        guest_fail("%s at CPL3: vector %d error 0x%lx at 0x%lx; expected %d (0x%lx) at 0x%lx",
                   name, v, (unsigned long)ti.error, (unsigned long)ti.ip, vector,
                   (unsigned long)error, (unsigned long)(ureg)ip);
}

/* ---- RDTSCP, RDPID, IA32_TSC_AUX ------------------------------------------ */

static void rdtscp_fn(void *out)
{
    uint32_t lo, hi, aux;
    __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
    ((uint64_t *)out)[0] = ((uint64_t)hi << 32) | lo;
    ((uint64_t *)out)[1] = aux;
}

static void rdpid_fn(void *out)
{
    uint64_t r = ~0ull;
    __asm__ volatile("rdpid %0" : "=r"(r));
    *(uint64_t *)out = r;
}

static void wrmsr_fn(void *arg)
{
    const uint64_t *a = arg;
    wrmsr((uint32_t)a[0], a[1]);
}

static void tsc_aux(void)
{
    struct trap_info ti;
    int rdtscp = has(0x80000001u, 3, 27), rdpid = has(7, 2, 22);
    uint64_t out[2];
    if (!rdtscp) {
        CHECK_EQ(trap_run(rdtscp_fn, out, &ti), 6);
        gprintf("note: no RDTSCP in CPUID (this profile): it raises #UD\n");
    }
    if (!rdpid) {
        CHECK_EQ(trap_run(rdpid_fn, out, &ti), 6);
        gprintf("note: no RDPID in CPUID (this profile): it raises #UD\n");
    }
    if (!rdtscp && !rdpid)
        return;
    wrmsr(MSR_TSC_AUX, 0x12345678u);
    CHECK_EQ(rdmsr(MSR_TSC_AUX), 0x12345678u);
    uint64_t bad[2] = {MSR_TSC_AUX, 1ull << 32};
    if (trap_run(wrmsr_fn, bad, &ti) != 13)
        guest_fail("WRMSR TSC_AUX with bit 32 set did not raise #GP");
    CHECK_EQ(rdmsr(MSR_TSC_AUX), 0x12345678u);
    if (rdtscp) {
        uint64_t t0 = rdtsc();
        CHECK_EQ(trap_run(rdtscp_fn, out, &ti), -1);
        uint64_t t1 = rdtsc();
        CHECK_EQ(out[1], 0x12345678u);
        CHECK(out[0] >= t0 && out[0] <= t1);
        expect_user("rdtscp (CR4.TSD clear)", u_rdtscp + 3, 6, 0); /* runs, then ud2 */
        write_cr4(read_cr4() | 4); /* TSD */
        expect_user("rdtscp with CR4.TSD", u_rdtscp, 13, 0);
        write_cr4(read_cr4() & ~4ul);
        gprintf("ok RDTSCP: TSC between two RDTSCs, ECX = IA32_TSC_AUX; #GP(0) at CPL3 with CR4.TSD\n");
    }
    if (rdpid) {
        CHECK_EQ(trap_run(rdpid_fn, out, &ti), -1);
        CHECK_EQ(out[0], 0x12345678u);
        gprintf("ok RDPID reads IA32_TSC_AUX (zero-extended)\n");
    }
    wrmsr(MSR_TSC_AUX, 0);
}

/* ---- UMIP ------------------------------------------------------------------- */

static void umip(void)
{
    struct trap_info ti;
    static const struct {
        const char *name, *ip;
        unsigned len;
    } insn[] = {
        {"sgdt", u_sgdt, 7}, {"sidt", u_sidt, 7}, {"sldt", u_sldt, 3}, {"str", u_str, 3},
        {"smsw", u_smsw, 3},
    };
    /* Without UMIP they run at CPL3 (the ud2 after each brings control back). */
    for (unsigned i = 0; i < 5; i++)
        expect_user(insn[i].name, insn[i].ip + insn[i].len, 6, 0);
    if (!has(7, 2, 2)) {
        if (trap_run(set_cr4, (void *)(read_cr4() | CR4_UMIP), &ti) != 13)
            guest_fail("CR4.UMIP set without UMIP in CPUID");
        gprintf("note: no UMIP in CPUID (this profile): CR4.UMIP raises #GP\n");
        return;
    }
    write_cr4(read_cr4() | CR4_UMIP);
    for (unsigned i = 0; i < 5; i++)
        expect_user(insn[i].name, insn[i].ip, 13, 0);
    /* CPL0 is not affected. */
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) g;
    __asm__ volatile("sgdt %0" : "=m"(g));
    CHECK_EQ(g.base, (ureg)gdt);
    uint16_t tr;
    __asm__ volatile("str %0" : "=r"(tr));
    CHECK_EQ(tr, SEL_TSS);
    write_cr4(read_cr4() & ~CR4_UMIP);
    gprintf("ok UMIP: SGDT/SIDT/SLDT/STR/SMSW #GP(0) at CPL3, fine at CPL0 and without it\n");
}

/* ---- SMEP, SMAP ----------------------------------------------------------- */

static void call_fn(void *fn)
{
    ((void (*)(void))fn)();
}

static void read_fn(void *p)
{
    (void)*(volatile uint64_t *)p;
}

static void write_fn(void *p)
{
    *(volatile uint64_t *)p = 0x77;
}

static void read_stac_fn(void *p)
{
    __asm__ volatile("stac" ::: "memory");
    uint64_t x = *(volatile uint64_t *)p;
    __asm__ volatile("clac" ::: "memory");
    *(volatile uint64_t *)p = x + 1; /* AC clear again: faults */
}

static void read_popf_ac_fn(void *p)
{
    __asm__ volatile("pushf; orl $0x40000, (%%rsp); popf" ::: "memory", "cc");
    (void)*(volatile uint64_t *)p;
    __asm__ volatile("pushf; andl $~0x40000, (%%rsp); popf" ::: "memory", "cc");
}

static void expect_pf(const char *what, void (*fn)(void *), void *arg, ureg cr2, ureg err)
{
    struct trap_info ti;
    int v = trap_run(fn, arg, &ti);
    if (v != 14 || ti.cr2 != cr2 || ti.error != err)
        guest_fail("%s: vector %d CR2 0x%lx error 0x%lx; expected #PF CR2 0x%lx error 0x%lx",
                   what, v, (unsigned long)ti.cr2, (unsigned long)ti.error, (unsigned long)cr2,
                   (unsigned long)err);
}

static void smep_smap(void)
{
    struct trap_info ti;
    /* Without them CPL0 may run and touch user pages. */
    CHECK_EQ(trap_run(call_fn, (void *)u_ret, &ti), -1);
    CHECK_EQ(u_data, 0x5a5a);
    if (has(7, 1, 7)) {
        write_cr4(read_cr4() | CR4_SMEP);
        expect_pf("SMEP: CPL0 call into a user page", call_fn, (void *)u_ret, (ureg)u_ret,
                  PF_P | PF_I);
        CHECK_EQ(u_data, 0x5a5a); /* data is not SMEP's business */
        write_cr4(read_cr4() & ~CR4_SMEP);
        gprintf("ok SMEP: a CPL0 fetch from a user page is #PF P|I/D with CR2\n");
    } else {
        CHECK_EQ(trap_run(set_cr4, (void *)(read_cr4() | CR4_SMEP), &ti), 13);
        gprintf("note: no SMEP in CPUID (this profile): CR4.SMEP raises #GP\n");
    }
    if (!has(7, 1, 20)) {
        CHECK_EQ(trap_run(set_cr4, (void *)(read_cr4() | CR4_SMAP), &ti), 13);
        expect_user("stac without SMAP", u_stac, 6, 0);
        gprintf("note: no SMAP in CPUID (this profile): CR4.SMAP raises #GP, STAC #UD\n");
        return;
    }
    write_cr4(read_cr4() | CR4_SMAP);
    CHECK_EQ(read_flags() & RFLAGS_AC, 0);
    expect_pf("SMAP: CPL0 read of a user page", read_fn, (void *)&u_data, (ureg)&u_data, PF_P);
    expect_pf("SMAP: CPL0 write to a user page", write_fn, (void *)&u_data, (ureg)&u_data,
              PF_P | PF_W);
    expect_pf("SMAP: STAC lets the read through, CLAC stops the write", read_stac_fn,
              (void *)&u_data, (ureg)&u_data, PF_P | PF_W);
    CHECK_EQ(read_flags() & RFLAGS_AC, 0);
    CHECK_EQ(trap_run(read_popf_ac_fn, (void *)&u_data, &ti), -1);
    CHECK_EQ(trap_run(call_fn, (void *)u_ret, &ti), -1); /* fetches are SMEP's, not SMAP's */
    expect_user("stac at CPL3", u_stac, 6, 0);
    expect_user("clac at CPL3", u_clac, 6, 0);
    write_cr4(read_cr4() & ~CR4_SMAP);
    CHECK_EQ(u_data, 0x5a5a); /* no write went through */
    write_fn((void *)&u_data);
    CHECK_EQ(u_data, 0x77);
    gprintf("ok SMAP: CPL0 data accesses to a user page #PF unless EFLAGS.AC (STAC, POPF); "
            "STAC/CLAC #UD at CPL3\n");
}

void guest_main(void)
{
    volatile uint64_t *pml4 = pg4_root();
    volatile uint64_t *pdpt = (volatile uint64_t *)(ureg)(pml4[0] & 0xffffffffff000ull);
    volatile uint64_t *pd = (volatile uint64_t *)(ureg)(pdpt[0] & 0xffffffffff000ull);
    CHECK_EQ((ureg)u_ret >> 21, 2);
    pd[2] |= PTE_U;
    write_cr3(read_cr3());
    int got[5] = {has(0x80000001u, 3, 27), has(7, 2, 22), has(7, 2, 2), has(7, 1, 7),
                  has(7, 1, 20)};
    gprintf("CPUID: RDTSCP %d RDPID %d UMIP %d SMEP %d SMAP %d\n", got[0], got[1], got[2], got[3],
            got[4]);
    /* The named profiles are real CPUs: what they must show. The host
     * profile shows what the host has. */
    char brand[49] = {0};
    for (unsigned i = 0; i < 3; i++)
        cpuid(0x80000002u + i, 0, (uint32_t *)(brand + 16 * i));
    static const struct {
        const char *brand;
        int want[5];
    } prof[] = {
        {"AMD EPYC 7702 64-Core Processor", {1, 1, 1, 1, 1}},        /* Zen 2 */
        {"Intel(R) Core(TM) i7-6700K CPU @ 4.00GHz", {1, 0, 0, 1, 1}}, /* Skylake */
    };
    for (unsigned p = 0; p < 2; p++)
        if (!memcmp(brand, prof[p].brand, 20))
            for (unsigned i = 0; i < 5; i++)
                if (got[i] != prof[p].want[i])
                    guest_fail("profile '%s': CPUID shows %s %d, that CPU has %d", brand,
                               (const char *[]){"RDTSCP", "RDPID", "UMIP", "SMEP", "SMAP"}[i],
                               got[i], prof[p].want[i]);
    tsc_aux();
    umip();
    smep_smap();
}
