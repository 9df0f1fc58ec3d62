/*
 * rem_far.c - returns and far transfers in every mode: IRET (to the same
 * or an outer level, to virtual-8086 mode, back to a task's link with NT),
 * far RET (to an outer level with the stack switch), and far JMP and CALL,
 * directly or through call gates (16-, 32- and 64-bit; CALL to an inner
 * level switches to the TSS's stack and copies the gate's parameter
 * count). As everywhere in rem, checks first, stack writes next, registers
 * last (rem_xcpt.c).
 */
#include "rem_internal.h"

/* ---- returns and far transfers ------------------------------------------------ */

static uint64_t peek(struct rem_vcpu *v, unsigned off, unsigned len)
{
    uint64_t m = rem_mask(v->stack_bits);
    return rem_rd(v, CPUM_SS, (v->ctx->gpr[CPUM_RSP] + off) & m, len);
}

static void set_sp(struct rem_vcpu *v, uint64_t sp)
{
    uint64_t m = rem_mask(v->stack_bits);
    v->ctx->gpr[CPUM_RSP] = (v->ctx->gpr[CPUM_RSP] & ~m) | (sp & m);
}

/* Checks a code segment for a return to RPL `rpl`; returns its descriptor. */
static uint64_t ret_cs(struct rem_vcpu *v, uint16_t sel)
{
    unsigned rpl = sel & 3;
    if ((sel & ~3u) == 0)
        rem_gp0(v);
    uint64_t d = rem_read_desc(v, sel, X86_GP);
    if (!rem_desc_code(d) || rpl < v->cpl)
        rem_raise(v, X86_GP, sel & ~3u);
    if ((rem_desc_type(d) & 4) ? rem_desc_dpl(d) > rpl : rem_desc_dpl(d) != rpl)
        rem_raise(v, X86_GP, sel & ~3u);
    if (!rem_desc_present(d))
        rem_raise(v, X86_NP, sel & ~3u);
    return d;
}

/* Checks the SS of a return to an outer level; fills *s. */
static void ret_ss(struct rem_vcpu *v, uint16_t sel, unsigned rpl, bool to64, struct cpum_seg *s)
{
    if ((sel & ~3u) == 0) {
        if (!(to64 && rpl < 3))
            rem_gp0(v);
        rem_seg_null(s, sel);
        s->attr = (uint16_t)(rpl << CPUM_SEG_DPL_SHIFT);
        return;
    }
    uint64_t d = rem_read_desc(v, sel, X86_GP);
    if ((sel & 3) != rpl || rem_desc_dpl(d) != rpl || !rem_desc_data(d) || !(rem_desc_type(d) & 2))
        rem_raise(v, X86_GP, sel & ~3u);
    if (!rem_desc_present(d))
        rem_raise(v, X86_SS, sel & ~3u);
    rem_desc_to_seg(d | (1ull << 40), sel, s);
}

/* After a return to an outer level: data segments the new CPL may not use
 * become null. */
static void drop_inner_segs(struct rem_vcpu *v)
{
    static const unsigned regs[] = {CPUM_ES, CPUM_DS, CPUM_FS, CPUM_GS};
    for (unsigned i = 0; i < 4; i++) {
        struct cpum_seg *s = &v->ctx->seg[regs[i]];
        unsigned dpl = (s->attr & CPUM_SEG_DPL_MASK) >> CPUM_SEG_DPL_SHIFT;
        bool conf_code = (s->attr & 0x1c) == 0x1c;
        if ((s->attr & CPUM_SEG_P) && !conf_code && dpl < v->cpl) {
            /* In 64-bit mode FS/GS keep their bases (loaded through MSRs). */
            uint64_t base = s->base;
            rem_seg_null(s, 0);
            if (v->mode == REM_MODE_LONG && regs[i] >= CPUM_FS)
                s->base = base;
        }
    }
}

static uint64_t iret_flags(struct rem_vcpu *v, uint64_t nf, unsigned osz)
{
    uint64_t cur = rem_get_rflags(v);
    uint64_t mask = FL_ARITH | FL_TF | FL_DF | FL_NT | FL_RF | FL_AC | FL_ID;
    unsigned iopl = (unsigned)(cur & FL_IOPL) >> 12;
    if (v->mode == REM_MODE_REAL || v->cpl == 0)
        mask |= FL_IOPL | FL_IF | (v->mode == REM_MODE_REAL ? 0 : FL_VIF | FL_VIP);
    else if (v->cpl <= iopl)
        mask |= FL_IF;
    if (v->mode == REM_MODE_V86)
        mask &= ~(uint64_t)FL_IOPL;
    if (osz == 2)
        mask &= 0xffff;
    return (cur & ~mask) | (nf & mask);
}

void rem_iret(struct rem_vcpu *v, unsigned osz)
{
    struct cpum_ctx *c = v->ctx;
    v->nmi_blocked = false;
    /* An NMI held while blocked goes in after this IRET: end the run at the
     * next boundary, the next run's start delivers it (rem_run.c). */
    if (v->pending_nmi)
        __atomic_store_n(&v->kick, 1, __ATOMIC_SEQ_CST);
    if (v->mode == REM_MODE_REAL || v->mode == REM_MODE_V86) {
        if (v->mode == REM_MODE_V86 && ((c->rflags & FL_IOPL) >> 12) < 3)
            rem_gp0(v);
        uint64_t ip = peek(v, 0, osz), cs = peek(v, osz, 2), fl = peek(v, 2 * osz, osz);
        if (ip > c->seg[CPUM_CS].limit)
            rem_gp0(v);
        set_sp(v, c->gpr[CPUM_RSP] + 3 * osz);
        c->seg[CPUM_CS].sel = (uint16_t)cs;
        c->seg[CPUM_CS].base = (cs & 0xffff) << 4;
        c->rip = ip;
        rem_set_rflags(v, iret_flags(v, fl, osz));
        return;
    }
    if (c->rflags & FL_NT) {
        if (v->mode == REM_MODE_LONG || v->mode == REM_MODE_COMPAT)
            rem_gp0(v);
        rem_task_switch(v, (uint16_t)rem_sys_rd(v, (uint32_t)c->tr.base + REM_TSS_LINK, 2),
                        REM_TASK_IRET, REM_NO_ERR, v->next_rip, 0);
        return;
    }
    uint64_t ip = peek(v, 0, osz);
    uint16_t cs = (uint16_t)peek(v, osz, 2);
    uint64_t fl = peek(v, 2 * osz, osz);
    if (v->mode == REM_MODE_PROT && (fl & FL_VM) && v->cpl == 0 && osz == 4) {
        /* Return to virtual-8086 mode. */
        uint64_t sp = peek(v, 12, 4), ss = peek(v, 16, 2), es = peek(v, 20, 2);
        uint64_t ds = peek(v, 24, 2), fs = peek(v, 28, 2), gs = peek(v, 32, 2);
        rem_set_rflags(v, fl);
        c->rip = ip & 0xffff;
        uint16_t sels[CPUM_SREG_COUNT] = {(uint16_t)es, cs,           (uint16_t)ss,
                                          (uint16_t)ds, (uint16_t)fs, (uint16_t)gs};
        for (unsigned s = 0; s < CPUM_SREG_COUNT; s++) {
            c->seg[s].sel = sels[s];
            c->seg[s].base = (uint32_t)sels[s] << 4;
            c->seg[s].limit = 0xffff;
            c->seg[s].attr = 0xf3;
        }
        c->gpr[CPUM_RSP] = (uint32_t)sp;
        rem_update_mode(v);
        return;
    }
    uint64_t d = ret_cs(v, cs);
    unsigned rpl = cs & 3;
    bool to64 = (c->msr.efer & EFER_LMA) && ((d >> 53) & 1);
    bool lm = v->mode == REM_MODE_LONG;
    uint64_t nf = iret_flags(v, fl, osz);
    if (rpl > v->cpl || lm) {
        uint64_t sp = peek(v, 3 * osz, osz);
        uint16_t ss = (uint16_t)peek(v, 4 * osz, 2);
        struct cpum_seg nss;
        if (lm && rpl == v->cpl && (ss & ~3u) == 0 && rpl < 3) {
            nss = c->seg[CPUM_SS];
            nss.sel = ss;
        } else {
            ret_ss(v, ss, rpl, to64, &nss);
        }
        rem_commit_cs(v, d, cs, rpl);
        c->seg[CPUM_SS] = nss;
        rem_set_rflags(v, nf);
        c->rip = to64 ? ip : (uint32_t)ip;
        rem_update_mode(v);
        if (v->stack_bits == 64)
            c->gpr[CPUM_RSP] = sp;
        else
            set_sp(v, sp);
        if (osz == 4 && v->stack_bits == 32)
            c->gpr[CPUM_RSP] = (uint32_t)sp;
        drop_inner_segs(v);
        return;
    }
    set_sp(v, c->gpr[CPUM_RSP] + 3 * osz);
    rem_commit_cs(v, d, cs, rpl);
    rem_set_rflags(v, nf);
    c->rip = to64 ? ip : (uint32_t)ip;
    rem_update_mode(v);
}

void rem_far_ret(struct rem_vcpu *v, unsigned osz, uint16_t imm)
{
    struct cpum_ctx *c = v->ctx;
    uint64_t ip = peek(v, 0, osz);
    uint16_t cs = (uint16_t)peek(v, osz, 2);
    if (v->mode == REM_MODE_REAL || v->mode == REM_MODE_V86) {
        set_sp(v, c->gpr[CPUM_RSP] + 2 * osz + imm);
        c->seg[CPUM_CS].sel = cs;
        c->seg[CPUM_CS].base = (uint32_t)cs << 4;
        c->rip = osz == 2 ? (ip & 0xffff) : ip;
        return;
    }
    uint64_t d = ret_cs(v, cs);
    unsigned rpl = cs & 3;
    bool to64 = (c->msr.efer & EFER_LMA) && ((d >> 53) & 1);
    if (rpl > v->cpl) {
        uint64_t sp = peek(v, 2 * osz + imm, osz);
        uint16_t ss = (uint16_t)peek(v, 3 * osz + imm, 2);
        struct cpum_seg nss;
        ret_ss(v, ss, rpl, to64, &nss);
        rem_commit_cs(v, d, cs, rpl);
        c->seg[CPUM_SS] = nss;
        c->rip = to64 ? ip : (uint32_t)ip;
        rem_update_mode(v);
        set_sp(v, sp + imm);
        drop_inner_segs(v);
        return;
    }
    set_sp(v, c->gpr[CPUM_RSP] + 2 * osz + imm);
    rem_commit_cs(v, d, cs, rpl);
    c->rip = to64 ? ip : osz == 2 ? (ip & 0xffff) : (uint32_t)ip;
    rem_update_mode(v);
}

/* ---- call gates (SDM Vol. 3A 5.8.3-5.8.6) -------------------------------------------- */

struct gate {
    uint64_t d;      /* the target code segment's descriptor */
    uint16_t cs;     /* its selector (from the gate) */
    uint64_t off;    /* the entry point */
    unsigned params; /* 32-bit mode: stack items copied on a privilege change */
    unsigned size;   /* push size: 2 (16-bit gate), 4 (32-bit), 8 (64-bit) */
};

/* The call gate at `sel` (descriptor `gd`, a system descriptor) for a far
 * CALL (`call`) or JMP: checks the gate and its code segment in the SDM's
 * order and fills *g; commits nothing. (Task gates and TSSs are
 * far_target's: a task switch.) */
static void call_gate(struct rem_vcpu *v, uint16_t sel, uint64_t gd, bool call, struct gate *g)
{
    bool lm = v->mode == REM_MODE_LONG || v->mode == REM_MODE_COMPAT;
    unsigned type = rem_desc_type(gd);
    if (lm ? type != 0xc : (type != 4 && type != 0xc))
        rem_raise(v, X86_GP, sel & ~3u);
    if (rem_desc_dpl(gd) < v->cpl || rem_desc_dpl(gd) < (sel & 3u))
        rem_raise(v, X86_GP, sel & ~3u);
    if (!rem_desc_present(gd))
        rem_raise(v, X86_NP, sel & ~3u);
    uint64_t hi = 0;
    if (lm) { /* 16 bytes; the upper half's type field must be 0 */
        hi = rem_sys_rd(v, rem_desc_addr(v, sel, X86_GP, 16) + 8, 8);
        if ((hi >> 40) & 0x1f)
            rem_raise(v, X86_GP, sel & ~3u);
    }
    g->cs = (uint16_t)(gd >> 16);
    g->off = (gd & 0xffff) | (type == 0xc ? ((gd >> 48) & 0xffff) << 16 : 0) |
             ((hi & 0xffffffffull) << 32);
    g->params = lm ? 0 : (unsigned)(gd >> 32) & 0x1f;
    g->size = lm ? 8 : type == 0xc ? 4 : 2;
    if ((g->cs & ~3u) == 0)
        rem_gp0(v);
    uint64_t d = rem_read_desc(v, g->cs, X86_GP);
    if (!rem_desc_code(d) || rem_desc_dpl(d) > v->cpl)
        rem_raise(v, X86_GP, g->cs & ~3u);
    /* JMP never changes the privilege level. */
    if (!call && !(rem_desc_type(d) & 4) && rem_desc_dpl(d) != v->cpl)
        rem_raise(v, X86_GP, g->cs & ~3u);
    if (lm && (!((d >> 53) & 1) || ((d >> 54) & 1))) /* a 64-bit code segment */
        rem_raise(v, X86_GP, g->cs & ~3u);
    if (!rem_desc_present(d))
        rem_raise(v, X86_NP, g->cs & ~3u);
    if (lm) {
        if ((uint64_t)((int64_t)(g->off << 16) >> 16) != g->off)
            rem_gp0(v);
    } else {
        struct cpum_seg t;
        rem_desc_to_seg(d, g->cs, &t);
        if (g->off > t.limit)
            rem_gp0(v);
    }
    g->d = d;
}

static void gate_jmp(struct rem_vcpu *v, const struct gate *g)
{
    rem_commit_cs(v, g->d, g->cs, v->cpl);
    v->ctx->rip = g->off;
    rem_update_mode(v);
}

static void gate_call(struct rem_vcpu *v, const struct gate *g)
{
    struct cpum_ctx *c = v->ctx;
    bool lm = v->mode == REM_MODE_LONG || v->mode == REM_MODE_COMPAT;
    unsigned ncpl = (rem_desc_type(g->d) & 4) ? v->cpl : rem_desc_dpl(g->d);
    struct rem_frame f = {.n = 0};
    struct cpum_seg nss = c->seg[CPUM_SS];
    uint64_t sp = c->gpr[CPUM_RSP];
    unsigned sbits = v->stack_bits;
    uint64_t lmask = g->size == 8 ? ~0ull : rem_mask(8 * g->size);
    if (ncpl < v->cpl) {
        if (lm) {
            /* The new RSP from the 64-bit TSS; SS becomes NULL with RPL = CPL. */
            sp = rem_sys_rd(v, c->tr.base + 4 + 8 * ncpl, 8);
            if ((uint64_t)((int64_t)(sp << 16) >> 16) != sp)
                rem_raise(v, X86_SS, 0);
            rem_seg_null(&nss, (uint16_t)ncpl);
            nss.attr = (uint16_t)(ncpl << CPUM_SEG_DPL_SHIFT);
            sbits = 64;
        } else {
            uint16_t ss;
            uint64_t esp;
            rem_tss_stack(v, ncpl, &ss, &esp, 0);
            if ((ss & ~3u) == 0)
                rem_raise(v, X86_TS, 0);
            uint64_t sd = rem_read_desc(v, ss, X86_TS);
            if ((ss & 3) != ncpl || rem_desc_dpl(sd) != ncpl || !rem_desc_data(sd) ||
                !(rem_desc_type(sd) & 2))
                rem_raise(v, X86_TS, ss & ~3u);
            if (!rem_desc_present(sd))
                rem_raise(v, X86_SS, ss & ~3u);
            rem_desc_to_seg(sd | (1ull << 40), ss, &nss);
            sp = esp;
            sbits = (nss.attr & CPUM_SEG_DB) ? 32 : 16;
        }
        rem_frame_push(&f, c->seg[CPUM_SS].sel);
        rem_frame_push(&f, c->gpr[CPUM_RSP] & lmask);
        /* Parameters: copied from the caller's stack in their order. */
        for (unsigned i = g->params; i-- > 0;)
            rem_frame_push(
                &f, rem_rd(v, CPUM_SS,
                           (c->gpr[CPUM_RSP] + (uint64_t)i * g->size) & rem_mask(v->stack_bits),
                           g->size));
    }
    rem_frame_push(&f, c->seg[CPUM_CS].sel);
    rem_frame_push(&f, v->next_rip & lmask);
    sp = rem_frame_write(v, &f, lm ? 0 : nss.base, sp, sbits, g->size, ncpl == 3, lm);
    /* Commit. */
    c->seg[CPUM_SS] = nss;
    c->gpr[CPUM_RSP] = sbits == 64 ? sp : (c->gpr[CPUM_RSP] & ~rem_mask(sbits)) | sp;
    rem_commit_cs(v, g->d, g->cs, ncpl);
    c->rip = g->off;
    rem_update_mode(v);
}

/* Direct far JMP/CALL target in protected mode: checks, returns descriptor.
 * A system descriptor (a gate) is left to the caller: *gate set, 0 returned. */
static uint64_t far_target(struct rem_vcpu *v, uint16_t sel, bool call, struct gate *gate,
                           bool *is_gate)
{
    *is_gate = false;
    if ((sel & ~3u) == 0)
        rem_gp0(v);
    uint64_t d = rem_read_desc(v, sel, X86_GP);
    unsigned type = rem_desc_type(d);
    bool lm = v->mode == REM_MODE_LONG || v->mode == REM_MODE_COMPAT;
    if (!((d >> 44) & 1) && !lm &&
        (type == 5 || type == 1 || type == 9 || type == 3 || type == 0xb)) {
        /* A task gate or a TSS: a task switch (a busy TSS faults in rem_task_switch). */
        if (rem_desc_dpl(d) < v->cpl || rem_desc_dpl(d) < (sel & 3u))
            rem_raise(v, X86_GP, sel & ~3u);
        if (!rem_desc_present(d))
            rem_raise(v, X86_NP, sel & ~3u);
        rem_task_switch(v, type == 5 ? (uint16_t)(d >> 16) : sel,
                        call ? REM_TASK_CALL : REM_TASK_JMP, REM_NO_ERR, v->next_rip, 0);
        *is_gate = true;
        gate->cs = 0; /* done: the caller commits nothing */
        return 0;
    }
    if (!((d >> 44) & 1)) {
        call_gate(v, sel, d, call, gate);
        *is_gate = true;
        return 0;
    }
    if (!rem_desc_code(d))
        rem_raise(v, X86_GP, sel & ~3u);
    if ((rem_desc_type(d) & 4) ? rem_desc_dpl(d) > v->cpl
                               : ((sel & 3) > v->cpl || rem_desc_dpl(d) != v->cpl))
        rem_raise(v, X86_GP, sel & ~3u);
    if (!rem_desc_present(d))
        rem_raise(v, X86_NP, sel & ~3u);
    return d;
}

void rem_far_jmp(struct rem_vcpu *v, uint16_t sel, uint64_t off, unsigned osz)
{
    struct cpum_ctx *c = v->ctx;
    if (v->mode == REM_MODE_REAL || v->mode == REM_MODE_V86) {
        c->seg[CPUM_CS].sel = sel;
        c->seg[CPUM_CS].base = (uint32_t)sel << 4;
        c->rip = off;
        return;
    }
    struct gate g;
    bool is_gate;
    uint64_t d = far_target(v, sel, false, &g, &is_gate);
    if (is_gate) {
        if (g.cs) /* 0: a task switch, already done */
            gate_jmp(v, &g);
        return;
    }
    rem_commit_cs(v, d, sel, v->cpl);
    c->rip = off;
    rem_update_mode(v);
}

void rem_far_call(struct rem_vcpu *v, uint16_t sel, uint64_t off, unsigned osz)
{
    struct cpum_ctx *c = v->ctx;
    uint64_t d = 0;
    if (v->mode != REM_MODE_REAL && v->mode != REM_MODE_V86) {
        struct gate g;
        bool is_gate;
        d = far_target(v, sel, true, &g, &is_gate);
        if (is_gate) {
            if (g.cs)
                gate_call(v, &g);
            return;
        }
    }
    uint64_t m = rem_mask(v->stack_bits), sp = c->gpr[CPUM_RSP];
    rem_wr(v, CPUM_SS, (sp - osz) & m, osz, c->seg[CPUM_CS].sel);
    rem_wr(v, CPUM_SS, (sp - 2 * osz) & m, osz, v->next_rip);
    c->gpr[CPUM_RSP] = (sp & ~m) | ((sp - 2 * osz) & m);
    if (v->mode == REM_MODE_REAL || v->mode == REM_MODE_V86) {
        c->seg[CPUM_CS].sel = sel;
        c->seg[CPUM_CS].base = (uint32_t)sel << 4;
        c->rip = off;
        return;
    }
    rem_commit_cs(v, d, sel, v->cpl);
    c->rip = off;
    rem_update_mode(v);
}
