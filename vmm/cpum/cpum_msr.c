/*
 * cpum_msr.c - RDMSR/WRMSR emulation for the MSRs of the context.
 *
 * Engines that run the guest in hardware handle most MSRs themselves; this is
 * what they (and the software CPU) fall back on, and what a debugger uses. It
 * checks writes the way the hardware does - reserved bits, canonical
 * addresses, features absent from the policy - and answers #GP(0) as the
 * value VMM_XCPT_GP, never as an error of the VMM.
 */
#include "cpum_internal.h"

static const uint32_t ctx_msrs[] = {
    MSR_IA32_TSC,      MSR_IA32_APIC_BASE,     MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP,
    MSR_IA32_SYSENTER_EIP, MSR_IA32_PAT,       MSR_EFER,             MSR_STAR,
    MSR_LSTAR,         MSR_CSTAR,              MSR_SFMASK,           MSR_KERNEL_GS_BASE,
    MSR_IA32_MISC_ENABLE, MSR_TSC_AUX,        MSR_IA32_TSC_ADJUST,
};

unsigned cpum_msr_list(const uint32_t **list)
{
    *list = ctx_msrs;
    return sizeof(ctx_msrs) / sizeof(ctx_msrs[0]);
}

static cap_bool canonical(const struct cpum_cpu *cpu, uint64_t a)
{
    unsigned bits = cpu->policy->virt_addr_bits;
    int64_t s = (int64_t)(a << (64 - bits)) >> (64 - bits);
    return (uint64_t)s == a;
}

static cap_bool has(const struct cpum_cpu *cpu, enum cpum_feature f)
{
    return cpum_has_feature(cpu->policy, f);
}

cap_result cpum_msr_read(struct cpum_cpu *cpu, uint32_t msr, uint64_t *value)
{
    const struct cpum_ctx *c = &cpu->ctx;
    const struct cpum_msrs *m = &c->msr;
    cap_bool lm = has(cpu, CPUM_FEAT_LM), sc = has(cpu, CPUM_FEAT_SYSCALL);
    *value = 0;
    switch (msr) {
    case MSR_IA32_TSC: *value = m->tsc; break;
    case MSR_IA32_APIC_BASE:
        if (!has(cpu, CPUM_FEAT_APIC))
            return VMM_XCPT_GP;
        *value = m->apic_base;
        break;
    case MSR_IA32_MISC_ENABLE:
        /* Intel's, but present under AMD profiles too: KVM offers it to
         * every guest, and hm and rem must show the same CPU. */
        *value = m->misc_enable;
        break;
    case MSR_IA32_BIOS_SIGN_ID: break; /* microcode revision 0: none loaded */
    case MSR_IA32_MCG_CAP:
    case MSR_IA32_MCG_STATUS:
        if (!has(cpu, CPUM_FEAT_MCA))
            return VMM_XCPT_GP;
        *value = msr == MSR_IA32_MCG_CAP ? CPUM_MCG_CAP : 0;
        break;
    case MSR_IA32_TSC_ADJUST:
        if (!has(cpu, CPUM_FEAT_TSC_ADJUST))
            return VMM_XCPT_GP;
        *value = m->tsc_adjust;
        break;
    case MSR_TSC_AUX:
        if (!has(cpu, CPUM_FEAT_RDTSCP) && !has(cpu, CPUM_FEAT_RDPID))
            return VMM_XCPT_GP;
        *value = m->tsc_aux;
        break;
    case MSR_IA32_SYSENTER_CS:
    case MSR_IA32_SYSENTER_ESP:
    case MSR_IA32_SYSENTER_EIP:
        if (!has(cpu, CPUM_FEAT_SEP))
            return VMM_XCPT_GP;
        *value = msr == MSR_IA32_SYSENTER_CS    ? m->sysenter_cs
                 : msr == MSR_IA32_SYSENTER_ESP ? m->sysenter_esp
                                                : m->sysenter_eip;
        break;
    case MSR_IA32_PAT:
        if (!has(cpu, CPUM_FEAT_PAT))
            return VMM_XCPT_GP;
        *value = m->pat;
        break;
    case MSR_EFER:
        if (!lm && !sc && !has(cpu, CPUM_FEAT_NX))
            return VMM_XCPT_GP;
        *value = m->efer;
        break;
    case MSR_STAR:
        if (!sc)
            return VMM_XCPT_GP;
        *value = m->star;
        break;
    case MSR_LSTAR: case MSR_CSTAR: case MSR_SFMASK: case MSR_KERNEL_GS_BASE:
    case MSR_FS_BASE: case MSR_GS_BASE:
        if (!lm)
            return VMM_XCPT_GP;
        *value = msr == MSR_LSTAR    ? m->lstar
                 : msr == MSR_CSTAR  ? m->cstar
                 : msr == MSR_SFMASK ? m->sfmask
                 : msr == MSR_FS_BASE ? c->seg[CPUM_FS].base
                 : msr == MSR_GS_BASE ? c->seg[CPUM_GS].base
                                      : m->kernel_gs_base;
        break;
    default: return cpum_msr_amd_read(cpu, msr, value);
    }
    return CAP_OK;
}

static cap_bool pat_valid(uint64_t v)
{
    for (unsigned i = 0; i < 8; i++) {
        unsigned t = (v >> (8 * i)) & 0xff;
        if (t != 0 && t != 1 && t != 4 && t != 5 && t != 6 && t != 7)
            return CAP_FALSE;
    }
    return CAP_TRUE;
}

static cap_result write_efer(struct cpum_cpu *cpu, uint64_t v)
{
    struct cpum_ctx *c = &cpu->ctx;
    uint64_t ok = (has(cpu, CPUM_FEAT_SYSCALL) ? EFER_SCE : 0) |
                  (has(cpu, CPUM_FEAT_LM) ? EFER_LME | EFER_LMA : 0) |
                  (has(cpu, CPUM_FEAT_NX) ? EFER_NXE : 0);
    if (v & ~ok)
        return VMM_XCPT_GP;
    /* LME may not change while paging is on; LMA is the CPU's, not the writer's. */
    if ((c->cr0 & CR0_PG) && ((v ^ c->msr.efer) & EFER_LME))
        return VMM_XCPT_GP;
    c->msr.efer = (v & ~EFER_LMA) | (c->msr.efer & EFER_LMA);
    cpu->dirty |= CPUM_STATE_SREGS;
    return CAP_OK;
}

/*
 * IA32_MISC_ENABLE (SDM Vol. 4, table 2-2): fast strings (0), automatic
 * thermal control (3), enhanced SpeedStep (16) and xTPR disable (23) are
 * plain read/write knobs with nothing to emulate behind them; performance
 * monitoring available (7), BTS unavailable (11) and PEBS unavailable (12)
 * are read-only (writes ignored). MONITOR FSM (18), limit CPUID maxval (22)
 * and XD disable (34) change what the CPU shows - MONITOR/MWAIT, CPUID's
 * range, NX - which the policy fixes: they read 0 and setting them is #GP(0),
 * as is any reserved bit.
 */
#define MISC_ENABLE_RW ((1ull << 0) | (1ull << 3) | (1ull << 16) | (1ull << 23))
#define MISC_ENABLE_RO ((1ull << 7) | (1ull << 11) | (1ull << 12))

static cap_result write_misc_enable(struct cpum_cpu *cpu, uint64_t v)
{
    uint64_t *m = &cpu->ctx.msr.misc_enable;
    if (v & ~(MISC_ENABLE_RW | MISC_ENABLE_RO))
        return VMM_XCPT_GP;
    *m = (v & MISC_ENABLE_RW) | (*m & MISC_ENABLE_RO);
    cpu->dirty |= CPUM_STATE_MSRS;
    return CAP_OK;
}

static cap_result write_apic_base(struct cpum_cpu *cpu, uint64_t v)
{
    uint64_t phys_mask = (1ull << cpu->policy->phys_addr_bits) - 1;
    uint64_t ok = (phys_mask & ~0xfffull) | APIC_BASE_ENABLE | APIC_BASE_BSP;
    if (!has(cpu, CPUM_FEAT_APIC) || (v & ~ok))
        return VMM_XCPT_GP; /* includes EXTD (x2APIC), not in the policy */
    /* BSP is read-only. */
    cpu->ctx.msr.apic_base = (v & ~APIC_BASE_BSP) | (cpu->ctx.msr.apic_base & APIC_BASE_BSP);
    cpu->dirty |= CPUM_STATE_SREGS;
    return CAP_OK;
}

cap_result cpum_msr_write(struct cpum_cpu *cpu, uint32_t msr, uint64_t v)
{
    struct cpum_ctx *c = &cpu->ctx;
    struct cpum_msrs *m = &c->msr;
    cap_bool lm = has(cpu, CPUM_FEAT_LM);
    uint64_t dummy;
    if (cpum_msr_read(cpu, msr, &dummy) != CAP_OK)
        return VMM_XCPT_GP; /* not present for this policy */
    switch (msr) {
    case MSR_IA32_TSC: m->tsc = v; break;
    case MSR_IA32_APIC_BASE: return write_apic_base(cpu, v);
    case MSR_IA32_MISC_ENABLE: return write_misc_enable(cpu, v);
    case MSR_IA32_BIOS_SIGN_ID: return CAP_OK; /* software writes 0 before CPUID */
    case MSR_IA32_MCG_CAP:
        return VMM_XCPT_GP; /* read-only */
    case MSR_IA32_MCG_STATUS:
        /* Nothing is in progress to acknowledge: clearing it is all a
         * handler does; other values would not read back. */
        return v == 0 ? CAP_OK : VMM_XCPT_GP;
    case MSR_IA32_TSC_ADJUST:
        /* Any value. Moving the TSC by the difference (SDM 17.17.3) is the
         * engine's: the TSC is TM's clock (rem: rem_exec_sys.c). */
        m->tsc_adjust = v;
        break;
    case MSR_TSC_AUX:
        if (v >> 32)
            return VMM_XCPT_GP; /* bits 63:32 reserved */
        m->tsc_aux = v;
        break;
    case MSR_IA32_SYSENTER_CS: m->sysenter_cs = v & 0xffff; break;
    case MSR_IA32_SYSENTER_ESP:
    case MSR_IA32_SYSENTER_EIP:
        if (lm && !canonical(cpu, v))
            return VMM_XCPT_GP;
        *(msr == MSR_IA32_SYSENTER_ESP ? &m->sysenter_esp : &m->sysenter_eip) = v;
        break;
    case MSR_IA32_PAT:
        if (!pat_valid(v))
            return VMM_XCPT_GP;
        m->pat = v;
        break;
    case MSR_EFER: return write_efer(cpu, v);
    case MSR_STAR: m->star = v; break;
    case MSR_SFMASK: m->sfmask = v & 0xffffffffu; break;
    case MSR_LSTAR: case MSR_CSTAR: case MSR_KERNEL_GS_BASE: case MSR_FS_BASE: case MSR_GS_BASE:
        if (!canonical(cpu, v))
            return VMM_XCPT_GP;
        if (msr == MSR_FS_BASE || msr == MSR_GS_BASE) {
            c->seg[msr == MSR_FS_BASE ? CPUM_FS : CPUM_GS].base = v;
            cpu->dirty |= CPUM_STATE_SREGS;
            return CAP_OK;
        }
        *(msr == MSR_LSTAR ? &m->lstar : msr == MSR_CSTAR ? &m->cstar : &m->kernel_gs_base) = v;
        break;
    default: return cpum_msr_amd_write(cpu, msr, v);
    }
    cpu->dirty |= CPUM_STATE_MSRS;
    return CAP_OK;
}
