/*
 * rem_exec_feat.c - what the CPUID policy decides: instructions of optional
 * features (RDTSCP, RDPID, STAC/CLAC) and the rule for everything else.
 *
 * A profile advertises exactly what works. An instruction rem does not
 * execute belongs to a feature the policy does not advertise (XSAVE,
 * VMX/SVM, MONITOR/MWAIT, INVPCID, PKU, RDRAND, SSE3 and later, ...), so the
 * guest gets what a CPU without that feature does: #UD - never a stopped
 * VM. For privileged instructions that #UD comes before the CPL check
 * (the CPU does not know the opcode, so it cannot ask for CPL0 first); the
 * same holds for instructions that are #UD at CPL>0 by definition
 * (STAC/CLAC) or outside 64-bit mode (SWAPGS).
 *
 * Keep rem_priv_known() in step with the privileged instructions rem_exec_sys.c
 * executes: one absent from it is #UD at every CPL.
 */
#include "rem_ops.h"

/* Privileged instructions rem executes (with their own mode checks). */
static bool rem_priv_known(const struct rem_vcpu *v, unsigned mn)
{
    switch (mn) {
    case DIS_hlt: case DIS_lldt: case DIS_ltr: case DIS_lgdt: case DIS_lidt: case DIS_lmsw:
    case DIS_invlpg: case DIS_clts: case DIS_invd: case DIS_wbinvd: case DIS_wbnoinvd:
    case DIS_movcr: case DIS_movdr: case DIS_rdmsr: case DIS_wrmsr: case DIS_sysret:
    case DIS_sysexit:
        return true;
    case DIS_swapgs:
        return v->mode == REM_MODE_LONG;
    default: /* STAC/CLAC (#UD at CPL>0), VMX, SVM, MONITOR/MWAIT, XSETBV, XSAVES, INVPCID... */
        return false;
    }
}

bool rem_priv_ud(const struct rem_vcpu *v, const struct dis_insn *in)
{
    return !rem_priv_known(v, in->mnem);
}

static bool has(const struct rem_vcpu *v, enum cpum_feature f)
{
    return cpum_has_feature(v->rem->policy, f);
}

static uint64_t tsc_now(struct rem_vcpu *v)
{
    const struct rem_callbacks *cb = &v->rem->cb;
    return cb->rdtsc ? cb->rdtsc(cb->opaque) : 0;
}

bool rem_exec_feat(struct rem_vcpu *v, const struct dis_insn *in)
{
    struct cpum_ctx *c = v->ctx;
    switch (in->mnem) {
    case DIS_rdtscp: {
        if (!has(v, CPUM_FEAT_RDTSCP))
            rem_ud(v);
        if ((c->cr4 & CR4_TSD) && v->cpl > 0)
            rem_gp0(v);
        uint64_t t = tsc_now(v);
        c->gpr[CPUM_RAX] = (uint32_t)t;
        c->gpr[CPUM_RDX] = t >> 32;
        c->gpr[CPUM_RCX] = (uint32_t)c->msr.tsc_aux;
        return true;
    }
    case DIS_rdpid:
        /* F3 0F C7 /7 with a register: the operand is 64-bit in 64-bit mode,
         * else 32-bit (SDM RDPID); a 66 prefix does not change it. */
        if (!has(v, CPUM_FEAT_RDPID) || in->op[0].kind != DIS_OP_REG)
            rem_ud(v);
        gpr_set(v, DIS_RC_GPR, in->op[0].reg, v->mode == REM_MODE_LONG ? 8 : 4,
                (uint32_t)c->msr.tsc_aux);
        return true;
    case DIS_clac: case DIS_stac:
        /* #UD at CPL>0 (rem_priv_ud) and without SMAP; AC changes in every mode. */
        if (!has(v, CPUM_FEAT_SMAP))
            rem_ud(v);
        if (in->mnem == DIS_stac)
            c->rflags |= FL_AC;
        else
            c->rflags &= ~(uint64_t)FL_AC;
        return true;
    default:
        return false;
    }
}
