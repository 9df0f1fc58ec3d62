/*
 * cpum_cpuid.c - the CPUID policy: one table, shown identically by every
 * engine.
 *
 * The guest sees the CPU of its profile (cpum_profile.c: vendor, signature,
 * brand) with only what the whole VMM really
 * implements - the page walker (PSE, PSE-36, PAE, PGE, PAT, NX, long mode),
 * the instructions the software CPU will decode (CMOV, CX8, CX16, MMX, FXSR,
 * SSE, SSE2, SYSENTER, SYSCALL, LAHF in 64-bit mode, CLFLUSH), the local APIC
 * device, TSC and MSRs, the machine-check architecture with zero banks (MCE,
 * MCA: IA32_MCG_CAP reads CPUM_MCG_CAP, IA32_MCG_STATUS 0, CR4.MCE may be
 * set; no #MC is ever raised - a guest that probes for machine checks, as
 * Linux does at every boot, finds them and nothing to report), and - where
 * the profile has them (CPUM_OPT_*) - SMEP, SMAP (STAC/CLAC), UMIP, RDTSCP
 * (IA32_TSC_AUX) and RDPID. Deliberately
 * absent: VME, DE, MTRR, SSE3 and later, XSAVE/AVX, x2APIC, 1 GiB
 * pages, PCID/INVPCID, PKU, FSGSBASE - each can be added here once every
 * engine and the software CPU implement it (and a hardware engine whose host
 * lacks a bit refuses to run instead of diverging). What is absent is #UD in
 * rem (rem_exec_feat.c), and its CR4 bits #GP (cpum_cr4_allowed).
 *
 * Time: the TSC is TM's (invariant, CPUM_TSC_HZ = TM's default rate) and the
 * APIC timer counts at CPUM_APIC_HZ (the apic device's default timer_hz).
 * The policy says so the way current Intel CPUs do, so a guest needs no
 * calibration against the PIT (which a slow engine makes unreliable):
 *   - leaf 0x15: crystal = CPUM_APIC_HZ, TSC/crystal = CPUM_TSC_HZ /
 *     CPUM_APIC_HZ. Linux takes the TSC rate from it (TSC_KNOWN_FREQ) and,
 *     as Intel's core crystal clocks the APIC timer, its lapic_timer_period
 *     too (no APIC calibration);
 *   - leaf 0x16: base/max/bus MHz;
 *   - 0x80000007 EDX.8 invariant TSC, leaf 7 EBX.1 IA32_TSC_ADJUST (an MSR
 *     that reads 0): with both (and few NUMA nodes) Linux trusts the TSC
 *     without the clocksource watchdog, which would otherwise compare it
 *     with jiffies - ticks a software CPU delivers late - and mark it
 *     unstable.
 *   - leaf 6 EAX.2 ARAT: the APIC timer never stops (it is a TM timer), so
 *     Linux needs no broadcast clockevent and leaves the PIT alone (else it
 *     keeps reprogramming the PIT in one-shot mode as a broadcast device);
 * No hypervisor leaves (0x4000xxxx) are listed: the hypervisor bit only
 * says "virtual"; no paravirtual interface is offered.
 */
#include <string.h>

#include <capsule/errorinfo.h>

#include "cpum_internal.h"
#include "platform/platform_limits.h"

#define BIT(n) (1u << (n))

/* CPUID.1 */
#define F1_EDX                                                                                     \
    (BIT(0) /*FPU*/ | BIT(3) /*PSE*/ | BIT(4) /*TSC*/ | BIT(5) /*MSR*/ | BIT(6) /*PAE*/ |          \
     BIT(7) /*MCE*/ | BIT(8) /*CX8*/ | BIT(9) /*APIC*/ | BIT(11) /*SEP*/ | BIT(13) /*PGE*/ |       \
     BIT(14) /*MCA*/ | BIT(15) /*CMOV*/ | BIT(16) /*PAT*/ | BIT(17) /*PSE36*/ |                    \
     BIT(19) /*CLFSH*/ | BIT(23) /*MMX*/ | BIT(24) /*FXSR*/ | BIT(25) /*SSE*/ | BIT(26) /*SSE2*/)
#define F1_ECX (BIT(13) /*CX16*/ | BIT(31) /*hypervisor*/)
/* CPUID.0x80000001 */
#define E1_EDX (BIT(11) /*SYSCALL*/ | BIT(20) /*NX*/ | BIT(29) /*LM*/)
#define E1_ECX (BIT(0) /*LAHF/SAHF in 64-bit mode*/)
/* CPUID.6 EAX */
#define F6_EAX (BIT(2) /*ARAT: the APIC timer runs in every C-state*/)
/* CPUID.7.0 EBX, ECX; the optional ones only where the profile has them */
#define F7_EBX (BIT(1) /*IA32_TSC_ADJUST*/)
#define F7_EBX_OPT(o) (((o) & CPUM_OPT_SMEP ? BIT(7) : 0) | ((o) & CPUM_OPT_SMAP ? BIT(20) : 0))
#define F7_ECX_OPT(o) (((o) & CPUM_OPT_UMIP ? BIT(2) : 0) | ((o) & CPUM_OPT_RDPID ? BIT(22) : 0))
#define E1_EDX_OPT(o) ((o) & CPUM_OPT_RDTSCP ? BIT(27) : 0)
/* CPUID.0x80000007 EDX */
#define E7_EDX (BIT(8) /*invariant TSC*/)
#define MAX_BASIC 0x16u

/* The leaf 1 EDX bits AMD's 0x80000001 EDX repeats: FPU, VME, DE, PSE, TSC,
 * MSR, PAE, MCE, CX8, APIC, MTRR, PGE, MCA, CMOV, PAT, PSE36, MMX, FXSR. */
#define E1_AMD_SHARED 0x0183f3ffu
#define VIRT_BITS 48

static const struct {
    uint32_t leaf;
    unsigned reg, bit;
} feature_loc[] = {
    [CPUM_FEAT_PSE] = {1, 3, 3},
    [CPUM_FEAT_PAE] = {1, 3, 6},
    [CPUM_FEAT_PGE] = {1, 3, 13},
    [CPUM_FEAT_PAT] = {1, 3, 16},
    [CPUM_FEAT_PSE36] = {1, 3, 17},
    [CPUM_FEAT_SEP] = {1, 3, 11},
    [CPUM_FEAT_APIC] = {1, 3, 9},
    [CPUM_FEAT_FXSR] = {1, 3, 24},
    [CPUM_FEAT_SSE] = {1, 3, 25},
    [CPUM_FEAT_SSE2] = {1, 3, 26},
    [CPUM_FEAT_SYSCALL] = {0x80000001u, 3, 11},
    [CPUM_FEAT_NX] = {0x80000001u, 3, 20},
    [CPUM_FEAT_LM] = {0x80000001u, 3, 29},
    [CPUM_FEAT_PDPE1GB] = {0x80000001u, 3, 26},
    [CPUM_FEAT_X2APIC] = {1, 2, 21},
    [CPUM_FEAT_MTRR] = {1, 3, 12},
    [CPUM_FEAT_RDTSCP] = {0x80000001u, 3, 27},
    [CPUM_FEAT_TSC_ADJUST] = {7, 1, 1},
    [CPUM_FEAT_SMEP] = {7, 1, 7},
    [CPUM_FEAT_SMAP] = {7, 1, 20},
    [CPUM_FEAT_UMIP] = {7, 2, 2},
    [CPUM_FEAT_RDPID] = {7, 2, 22},
    [CPUM_FEAT_TSC] = {1, 3, 4},
    [CPUM_FEAT_MCE] = {1, 3, 7},
    [CPUM_FEAT_MCA] = {1, 3, 14},
};

static void add(struct cpum_policy *p, uint32_t leaf, uint32_t a, uint32_t b, uint32_t c,
                uint32_t d)
{
    struct cpum_cpuid_leaf *l = &p->leaves[p->nleaves++];
    *l = (struct cpum_cpuid_leaf){.leaf = leaf, .eax = a, .ebx = b, .ecx = c, .edx = d};
}

static uint32_t str4(const char *s)
{
    return (uint32_t)(uint8_t)s[0] | (uint32_t)(uint8_t)s[1] << 8 |
           (uint32_t)(uint8_t)s[2] << 16 | (uint32_t)(uint8_t)s[3] << 24;
}

cap_result cpum_policy_init(struct cpum_policy *p, unsigned ncpus, const char *profile)
{
    return cpum_policy_init_opt(p, ncpus, profile, CPUM_OPT_ALL);
}

cap_result cpum_policy_init_opt(struct cpum_policy *p, unsigned ncpus, const char *profile,
                                uint32_t optional)
{
    memset(p, 0, sizeof(*p));
    if (ncpus < 1 || ncpus > 255)
        return cap_error_set(CAP_E_INVALIDARG, VMM_COMPONENT, NULL,
                             "cpum: %u vCPUs asked, 1 to 255 supported", ncpus);
    const struct cpum_profile *prof = cpum_profile_find(profile);
    if (!prof) {
        char names[256];
        return cap_error_set(CAP_E_INVALIDARG, VMM_COMPONENT, NULL,
                             "cpum: unknown CPU profile '%s' (known: %s)", profile,
                             cpum_profile_names(names, sizeof(names)));
    }
    p->ncpus = ncpus;
    p->phys_addr_bits = PLATFORM_GUEST_PHYS_BITS;
    p->virt_addr_bits = VIRT_BITS;
    p->signature = prof->signature;
    memcpy(p->vendor, cpum_vendor_string(prof->vendor), 13);
    memcpy(p->profile, prof->name, sizeof(p->profile));
    p->vendor_id = prof->vendor;
    p->mxcsr_mask = prof->mxcsr_mask;
    p->behaviours = prof->behaviours;
    uint32_t opt = prof->optional & optional;
    /* Leaf 0: max basic leaf 0x16 for the TSC leaves; the cache, topology,
     * power and perfmon leaves between are absent (all zero). */
    add(p, 0, MAX_BASIC, str4(p->vendor), str4(p->vendor + 8), str4(p->vendor + 4));
    /* Leaf 1 EBX: CLFLUSH line 8 qwords, logical CPU count; APIC id per vCPU. */
    add(p, 1, p->signature, (8u << 8) | ((ncpus > 1 ? ncpus : 1) << 16), F1_ECX,
        F1_EDX | (ncpus > 1 ? BIT(28) /*HTT: count valid*/ : 0));
    add(p, 6, F6_EAX, 0, 0, 0);
    add(p, 7, 0 /*max subleaf*/, F7_EBX | F7_EBX_OPT(opt), F7_ECX_OPT(opt), 0);
    p->leaves[p->nleaves - 1].has_subleaves = CAP_TRUE;
    add(p, 0x15, 1, (uint32_t)(CPUM_TSC_HZ / CPUM_APIC_HZ), (uint32_t)CPUM_APIC_HZ, 0);
    add(p, 0x16, (uint32_t)(CPUM_TSC_HZ / 1000000u), (uint32_t)(CPUM_TSC_HZ / 1000000u),
        (uint32_t)(CPUM_APIC_HZ / 1000000u), 0);
    add(p, 0x80000000u, 0x80000008u, 0, 0, 0);
    /* AMD's extended leaf 1 repeats the signature and leaf 1's x87/MMX/
     * FXSR/CMOV/... bits (APM Vol. 3, CPUID Fn8000_0001); Intel's is zero
     * there. No MisAlignSse (cpum_profile.h, CPUM_B_MXCSR_MM). */
    if (prof->vendor == CPUM_VENDOR_AMD)
        add(p, 0x80000001u, p->signature, 0, E1_ECX,
            E1_EDX | E1_EDX_OPT(opt) | (F1_EDX & E1_AMD_SHARED));
    else
        add(p, 0x80000001u, 0, 0, E1_ECX, E1_EDX | E1_EDX_OPT(opt));
    char brand[48] = {0};
    memcpy(brand, prof->brand, strnlen(prof->brand, sizeof(brand)));
    for (unsigned i = 0; i < 3; i++)
        add(p, 0x80000002u + i, str4(brand + 16 * i), str4(brand + 16 * i + 4),
            str4(brand + 16 * i + 8), str4(brand + 16 * i + 12));
    add(p, 0x80000007u, 0, 0, 0, E7_EDX);
    add(p, 0x80000008u, PLATFORM_GUEST_PHYS_BITS | (VIRT_BITS << 8), 0, 0, 0);
    return CAP_OK;
}

static const struct cpum_cpuid_leaf *find(const struct cpum_policy *p, uint32_t leaf,
                                          uint32_t subleaf)
{
    for (unsigned i = 0; i < p->nleaves; i++)
        if (p->leaves[i].leaf == leaf && (!p->leaves[i].has_subleaves || p->leaves[i].subleaf == subleaf))
            return &p->leaves[i];
    return NULL;
}

void cpum_cpuid(const struct cpum_policy *p, unsigned cpu_id, uint32_t leaf, uint32_t subleaf,
                uint32_t out[4])
{
    out[0] = out[1] = out[2] = out[3] = 0;
    const struct cpum_cpuid_leaf *basic = find(p, 0, 0), *ext = find(p, 0x80000000u, 0);
    uint32_t max_basic = basic ? basic->eax : 0, max_ext = ext ? ext->eax : 0;
    /* Above the range's maximum: Intel answers as the highest basic leaf,
     * AMD with zeros. */
    if ((leaf < 0x80000000u && leaf > max_basic) || (leaf >= 0x80000000u && leaf > max_ext)) {
        if (cpum_behaves(p, CPUM_B_CPUID_ZERO_ABOVE_MAX))
            return;
        leaf = max_basic, subleaf = 0;
    }
    const struct cpum_cpuid_leaf *l = find(p, leaf, subleaf);
    if (!l)
        return;
    out[0] = l->eax, out[1] = l->ebx, out[2] = l->ecx, out[3] = l->edx;
    if (leaf == 1)
        out[1] = (out[1] & 0x00ffffffu) | (uint32_t)(cpu_id & 0xff) << 24;
}

void cpum_feature_location(enum cpum_feature f, uint32_t *leaf, unsigned *reg, unsigned *bit)
{
    *leaf = feature_loc[f].leaf;
    *reg = feature_loc[f].reg;
    *bit = feature_loc[f].bit;
}

cap_bool cpum_has_feature(const struct cpum_policy *p, enum cpum_feature f)
{
    uint32_t r[4];
    cpum_cpuid(p, 0, feature_loc[f].leaf, 0, r);
    return (r[feature_loc[f].reg] >> feature_loc[f].bit) & 1;
}

uint64_t cpum_cr4_allowed(const struct cpum_policy *p)
{
    uint64_t ok = CR4_PCE; /* RDPMC at CPL>0: no feature bit */
    if (cpum_has_feature(p, CPUM_FEAT_PSE))
        ok |= CR4_PSE;
    if (cpum_has_feature(p, CPUM_FEAT_PAE))
        ok |= CR4_PAE;
    if (cpum_has_feature(p, CPUM_FEAT_PGE))
        ok |= CR4_PGE;
    if (cpum_has_feature(p, CPUM_FEAT_MCE))
        ok |= CR4_MCE; /* #MC enabled: none is ever raised */
    if (cpum_has_feature(p, CPUM_FEAT_FXSR))
        ok |= CR4_OSFXSR;
    if (cpum_has_feature(p, CPUM_FEAT_SSE))
        ok |= CR4_OSXMMEXCPT;
    if (cpum_has_feature(p, CPUM_FEAT_TSC))
        ok |= CR4_TSD;
    if (cpum_has_feature(p, CPUM_FEAT_UMIP))
        ok |= CR4_UMIP;
    if (cpum_has_feature(p, CPUM_FEAT_SMEP))
        ok |= CR4_SMEP;
    if (cpum_has_feature(p, CPUM_FEAT_SMAP))
        ok |= CR4_SMAP;
    return ok;
}
