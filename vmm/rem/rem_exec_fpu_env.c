/*
 * rem_exec_fpu_env.c - the x87 control and state instructions: FNINIT,
 * FNCLEX, FNSTCW/FLDCW, FNSTSW (AX and m16), FNSTENV/FLDENV and
 * FNSAVE/FRSTOR in their four layouts (16/32-bit operand size, real/V86 or
 * protected mode; 64-bit mode uses the 32-bit protected one), and
 * FXSAVE/FXRSTOR in the 32-bit and the REX.W (64-bit FIP/FDP) layouts.
 *
 * The FN* forms are the non-waiting ones: they neither check CR0.MP nor
 * take a pending #MF. FLDCW, FLDENV and FRSTOR are waiting instructions.
 * The 32-bit environment stores 0xffff in the reserved upper halves of the
 * control, status, tag and FDS slots, as the hardware does.
 *
 * FXSAVE writes bytes 0..287 outside 64-bit mode and 0..415 in it (XMM8-15);
 * the reserved bytes of the ST slots are written as zeros; 416..511 are
 * never touched. FXRSTOR raises #GP(0) for MXCSR bits outside MXCSR_MASK
 * and for a misaligned image (both also #GP in the SDM).
 */
#include "rem_fpu.h"

uint16_t rem_fpu_full_tags(const struct cpum_fxsave *fx)
{
    uint16_t tw = 0;
    unsigned top = fpu_top(fx);
    for (unsigned p = 0; p < 8; p++) {
        unsigned t;
        if (!((fx->ftw >> p) & 1)) {
            t = 3;
        } else {
            const uint8_t *r = fx->st[(p - top) & 7];
            uint64_t mant;
            memcpy(&mant, r, 8);
            unsigned ex = ((r[9] & 0x7fu) << 8) | r[8];
            if (ex == 0x7fff)
                t = 2;
            else if (ex == 0)
                t = mant ? 2 : 1;
            else
                t = (mant >> 63) ? 0 : 2;
        }
        tw |= (uint16_t)(t << (2 * p));
    }
    return tw;
}

static uint8_t abridge(uint16_t tw)
{
    uint8_t a = 0;
    for (unsigned p = 0; p < 8; p++)
        if (((tw >> (2 * p)) & 3) != 3)
            a |= (uint8_t)(1u << p);
    return a;
}

/* Loaded control words keep only the defined bits (bit 6 reads as 1). */
static uint16_t fcw_load(uint16_t x)
{
    return (uint16_t)((x & 0x1f3f) | 0x40);
}

/* TOP changes without the registers moving: st[] (relative to TOP) rotates. */
static void set_top_keep_regs(struct cpum_fxsave *fx, unsigned top)
{
    rem_fpu_rotate(fx, (int)top - (int)fpu_top(fx));
    fpu_set_top(fx, top);
}

static void fninit(struct cpum_fxsave *fx)
{
    set_top_keep_regs(fx, 0);
    fx->fcw = 0x37f;
    fx->fsw = 0;
    fx->ftw = 0;
    fx->fop = 0;
    fx->fip = 0;
    fx->fdp = 0;
}

static void put16(uint8_t *b, unsigned off, uint32_t x)
{
    b[off] = (uint8_t)x;
    b[off + 1] = (uint8_t)(x >> 8);
}

static void put32(uint8_t *b, unsigned off, uint32_t x)
{
    memcpy(b + off, &x, 4);
}

static uint32_t get32(const uint8_t *b, unsigned off)
{
    uint32_t x;
    memcpy(&x, b + off, 4);
    return x;
}

static uint16_t get16(const uint8_t *b, unsigned off)
{
    return (uint16_t)(b[off] | (b[off + 1] << 8));
}

static bool real_like(const struct rem_vcpu *v)
{
    return v->mode == REM_MODE_REAL || v->mode == REM_MODE_V86;
}

/* Builds the environment; returns its length (14 or 28). */
static unsigned env_store(struct rem_vcpu *v, unsigned osz, uint8_t *b)
{
    const struct cpum_fxsave *fx = &v->ctx->fpu;
    uint16_t tw = rem_fpu_full_tags(fx);
    uint32_t fip = (uint32_t)fx->fip, fdp = (uint32_t)fx->fdp;
    uint16_t fcs = v->mode == REM_MODE_LONG ? 0 : (uint16_t)(fx->fip >> 32);
    uint16_t fds = v->mode == REM_MODE_LONG ? 0 : (uint16_t)(fx->fdp >> 32);
    uint16_t fop = fx->fop & 0x7ff;
    if (osz == 2) {
        put16(b, 0, fx->fcw);
        put16(b, 2, fx->fsw);
        put16(b, 4, tw);
        put16(b, 6, fip);
        put16(b, 10, fdp);
        if (real_like(v)) {
            put16(b, 8, ((fip >> 16) & 0xf) << 12 | fop);
            put16(b, 12, ((fdp >> 16) & 0xf) << 12);
        } else {
            put16(b, 8, fcs);
            put16(b, 12, fds);
        }
        return 14;
    }
    put32(b, 0, 0xffff0000u | fx->fcw);
    put32(b, 4, 0xffff0000u | fx->fsw);
    put32(b, 8, 0xffff0000u | tw);
    if (real_like(v)) {
        put32(b, 12, 0xffff0000u | (fip & 0xffff));
        put32(b, 16, ((fip >> 16) << 12) | fop);
        put32(b, 20, 0xffff0000u | (fdp & 0xffff));
        put32(b, 24, (fdp >> 16) << 12);
    } else {
        put32(b, 12, fip);
        put32(b, 16, fcs | ((uint32_t)fop << 16));
        put32(b, 20, fdp);
        put32(b, 24, 0xffff0000u | fds);
    }
    return 28;
}

static void env_load(struct rem_vcpu *v, unsigned osz, const uint8_t *b, bool regs_loaded)
{
    struct cpum_fxsave *fx = &v->ctx->fpu;
    unsigned w = osz == 2 ? 2 : 4;
    fx->fcw = fcw_load(get16(b, 0));
    uint16_t fsw = get16(b, w);
    if (!regs_loaded) /* FLDENV: the registers stay, TOP moves over them */
        set_top_keep_regs(fx, (fsw >> 11) & 7);
    fx->fsw = fsw;
    fx->ftw = abridge(get16(b, 2 * w));
    uint32_t ip = osz == 2 ? get16(b, 6) : get32(b, 12);
    uint32_t dp = osz == 2 ? get16(b, 10) : get32(b, 20);
    uint32_t cs = osz == 2 ? get16(b, 8) : get32(b, 16);
    uint32_t ds = osz == 2 ? get16(b, 12) : get32(b, 24);
    if (real_like(v)) {
        unsigned sh = osz == 2 ? 12 : 12;
        fx->fop = (uint16_t)(cs & 0x7ff);
        fx->fip = (ip & 0xffff) | ((uint64_t)(cs >> sh) << 16);
        fx->fdp = (dp & 0xffff) | ((uint64_t)(ds >> sh) << 16);
    } else {
        fx->fop = osz == 2 ? fx->fop : (uint16_t)((cs >> 16) & 0x7ff);
        fx->fip = ip | ((uint64_t)(cs & 0xffff) << 32);
        fx->fdp = dp | ((uint64_t)(ds & 0xffff) << 32);
    }
    fpu_update_es(fx);
}

/* ---- FXSAVE / FXRSTOR ----------------------------------------------------------------------------- */

static void fx_image_addr_check(struct rem_vcpu *v, const struct dis_insn *in, unsigned len,
                                int write)
{
    const struct dis_op *op = &in->op[0];
    if (op->kind != DIS_OP_MEM)
        rem_ud(v);
    uint64_t la = rem_seg_la(v, op_seg(op), ea_off(v, op), len, write);
    if (la & 15)
        rem_gp0(v);
}

static void fxsave(struct rem_vcpu *v, const struct dis_insn *in)
{
    const struct cpum_fxsave *fx = &v->ctx->fpu;
    bool lm = v->mode == REM_MODE_LONG;
    unsigned len = lm ? 416 : 288;
    fx_image_addr_check(v, in, 512, 1);
    uint8_t img[416];
    memset(img, 0, sizeof(img));
    put16(img, 0, fx->fcw);
    put16(img, 2, fx->fsw);
    img[4] = fx->ftw;
    put16(img, 6, fx->fop);
    if (lm && (in->rex & 8)) {
        memcpy(img + 8, &fx->fip, 8);
        memcpy(img + 16, &fx->fdp, 8);
    } else {
        put32(img, 8, (uint32_t)fx->fip);
        put16(img, 12, lm ? v->ctx->seg[CPUM_CS].sel : (uint16_t)(fx->fip >> 32));
        put32(img, 16, (uint32_t)fx->fdp);
        put16(img, 20, lm ? 0 : (uint16_t)(fx->fdp >> 32));
    }
    put32(img, 24, fx->mxcsr);
    put32(img, 28, rem_mxcsr_mask(fx));
    for (unsigned i = 0; i < 8; i++)
        memcpy(img + 32 + 16 * i, fx->st[i], 10);
    memcpy(img + 160, fx->xmm, len - 160);
    rem_fpu_mem_write(v, &in->op[0], 0, img, len);
}

static void fxrstor(struct rem_vcpu *v, const struct dis_insn *in)
{
    struct cpum_fxsave *fx = &v->ctx->fpu;
    bool lm = v->mode == REM_MODE_LONG;
    unsigned len = lm ? 416 : 288;
    fx_image_addr_check(v, in, 512, 0);
    uint8_t img[416];
    rem_fpu_mem_read(v, &in->op[0], 0, img, len);
    uint32_t mxcsr = get32(img, 24);
    if (mxcsr & ~rem_mxcsr_mask(fx))
        rem_gp0(v);
    fx->fcw = get16(img, 0);
    fx->fsw = get16(img, 2);
    fx->ftw = img[4];
    fx->fop = get16(img, 6) & 0x7ff;
    if (lm && (in->rex & 8)) {
        memcpy(&fx->fip, img + 8, 8);
        memcpy(&fx->fdp, img + 16, 8);
    } else {
        fx->fip = get32(img, 8) | (lm ? 0 : (uint64_t)get16(img, 12) << 32);
        fx->fdp = get32(img, 16) | (lm ? 0 : (uint64_t)get16(img, 20) << 32);
    }
    fx->mxcsr = mxcsr;
    for (unsigned i = 0; i < 8; i++) {
        memset(fx->st[i], 0, 16);
        memcpy(fx->st[i], img + 32 + 16 * i, 10);
    }
    memcpy(fx->xmm, img + 160, len - 160);
}

/* ---- dispatch ------------------------------------------------------------------------------------- */

/* Called after the #NM check; returns false for the arithmetic mnemonics. */
bool rem_exec_fpu_env(struct rem_vcpu *v, const struct dis_insn *in)
{
    struct cpum_fxsave *fx = &v->ctx->fpu;
    const struct dis_op *op = &in->op[0];
    uint8_t buf[108];
    switch (in->mnem) {
    case DIS_fxsave: case DIS_fxrstor:
        rem_fpu_check(v);
        if (in->mnem == DIS_fxsave)
            fxsave(v, in);
        else
            fxrstor(v, in);
        return true;
    case DIS_fninit:
        fninit(fx);
        return true;
    case DIS_fnclex:
        fx->fsw &= (uint16_t)~(FSW_XCPT | FSW_SF | FSW_ES | FSW_B);
        return true;
    case DIS_fnstcw:
        op_set(v, op, 2, fx->fcw);
        return true;
    case DIS_fnstsw:
        op_set(v, op, 2, fx->fsw);
        return true;
    case DIS_fldcw:
        rem_fpu_pending(v);
        fx->fcw = fcw_load((uint16_t)op_get(v, op, 2));
        fpu_update_es(fx);
        return true;
    case DIS_fnstenv: case DIS_fnsave: {
        unsigned n = env_store(v, in->opsize == 2 ? 2 : 4, buf);
        if (in->mnem == DIS_fnsave) {
            for (unsigned i = 0; i < 8; i++)
                memcpy(buf + n + 10 * i, fx->st[i], 10);
            rem_fpu_mem_write(v, op, 0, buf, n + 80);
            fninit(fx);
        } else {
            rem_fpu_mem_write(v, op, 0, buf, n);
            fx->fcw |= FSW_XCPT; /* FNSTENV masks every exception */
        }
        return true;
    }
    case DIS_fldenv: case DIS_frstor: {
        unsigned osz = in->opsize == 2 ? 2 : 4, n = osz == 2 ? 14 : 28;
        rem_fpu_pending(v);
        rem_fpu_mem_read(v, op, 0, buf, in->mnem == DIS_frstor ? n + 80 : n);
        if (in->mnem == DIS_frstor)
            for (unsigned i = 0; i < 8; i++) {
                memset(fx->st[i], 0, 16);
                memcpy(fx->st[i], buf + n + 10 * i, 10);
            }
        env_load(v, osz, buf, in->mnem == DIS_frstor);
        return true;
    }
    default:
        return false;
    }
}
