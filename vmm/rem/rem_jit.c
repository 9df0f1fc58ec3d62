/*
 * rem_jit.c - the block translator: decoded blocks (rem_block.c) of 64-bit
 * code turned into host x86-64 code (rem_x86emit.h) once they are hot.
 *
 * Host x86-64 Linux only; elsewhere rem_jit_create returns NULL and the
 * interpreter stays the only path (the rest of this file compiles out).
 *
 * What a translation is. One function per block,
 *   void fn(struct rem_vcpu *v, const uint32_t *check_epoch)
 * called by rem_run_block instead of its instruction loop when the block
 * is 64-bit code, was translated for the current CPL and v->budget covers
 * all of it. Guest state stays where the interpreter keeps it: ctx->gpr[],
 * the lazy flags in v->cc with the encoding of rem_fast.c (op, bits, res,
 * src1, src2, cin), ctx->rip, v->insn_rip / next_rip, v->budget / insns.
 * The generated code holds only
 *   rbx = v, rbp = v->ctx, r12 = RIP at entry, r13 / r14 = budget / insns
 *   at entry, r15d = v->epoch at entry, [rsp] = *check_epoch at entry,
 * and keeps nothing guest-visible in host registers between instructions.
 *
 * Each instruction is either inlined or a call of its handler bi->fn with
 * insn_rip, next_rip, ctx->rip, budget and insns set as rem_run_block sets
 * them (and rip_set cleared for the last one), after which the block stops
 * when v->stop or v->epoch moved (a write to cached code, a mode or TLB
 * change), so self-modifying code stays exact to the instruction.
 * Inlined forms (64-bit code, any CPL): MOV / MOVZX / MOVSX / MOVSXD / LEA
 * with GPR, immediate and memory operands, ADD / SUB / CMP / AND / OR / XOR
 * / TEST with a register destination (CMP / TEST: or memory), INC / DEC of a
 * register, SHL / SHR / SAR of a 32/64-bit register by an immediate, PUSH /
 * POP of a 64-bit register (PUSH imm), NOP, and at the end of a block JMP /
 * Jcc / CALL with a relative target and RET. 8-bit forms only with the low
 * byte registers (AH..BH go to the handler).
 *
 * Exactness. An inlined instruction first checks everything that could make
 * it fault or differ (software-TLB hit with a host pointer, inside one page;
 * canonical jump targets) and commits nothing before; any check that fails
 * sends the whole instruction to its handler (a cold stub per instruction),
 * which then does the slow path, MMIO, faults and code-page writes (write
 * TLB entries of pages holding blocks have no host pointer, rem_mem.c) the
 * interpreter's way. So a fault longjmps out of a handler with the state the
 * interpreter would have (rem_vcpu_run's setjmp; the generated code only
 * needs the SysV ABI for that), and budget / insns count what retired.
 * Inlined flag producers store v->cc as the rem_fast.c handlers do. Jcc
 * reads the host flags when the producer was the instruction before (no
 * cold path between), else recomputes them from v->cc when its producer is
 * known (checked at run time when a handler may have produced it), else
 * calls rem_cond.
 *
 * A Jcc / JMP back to the block's own start loops inside the generated code
 * while the budget covers another pass and no kick, interrupt window or new
 * check epoch is pending (what rem_run_block checks between blocks).
 *
 * Code buffer: one mmap'd region per vCPU (with the block cache), filled in
 * order; when full, rem_block.c drops every translation and starts again
 * (as it empties its pools). Translations refer to their block's decoded
 * instructions in the pool, so a pool flush drops them too (rem_block.c).
 */
#include <stddef.h>
#include <stdlib.h>

#include "rem_internal.h"

#if defined(__x86_64__) && defined(__linux__)

#include <sys/mman.h>

#include "rem_x86emit.h"

#define JIT_BUF_SIZE (16u << 20)
#define JIT_MAX_INSNS 64u
#define JIT_MAX_FIXUPS 512u

struct rem_jit {
    uint8_t *buf;
    size_t used;
    uint64_t translations;
};

struct rem_jit *rem_jit_create(void)
{
    struct rem_jit *j = calloc(1, sizeof(*j));
    if (!j)
        return NULL;
    void *p = mmap(NULL, JIT_BUF_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) { /* W+X refused (hardened host): interpreter only */
        free(j);
        return NULL;
    }
    j->buf = p;
    return j;
}

void rem_jit_destroy(struct rem_jit *j)
{
    if (!j)
        return;
    munmap(j->buf, JIT_BUF_SIZE);
    free(j);
}

void rem_jit_reset(struct rem_jit *j)
{
    if (j)
        j->used = 0;
}

uint64_t rem_jit_translations(const struct rem_jit *j)
{
    return j ? j->translations : 0;
}

/* ---- offsets of the guest state ------------------------------------------------ */

#define V_OFF(f) ((int32_t)offsetof(struct rem_vcpu, f))
#define C_GPR(r) ((int32_t)(offsetof(struct cpum_ctx, gpr) + 8u * (r)))
#define C_RIP ((int32_t)offsetof(struct cpum_ctx, rip))
#define C_SEGBASE(s) \
    ((int32_t)(offsetof(struct cpum_ctx, seg) + (s) * sizeof(struct cpum_seg) + \
               offsetof(struct cpum_seg, base)))

_Static_assert(sizeof(struct rem_tlb_entry) == 32, "the TLB index scales by 32");
_Static_assert(offsetof(struct rem_cc, bits) == offsetof(struct rem_cc, op) + 1,
               "op and bits are stored as one word");

static struct xm vm(int32_t off)
{
    return xm_mem(XR_RBX, off);
}

static struct xm gpr(unsigned r)
{
    return xm_mem(XR_RBP, C_GPR(r));
}

#define CC_RES V_OFF(cc.res)
#define CC_SRC1 V_OFF(cc.src1)
#define CC_SRC2 V_OFF(cc.src2)
#define CC_CIN V_OFF(cc.cin)
#define CC_OP V_OFF(cc.op)

/* ---- the translator's state ---------------------------------------------------- */

enum { FX_EXIT, FX_HANDLER };

struct fixup {
    uint8_t *at;   /* rel32 to patch */
    uint8_t kind;  /* FX_EXIT: leave with insn `insn` next; FX_HANDLER: run insn by handler */
    uint8_t insn;
};

struct tr {
    struct xe e;
    const struct rem_binsn *insn;
    unsigned n, user;
    uint32_t off[JIT_MAX_INSNS + 1];  /* byte offset of each instruction from the entry RIP */
    uint8_t *label[JIT_MAX_INSNS + 1];
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
    uint8_t *exit_rax; /* leaves with RIP = rax, the whole block retired */
};

static void fixup(struct tr *t, uint8_t *at, unsigned kind, unsigned insn)
{
    if (!at)
        return;
    if (t->nfx == JIT_MAX_FIXUPS) {
        t->overflow = true;
        return;
    }
    t->fx[t->nfx++] = (struct fixup){ at, (uint8_t)kind, (uint8_t)insn };
}

/* Jcc (or JMP: cc XC_ALWAYS) to the handler stub of instruction i. */
static void to_handler(struct tr *t, unsigned cc, unsigned i)
{
    fixup(t, cc < 16 ? xe_jcc(&t->e, cc) : xe_jmp(&t->e), FX_HANDLER, i);
    t->cold = true;
}

/* ---- calling handlers ---------------------------------------------------------- */

/* The state rem_run_block has around the call of instruction i's handler. */
static void emit_state(struct tr *t, unsigned i)
{
    struct xe *e = &t->e;
    xe_lea(e, XR_RAX, xm_mem(XR_R12, (int32_t)t->off[i]));
    xe_mov_store(e, 8, vm(V_OFF(insn_rip)), XR_RAX);
    xe_mov_store(e, 8, xm_mem(XR_RBP, C_RIP), XR_RAX);
    xe_lea(e, XR_RAX, xm_mem(XR_R12, (int32_t)t->off[i + 1]));
    xe_mov_store(e, 8, vm(V_OFF(next_rip)), XR_RAX);
    xe_lea(e, XR_RAX, xm_mem(XR_R13, -(int32_t)(i + 1)));
    xe_mov_store(e, 8, vm(V_OFF(budget)), XR_RAX);
    xe_lea(e, XR_RAX, xm_mem(XR_R14, (int32_t)i));
    xe_mov_store(e, 8, vm(V_OFF(insns)), XR_RAX);
}

/* Runs instruction i by its handler; continues at instruction i + 1 (the
 * code that follows), or leaves the block. */
static void emit_handler(struct tr *t, unsigned i)
{
    struct xe *e = &t->e;
    const struct rem_binsn *bi = &t->insn[i];
    bool last = i + 1 == t->n;
    emit_state(t, i);
    if (last)
        xe_mov_store_imm(e, 1, vm(V_OFF(rip_set)), 0);
    xe_mov_load(e, 8, XR_RDI, xm_reg(XR_RBX));
    xe_mov_imm(e, XR_RSI, (uint64_t)(uintptr_t)&bi->in);
    xe_call_abs(e, (const void *)(uintptr_t)bi->fn);
    if (!last) {
        xe_alu_imm(e, 1, XA_CMP, vm(V_OFF(stop)), 0);
        fixup(t, xe_jcc(e, XC_NE), FX_EXIT, i + 1);
        xe_alu_load(e, 4, XA_CMP, XR_R15, vm(V_OFF(epoch)));
        fixup(t, xe_jcc(e, XC_NE), FX_EXIT, i + 1);
        return;
    }
    /* ctx.rip = rip_set ? ctx.rip : next_rip */
    xe_mov_load(e, 8, XR_RAX, vm(V_OFF(next_rip)));
    xe_alu_imm(e, 1, XA_CMP, vm(V_OFF(rip_set)), 0);
    uint8_t *j = xe_jcc(e, XC_E);
    xe_mov_load(e, 8, XR_RAX, xm_mem(XR_RBP, C_RIP));
    xe_patch(j, e->p);
    xe_jmp_to(e, XC_ALWAYS, t->exit_rax);
}

/* rax = rem_cond(v, cc) != 0, as host ZF clear. */
static void emit_rem_cond(struct tr *t, unsigned cc)
{
    struct xe *e = &t->e;
    xe_mov_load(e, 8, XR_RDI, xm_reg(XR_RBX));
    xe_mov_imm(e, XR_RSI, cc);
    xe_call_abs(e, (const void *)(uintptr_t)rem_cond);
    xe_test(e, 1, xm_reg(XR_RAX), XR_RAX);
}

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
static struct xm emit_mem(struct tr *t, unsigned i, const struct dis_op *op, unsigned size,
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
    to_handler(t, XC_NE, i);
    xe_mov_load(e, 8, XR_RDX, xm_sib(XR_RBX, XR_RDX, 1, tlb + 8));
    xe_test(e, 8, xm_reg(XR_RDX), XR_RDX);
    to_handler(t, XC_E, i);
    return xm_sib(XR_RDX, XR_RSI, 1, 0);
}

/* Stores host register `r` (zero-extended for size 4) to guest GPR g. */
static void wr_gpr(struct tr *t, unsigned size, unsigned g, int r)
{
    xe_mov_store(&t->e, size == 4 ? 8 : size, gpr(g), r);
}

/* rcx = a canonical check of rax: to the handler when it is not. */
static void emit_canonical(struct tr *t, unsigned i)
{
    struct xe *e = &t->e;
    xe_mov_load(e, 8, XR_RCX, xm_reg(XR_RAX));
    xe_shift_imm(e, 8, XS_SHL, XR_RCX, 16);
    xe_shift_imm(e, 8, XS_SAR, XR_RCX, 16);
    xe_alu_load(e, 8, XA_CMP, XR_RCX, xm_reg(XR_RAX));
    to_handler(t, XC_NE, i);
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
            struct xm m = emit_mem(t, i, s, size, REM_TLB_READ);
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
    struct xm m = emit_mem(t, i, d, size, REM_TLB_WRITE);
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
        m = emit_mem(t, i, s, ss, REM_TLB_READ);
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

/* ADD/SUB/CMP/AND/OR/XOR/TEST: a register destination, or a memory one for
 * CMP/TEST (no store); the source a register, an immediate or memory. */
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
    if (dmem && (store || !mem_ok(t, d, i) || s->kind == DIS_OP_MEM))
        return false;
    if (!is_gpr(s) && s->kind != DIS_OP_IMM && !(s->kind == DIS_OP_MEM && mem_ok(t, s, i)))
        return false;
    /* memory first (the TLB check uses rcx/rdx/rsi), then the registers */
    if (dmem)
        xe_load_zx(e, size, XR_RAX, emit_mem(t, i, d, size, REM_TLB_READ));
    else if (s->kind == DIS_OP_MEM)
        xe_load_zx(e, size, XR_RCX, emit_mem(t, i, s, size, REM_TLB_READ));
    if (!dmem)
        xe_load_zx(e, size, XR_RAX, gpr(d->reg));
    if (is_gpr(s))
        xe_load_zx(e, size, XR_RCX, gpr(s->reg));
    else if (s->kind == DIS_OP_IMM)
        xe_mov_imm(e, XR_RCX, s->imm & mask_of(size));
    xe_mov_store(e, 8, vm(CC_SRC1), XR_RAX);
    xe_mov_store(e, 8, vm(CC_SRC2), XR_RCX);
    xe_alu_load(e, size, aop, XR_RAX, xm_reg(XR_RCX));
    if (store)
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
    emit_rem_cond(t, 2);
    xe_setcc(e, XC_NE, XR_RAX);
    xe_load_zx(e, 1, XR_RAX, xm_reg(XR_RAX));
    xe_mov_store(e, 4, vm(CC_CIN), XR_RAX);
    xe_patch(skip, e->p);
}

static bool tr_incdec(struct tr *t, const struct dis_insn *in)
{
    struct xe *e = &t->e;
    const struct dis_op *d = &in->op[0];
    unsigned size = in->opsize;
    bool dec = in->mnem == DIS_dec;
    if (in->nops != 1 || !is_gpr(d) || !size_ok(size) || (in->prefixes & DIS_PFX_LOCK))
        return false;
    emit_keep_cf(t);
    xe_load_zx(e, size, XR_RAX, gpr(d->reg));
    xe_mov_store(e, 8, vm(CC_SRC1), XR_RAX);
    xe_mov_store_imm(e, 8, vm(CC_SRC2), 1);
    xe_incdec(e, size, dec, XR_RAX);
    wr_gpr(t, size, d->reg, XR_RAX);
    xe_mov_store(e, 8, vm(CC_RES), XR_RAX);
    unsigned op = dec ? REM_CC_DEC : REM_CC_INC;
    emit_cc_kind(t, op, size * 8, false);
    t->cc_op = (int)op;
    t->cc_bits = size * 8;
    t->cc_sure = true;
    t->live = (int)op;
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
    struct xm m = emit_mem(t, i, &top, 8, REM_TLB_WRITE);
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
    xe_mov_load(e, 8, XR_RAX, emit_mem(t, i, &top, 8, REM_TLB_READ));
    xe_alu_imm(e, 8, XA_ADD, gpr(CPUM_RSP), 8);
    xe_mov_store(e, 8, gpr(d->reg), XR_RAX);
    return true;
}

/* ---- the end of the block ---------------------------------------------------------- */

/* Host flags for guest condition cc (then "j<cc> taken"), or a call of
 * rem_cond: returns the host condition that means taken. */
static unsigned emit_cond(struct tr *t, unsigned cc)
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
        emit_rem_cond(t, cc);
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
    emit_rem_cond(t, cc);
    xe_patch(done, e->p);
    return XC_NE;
}

/* rax = the target; loops when it is the block's start, else leaves. */
static void emit_goto(struct tr *t, unsigned i, int64_t toff)
{
    struct xe *e = &t->e;
    xe_lea(e, XR_RAX, xm_mem(XR_R12, (int32_t)toff));
    emit_canonical(t, i);
    if (toff == 0) {
        /* Another pass: the budget covers it and nothing rem_run_block
         * looks at between blocks is pending. */
        xe_alu_imm(e, 8, XA_CMP, xm_reg(XR_R13), (int32_t)(2 * t->n));
        xe_jmp_to(e, XC_B, t->exit_rax);
        xe_alu_imm(e, 4, XA_CMP, vm(V_OFF(kick)), 0);
        xe_jmp_to(e, XC_NE, t->exit_rax);
        xe_alu_imm(e, 1, XA_CMP, vm(V_OFF(irq_window)), 0);
        xe_jmp_to(e, XC_NE, t->exit_rax);
        xe_mov_load(e, 8, XR_RCX, xm_mem(XR_RSP, 8));
        xe_mov_load(e, 4, XR_RCX, xm_mem(XR_RCX, 0));
        xe_alu_load(e, 4, XA_CMP, XR_RCX, xm_mem(XR_RSP, 0));
        xe_jmp_to(e, XC_NE, t->exit_rax);
        xe_alu_imm(e, 8, XA_SUB, xm_reg(XR_R13), (int32_t)t->n);
        xe_alu_imm(e, 8, XA_ADD, xm_reg(XR_R14), (int32_t)t->n);
        xe_jmp_to(e, XC_ALWAYS, t->label[0]);
        return;
    }
    xe_jmp_to(e, XC_ALWAYS, t->exit_rax);
}

/* JMP/Jcc/CALL rel and RET as the last instruction. */
static bool tr_branch(struct tr *t, unsigned i, const struct dis_insn *in)
{
    struct xe *e = &t->e;
    const struct dis_op *o = &in->op[0];
    int64_t next = t->off[i + 1];
    if (in->opsize != 8)
        return false;
    if (in->cf == DIS_CF_RET) {
        if (in->nops && o->kind != DIS_OP_IMM)
            return false;
        unsigned imm = in->nops ? (unsigned)o->imm & 0xffff : 0;
        struct dis_op top = { .kind = DIS_OP_MEM, .mem = { .seg = DIS_SEG_SS, .base = CPUM_RSP,
                              .index = DIS_REG_NONE, .scale = 1, .addr_size = 8 } };
        xe_mov_load(e, 8, XR_RAX, emit_mem(t, i, &top, 8, REM_TLB_READ));
        emit_canonical(t, i);
        xe_alu_imm(e, 8, XA_ADD, gpr(CPUM_RSP), (int32_t)(8 + imm));
        xe_jmp_to(e, XC_ALWAYS, t->exit_rax);
        return true;
    }
    if (o->kind != DIS_OP_REL)
        return false;
    int64_t toff = next + (int64_t)o->imm;
    if (!xe_fits32(toff))
        return false;
    if (in->cf == DIS_CF_JMP) {
        emit_goto(t, i, toff);
        return true;
    }
    if (in->cf == DIS_CF_CALL) {
        xe_lea(e, XR_RAX, xm_mem(XR_R12, (int32_t)toff));
        emit_canonical(t, i);
        struct dis_op top = { .kind = DIS_OP_MEM, .mem = { .seg = DIS_SEG_SS, .base = CPUM_RSP,
                              .index = DIS_REG_NONE, .scale = 1, .addr_size = 8, .disp = -8 } };
        struct xm m = emit_mem(t, i, &top, 8, REM_TLB_WRITE); /* keeps rax */
        xe_lea(e, XR_RCX, xm_mem(XR_R12, (int32_t)next));
        xe_mov_store(e, 8, m, XR_RCX);
        xe_mov_store(e, 8, gpr(CPUM_RSP), XR_RSI);
        xe_jmp_to(e, XC_ALWAYS, t->exit_rax);
        return true;
    }
    if (in->cf != DIS_CF_JCC)
        return false;
    unsigned hc = emit_cond(t, in->cond);
    uint8_t *taken = xe_jcc(e, hc);
    xe_lea(e, XR_RAX, xm_mem(XR_R12, (int32_t)next));
    xe_jmp_to(e, XC_ALWAYS, t->exit_rax);
    xe_patch(taken, e->p);
    emit_goto(t, i, toff);
    return true;
}

static bool tr_insn(struct tr *t, unsigned i)
{
    const struct dis_insn *in = &t->insn[i].in;
    bool last = i + 1 == t->n;
    if (in->prefixes & DIS_PFX_LOCK)
        return false;
    if (in->cf != DIS_CF_NONE)
        return last && tr_branch(t, i, in);
    if (in->attr & (DIS_A_PRIV | DIS_A_SENS | DIS_A_IO | DIS_A_STRING))
        return false;
    switch (in->mnem) {
    case DIS_mov: return tr_mov(t, i, in);
    case DIS_movzx: case DIS_movsx: case DIS_movsxd: return tr_movx(t, i, in);
    case DIS_lea: return tr_lea(t, i, in);
    case DIS_add: case DIS_sub: case DIS_cmp: case DIS_and: case DIS_or: case DIS_xor:
    case DIS_test:
        return tr_alu(t, i, in);
    case DIS_inc: case DIS_dec: return tr_incdec(t, in);
    case DIS_shl: case DIS_sal: case DIS_shr: case DIS_sar: return tr_shift(t, in);
    case DIS_push: return tr_push(t, i, in);
    case DIS_pop: return tr_pop(t, i, in);
    case DIS_nop: return in->nops == 0 || in->op[0].kind == DIS_OP_MEM ||
                         in->op[0].kind == DIS_OP_REG;
    default: return false;
    }
}

/* Does the instruction leave v->cc alone (inlined or by its handler)? */
static bool keeps_flags(const struct dis_insn *in)
{
    if (in->attr & (DIS_A_PRIV | DIS_A_SENS | DIS_A_IO | DIS_A_STRING))
        return false;
    switch (in->mnem) {
    case DIS_mov: case DIS_movzx: case DIS_movsx: case DIS_movsxd: case DIS_lea:
    case DIS_push: case DIS_pop: case DIS_nop:
        return true;
    default:
        return false;
    }
}

static void emit_prologue(struct tr *t)
{
    struct xe *e = &t->e;
    static const int saved[] = { XR_RBX, XR_RBP, XR_R12, XR_R13, XR_R14, XR_R15 };
    for (unsigned k = 0; k < 6; k++)
        xe_push(e, saved[k]);
    xe_alu_imm(e, 8, XA_SUB, xm_reg(XR_RSP), 24); /* 16-byte aligned calls */
    xe_mov_load(e, 8, XR_RBX, xm_reg(XR_RDI));
    xe_mov_store(e, 8, xm_mem(XR_RSP, 8), XR_RSI);
    xe_mov_load(e, 4, XR_RAX, xm_mem(XR_RSI, 0));
    xe_mov_store(e, 4, xm_mem(XR_RSP, 0), XR_RAX);
    xe_mov_load(e, 8, XR_RBP, vm(V_OFF(ctx)));
    xe_mov_load(e, 8, XR_R12, xm_mem(XR_RBP, C_RIP));
    xe_mov_load(e, 8, XR_R13, vm(V_OFF(budget)));
    xe_mov_load(e, 8, XR_R14, vm(V_OFF(insns)));
    xe_mov_load(e, 4, XR_R15, vm(V_OFF(epoch)));
}

static void emit_epilogue(struct tr *t)
{
    struct xe *e = &t->e;
    static const int saved[] = { XR_R15, XR_R14, XR_R13, XR_R12, XR_RBP, XR_RBX };
    xe_alu_imm(e, 8, XA_ADD, xm_reg(XR_RSP), 24);
    for (unsigned k = 0; k < 6; k++)
        xe_pop(e, saved[k]);
    xe_ret(e);
}

/* Leaves with k instructions retired, RIP at instruction k. */
static void emit_exit(struct tr *t, unsigned k, const uint8_t *epilogue)
{
    struct xe *e = &t->e;
    xe_lea(e, XR_RAX, xm_mem(XR_R12, (int32_t)t->off[k]));
    xe_mov_store(e, 8, xm_mem(XR_RBP, C_RIP), XR_RAX);
    xe_lea(e, XR_RAX, xm_mem(XR_R13, -(int32_t)k));
    xe_mov_store(e, 8, vm(V_OFF(budget)), XR_RAX);
    xe_lea(e, XR_RAX, xm_mem(XR_R14, (int32_t)k));
    xe_mov_store(e, 8, vm(V_OFF(insns)), XR_RAX);
    xe_jmp_to(e, XC_ALWAYS, epilogue);
}

/* The cold stubs: handler runs and exits, each once, patched in. */
static void emit_cold(struct tr *t, const uint8_t *epilogue)
{
    struct xe *e = &t->e;
    for (unsigned k = 0; k < t->nfx; k++) {
        struct fixup *f = &t->fx[k];
        if (!f->at)
            continue;
        uint8_t *stub = e->p;
        if (f->kind == FX_EXIT) {
            emit_exit(t, f->insn, epilogue);
        } else {
            emit_handler(t, f->insn);
            if ((unsigned)f->insn + 1 < t->n)
                xe_jmp_to(e, XC_ALWAYS, t->label[f->insn + 1]);
        }
        for (unsigned m = k; m < t->nfx; m++)
            if (t->fx[m].at && t->fx[m].kind == f->kind && t->fx[m].insn == f->insn) {
                xe_patch(t->fx[m].at, stub);
                t->fx[m].at = NULL;
            }
    }
}

int rem_jit_translate(struct rem_jit *j, const struct rem_vcpu *v,
                      const struct rem_binsn *insn, unsigned n, rem_jit_fn *out)
{
    if (!n || n > JIT_MAX_INSNS || v->code_bits != 64)
        return 1;
    struct tr *t = malloc(sizeof(*t));
    if (!t)
        return 1;
    memset(t, 0, offsetof(struct tr, fx));
    t->nfx = 0;
    t->overflow = false;
    t->e = (struct xe){ j->buf + j->used, j->buf + JIT_BUF_SIZE, false };
    t->insn = insn;
    t->n = n;
    t->user = rem_user(v);
    t->cc_op = -1;
    t->live = -1;
    for (unsigned i = 0; i < n; i++)
        t->off[i + 1] = t->off[i] + insn[i].len;

    uint8_t *entry = t->e.p;
    emit_prologue(t);
    /* The shared exit with RIP in rax is emitted first, behind a jump. */
    uint8_t *over = xe_jmp(&t->e);
    t->exit_rax = t->e.p;
    xe_mov_store(&t->e, 8, xm_mem(XR_RBP, C_RIP), XR_RAX);
    xe_lea(&t->e, XR_RAX, xm_mem(XR_R13, -(int32_t)n));
    xe_mov_store(&t->e, 8, vm(V_OFF(budget)), XR_RAX);
    xe_lea(&t->e, XR_RAX, xm_mem(XR_R14, (int32_t)n));
    xe_mov_store(&t->e, 8, vm(V_OFF(insns)), XR_RAX);
    uint8_t *epilogue = t->e.p;
    emit_epilogue(t);
    xe_patch(over, t->e.p);

    for (unsigned i = 0; i < n; i++) {
        t->label[i] = t->e.p;
        t->cold = false;
        int live = t->live;
        t->live = -1;
        struct xe save = t->e;
        unsigned nfx = t->nfx;
        if (tr_insn(t, i)) {
            if (keeps_flags(&insn[i].in) && !t->cold)
                t->live = live;
            continue;
        }
        t->e = save; /* a form tr_insn gave up on halfway: drop what it emitted */
        t->nfx = nfx;
        emit_handler(t, i);
        if (!keeps_flags(&insn[i].in)) {
            t->cc_op = -1;
            t->cc_sure = false;
        }
    }
    t->label[n] = t->e.p;
    if (!(insn[n - 1].in.cf != DIS_CF_NONE)) {
        /* fell off the end: RIP after the last instruction */
        xe_lea(&t->e, XR_RAX, xm_mem(XR_R12, (int32_t)t->off[n]));
        xe_jmp_to(&t->e, XC_ALWAYS, t->exit_rax);
    }
    emit_cold(t, epilogue);
    bool full = t->e.full || t->overflow;
    uint8_t *end = t->e.p;
    free(t);
    if (full)
        return -1;
    j->used = (size_t)(end - j->buf + 15) & ~(size_t)15;
    j->translations++;
    *out = (rem_jit_fn)(void *)entry;
    return 0;
}

#else /* not x86-64 Linux: no translator, the interpreter runs everything */

struct rem_jit *rem_jit_create(void)
{
    return NULL;
}

void rem_jit_destroy(struct rem_jit *j)
{
    (void)j;
}

void rem_jit_reset(struct rem_jit *j)
{
    (void)j;
}

uint64_t rem_jit_translations(const struct rem_jit *j)
{
    (void)j;
    return 0;
}

int rem_jit_translate(struct rem_jit *j, const struct rem_vcpu *v,
                      const struct rem_binsn *insn, unsigned n, rem_jit_fn *out)
{
    (void)j, (void)v, (void)insn, (void)n, (void)out;
    return 1;
}

#endif
