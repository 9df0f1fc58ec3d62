/*
 * rem_jit_insn.c - the instruction translators of the block translator
 * (rem_jit.c has the design and the exactness rules): each inlined form
 * checks everything that could make it fault or differ before it commits
 * anything, and goes to its handler (jit_to_handler) when a check fails;
 * flag producers store v->cc with rem_fast.c's encoding.
 */
#include "rem_jit_internal.h"

#if defined(__x86_64__) && defined(__linux__)

_Static_assert(sizeof(struct rem_tlb_entry) == 32, "the TLB index scales by 32");
_Static_assert(offsetof(struct rem_tlb_entry, gpa) == 16, "links compare the gpa at +16");
_Static_assert(offsetof(struct rem_cc, bits) == offsetof(struct rem_cc, op) + 1,
               "op and bits are stored as one word");

/* ---- operands ------------------------------------------------------------------ */

static bool is_gpr(const struct dis_op *op)
{
    return op->kind == DIS_OP_REG && op->reg_class == DIS_RC_GPR && op->reg < 16;
}

static bool mem_ok(const struct tr *t, const struct dis_op *op, unsigned i)
{
    if (op->kind != DIS_OP_MEM || (op->mem.addr_size != 8 && op->mem.addr_size != 4))
        return false;
    if (op->mem.base != DIS_REG_NONE && op->mem.base != DIS_REG_RIP && op->mem.base >= 16)
        return false;
    if (op->mem.index != DIS_REG_NONE && op->mem.index >= 16)
        return false;
    if (op->mem.base == DIS_REG_RIP)
        return xe_fits32(op->mem.disp + (int64_t)t->off[i + 1]);
    return xe_fits32(op->mem.disp);
}

/* rsi = the effective address (offset) of a memory operand of instruction i. */
static void emit_ea(struct tr *t, unsigned i, const struct dis_op *op)
{
    struct xe *e = &t->e;
    int32_t disp = (int32_t)op->mem.disp;
    if (op->mem.base == DIS_REG_RIP) {
        xe_lea(e, XR_RSI, xm_mem(XR_R12, (int32_t)(op->mem.disp + t->off[i + 1])));
    } else {
        bool base = op->mem.base != DIS_REG_NONE;
        if (base)
            xe_mov_load(e, 8, XR_RSI, gpr(op->mem.base));
        if (op->mem.index != DIS_REG_NONE) {
            xe_mov_load(e, 8, XR_RDX, gpr(op->mem.index));
            xe_lea(e, XR_RSI, xm_sib(base ? XR_RSI : XR_NONE, XR_RDX, op->mem.scale, disp));
        } else if (base) {
            if (disp)
                xe_lea(e, XR_RSI, xm_mem(XR_RSI, disp));
        } else {
            xe_mov_imm(e, XR_RSI, (uint64_t)(int64_t)disp);
        }
    }
    if (op->mem.addr_size == 4)
        xe_mov_load(e, 4, XR_RSI, xm_reg(XR_RSI));
}

/* rsi = the linear address of the operand, rdx = the host addend of its page
 * (a TLB hit with a host pointer, `size` bytes inside the page), else to the
 * handler. Uses rcx. The operand is then [rdx + rsi]. */
struct xm jit_emit_mem(struct tr *t, unsigned i, const struct dis_op *op, unsigned size,
                          unsigned kind)
{
    struct xe *e = &t->e;
    emit_ea(t, i, op);
    if (op->mem.seg == DIS_SEG_FS || op->mem.seg == DIS_SEG_GS)
        xe_alu_load(e, 8, XA_ADD, XR_RSI, xm_mem(XR_RBP, C_SEGBASE(op->mem.seg)));
    int32_t tlb = V_OFF(tlb) + (int32_t)((t->user * REM_TLB_KINDS + kind) * REM_TLB_SIZE *
                                         sizeof(struct rem_tlb_entry));
    xe_mov_load(e, 8, XR_RDX, xm_reg(XR_RSI));
    xe_shift_imm(e, 8, XS_SHR, XR_RDX, 12);
    xe_load_zx(e, 1, XR_RDX, xm_reg(XR_RDX)); /* & (REM_TLB_SIZE - 1) */
    xe_shift_imm(e, 4, XS_SHL, XR_RDX, 5);
    /* The tag of the last byte's page: a hit means the same page, canonical. */
    xe_lea(e, XR_RCX, xm_mem(XR_RSI, (int32_t)size - 1));
    xe_alu_imm(e, 8, XA_AND, xm_reg(XR_RCX), -(int32_t)PGM_PAGE_SIZE);
    xe_alu_imm(e, 8, XA_OR, xm_reg(XR_RCX), 1);
    xe_alu_load(e, 8, XA_CMP, XR_RCX, xm_sib(XR_RBX, XR_RDX, 1, tlb));
    jit_to_handler(t, XC_NE, i);
    xe_mov_load(e, 8, XR_RDX, xm_sib(XR_RBX, XR_RDX, 1, tlb + 8));
    xe_test(e, 8, xm_reg(XR_RDX), XR_RDX);
    jit_to_handler(t, XC_E, i);
    return xm_sib(XR_RDX, XR_RSI, 1, 0);
}

/* Stores host register `r` (zero-extended for size 4) to guest GPR g. */
static void wr_gpr(struct tr *t, unsigned size, unsigned g, int r)
{
    xe_mov_store(&t->e, size == 4 ? 8 : size, gpr(g), r);
}

/* rcx = a canonical check of rax: to the handler when it is not. */
void jit_emit_canonical(struct tr *t, unsigned i)
{
    struct xe *e = &t->e;
    xe_mov_load(e, 8, XR_RCX, xm_reg(XR_RAX));
    xe_shift_imm(e, 8, XS_SHL, XR_RCX, 16);
    xe_shift_imm(e, 8, XS_SAR, XR_RCX, 16);
    xe_alu_load(e, 8, XA_CMP, XR_RCX, xm_reg(XR_RAX));
    jit_to_handler(t, XC_NE, i);
}

/* v->cc.op and .bits (one word) and, unless keep_cin, cin = 0. */
static void emit_cc_kind(struct tr *t, unsigned op, unsigned bits, bool clear_cin)
{
    struct xe *e = &t->e;
    if (clear_cin)
        xe_mov_store_imm(e, 4, vm(CC_CIN), 0);
    xe_mov_store_imm(e, 2, vm(CC_OP), (int32_t)(op | bits << 8));
}

/* ---- instructions ---------------------------------------------------------------- */

static uint64_t mask_of(unsigned size)
{
    return size == 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static bool size_ok(unsigned size)
{
    return size == 1 || size == 2 || size == 4 || size == 8;
}

static bool tr_mov(struct tr *t, unsigned i, const struct dis_insn *in)
{
    struct xe *e = &t->e;
    const struct dis_op *d = &in->op[0], *s = &in->op[1];
    unsigned size = in->opsize;
    if (in->nops != 2 || !size_ok(size))
        return false;
    if (is_gpr(d)) {
        if (is_gpr(s)) {
            xe_load_zx(e, size, XR_RAX, gpr(s->reg));
        } else if (s->kind == DIS_OP_IMM) {
            xe_mov_imm(e, XR_RAX, s->imm & mask_of(size));
        } else if (mem_ok(t, s, i)) {
            struct xm m = jit_emit_mem(t, i, s, size, REM_TLB_READ);
            xe_load_zx(e, size, XR_RAX, m);
        } else {
            return false;
        }
        wr_gpr(t, size, d->reg, XR_RAX);
        return true;
    }
    if (!mem_ok(t, d, i))
        return false;
    if (s->kind == DIS_OP_IMM && size == 8 && !xe_fits32((int64_t)s->imm))
        return false;
    if (!is_gpr(s) && s->kind != DIS_OP_IMM)
        return false;
    struct xm m = jit_emit_mem(t, i, d, size, REM_TLB_WRITE);
    if (is_gpr(s)) {
        xe_mov_load(e, 8, XR_RAX, gpr(s->reg));
        xe_mov_store(e, size, m, XR_RAX);
    } else {
        xe_mov_store_imm(e, size, m, (int32_t)s->imm);
    }
    return true;
}

static bool tr_movx(struct tr *t, unsigned i, const struct dis_insn *in)
{
    struct xe *e = &t->e;
    const struct dis_op *d = &in->op[0], *s = &in->op[1];
    unsigned size = in->opsize, ss = s->size ? s->size : 1;
    if (!is_gpr(d) || (size != 2 && size != 4 && size != 8) || (ss != 1 && ss != 2 && ss != 4))
        return false;
    struct xm m;
    if (is_gpr(s))
        m = gpr(s->reg);
    else if (mem_ok(t, s, i))
        m = jit_emit_mem(t, i, s, ss, REM_TLB_READ);
    else
        return false;
    if (in->mnem == DIS_movzx) {
        xe_load_zx(e, ss, XR_RAX, m);
    } else {
        xe_load_sx64(e, ss, XR_RAX, m);
        if (size == 4)
            xe_mov_load(e, 4, XR_RAX, xm_reg(XR_RAX)); /* zero-extend */
    }
    wr_gpr(t, size, d->reg, XR_RAX);
    return true;
}

static bool tr_lea(struct tr *t, unsigned i, const struct dis_insn *in)
{
    const struct dis_op *d = &in->op[0], *s = &in->op[1];
    unsigned size = in->opsize;
    if (!is_gpr(d) || (size != 2 && size != 4 && size != 8) || !mem_ok(t, s, i))
        return false;
    emit_ea(t, i, s);
    if (size == 4)
        xe_mov_load(&t->e, 4, XR_RSI, xm_reg(XR_RSI));
    wr_gpr(t, size, d->reg, XR_RSI);
    return true;
}

/* ADD/SUB/CMP/AND/OR/XOR/TEST: a register destination, the source a
 * register, an immediate or memory; or a memory destination (read-modify-
 * write, CMP/TEST: read) with a register or immediate source. */
static bool tr_alu(struct tr *t, unsigned i, const struct dis_insn *in)
{
    struct xe *e = &t->e;
    const struct dis_op *d = &in->op[0], *s = &in->op[1];
    unsigned size = in->opsize, aop, ccop;
    bool store = true;
    switch (in->mnem) {
    case DIS_add: aop = XA_ADD; ccop = REM_CC_ADD; break;
    case DIS_sub: aop = XA_SUB; ccop = REM_CC_SUB; break;
    case DIS_cmp: aop = XA_SUB; ccop = REM_CC_SUB; store = false; break;
    case DIS_and: aop = XA_AND; ccop = REM_CC_LOGIC; break;
    case DIS_or: aop = XA_OR; ccop = REM_CC_LOGIC; break;
    case DIS_xor: aop = XA_XOR; ccop = REM_CC_LOGIC; break;
    case DIS_test: aop = XA_AND; ccop = REM_CC_LOGIC; store = false; break;
    default: return false;
    }
    if (in->nops != 2 || !size_ok(size) || (in->prefixes & DIS_PFX_LOCK))
        return false;
    bool dmem = !is_gpr(d);
    if (dmem && (!mem_ok(t, d, i) || s->kind == DIS_OP_MEM))
        return false;
    if (!is_gpr(s) && s->kind != DIS_OP_IMM && !(s->kind == DIS_OP_MEM && mem_ok(t, s, i)))
        return false;
    /* memory first (the TLB check uses rcx/rdx/rsi), then the registers; a
     * memory destination that is written needs a write entry (read too) */
    struct xm m = xm_reg(XR_RAX);
    if (dmem) {
        m = jit_emit_mem(t, i, d, size, store ? REM_TLB_WRITE : REM_TLB_READ);
        xe_load_zx(e, size, XR_RAX, m);
    } else if (s->kind == DIS_OP_MEM)
        xe_load_zx(e, size, XR_RCX, jit_emit_mem(t, i, s, size, REM_TLB_READ));
    if (!dmem)
        xe_load_zx(e, size, XR_RAX, gpr(d->reg));
    if (is_gpr(s))
        xe_load_zx(e, size, XR_RCX, gpr(s->reg));
    else if (s->kind == DIS_OP_IMM)
        xe_mov_imm(e, XR_RCX, s->imm & mask_of(size));
    xe_mov_store(e, 8, vm(CC_SRC1), XR_RAX);
    xe_mov_store(e, 8, vm(CC_SRC2), XR_RCX);
    xe_alu_load(e, size, aop, XR_RAX, xm_reg(XR_RCX));
    if (store && dmem)
        xe_mov_store(e, size, m, XR_RAX);
    else if (store)
        wr_gpr(t, size, d->reg, XR_RAX);
    xe_mov_store(e, 8, vm(CC_RES), XR_RAX);
    emit_cc_kind(t, ccop, size * 8, true);
    t->cc_op = (int)ccop;
    t->cc_bits = size * 8;
    t->cc_sure = !t->cold;
    t->live = t->cold ? -1 : (int)ccop;
    return true;
}

/* cc.cin = the CF INC/DEC keep (rem_fast.c's fast_cf); nothing when the
 * previous producer was an INC/DEC (its cin stays). */
static void emit_keep_cf(struct tr *t)
{
    struct xe *e = &t->e;
    if (t->cc_sure && (t->cc_op == REM_CC_INC || t->cc_op == REM_CC_DEC))
        return;
    if (t->cc_sure && t->cc_op == REM_CC_LOGIC) {
        xe_mov_store_imm(e, 4, vm(CC_CIN), 0);
        return;
    }
    if (t->cc_sure && (t->cc_op == REM_CC_SUB || t->cc_op == REM_CC_ADD)) {
        bool sub = t->cc_op == REM_CC_SUB;
        xe_mov_load(e, 8, XR_RAX, vm(sub ? CC_SRC1 : CC_RES));
        xe_alu_load(e, 8, XA_CMP, XR_RAX, vm(sub ? CC_SRC2 : CC_SRC1));
        xe_setcc(e, XC_B, XR_RAX);
        xe_load_zx(e, 1, XR_RAX, xm_reg(XR_RAX));
        xe_mov_store(e, 4, vm(CC_CIN), XR_RAX);
        return;
    }
    /* At run time: INC/DEC keep cin, anything else asks rem_cond for CF. */
    xe_load_zx(e, 1, XR_RAX, vm(CC_OP));
    xe_alu_imm(e, 4, XA_SUB, xm_reg(XR_RAX), REM_CC_INC);
    xe_alu_imm(e, 4, XA_CMP, xm_reg(XR_RAX), REM_CC_DEC - REM_CC_INC);
    uint8_t *skip = xe_jcc(e, XC_BE);
    jit_emit_rem_cond(t, 2);
    xe_setcc(e, XC_NE, XR_RAX);
    xe_load_zx(e, 1, XR_RAX, xm_reg(XR_RAX));
    xe_mov_store(e, 4, vm(CC_CIN), XR_RAX);
    xe_patch(skip, e->p);
}

/* INC/DEC of a register or memory (read-modify-write). */
static bool tr_incdec(struct tr *t, unsigned i, const struct dis_insn *in)
{
    struct xe *e = &t->e;
    const struct dis_op *d = &in->op[0];
    unsigned size = in->opsize;
    bool dec = in->mnem == DIS_dec, mem = !is_gpr(d);
    if (in->nops != 1 || !size_ok(size) || (in->prefixes & DIS_PFX_LOCK) ||
        (mem && !mem_ok(t, d, i)))
        return false;
    struct xm m = gpr(d->reg);
    if (mem) { /* checked before the CF is kept: the handler path sees cc untouched */
        xe_lea(e, XR_RDI, jit_emit_mem(t, i, d, size, REM_TLB_WRITE));
        xe_mov_store(e, 8, xm_mem(XR_RSP, JIT_SPILL), XR_RDI);
    }
    emit_keep_cf(t);
    if (mem) {
        xe_mov_load(e, 8, XR_RDI, xm_mem(XR_RSP, JIT_SPILL));
        m = xm_mem(XR_RDI, 0);
    }
    xe_load_zx(e, size, XR_RAX, m);
    xe_mov_store(e, 8, vm(CC_SRC1), XR_RAX);
    xe_mov_store_imm(e, 8, vm(CC_SRC2), 1);
    xe_incdec(e, size, dec, XR_RAX);
    if (mem)
        xe_mov_store(e, size, m, XR_RAX);
    else
        wr_gpr(t, size, d->reg, XR_RAX);
    xe_mov_store(e, 8, vm(CC_RES), XR_RAX);
    unsigned op = dec ? REM_CC_DEC : REM_CC_INC;
    emit_cc_kind(t, op, size * 8, false);
    t->cc_op = (int)op; /* the handler (cold path) records the same */
    t->cc_bits = size * 8;
    t->cc_sure = true;
    t->live = t->cold ? -1 : (int)op;
    return true;
}

/* NOT / NEG of a register or memory (read-modify-write); NEG records a
 * SUB from 0 as rem_exec_alu.c's alu1 does. */
static bool tr_notneg(struct tr *t, unsigned i, const struct dis_insn *in)
{
    struct xe *e = &t->e;
    const struct dis_op *d = &in->op[0];
    unsigned size = in->opsize;
    bool neg = in->mnem == DIS_neg, mem = !is_gpr(d);
    if (in->nops != 1 || !size_ok(size) || (mem && !mem_ok(t, d, i)))
        return false;
    struct xm m = mem ? jit_emit_mem(t, i, d, size, REM_TLB_WRITE) : gpr(d->reg);
    if (neg) {
        xe_load_zx(e, size, XR_RCX, m);
        xe_mov_imm(e, XR_RAX, 0);
        xe_mov_store(e, 8, vm(CC_SRC1), XR_RAX);
        xe_mov_store(e, 8, vm(CC_SRC2), XR_RCX);
        xe_alu_load(e, size, XA_SUB, XR_RAX, xm_reg(XR_RCX));
    } else {
        xe_load_zx(e, size, XR_RAX, m);
        xe_alu_imm(e, size, XA_XOR, xm_reg(XR_RAX), -1);
        t->clobber = true;
    }
    if (mem)
        xe_mov_store(e, size, m, XR_RAX);
    else
        wr_gpr(t, size, d->reg, XR_RAX);
    if (neg) {
        xe_mov_store(e, 8, vm(CC_RES), XR_RAX);
        emit_cc_kind(t, REM_CC_SUB, size * 8, true);
        t->cc_op = REM_CC_SUB; /* the handler records the same */
        t->cc_bits = size * 8;
        t->cc_sure = true;
        t->live = t->cold ? -1 : REM_CC_SUB;
    }
    return true;
}

/* ADC/SBB with a register destination and a register or immediate source:
 * cin = the CF before (kept in cc.cin first: nothing here can fault). */
static bool tr_adcsbb(struct tr *t, const struct dis_insn *in)
{
    struct xe *e = &t->e;
    const struct dis_op *d = &in->op[0], *s = &in->op[1];
    unsigned size = in->opsize;
    bool sbb = in->mnem == DIS_sbb;
    if (in->nops != 2 || !size_ok(size) || !is_gpr(d) || (!is_gpr(s) && s->kind != DIS_OP_IMM))
        return false;
    emit_keep_cf(t);
    xe_load_zx(e, size, XR_RAX, gpr(d->reg));
    if (is_gpr(s))
        xe_load_zx(e, size, XR_RCX, gpr(s->reg));
    else
        xe_mov_imm(e, XR_RCX, s->imm & mask_of(size));
    xe_mov_store(e, 8, vm(CC_SRC1), XR_RAX);
    xe_mov_store(e, 8, vm(CC_SRC2), XR_RCX);
    xe_mov_load(e, 4, XR_RDX, vm(CC_CIN));
    xe_alu_imm(e, 4, XA_ADD, xm_reg(XR_RDX), -1); /* host CF = cin */
    xe_alu_load(e, size, sbb ? XA_SBB : XA_ADC, XR_RAX, xm_reg(XR_RCX));
    wr_gpr(t, size, d->reg, XR_RAX);
    xe_mov_store(e, 8, vm(CC_RES), XR_RAX);
    unsigned op = sbb ? REM_CC_SBB : REM_CC_ADC;
    emit_cc_kind(t, op, size * 8, false);
    t->cc_op = (int)op;
    t->cc_bits = size * 8;
    t->cc_sure = true;
    t->live = (int)op;
    return true;
}

/* IMUL reg, r/m (, imm) of 16/32/64 bits: the flags computed at once as
 * rem_exec_alu.c's imul_n does (SZP of the result, CF = OF = overflow, AF
 * clear, cc.op REM_CC_EFLAGS). */
static bool tr_imul(struct tr *t, unsigned i, const struct dis_insn *in)
{
    struct xe *e = &t->e;
    const struct dis_op *d = &in->op[0];
    const struct dis_op *a = &in->op[in->nops == 3 ? 1 : 0], *b = &in->op[in->nops == 3 ? 2 : 1];
    unsigned size = in->opsize;
    if (in->nops < 2 || !is_gpr(d) || (size != 2 && size != 4 && size != 8))
        return false;
    if ((!is_gpr(a) && !mem_ok(t, a, i)) || (!is_gpr(b) && b->kind != DIS_OP_IMM &&
                                               !mem_ok(t, b, i)))
        return false;
    if (a->kind == DIS_OP_MEM && b->kind == DIS_OP_MEM)
        return false;
    /* the memory operand first (rcx), then rax = a, rcx = b */
    if (a->kind == DIS_OP_MEM || b->kind == DIS_OP_MEM)
        xe_load_zx(e, size, XR_RCX,
                   jit_emit_mem(t, i, a->kind == DIS_OP_MEM ? a : b, size, REM_TLB_READ));
    if (a->kind == DIS_OP_MEM)
        xe_mov_load(e, 8, XR_RAX, xm_reg(XR_RCX));
    else
        xe_load_zx(e, size, XR_RAX, gpr(a->reg));
    if (b->kind == DIS_OP_IMM)
        xe_mov_imm(e, XR_RCX, b->imm & mask_of(size));
    else if (is_gpr(b))
        xe_load_zx(e, size, XR_RCX, gpr(b->reg));
    xe_imul_load(e, size, XR_RAX, xm_reg(XR_RCX));
    xe_setcc(e, XC_B, XR_RDX);
    wr_gpr(t, size, d->reg, XR_RAX);
    xe_test(e, size, xm_reg(XR_RAX), XR_RAX);
    xe_pushf(e);
    xe_pop(e, XR_RCX);
    xe_alu_imm(e, 4, XA_AND, xm_reg(XR_RCX), FL_PF | FL_ZF | FL_SF);
    xe_load_zx(e, 1, XR_RDX, xm_reg(XR_RDX));
    xe_alu_load(e, 4, XA_OR, XR_RCX, xm_reg(XR_RDX));
    xe_shift_imm(e, 4, XS_SHL, XR_RDX, 11);
    xe_alu_load(e, 4, XA_OR, XR_RCX, xm_reg(XR_RDX)); /* CF | OF */
    xe_mov_load(e, 8, XR_RAX, xm_mem(XR_RBP, C_RFLAGS));
    xe_alu_imm(e, 8, XA_AND, xm_reg(XR_RAX), ~(int32_t)FL_ARITH);
    xe_alu_imm(e, 8, XA_OR, xm_reg(XR_RAX), 2); /* as rem_get_rflags returns it */
    xe_alu_load(e, 8, XA_OR, XR_RAX, xm_reg(XR_RCX));
    xe_mov_store(e, 8, xm_mem(XR_RBP, C_RFLAGS), XR_RAX);
    xe_mov_store_imm(e, 1, vm(CC_OP), REM_CC_EFLAGS);
    t->cc_op = REM_CC_EFLAGS; /* the handler too */
    t->cc_sure = true;
    t->live = -1;
    t->clobber = true;
    return true;
}

/* CMOVcc of 16/32/64 bits: the source read (and checked) either way, the
 * destination written either way (a 32-bit one zero-extended). */
static bool tr_cmov(struct tr *t, unsigned i, const struct dis_insn *in)
{
    struct xe *e = &t->e;
    const struct dis_op *d = &in->op[0], *s = &in->op[1];
    unsigned size = in->opsize;
    if (in->nops != 2 || !is_gpr(d) || (size != 2 && size != 4 && size != 8) ||
        (!is_gpr(s) && !mem_ok(t, s, i)))
        return false;
    xe_setcc(e, jit_emit_cond(t, in->cond), XR_R8); /* before: rem_cond may be called */
    if (is_gpr(s))
        xe_load_zx(e, size, XR_RCX, gpr(s->reg));
    else
        xe_load_zx(e, size, XR_RCX, jit_emit_mem(t, i, s, size, REM_TLB_READ));
    xe_load_zx(e, size, XR_RAX, gpr(d->reg));
    xe_test(e, 1, xm_reg(XR_R8), XR_R8);
    uint8_t *skip = xe_jcc(e, XC_E);
    xe_mov_load(e, 8, XR_RAX, xm_reg(XR_RCX));
    xe_patch(skip, e->p);
    wr_gpr(t, size, d->reg, XR_RAX);
    t->clobber = true;
    return true;
}

/* SETcc of a low byte register or a byte of memory. */
static bool tr_setcc(struct tr *t, unsigned i, const struct dis_insn *in)
{
    struct xe *e = &t->e;
    const struct dis_op *d = &in->op[0];
    if (in->nops != 1 || (!is_gpr(d) && !mem_ok(t, d, i)))
        return false;
    xe_setcc(e, jit_emit_cond(t, in->cond), XR_R8);
    if (is_gpr(d))
        xe_mov_store(e, 1, gpr(d->reg), XR_R8);
    else
        xe_mov_store(e, 1, jit_emit_mem(t, i, d, 1, REM_TLB_WRITE), XR_R8);
    t->clobber = true;
    return true;
}

/* XCHG of two registers (no memory: that one is locked). */
static bool tr_xchg(struct tr *t, const struct dis_insn *in)
{
    struct xe *e = &t->e;
    const struct dis_op *a = &in->op[0], *b = &in->op[1];
    unsigned size = in->opsize;
    if (in->nops != 2 || !is_gpr(a) || !is_gpr(b) || !size_ok(size))
        return false;
    xe_load_zx(e, size, XR_RAX, gpr(a->reg));
    xe_load_zx(e, size, XR_RCX, gpr(b->reg));
    wr_gpr(t, size, a->reg, XR_RCX);
    wr_gpr(t, size, b->reg, XR_RAX);
    return true;
}

/* SHL/SAL/SHR/SAR of a 32/64-bit register by a non-zero immediate count
 * (rem_fast.c's shift_reg: cin left as it was). */
static bool tr_shift(struct tr *t, const struct dis_insn *in)
{
    struct xe *e = &t->e;
    const struct dis_op *d = &in->op[0], *s = &in->op[1];
    unsigned size = in->opsize, sop, op;
    if (in->nops != 2 || !is_gpr(d) || (size != 4 && size != 8) || s->kind != DIS_OP_IMM)
        return false;
    unsigned cnt = (unsigned)s->imm & (size == 8 ? 63 : 31);
    if (!cnt)
        return false;
    switch (in->mnem) {
    case DIS_shl: case DIS_sal: sop = XS_SHL; op = REM_CC_SHL; break;
    case DIS_shr: sop = XS_SHR; op = REM_CC_SHR; break;
    case DIS_sar: sop = XS_SAR; op = REM_CC_SAR; break;
    default: return false;
    }
    xe_load_zx(e, size, XR_RAX, gpr(d->reg));
    xe_mov_store(e, 8, vm(CC_SRC1), XR_RAX);
    xe_mov_store_imm(e, 8, vm(CC_SRC2), (int32_t)cnt);
    xe_shift_imm(e, size, sop, XR_RAX, (uint8_t)cnt);
    wr_gpr(t, size, d->reg, XR_RAX);
    xe_mov_store(e, 8, vm(CC_RES), XR_RAX);
    emit_cc_kind(t, op, size * 8, false);
    t->cc_op = (int)op;
    t->cc_bits = size * 8;
    t->cc_sure = true;
    t->live = -1; /* OF of multi-bit shifts differs from the host's */
    return true;
}

static bool tr_push(struct tr *t, unsigned i, const struct dis_insn *in)
{
    struct xe *e = &t->e;
    const struct dis_op *s = &in->op[0];
    if (in->opsize != 8 || (!is_gpr(s) && s->kind != DIS_OP_IMM))
        return false;
    if (s->kind == DIS_OP_IMM && !xe_fits32((int64_t)s->imm))
        return false;
    struct dis_op top = { .kind = DIS_OP_MEM, .mem = { .seg = DIS_SEG_SS, .base = CPUM_RSP,
                          .index = DIS_REG_NONE, .scale = 1, .addr_size = 8, .disp = -8 } };
    struct xm m = jit_emit_mem(t, i, &top, 8, REM_TLB_WRITE);
    if (is_gpr(s))
        xe_mov_load(e, 8, XR_RAX, gpr(s->reg));
    else
        xe_mov_imm(e, XR_RAX, s->imm);
    xe_mov_store(e, 8, m, XR_RAX);
    xe_mov_store(e, 8, gpr(CPUM_RSP), XR_RSI);
    return true;
}

static bool tr_pop(struct tr *t, unsigned i, const struct dis_insn *in)
{
    struct xe *e = &t->e;
    const struct dis_op *d = &in->op[0];
    if (in->opsize != 8 || !is_gpr(d))
        return false;
    struct dis_op top = { .kind = DIS_OP_MEM, .mem = { .seg = DIS_SEG_SS, .base = CPUM_RSP,
                          .index = DIS_REG_NONE, .scale = 1, .addr_size = 8 } };
    xe_mov_load(e, 8, XR_RAX, jit_emit_mem(t, i, &top, 8, REM_TLB_READ));
    xe_alu_imm(e, 8, XA_ADD, gpr(CPUM_RSP), 8);
    xe_mov_store(e, 8, gpr(d->reg), XR_RAX);
    return true;
}



/* Host flags for guest condition cc (then "j<cc> taken"), or a call of
 * rem_cond: returns the host condition that means taken. */
unsigned jit_emit_cond(struct tr *t, unsigned cc)
{
    struct xe *e = &t->e;
    unsigned kind = cc >> 1;
    bool cf_used = kind == 1 || kind == 3;
    if (t->live >= 0 && !((t->live == REM_CC_INC || t->live == REM_CC_DEC) && cf_used))
        return cc;
    int op = t->cc_op;
    unsigned size = t->cc_bits / 8;
    bool fast = false;
    switch (op) {
    case REM_CC_SUB: case REM_CC_ADD: case REM_CC_LOGIC: fast = true; break;
    case REM_CC_INC: case REM_CC_DEC: fast = !cf_used; break;
    case REM_CC_SHL: case REM_CC_SHR: case REM_CC_SAR: fast = kind == 2 || kind == 4; break;
    default: break;
    }
    if (!fast || !size_ok(size)) {
        jit_emit_rem_cond(t, cc);
        return XC_NE;
    }
    uint8_t *guard = NULL;
    if (!t->cc_sure) {
        xe_alu_imm(e, 2, XA_CMP, vm(CC_OP), (int32_t)((unsigned)op | t->cc_bits << 8));
        guard = xe_jcc(e, XC_NE);
    }
    switch (op) {
    case REM_CC_SUB: case REM_CC_ADD:
        xe_load_zx(e, size, XR_RAX, vm(CC_SRC1));
        xe_alu_load(e, size, op == REM_CC_SUB ? XA_CMP : XA_ADD, XR_RAX, vm(CC_SRC2));
        break;
    case REM_CC_INC: case REM_CC_DEC:
        xe_load_zx(e, size, XR_RAX, vm(CC_SRC1));
        xe_incdec(e, size, op == REM_CC_DEC, XR_RAX);
        break;
    default: /* LOGIC, and ZF/SF of the shifts */
        xe_load_zx(e, size, XR_RAX, vm(CC_RES));
        xe_test(e, size, xm_reg(XR_RAX), XR_RAX);
        break;
    }
    if (!guard)
        return cc;
    /* Unify the two paths on "al != 0". */
    xe_setcc(e, cc, XR_RAX);
    xe_test(e, 1, xm_reg(XR_RAX), XR_RAX);
    uint8_t *done = xe_jmp(e);
    xe_patch(guard, e->p);
    jit_emit_rem_cond(t, cc);
    xe_patch(done, e->p);
    return XC_NE;
}

/* rax = the target; loops when it is the block's start, else leaves. */

bool jit_tr_insn(struct tr *t, unsigned i)
{
    const struct dis_insn *in = &t->insn[i].in;
    if (in->prefixes & DIS_PFX_LOCK)
        return false;
    if (in->cf != DIS_CF_NONE)
        return false; /* rem_jit.c's */
    if (in->attr & (DIS_A_PRIV | DIS_A_SENS | DIS_A_IO | DIS_A_STRING))
        return false;
    switch (in->mnem) {
    case DIS_mov: case DIS_movabs: return tr_mov(t, i, in);
    case DIS_not: case DIS_neg: return tr_notneg(t, i, in);
    case DIS_movzx: case DIS_movsx: case DIS_movsxd: return tr_movx(t, i, in);
    case DIS_lea: return tr_lea(t, i, in);
    case DIS_add: case DIS_sub: case DIS_cmp: case DIS_and: case DIS_or: case DIS_xor:
    case DIS_test:
        return tr_alu(t, i, in);
    case DIS_inc: case DIS_dec: return tr_incdec(t, i, in);
    case DIS_adc: case DIS_sbb: return tr_adcsbb(t, in);
    case DIS_imul: return tr_imul(t, i, in);
    case DIS_xchg: return tr_xchg(t, in);
    case DIS_shl: case DIS_sal: case DIS_shr: case DIS_sar: return tr_shift(t, in);
    case DIS_push: return tr_push(t, i, in);
    case DIS_pop: return tr_pop(t, i, in);
    case DIS_nop: return in->nops == 0 || in->op[0].kind == DIS_OP_MEM ||
                         in->op[0].kind == DIS_OP_REG;
    default:
        if (in->mnem >= DIS_cmovo && in->mnem <= DIS_cmovg)
            return tr_cmov(t, i, in);
        if (in->mnem >= DIS_seto && in->mnem <= DIS_setg)
            return tr_setcc(t, i, in);
        return false;
    }
}

/* Does the instruction leave v->cc alone (inlined or by its handler)? */
bool jit_keeps_flags(const struct dis_insn *in)
{
    if (in->attr & (DIS_A_PRIV | DIS_A_SENS | DIS_A_IO | DIS_A_STRING))
        return false;
    switch (in->mnem) {
    case DIS_mov: case DIS_movzx: case DIS_movsx: case DIS_movsxd: case DIS_lea:
    case DIS_push: case DIS_pop: case DIS_nop: case DIS_xchg: case DIS_movabs: case DIS_not:
        return true;
    default:
        return (in->mnem >= DIS_cmovo && in->mnem <= DIS_cmovg) ||
               (in->mnem >= DIS_seto && in->mnem <= DIS_setg);
    }
}


#endif
