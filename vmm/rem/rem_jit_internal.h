/*
 * vmm/rem/rem_jit_internal.h - what the two halves of the block translator
 * share (host x86-64 Linux only):
 *   rem_jit.c       the code buffer, a translation's frame (prologue, exits,
 *                   cold stubs), handler calls, block-ending branches and
 *                   the links between translations (chaining);
 *   rem_jit_insn.c  the instruction translators (inlined forms), operands
 *                   with their software-TLB checks, the lazy-flag helpers.
 * The register conventions of the generated code are in rem_jit.c's header.
 */
#ifndef VMM_REM_JIT_INTERNAL_H
#define VMM_REM_JIT_INTERNAL_H

#include <stddef.h>

#include "rem_internal.h"
#include "rem_x86emit.h"

#define JIT_MAX_INSNS 64u
#define JIT_MAX_FIXUPS 512u
#define JIT_MAX_SLOTS 4u

#define V_OFF(f) ((int32_t)offsetof(struct rem_vcpu, f))
#define C_GPR(r) ((int32_t)(offsetof(struct cpum_ctx, gpr) + 8u * (r)))
#define C_RIP ((int32_t)offsetof(struct cpum_ctx, rip))
#define C_RFLAGS ((int32_t)offsetof(struct cpum_ctx, rflags))
#define C_SEGBASE(s) \
    ((int32_t)(offsetof(struct cpum_ctx, seg) + (s) * sizeof(struct cpum_seg) + \
               offsetof(struct cpum_seg, base)))

#define CC_RES V_OFF(cc.res)
#define CC_SRC1 V_OFF(cc.src1)
#define CC_SRC2 V_OFF(cc.src2)
#define CC_CIN V_OFF(cc.cin)
#define CC_OP V_OFF(cc.op)

/* A spare 8-byte slot of the frame (rsp + 16) for values across a call. */
#define JIT_SPILL 16

static inline struct xm vm(int32_t off)
{
    return xm_mem(XR_RBX, off);
}

static inline struct xm gpr(unsigned r)
{
    return xm_mem(XR_RBP, C_GPR(r));
}

enum { FX_EXIT, FX_HANDLER };

struct fixup {
    uint8_t *at;   /* rel32 to patch */
    uint8_t kind;  /* FX_EXIT: leave with insn `insn` next; FX_HANDLER: run insn by handler */
    uint8_t insn;
};

/* A chainable exit of the block being translated (rem_jit.c). */
struct slot {
    uint8_t *jmp;  /* rel32 of its jump (to the unlinked stub, later to a link) */
    uint8_t *rec;  /* the imm64 that receives its record's address */
    bool dynamic;  /* the target is only known at run time (RET) */
    bool same_page;/* a static target in the block's own guest page */
};

struct tr {
    struct xe e;
    const struct rem_binsn *insn;
    unsigned n, user;
    unsigned page_off; /* of the first byte in its guest page */
    uint32_t off[JIT_MAX_INSNS + 1];  /* byte offset of each instruction from the entry RIP */
    uint8_t *label[JIT_MAX_INSNS + 1];
    struct slot slots[JIT_MAX_SLOTS];
    unsigned nslots;
    struct fixup fx[JIT_MAX_FIXUPS];
    unsigned nfx;
    bool overflow;
    /* What v->cc holds here: cc_op/cc_bits when known (-1: unknown); sure:
     * certain, else only expected (a handler may have produced it). */
    int cc_op;
    unsigned cc_bits;
    bool cc_sure;
    int live;      /* the host flags are those of this REM_CC_* op (-1: none) */
    bool cold;     /* the current instruction has a cold (handler) path */
    bool clobber;  /* the current instruction changed the host flags */
    uint8_t *exit_rax; /* leaves with RIP = rax, the whole block retired */
};

/* ---- rem_jit.c ---------------------------------------------------------------- */

void jit_fixup(struct tr *t, uint8_t *at, unsigned kind, unsigned insn);
/* Jcc (or JMP: cc XC_ALWAYS) to the handler stub of instruction i. */
void jit_to_handler(struct tr *t, unsigned cc, unsigned i);
/* rax = rem_cond(v, cc) != 0, as host ZF clear (clobbers the caller-saved). */
void jit_emit_rem_cond(struct tr *t, unsigned cc);

/* ---- rem_jit_insn.c ------------------------------------------------------------ */

/* Emits instruction i inline; false: not a form it inlines (the caller
 * drops what was emitted and calls the handler). Not the block's branch. */
bool jit_tr_insn(struct tr *t, unsigned i);
/* Does the instruction leave v->cc alone (inlined or by its handler)? */
bool jit_keeps_flags(const struct dis_insn *in);
/* Host flags for guest condition cc, or a call of rem_cond: returns the
 * host condition that means true. */
unsigned jit_emit_cond(struct tr *t, unsigned cc);
/* rsi = the linear address of a memory operand, rdx = the host addend of
 * its page (else to the handler of i); the operand is the returned [rdx+rsi]. */
struct xm jit_emit_mem(struct tr *t, unsigned i, const struct dis_op *op, unsigned size,
                       unsigned kind);
/* To the handler of i unless rax is canonical (uses rcx). */
void jit_emit_canonical(struct tr *t, unsigned i);

#endif /* VMM_REM_JIT_INTERNAL_H */
