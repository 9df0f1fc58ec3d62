/*
 * vmm/rem/rem_fpu.h - what the x87 files (rem_exec_fpu.c, rem_exec_fpu_env.c)
 * and the SSE/MMX files (rem_exec_sse.c, rem_exec_sse_int.c) share.
 *
 * State model: the guest's x87/MMX/SSE state lives in ctx.fpu in FXSAVE
 * layout and is worked on in place. st[i] holds ST(i), i.e. it is relative
 * to TOP exactly as FXSAVE stores it, so a push or pop rotates st[] (128
 * bytes) while the abridged tag word (ftw, one bit per PHYSICAL register,
 * 1 = valid) stays put. MMX register MMi is physical register i; MMX
 * instructions set TOP to 0 first (rem_mmx_enter), which makes st[i] = MMi.
 */
#ifndef VMM_REM_FPU_H
#define VMM_REM_FPU_H

#include "rem_ops.h"

/* FSW */
#define FSW_IE 0x0001u
#define FSW_DE 0x0002u
#define FSW_ZE 0x0004u
#define FSW_OE 0x0008u
#define FSW_UE 0x0010u
#define FSW_PE 0x0020u
#define FSW_XCPT 0x003fu
#define FSW_SF 0x0040u
#define FSW_ES 0x0080u
#define FSW_C0 0x0100u
#define FSW_C1 0x0200u
#define FSW_C2 0x0400u
#define FSW_TOP 0x3800u
#define FSW_C3 0x4000u
#define FSW_B 0x8000u
#define FSW_CC (FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)

/* FCW */
#define FCW_IM 0x0001u
#define FCW_RC 0x0c00u

/* MXCSR */
#define MXCSR_FLAGS 0x003fu
#define MXCSR_MASKS 0x1f80u
#define MXCSR_DEFAULT_MASK 0xffbfu /* what a zero MXCSR_MASK in the image means */

static inline unsigned fpu_top(const struct cpum_fxsave *fx)
{
    return (fx->fsw >> 11) & 7;
}

static inline void fpu_set_top(struct cpum_fxsave *fx, unsigned top)
{
    fx->fsw = (uint16_t)((fx->fsw & ~FSW_TOP) | ((top & 7) << 11));
}

/* ES and B follow the unmasked exception flags (as Bochs and hardware do
 * after FLDCW/FLDENV/FRSTOR and after every arithmetic instruction). */
static inline void fpu_update_es(struct cpum_fxsave *fx)
{
    if (fx->fsw & FSW_XCPT & ~fx->fcw)
        fx->fsw |= FSW_ES | FSW_B;
    else
        fx->fsw &= (uint16_t)~(FSW_ES | FSW_B);
}

/*
 * The x87 exception check of a waiting instruction: #MF when an unmasked
 * exception is pending (FSW.ES) and CR0.NE is set. With CR0.NE clear the
 * PC-compatible FERR#/IRQ 13 route is not modelled: the instruction runs.
 */
void rem_fpu_pending(struct rem_vcpu *v);

/* MMX instructions: #UD if CR0.EM, #NM if CR0.TS, #MF if pending, then the
 * x87-to-MMX transition (TOP = 0, every tag valid). */
void rem_mmx_enter(struct rem_vcpu *v);

/* Rotates st[] by `n` (positive: ST(i) becomes old ST(i+n), as after a pop). */
void rem_fpu_rotate(struct cpum_fxsave *fx, int n);

/* MXCSR_MASK as the guest sees it (ctx value, 0 meaning the default). */
static inline uint32_t rem_mxcsr_mask(const struct cpum_fxsave *fx)
{
    return fx->mxcsr_mask ? fx->mxcsr_mask : MXCSR_DEFAULT_MASK;
}

/* Guest memory for the wide operands (m80, m128, environments, images):
 * segment checks and a linear access; writes probe every page first. */
void rem_fpu_mem_read(struct rem_vcpu *v, const struct dis_op *op, uint64_t disp, void *buf,
                      unsigned len);
void rem_fpu_mem_write(struct rem_vcpu *v, const struct dis_op *op, uint64_t disp,
                       const void *buf, unsigned len);

/* rem_exec_fpu_env.c: control, environment and image instructions
 * (FNINIT..FRSTOR, FXSAVE/FXRSTOR). Returns false for other mnemonics. */
bool rem_exec_fpu_env(struct rem_vcpu *v, const struct dis_insn *in);
/* Full 2-bit tag word computed from the registers. */
uint16_t rem_fpu_full_tags(const struct cpum_fxsave *fx);

/* An SSE/MMX value: XMM, MM (low 8 bytes), GPR or memory operand. */
union rem_xv {
    uint8_t b[16];
    uint16_t w[8];
    uint32_t d[4];
    uint64_t q[2];
    int8_t sb[16];
    int16_t sw[8];
    int32_t sd[4];
    int64_t sq[2];
    float f[4];
    double g[2];
};

/* Reads an operand: XMM (16 bytes), MM (8), GPR (its size, zero-extended),
 * immediate or `len` bytes of memory; `align`: a 16-byte memory operand
 * must be 16-byte aligned (#GP(0) otherwise: legacy SSE, not MOVUPS...). */
void rem_sse_read(struct rem_vcpu *v, const struct dis_op *op, union rem_xv *x, unsigned len,
                  bool align);
/* Writes an operand: XMM (all 16 bytes of *x), MM (8 bytes, exponent field
 * to all-ones as MMX writes do), GPR (op->size) or `len` bytes of memory. */
void rem_sse_write(struct rem_vcpu *v, const struct dis_op *op, const union rem_xv *x,
                   unsigned len, bool align);

/* rem_exec_sse_int.c: MMX and SSE2 integer instructions. */
bool rem_exec_sse_int(struct rem_vcpu *v, const struct dis_insn *in);

#endif /* VMM_REM_FPU_H */
