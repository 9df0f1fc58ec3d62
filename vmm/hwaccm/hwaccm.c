/*
 * hwaccm.c - the backend-independent part of the hm engine: the policy hm
 * runs, the check that the host can show the guest the policy's CPU, and
 * reading the instruction a host could not emulate.
 */
#include <string.h>

#include <capsule/errorinfo.h>

#include "hwaccm_internal.h"

cap_result hwaccm_check_cpuid(const struct cpum_policy *policy,
                              void (*host)(void *ctx, uint32_t leaf, uint32_t out[4]), void *ctx)
{
    static const uint32_t leaves[] = {1, 7, 0x80000001u};
    static const char regname[4][4] = {"eax", "ebx", "ecx", "edx"};
    /* Guest code runs on the host's silicon: it shows its own vendor's
     * behaviours (cpum_profile.h), so only a profile of that vendor is
     * honest under hm. */
    uint32_t id[4];
    char vendor[13] = {0};
    host(ctx, 0, id);
    memcpy(vendor, &id[1], 4), memcpy(vendor + 4, &id[3], 4), memcpy(vendor + 8, &id[2], 4);
    if (strcmp(vendor, policy->vendor) != 0)
        return cap_error_set(VMM_E_CPUID_UNSUPPORTED, VMM_COMPONENT, NULL,
                             "hwaccm: the CPU profile '%s' is %s, but hm runs guest code on "
                             "this host's %s CPU and would show that vendor's behaviour; use "
                             "the 'host' profile, one of the host's vendor, or --engine rem",
                             policy->profile, policy->vendor, vendor);
    for (unsigned i = 0; i < 3; i++) {
        uint32_t want[4], have[4];
        cpum_cpuid(policy, 0, leaves[i], 0, want);
        host(ctx, leaves[i], have);
        if (leaves[i] == 1) {
            want[2] &= ~(1u << 31); /* hypervisor present: ours to say */
            want[3] &= ~(1u << 28); /* HTT: a topology statement, not a feature */
        }
        if (leaves[i] == 7) {
            want[0] = 0;             /* the maximum subleaf, not a feature */
            want[1] &= ~(1u << 1);   /* IA32_TSC_ADJUST: the hypervisor's own MSR */
        }
        for (unsigned r = leaves[i] == 7 ? 1 : 2; r < 4; r++) {
            uint32_t missing = want[r] & ~have[r];
            if (missing)
                return cap_error_set(VMM_E_CPUID_UNSUPPORTED, VMM_COMPONENT, NULL,
                                     "hwaccm: the host cannot offer CPUID leaf 0x%x %s bits "
                                     "0x%08x of the VM's CPU policy",
                                     leaves[i], regname[r], missing);
        }
    }
    uint32_t sizes[4];
    host(ctx, 0x80000008u, sizes);
    if ((sizes[0] & 0xff) && (sizes[0] & 0xff) < policy->phys_addr_bits)
        return cap_error_set(VMM_E_CPUID_UNSUPPORTED, VMM_COMPONENT, NULL,
                             "hwaccm: the host has %u physical address bits, the policy %u",
                             sizes[0] & 0xff, policy->phys_addr_bits);
    return CAP_OK;
}

cap_result hwaccm_policy_init(struct cpum_policy *policy, unsigned ncpus, const char *profile)
{
    const struct cpum_profile *prof = cpum_profile_find(profile);
    uint32_t opt = prof && !strcmp(prof->name, "host") ? hwaccm_host_optional() : CPUM_OPT_ALL;
    return cpum_policy_init_opt(policy, ncpus, profile, opt);
}

void hwaccm_fetch_insn(struct pgm *pgm, const struct cpum_cpu *cpu, struct vmm_exit *exit)
{
    const struct cpum_ctx *c = &cpu->ctx;
    struct pgm_paging pg;
    struct pgm_walk w;
    uint64_t la = c->seg[CPUM_CS].base + c->rip;
    if (!(c->msr.efer & EFER_LMA) || !(c->seg[CPUM_CS].attr & CPUM_SEG_L))
        la &= 0xffffffffull;
    exit->emul.rip = la;
    exit->emul.insn_len = 0;
    pgm_paging_from_ctx(&pg, cpu);
    unsigned acc = pgm_access_for_cpl(cpum_cpl(c), PGM_ACC_EXEC | PGM_ACC_NO_AD);
    /* Take as many of the 15 bytes as can be read: the instruction may end
     * before an unmapped page. */
    uint8_t len = 15;
    while (len && CAP_FAILED(pgm_virt_read(pgm, &pg, la, exit->emul.insn, len, acc, &w)))
        len = (uint8_t)((la & PGM_PAGE_MASK) + len > PGM_PAGE_SIZE ? PGM_PAGE_SIZE - (la & PGM_PAGE_MASK) : 0);
    exit->emul.insn_len = len;
}
