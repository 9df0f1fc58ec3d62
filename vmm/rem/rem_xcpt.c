/*
 * rem_xcpt.c - exceptions, interrupts and everything that changes CS or SS
 * through descriptors: delivery through the real-mode IVT, the 32-bit IDT
 * (interrupt and trap gates, privilege change with the TSS stack switch,
 * entry from virtual-8086 mode) and the long-mode IDT (16-byte gates, IST,
 * SS = NULL on a privilege change); the double-fault and triple-fault
 * rules; segment register loads with their checks; IRET, far JMP, CALL and
 * RET in every mode.
 *
 * Every transfer reads and checks everything first, writes the stack frame
 * next and commits registers last, so that a fault anywhere leaves the
 * context as it was and the fault itself can be delivered (SDM Vol. 3A
 * 6.15, "interrupt 8"). Far JMP and CALL go through call gates (16-, 32-
 * and 64-bit; CALL to an inner level switches to the TSS's stack and copies
 * the gate's parameter count); the matching far RET to an outer level is
 * rem_far_ret's. Task switches (JMP/CALL to a TSS or task gate, a task
 * gate in the IDT, IRET with NT) work with 32-bit TSSs; a 16-bit TSS stops
 * the run as an emulation failure naming what is missing.
 */
#include "rem_internal.h"

/* ---- raising ---------------------------------------------------------------- */

_Noreturn void rem_raise(struct rem_vcpu *v, unsigned vec, uint32_t err)
{
    v->xcpt_vec = vec;
    v->xcpt_err = err;
    longjmp(v->jb, 1);
}

_Noreturn void rem_raise_pf(struct rem_vcpu *v, uint64_t cr2, uint32_t err)
{
    v->xcpt_cr2 = cr2;
    rem_raise(v, X86_PF, err);
}

static bool has_error_code(unsigned vec)
{
    return vec == X86_DF || (vec >= X86_TS && vec <= X86_PF) || vec == X86_AC;
}

static bool contributory(unsigned vec)
{
    return vec == X86_DE || (vec >= X86_TS && vec <= X86_GP);
}

void rem_handle_xcpt(struct rem_vcpu *v)
{
    unsigned vec = v->xcpt_vec;
    uint32_t err = v->xcpt_err;
    unsigned prev = v->delivering;
    if (prev != REM_NO_VECTOR) {
        if (prev == X86_DF) {
            v->delivering = REM_NO_VECTOR;
            v->exit->reason = VMM_EXIT_SHUTDOWN;
            v->stop = true;
            return;
        }
        if ((contributory(prev) && contributory(vec)) ||
            (prev == X86_PF && (vec == X86_PF || contributory(vec)))) {
            vec = X86_DF;
            err = 0;
        }
    }
    if (vec == X86_PF)
        v->ctx->cr2 = v->xcpt_cr2;
    if (!has_error_code(vec))
        err = REM_NO_ERR;
    /* Fault-class exceptions push RF=1 (SDM: every fault but an instruction-
     * breakpoint #DB), so IRET back does not re-trigger a code breakpoint. */
    if (vec != X86_DB && vec != X86_BP && vec != X86_OF)
        v->ctx->rflags |= FL_RF;
    v->delivering = vec;
    rem_deliver(v, vec, err, REM_INT_XCPT);
    v->delivering = REM_NO_VECTOR;
}

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

static uint64_t desc_addr(struct rem_vcpu *v, uint16_t sel, unsigned vec, unsigned len)
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
    return rem_sys_rd(v, desc_addr(v, sel, vec, 8), 8);
}

static void set_accessed(struct rem_vcpu *v, uint16_t sel, uint64_t d)
{
    if (!(d & (1ull << 40)))
        rem_sys_wr(v, desc_addr(v, sel, X86_GP, 8) + 5, 1, (uint8_t)((d >> 40) | 1));
}

static unsigned d_dpl(uint64_t d)
{
    return (unsigned)(d >> 45) & 3;
}
static unsigned d_type(uint64_t d)
{
    return (unsigned)(d >> 40) & 0xf;
}
static bool d_present(uint64_t d)
{
    return (d >> 47) & 1;
}
static bool d_code(uint64_t d)
{
    return ((d >> 44) & 1) && (d_type(d) & 8);
}
static bool d_data(uint64_t d)
{
    return ((d >> 44) & 1) && !(d_type(d) & 8);
}

static void seg_null(struct cpum_seg *s, uint16_t sel)
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
        seg_null(s, sel);
        if (sreg == CPUM_SS) {
            s->attr = (uint16_t)(cpl << CPUM_SEG_DPL_SHIFT);
            rem_update_mode(v);
        }
        return;
    }
    uint64_t d = rem_read_desc(v, sel, X86_GP);
    unsigned dpl = d_dpl(d);
    if (sreg == CPUM_SS) {
        if (rpl != cpl || dpl != cpl || !d_data(d) || !(d_type(d) & 2))
            rem_raise(v, X86_GP, sel & ~3u);
        if (!d_present(d))
            rem_raise(v, X86_SS, sel & ~3u);
    } else {
        if (!(d_data(d) || (d_code(d) && (d_type(d) & 2))))
            rem_raise(v, X86_GP, sel & ~3u);
        if ((d_data(d) || !(d_type(d) & 4)) && (rpl > dpl || cpl > dpl))
            rem_raise(v, X86_GP, sel & ~3u);
        if (!d_present(d))
            rem_raise(v, X86_NP, sel & ~3u);
    }
    set_accessed(v, sel, d);
    rem_desc_to_seg(d | (1ull << 40), sel, s);
    if (sreg == CPUM_SS)
        rem_update_mode(v);
}

/* Reads a system descriptor (16 bytes in long mode) for LLDT/LTR. */
static void load_system_seg(struct rem_vcpu *v, uint16_t sel, struct cpum_seg *s,
                            unsigned want1, unsigned want2, bool busy)
{
    if (sel & 4)
        rem_raise(v, X86_GP, sel & ~3u);
    bool lm = v->ctx->msr.efer & EFER_LMA;
    uint64_t la = desc_addr(v, sel, X86_GP, lm ? 16 : 8);
    uint64_t d = rem_sys_rd(v, la, 8);
    unsigned t = d_type(d);
    if (((d >> 44) & 1) || (t != want1 && t != want2))
        rem_raise(v, X86_GP, sel & ~3u);
    if (!d_present(d))
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
        seg_null(&v->ctx->ldtr, sel);
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

/* ---- delivery --------------------------------------------------------------- */

struct frame {
    uint64_t val[12];
    unsigned n;
};

static void fpush(struct frame *f, uint64_t x)
{
    f->val[f->n++] = x;
}

/* Writes the frame (first pushed first) below `sp` on the stack at `base`
 * with `bits`-wide stack pointer; returns the new stack pointer. */
static uint64_t frame_write(struct rem_vcpu *v, const struct frame *f, uint64_t base,
                            uint64_t sp, unsigned bits, unsigned size, bool user, bool flat)
{
    uint64_t m = rem_mask(bits);
    for (unsigned i = 0; i < f->n; i++) {
        sp = (sp - size) & m;
        uint64_t la = base + sp;
        rem_lin_write(v, flat ? la : (uint32_t)la, &f->val[i], size, user);
    }
    return sp;
}

static uint64_t ret_rip(struct rem_vcpu *v, enum rem_int_kind kind)
{
    return kind == REM_INT_SOFT || kind == REM_INT_ICEBP ? v->next_rip : v->ctx->rip;
}

static void deliver_real(struct rem_vcpu *v, unsigned vec, enum rem_int_kind kind)
{
    struct cpum_ctx *c = v->ctx;
    if ((uint64_t)vec * 4 + 3 > c->idtr.limit)
        rem_raise(v, X86_GP, (vec << 3) | 2);
    uint32_t ent = (uint32_t)rem_sys_rd(v, c->idtr.base + vec * 4, 4);
    struct frame f = { .n = 0 };
    fpush(&f, rem_get_rflags(v) & 0xffff);
    fpush(&f, c->seg[CPUM_CS].sel);
    fpush(&f, ret_rip(v, kind) & 0xffff);
    uint64_t sp = frame_write(v, &f, c->seg[CPUM_SS].base, c->gpr[CPUM_RSP], v->stack_bits, 2,
                              false, false);
    c->gpr[CPUM_RSP] = (c->gpr[CPUM_RSP] & ~rem_mask(v->stack_bits)) | sp;
    c->rflags &= ~(uint64_t)(FL_IF | FL_TF | FL_AC | FL_RF);
    c->seg[CPUM_CS].sel = (uint16_t)(ent >> 16);
    c->seg[CPUM_CS].base = (ent >> 16) << 4;
    c->rip = ent & 0xffff;
}

/* Reads the inner stack for privilege level `dpl` from the TSS. */
static void tss_stack(struct rem_vcpu *v, unsigned dpl, uint16_t *ss, uint64_t *sp, uint32_t ext)
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

/* Reads and checks the gate's code segment; returns its descriptor. */
static uint64_t gate_cs(struct rem_vcpu *v, uint16_t sel, uint32_t ext)
{
    if ((sel & ~3u) == 0)
        rem_raise(v, X86_GP, ext);
    uint64_t d = rem_read_desc(v, sel, X86_GP);
    if (!d_code(d) || d_dpl(d) > v->cpl)
        rem_raise(v, X86_GP, (sel & ~3u) | ext);
    if (!d_present(d))
        rem_raise(v, X86_NP, (sel & ~3u) | ext);
    return d;
}

static void commit_cs(struct rem_vcpu *v, uint64_t d, uint16_t sel, unsigned cpl)
{
    rem_desc_to_seg(d | (1ull << 40), (uint16_t)((sel & ~3u) | cpl), &v->ctx->seg[CPUM_CS]);
}

/* ---- task switches (SDM Vol. 3A 7.3; 32-bit TSS) ------------------------------------ */

enum task_reason { TASK_JMP, TASK_CALL, TASK_IRET, TASK_INT };

#define TSS_LINK 0x00
#define TSS_CR3 0x1c
#define TSS_EIP 0x20
#define TSS_EFLAGS 0x24
#define TSS_GPR 0x28  /* EAX..EDI, 4 bytes each, in CPUM's order */
#define TSS_SREG 0x48 /* ES CS SS DS FS GS, 4 bytes apart */
#define TSS_LDT 0x60
#define TSS32_MIN_LIMIT 0x67

/* A segment register of the new task (after the switch: a fault here is
 * the new task's, #TS for a bad selector as the SDM's table 7-1 says). */
static void task_sreg(struct rem_vcpu *v, unsigned sreg, uint16_t sel)
{
    struct cpum_seg *s = &v->ctx->seg[sreg];
    if ((sel & ~3u) == 0) {
        if (sreg == CPUM_SS || sreg == CPUM_CS)
            rem_raise(v, X86_TS, sel & ~3u);
        seg_null(s, sel);
        return;
    }
    uint64_t d = rem_read_desc(v, sel, X86_TS);
    unsigned rpl = sel & 3, dpl = d_dpl(d), cpl = v->cpl;
    if (sreg == CPUM_CS) {
        if (!d_code(d) || ((d_type(d) & 4) ? dpl > rpl : dpl != rpl))
            rem_raise(v, X86_TS, sel & ~3u);
    } else if (sreg == CPUM_SS) {
        if (rpl != cpl || dpl != cpl || !d_data(d) || !(d_type(d) & 2))
            rem_raise(v, X86_TS, sel & ~3u);
    } else if (!(d_data(d) || (d_code(d) && (d_type(d) & 2))) ||
               ((d_data(d) || !(d_type(d) & 4)) && (rpl > dpl || cpl > dpl))) {
        rem_raise(v, X86_TS, sel & ~3u);
    }
    if (!d_present(d))
        rem_raise(v, sreg == CPUM_SS ? X86_SS : X86_NP, sel & ~3u);
    set_accessed(v, sel, d);
    rem_desc_to_seg(d | (1ull << 40), sel, s);
}

/* Switches to the task of TSS selector `sel`: JMP / CALL to a TSS or a task
 * gate, an interrupt or exception through a task gate (`err` pushed on the
 * new task's stack unless REM_NO_ERR), or IRET with NT set (back to the
 * link). The current task's state is saved with EIP = `ret_eip`. Checks
 * come first and fault in the old task; from the register loads on, faults
 * belong to the new one. 16-bit TSSs are not implemented. */
static void task_switch(struct rem_vcpu *v, uint16_t sel, enum task_reason why, uint32_t err,
                        uint64_t ret_eip, uint32_t ext)
{
    struct cpum_ctx *c = v->ctx;
    unsigned bad = why == TASK_IRET ? X86_TS : X86_GP;
    if (sel & 4)
        rem_raise(v, bad, (sel & ~3u) | ext);
    uint64_t d = rem_read_desc(v, sel, bad);
    unsigned type = d_type(d);
    if (!((d >> 44) & 1) && (type == 1 || type == 3))
        rem_unimplemented(v); /* a 16-bit TSS */
    if (((d >> 44) & 1) || type != (why == TASK_IRET ? 0xbu : 9u))
        rem_raise(v, bad, (sel & ~3u) | ext);
    if (!d_present(d))
        rem_raise(v, X86_NP, (sel & ~3u) | ext);
    struct cpum_seg nt;
    rem_desc_to_seg(d, sel, &nt);
    if (nt.limit < TSS32_MIN_LIMIT || c->tr.limit < TSS32_MIN_LIMIT)
        rem_raise(v, X86_TS, (sel & ~3u) | ext);
    uint32_t nb = (uint32_t)nt.base, ob = (uint32_t)c->tr.base;
    /* Read the new task's state, then save the current one. */
    uint32_t ncr3 = (uint32_t)rem_sys_rd(v, nb + TSS_CR3, 4);
    uint32_t neip = (uint32_t)rem_sys_rd(v, nb + TSS_EIP, 4);
    uint64_t nfl = rem_sys_rd(v, nb + TSS_EFLAGS, 4);
    uint32_t ngpr[8];
    uint16_t nsel[CPUM_SREG_COUNT];
    for (unsigned i = 0; i < 8; i++)
        ngpr[i] = (uint32_t)rem_sys_rd(v, nb + TSS_GPR + 4 * i, 4);
    for (unsigned i = 0; i < CPUM_SREG_COUNT; i++)
        nsel[i] = (uint16_t)rem_sys_rd(v, nb + TSS_SREG + 4 * i, 2);
    uint16_t nldt = (uint16_t)rem_sys_rd(v, nb + TSS_LDT, 2);
    uint64_t fl = rem_get_rflags(v);
    if (why == TASK_JMP || why == TASK_IRET)
        fl &= ~(uint64_t)FL_NT;
    rem_sys_wr(v, ob + TSS_EIP, 4, (uint32_t)ret_eip);
    rem_sys_wr(v, ob + TSS_EFLAGS, 4, (uint32_t)fl);
    for (unsigned i = 0; i < 8; i++)
        rem_sys_wr(v, ob + TSS_GPR + 4 * i, 4, (uint32_t)c->gpr[i]);
    for (unsigned i = 0; i < CPUM_SREG_COUNT; i++)
        rem_sys_wr(v, ob + TSS_SREG + 4 * i, 2, c->seg[i].sel);
    /* Busy bits and the back link. */
    if (why == TASK_JMP || why == TASK_IRET) {
        uint64_t od = rem_read_desc(v, c->tr.sel, X86_TS);
        rem_sys_wr(v, desc_addr(v, c->tr.sel, X86_TS, 8) + 5, 1, (uint8_t)((od >> 40) & ~2u));
    }
    if (why != TASK_IRET)
        rem_sys_wr(v, desc_addr(v, sel, bad, 8) + 5, 1, (uint8_t)((d >> 40) | 2u));
    if (why == TASK_CALL || why == TASK_INT) {
        rem_sys_wr(v, nb + TSS_LINK, 2, c->tr.sel);
        nfl |= FL_NT;
    }
    /* The switch: TR, CR0.TS, CR3, then the registers. */
    nt.attr |= 2; /* busy */
    c->tr = nt;
    c->cr0 |= CR0_TS;
    if (c->cr0 & CR0_PG) {
        c->cr3 = ncr3;
        rem_paging_changed(v);
    }
    c->rip = neip;
    for (unsigned i = 0; i < 8; i++)
        c->gpr[i] = ngpr[i];
    rem_set_rflags(v, nfl | 2);
    if (nfl & FL_VM) {
        for (unsigned i = 0; i < CPUM_SREG_COUNT; i++) {
            c->seg[i].sel = nsel[i];
            c->seg[i].base = (uint32_t)nsel[i] << 4;
            c->seg[i].limit = 0xffff;
            c->seg[i].attr = 0xf3;
        }
        rem_update_mode(v);
        rem_load_ldtr(v, nldt);
    } else {
        /* Selectors first (what a fault in the loads below leaves), then
         * the LDT (the segments may live there), CS (the new CPL), SS and
         * the data segments. */
        for (unsigned i = 0; i < CPUM_SREG_COUNT; i++)
            seg_null(&c->seg[i], nsel[i]);
        c->seg[CPUM_CS].attr = 0x9b | (uint16_t)((nsel[CPUM_CS] & 3) << CPUM_SEG_DPL_SHIFT) |
                               CPUM_SEG_DB;
        rem_update_mode(v);
        rem_load_ldtr(v, nldt);
        task_sreg(v, CPUM_CS, nsel[CPUM_CS]);
        rem_update_mode(v);
        task_sreg(v, CPUM_SS, nsel[CPUM_SS]);
        static const unsigned data[] = { CPUM_ES, CPUM_DS, CPUM_FS, CPUM_GS };
        for (unsigned i = 0; i < 4; i++)
            task_sreg(v, data[i], nsel[data[i]]);
        rem_update_mode(v);
    }
    if (c->rip > c->seg[CPUM_CS].limit)
        rem_gp0(v);
    if (err != REM_NO_ERR)
        rem_push(v, (c->seg[CPUM_CS].attr & CPUM_SEG_DB) ? 4 : 2, err);
}

static void deliver_prot(struct rem_vcpu *v, unsigned vec, uint32_t err, enum rem_int_kind kind)
{
    struct cpum_ctx *c = v->ctx;
    uint32_t ext = kind == REM_INT_SOFT ? 0 : 1;
    uint32_t gerr = (vec << 3) | 2 | ext;
    if ((uint64_t)vec * 8 + 7 > c->idtr.limit)
        rem_raise(v, X86_GP, gerr);
    uint64_t g = rem_sys_rd(v, (uint32_t)(c->idtr.base + vec * 8), 8);
    unsigned type = d_type(g);
    if ((g >> 44) & 1 || (type != 5 && type != 6 && type != 7 && type != 0xe && type != 0xf))
        rem_raise(v, X86_GP, gerr);
    if (kind == REM_INT_SOFT && d_dpl(g) < v->cpl)
        rem_raise(v, X86_GP, gerr);
    if (!d_present(g))
        rem_raise(v, X86_NP, gerr);
    if (type == 5) { /* a task gate */
        task_switch(v, (uint16_t)(g >> 16), TASK_INT, err, ret_rip(v, kind), ext);
        return;
    }
    uint16_t sel = (uint16_t)(g >> 16);
    bool g32 = type & 8;
    uint64_t off = (g & 0xffff) | (g32 ? ((g >> 48) << 16) : 0);
    uint64_t d = gate_cs(v, sel, ext);
    unsigned ncpl = (d_type(d) & 4) ? v->cpl : d_dpl(d);
    bool v86 = v->mode == REM_MODE_V86;
    if (v86 && ncpl != 0)
        rem_raise(v, X86_GP, (sel & ~3u) | ext);
    unsigned size = g32 ? 4 : 2;
    struct frame f = { .n = 0 };
    struct cpum_seg nss = c->seg[CPUM_SS];
    uint64_t sp = c->gpr[CPUM_RSP];
    unsigned sbits = v->stack_bits;
    if (ncpl < v->cpl) {
        uint16_t ss;
        uint64_t esp;
        tss_stack(v, ncpl, &ss, &esp, ext);
        if ((ss & ~3u) == 0)
            rem_raise(v, X86_TS, ext);
        uint64_t sd = rem_read_desc(v, ss, X86_TS);
        if ((ss & 3) != ncpl || d_dpl(sd) != ncpl || !d_data(sd) || !(d_type(sd) & 2))
            rem_raise(v, X86_TS, (ss & ~3u) | ext);
        if (!d_present(sd))
            rem_raise(v, X86_SS, (ss & ~3u) | ext);
        rem_desc_to_seg(sd | (1ull << 40), ss, &nss);
        if (v86) {
            fpush(&f, c->seg[CPUM_GS].sel);
            fpush(&f, c->seg[CPUM_FS].sel);
            fpush(&f, c->seg[CPUM_DS].sel);
            fpush(&f, c->seg[CPUM_ES].sel);
        }
        fpush(&f, c->seg[CPUM_SS].sel);
        fpush(&f, c->gpr[CPUM_RSP] & (g32 ? 0xffffffffu : 0xffffu));
        sp = esp;
        sbits = (nss.attr & CPUM_SEG_DB) ? 32 : 16;
    }
    fpush(&f, rem_get_rflags(v));
    fpush(&f, c->seg[CPUM_CS].sel);
    fpush(&f, ret_rip(v, kind));
    if (err != REM_NO_ERR)
        fpush(&f, err);
    sp = frame_write(v, &f, nss.base, sp, sbits, size, ncpl == 3, false);
    /* Commit. */
    if (ncpl < v->cpl) {
        c->seg[CPUM_SS] = nss;
        if (v86)
            for (unsigned s = 0; s < CPUM_SREG_COUNT; s++)
                if (s != CPUM_CS && s != CPUM_SS)
                    seg_null(&c->seg[s], 0);
    }
    c->gpr[CPUM_RSP] = (c->gpr[CPUM_RSP] & ~rem_mask(sbits)) | sp;
    commit_cs(v, d, sel, ncpl);
    c->rip = off;
    c->rflags &= ~(uint64_t)(FL_TF | FL_NT | FL_RF | FL_VM);
    if (!(type & 1))
        c->rflags &= ~(uint64_t)FL_IF;
    rem_update_mode(v);
}

static void deliver_long(struct rem_vcpu *v, unsigned vec, uint32_t err, enum rem_int_kind kind)
{
    struct cpum_ctx *c = v->ctx;
    uint32_t ext = kind == REM_INT_SOFT ? 0 : 1;
    uint32_t gerr = (vec << 3) | 2 | ext;
    if ((uint64_t)vec * 16 + 15 > c->idtr.limit)
        rem_raise(v, X86_GP, gerr);
    uint64_t g = rem_sys_rd(v, c->idtr.base + vec * 16, 8);
    uint64_t g2 = rem_sys_rd(v, c->idtr.base + vec * 16 + 8, 8);
    unsigned type = d_type(g);
    if ((g >> 44) & 1 || (type != 0xe && type != 0xf))
        rem_raise(v, X86_GP, gerr);
    if (kind == REM_INT_SOFT && d_dpl(g) < v->cpl)
        rem_raise(v, X86_GP, gerr);
    if (!d_present(g))
        rem_raise(v, X86_NP, gerr);
    uint16_t sel = (uint16_t)(g >> 16);
    uint64_t off = (g & 0xffff) | (((g >> 48) & 0xffff) << 16) | ((g2 & 0xffffffffull) << 32);
    unsigned ist = (unsigned)(g >> 32) & 7;
    uint64_t d = gate_cs(v, sel, ext);
    if (!((d >> 53) & 1) || ((d >> 54) & 1)) /* must be a 64-bit code segment */
        rem_raise(v, X86_GP, (sel & ~3u) | ext);
    unsigned ncpl = (d_type(d) & 4) ? v->cpl : d_dpl(d);
    uint64_t sp = c->gpr[CPUM_RSP];
    const struct cpum_seg *tr = &c->tr;
    if (ist) {
        sp = rem_sys_rd(v, tr->base + 0x24 + 8 * (ist - 1), 8);
    } else if (ncpl < v->cpl) {
        sp = rem_sys_rd(v, tr->base + 4 + 8 * ncpl, 8);
    }
    if ((uint64_t)((int64_t)(sp << 16) >> 16) != sp)
        rem_raise(v, X86_SS, ext);
    sp &= ~0xfull;
    struct frame f = { .n = 0 };
    fpush(&f, c->seg[CPUM_SS].sel);
    fpush(&f, c->gpr[CPUM_RSP]);
    fpush(&f, rem_get_rflags(v));
    fpush(&f, c->seg[CPUM_CS].sel);
    fpush(&f, ret_rip(v, kind));
    if (err != REM_NO_ERR)
        fpush(&f, err);
    sp = frame_write(v, &f, 0, sp, 64, 8, ncpl == 3, true);
    if (ncpl < v->cpl) {
        seg_null(&c->seg[CPUM_SS], (uint16_t)ncpl);
        c->seg[CPUM_SS].attr = (uint16_t)(ncpl << CPUM_SEG_DPL_SHIFT);
    }
    c->gpr[CPUM_RSP] = sp;
    commit_cs(v, d, sel, ncpl);
    c->rip = off;
    c->rflags &= ~(uint64_t)(FL_TF | FL_NT | FL_RF | FL_VM);
    if (!(type & 1))
        c->rflags &= ~(uint64_t)FL_IF;
    rem_update_mode(v);
}

void rem_deliver(struct rem_vcpu *v, unsigned vec, uint32_t err, enum rem_int_kind kind)
{
    if (vec == X86_NMI && kind != REM_INT_SOFT)
        v->nmi_blocked = true;
    if (kind == REM_INT_SOFT && v->mode == REM_MODE_V86 &&
        ((v->ctx->rflags & FL_IOPL) >> 12) < 3)
        rem_gp0(v); /* no VME: INT n in V86 mode with IOPL < 3 */
    v->shadow = 0;
    v->shadow_ss = false;
    if (kind == REM_INT_SOFT || kind == REM_INT_ICEBP)
        v->step_suppress = true; /* the handler runs with TF clear: no single-step trap */
    switch (v->mode) {
    case REM_MODE_REAL: deliver_real(v, vec, kind); break;
    case REM_MODE_LONG:
    case REM_MODE_COMPAT: deliver_long(v, vec, err, kind); break;
    default: deliver_prot(v, vec, err, kind); break;
    }
}

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
    if (!d_code(d) || rpl < v->cpl)
        rem_raise(v, X86_GP, sel & ~3u);
    if ((d_type(d) & 4) ? d_dpl(d) > rpl : d_dpl(d) != rpl)
        rem_raise(v, X86_GP, sel & ~3u);
    if (!d_present(d))
        rem_raise(v, X86_NP, sel & ~3u);
    return d;
}

/* Checks the SS of a return to an outer level; fills *s. */
static void ret_ss(struct rem_vcpu *v, uint16_t sel, unsigned rpl, bool to64, struct cpum_seg *s)
{
    if ((sel & ~3u) == 0) {
        if (!(to64 && rpl < 3))
            rem_gp0(v);
        seg_null(s, sel);
        s->attr = (uint16_t)(rpl << CPUM_SEG_DPL_SHIFT);
        return;
    }
    uint64_t d = rem_read_desc(v, sel, X86_GP);
    if ((sel & 3) != rpl || d_dpl(d) != rpl || !d_data(d) || !(d_type(d) & 2))
        rem_raise(v, X86_GP, sel & ~3u);
    if (!d_present(d))
        rem_raise(v, X86_SS, sel & ~3u);
    rem_desc_to_seg(d | (1ull << 40), sel, s);
}

/* After a return to an outer level: data segments the new CPL may not use
 * become null. */
static void drop_inner_segs(struct rem_vcpu *v)
{
    static const unsigned regs[] = { CPUM_ES, CPUM_DS, CPUM_FS, CPUM_GS };
    for (unsigned i = 0; i < 4; i++) {
        struct cpum_seg *s = &v->ctx->seg[regs[i]];
        unsigned dpl = (s->attr & CPUM_SEG_DPL_MASK) >> CPUM_SEG_DPL_SHIFT;
        bool conf_code = (s->attr & 0x1c) == 0x1c;
        if ((s->attr & CPUM_SEG_P) && !conf_code && dpl < v->cpl) {
            /* In 64-bit mode FS/GS keep their bases (loaded through MSRs). */
            uint64_t base = s->base;
            seg_null(s, 0);
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
        task_switch(v, (uint16_t)rem_sys_rd(v, (uint32_t)c->tr.base + TSS_LINK, 2), TASK_IRET,
                    REM_NO_ERR, v->next_rip, 0);
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
        uint16_t sels[CPUM_SREG_COUNT] = { (uint16_t)es, cs, (uint16_t)ss, (uint16_t)ds,
                                           (uint16_t)fs, (uint16_t)gs };
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
        commit_cs(v, d, cs, rpl);
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
    commit_cs(v, d, cs, rpl);
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
        commit_cs(v, d, cs, rpl);
        c->seg[CPUM_SS] = nss;
        c->rip = to64 ? ip : (uint32_t)ip;
        rem_update_mode(v);
        set_sp(v, sp + imm);
        drop_inner_segs(v);
        return;
    }
    set_sp(v, c->gpr[CPUM_RSP] + 2 * osz + imm);
    commit_cs(v, d, cs, rpl);
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
    unsigned type = d_type(gd);
    if (lm ? type != 0xc : (type != 4 && type != 0xc))
        rem_raise(v, X86_GP, sel & ~3u);
    if (d_dpl(gd) < v->cpl || d_dpl(gd) < (sel & 3u))
        rem_raise(v, X86_GP, sel & ~3u);
    if (!d_present(gd))
        rem_raise(v, X86_NP, sel & ~3u);
    uint64_t hi = 0;
    if (lm) { /* 16 bytes; the upper half's type field must be 0 */
        hi = rem_sys_rd(v, desc_addr(v, sel, X86_GP, 16) + 8, 8);
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
    if (!d_code(d) || d_dpl(d) > v->cpl)
        rem_raise(v, X86_GP, g->cs & ~3u);
    /* JMP never changes the privilege level. */
    if (!call && !(d_type(d) & 4) && d_dpl(d) != v->cpl)
        rem_raise(v, X86_GP, g->cs & ~3u);
    if (lm && (!((d >> 53) & 1) || ((d >> 54) & 1))) /* a 64-bit code segment */
        rem_raise(v, X86_GP, g->cs & ~3u);
    if (!d_present(d))
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
    commit_cs(v, g->d, g->cs, v->cpl);
    v->ctx->rip = g->off;
    rem_update_mode(v);
}

static void gate_call(struct rem_vcpu *v, const struct gate *g)
{
    struct cpum_ctx *c = v->ctx;
    bool lm = v->mode == REM_MODE_LONG || v->mode == REM_MODE_COMPAT;
    unsigned ncpl = (d_type(g->d) & 4) ? v->cpl : d_dpl(g->d);
    struct frame f = { .n = 0 };
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
            seg_null(&nss, (uint16_t)ncpl);
            nss.attr = (uint16_t)(ncpl << CPUM_SEG_DPL_SHIFT);
            sbits = 64;
        } else {
            uint16_t ss;
            uint64_t esp;
            tss_stack(v, ncpl, &ss, &esp, 0);
            if ((ss & ~3u) == 0)
                rem_raise(v, X86_TS, 0);
            uint64_t sd = rem_read_desc(v, ss, X86_TS);
            if ((ss & 3) != ncpl || d_dpl(sd) != ncpl || !d_data(sd) || !(d_type(sd) & 2))
                rem_raise(v, X86_TS, ss & ~3u);
            if (!d_present(sd))
                rem_raise(v, X86_SS, ss & ~3u);
            rem_desc_to_seg(sd | (1ull << 40), ss, &nss);
            sp = esp;
            sbits = (nss.attr & CPUM_SEG_DB) ? 32 : 16;
        }
        fpush(&f, c->seg[CPUM_SS].sel);
        fpush(&f, c->gpr[CPUM_RSP] & lmask);
        /* Parameters: copied from the caller's stack in their order. */
        for (unsigned i = g->params; i-- > 0;)
            fpush(&f, rem_rd(v, CPUM_SS,
                             (c->gpr[CPUM_RSP] + (uint64_t)i * g->size) & rem_mask(v->stack_bits),
                             g->size));
    }
    fpush(&f, c->seg[CPUM_CS].sel);
    fpush(&f, v->next_rip & lmask);
    sp = frame_write(v, &f, lm ? 0 : nss.base, sp, sbits, g->size, ncpl == 3, lm);
    /* Commit. */
    c->seg[CPUM_SS] = nss;
    c->gpr[CPUM_RSP] = sbits == 64 ? sp : (c->gpr[CPUM_RSP] & ~rem_mask(sbits)) | sp;
    commit_cs(v, g->d, g->cs, ncpl);
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
    unsigned type = d_type(d);
    bool lm = v->mode == REM_MODE_LONG || v->mode == REM_MODE_COMPAT;
    if (!((d >> 44) & 1) && !lm && (type == 5 || type == 1 || type == 9 || type == 3 || type == 0xb)) {
        /* A task gate or a TSS: a task switch (a busy TSS faults in task_switch). */
        if (d_dpl(d) < v->cpl || d_dpl(d) < (sel & 3u))
            rem_raise(v, X86_GP, sel & ~3u);
        if (!d_present(d))
            rem_raise(v, X86_NP, sel & ~3u);
        task_switch(v, type == 5 ? (uint16_t)(d >> 16) : sel, call ? TASK_CALL : TASK_JMP,
                    REM_NO_ERR, v->next_rip, 0);
        *is_gate = true;
        gate->cs = 0; /* done: the caller commits nothing */
        return 0;
    }
    if (!((d >> 44) & 1)) {
        call_gate(v, sel, d, call, gate);
        *is_gate = true;
        return 0;
    }
    if (!d_code(d))
        rem_raise(v, X86_GP, sel & ~3u);
    if ((d_type(d) & 4) ? d_dpl(d) > v->cpl : ((sel & 3) > v->cpl || d_dpl(d) != v->cpl))
        rem_raise(v, X86_GP, sel & ~3u);
    if (!d_present(d))
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
    commit_cs(v, d, sel, v->cpl);
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
    commit_cs(v, d, sel, v->cpl);
    c->rip = off;
    rem_update_mode(v);
}
