/*
 * test_cpum.c - CPUM: the RESET/INIT state against the SDM's table 9-1, the
 * contents of the CPUID policy, and MSR emulation (values, #GP as a value).
 */
#include <cpuid.h>
#include <stdbool.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "capsule/errorinfo.h"
#include "cpum/cpum.h"

static struct cpum_policy policy;
static struct cpum_cpu cpu;

static void setup(void)
{
    ck_assert_int_eq(cpum_policy_init(&policy, 2, "intel-core"), CAP_OK);
    cpum_cpu_init(&cpu, &policy, 0);
}

START_TEST(reset_power_on)
{
    const struct cpum_ctx *c = &cpu.ctx;
    ck_assert_uint_eq(c->rip, 0xfff0);
    ck_assert_uint_eq(c->rflags, 2);
    ck_assert_uint_eq(c->seg[CPUM_CS].sel, 0xf000);
    ck_assert_uint_eq(c->seg[CPUM_CS].base, 0xffff0000u);
    ck_assert_uint_eq(c->seg[CPUM_CS].limit, 0xffff);
    ck_assert_uint_eq(c->seg[CPUM_CS].attr, 0x9b);
    for (unsigned i = 0; i < CPUM_SREG_COUNT; i++) {
        if (i == CPUM_CS)
            continue;
        ck_assert_uint_eq(c->seg[i].sel, 0);
        ck_assert_uint_eq(c->seg[i].base, 0);
        ck_assert_uint_eq(c->seg[i].limit, 0xffff);
        ck_assert_uint_eq(c->seg[i].attr, 0x93);
    }
    ck_assert_uint_eq(c->gpr[CPUM_RDX], policy.signature);
    ck_assert_uint_eq(c->gpr[CPUM_RAX], 0);
    ck_assert_uint_eq(c->cr0, 0x60000010u);
    ck_assert_uint_eq(c->cr3 | c->cr4 | c->cr2, 0);
    ck_assert_uint_eq(c->gdtr.limit, 0xffff);
    ck_assert_uint_eq(c->idtr.base, 0);
    ck_assert_uint_eq(c->ldtr.attr, 0x82);
    ck_assert_uint_eq(c->tr.attr, 0x8b);
    ck_assert_uint_eq(c->dr[6], 0xffff0ff0u);
    ck_assert_uint_eq(c->dr[7], 0x400);
    ck_assert_uint_eq(c->msr.efer, 0);
    ck_assert_uint_eq(c->msr.pat, 0x0007040600070406ull);
    ck_assert_uint_eq(c->msr.apic_base, 0xfee00900u);
    ck_assert_uint_eq(c->fpu.fcw, 0x40);
    ck_assert_uint_eq(c->fpu.mxcsr, 0x1f80);
    ck_assert_uint_eq(sizeof(c->fpu), 512);
    ck_assert_uint_eq(cpu.dirty, CPUM_STATE_ALL);
    ck_assert_uint_eq(cpum_cpl(c), 0);
    /* An AP: APIC base without BSP. */
    struct cpum_cpu ap;
    cpum_cpu_init(&ap, &policy, 1);
    ck_assert_uint_eq(ap.ctx.msr.apic_base, 0xfee00800u);
}
END_TEST

START_TEST(reset_init_keeps_fpu_and_msrs)
{
    cpu.ctx.fpu.xmm[3][0] = 0x5a;
    cpu.ctx.msr.lstar = 0xffffffff81000000ull;
    cpu.ctx.msr.efer = EFER_LME | EFER_LMA;
    cpu.ctx.cr0 = 0x80000011u | CR0_CD;
    cpu.ctx.gpr[CPUM_RBX] = 7;
    cpum_reset(&cpu, CPUM_RESET_INIT);
    ck_assert_uint_eq(cpu.ctx.fpu.xmm[3][0], 0x5a);
    ck_assert_uint_eq(cpu.ctx.msr.lstar, 0xffffffff81000000ull);
    ck_assert_uint_eq(cpu.ctx.msr.efer, 0);
    ck_assert_uint_eq(cpu.ctx.cr0, 0x10 | CR0_CD);
    ck_assert_uint_eq(cpu.ctx.gpr[CPUM_RBX], 0);
    ck_assert_uint_eq(cpu.ctx.rip, 0xfff0);
    cpum_reset(&cpu, CPUM_RESET_POWER_ON);
    ck_assert_uint_eq(cpu.ctx.fpu.xmm[3][0], 0);
    ck_assert_uint_eq(cpu.ctx.msr.lstar, 0);
}
END_TEST

START_TEST(cpuid_vendor_and_signature)
{
    uint32_t r[4];
    char vendor[13] = {0};
    cpum_cpuid(&policy, 0, 0, 0, r);
    ck_assert_uint_ge(r[0], 1);
    memcpy(vendor, &r[1], 4), memcpy(vendor + 4, &r[3], 4), memcpy(vendor + 8, &r[2], 4);
    ck_assert_str_eq(vendor, "GenuineIntel");
    cpum_cpuid(&policy, 1, 1, 0, r);
    ck_assert_uint_eq(r[0], 0x506e3);
    ck_assert_uint_eq(r[1] >> 24, 1); /* APIC id of vCPU 1 */
    ck_assert_uint_eq((r[1] >> 16) & 0xff, 2);
    cpum_cpuid(&policy, 0, 0x80000000u, 0, r);
    ck_assert_uint_eq(r[0], 0x80000008u);
    cpum_cpuid(&policy, 0, 0x80000008u, 0, r);
    ck_assert_uint_eq(r[0] & 0xff, 36);
    ck_assert_uint_eq((r[0] >> 8) & 0xff, 48);
    char brand[49] = {0};
    for (unsigned i = 0; i < 3; i++) {
        cpum_cpuid(&policy, 0, 0x80000002u + i, 0, r);
        memcpy(brand + 16 * i, r, 16);
    }
    ck_assert_str_eq(brand, "Intel(R) Core(TM) i7-6700K CPU @ 4.00GHz");
}
END_TEST

START_TEST(cpuid_exact_feature_set)
{
    uint32_t r[4];
    cpum_cpuid(&policy, 0, 1, 0, r);
    /* FPU PSE TSC MSR PAE MCE CX8 APIC SEP PGE MCA CMOV PAT PSE36 CLFSH MMX FXSR SSE
     * SSE2 HTT */
    ck_assert_uint_eq(r[3], 0x178bebf9u);
    ck_assert_uint_eq(r[2], 0x80002000u); /* CX16, hypervisor */
    cpum_cpuid(&policy, 0, 0x80000001u, 0, r);
    ck_assert_uint_eq(r[3], 0x28100800u); /* SYSCALL NX RDTSCP LM */
    ck_assert_uint_eq(r[2], 1);           /* LAHF/SAHF */
    ck_assert(cpum_has_feature(&policy, CPUM_FEAT_NX));
    ck_assert(cpum_has_feature(&policy, CPUM_FEAT_LM));
    ck_assert(!cpum_has_feature(&policy, CPUM_FEAT_PDPE1GB));
    ck_assert(!cpum_has_feature(&policy, CPUM_FEAT_X2APIC));
    ck_assert(!cpum_has_feature(&policy, CPUM_FEAT_MTRR));
    /* Time base (leaves 0x15/0x16), invariant TSC, TSC_ADJUST. */
    cpum_cpuid(&policy, 0, 0x15, 0, r);
    ck_assert_uint_eq(r[0], 1);
    ck_assert_uint_eq(r[1], CPUM_TSC_HZ / CPUM_APIC_HZ);
    ck_assert_uint_eq(r[2], CPUM_APIC_HZ);
    cpum_cpuid(&policy, 0, 0x16, 0, r);
    ck_assert_uint_eq(r[0], CPUM_TSC_HZ / 1000000);
    cpum_cpuid(&policy, 0, 0x80000007u, 0, r);
    ck_assert_uint_eq(r[3], 1u << 8);
    cpum_cpuid(&policy, 0, 7, 0, r);
    ck_assert_uint_eq(r[1], (1u << 1) | (1u << 7) | (1u << 20)); /* TSC_ADJUST SMEP SMAP */
    ck_assert_uint_eq(r[2], 0); /* Skylake: no UMIP, no RDPID */
    ck_assert(cpum_has_feature(&policy, CPUM_FEAT_RDTSCP) && !cpum_has_feature(&policy, CPUM_FEAT_RDPID));
    /* CR4: what the features allow; not VME, DE, PCIDE, OSXSAVE, UMIP here. */
    ck_assert_uint_eq(cpum_cr4_allowed(&policy), CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE | CR4_PCE |
                                                     CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_TSD |
                                                     CR4_SMEP | CR4_SMAP);
    cpum_cpuid(&policy, 0, 7, 1, r);
    ck_assert_uint_eq(r[0] | r[1] | r[2] | r[3], 0);
    ck_assert(cpum_has_feature(&policy, CPUM_FEAT_TSC_ADJUST));
    /* Out of range: the highest basic leaf; gaps in range: zero. */
    uint32_t hi[4];
    cpum_cpuid(&policy, 0, 0x1234, 0, r);
    cpum_cpuid(&policy, 0, 0x16, 0, hi);
    ck_assert_mem_eq(r, hi, sizeof(r));
    cpum_cpuid(&policy, 0, 0x80000005u, 0, r);
    ck_assert_uint_eq(r[0] | r[1] | r[2] | r[3], 0);
    /* One vCPU: no HTT. */
    struct cpum_policy one;
    ck_assert_int_eq(cpum_policy_init(&one, 1, "intel-core"), CAP_OK);
    cpum_cpuid(&one, 0, 1, 0, r);
    ck_assert_uint_eq(r[3] & (1u << 28), 0);
    ck_assert_int_eq(cpum_policy_init(&one, 0, NULL), CAP_E_INVALIDARG);
    ck_assert_int_eq(cpum_policy_init(&one, 256, NULL), CAP_E_INVALIDARG);
}
END_TEST

START_TEST(msr_read_write)
{
    uint64_t v;
    cpu.dirty = 0;
    ck_assert_int_eq(cpum_msr_write(&cpu, MSR_LSTAR, 0xffffffff81000000ull), CAP_OK);
    ck_assert_int_eq(cpum_msr_read(&cpu, MSR_LSTAR, &v), CAP_OK);
    ck_assert_uint_eq(v, 0xffffffff81000000ull);
    ck_assert_uint_ne(cpu.dirty & CPUM_STATE_MSRS, 0);
    ck_assert_int_eq(cpum_msr_write(&cpu, MSR_IA32_SYSENTER_CS, 0x10), CAP_OK);
    ck_assert_int_eq(cpum_msr_read(&cpu, MSR_IA32_SYSENTER_CS, &v), CAP_OK);
    ck_assert_uint_eq(v, 0x10);
    ck_assert_int_eq(cpum_msr_write(&cpu, MSR_EFER, EFER_SCE | EFER_LME | EFER_NXE), CAP_OK);
    ck_assert_int_eq(cpum_msr_read(&cpu, MSR_EFER, &v), CAP_OK);
    ck_assert_uint_eq(v, EFER_SCE | EFER_LME | EFER_NXE);
    ck_assert_int_eq(cpum_msr_write(&cpu, MSR_FS_BASE, 0x7fff12340000ull), CAP_OK);
    ck_assert_uint_eq(cpu.ctx.seg[CPUM_FS].base, 0x7fff12340000ull);
    ck_assert_int_eq(cpum_msr_write(&cpu, MSR_IA32_PAT, 0x0606060606060606ull), CAP_OK);
    ck_assert_int_eq(cpum_msr_write(&cpu, MSR_IA32_TSC, 12345), CAP_OK);
    ck_assert_int_eq(cpum_msr_read(&cpu, MSR_IA32_TSC, &v), CAP_OK);
    ck_assert_uint_eq(v, 12345);
    ck_assert_int_eq(cpum_msr_write(&cpu, MSR_IA32_APIC_BASE, 0xfec00800u), CAP_OK);
    ck_assert_int_eq(cpum_msr_read(&cpu, MSR_IA32_APIC_BASE, &v), CAP_OK);
    ck_assert_uint_eq(v, 0xfec00900u); /* BSP bit is read-only */
    /* Microcode revision: 0, writes (of 0, before CPUID) accepted. */
    ck_assert_int_eq(cpum_msr_write(&cpu, MSR_IA32_BIOS_SIGN_ID, 0), CAP_OK);
    ck_assert_int_eq(cpum_msr_read(&cpu, MSR_IA32_BIOS_SIGN_ID, &v), CAP_OK);
    ck_assert_uint_eq(v, 0);
    /* TSC_ADJUST: 0 at reset, any value written reads back (the engine moves
     * the TSC by the difference, SDM 17.17.3). */
    ck_assert_int_eq(cpum_msr_read(&cpu, MSR_IA32_TSC_ADJUST, &v), CAP_OK);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(cpum_msr_write(&cpu, MSR_IA32_TSC_ADJUST, 0), CAP_OK);
    ck_assert_int_eq(cpum_msr_write(&cpu, MSR_IA32_TSC_ADJUST, (uint64_t)-5), CAP_OK);
    ck_assert_int_eq(cpum_msr_read(&cpu, MSR_IA32_TSC_ADJUST, &v), CAP_OK);
    ck_assert_uint_eq(v, (uint64_t)-5);
    /* MISC_ENABLE: fast strings, thermal control, EIST, xTPR are read/write;
     * BTS/PEBS unavailable and perfmon available are read-only. */
    ck_assert_int_eq(cpum_msr_read(&cpu, MSR_IA32_MISC_ENABLE, &v), CAP_OK);
    ck_assert_uint_eq(v, 1);
    ck_assert_int_eq(cpum_msr_write(&cpu, MSR_IA32_MISC_ENABLE, 0), CAP_OK);
    ck_assert_int_eq(cpum_msr_read(&cpu, MSR_IA32_MISC_ENABLE, &v), CAP_OK);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(cpum_msr_write(&cpu, MSR_IA32_MISC_ENABLE, 0x810009 | 0x1880), CAP_OK);
    ck_assert_int_eq(cpum_msr_read(&cpu, MSR_IA32_MISC_ENABLE, &v), CAP_OK);
    ck_assert_uint_eq(v, 0x810009);
    /* TSC_AUX (RDTSCP): 32 bits. */
    ck_assert_int_eq(cpum_msr_write(&cpu, MSR_TSC_AUX, 0xfffffffful), CAP_OK);
    ck_assert_int_eq(cpum_msr_read(&cpu, MSR_TSC_AUX, &v), CAP_OK);
    ck_assert_uint_eq(v, 0xffffffffu);
    const uint32_t *list;
    ck_assert_uint_ge(cpum_msr_list(&list), 12);
}
END_TEST

/* Machine checks (issue 11): MCE and MCA in CPUID, so a guest (Linux's
 * mcheck_init_device) finds the architecture, with zero banks behind it:
 * MCG_CAP reads 0 and is read-only, MCG_STATUS reads 0 and takes only 0,
 * no MCG_CTL (MCG_CAP.CTL_P clear) and no bank MSRs. Both vendors. */
START_TEST(machine_check_no_banks)
{
    static const char *const profiles[] = {"intel-core", "amd-epyc"};
    for (unsigned i = 0; i < 2; i++) {
        struct cpum_policy p;
        struct cpum_cpu c;
        uint32_t r[4];
        uint64_t v = 1;
        ck_assert_int_eq(cpum_policy_init(&p, 1, profiles[i]), CAP_OK);
        cpum_cpu_init(&c, &p, 0);
        ck_assert(cpum_has_feature(&p, CPUM_FEAT_MCE) && cpum_has_feature(&p, CPUM_FEAT_MCA));
        cpum_cpuid(&p, 0, 1, 0, r);
        ck_assert_uint_eq(r[3] & ((1u << 7) | (1u << 14)), (1u << 7) | (1u << 14));
        ck_assert_uint_ne(cpum_cr4_allowed(&p) & CR4_MCE, 0);
        ck_assert_int_eq(cpum_msr_read(&c, MSR_IA32_MCG_CAP, &v), CAP_OK);
        ck_assert_uint_eq(v, 0);
        ck_assert_int_eq(cpum_msr_write(&c, MSR_IA32_MCG_CAP, 0), VMM_XCPT_GP);
        v = 1;
        ck_assert_int_eq(cpum_msr_read(&c, MSR_IA32_MCG_STATUS, &v), CAP_OK);
        ck_assert_uint_eq(v, 0);
        ck_assert_int_eq(cpum_msr_write(&c, MSR_IA32_MCG_STATUS, 0), CAP_OK);
        ck_assert_int_eq(cpum_msr_write(&c, MSR_IA32_MCG_STATUS, 4 /* MCIP */), VMM_XCPT_GP);
        ck_assert_int_eq(cpum_msr_read(&c, 0x17b /* MCG_CTL */, &v), VMM_XCPT_GP);
        ck_assert_int_eq(cpum_msr_read(&c, 0x400 /* MC0_CTL */, &v), VMM_XCPT_GP);
        ck_assert_int_eq(cpum_msr_write(&c, 0x401 /* MC0_STATUS */, 0), VMM_XCPT_GP);
    }
}
END_TEST

START_TEST(msr_gp_as_value)
{
    uint64_t v = 1;
    ck_assert_int_eq(cpum_msr_read(&cpu, 0x12345678u, &v), VMM_XCPT_GP);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(cpum_msr_write(&cpu, 0x12345678u, 0), VMM_XCPT_GP);
    ck_assert_int_eq(cpum_msr_read(&cpu, 0x2ff /* MTRRdefType: no MTRR */, &v), VMM_XCPT_GP);
    ck_assert_int_eq(cpum_msr_write(&cpu, MSR_EFER, 1ull << 14), VMM_XCPT_GP); /* reserved */
    ck_assert_int_eq(cpum_msr_write(&cpu, MSR_LSTAR, 0x0000800000000000ull), VMM_XCPT_GP);
    ck_assert_int_eq(cpum_msr_write(&cpu, MSR_KERNEL_GS_BASE, 0x8000000000000000ull), VMM_XCPT_GP);
    ck_assert_int_eq(cpum_msr_write(&cpu, MSR_IA32_PAT, 0x0000000000000002ull), VMM_XCPT_GP);
    ck_assert_int_eq(cpum_msr_write(&cpu, MSR_IA32_APIC_BASE, 0xfee00c00u), VMM_XCPT_GP); /* x2APIC */
    ck_assert_int_eq(cpum_msr_write(&cpu, MSR_IA32_APIC_BASE, 1ull << 40), VMM_XCPT_GP);
    /* MISC_ENABLE: MONITOR FSM, limit CPUID maxval, XD disable and reserved bits. */
    ck_assert_int_eq(cpum_msr_write(&cpu, MSR_IA32_MISC_ENABLE, 1ull << 18), VMM_XCPT_GP);
    ck_assert_int_eq(cpum_msr_write(&cpu, MSR_IA32_MISC_ENABLE, 1ull << 22), VMM_XCPT_GP);
    ck_assert_int_eq(cpum_msr_write(&cpu, MSR_IA32_MISC_ENABLE, 1ull << 34), VMM_XCPT_GP);
    ck_assert_int_eq(cpum_msr_write(&cpu, MSR_IA32_MISC_ENABLE, 1ull << 40), VMM_XCPT_GP);
    ck_assert_int_eq(cpum_msr_write(&cpu, MSR_TSC_AUX, 1ull << 32), VMM_XCPT_GP);
    /* LME cannot change while paging is on. */
    cpu.ctx.cr0 |= CR0_PG | CR0_PE;
    ck_assert_int_eq(cpum_msr_write(&cpu, MSR_EFER, EFER_LME), VMM_XCPT_GP);
    /* LMA is the CPU's: a write cannot set it. */
    cpu.ctx.cr0 = 0x10;
    ck_assert_int_eq(cpum_msr_write(&cpu, MSR_EFER, EFER_LMA | EFER_LME), CAP_OK);
    ck_assert_uint_eq(cpu.ctx.msr.efer, EFER_LME);
    ck_assert_str_eq(vmm_result_name(VMM_XCPT_GP), "VMM_XCPT_GP");
}
END_TEST

/* The profile table: host first, one per vendor, names unique, unknown
 * names refused with the list. */
START_TEST(profiles_table)
{
    ck_assert_uint_ge(cpum_profile_count(), 3);
    ck_assert_str_eq(cpum_profile_at(0)->name, "host");
    ck_assert_ptr_eq(cpum_profile_find(NULL), cpum_profile_at(0));
    ck_assert_ptr_eq(cpum_profile_find(""), cpum_profile_at(0));
    ck_assert_ptr_null(cpum_profile_at(cpum_profile_count()));
    bool intel = false, amd = false;
    for (unsigned i = 0; i < cpum_profile_count(); i++) {
        const struct cpum_profile *p = cpum_profile_at(i);
        ck_assert_ptr_eq(cpum_profile_find(p->name), p);
        ck_assert(p->brand[0] && p->description[0] && p->signature);
        ck_assert_uint_eq(p->mxcsr_mask & 0xffff, 0xffff);
        ck_assert_uint_eq(!!(p->mxcsr_mask & 0x20000), !!(p->behaviours & CPUM_B_MXCSR_MM));
        if (i) {
            intel |= p->vendor == CPUM_VENDOR_INTEL;
            amd |= p->vendor == CPUM_VENDOR_AMD;
        }
    }
    ck_assert(intel && amd);
    ck_assert_ptr_null(cpum_profile_find("pentium"));
    struct cpum_policy p;
    ck_assert_int_eq(cpum_policy_init(&p, 1, "pentium"), CAP_E_INVALIDARG);
    char names[128];
    ck_assert_str_eq(cpum_profile_names(names, sizeof(names)), "host, intel-core, amd-epyc");
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "known: host, intel-core, amd-epyc"));
}
END_TEST

/* The host profile is the host's vendor, signature and behaviours. */
START_TEST(profile_host)
{
    unsigned a, b, c, d;
    __cpuid(1, a, b, c, d);
    struct cpum_policy p;
    ck_assert_int_eq(cpum_policy_init(&p, 1, "host"), CAP_OK);
    ck_assert_str_eq(p.profile, "host");
    ck_assert_uint_eq(p.signature, a);
    ck_assert_int_eq(p.vendor_id, cpum_host_vendor());
    __cpuid(0, a, b, c, d);
    uint32_t r[4];
    cpum_cpuid(&p, 0, 0, 0, r);
    ck_assert_uint_eq(r[1], b);
    ck_assert_uint_eq(r[2], c);
    ck_assert_uint_eq(r[3], d);
    ck_assert_uint_eq(!!(p.behaviours & CPUM_B_CMPS_SRC_FIRST), p.vendor_id == CPUM_VENDOR_AMD);
    /* Optional features: only those the host has. */
    unsigned h7b = 0, h7c = 0, he1d = 0;
    __cpuid(0, a, b, c, d);
    if (a >= 7)
        __cpuid_count(7, 0, a, h7b, h7c, d);
    __cpuid(0x80000001u, a, b, c, he1d);
    cpum_cpuid(&p, 0, 7, 0, r);
    ck_assert_uint_eq(r[1] & ((1u << 7) | (1u << 20)), h7b & ((1u << 7) | (1u << 20)));
    ck_assert_uint_eq(r[2] & ((1u << 2) | (1u << 22)), h7c & ((1u << 2) | (1u << 22)));
    cpum_cpuid(&p, 0, 0x80000001u, 0, r);
    ck_assert_uint_eq(r[3] & (1u << 27), he1d & (1u << 27));
}
END_TEST

/* AMD: zeros above a range's maximum, the extended leaf 1 mirrors leaf 1's
 * shared bits and the signature, MXCSR_MASK with MM. */
START_TEST(profile_amd)
{
    struct cpum_policy p;
    struct cpum_cpu c;
    uint32_t r[4], one[4];
    ck_assert_int_eq(cpum_policy_init(&p, 1, "amd-epyc"), CAP_OK);
    ck_assert_str_eq(p.vendor, "AuthenticAMD");
    cpum_cpuid(&p, 0, 0x1234, 0, r);
    ck_assert_uint_eq(r[0] | r[1] | r[2] | r[3], 0);
    cpum_cpuid(&p, 0, 0x8000ffffu, 0, r);
    ck_assert_uint_eq(r[0] | r[1] | r[2] | r[3], 0);
    cpum_cpuid(&p, 0, 1, 0, one);
    cpum_cpuid(&p, 0, 0x80000001u, 0, r);
    ck_assert_uint_eq(r[0], one[0]);
    ck_assert_uint_eq(r[3] & 0x0183f3ffu, one[3] & 0x0183f3ffu);
    ck_assert_uint_eq(r[2] & (1u << 7), 0); /* no MisAlignSse: alignment still checked */
    ck_assert(cpum_has_feature(&p, CPUM_FEAT_SYSCALL) && cpum_has_feature(&p, CPUM_FEAT_NX));
    /* Zen 2: SMEP, SMAP, UMIP, RDPID, RDTSCP. */
    ck_assert(cpum_has_feature(&p, CPUM_FEAT_SMEP) && cpum_has_feature(&p, CPUM_FEAT_SMAP) &&
              cpum_has_feature(&p, CPUM_FEAT_UMIP) && cpum_has_feature(&p, CPUM_FEAT_RDPID) &&
              cpum_has_feature(&p, CPUM_FEAT_RDTSCP));
    ck_assert_uint_eq(r[3] & (1u << 27), 1u << 27);
    ck_assert_uint_ne(cpum_cr4_allowed(&p) & CR4_UMIP, 0);
    char brand[49] = {0};
    for (unsigned i = 0; i < 3; i++)
        cpum_cpuid(&p, 0, 0x80000002u + i, 0, (uint32_t *)(brand + 16 * i));
    ck_assert_str_eq(brand, "AMD EPYC 7702 64-Core Processor");
    cpum_cpu_init(&c, &p, 0);
    ck_assert_uint_eq(c.ctx.fpu.mxcsr_mask, 0x2ffff);
    ck_assert_uint_eq(c.ctx.gpr[CPUM_RDX], 0x00830f10u);
    /* Intel: the highest basic leaf; no MisAlignSse. */
    ck_assert_int_eq(cpum_policy_init(&p, 1, "intel-core"), CAP_OK);
    cpum_cpuid(&p, 0, 0x80000001u, 0, r);
    ck_assert_uint_eq(r[0] | (r[2] & (1u << 7)), 0);
    cpum_cpu_init(&c, &p, 0);
    ck_assert_uint_eq(c.ctx.fpu.mxcsr_mask, 0xffff);
}
END_TEST

/* AMD's model-specific registers exist under an AMD profile only. */
START_TEST(msr_amd)
{
    struct cpum_policy p;
    struct cpum_cpu c;
    uint64_t v;
    ck_assert_int_eq(cpum_policy_init(&p, 1, "amd-epyc"), CAP_OK);
    cpum_cpu_init(&c, &p, 0);
    ck_assert_int_eq(cpum_msr_read(&c, MSR_AMD_HWCR, &v), CAP_OK);
    ck_assert_uint_eq(v, MSR_AMD_HWCR_TSC_FREQ_SEL);
    ck_assert_int_eq(cpum_msr_write(&c, MSR_AMD_HWCR, 1ull << 30), CAP_OK);
    ck_assert_int_eq(cpum_msr_read(&c, MSR_AMD_HWCR, &v), CAP_OK);
    ck_assert_uint_eq(v, (1ull << 30) | MSR_AMD_HWCR_TSC_FREQ_SEL); /* TscFreqSel read-only */
    ck_assert_int_eq(cpum_msr_write(&c, MSR_AMD_NB_CFG, 1ull << 46), CAP_OK);
    ck_assert_int_eq(cpum_msr_read(&c, MSR_AMD_NB_CFG, &v), CAP_OK);
    ck_assert_uint_eq(v, 1ull << 46);
    ck_assert_int_eq(cpum_msr_write(&c, MSR_AMD_DE_CFG, 2), CAP_OK);
    ck_assert_int_eq(cpum_msr_read(&c, MSR_AMD_DE_CFG, &v), CAP_OK);
    ck_assert_uint_eq(v, 2);
    ck_assert_int_eq(cpum_msr_read(&c, MSR_AMD_SYSCFG, &v), CAP_OK);
    ck_assert_int_eq(cpum_msr_read(&c, 0xc0010016u, &v), VMM_XCPT_GP);
    ck_assert_int_eq(cpum_msr_read(&c, MSR_IA32_MISC_ENABLE, &v), CAP_OK); /* as under KVM */
    ck_assert_int_eq(cpum_policy_init(&p, 1, "intel-core"), CAP_OK);
    cpum_cpu_init(&c, &p, 0);
    ck_assert_int_eq(cpum_msr_read(&c, MSR_AMD_HWCR, &v), VMM_XCPT_GP);
    ck_assert_int_eq(cpum_msr_write(&c, MSR_AMD_DE_CFG, 2), VMM_XCPT_GP);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cpum");
    TCase *tc = tcase_create("reset");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, reset_power_on);
    tcase_add_test(tc, reset_init_keeps_fpu_and_msrs);
    suite_add_tcase(s, tc);
    tc = tcase_create("cpuid");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, cpuid_vendor_and_signature);
    tcase_add_test(tc, cpuid_exact_feature_set);
    suite_add_tcase(s, tc);
    tc = tcase_create("profiles");
    tcase_add_test(tc, profiles_table);
    tcase_add_test(tc, profile_host);
    tcase_add_test(tc, profile_amd);
    suite_add_tcase(s, tc);
    tc = tcase_create("msr");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, msr_read_write);
    tcase_add_test(tc, msr_gp_as_value);
    tcase_add_test(tc, machine_check_no_banks);
    tcase_add_test(tc, msr_amd);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
