/*
 * rem_fast.c - handlers resolved when a block is built (rem_block.c).
 *
 * rem_fast_handler picks, for a decoded instruction, the cheapest handler
 * that does exactly what rem_execute would do with it:
 *   - specialised handlers for the forms that dominate real code: MOV and
 *     LEA, the two-operand ALU group with a register destination (and
 *     CMP/TEST with any), INC/DEC of a register, Jcc, near JMP/CALL/RET
 *     with a relative target, PUSH/POP of a general register;
 *   - the instruction's group (rem_exec_general, rem_exec_alu) directly,
 *     skipping the chain of group dispatchers;
 *   - rem_execute for everything else (privilege check, then every group).
 * The specialised ones repeat the semantics of rem_exec.c / rem_exec_alu.c
 * for their forms only; a form they do not cover goes to its group.
 */
#include "rem_ops.h"

rem_insn_fn rem_fast_handler(const struct dis_insn *in);

/* ---- operands ----------------------------------------------------------------- */

/* rem_rd / rem_wr for the common case, inlined: 64-bit mode (flat but for
 * FS/GS), a canonical address, a TLB hit with a host pointer, inside one
 * page. Anything else goes the full way, which also raises the faults. */
static inline void *fast_ptr(struct rem_vcpu *v, const struct dis_op *op, unsigned size,
                             unsigned kind)
{
    if (v->mode != REM_MODE_LONG)
        return NULL;
    uint64_t la = ea_off(v, op);
    if (op->mem.seg == DIS_SEG_FS || op->mem.seg == DIS_SEG_GS)
        la += v->ctx->seg[op->mem.seg].base;
    if ((uint64_t)((int64_t)(la << 16) >> 16) != la || (la & PGM_PAGE_MASK) + size > PGM_PAGE_SIZE)
        return NULL;
    const struct rem_tlb_entry *e = &v->tlb[rem_user(v)][kind][(la >> 12) & (REM_TLB_SIZE - 1)];
    if (e->tag != ((la & ~PGM_PAGE_MASK) | 1) || !e->addend)
        return NULL;
    return (void *)(uintptr_t)(la + e->addend);
}

static inline uint64_t fop_get(struct rem_vcpu *v, const struct dis_op *op, unsigned size)
{
    switch (op->kind) {
    case DIS_OP_REG:
        return gpr_get(v, op->reg_class, op->reg, size);
    case DIS_OP_MEM: {
        void *p = fast_ptr(v, op, size, REM_TLB_READ);
        if (p) {
            switch (size) {
            case 1: return *(uint8_t *)p;
            case 2: { uint16_t x; memcpy(&x, p, 2); return x; }
            case 4: { uint32_t x; memcpy(&x, p, 4); return x; }
            case 8: { uint64_t x; memcpy(&x, p, 8); return x; }
            default: break;
            }
        }
        return rem_rd(v, op_seg(op), ea_off(v, op), size);
    }
    default:
        return op->imm & rem_mask(size * 8);
    }
}

static inline void fop_set(struct rem_vcpu *v, const struct dis_op *op, unsigned size,
                           uint64_t val)
{
    if (op->kind == DIS_OP_REG) {
        gpr_set(v, op->reg_class, op->reg, size, val);
        return;
    }
    void *p = fast_ptr(v, op, size, REM_TLB_WRITE);
    if (p) {
        switch (size) {
        case 1: *(uint8_t *)p = (uint8_t)val; return;
        case 2: { uint16_t x = (uint16_t)val; memcpy(p, &x, 2); return; }
        case 4: { uint32_t x = (uint32_t)val; memcpy(p, &x, 4); return; }
        case 8: memcpy(p, &val, 8); return;
        default: break;
        }
    }
    rem_wr(v, op_seg(op), ea_off(v, op), size, val);
}

/* rem_cond for the flag producers that dominate (rem_flags.c has the rest). */
static inline bool fast_cond(struct rem_vcpu *v, unsigned cc)
{
    const struct rem_cc *c = &v->cc;
    unsigned n = c->bits;
    bool r;
    switch (c->op) {
    case REM_CC_SUB:
        switch (cc >> 1) {
        case 1: r = c->src1 < c->src2; break;
        case 2: r = c->src1 == c->src2; break;
        case 3: r = c->src1 <= c->src2; break; /* CF or ZF */
        case 4: r = (c->res >> (n - 1)) & 1; break;
        case 6: r = (int64_t)(c->src1 << (64 - n)) < (int64_t)(c->src2 << (64 - n)); break;
        case 7: r = (int64_t)(c->src1 << (64 - n)) <= (int64_t)(c->src2 << (64 - n)); break;
        default: return rem_cond(v, cc);
        }
        return r ^ (cc & 1);
    case REM_CC_LOGIC: {
        uint64_t res = c->res & rem_mask(n);
        switch (cc >> 1) {
        case 0: case 1: r = false; break;
        case 2: case 3: r = res == 0; break;
        case 4: case 6: r = (res >> (n - 1)) & 1; break;
        case 7: r = ((res >> (n - 1)) & 1) || res == 0; break;
        default: return rem_cond(v, cc);
        }
        return r ^ (cc & 1);
    }
    case REM_CC_INC: case REM_CC_DEC:
        switch (cc >> 1) {
        case 1: r = c->cin != 0; break;
        case 2: r = c->res == 0; break;
        case 4: r = (c->res >> (n - 1)) & 1; break;
        default: return rem_cond(v, cc);
        }
        return r ^ (cc & 1);
    default:
        return rem_cond(v, cc);
    }
}

/* ---- control flow ------------------------------------------------------------ */

/* rem_exec.c's jump_to: CS limit outside 64-bit mode, canonical inside. */
static inline void fast_jump(struct rem_vcpu *v, uint64_t target)
{
    if (v->mode == REM_MODE_LONG) {
        if ((uint64_t)((int64_t)(target << 16) >> 16) != target)
            rem_gp0(v);
    } else if (target > v->ctx->seg[CPUM_CS].limit) {
        rem_gp0(v);
    }
    v->next_rip = target;
}

/* dis_rel_target for the one REL operand of op[0]. */
static inline uint64_t rel0(const struct rem_vcpu *v, const struct dis_insn *in)
{
    uint64_t t = v->insn_rip + in->length + in->op[0].imm;
    return in->opsize >= 8 ? t : t & ((1ull << (8 * in->opsize)) - 1);
}

static void h_jcc(struct rem_vcpu *v, const struct dis_insn *in)
{
    if (fast_cond(v, in->cond))
        fast_jump(v, rel0(v, in));
}

/* JZ/JNZ: ZF straight from the recorded result of the common producers. */
static inline bool fast_zf(struct rem_vcpu *v)
{
    const struct rem_cc *c = &v->cc;
    switch (c->op) {
    case REM_CC_SUB: case REM_CC_LOGIC: case REM_CC_INC: case REM_CC_DEC: case REM_CC_ADD:
    case REM_CC_SHL: case REM_CC_SHR: case REM_CC_SAR:
        return (c->res & rem_mask(c->bits)) == 0;
    default:
        return rem_cond(v, 4);
    }
}

static void h_jz(struct rem_vcpu *v, const struct dis_insn *in)
{
    if (fast_zf(v))
        fast_jump(v, rel0(v, in));
}

static void h_jnz(struct rem_vcpu *v, const struct dis_insn *in)
{
    if (!fast_zf(v))
        fast_jump(v, rel0(v, in));
}

static void h_jmp_rel(struct rem_vcpu *v, const struct dis_insn *in)
{
    fast_jump(v, rel0(v, in));
}

static void h_call_rel(struct rem_vcpu *v, const struct dis_insn *in)
{
    uint64_t ret = v->next_rip;
    fast_jump(v, rel0(v, in));
    rem_push(v, in->opsize, ret);
}

static void h_ret(struct rem_vcpu *v, const struct dis_insn *in)
{
    uint64_t *g = v->ctx->gpr;
    uint64_t m = rem_mask(v->stack_bits), sp = g[CPUM_RSP];
    uint64_t t = rem_rd(v, CPUM_SS, sp & m, in->opsize);
    unsigned imm = in->nops ? (unsigned)in->op[0].imm & 0xffff : 0;
    fast_jump(v, t);
    g[CPUM_RSP] = (sp & ~m) | ((sp + in->opsize + imm) & m);
}

/* ---- moves and stack --------------------------------------------------------- */

static void h_mov(struct rem_vcpu *v, const struct dis_insn *in)
{
    fop_set(v, &in->op[0], in->opsize, fop_get(v, &in->op[1], in->opsize));
}

static void h_lea(struct rem_vcpu *v, const struct dis_insn *in)
{
    op_set(v, &in->op[0], in->opsize, ea_off(v, &in->op[1]));
}

static void h_push(struct rem_vcpu *v, const struct dis_insn *in)
{
    const struct dis_op *op = &in->op[0];
    rem_push(v, in->opsize, op->kind == DIS_OP_IMM ? op->imm : gpr_get(v, op->reg_class, op->reg,
                                                                          in->opsize));
}

static void h_pop_reg(struct rem_vcpu *v, const struct dis_insn *in)
{
    unsigned size = in->opsize;
    uint64_t m = rem_mask(v->stack_bits), rsp = v->ctx->gpr[CPUM_RSP];
    uint64_t val = rem_rd(v, CPUM_SS, rsp & m, size);
    v->ctx->gpr[CPUM_RSP] = (rsp & ~m) | ((rsp + size) & m);
    gpr_set(v, in->op[0].reg_class, in->op[0].reg, size, val);
}

/* ---- arithmetic -------------------------------------------------------------- */

/* ADD/SUB/AND/OR/XOR/CMP/TEST, the destination a register (or anything for
 * CMP/TEST): rem_exec_alu's alu2 without the RMW path. */
#define ALU2(name, expr, ccop, store)                                                     \
    static void h_##name(struct rem_vcpu *v, const struct dis_insn *in)                  \
    {                                                                                     \
        unsigned size = in->opsize, bits = size * 8;                                      \
        uint64_t m = rem_mask(bits);                                                      \
        uint64_t b = fop_get(v, &in->op[1], size);                                        \
        uint64_t a = fop_get(v, &in->op[0], size);                                        \
        uint64_t r = (expr) & m;                                                          \
        if (store)                                                                        \
            op_set(v, &in->op[0], size, r);                                               \
        rem_cc_set(v, ccop, bits, r, a, b);                                               \
        v->cc.cin = 0;                                                                    \
    }
ALU2(add, a + b, REM_CC_ADD, 1)
ALU2(sub, a - b, REM_CC_SUB, 1)
ALU2(cmp, a - b, REM_CC_SUB, 0)
ALU2(and, a & b, REM_CC_LOGIC, 1)
ALU2(or, a | b, REM_CC_LOGIC, 1)
ALU2(xor, a ^ b, REM_CC_LOGIC, 1)
ALU2(test, a & b, REM_CC_LOGIC, 0)

/* INC/DEC of a register: CF kept (rem_flags.c). */
static void h_incdec_reg(struct rem_vcpu *v, const struct dis_insn *in)
{
    unsigned size = in->opsize, bits = size * 8;
    bool inc = in->mnem == DIS_inc;
    unsigned cf = fast_cond(v, 2);
    uint64_t a = gpr_get(v, in->op[0].reg_class, in->op[0].reg, size);
    uint64_t r = (inc ? a + 1 : a - 1) & rem_mask(bits);
    gpr_set(v, in->op[0].reg_class, in->op[0].reg, size, r);
    rem_cc_set(v, inc ? REM_CC_INC : REM_CC_DEC, bits, r, a, 1);
    v->cc.cin = cf;
}

/* ---- register forms of 32/64-bit size: the GPR array directly ----------------- */

#define RR_ALU(name, bits_, src, expr, ccop, store)                                        \
    static void h_##name(struct rem_vcpu *v, const struct dis_insn *in)                   \
    {                                                                                      \
        uint64_t *g = v->ctx->gpr;                                                         \
        const uint64_t m = bits_ == 64 ? ~0ull : 0xffffffffull;                            \
        uint64_t b = (src) & m, a = g[in->op[0].reg] & m, r = (expr) & m;                  \
        if (store)                                                                         \
            g[in->op[0].reg] = r; /* 32-bit: zero-extended */                              \
        rem_cc_set(v, ccop, bits_, r, a, b);                                               \
        v->cc.cin = 0;                                                                     \
    }
#define RR_FORMS(nm, expr, ccop, store)                                                    \
    RR_ALU(nm##_r64r, 64, g[in->op[1].reg], expr, ccop, store)                             \
    RR_ALU(nm##_r32r, 32, g[in->op[1].reg], expr, ccop, store)                             \
    RR_ALU(nm##_r64i, 64, in->op[1].imm, expr, ccop, store)                                \
    RR_ALU(nm##_r32i, 32, in->op[1].imm, expr, ccop, store)
RR_FORMS(add, a + b, REM_CC_ADD, 1)
RR_FORMS(sub, a - b, REM_CC_SUB, 1)
RR_FORMS(cmp, a - b, REM_CC_SUB, 0)
RR_FORMS(and, a & b, REM_CC_LOGIC, 1)
RR_FORMS(or, a | b, REM_CC_LOGIC, 1)
RR_FORMS(xor, a ^ b, REM_CC_LOGIC, 1)
RR_FORMS(test, a & b, REM_CC_LOGIC, 0)
#define RR_ROW(nm) { h_##nm##_r64r, h_##nm##_r32r, h_##nm##_r64i, h_##nm##_r32i }
static const rem_insn_fn rr_alu[][4] = {
    RR_ROW(add), RR_ROW(sub), RR_ROW(cmp), RR_ROW(and), RR_ROW(or), RR_ROW(xor), RR_ROW(test),
};

/* CF for INC/DEC to keep: rem_cond(v, 2) for the common producers. */
static inline unsigned fast_cf(struct rem_vcpu *v)
{
    const struct rem_cc *c = &v->cc;
    switch (c->op) {
    case REM_CC_INC: case REM_CC_DEC: return c->cin != 0;
    case REM_CC_SUB: return c->src1 < c->src2;
    case REM_CC_LOGIC: return 0;
    case REM_CC_ADD: return c->res < c->src1;
    default: return rem_cond(v, 2);
    }
}

#define RR_INCDEC(name, bits_, delta, ccop)                                                \
    static void h_##name(struct rem_vcpu *v, const struct dis_insn *in)                   \
    {                                                                                      \
        uint64_t *g = v->ctx->gpr;                                                         \
        const uint64_t m = bits_ == 64 ? ~0ull : 0xffffffffull;                            \
        unsigned cf = fast_cf(v);                                                          \
        uint64_t a = g[in->op[0].reg] & m, r = (a + (delta)) & m;                          \
        g[in->op[0].reg] = r;                                                              \
        rem_cc_set(v, ccop, bits_, r, a, 1);                                               \
        v->cc.cin = cf;                                                                    \
    }
RR_INCDEC(inc_r64, 64, 1, REM_CC_INC)
RR_INCDEC(inc_r32, 32, 1, REM_CC_INC)
RR_INCDEC(dec_r64, 64, ~0ull, REM_CC_DEC)
RR_INCDEC(dec_r32, 32, ~0ull, REM_CC_DEC)

static void h_mov_r64r(struct rem_vcpu *v, const struct dis_insn *in)
{
    v->ctx->gpr[in->op[0].reg] = v->ctx->gpr[in->op[1].reg];
}

static void h_mov_r32r(struct rem_vcpu *v, const struct dis_insn *in)
{
    v->ctx->gpr[in->op[0].reg] = (uint32_t)v->ctx->gpr[in->op[1].reg];
}

static void h_mov_r64i(struct rem_vcpu *v, const struct dis_insn *in)
{
    v->ctx->gpr[in->op[0].reg] = in->op[1].imm;
}

static void h_mov_r32i(struct rem_vcpu *v, const struct dis_insn *in)
{
    v->ctx->gpr[in->op[0].reg] = (uint32_t)in->op[1].imm;
}

static void h_mov_rm(struct rem_vcpu *v, const struct dis_insn *in)
{
    uint64_t x = fop_get(v, &in->op[1], in->opsize);
    v->ctx->gpr[in->op[0].reg] = in->opsize == 8 ? x : (uint32_t)x;
}

static void h_mov_mr(struct rem_vcpu *v, const struct dis_insn *in)
{
    fop_set(v, &in->op[0], in->opsize, v->ctx->gpr[in->op[1].reg]);
}

/* MOVZX/MOVSX/MOVSXD (rem_exec.c's movx). */
static void h_movx(struct rem_vcpu *v, const struct dis_insn *in)
{
    unsigned ss = in->op[1].size ? in->op[1].size : 1;
    uint64_t x = fop_get(v, &in->op[1], ss);
    if (in->mnem != DIS_movzx) {
        unsigned b = ss * 8;
        x = (uint64_t)((int64_t)(x << (64 - b)) >> (64 - b));
    }
    fop_set(v, &in->op[0], in->opsize, x & rem_mask(in->opsize * 8));
}

/* SHL/SAL/SHR/SAR of a 32/64-bit register by a non-zero count:
 * the result now, the flags lazily (rem_flags.c computes them as
 * rem_exec_alu.c's shift_calc does: every arithmetic flag written, AF 0). */
static inline void shift_reg(struct rem_vcpu *v, const struct dis_insn *in, unsigned cnt)
{
    unsigned bits = in->opsize * 8, reg = in->op[0].reg;
    uint64_t *g = v->ctx->gpr, m = rem_mask(bits), a = g[reg] & m, r;
    unsigned op;
    switch (in->mnem) {
    case DIS_shl: case DIS_sal:
        r = (a << cnt) & m;
        op = REM_CC_SHL;
        break;
    case DIS_shr:
        r = a >> cnt;
        op = REM_CC_SHR;
        break;
    default: /* sar */
        r = (uint64_t)((int64_t)(a << (64 - bits)) >> (64 - bits + cnt)) & m;
        op = REM_CC_SAR;
        break;
    }
    g[reg] = r;
    rem_cc_set(v, op, bits, r, a, cnt);
}

static void h_shift_ri(struct rem_vcpu *v, const struct dis_insn *in)
{
    shift_reg(v, in, (unsigned)in->op[1].imm & (in->opsize == 8 ? 63 : 31));
}

/* By CL: a masked count of 0 changes no flag, but a 32-bit register is
 * still written (zero-extended), as rem_exec_alu.c's shift does. */
static void h_shift_rcl(struct rem_vcpu *v, const struct dis_insn *in)
{
    unsigned cnt = (unsigned)v->ctx->gpr[CPUM_RCX] & (in->opsize == 8 ? 63 : 31);
    if (cnt)
        shift_reg(v, in, cnt);
    else if (in->opsize == 4)
        v->ctx->gpr[in->op[0].reg] = (uint32_t)v->ctx->gpr[in->op[0].reg];
}

/* CMOVcc of a 32/64-bit register: the source is read (and may fault) either
 * way; a 32-bit destination is zero-extended even when nothing moves. */
static void h_cmov(struct rem_vcpu *v, const struct dis_insn *in)
{
    uint64_t *g = v->ctx->gpr, x = fop_get(v, &in->op[1], in->opsize);
    unsigned d = in->op[0].reg;
    if (fast_cond(v, in->cond))
        g[d] = in->opsize == 8 ? x : (uint32_t)x;
    else if (in->opsize == 4)
        g[d] = (uint32_t)g[d];
}

static void h_setcc(struct rem_vcpu *v, const struct dis_insn *in)
{
    fop_set(v, &in->op[0], 1, fast_cond(v, in->cond));
}

static bool is_gpr_full(const struct dis_op *op)
{
    return op->kind == DIS_OP_REG && op->reg_class == DIS_RC_GPR;
}

/* The register forms above, or NULL. */
static rem_insn_fn reg_form(const struct dis_insn *in)
{
    unsigned size = in->opsize;
    const struct dis_op *d = &in->op[0], *s = &in->op[1];
    if ((size != 4 && size != 8) || !is_gpr_full(d) || (in->prefixes & DIS_PFX_LOCK))
        return NULL;
    bool w = size == 8;
    switch (in->mnem) {
    case DIS_inc: return in->nops == 1 ? (w ? h_inc_r64 : h_inc_r32) : NULL;
    case DIS_dec: return in->nops == 1 ? (w ? h_dec_r64 : h_dec_r32) : NULL;
    case DIS_shl: case DIS_sal: case DIS_shr: case DIS_sar:
        if (in->nops == 2 && s->kind == DIS_OP_IMM && /* size 0: the implicit 1 */
            ((unsigned)s->imm & (w ? 63 : 31)) != 0)
            return h_shift_ri;
        if (in->nops == 2 && s->kind == DIS_OP_REG && s->reg_class == DIS_RC_GPR &&
            s->reg == CPUM_RCX && s->size == 1)
            return h_shift_rcl;
        return NULL;
    case DIS_mov:
        if (in->nops != 2)
            return NULL;
        if (is_gpr_full(s))
            return w ? h_mov_r64r : h_mov_r32r;
        if (s->kind == DIS_OP_IMM)
            return w ? h_mov_r64i : h_mov_r32i;
        if (s->kind == DIS_OP_MEM)
            return h_mov_rm;
        return NULL;
    default:
        break;
    }
    static const unsigned short alu_mn[] = { DIS_add, DIS_sub, DIS_cmp, DIS_and, DIS_or, DIS_xor,
                                             DIS_test };
    if (in->nops != 2 || (!is_gpr_full(s) && s->kind != DIS_OP_IMM))
        return NULL;
    for (unsigned i = 0; i < sizeof(alu_mn) / sizeof(alu_mn[0]); i++)
        if (in->mnem == alu_mn[i])
            return rr_alu[i][(is_gpr_full(s) ? 0 : 2) + (w ? 0 : 1)];
    return NULL;
}

/* ---- groups ------------------------------------------------------------------- */

static void h_general(struct rem_vcpu *v, const struct dis_insn *in)
{
    if (!rem_exec_general(v, in))
        rem_execute(v, in);
}

static void h_alu(struct rem_vcpu *v, const struct dis_insn *in)
{
    if (!rem_exec_alu(v, in))
        rem_execute(v, in);
}

static bool is_gpr(const struct dis_op *op)
{
    return op->kind == DIS_OP_REG && (op->reg_class == DIS_RC_GPR || op->reg_class == DIS_RC_GPR8H);
}

static rem_insn_fn alu2_handler(const struct dis_insn *in)
{
    const struct dis_op *d = &in->op[0], *s = &in->op[1];
    if (in->nops != 2 || (in->prefixes & DIS_PFX_LOCK))
        return NULL;
    if (!is_gpr(s) && s->kind != DIS_OP_IMM && s->kind != DIS_OP_MEM)
        return NULL;
    bool ro = in->mnem == DIS_cmp || in->mnem == DIS_test;
    if (!is_gpr(d) && !(ro && d->kind == DIS_OP_MEM && s->kind != DIS_OP_MEM))
        return NULL;
    switch (in->mnem) {
    case DIS_add: return h_add;
    case DIS_sub: return h_sub;
    case DIS_cmp: return h_cmp;
    case DIS_and: return h_and;
    case DIS_or: return h_or;
    case DIS_xor: return h_xor;
    case DIS_test: return h_test;
    default: return NULL;
    }
}

rem_insn_fn rem_fast_handler(const struct dis_insn *in)
{
    if (in->attr & DIS_A_PRIV)
        return rem_execute; /* its privilege check */
    unsigned mn = in->mnem;
    const struct dis_op *o0 = &in->op[0], *o1 = &in->op[1];
    rem_insn_fn fn = reg_form(in);
    if (fn)
        return fn;
    if (mn == DIS_mov && in->nops == 2 && o0->kind == DIS_OP_MEM && is_gpr_full(o1) &&
        (in->opsize == 4 || in->opsize == 8))
        return h_mov_mr;
    fn = alu2_handler(in);
    if (fn)
        return fn;
    if (mn >= DIS_jo && mn <= DIS_jg && o0->kind == DIS_OP_REL)
        return in->cond == 4 ? h_jz : in->cond == 5 ? h_jnz : h_jcc;
    switch (mn) {
    case DIS_jmp:
        return o0->kind == DIS_OP_REL ? h_jmp_rel : h_general;
    case DIS_call:
        return o0->kind == DIS_OP_REL ? h_call_rel : h_general;
    case DIS_ret:
        return h_ret;
    case DIS_mov:
        if ((is_gpr(o0) || o0->kind == DIS_OP_MEM) &&
            (is_gpr(o1) || o1->kind == DIS_OP_MEM || o1->kind == DIS_OP_IMM))
            return h_mov;
        return h_general;
    case DIS_lea:
        return o1->kind == DIS_OP_MEM && is_gpr(o0) ? h_lea : h_general;
    case DIS_push:
        return (is_gpr(o0) && o0->reg_class == DIS_RC_GPR) || o0->kind == DIS_OP_IMM ? h_push
                                                                                    : h_general;
    case DIS_pop:
        return is_gpr(o0) && o0->reg_class == DIS_RC_GPR ? h_pop_reg : h_general;
    case DIS_inc: case DIS_dec:
        return is_gpr(o0) && !(in->prefixes & DIS_PFX_LOCK) ? h_incdec_reg : h_alu;
    case DIS_add: case DIS_or: case DIS_adc: case DIS_sbb: case DIS_and: case DIS_sub:
    case DIS_xor: case DIS_cmp: case DIS_test: case DIS_not: case DIS_neg:
    case DIS_rol: case DIS_ror: case DIS_rcl: case DIS_rcr: case DIS_shl: case DIS_sal:
    case DIS_shr: case DIS_sar: case DIS_shld: case DIS_shrd: case DIS_mul: case DIS_imul:
    case DIS_div: case DIS_idiv: case DIS_bt: case DIS_bts: case DIS_btr: case DIS_btc:
    case DIS_bsf: case DIS_bsr: case DIS_xadd: case DIS_cmpxchg: case DIS_xchg:
        return h_alu;
    case DIS_movzx: case DIS_movsx: case DIS_movsxd:
        return (is_gpr(o0) || o0->kind == DIS_OP_MEM) && (is_gpr(o1) || o1->kind == DIS_OP_MEM)
                   ? h_movx
                   : h_general;
    case DIS_nop: case DIS_leave:
    case DIS_cbw: case DIS_cwd: case DIS_bswap:
        return h_general;
    default:
        break;
    }
    if (mn >= DIS_seto && mn <= DIS_setg)
        return is_gpr(o0) || o0->kind == DIS_OP_MEM ? h_setcc : h_general;
    if (mn >= DIS_cmovo && mn <= DIS_cmovg)
        return is_gpr_full(o0) && (in->opsize == 4 || in->opsize == 8) &&
                       (is_gpr(o1) || o1->kind == DIS_OP_MEM)
                   ? h_cmov
                   : h_general;
    return rem_execute;
}
