/*
 * rem_flags.c - lazily computed arithmetic flags.
 *
 * Most instructions that set CF/PF/AF/ZF/SF/OF are followed by another that
 * overwrites them before anything reads them. So ADD, ADC, SUB, SBB, CMP,
 * NEG, INC, DEC and the logic operations only record their operands, result,
 * size and kind (rem_cc_set); the flags are computed when something asks for
 * them (Jcc, SETcc, CMOVcc, PUSHF, ADC, an exception frame, the end of a run).
 * Instructions with rarer flag rules (shifts, multiplies, BT, ...) compute
 * their flags at once and store them with rem_set_arith (REM_CC_EFLAGS).
 * ctx.rflags holds the non-arithmetic bits at all times and the arithmetic
 * ones only when cc.op is REM_CC_EFLAGS, or after rem_get_rflags().
 */
#include "rem_internal.h"

uint32_t rem_parity(uint64_t x)
{
    return (__builtin_popcount((unsigned)(x & 0xff)) & 1) ? 0 : FL_PF;
}

static uint32_t szp(uint64_t res, unsigned bits)
{
    uint32_t f = rem_parity(res);
    if (!(res & rem_mask(bits)))
        f |= FL_ZF;
    if ((res >> (bits - 1)) & 1)
        f |= FL_SF;
    return f;
}

uint32_t rem_arith_flags(struct rem_vcpu *v)
{
    const struct rem_cc *c = &v->cc;
    unsigned n = c->bits;
    uint64_t r = c->res, a = c->src1, b = c->src2;
    uint32_t f;
    switch (c->op) {
    case REM_CC_EFLAGS:
        return (uint32_t)v->ctx->rflags & FL_ARITH;
    case REM_CC_ADD:
    case REM_CC_ADC:
        f = szp(r, n) | (((a ^ b ^ r) & 0x10) ? FL_AF : 0);
        if (r < a || (c->op == REM_CC_ADC && c->cin && r == a))
            f |= FL_CF;
        if ((((a ^ r) & (b ^ r)) >> (n - 1)) & 1)
            f |= FL_OF;
        return f;
    case REM_CC_SUB:
    case REM_CC_SBB:
        f = szp(r, n) | (((a ^ b ^ r) & 0x10) ? FL_AF : 0);
        if (a < b || (c->op == REM_CC_SBB && c->cin && a == b))
            f |= FL_CF;
        if ((((a ^ b) & (a ^ r)) >> (n - 1)) & 1)
            f |= FL_OF;
        return f;
    case REM_CC_LOGIC:
        return szp(r, n);
    case REM_CC_INC:
        f = szp(r, n) | (c->cin ? FL_CF : 0) | (((a ^ 1 ^ r) & 0x10) ? FL_AF : 0);
        if (r == (1ull << (n - 1)))
            f |= FL_OF;
        return f;
    case REM_CC_DEC:
        f = szp(r, n) | (c->cin ? FL_CF : 0) | (((a ^ 1 ^ r) & 0x10) ? FL_AF : 0);
        if (r == (1ull << (n - 1)) - 1)
            f |= FL_OF;
        return f;
    /* The shifts as rem_exec_alu.c's shift_calc computes them (AF 0). */
    case REM_CC_SHL: {
        unsigned cf = (unsigned)(a >> (n - b)) & 1;
        return szp(r, n) | (cf ? FL_CF : 0) | ((((r >> (n - 1)) & 1) ^ cf) ? FL_OF : 0);
    }
    case REM_CC_SHR:
        return szp(r, n) | (((a >> (b - 1)) & 1) ? FL_CF : 0) |
               (b == 1 && ((a >> (n - 1)) & 1) ? FL_OF : 0);
    case REM_CC_SAR: {
        int64_t sv = (int64_t)(a << (64 - n)) >> (64 - n);
        return szp(r, n) | (((uint64_t)(sv >> (b - 1)) & 1) ? FL_CF : 0);
    }
    }
    return 0;
}

uint64_t rem_get_rflags(struct rem_vcpu *v)
{
    if (v->cc.op != REM_CC_EFLAGS) {
        uint32_t f = rem_arith_flags(v);
        v->ctx->rflags = (v->ctx->rflags & ~(uint64_t)FL_ARITH) | f;
        v->cc.op = REM_CC_EFLAGS;
    }
    return v->ctx->rflags | 2;
}

void rem_set_rflags(struct rem_vcpu *v, uint64_t fl)
{
    v->ctx->rflags = (fl & 0x3f7fd7ull) | 2;
    v->cc.op = REM_CC_EFLAGS;
}

void rem_set_arith(struct rem_vcpu *v, uint32_t mask, uint32_t val)
{
    uint64_t cur = rem_get_rflags(v);
    v->ctx->rflags = (cur & ~(uint64_t)mask) | (val & mask);
}

bool rem_cond(struct rem_vcpu *v, unsigned cc)
{
    bool r;
    const struct rem_cc *c = &v->cc;
    /* The common pairs CMP/SUB + Jcc and TEST/AND + Jcc without flags. */
    if (c->op == REM_CC_SUB && (cc >> 1) != 0 && (cc >> 1) != 3) {
        unsigned n = c->bits;
        int64_t sa = (int64_t)(c->src1 << (64 - n)), sb = (int64_t)(c->src2 << (64 - n));
        switch (cc >> 1) {
        case 1: r = c->src1 < c->src2; break;   /* B */
        case 2: r = c->src1 == c->src2; break;  /* E */
        case 4: r = (c->res >> (n - 1)) & 1; break;             /* S */
        case 6: r = sa < sb; break;             /* L */
        case 7: r = sa <= sb; break;            /* LE */
        default: goto slow;                      /* P */
        }
        /* case 3 (BE) handled below through the slow path */
        return r ^ (cc & 1);
    }
    if (c->op == REM_CC_INC || c->op == REM_CC_DEC || c->op == REM_CC_ADD) {
        /* INC/DEC + Jcc (loop counters) and ADD + JC/JZ/JS without the flags:
         * CF is kept (INC/DEC) or the carry out (ADD); ZF and SF from the result. */
        unsigned n = c->bits;
        switch (cc >> 1) {
        case 1: r = c->op == REM_CC_ADD ? c->res < c->src1 : c->cin != 0; break; /* B */
        case 2: r = c->res == 0; break;                                           /* E */
        case 4: r = (c->res >> (n - 1)) & 1; break;                               /* S */
        default: goto slow;
        }
        return r ^ (cc & 1);
    }
    if (c->op == REM_CC_LOGIC) {
        unsigned n = c->bits;
        uint64_t res = c->res & rem_mask(n);
        bool s = (res >> (n - 1)) & 1;
        switch (cc >> 1) {
        case 0: r = false; break;
        case 1: r = false; break;
        case 2: r = res == 0; break;
        case 3: r = res == 0; break;
        case 4: r = s; break;
        case 6: r = s; break;
        case 7: r = s || res == 0; break;
        default: goto slow;
        }
        return r ^ (cc & 1);
    }
slow:;
    uint32_t f = rem_arith_flags(v);
    switch (cc >> 1) {
    case 0: r = f & FL_OF; break;
    case 1: r = f & FL_CF; break;
    case 2: r = f & FL_ZF; break;
    case 3: r = f & (FL_CF | FL_ZF); break;
    case 4: r = f & FL_SF; break;
    case 5: r = f & FL_PF; break;
    case 6: r = !(f & FL_SF) != !(f & FL_OF); break;
    default: r = (f & FL_ZF) || (!(f & FL_SF) != !(f & FL_OF)); break;
    }
    return r ^ (cc & 1);
}
