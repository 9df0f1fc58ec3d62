/*
 * rem_exec_alu.c - integer arithmetic: ADD..CMP, TEST, INC/DEC, NEG/NOT,
 * shifts and rotates (count masking and the flag rules of each), MUL/IMUL/
 * DIV/IDIV (#DE), bit tests and scans, BCD adjustments, XADD, CMPXCHG and
 * CMPXCHG8B/16B. Memory destinations go through a read-modify-write that is
 * an atomic compare-and-swap on RAM when the instruction has LOCK.
 *
 * Flags: the frequent ALU operations record operands for rem_flags.c; the
 * rest compute their flags at once (rem_set_arith). Flags the SDM leaves
 * undefined get what Intel hardware is commonly observed to produce where
 * that is cheap, else a fixed choice.
 */
#include "rem_ops.h"

static unsigned cc_of(unsigned mnem)
{
    switch (mnem) {
    case DIS_add: return REM_CC_ADD;
    case DIS_adc: return REM_CC_ADC;
    case DIS_sub: case DIS_cmp: return REM_CC_SUB;
    case DIS_sbb: return REM_CC_SBB;
    default: return REM_CC_LOGIC;
    }
}

static uint64_t alu_calc(unsigned mnem, uint64_t a, uint64_t b, unsigned cin, uint64_t m)
{
    switch (mnem) {
    case DIS_add: return (a + b) & m;
    case DIS_adc: return (a + b + cin) & m;
    case DIS_sub: case DIS_cmp: return (a - b) & m;
    case DIS_sbb: return (a - b - cin) & m;
    case DIS_and: case DIS_test: return a & b;
    case DIS_or: return a | b;
    default: return a ^ b;
    }
}

static void alu2(struct rem_vcpu *v, const struct dis_insn *in)
{
    unsigned size = in->opsize, bits = size * 8, mn = in->mnem;
    uint64_t m = rem_mask(bits);
    uint64_t b = op_get(v, &in->op[1], size);
    unsigned cin = (mn == DIS_adc || mn == DIS_sbb) ? rem_cond(v, 2) : 0;
    uint64_t a, r;
    if (mn == DIS_cmp || mn == DIS_test) {
        a = op_get(v, &in->op[0], size);
        r = alu_calc(mn, a, b, cin, m);
    } else if (in->op[0].kind == DIS_OP_MEM) {
        struct rem_mref mr;
        mref_rmw(v, in, &in->op[0], size, &mr);
        do {
            a = mref_load(v, &mr);
            r = alu_calc(mn, a, b, cin, m);
        } while (!mref_store(v, &mr, a, r));
    } else {
        a = op_get(v, &in->op[0], size);
        r = alu_calc(mn, a, b, cin, m);
        op_set(v, &in->op[0], size, r);
    }
    rem_cc_set(v, cc_of(mn), bits, r, a, b);
    v->cc.cin = cin;
}

/* One-operand RMW: INC, DEC, NOT, NEG. */
static void alu1(struct rem_vcpu *v, const struct dis_insn *in)
{
    unsigned size = in->opsize, bits = size * 8, mn = in->mnem;
    uint64_t m = rem_mask(bits), a, r;
    unsigned cf = (mn == DIS_inc || mn == DIS_dec) ? rem_cond(v, 2) : 0;
    struct rem_mref mr = { 0 };
    bool mem = in->op[0].kind == DIS_OP_MEM;
    if (mem)
        mref_rmw(v, in, &in->op[0], size, &mr);
    for (;;) {
        a = mem ? mref_load(v, &mr) : op_get(v, &in->op[0], size);
        switch (mn) {
        case DIS_inc: r = (a + 1) & m; break;
        case DIS_dec: r = (a - 1) & m; break;
        case DIS_not: r = ~a & m; break;
        default: r = (0 - a) & m; break;
        }
        if (!mem) {
            op_set(v, &in->op[0], size, r);
            break;
        }
        if (mref_store(v, &mr, a, r))
            break;
    }
    switch (mn) {
    case DIS_inc: rem_cc_set(v, REM_CC_INC, bits, r, a, 1); v->cc.cin = cf; break;
    case DIS_dec: rem_cc_set(v, REM_CC_DEC, bits, r, a, 1); v->cc.cin = cf; break;
    case DIS_neg: rem_cc_set(v, REM_CC_SUB, bits, r, 0, a); v->cc.cin = 0; break;
    default: break;
    }
}

/* ---- shifts and rotates --------------------------------------------------------- */

static uint32_t szp_flags(uint64_t r, unsigned bits)
{
    uint32_t f = rem_parity(r);
    if (!(r & rem_mask(bits)))
        f |= FL_ZF;
    if ((r >> (bits - 1)) & 1)
        f |= FL_SF;
    return f;
}

/* Returns the result and sets flags; `cnt` already masked to 5/6 bits, != 0. */
static uint64_t shift_calc(struct rem_vcpu *v, unsigned mn, unsigned bits, uint64_t a,
                           unsigned cnt, uint64_t extra)
{
    uint64_t m = rem_mask(bits), r = 0;
    uint32_t f = rem_arith_flags(v), cf = 0, of = 0;
    unsigned msb = bits - 1;
    switch (mn) {
    case DIS_shl:
    case DIS_sal:
        r = cnt >= 64 ? 0 : (a << cnt) & m;
        cf = cnt <= bits ? (a >> (bits - cnt)) & 1 : 0;
        of = ((r >> msb) & 1) ^ cf;
        f = szp_flags(r, bits) | (cf ? FL_CF : 0) | (of ? FL_OF : 0);
        break;
    case DIS_shr:
        r = cnt >= 64 ? 0 : a >> cnt;
        cf = cnt <= bits ? (a >> (cnt - 1)) & 1 : 0;
        of = (a >> msb) & 1;
        f = szp_flags(r, bits) | (cf ? FL_CF : 0) | (of && cnt == 1 ? FL_OF : 0);
        break;
    case DIS_sar: {
        int64_t s = (int64_t)(a << (64 - bits)) >> (64 - bits);
        unsigned c = cnt > 63 ? 63 : cnt;
        r = (uint64_t)(s >> c) & m;
        cf = (uint64_t)(s >> (cnt - 1 > 63 ? 63 : cnt - 1)) & 1;
        f = szp_flags(r, bits) | (cf ? FL_CF : 0);
        break;
    }
    case DIS_rol: {
        unsigned c = cnt % bits;
        r = c ? ((a << c) | (a >> (bits - c))) & m : a;
        cf = r & 1;
        of = ((r >> msb) & 1) ^ cf;
        f = (f & ~(uint32_t)(FL_CF | FL_OF)) | (cf ? FL_CF : 0) | (of ? FL_OF : 0);
        break;
    }
    case DIS_ror: {
        unsigned c = cnt % bits;
        r = c ? ((a >> c) | (a << (bits - c))) & m : a;
        cf = (r >> msb) & 1;
        of = cf ^ ((r >> (msb - 1)) & 1);
        f = (f & ~(uint32_t)(FL_CF | FL_OF)) | (cf ? FL_CF : 0) | (of ? FL_OF : 0);
        break;
    }
    case DIS_rcl:
    case DIS_rcr: {
        unsigned c = cnt % (bits + 1);
        unsigned carry = (f & FL_CF) ? 1 : 0;
        r = a;
        for (unsigned i = 0; i < c; i++) {
            unsigned out;
            if (mn == DIS_rcl) {
                out = (r >> msb) & 1;
                r = ((r << 1) | carry) & m;
            } else {
                out = r & 1;
                r = (r >> 1) | ((uint64_t)carry << msb);
            }
            carry = out;
        }
        of = mn == DIS_rcl ? (((r >> msb) & 1) ^ carry) : (((r >> msb) ^ (r >> (msb - 1))) & 1);
        f = (f & ~(uint32_t)(FL_CF | FL_OF)) | (carry ? FL_CF : 0) | (of ? FL_OF : 0);
        break;
    }
    case DIS_shld: {
        /* a:extra shifted left; for 16-bit counts > 16 the SDM says undefined. */
        unsigned __int128 w = ((unsigned __int128)a << bits) | extra;
        r = (uint64_t)((w << cnt) >> bits) & m;
        cf = (uint64_t)(w >> (2 * bits - cnt)) & 1;
        of = ((r >> msb) ^ (a >> msb)) & 1;
        f = szp_flags(r, bits) | (cf ? FL_CF : 0) | (of ? FL_OF : 0);
        break;
    }
    default: { /* shrd: extra:a shifted right */
        unsigned __int128 w = ((unsigned __int128)extra << bits) | a;
        r = (uint64_t)(w >> cnt) & m;
        cf = (uint64_t)(w >> (cnt - 1)) & 1;
        of = ((r >> msb) ^ (a >> msb)) & 1;
        f = szp_flags(r, bits) | (cf ? FL_CF : 0) | (of ? FL_OF : 0);
        break;
    }
    }
    rem_set_arith(v, FL_ARITH, f);
    return r;
}

static void shift(struct rem_vcpu *v, const struct dis_insn *in)
{
    unsigned size = in->opsize, bits = size * 8, mn = in->mnem;
    bool dbl = mn == DIS_shld || mn == DIS_shrd;
    const struct dis_op *cop = &in->op[dbl ? 2 : 1];
    unsigned cnt = in->nops > (dbl ? 2u : 1u) ? (unsigned)op_get(v, cop, 1) : 1;
    cnt &= bits == 64 ? 63 : 31;
    if (!cnt) {
        /* No change, no flags - but a memory operand is still checked, as
         * a write: a #PF has W=1 on hardware (tests/rem_diff). */
        if (in->op[0].kind == DIS_OP_MEM) {
            struct rem_mref mr;
            mref_rmw(v, in, &in->op[0], size, &mr);
        } else if (size == 4) /* a 32-bit register is still written (zero-extended) */
            op_set(v, &in->op[0], 4, op_get(v, &in->op[0], 4));
        return;
    }
    uint64_t extra = dbl ? op_get(v, &in->op[1], size) : 0;
    if (in->op[0].kind == DIS_OP_MEM) {
        struct rem_mref mr;
        mref_rmw(v, in, &in->op[0], size, &mr);
        uint64_t a, r;
        do {
            a = mref_load(v, &mr);
            r = shift_calc(v, mn, bits, a, cnt, extra);
        } while (!mref_store(v, &mr, a, r));
    } else {
        uint64_t a = op_get(v, &in->op[0], size);
        op_set(v, &in->op[0], size, shift_calc(v, mn, bits, a, cnt, extra));
    }
}

/* ---- multiply and divide --------------------------------------------------------- */

static int64_t sext(uint64_t x, unsigned bits)
{
    return bits == 64 ? (int64_t)x : (int64_t)(x << (64 - bits)) >> (64 - bits);
}

static void mul1(struct rem_vcpu *v, const struct dis_insn *in)
{
    unsigned size = in->opsize, bits = size * 8;
    uint64_t *g = v->ctx->gpr, m = rem_mask(bits);
    uint64_t b = op_get(v, &in->op[0], size), lo, hi;
    bool ovf;
    if (in->mnem == DIS_mul) {
        unsigned __int128 p = (unsigned __int128)(g[CPUM_RAX] & m) * b;
        lo = (uint64_t)p & m;
        hi = (uint64_t)(p >> bits) & m;
        ovf = hi != 0;
    } else {
        __int128 p = (__int128)sext(g[CPUM_RAX] & m, bits) * sext(b, bits);
        lo = (uint64_t)p & m;
        hi = (uint64_t)(p >> bits) & m;
        ovf = p != (__int128)sext(lo, bits);
    }
    if (size == 1) {
        gpr_set(v, DIS_RC_GPR, CPUM_RAX, 2, lo | (hi << 8));
    } else {
        gpr_set(v, DIS_RC_GPR, CPUM_RAX, size, lo);
        gpr_set(v, DIS_RC_GPR, CPUM_RDX, size, hi);
    }
    rem_set_arith(v, FL_ARITH, szp_flags(lo, bits) | (ovf ? FL_CF | FL_OF : 0));
}

static void imul_n(struct rem_vcpu *v, const struct dis_insn *in)
{
    unsigned size = in->opsize, bits = size * 8;
    uint64_t a = op_get(v, &in->op[in->nops == 3 ? 1 : 0], size);
    uint64_t b = op_get(v, &in->op[in->nops == 3 ? 2 : 1], size);
    __int128 p = (__int128)sext(a, bits) * sext(b, bits);
    uint64_t lo = (uint64_t)p & rem_mask(bits);
    bool ovf = p != (__int128)sext(lo, bits);
    op_set(v, &in->op[0], size, lo);
    rem_set_arith(v, FL_ARITH, szp_flags(lo, bits) | (ovf ? FL_CF | FL_OF : 0));
}

static void div1(struct rem_vcpu *v, const struct dis_insn *in)
{
    unsigned size = in->opsize, bits = size * 8;
    uint64_t *g = v->ctx->gpr, m = rem_mask(bits);
    uint64_t b = op_get(v, &in->op[0], size);
    if (!b)
        rem_raise(v, X86_DE, REM_NO_ERR);
    uint64_t lo = size == 1 ? g[CPUM_RAX] & 0xff : g[CPUM_RAX] & m;
    uint64_t hi = size == 1 ? (g[CPUM_RAX] >> 8) & 0xff : g[CPUM_RDX] & m;
    uint64_t q, r;
    if (in->mnem == DIS_div) {
        unsigned __int128 n = ((unsigned __int128)hi << bits) | lo;
        unsigned __int128 qq = n / b;
        if (qq > m)
            rem_raise(v, X86_DE, REM_NO_ERR);
        q = (uint64_t)qq;
        r = (uint64_t)(n % b);
    } else {
        __int128 n = (__int128)(((unsigned __int128)hi << bits) | lo);
        if (bits < 64)
            n = (__int128)sext((uint64_t)n, 2 * bits);
        else
            n = (__int128)(((unsigned __int128)hi << 64) | lo);
        __int128 d = sext(b, bits);
        if (d == -1 && n == -((__int128)1 << (2 * bits - 1)))
            rem_raise(v, X86_DE, REM_NO_ERR);
        __int128 qq = n / d;
        __int128 lim = (__int128)1 << (bits - 1);
        if (qq >= lim || qq < -lim)
            rem_raise(v, X86_DE, REM_NO_ERR);
        q = (uint64_t)qq & m;
        r = (uint64_t)(n % d) & m;
    }
    if (size == 1) {
        gpr_set(v, DIS_RC_GPR, CPUM_RAX, 2, (q & 0xff) | ((r & 0xff) << 8));
    } else {
        gpr_set(v, DIS_RC_GPR, CPUM_RAX, size, q);
        gpr_set(v, DIS_RC_GPR, CPUM_RDX, size, r);
    }
}

/* ---- bits -------------------------------------------------------------------------- */

static void bit_op(struct rem_vcpu *v, const struct dis_insn *in)
{
    unsigned size = in->opsize, bits = size * 8, mn = in->mnem;
    const struct dis_op *dst = &in->op[0];
    uint64_t off = op_get(v, &in->op[1], size);
    unsigned bit;
    struct dis_op mop = *dst;
    if (dst->kind == DIS_OP_MEM && in->op[1].kind == DIS_OP_REG) {
        int64_t so = sext(off, bits);
        /* floor division by a power of two: no overflow for INT64_MIN (UBSan
         * under tests/rem_diff) */
        int64_t words = so >> __builtin_ctz(bits);
        mop.mem.disp += (int64_t)((uint64_t)words * size);
        bit = (unsigned)((uint64_t)so & (bits - 1));
    } else {
        bit = (unsigned)(off & (bits - 1));
    }
    uint64_t mask = 1ull << bit, a, r;
    if (mn == DIS_bt) {
        a = op_get(v, &mop, size);
    } else if (mop.kind == DIS_OP_MEM) {
        struct rem_mref mr;
        mref_rmw(v, in, &mop, size, &mr);
        do {
            a = mref_load(v, &mr);
            r = mn == DIS_bts ? a | mask : mn == DIS_btr ? a & ~mask : a ^ mask;
        } while (!mref_store(v, &mr, a, r));
    } else {
        a = op_get(v, &mop, size);
        r = mn == DIS_bts ? a | mask : mn == DIS_btr ? a & ~mask : a ^ mask;
        op_set(v, &mop, size, r);
    }
    rem_set_arith(v, FL_CF, (a & mask) ? FL_CF : 0);
}

static void bit_scan(struct rem_vcpu *v, const struct dis_insn *in)
{
    unsigned size = in->opsize;
    uint64_t s = op_get(v, &in->op[1], size);
    if (!s) {
        rem_set_arith(v, FL_ZF, FL_ZF);
        return;
    }
    bool fwd = in->mnem == DIS_bsf || in->mnem == DIS_tzcnt;
    uint64_t r = fwd ? (uint64_t)__builtin_ctzll(s) : (uint64_t)(63 - __builtin_clzll(s));
    op_set(v, &in->op[0], size, r);
    rem_set_arith(v, FL_ZF, 0);
}

/* ---- BCD ---------------------------------------------------------------------------- */

static void bcd(struct rem_vcpu *v, const struct dis_insn *in)
{
    uint64_t *g = v->ctx->gpr;
    uint32_t f = rem_arith_flags(v);
    unsigned al = g[CPUM_RAX] & 0xff, ah = (g[CPUM_RAX] >> 8) & 0xff;
    bool cf = f & FL_CF, af = f & FL_AF;
    switch (in->mnem) {
    case DIS_daa:
    case DIS_das: {
        unsigned old = al;
        bool ocf = cf;
        cf = false;
        if ((al & 0xf) > 9 || af) {
            al = in->mnem == DIS_daa ? al + 6 : al - 6;
            cf = ocf || (in->mnem == DIS_daa ? al > 0xff : old < 6);
            af = true;
        } else {
            af = false;
        }
        if (old > 0x99 || ocf) {
            al = in->mnem == DIS_daa ? al + 0x60 : al - 0x60;
            cf = true;
        }
        al &= 0xff;
        gpr_set(v, DIS_RC_GPR, CPUM_RAX, 1, al);
        f = szp_flags(al, 8) | (cf ? FL_CF : 0) | (af ? FL_AF : 0);
        break;
    }
    case DIS_aaa:
    case DIS_aas:
        if ((al & 0xf) > 9 || af) {
            if (in->mnem == DIS_aaa) {
                g[CPUM_RAX] = (g[CPUM_RAX] & ~0xffffull) | (((ah + 1 + ((al + 6) >> 8)) & 0xff) << 8) |
                              ((al + 6) & 0xf);
            } else {
                g[CPUM_RAX] = (g[CPUM_RAX] & ~0xffffull) | (((ah - 1 - (al < 6)) & 0xff) << 8) |
                              ((al - 6) & 0xf);
            }
            f = FL_AF | FL_CF;
        } else {
            gpr_set(v, DIS_RC_GPR, CPUM_RAX, 1, al & 0xf);
            f = 0;
        }
        break;
    case DIS_aam: {
        unsigned base = (unsigned)in->op[0].imm & 0xff;
        if (in->nops == 0)
            base = 10;
        if (!base)
            rem_raise(v, X86_DE, REM_NO_ERR);
        ah = al / base;
        al %= base;
        gpr_set(v, DIS_RC_GPR, CPUM_RAX, 2, (ah << 8) | al);
        f = szp_flags(al, 8);
        break;
    }
    case DIS_aad: {
        unsigned base = in->nops ? (unsigned)in->op[0].imm & 0xff : 10;
        al = (al + ah * base) & 0xff;
        gpr_set(v, DIS_RC_GPR, CPUM_RAX, 2, al);
        f = szp_flags(al, 8);
        break;
    }
    default: /* salc */
        gpr_set(v, DIS_RC_GPR, CPUM_RAX, 1, cf ? 0xff : 0);
        return;
    }
    rem_set_arith(v, FL_ARITH, f);
}

/* ---- exchange and compare-exchange ------------------------------------------------------ */

static void xadd_cmpxchg(struct rem_vcpu *v, const struct dis_insn *in)
{
    unsigned size = in->opsize, bits = size * 8;
    uint64_t m = rem_mask(bits), src = op_get(v, &in->op[1], size);
    uint64_t acc = v->ctx->gpr[CPUM_RAX] & m, a, r;
    bool mem = in->op[0].kind == DIS_OP_MEM;
    struct rem_mref mr = { 0 };
    if (mem)
        mref_rmw(v, in, &in->op[0], size, &mr);
    for (;;) {
        a = mem ? mref_load(v, &mr) : op_get(v, &in->op[0], size);
        if (in->mnem == DIS_xadd)
            r = (a + src) & m;
        else
            r = a == acc ? src : a; /* the CPU writes the old value back on failure */
        if (!mem) {
            /* xadd reg,reg: the destination gets the sum last. */
            if (in->mnem == DIS_xadd)
                op_set(v, &in->op[1], size, a);
            /* A failed cmpxchg leaves a register destination alone: hardware
             * does not zero-extend a 32-bit one (found by tests/rem_diff). */
            if (in->mnem == DIS_xadd || a == acc)
                op_set(v, &in->op[0], size, r);
            break;
        }
        if (mref_store(v, &mr, a, r))
            break;
    }
    if (in->mnem == DIS_xadd) {
        if (mem)
            op_set(v, &in->op[1], size, a);
        rem_cc_set(v, REM_CC_ADD, bits, r, a, src);
    } else {
        if (a != acc)
            gpr_set(v, DIS_RC_GPR, CPUM_RAX, size, a);
        rem_cc_set(v, REM_CC_SUB, bits, (acc - a) & m, acc, a);
    }
}

static void cmpxchg_wide(struct rem_vcpu *v, const struct dis_insn *in)
{
    uint64_t *g = v->ctx->gpr;
    const struct dis_op *op = &in->op[0];
    bool w16 = in->mnem == DIS_cmpxchg16b;
    unsigned half = w16 ? 8 : 4;
    uint64_t hm = rem_mask(half * 8);
    /* Which fault first, as on the CPU (tests/rem_diff's native reference):
     * CMPXCHG16B's misalignment #GP before anything about the address (a
     * non-canonical one's #SS or #GP, a #PF). CMPXCHG16B exists in 64-bit
     * mode only, where only FS/GS add a base. */
    uint64_t off = ea_off(v, op);
    if (w16) {
        unsigned sr = op_seg(op);
        if ((off + (sr >= CPUM_FS ? v->ctx->seg[sr].base : 0)) & 15)
            rem_gp0(v);
    }
    uint64_t la = rem_seg_la(v, op_seg(op), off, 2 * half, 2);
    if (w16 && (la & 15))
        rem_gp0(v);
    void *p = rem_lin_ptr(v, la, 2 * half, REM_TLB_WRITE, rem_user(v));
    uint64_t cur[2] = { 0, 0 };
    uint64_t want_lo = g[CPUM_RAX] & hm, want_hi = g[CPUM_RDX] & hm;
    uint64_t new_lo = g[CPUM_RBX] & hm, new_hi = g[CPUM_RCX] & hm;
    bool eq;
    if (p && !w16 && !((uintptr_t)p & 7)) {
        uint64_t exp = want_lo | (want_hi << 32);
        eq = __atomic_compare_exchange_n((uint64_t *)p, &exp, new_lo | (new_hi << 32), false,
                                         __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
        cur[0] = exp & hm;
        cur[1] = exp >> 32;
    } else {
        /* 16-byte compare-exchange: one vCPU today, so not atomic (see rem.h).
         * Both pages are probed as writes first: a #PF has W=1, as on hardware. */
        uint8_t buf[16];
        (void)rem_lin_ptr(v, la, 1, REM_TLB_WRITE, rem_user(v));
        (void)rem_lin_ptr(v, (la + 2 * half - 1) & ~(uint64_t)PGM_PAGE_MASK, 1, REM_TLB_WRITE,
                          rem_user(v));
        rem_lin_read(v, la, buf, 2 * half, rem_user(v));
        memcpy(&cur[0], buf, half);
        memcpy(&cur[1], buf + half, half);
        eq = cur[0] == want_lo && cur[1] == want_hi;
        if (eq) {
            memcpy(buf, &new_lo, half);
            memcpy(buf + half, &new_hi, half);
        }
        rem_lin_write(v, la, buf, 2 * half, rem_user(v));
    }
    if (!eq) {
        gpr_set(v, DIS_RC_GPR, CPUM_RAX, half, cur[0]);
        gpr_set(v, DIS_RC_GPR, CPUM_RDX, half, cur[1]);
    }
    rem_set_arith(v, FL_ZF, eq ? FL_ZF : 0);
}

static void xchg(struct rem_vcpu *v, const struct dis_insn *in)
{
    unsigned size = in->opsize;
    const struct dis_op *a = &in->op[0], *b = &in->op[1];
    if (b->kind == DIS_OP_MEM) {
        const struct dis_op *t = a;
        a = b;
        b = t;
    }
    uint64_t bv = op_get(v, b, size), av;
    if (a->kind == DIS_OP_MEM) {
        struct rem_mref mr;
        mref_rmw(v, in, a, size, &mr);
        mr.lock = true; /* XCHG with memory is always locked */
        do
            av = mref_load(v, &mr);
        while (!mref_store(v, &mr, av, bv));
    } else {
        av = op_get(v, a, size);
        op_set(v, a, size, bv);
    }
    op_set(v, b, size, av);
}

bool rem_exec_alu(struct rem_vcpu *v, const struct dis_insn *in);

bool rem_exec_alu(struct rem_vcpu *v, const struct dis_insn *in)
{
    switch (in->mnem) {
    case DIS_add: case DIS_or: case DIS_adc: case DIS_sbb: case DIS_and: case DIS_sub:
    case DIS_xor: case DIS_cmp: case DIS_test:
        alu2(v, in);
        return true;
    case DIS_inc: case DIS_dec: case DIS_not: case DIS_neg:
        alu1(v, in);
        return true;
    case DIS_rol: case DIS_ror: case DIS_rcl: case DIS_rcr: case DIS_shl: case DIS_sal:
    case DIS_shr: case DIS_sar: case DIS_shld: case DIS_shrd:
        shift(v, in);
        return true;
    case DIS_mul:
        mul1(v, in);
        return true;
    case DIS_imul:
        if (in->nops == 1)
            mul1(v, in);
        else
            imul_n(v, in);
        return true;
    case DIS_div: case DIS_idiv:
        div1(v, in);
        return true;
    case DIS_bt: case DIS_bts: case DIS_btr: case DIS_btc:
        bit_op(v, in);
        return true;
    case DIS_bsf: case DIS_bsr: case DIS_tzcnt: case DIS_lzcnt:
        /* No BMI1/LZCNT in the CPUID policy: F3-prefixed forms act as BSF/BSR. */
        bit_scan(v, in);
        return true;
    case DIS_daa: case DIS_das: case DIS_aaa: case DIS_aas: case DIS_aam: case DIS_aad:
    case DIS_salc:
        if (v->mode == REM_MODE_LONG)
            rem_ud(v);
        bcd(v, in);
        return true;
    case DIS_xadd: case DIS_cmpxchg:
        xadd_cmpxchg(v, in);
        return true;
    case DIS_cmpxchg8b: case DIS_cmpxchg16b:
        cmpxchg_wide(v, in);
        return true;
    case DIS_xchg:
        xchg(v, in);
        return true;
    default:
        return false;
    }
}
