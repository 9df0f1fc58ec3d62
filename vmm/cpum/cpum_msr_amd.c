/*
 * cpum_msr_amd.c - the model-specific registers an AMD CPU has and an
 * operating system expects on one, for profiles of AMD (cpum_profile.h).
 *
 * Linux reads and writes some of them without the exception-safe accessors
 * once CPUID says AuthenticAMD (HWCR in the early TSC set-up, NB_CFG from
 * the PCI code, DE_CFG for the LFENCE mitigation), so they must exist. None
 * of their knobs changes what the VMM does: they hold what was written,
 * with HWCR's read-only TscFreqSel (the TSC runs at a constant rate)
 * always set. Under an Intel profile they do not exist (#GP), as on Intel.
 */
#include "cpum_internal.h"

static uint64_t *amd_reg(struct cpum_cpu *cpu, uint32_t msr)
{
    struct cpum_amd_msrs *m = &cpu->ctx.amd;
    if (cpu->policy->vendor_id != CPUM_VENDOR_AMD)
        return NULL;
    switch (msr) {
    case MSR_AMD_SYSCFG: return &m->syscfg;
    case MSR_AMD_HWCR: return &m->hwcr;
    case MSR_AMD_NB_CFG: return &m->nb_cfg;
    case MSR_AMD_DE_CFG: return &m->de_cfg;
    default: return NULL;
    }
}

cap_result cpum_msr_amd_read(struct cpum_cpu *cpu, uint32_t msr, uint64_t *value)
{
    uint64_t *r = amd_reg(cpu, msr);
    if (!r)
        return VMM_XCPT_GP;
    *value = *r;
    return CAP_OK;
}

cap_result cpum_msr_amd_write(struct cpum_cpu *cpu, uint32_t msr, uint64_t v)
{
    uint64_t *r = amd_reg(cpu, msr);
    if (!r)
        return VMM_XCPT_GP;
    *r = msr == MSR_AMD_HWCR ? v | MSR_AMD_HWCR_TSC_FREQ_SEL : v;
    cpu->dirty |= CPUM_STATE_MSRS;
    return CAP_OK;
}
