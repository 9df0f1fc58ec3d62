/*
 * rem_seg.c - modes and descriptors: the CPU mode and operand/stack sizes
 * cached from the context, GDT/LDT descriptor reads, segment register loads
 * with their checks (MOV/POP Sreg, LDS..., LLDT, LTR), and the stack
 * plumbing every transfer through descriptors shares (the TSS's inner
 * stacks, stack frames written below a stack pointer, committing CS).
 *
 * Loads check everything before they change a register, so a fault leaves
 * the context as it was (the rule rem_xcpt.c describes).
 */
#include "rem_internal.h"

/* ---- modes and descriptors ---------------------------------------------------- */

void rem_update_mode(struct rem_vcpu *v)
{
    struct cpum_ctx *c = v->ctx;
    v->epoch++; /* a running block stops after this instruction */
    if (!(c->cr0 & CR0_PE)) {
        v->mode = REM_MODE_REAL;
        v->cpl = 0;
    } else if (c->rflags & FL_VM) {
        v->mode = REM_MODE_V86;
        v->cpl = 3;
    } else {
        v->cpl = (c->seg[CPUM_SS].attr & CPUM_SEG_DPL_MASK) >> CPUM_SEG_DPL_SHIFT;
        if (c->msr.efer & EFER_LMA)
            v->mode = (c->seg[CPUM_CS].attr & CPUM_SEG_L) ? REM_MODE_LONG : REM_MODE_COMPAT;
        else
            v->mode = REM_MODE_PROT;
    }
    if (v->mode == REM_MODE_LONG) {
        v->code_bits = 64;
        v->stack_bits = 64;
    } else {
        v->code_bits = (v->mode != REM_MODE_V86 && (c->seg[CPUM_CS].attr & CPUM_SEG_DB)) ? 32 : 16;
        v->stack_bits = (v->mode != REM_MODE_V86 && (c->seg[CPUM_SS].attr & CPUM_SEG_DB)) ? 32 : 16;
    }
}

void rem_desc_to_seg(uint64_t d, uint16_t sel, struct cpum_seg *s)
{
    uint32_t limit = (uint32_t)(d & 0xffff) | (uint32_t)((d >> 32) & 0xf0000);
    uint16_t attr = (uint16_t)(((d >> 40) & 0xff) | (((d >> 52) & 0xf) << 12));
    if (attr & CPUM_SEG_G)
        limit = (limit << 12) | 0xfff;
    s->sel = sel;
    s->attr = attr;
    s->limit = limit;
    s->base = ((d >> 16) & 0xffffff) | ((d >> 56) << 24);
}

uint64_t rem_desc_addr(struct rem_vcpu *v, uint16_t sel, unsigned vec, unsigned len)
{
    const struct cpum_ctx *c = v->ctx;
    uint64_t base, limit;
    if (sel & 4) {
        if (!(c->ldtr.attr & CPUM_SEG_P) || (c->ldtr.sel & ~3) == 0)
            rem_raise(v, vec, sel & ~3u);
        base = c->ldtr.base;
        limit = c->ldtr.limit;
    } else {
        base = c->gdtr.base;
        limit = c->gdtr.limit;
    }
    if ((uint64_t)(sel & ~7u) + len - 1 > limit)
        rem_raise(v, vec, sel & ~3u);
    uint64_t la = base + (sel & ~7u);
    return v->mode == REM_MODE_LONG || v->mode == REM_MODE_COMPAT ? la : (uint32_t)la;
}

uint64_t rem_read_desc(struct rem_vcpu *v, uint16_t sel, unsigned vec)
{
    return rem_sys_rd(v, rem_desc_addr(v, sel, vec, 8), 8);
}

void rem_set_accessed(struct rem_vcpu *v, uint16_t sel, uint64_t d)
{
    if (!(d & (1ull << 40)))
        rem_sys_wr(v, rem_desc_addr(v, sel, X86_GP, 8) + 5, 1, (uint8_t)((d >> 40) | 1));
}

void rem_seg_null(struct cpum_seg *s, uint16_t sel)
{
    s->sel = sel;
    s->base = 0;
    s->limit = 0;
    s->attr = 0; /* unusable */
}

void rem_load_sreg(struct rem_vcpu *v, unsigned sreg, uint16_t sel)
{
    struct cpum_seg *s = &v->ctx->seg[sreg];
    if (v->mode == REM_MODE_REAL || v->mode == REM_MODE_V86) {
        s->sel = sel;
        s->base = (uint32_t)sel << 4;
        if (v->mode == REM_MODE_V86) {
            s->limit = 0xffff;
            s->attr = 0xf3;
        } else if (!(s->attr & CPUM_SEG_P)) {
            s->attr = 0x93 | (sreg == CPUM_CS ? 0x08 : 0);
        }
        if (sreg == CPUM_SS)
            rem_update_mode(v);
        return;
    }
    unsigned rpl = sel & 3, cpl = v->cpl;
    if ((sel & ~3u) == 0) {
        if (sreg == CPUM_SS && !(v->mode == REM_MODE_LONG && cpl < 3 && rpl == cpl))
            rem_gp0(v);
        rem_seg_null(s, sel);
        if (sreg == CPUM_SS) {
            s->attr = (uint16_t)(cpl << CPUM_SEG_DPL_SHIFT);
            rem_update_mode(v);
        }
        return;
    }
    uint64_t d = rem_read_desc(v, sel, X86_GP);
    unsigned dpl = rem_desc_dpl(d);
    if (sreg == CPUM_SS) {
        if (rpl != cpl || dpl != cpl || !rem_desc_data(d) || !(rem_desc_type(d) & 2))
            rem_raise(v, X86_GP, sel & ~3u);
        if (!rem_desc_present(d))
            rem_raise(v, X86_SS, sel & ~3u);
    } else {
        if (!(rem_desc_data(d) || (rem_desc_code(d) && (rem_desc_type(d) & 2))))
            rem_raise(v, X86_GP, sel & ~3u);
        if ((rem_desc_data(d) || !(rem_desc_type(d) & 4)) && (rpl > dpl || cpl > dpl))
            rem_raise(v, X86_GP, sel & ~3u);
        if (!rem_desc_present(d))
            rem_raise(v, X86_NP, sel & ~3u);
    }
    rem_set_accessed(v, sel, d);
    rem_desc_to_seg(d | (1ull << 40), sel, s);
    if (sreg == CPUM_SS)
        rem_update_mode(v);
}

/* Reads a system descriptor (16 bytes in long mode) for LLDT/LTR. */
static void load_system_seg(struct rem_vcpu *v, uint16_t sel, struct cpum_seg *s, unsigned want1,
                            unsigned want2, bool busy)
{
    if (sel & 4)
        rem_raise(v, X86_GP, sel & ~3u);
    bool lm = v->ctx->msr.efer & EFER_LMA;
    uint64_t la = rem_desc_addr(v, sel, X86_GP, lm ? 16 : 8);
    uint64_t d = rem_sys_rd(v, la, 8);
    unsigned t = rem_desc_type(d);
    if (((d >> 44) & 1) || (t != want1 && t != want2))
        rem_raise(v, X86_GP, sel & ~3u);
    if (!rem_desc_present(d))
        rem_raise(v, X86_NP, sel & ~3u);
    uint64_t hi = lm ? rem_sys_rd(v, la + 8, 4) : 0;
    struct cpum_seg ns;
    rem_desc_to_seg(d | (busy ? 2ull << 40 : 0), sel, &ns);
    ns.base |= hi << 32;
    if (lm && (uint64_t)((int64_t)(ns.base << 16) >> 16) != ns.base)
        rem_raise(v, X86_GP, sel & ~3u); /* IA-32e mode: a non-canonical base */
    if (busy)
        rem_sys_wr(v, la + 5, 1, (uint8_t)((d >> 40) | 2));
    *s = ns;
}

void rem_load_ldtr(struct rem_vcpu *v, uint16_t sel)
{
    if ((sel & ~3u) == 0) {
        rem_seg_null(&v->ctx->ldtr, sel);
        return;
    }
    load_system_seg(v, sel, &v->ctx->ldtr, 2, 2, false);
}

void rem_load_tr(struct rem_vcpu *v, uint16_t sel)
{
    if ((sel & ~3u) == 0)
        rem_gp0(v);
    load_system_seg(v, sel, &v->ctx->tr, 9, 1, true);
}

/* ---- stacks and frames (shared by delivery, task switches, far transfers) ---- */

void rem_tss_stack(struct rem_vcpu *v, unsigned dpl, uint16_t *ss, uint64_t *sp, uint32_t ext)
{
    const struct cpum_seg *tr = &v->ctx->tr;
    unsigned type = tr->attr & 0xf;
    if (type == 0xb || type == 0x9) {
        if (8 * dpl + 9 > tr->limit)
            rem_raise(v, X86_TS, (tr->sel & ~3u) | ext);
        *sp = rem_sys_rd(v, (uint32_t)(tr->base + 4 + 8 * dpl), 4);
        *ss = (uint16_t)rem_sys_rd(v, (uint32_t)(tr->base + 8 + 8 * dpl), 2);
    } else {
        if (4 * dpl + 5 > tr->limit)
            rem_raise(v, X86_TS, (tr->sel & ~3u) | ext);
        *sp = rem_sys_rd(v, (uint32_t)(tr->base + 2 + 4 * dpl), 2);
        *ss = (uint16_t)rem_sys_rd(v, (uint32_t)(tr->base + 4 + 4 * dpl), 2);
    }
}

uint64_t rem_frame_write(struct rem_vcpu *v, const struct rem_frame *f, uint64_t base, uint64_t sp,
                         unsigned bits, unsigned size, bool user, bool flat)
{
    uint64_t m = rem_mask(bits);
    for (unsigned i = 0; i < f->n; i++) {
        sp = (sp - size) & m;
        uint64_t la = base + sp;
        rem_lin_write(v, flat ? la : (uint32_t)la, &f->val[i], size, user);
    }
    return sp;
}

void rem_commit_cs(struct rem_vcpu *v, uint64_t d, uint16_t sel, unsigned cpl)
{
    rem_desc_to_seg(d | (1ull << 40), (uint16_t)((sel & ~3u) | cpl), &v->ctx->seg[CPUM_CS]);
}
