/*
 * rem_xcpt.c - exceptions and interrupts: raising a fault from inside an
 * instruction, the double-fault and triple-fault rules, and delivery
 * through the real-mode IVT, the 32-bit IDT (interrupt and trap gates,
 * privilege change with the TSS stack switch, entry from virtual-8086
 * mode, task gates) and the long-mode IDT (16-byte gates, IST, SS = NULL
 * on a privilege change).
 *
 * Every delivery reads and checks everything first, writes the stack frame
 * next and commits registers last, so that a fault anywhere leaves the
 * context as it was and the fault itself can be delivered (SDM Vol. 3A
 * 6.15, "interrupt 8"). The other transfers through descriptors follow the
 * same rule: segment loads in rem_seg.c, task switches in rem_task.c, IRET
 * and far JMP/CALL/RET in rem_far.c.
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

/* ---- delivery --------------------------------------------------------------- */

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
    struct rem_frame f = {.n = 0};
    rem_frame_push(&f, rem_get_rflags(v) & 0xffff);
    rem_frame_push(&f, c->seg[CPUM_CS].sel);
    rem_frame_push(&f, ret_rip(v, kind) & 0xffff);
    uint64_t sp = rem_frame_write(v, &f, c->seg[CPUM_SS].base, c->gpr[CPUM_RSP], v->stack_bits, 2,
                                  false, false);
    c->gpr[CPUM_RSP] = (c->gpr[CPUM_RSP] & ~rem_mask(v->stack_bits)) | sp;
    c->rflags &= ~(uint64_t)(FL_IF | FL_TF | FL_AC | FL_RF);
    c->seg[CPUM_CS].sel = (uint16_t)(ent >> 16);
    c->seg[CPUM_CS].base = (ent >> 16) << 4;
    c->rip = ent & 0xffff;
}

/* Reads and checks the gate's code segment; returns its descriptor. */
static uint64_t gate_cs(struct rem_vcpu *v, uint16_t sel, uint32_t ext)
{
    if ((sel & ~3u) == 0)
        rem_raise(v, X86_GP, ext);
    uint64_t d = rem_read_desc(v, sel, X86_GP);
    if (!rem_desc_code(d) || rem_desc_dpl(d) > v->cpl)
        rem_raise(v, X86_GP, (sel & ~3u) | ext);
    if (!rem_desc_present(d))
        rem_raise(v, X86_NP, (sel & ~3u) | ext);
    return d;
}

static void deliver_prot(struct rem_vcpu *v, unsigned vec, uint32_t err, enum rem_int_kind kind)
{
    struct cpum_ctx *c = v->ctx;
    uint32_t ext = kind == REM_INT_SOFT ? 0 : 1;
    uint32_t gerr = (vec << 3) | 2 | ext;
    if ((uint64_t)vec * 8 + 7 > c->idtr.limit)
        rem_raise(v, X86_GP, gerr);
    uint64_t g = rem_sys_rd(v, (uint32_t)(c->idtr.base + vec * 8), 8);
    unsigned type = rem_desc_type(g);
    if ((g >> 44) & 1 || (type != 5 && type != 6 && type != 7 && type != 0xe && type != 0xf))
        rem_raise(v, X86_GP, gerr);
    if (kind == REM_INT_SOFT && rem_desc_dpl(g) < v->cpl)
        rem_raise(v, X86_GP, gerr);
    if (!rem_desc_present(g))
        rem_raise(v, X86_NP, gerr);
    if (type == 5) { /* a task gate */
        rem_task_switch(v, (uint16_t)(g >> 16), REM_TASK_INT, err, ret_rip(v, kind), ext);
        return;
    }
    uint16_t sel = (uint16_t)(g >> 16);
    bool g32 = type & 8;
    uint64_t off = (g & 0xffff) | (g32 ? ((g >> 48) << 16) : 0);
    uint64_t d = gate_cs(v, sel, ext);
    unsigned ncpl = (rem_desc_type(d) & 4) ? v->cpl : rem_desc_dpl(d);
    bool v86 = v->mode == REM_MODE_V86;
    if (v86 && ncpl != 0)
        rem_raise(v, X86_GP, (sel & ~3u) | ext);
    unsigned size = g32 ? 4 : 2;
    struct rem_frame f = {.n = 0};
    struct cpum_seg nss = c->seg[CPUM_SS];
    uint64_t sp = c->gpr[CPUM_RSP];
    unsigned sbits = v->stack_bits;
    if (ncpl < v->cpl) {
        uint16_t ss;
        uint64_t esp;
        rem_tss_stack(v, ncpl, &ss, &esp, ext);
        if ((ss & ~3u) == 0)
            rem_raise(v, X86_TS, ext);
        uint64_t sd = rem_read_desc(v, ss, X86_TS);
        if ((ss & 3) != ncpl || rem_desc_dpl(sd) != ncpl || !rem_desc_data(sd) ||
            !(rem_desc_type(sd) & 2))
            rem_raise(v, X86_TS, (ss & ~3u) | ext);
        if (!rem_desc_present(sd))
            rem_raise(v, X86_SS, (ss & ~3u) | ext);
        rem_desc_to_seg(sd | (1ull << 40), ss, &nss);
        if (v86) {
            rem_frame_push(&f, c->seg[CPUM_GS].sel);
            rem_frame_push(&f, c->seg[CPUM_FS].sel);
            rem_frame_push(&f, c->seg[CPUM_DS].sel);
            rem_frame_push(&f, c->seg[CPUM_ES].sel);
        }
        rem_frame_push(&f, c->seg[CPUM_SS].sel);
        rem_frame_push(&f, c->gpr[CPUM_RSP] & (g32 ? 0xffffffffu : 0xffffu));
        sp = esp;
        sbits = (nss.attr & CPUM_SEG_DB) ? 32 : 16;
    }
    rem_frame_push(&f, rem_get_rflags(v));
    rem_frame_push(&f, c->seg[CPUM_CS].sel);
    rem_frame_push(&f, ret_rip(v, kind));
    if (err != REM_NO_ERR)
        rem_frame_push(&f, err);
    sp = rem_frame_write(v, &f, nss.base, sp, sbits, size, ncpl == 3, false);
    /* Commit. */
    if (ncpl < v->cpl) {
        c->seg[CPUM_SS] = nss;
        if (v86)
            for (unsigned s = 0; s < CPUM_SREG_COUNT; s++)
                if (s != CPUM_CS && s != CPUM_SS)
                    rem_seg_null(&c->seg[s], 0);
    }
    c->gpr[CPUM_RSP] = (c->gpr[CPUM_RSP] & ~rem_mask(sbits)) | sp;
    rem_commit_cs(v, d, sel, ncpl);
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
    unsigned type = rem_desc_type(g);
    if ((g >> 44) & 1 || (type != 0xe && type != 0xf))
        rem_raise(v, X86_GP, gerr);
    if (kind == REM_INT_SOFT && rem_desc_dpl(g) < v->cpl)
        rem_raise(v, X86_GP, gerr);
    if (!rem_desc_present(g))
        rem_raise(v, X86_NP, gerr);
    uint16_t sel = (uint16_t)(g >> 16);
    uint64_t off = (g & 0xffff) | (((g >> 48) & 0xffff) << 16) | ((g2 & 0xffffffffull) << 32);
    unsigned ist = (unsigned)(g >> 32) & 7;
    uint64_t d = gate_cs(v, sel, ext);
    if (!((d >> 53) & 1) || ((d >> 54) & 1)) /* must be a 64-bit code segment */
        rem_raise(v, X86_GP, (sel & ~3u) | ext);
    unsigned ncpl = (rem_desc_type(d) & 4) ? v->cpl : rem_desc_dpl(d);
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
    struct rem_frame f = {.n = 0};
    rem_frame_push(&f, c->seg[CPUM_SS].sel);
    rem_frame_push(&f, c->gpr[CPUM_RSP]);
    rem_frame_push(&f, rem_get_rflags(v));
    rem_frame_push(&f, c->seg[CPUM_CS].sel);
    rem_frame_push(&f, ret_rip(v, kind));
    if (err != REM_NO_ERR)
        rem_frame_push(&f, err);
    sp = rem_frame_write(v, &f, 0, sp, 64, 8, ncpl == 3, true);
    if (ncpl < v->cpl) {
        rem_seg_null(&c->seg[CPUM_SS], (uint16_t)ncpl);
        c->seg[CPUM_SS].attr = (uint16_t)(ncpl << CPUM_SEG_DPL_SHIFT);
    }
    c->gpr[CPUM_RSP] = sp;
    rem_commit_cs(v, d, sel, ncpl);
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
