/*
 * rem_exec_sse.c - SSE and SSE2 floating point: moves, logic, shuffles,
 * arithmetic, compares, conversions, LDMXCSR/STMXCSR; the exception checks
 * every SSE instruction shares (rem_sse_check) and the operand access of
 * the SSE/MMX files. The integer instructions are in rem_exec_sse_int.c.
 *
 * Floating point runs on the HOST's SSE unit (x86-64 guarantees SSE2):
 * the guest's MXCSR (rounding, FTZ, DAZ) is installed with its flags clear
 * and every exception masked, the same instruction is executed through its
 * intrinsic, and the flags it raised are OR-ed into the guest's MXCSR. The
 * operands pass through empty asm statements ("+x") right after the
 * LDMXCSR and before the STMXCSR, which pins the operation between them
 * (GCC does not otherwise order FP arithmetic against MXCSR accesses).
 * Unmasked exceptions: the flags are set (only the pre-computation ones,
 * IE/DE/ZE, if one of those is unmasked), the destination is not written
 * and #XM is raised, or #UD when CR4.OSXMMEXCPT is clear, as the SDM says.
 *
 * SSE3 and later are not in the CPUID policy (cpum_cpuid.c), so their
 * mnemonics raise #UD (after the #UD/#NM checks) as a CPU without them
 * would; glibc therefore stays on its SSE2 paths.
 */
#include <emmintrin.h>

#include "rem_fpu.h"

/* ---- checks and operands ------------------------------------------------------------------ */

void rem_sse_check(struct rem_vcpu *v)
{
    const struct cpum_ctx *c = v->ctx;
    if ((c->cr0 & CR0_EM) || !(c->cr4 & CR4_OSFXSR))
        rem_ud(v);
    if (c->cr0 & CR0_TS)
        rem_raise(v, X86_NM, REM_NO_ERR);
}

void rem_mmx_enter(struct rem_vcpu *v)
{
    struct cpum_fxsave *fx = &v->ctx->fpu;
    if (v->ctx->cr0 & CR0_EM)
        rem_ud(v);
    if (v->ctx->cr0 & CR0_TS)
        rem_raise(v, X86_NM, REM_NO_ERR);
    rem_fpu_pending(v);
    unsigned top = fpu_top(fx);
    if (top) {
        rem_fpu_rotate(fx, -(int)top); /* st[i] becomes physical register i */
        fpu_set_top(fx, 0);
    }
    fx->ftw = 0xff;
}

void rem_sse_read(struct rem_vcpu *v, const struct dis_op *op, union rem_xv *x, unsigned len,
                  bool align)
{
    const struct cpum_fxsave *fx = &v->ctx->fpu;
    memset(x, 0, sizeof(*x));
    switch (op->kind) {
    case DIS_OP_REG:
        if (op->reg_class == DIS_RC_XMM)
            memcpy(x, fx->xmm[op->reg], 16);
        else if (op->reg_class == DIS_RC_MM)
            memcpy(x, fx->st[op->reg], 8);
        else
            x->q[0] = gpr_get(v, op->reg_class, op->reg, op->size);
        return;
    case DIS_OP_MEM: {
        if (!len)
            len = op->size ? op->size : 16;
        uint64_t la = rem_seg_la(v, op_seg(op), ea_off(v, op), len, 0);
        if (align && len == 16 && (la & 15))
            rem_gp0(v);
        rem_lin_read(v, la, x, len, rem_user(v));
        return;
    }
    default:
        x->q[0] = op->imm;
        return;
    }
}

void rem_sse_write(struct rem_vcpu *v, const struct dis_op *op, const union rem_xv *x,
                   unsigned len, bool align)
{
    struct cpum_fxsave *fx = &v->ctx->fpu;
    if (op->kind == DIS_OP_REG) {
        if (op->reg_class == DIS_RC_XMM) {
            memcpy(fx->xmm[op->reg], x, 16);
        } else if (op->reg_class == DIS_RC_MM) {
            memcpy(fx->st[op->reg], x, 8);
            fx->st[op->reg][8] = 0xff;
            fx->st[op->reg][9] = 0xff;
        } else {
            gpr_set(v, op->reg_class, op->reg, op->size, x->q[0]);
        }
        return;
    }
    if (!len)
        len = op->size ? op->size : 16;
    uint64_t la = rem_seg_la(v, op_seg(op), ea_off(v, op), len, 1);
    if (align && len == 16 && (la & 15))
        rem_gp0(v);
    rem_lin_write(v, la, x, len, rem_user(v));
}

/* ---- the host's SSE unit under the guest's MXCSR ---------------------------------------------- */

#define PIN(x) __asm__ volatile("" : "+x"(x))

static uint32_t mx_enter(const struct cpum_fxsave *fx)
{
    uint32_t host = _mm_getcsr();
    _mm_setcsr((fx->mxcsr & ~MXCSR_FLAGS) | MXCSR_MASKS);
    return host;
}

static uint32_t mx_leave(uint32_t host)
{
    uint32_t f = _mm_getcsr() & MXCSR_FLAGS;
    _mm_setcsr(host);
    return f;
}

/* Merges the raised flags; false (after raising) if one is unmasked. */
static void mx_commit(struct rem_vcpu *v, uint32_t flags)
{
    struct cpum_fxsave *fx = &v->ctx->fpu;
    uint32_t um = flags & ~(fx->mxcsr >> 7) & MXCSR_FLAGS;
    if (um & 0x7u) /* IE, DE, ZE: pre-computation, the post ones are not reported */
        flags &= 0x7u;
    fx->mxcsr |= flags;
    if (um)
        rem_raise(v, (v->ctx->cr4 & CR4_OSXMMEXCPT) ? X86_XM : X86_UD, REM_NO_ERR);
}

static __m128 cmp_ps(unsigned p, __m128 a, __m128 b)
{
    switch (p & 7) {
    case 0: return _mm_cmpeq_ps(a, b);
    case 1: return _mm_cmplt_ps(a, b);
    case 2: return _mm_cmple_ps(a, b);
    case 3: return _mm_cmpunord_ps(a, b);
    case 4: return _mm_cmpneq_ps(a, b);
    case 5: return _mm_cmpnlt_ps(a, b);
    case 6: return _mm_cmpnle_ps(a, b);
    default: return _mm_cmpord_ps(a, b);
    }
}

static __m128 cmp_ss(unsigned p, __m128 a, __m128 b)
{
    switch (p & 7) {
    case 0: return _mm_cmpeq_ss(a, b);
    case 1: return _mm_cmplt_ss(a, b);
    case 2: return _mm_cmple_ss(a, b);
    case 3: return _mm_cmpunord_ss(a, b);
    case 4: return _mm_cmpneq_ss(a, b);
    case 5: return _mm_cmpnlt_ss(a, b);
    case 6: return _mm_cmpnle_ss(a, b);
    default: return _mm_cmpord_ss(a, b);
    }
}

static __m128d cmp_pd(unsigned p, __m128d a, __m128d b)
{
    switch (p & 7) {
    case 0: return _mm_cmpeq_pd(a, b);
    case 1: return _mm_cmplt_pd(a, b);
    case 2: return _mm_cmple_pd(a, b);
    case 3: return _mm_cmpunord_pd(a, b);
    case 4: return _mm_cmpneq_pd(a, b);
    case 5: return _mm_cmpnlt_pd(a, b);
    case 6: return _mm_cmpnle_pd(a, b);
    default: return _mm_cmpord_pd(a, b);
    }
}

static __m128d cmp_sd(unsigned p, __m128d a, __m128d b)
{
    switch (p & 7) {
    case 0: return _mm_cmpeq_sd(a, b);
    case 1: return _mm_cmplt_sd(a, b);
    case 2: return _mm_cmple_sd(a, b);
    case 3: return _mm_cmpunord_sd(a, b);
    case 4: return _mm_cmpneq_sd(a, b);
    case 5: return _mm_cmpnlt_sd(a, b);
    case 6: return _mm_cmpnle_sd(a, b);
    default: return _mm_cmpord_sd(a, b);
    }
}

/* One FP operation producing a vector: r = op(a = destination, b = source). */
static __m128i fp_vec(unsigned mn, __m128i ai, __m128i bi, unsigned imm)
{
    __m128 a = _mm_castsi128_ps(ai), b = _mm_castsi128_ps(bi);
    __m128d c = _mm_castsi128_pd(ai), d = _mm_castsi128_pd(bi);
    __m128 z = _mm_setzero_ps();
#define PS(e) return _mm_castps_si128(e)
#define PD(e) return _mm_castpd_si128(e)
/* Commutative in GCC's eyes, so the intrinsics may swap the operands; the
 * hardware returns the FIRST operand's NaN, so these go through asm. */
#define ASM2(insn) __asm__(insn " %1, %0" : "+x"(ai) : "x"(bi)); return ai
    switch (mn) {
    case DIS_addps: ASM2("addps");
    case DIS_addss: ASM2("addss");
    case DIS_addpd: ASM2("addpd");
    case DIS_addsd: ASM2("addsd");
    case DIS_mulps: ASM2("mulps");
    case DIS_mulss: ASM2("mulss");
    case DIS_mulpd: ASM2("mulpd");
    case DIS_mulsd: ASM2("mulsd");
    case DIS_subps: PS(_mm_sub_ps(a, b));
    case DIS_subss: PS(_mm_sub_ss(a, b));
    case DIS_subpd: PD(_mm_sub_pd(c, d));
    case DIS_subsd: PD(_mm_sub_sd(c, d));
    case DIS_divps: PS(_mm_div_ps(a, b));
    case DIS_divss: PS(_mm_div_ss(a, b));
    case DIS_divpd: PD(_mm_div_pd(c, d));
    case DIS_divsd: PD(_mm_div_sd(c, d));
    case DIS_minps: PS(_mm_min_ps(a, b));
    case DIS_minss: PS(_mm_min_ss(a, b));
    case DIS_minpd: PD(_mm_min_pd(c, d));
    case DIS_minsd: PD(_mm_min_sd(c, d));
    case DIS_maxps: PS(_mm_max_ps(a, b));
    case DIS_maxss: PS(_mm_max_ss(a, b));
    case DIS_maxpd: PD(_mm_max_pd(c, d));
    case DIS_maxsd: PD(_mm_max_sd(c, d));
    case DIS_sqrtps: PS(_mm_sqrt_ps(b));
    case DIS_sqrtss: PS(_mm_move_ss(a, _mm_sqrt_ss(b)));
    case DIS_sqrtpd: PD(_mm_sqrt_pd(d));
    case DIS_sqrtsd: PD(_mm_sqrt_sd(c, d));
    case DIS_rcpps: PS(_mm_rcp_ps(b));
    case DIS_rcpss: PS(_mm_move_ss(a, _mm_rcp_ss(b)));
    case DIS_rsqrtps: PS(_mm_rsqrt_ps(b));
    case DIS_rsqrtss: PS(_mm_move_ss(a, _mm_rsqrt_ss(b)));
    case DIS_cmpps: PS(cmp_ps(imm, a, b));
    case DIS_cmpss: PS(cmp_ss(imm, a, b));
    case DIS_cmppd: PD(cmp_pd(imm, c, d));
    case DIS_cmpsd: PD(cmp_sd(imm, c, d));
    case DIS_cvtps2pd: PD(_mm_cvtps_pd(b));
    case DIS_cvtpd2ps: PS(_mm_cvtpd_ps(d));
    case DIS_cvtss2sd: PD(_mm_cvtss_sd(c, b));
    case DIS_cvtsd2ss: PS(_mm_cvtsd_ss(a, d));
    case DIS_cvtdq2ps: PS(_mm_cvtepi32_ps(bi));
    case DIS_cvtps2dq: return _mm_cvtps_epi32(b);
    case DIS_cvttps2dq: return _mm_cvttps_epi32(b);
    case DIS_cvtdq2pd: PD(_mm_cvtepi32_pd(bi));
    case DIS_cvtpd2dq: return _mm_cvtpd_epi32(d);
    case DIS_cvttpd2dq: return _mm_cvttpd_epi32(d);
    case DIS_cvtpi2ps: PS(_mm_shuffle_ps(_mm_cvtepi32_ps(bi), a, _MM_SHUFFLE(3, 2, 1, 0)));
    case DIS_cvtpi2pd: PD(_mm_cvtepi32_pd(bi));
    case DIS_cvtps2pi: return _mm_cvtps_epi32(_mm_movelh_ps(b, z));
    case DIS_cvttps2pi: return _mm_cvttps_epi32(_mm_movelh_ps(b, z));
    case DIS_cvtpd2pi: return _mm_cvtpd_epi32(d);
    default: /* cvttpd2pi */ return _mm_cvttpd_epi32(d);
    }
#undef PS
#undef PD
#undef ASM2
}

/* Scalar conversions to and from a GPR (4 or 8 bytes). Inline asm, not
 * intrinsics: GCC treats the intrinsics as pure and may evaluate both arms
 * of a size choice, raising the other form's flags. */
#define CVT2I(insn, out, in) __asm__ volatile(insn " %1, %0" : "=r"(out) : "x"(in))
static uint64_t fp_to_int(unsigned mn, unsigned size, __m128i b)
{
    uint64_t q;
    uint32_t d;
    switch (mn * 2 + (size == 8)) {
    case DIS_cvtss2si * 2: CVT2I("cvtss2si", d, b); return d;
    case DIS_cvtss2si * 2 + 1: CVT2I("cvtss2si", q, b); return q;
    case DIS_cvttss2si * 2: CVT2I("cvttss2si", d, b); return d;
    case DIS_cvttss2si * 2 + 1: CVT2I("cvttss2si", q, b); return q;
    case DIS_cvtsd2si * 2: CVT2I("cvtsd2si", d, b); return d;
    case DIS_cvtsd2si * 2 + 1: CVT2I("cvtsd2si", q, b); return q;
    case DIS_cvttsd2si * 2: CVT2I("cvttsd2si", d, b); return d;
    default: CVT2I("cvttsd2si", q, b); return q;
    }
}

static __m128i int_to_fp(unsigned mn, unsigned size, __m128i a, uint64_t x)
{
    uint32_t d = (uint32_t)x;
    switch (mn * 2 + (size == 8)) {
    case DIS_cvtsi2ss * 2: __asm__ volatile("cvtsi2ssl %1, %0" : "+x"(a) : "r"(d)); break;
    case DIS_cvtsi2ss * 2 + 1: __asm__ volatile("cvtsi2ssq %1, %0" : "+x"(a) : "r"(x)); break;
    case DIS_cvtsi2sd * 2: __asm__ volatile("cvtsi2sdl %1, %0" : "+x"(a) : "r"(d)); break;
    default: __asm__ volatile("cvtsi2sdq %1, %0" : "+x"(a) : "r"(x)); break;
    }
    return a;
}

/* COMISS/UCOMISS/COMISD/UCOMISD: ZF, PF, CF (OF, SF, AF cleared). */
static uint32_t fp_comi(unsigned mn, __m128i ai, __m128i bi)
{
    __m128 a = _mm_castsi128_ps(ai), b = _mm_castsi128_ps(bi);
    __m128d c = _mm_castsi128_pd(ai), d = _mm_castsi128_pd(bi);
    bool z, p, cf;
    switch (mn) {
    case DIS_comiss:
        __asm__ volatile("comiss %3, %4" : "=@ccz"(z), "=@ccp"(p), "=@ccc"(cf) : "x"(b), "x"(a));
        break;
    case DIS_ucomiss:
        __asm__ volatile("ucomiss %3, %4" : "=@ccz"(z), "=@ccp"(p), "=@ccc"(cf) : "x"(b), "x"(a));
        break;
    case DIS_comisd:
        __asm__ volatile("comisd %3, %4" : "=@ccz"(z), "=@ccp"(p), "=@ccc"(cf) : "x"(d), "x"(c));
        break;
    default:
        __asm__ volatile("ucomisd %3, %4" : "=@ccz"(z), "=@ccp"(p), "=@ccc"(cf) : "x"(d), "x"(c));
        break;
    }
    return (z ? FL_ZF : 0) | (p ? FL_PF : 0) | (cf ? FL_CF : 0);
}

/* ---- the instruction groups ------------------------------------------------------------------- */

static bool is_scalar_or_half(unsigned mn)
{
    switch (mn) {
    case DIS_cvtps2pd: case DIS_cvtdq2pd: case DIS_cvtps2pi: case DIS_cvttps2pi:
    case DIS_cvtpi2ps: case DIS_cvtpi2pd:
        return true;
    default:
        return false;
    }
}

static void fp_arith(struct rem_vcpu *v, const struct dis_insn *in)
{
    struct cpum_fxsave *fx = &v->ctx->fpu;
    unsigned mn = in->mnem;
    union rem_xv a, b, r;
    rem_sse_read(v, &in->op[0], &a, 16, true);
    rem_sse_read(v, &in->op[1], &b, is_scalar_or_half(mn) && in->op[1].kind == DIS_OP_MEM ? 8 : 0,
                 true);
    unsigned imm = in->nops > 2 ? (unsigned)in->op[2].imm : 0;
    __m128i ai, bi, ri;
    memcpy(&ai, &a, 16);
    memcpy(&bi, &b, 16);
    uint32_t host = mx_enter(fx);
    PIN(ai);
    PIN(bi);
    ri = fp_vec(mn, ai, bi, imm);
    PIN(ri);
    mx_commit(v, mx_leave(host));
    memcpy(&r, &ri, 16);
    rem_sse_write(v, &in->op[0], &r, 16, true);
}

static void fp_convert_gpr(struct rem_vcpu *v, const struct dis_insn *in)
{
    struct cpum_fxsave *fx = &v->ctx->fpu;
    unsigned mn = in->mnem;
    union rem_xv a, b;
    __m128i ai, bi, ri;
    if (mn == DIS_cvtsi2ss || mn == DIS_cvtsi2sd) {
        unsigned size = in->op[1].size ? in->op[1].size : in->opsize;
        uint64_t x = op_get(v, &in->op[1], size);
        rem_sse_read(v, &in->op[0], &a, 16, true);
        memcpy(&ai, &a, 16);
        uint32_t host = mx_enter(fx);
        PIN(ai);
        __asm__ volatile("" : "+r"(x));
        ri = int_to_fp(mn, size, ai, x);
        PIN(ri);
        mx_commit(v, mx_leave(host));
        memcpy(&a, &ri, 16);
        rem_sse_write(v, &in->op[0], &a, 16, true);
        return;
    }
    unsigned size = in->opsize == 8 ? 8 : 4;
    rem_sse_read(v, &in->op[1], &b, 0, true);
    memcpy(&bi, &b, 16);
    uint32_t host = mx_enter(fx);
    PIN(bi);
    uint64_t x = fp_to_int(mn, size, bi);
    __asm__ volatile("" : "+r"(x));
    mx_commit(v, mx_leave(host));
    gpr_set(v, DIS_RC_GPR, in->op[0].reg, size, x);
}

static void fp_compare_flags(struct rem_vcpu *v, const struct dis_insn *in)
{
    struct cpum_fxsave *fx = &v->ctx->fpu;
    union rem_xv a, b;
    __m128i ai, bi;
    rem_sse_read(v, &in->op[0], &a, 16, true);
    rem_sse_read(v, &in->op[1], &b, 0, true);
    memcpy(&ai, &a, 16);
    memcpy(&bi, &b, 16);
    uint32_t host = mx_enter(fx);
    PIN(ai);
    PIN(bi);
    uint32_t fl = fp_comi(in->mnem, ai, bi);
    mx_commit(v, mx_leave(host));
    rem_set_arith(v, FL_ARITH, fl);
}

/* Bitwise, moves and shuffles: no MXCSR involvement. */
static void fp_bits(struct rem_vcpu *v, const struct dis_insn *in)
{
    unsigned mn = in->mnem;
    const struct dis_op *d = &in->op[0], *s = &in->op[1];
    union rem_xv a, b, r;
    bool unaligned = mn == DIS_movups || mn == DIS_movupd;
    rem_sse_read(v, s, &b, 0, !unaligned);
    if (d->kind == DIS_OP_MEM) { /* stores: movups/movaps/movnt/movss/movsd/movlps/movhps... */
        unsigned len = d->size ? d->size : 16;
        if (mn == DIS_movhps || mn == DIS_movhpd)
            b.q[0] = b.q[1];
        rem_sse_write(v, d, &b, len, !unaligned);
        return;
    }
    rem_sse_read(v, d, &a, 16, true);
    r = a;
    unsigned imm = in->nops > 2 ? (unsigned)in->op[2].imm : 0;
    switch (mn) {
    case DIS_movups: case DIS_movupd: case DIS_movaps: case DIS_movapd:
        r = b;
        break;
    case DIS_movss:
        if (s->kind == DIS_OP_MEM)
            memset(&r, 0, 16);
        r.d[0] = b.d[0];
        break;
    case DIS_movsd:
        if (s->kind == DIS_OP_MEM)
            memset(&r, 0, 16);
        r.q[0] = b.q[0];
        break;
    case DIS_movlps: case DIS_movlpd: r.q[0] = b.q[0]; break;
    case DIS_movhps: case DIS_movhpd: r.q[1] = b.q[0]; break;
    case DIS_movhlps: r.q[0] = b.q[1]; break;
    case DIS_movlhps: r.q[1] = b.q[0]; break;
    case DIS_andps: case DIS_andpd: for (int i = 0; i < 2; i++) r.q[i] = a.q[i] & b.q[i]; break;
    case DIS_andnps: case DIS_andnpd: for (int i = 0; i < 2; i++) r.q[i] = ~a.q[i] & b.q[i]; break;
    case DIS_orps: case DIS_orpd: for (int i = 0; i < 2; i++) r.q[i] = a.q[i] | b.q[i]; break;
    case DIS_xorps: case DIS_xorpd: for (int i = 0; i < 2; i++) r.q[i] = a.q[i] ^ b.q[i]; break;
    case DIS_unpcklps:
        r.d[0] = a.d[0]; r.d[1] = b.d[0]; r.d[2] = a.d[1]; r.d[3] = b.d[1];
        break;
    case DIS_unpckhps:
        r.d[0] = a.d[2]; r.d[1] = b.d[2]; r.d[2] = a.d[3]; r.d[3] = b.d[3];
        break;
    case DIS_unpcklpd: r.q[1] = b.q[0]; break;
    case DIS_unpckhpd: r.q[0] = a.q[1]; r.q[1] = b.q[1]; break;
    case DIS_shufps:
        r.d[0] = a.d[imm & 3]; r.d[1] = a.d[(imm >> 2) & 3];
        r.d[2] = b.d[(imm >> 4) & 3]; r.d[3] = b.d[(imm >> 6) & 3];
        break;
    default: /* shufpd */
        r.q[0] = a.q[imm & 1]; r.q[1] = b.q[(imm >> 1) & 1];
        break;
    }
    rem_sse_write(v, d, &r, 16, true);
}

static void movmsk(struct rem_vcpu *v, const struct dis_insn *in)
{
    union rem_xv b;
    rem_sse_read(v, &in->op[1], &b, 16, true);
    uint64_t m = 0;
    if (in->mnem == DIS_movmskps)
        for (int i = 0; i < 4; i++)
            m |= (uint64_t)(b.d[i] >> 31) << i;
    else
        for (int i = 0; i < 2; i++)
            m |= (b.q[i] >> 63) << i;
    gpr_set(v, DIS_RC_GPR, in->op[0].reg, in->op[0].size == 8 ? 8 : 4, m);
}

static void mxcsr_insn(struct rem_vcpu *v, const struct dis_insn *in)
{
    struct cpum_fxsave *fx = &v->ctx->fpu;
    const struct dis_op *op = &in->op[0];
    if (op->kind != DIS_OP_MEM)
        rem_ud(v);
    if (in->mnem == DIS_stmxcsr) {
        op_set(v, op, 4, fx->mxcsr);
        return;
    }
    uint32_t x = (uint32_t)op_get(v, op, 4);
    if (x & ~rem_mxcsr_mask(fx))
        rem_gp0(v);
    fx->mxcsr = x;
}

/* ---- dispatch ------------------------------------------------------------------------------------------ */

static bool has_mm(const struct dis_insn *in)
{
    for (unsigned i = 0; i < in->nops; i++)
        if (in->op[i].kind == DIS_OP_REG && in->op[i].reg_class == DIS_RC_MM)
            return true;
    return false;
}

bool rem_exec_sse(struct rem_vcpu *v, const struct dis_insn *in)
{
    unsigned mn = in->mnem;
    if (mn == DIS_movnti) {
        /* My: 4 or 8 bytes, a 66 prefix does not make it 16-bit (tests/rem_diff) */
        op_set(v, &in->op[0], in->op[0].size, op_get(v, &in->op[1], in->op[0].size));
        return true;
    }
    if (rem_exec_sse_int(v, in))
        return true;
    bool sse = (mn >= DIS_movups && mn <= DIS_paddd) || mn == DIS_ldmxcsr || mn == DIS_stmxcsr;
    bool later = mn >= DIS_pshufb && mn <= DIS_sha256msg2;
    if (!sse && !later)
        return false;
    rem_sse_check(v);
    if (later)
        rem_ud(v); /* SSSE3, SSE4, AES, SHA: not in the CPUID policy */
    if (has_mm(in))
        rem_mmx_enter(v);
    switch (mn) {
    case DIS_ldmxcsr: case DIS_stmxcsr:
        mxcsr_insn(v, in);
        return true;
    case DIS_movups: case DIS_movupd: case DIS_movaps: case DIS_movapd: case DIS_movss:
    case DIS_movsd: case DIS_movlps: case DIS_movlpd: case DIS_movhps: case DIS_movhpd:
    case DIS_movhlps: case DIS_movlhps: case DIS_andps: case DIS_andpd: case DIS_andnps:
    case DIS_andnpd: case DIS_orps: case DIS_orpd: case DIS_xorps: case DIS_xorpd:
    case DIS_unpcklps: case DIS_unpckhps: case DIS_unpcklpd: case DIS_unpckhpd:
    case DIS_shufps: case DIS_shufpd:
        fp_bits(v, in);
        return true;
    case DIS_movntps: case DIS_movntpd:
        if (in->op[0].kind != DIS_OP_MEM)
            rem_ud(v);
        fp_bits(v, in);
        return true;
    case DIS_movmskps: case DIS_movmskpd:
        movmsk(v, in);
        return true;
    case DIS_comiss: case DIS_ucomiss: case DIS_comisd: case DIS_ucomisd:
        fp_compare_flags(v, in);
        return true;
    case DIS_cvtsi2ss: case DIS_cvtsi2sd: case DIS_cvtss2si: case DIS_cvttss2si:
    case DIS_cvtsd2si: case DIS_cvttsd2si:
        fp_convert_gpr(v, in);
        return true;
    case DIS_addps: case DIS_addss: case DIS_addpd: case DIS_addsd: case DIS_subps:
    case DIS_subss: case DIS_subpd: case DIS_subsd: case DIS_mulps: case DIS_mulss:
    case DIS_mulpd: case DIS_mulsd: case DIS_divps: case DIS_divss: case DIS_divpd:
    case DIS_divsd: case DIS_minps: case DIS_minss: case DIS_minpd: case DIS_minsd:
    case DIS_maxps: case DIS_maxss: case DIS_maxpd: case DIS_maxsd: case DIS_sqrtps:
    case DIS_sqrtss: case DIS_sqrtpd: case DIS_sqrtsd: case DIS_rcpps: case DIS_rcpss:
    case DIS_rsqrtps: case DIS_rsqrtss: case DIS_cmpps: case DIS_cmpss: case DIS_cmppd:
    case DIS_cmpsd: case DIS_cvtps2pd: case DIS_cvtpd2ps: case DIS_cvtss2sd: case DIS_cvtsd2ss:
    case DIS_cvtdq2ps: case DIS_cvtps2dq: case DIS_cvttps2dq: case DIS_cvtdq2pd:
    case DIS_cvtpd2dq: case DIS_cvttpd2dq: case DIS_cvtpi2ps: case DIS_cvtpi2pd:
    case DIS_cvtps2pi: case DIS_cvttps2pi: case DIS_cvtpd2pi: case DIS_cvttpd2pi:
        fp_arith(v, in);
        return true;
    default: /* SSE3 (haddps, addsubps, movddup, lddqu, ...): not in the policy */
        rem_ud(v);
    }
}
