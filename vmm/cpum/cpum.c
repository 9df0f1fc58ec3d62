/*
 * cpum.c - vCPU contexts: initialisation, RESET/INIT state, CPL.
 *
 * The reset values follow the Intel SDM, Vol. 3A, table 9-1 ("IA-32 and
 * Intel 64 Processor States Following Power-up, Reset, or INIT"). An engine
 * loads them from here; none hard-codes its own.
 */
#include <string.h>

#include "cpum.h"

void cpum_cpu_init(struct cpum_cpu *cpu, const struct cpum_policy *policy, unsigned id)
{
    memset(cpu, 0, sizeof(*cpu));
    cpu->policy = policy;
    cpu->id = id;
    cpum_reset(cpu, CPUM_RESET_POWER_ON);
}

static void set_seg(struct cpum_seg *s, uint16_t sel, uint64_t base, uint32_t limit,
                    uint16_t attr)
{
    *s = (struct cpum_seg){.sel = sel, .base = base, .limit = limit, .attr = attr};
}

void cpum_reset(struct cpum_cpu *cpu, enum cpum_reset_kind kind)
{
    struct cpum_ctx *c = &cpu->ctx;
    struct cpum_fxsave fpu = c->fpu;
    struct cpum_msrs msr = c->msr;
    uint64_t cr0_keep = c->cr0 & (CR0_CD | CR0_NW);

    memset(c, 0, sizeof(*c));
    c->gpr[CPUM_RDX] = cpu->policy ? cpu->policy->signature : 0;
    c->rip = 0xfff0;
    c->rflags = 0x2;
    set_seg(&c->seg[CPUM_CS], 0xf000, 0xffff0000u, 0xffff, CPUM_SEG_P | CPUM_SEG_S | 0xb);
    for (unsigned i = 0; i < CPUM_SREG_COUNT; i++)
        if (i != CPUM_CS)
            set_seg(&c->seg[i], 0, 0, 0xffff, CPUM_SEG_P | CPUM_SEG_S | 0x3);
    set_seg(&c->ldtr, 0, 0, 0xffff, CPUM_SEG_P | 0x2);
    set_seg(&c->tr, 0, 0, 0xffff, CPUM_SEG_P | 0xb);
    c->gdtr.limit = c->idtr.limit = 0xffff;
    c->cr0 = 0x60000010u; /* CD, NW, ET */
    c->dr[6] = 0xffff0ff0u;
    c->dr[7] = 0x400;

    if (kind == CPUM_RESET_INIT) {
        /* INIT keeps x87/SSE state, CD/NW, and the MSRs other than EFER. */
        c->cr0 = 0x10 | cr0_keep;
        c->fpu = fpu;
        c->msr = msr;
        c->msr.efer = 0;
    } else {
        c->fpu.fcw = 0x40;
        c->fpu.ftw = 0xff; /* tag word 0x5555 (all "zero") in abridged form */
        c->fpu.mxcsr = 0x1f80;
        c->fpu.mxcsr_mask = cpu->policy ? cpu->policy->mxcsr_mask : 0xffff;
        c->msr.pat = 0x0007040600070406ull;
        c->msr.misc_enable = 1; /* fast strings */
    }
    c->amd.hwcr = MSR_AMD_HWCR_TSC_FREQ_SEL;
    c->msr.apic_base = APIC_BASE_DEFAULT | APIC_BASE_ENABLE | (cpu->id == 0 ? APIC_BASE_BSP : 0);
    cpu->extrn = 0;
    cpu->dirty = CPUM_STATE_ALL;
}

unsigned cpum_cpl(const struct cpum_ctx *ctx)
{
    if (!(ctx->cr0 & CR0_PE))
        return 0;
    if (ctx->rflags & (1ull << 17)) /* virtual-8086 mode */
        return 3;
    return (ctx->seg[CPUM_SS].attr & CPUM_SEG_DPL_MASK) >> CPUM_SEG_DPL_SHIFT;
}
