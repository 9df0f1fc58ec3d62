/*
 * rem_exec_sys.c - system instructions: HLT, CPUID (CPUM's policy), RDTSC
 * (TM through the EM callback), RDMSR/WRMSR (cpum_msr_*), moves to and from
 * control and debug registers with their side effects (paging mode, long
 * mode activation, TLB flushes), descriptor-table loads and stores, LLDT,
 * LTR, LMSW/SMSW, INVLPG, CLTS, SWAPGS, LAR/LSL/VERR/VERW, SYSCALL/SYSRET
 * and SYSENTER/SYSEXIT.
 */
#include "rem_ops.h"

static void set_flat(struct cpum_seg *s, uint16_t sel, bool code, unsigned dpl, bool l)
{
    s->sel = sel;
    s->base = 0;
    s->limit = 0xffffffffu;
    s->attr = (uint16_t)((code ? 0xb : 0x3) | CPUM_SEG_S | (dpl << CPUM_SEG_DPL_SHIFT) |
                         CPUM_SEG_P | CPUM_SEG_G | (l ? CPUM_SEG_L : CPUM_SEG_DB));
}

/* ---- control registers ------------------------------------------------------------------- */

static void write_cr0(struct rem_vcpu *v, uint64_t val)
{
    struct cpum_ctx *c = v->ctx;
    if (val >> 32)
        rem_gp0(v);
    val |= CR0_ET;
    if ((val & CR0_PG) && !(val & CR0_PE))
        rem_gp0(v);
    if ((val & CR0_NW) && !(val & CR0_CD))
        rem_gp0(v);
    uint64_t old = c->cr0;
    if ((val & CR0_PG) && !(old & CR0_PG) && (c->msr.efer & EFER_LME)) {
        if (!(c->cr4 & CR4_PAE) || (c->seg[CPUM_CS].attr & CPUM_SEG_L))
            rem_gp0(v);
        c->msr.efer |= EFER_LMA;
    } else if (!(val & CR0_PG) && (old & CR0_PG) && (c->msr.efer & EFER_LMA)) {
        if (v->mode == REM_MODE_LONG)
            rem_gp0(v);
        c->msr.efer &= ~EFER_LMA;
    }
    c->cr0 = val;
    if ((old ^ val) & (CR0_PG | CR0_PE | CR0_WP))
        rem_paging_invalidated(v);
    rem_update_mode(v);
}

static void write_cr4(struct rem_vcpu *v, uint64_t val)
{
    struct cpum_ctx *c = v->ctx;
    if (val & ~cpum_cr4_allowed(v->rem->policy))
        rem_gp0(v);
    if ((c->msr.efer & EFER_LMA) && !(val & CR4_PAE))
        rem_gp0(v);
    uint64_t old = c->cr4;
    c->cr4 = val;
    if ((old ^ val) & (CR4_PSE | CR4_PAE | CR4_PGE | CR4_SMEP | CR4_SMAP))
        rem_paging_invalidated(v);
}

static void mov_cr(struct rem_vcpu *v, const struct dis_insn *in)
{
    struct cpum_ctx *c = v->ctx;
    unsigned size = v->mode == REM_MODE_LONG ? 8 : 4;
    bool to_cr = in->op[0].reg_class == DIS_RC_CR;
    unsigned cr = to_cr ? in->op[0].reg : in->op[1].reg;
    if (!to_cr) {
        uint64_t val;
        switch (cr) {
        case 0: val = c->cr0; break;
        case 2: val = c->cr2; break;
        case 3: val = c->cr3; break;
        case 4: val = c->cr4; break;
        case 8: val = c->cr8; break;
        default: rem_ud(v);
        }
        gpr_set(v, DIS_RC_GPR, in->op[0].reg, size, val);
        return;
    }
    uint64_t val = gpr_get(v, DIS_RC_GPR, in->op[1].reg, size);
    switch (cr) {
    case 0: write_cr0(v, val); break;
    case 2: c->cr2 = val; break;
    case 3:
        /* 64-bit mode: bits 63:MAXPHYADDR are reserved (no PCIDE, so bit 63 too). */
        if (v->mode == REM_MODE_LONG && (val >> v->rem->policy->phys_addr_bits))
            rem_gp0(v);
        c->cr3 = val;
        rem_paging_invalidated(v);
        break;
    case 4: write_cr4(v, val); break;
    case 8:
        if (val & ~0xfull)
            rem_gp0(v);
        c->cr8 = val;
        break;
    default: rem_ud(v);
    }
    cpum_mark_dirty(v->cpu, CPUM_STATE_SREGS);
}

static void mov_dr(struct rem_vcpu *v, const struct dis_insn *in)
{
    struct cpum_ctx *c = v->ctx;
    unsigned size = v->mode == REM_MODE_LONG ? 8 : 4;
    bool to_dr = in->op[0].reg_class == DIS_RC_DR;
    unsigned dr = to_dr ? in->op[0].reg : in->op[1].reg;
    if (dr > 7)
        rem_ud(v);
    if (dr == 4 || dr == 5) {
        if (c->cr4 & CR4_DE)
            rem_ud(v);
        dr += 2;
    }
    if (c->dr[7] & DR7_GD) {
        /* General detect: a fault before the access, DR6.BD; GD is cleared
         * for the handler (SDM Vol. 3B, 17.2.4). */
        c->dr[6] |= DR6_BD;
        c->dr[7] &= ~(uint64_t)DR7_GD;
        rem_db_changed(v);
        rem_raise(v, X86_DB, REM_NO_ERR);
    }
    if (to_dr) {
        uint64_t val = gpr_get(v, DIS_RC_GPR, in->op[1].reg, size);
        if (dr >= 6 && (val >> 32))
            rem_gp0(v); /* DR6/DR7 bits 63:32 are reserved */
        if (dr == 6)
            val = (val & 0xe00f) | 0xffff0ff0;
        else if (dr == 7)
            val = (val & ~0xd800ull) | 0x400;
        c->dr[dr] = val;
        rem_db_changed(v);
    } else {
        gpr_set(v, DIS_RC_GPR, in->op[0].reg, size, c->dr[dr]);
    }
}

/* ---- descriptor tables ---------------------------------------------------------------------- */

static void dtr_insn(struct rem_vcpu *v, const struct dis_insn *in)
{
    struct cpum_ctx *c = v->ctx;
    const struct dis_op *op = &in->op[0];
    bool idt = in->mnem == DIS_lidt || in->mnem == DIS_sidt;
    struct cpum_dtr *t = idt ? &c->idtr : &c->gdtr;
    if (op->kind != DIS_OP_MEM)
        rem_ud(v);
    unsigned seg = op_seg(op);
    uint64_t a = ea_off(v, op), am = rem_mask(op->mem.addr_size * 8);
    unsigned bsz = v->mode == REM_MODE_LONG ? 8 : 4;
    if (in->mnem == DIS_lgdt || in->mnem == DIS_lidt) {
        uint16_t limit = (uint16_t)rem_rd(v, seg, a, 2);
        uint64_t base = rem_rd(v, seg, (a + 2) & am, bsz);
        if (bsz == 4 && in->opsize == 2)
            base &= 0xffffff;
        if (bsz == 8 && (uint64_t)((int64_t)(base << 16) >> 16) != base)
            rem_gp0(v); /* 64-bit mode: a non-canonical base */
        t->limit = limit;
        t->base = base;
        cpum_mark_dirty(v->cpu, CPUM_STATE_SREGS);
        return;
    }
    if (v->cpl > 0 && (c->cr4 & CR4_UMIP))
        rem_gp0(v);
    rem_wr(v, seg, a, 2, t->limit);
    rem_wr(v, seg, (a + 2) & am, bsz, t->base);
}

static void seg_insn(struct rem_vcpu *v, const struct dis_insn *in)
{
    struct cpum_ctx *c = v->ctx;
    if (v->mode == REM_MODE_REAL || v->mode == REM_MODE_V86)
        rem_ud(v);
    switch (in->mnem) {
    case DIS_sldt: case DIS_str: {
        if (v->cpl > 0 && (c->cr4 & CR4_UMIP))
            rem_gp0(v);
        uint16_t sel = in->mnem == DIS_sldt ? c->ldtr.sel : c->tr.sel;
        op_set(v, &in->op[0], in->op[0].kind == DIS_OP_MEM ? 2 : in->opsize, sel);
        return;
    }
    case DIS_lldt:
        rem_load_ldtr(v, (uint16_t)op_get(v, &in->op[0], 2));
        break;
    default:
        rem_load_tr(v, (uint16_t)op_get(v, &in->op[0], 2));
        break;
    }
    cpum_mark_dirty(v->cpu, CPUM_STATE_SREGS);
}

/* LAR, LSL, VERR, VERW: ZF says whether the selector passed. */
static void desc_query(struct rem_vcpu *v, const struct dis_insn *in)
{
    if (v->mode == REM_MODE_REAL || v->mode == REM_MODE_V86)
        rem_ud(v);
    bool verx = in->mnem == DIS_verr || in->mnem == DIS_verw;
    uint16_t sel = (uint16_t)op_get(v, &in->op[verx ? 0 : 1], 2);
    bool ok = false;
    uint64_t d = 0;
    if (sel & ~3u) {
        const struct cpum_ctx *c = v->ctx;
        uint64_t limit = (sel & 4) ? c->ldtr.limit : c->gdtr.limit;
        if ((sel & 4) && !(c->ldtr.attr & CPUM_SEG_P))
            limit = 0, sel = 0;
        if (sel && (uint64_t)(sel & ~7u) + 7 <= limit) {
            d = rem_read_desc(v, sel, X86_GP);
            unsigned type = (d >> 40) & 0xf, dpl = (d >> 45) & 3;
            bool s = (d >> 44) & 1, conf = s && (type & 0xc) == 0xc;
            bool priv = conf || (dpl >= v->cpl && dpl >= (sel & 3u));
            switch (in->mnem) {
            case DIS_verr: ok = priv && s && (!(type & 8) || (type & 2)); break;
            case DIS_verw: ok = priv && s && !(type & 8) && (type & 2); break;
            case DIS_lsl:
                ok = priv && (s || type == 1 || type == 2 || type == 3 || type == 9 || type == 11);
                break;
            default:
                ok = priv && (s || type == 1 || type == 2 || type == 3 || type == 4 ||
                              type == 9 || type == 11 || type == 12);
                break;
            }
        }
    }
    if (ok && in->mnem == DIS_lsl) {
        struct cpum_seg s;
        rem_desc_to_seg(d, sel, &s);
        op_set(v, &in->op[0], in->opsize, s.limit);
    } else if (ok && in->mnem == DIS_lar) {
        op_set(v, &in->op[0], in->opsize, (d >> 32) & 0x00f0ff00);
    }
    rem_set_arith(v, FL_ZF, ok ? FL_ZF : 0);
}

/* ---- fast system calls ---------------------------------------------------------------------- */

/* SYSCALL/SYSRET exist outside 64-bit mode only on AMD (APM Vol. 3:
 * legacy and compatibility mode); Intel raises #UD there (SDM Vol. 2B). */
static void fast_call_check(struct rem_vcpu *v)
{
    if (!(v->ctx->msr.efer & EFER_SCE) || v->mode == REM_MODE_REAL || v->mode == REM_MODE_V86)
        rem_ud(v);
    if (v->mode != REM_MODE_LONG && !cpum_behaves(v->rem->policy, CPUM_B_SYSCALL_LEGACY))
        rem_ud(v);
}

static void syscall_insn(struct rem_vcpu *v)
{
    struct cpum_ctx *c = v->ctx;
    fast_call_check(v);
    uint16_t sel = (uint16_t)(c->msr.star >> 32) & 0xfffc;
    uint64_t fl = rem_get_rflags(v);
    bool lma = c->msr.efer & EFER_LMA;
    if (lma) {
        c->gpr[CPUM_RCX] = v->next_rip;
        c->gpr[CPUM_R11] = fl & ~(uint64_t)FL_RF;
        v->next_rip = v->mode == REM_MODE_LONG ? c->msr.lstar : c->msr.cstar;
        rem_set_rflags(v, fl & ~c->msr.sfmask & ~(uint64_t)FL_RF);
    } else {
        c->gpr[CPUM_RCX] = (uint32_t)v->next_rip;
        v->next_rip = (uint32_t)c->msr.star;
        rem_set_rflags(v, fl & ~(uint64_t)(FL_VM | FL_IF | FL_RF));
    }
    set_flat(&c->seg[CPUM_CS], sel, true, 0, lma);
    set_flat(&c->seg[CPUM_SS], (uint16_t)(sel + 8), false, 0, false);
    rem_update_mode(v);
    /* SFMASK cleared TF before the trap is considered: no #DB in the kernel. */
    v->step_suppress = !(c->rflags & FL_TF);
}

static void sysret_insn(struct rem_vcpu *v, const struct dis_insn *in)
{
    struct cpum_ctx *c = v->ctx;
    fast_call_check(v);
    if (v->cpl != 0)
        rem_gp0(v);
    uint16_t sel = (uint16_t)(c->msr.star >> 48);
    bool lma = c->msr.efer & EFER_LMA;
    bool to64 = lma && in->opsize == 8;
    if (to64) {
        uint64_t t = c->gpr[CPUM_RCX];
        /* Intel: #GP(0) at CPL0 before anything changes; AMD completes the
         * switch and the fetch at CPL3 faults (CPUM_B_SYSRET_USER_GP). */
        if ((uint64_t)((int64_t)(t << 16) >> 16) != t &&
            !cpum_behaves(v->rem->policy, CPUM_B_SYSRET_USER_GP))
            rem_gp0(v);
        set_flat(&c->seg[CPUM_CS], (uint16_t)((sel + 16) | 3), true, 3, true);
        v->next_rip = t;
    } else {
        set_flat(&c->seg[CPUM_CS], (uint16_t)(sel | 3), true, 3, false);
        v->next_rip = (uint32_t)c->gpr[CPUM_RCX];
    }
    if (lma)
        rem_set_rflags(v, (c->gpr[CPUM_R11] & 0x3c7fd7ull) | 2);
    else
        c->rflags |= FL_IF;
    /* SS keeps the selector's RPL 3; its cached attributes are flat data, DPL 3. */
    set_flat(&c->seg[CPUM_SS], (uint16_t)((sel + 8) | 3), false, 3, false);
    rem_update_mode(v);
}

/* SYSENTER/SYSEXIT are #UD in long mode on AMD (APM Vol. 3). */
static void sysenter_long_check(struct rem_vcpu *v)
{
    if ((v->ctx->msr.efer & EFER_LMA) && cpum_behaves(v->rem->policy, CPUM_B_SYSENTER_LONG_UD))
        rem_ud(v);
}

static void sysenter_insn(struct rem_vcpu *v)
{
    struct cpum_ctx *c = v->ctx;
    sysenter_long_check(v);
    if (v->mode == REM_MODE_REAL)
        rem_gp0(v);
    uint16_t cs = (uint16_t)c->msr.sysenter_cs & 0xfffc;
    if (!cs)
        rem_gp0(v);
    bool lma = c->msr.efer & EFER_LMA;
    rem_set_rflags(v, rem_get_rflags(v) & ~(uint64_t)(FL_VM | FL_IF | FL_RF));
    set_flat(&c->seg[CPUM_CS], cs, true, 0, lma);
    set_flat(&c->seg[CPUM_SS], (uint16_t)(cs + 8), false, 0, false);
    v->next_rip = lma ? c->msr.sysenter_eip : (uint32_t)c->msr.sysenter_eip;
    c->gpr[CPUM_RSP] = lma ? c->msr.sysenter_esp : (uint32_t)c->msr.sysenter_esp;
    rem_update_mode(v);
}

static void sysexit_insn(struct rem_vcpu *v, const struct dis_insn *in)
{
    struct cpum_ctx *c = v->ctx;
    sysenter_long_check(v);
    uint16_t cs = (uint16_t)c->msr.sysenter_cs & 0xfffc;
    if (!cs || v->mode == REM_MODE_REAL || v->mode == REM_MODE_V86 || v->cpl != 0)
        rem_gp0(v);
    bool to64 = in->opsize == 8;
    set_flat(&c->seg[CPUM_CS], (uint16_t)((cs + (to64 ? 32 : 16)) | 3), true, 3, to64);
    set_flat(&c->seg[CPUM_SS], (uint16_t)((cs + (to64 ? 40 : 24)) | 3), false, 3, false);
    v->next_rip = to64 ? c->gpr[CPUM_RDX] : (uint32_t)c->gpr[CPUM_RDX];
    c->gpr[CPUM_RSP] = to64 ? c->gpr[CPUM_RCX] : (uint32_t)c->gpr[CPUM_RCX];
    rem_update_mode(v);
}

/* ---- MSRs, CPUID, TSC ---------------------------------------------------------------------- */

static void msr_insn(struct rem_vcpu *v, const struct dis_insn *in)
{
    struct cpum_ctx *c = v->ctx;
    uint32_t msr = (uint32_t)c->gpr[CPUM_RCX];
    const struct rem_callbacks *cb = &v->rem->cb;
    if (in->mnem == DIS_rdmsr) {
        uint64_t val;
        if (msr == MSR_IA32_TSC && cb->rdtsc) {
            val = cb->rdtsc(cb->opaque);
        } else if (cpum_msr_read(v->cpu, msr, &val) != CAP_OK) {
            rem_gp0(v);
        }
        c->gpr[CPUM_RAX] = (uint32_t)val;
        c->gpr[CPUM_RDX] = val >> 32;
        return;
    }
    uint64_t val = (uint32_t)c->gpr[CPUM_RAX] | (c->gpr[CPUM_RDX] << 32);
    uint64_t old_efer = c->msr.efer, old_adjust = c->msr.tsc_adjust;
    uint64_t old_tsc = msr == MSR_IA32_TSC && cb->rdtsc ? cb->rdtsc(cb->opaque) : 0;
    if (cpum_msr_write(v->cpu, msr, val) != CAP_OK)
        rem_gp0(v);
    /* SDM 17.17.3: a TSC write adds the same difference to IA32_TSC_ADJUST,
     * an IA32_TSC_ADJUST write moves the TSC by its difference. */
    if (msr == MSR_IA32_TSC) {
        c->msr.tsc_adjust += val - old_tsc;
        if (cb->wrtsc)
            cb->wrtsc(cb->opaque, val);
    } else if (msr == MSR_IA32_TSC_ADJUST && cb->rdtsc && cb->wrtsc) {
        cb->wrtsc(cb->opaque, cb->rdtsc(cb->opaque) + (val - old_adjust));
    }
    if (msr == MSR_EFER && ((old_efer ^ c->msr.efer) & (EFER_NXE | EFER_LMA | EFER_LME)))
        rem_paging_invalidated(v);
    rem_update_mode(v);
}

bool rem_exec_sys(struct rem_vcpu *v, const struct dis_insn *in)
{
    struct cpum_ctx *c = v->ctx;
    switch (in->mnem) {
    case DIS_hlt:
        v->exit->reason = VMM_EXIT_HLT;
        v->stop = true;
        return true;
    case DIS_cpuid: {
        uint32_t out[4];
        cpum_cpuid(v->rem->policy, v->cpu->id, (uint32_t)c->gpr[CPUM_RAX],
                   (uint32_t)c->gpr[CPUM_RCX], out);
        c->gpr[CPUM_RAX] = out[0];
        c->gpr[CPUM_RBX] = out[1];
        c->gpr[CPUM_RCX] = out[2];
        c->gpr[CPUM_RDX] = out[3];
        return true;
    }
    case DIS_rdtsc: {
        if ((c->cr4 & CR4_TSD) && v->cpl > 0)
            rem_gp0(v);
        uint64_t t = v->rem->cb.rdtsc ? v->rem->cb.rdtsc(v->rem->cb.opaque) : 0;
        c->gpr[CPUM_RAX] = (uint32_t)t;
        c->gpr[CPUM_RDX] = t >> 32;
        return true;
    }
    case DIS_rdmsr: case DIS_wrmsr:
        msr_insn(v, in);
        return true;
    case DIS_movcr:
        mov_cr(v, in);
        return true;
    case DIS_movdr:
        mov_dr(v, in);
        return true;
    case DIS_lgdt: case DIS_lidt: case DIS_sgdt: case DIS_sidt:
        dtr_insn(v, in);
        return true;
    case DIS_sldt: case DIS_str: case DIS_lldt: case DIS_ltr:
        seg_insn(v, in);
        return true;
    case DIS_lar: case DIS_lsl: case DIS_verr: case DIS_verw:
        desc_query(v, in);
        return true;
    case DIS_smsw:
        if (v->cpl > 0 && (c->cr4 & CR4_UMIP))
            rem_gp0(v);
        op_set(v, &in->op[0], in->op[0].kind == DIS_OP_MEM ? 2 : in->opsize, c->cr0);
        return true;
    case DIS_lmsw: {
        uint64_t x = op_get(v, &in->op[0], 2) & 0xf;
        /* LMSW cannot clear PE. */
        write_cr0(v, (c->cr0 & ~0xeull) | x | (c->cr0 & CR0_PE));
        return true;
    }
    case DIS_clts:
        c->cr0 &= ~CR0_TS;
        return true;
    case DIS_invlpg:
        if (in->op[0].kind != DIS_OP_MEM)
            rem_ud(v);
        v->guest_invalidations++;
        rem_tlb_flush_page(v, v->mode == REM_MODE_LONG
                                  ? ea_off(v, &in->op[0]) +
                                        (op_seg(&in->op[0]) >= CPUM_FS ? c->seg[op_seg(&in->op[0])].base : 0)
                                  : (uint32_t)(c->seg[op_seg(&in->op[0])].base + ea_off(v, &in->op[0])));
        return true;
    case DIS_invd: case DIS_wbinvd: case DIS_wbnoinvd:
        return true;
    case DIS_swapgs: {
        if (v->mode != REM_MODE_LONG)
            rem_ud(v);
        uint64_t t = c->seg[CPUM_GS].base;
        c->seg[CPUM_GS].base = c->msr.kernel_gs_base;
        c->msr.kernel_gs_base = t;
        return true;
    }
    case DIS_syscall:
        syscall_insn(v);
        return true;
    case DIS_sysret:
        sysret_insn(v, in);
        return true;
    case DIS_sysenter:
        sysenter_insn(v);
        return true;
    case DIS_sysexit:
        sysexit_insn(v, in);
        return true;
    case DIS_rdpmc:
        rem_gp0(v);
    default:
        return false;
    }
}
