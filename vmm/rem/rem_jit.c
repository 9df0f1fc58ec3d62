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
 * Each instruction is either inlined (rem_jit_insn.c) or a call of its
 * handler bi->fn with insn_rip, next_rip, ctx->rip, budget and insns set as
 * rem_run_block sets them (and rip_set cleared for the last one), after
 * which the block stops when v->stop or v->epoch moved (a write to cached
 * code, a mode or TLB change), so self-modifying code stays exact to the
 * instruction.
 * Inlined forms (64-bit code, any CPL): MOV / MOVZX / MOVSX / MOVSXD / LEA
 * with GPR, immediate and memory operands, ADD / SUB / CMP / AND / OR / XOR
 * / TEST with a register destination or a memory one (read-modify-write;
 * CMP / TEST: read), ADC / SBB of registers and immediates, INC / DEC / NOT
 * / NEG of a register or memory, MOVABS reg, imm64, IMUL reg, r/m (, imm), CMOVcc, SETcc, XCHG of two
 * registers, SHL / SHR / SAR of a 32/64-bit register by an immediate, PUSH /
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
 * Chaining. Every other exit whose target the block computed itself (JMP /
 * Jcc / CALL rel, RET, the fall-through after an inlined last instruction)
 * is a jump that at first goes to a stub recording the exit (v->jit_exit);
 * when rem_run_block then runs a translation next, it links the exit to it
 * (rem_jit_link): a stub in the buffer that repeats rem_run_block's checks
 * between blocks and its block lookup's validity tests at run time (see
 * there) and jumps into the next translation's body, the frame of the first
 * one staying. Exits after a handler ran the last instruction (which may
 * have changed mode, TF, the interrupt shadow, the check epoch) never chain.
 * A link whose target was rebuilt or translated again goes back to the
 * recording stub and is linked anew; one whose target is stale for now
 * (page written, new check epoch, no TLB entry) leaves to rem_run_block.
 *
 * Code buffer: one mmap'd region per vCPU (with the block cache), filled in
 * order; when full, rem_block.c drops every translation and starts again
 * (as it empties its pools), links and exit records with them (a record
 * from before a reset is never linked: rem_jit_resets). Translations refer
 * to their block's decoded instructions in the pool, so a pool flush drops
 * them too (rem_block.c). Each translation is preceded by the address of
 * its body (8 bytes), where links enter it.
 */
#include <stddef.h>
#include <stdlib.h>

#include "rem_jit_internal.h"

#if defined(__x86_64__) && defined(__linux__)

#include <sys/mman.h>

#define JIT_BUF_SIZE (16u << 20)
#define JIT_BUF_MIN (64u << 10)

struct rem_jit {
    uint8_t *buf;
    size_t size, used;
    uint32_t resets;
};

/* A chainable exit, stored in the code buffer behind its translation. */
struct rem_jit_exit {
    uint8_t *jmp;         /* rel32 of the exit's jump: the unlinked stub, then the link */
    const uint8_t *exit;  /* the block's exit with RIP in rax */
    uint32_t n;           /* instructions of the block */
    uint8_t user;         /* the CPL-3 TLB half it was translated for */
    bool dynamic;         /* target known only at run time (RET) */
    bool same_page;       /* static target in the block's own guest page */
};

struct rem_jit *rem_jit_create(void)
{
    struct rem_jit *j = calloc(1, sizeof(*j));
    if (!j)
        return NULL;
    /* CAPSULE_REM_JIT_BUF_KB: a smaller buffer, for tests of the full-buffer path */
    const char *kb = getenv("CAPSULE_REM_JIT_BUF_KB");
    size_t size = kb && *kb ? (size_t)strtoul(kb, NULL, 10) << 10 : JIT_BUF_SIZE;
    if (size < JIT_BUF_MIN || size > JIT_BUF_SIZE)
        size = JIT_BUF_SIZE;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) { /* W+X refused (hardened host): interpreter only */
        free(j);
        return NULL;
    }
    j->buf = p;
    j->size = size;
    return j;
}

void rem_jit_destroy(struct rem_jit *j)
{
    if (!j)
        return;
    munmap(j->buf, j->size);
    free(j);
}

void rem_jit_reset(struct rem_jit *j)
{
    if (j) {
        j->used = 0;
        j->resets++;
    }
}

uint32_t rem_jit_resets(const struct rem_jit *j)
{
    return j ? j->resets : 0;
}

size_t rem_jit_used(const struct rem_jit *j)
{
    return j ? j->used : 0;
}

size_t rem_jit_size(const struct rem_jit *j)
{
    return j ? j->size : 0;
}

void jit_fixup(struct tr *t, uint8_t *at, unsigned kind, unsigned insn)
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
void jit_to_handler(struct tr *t, unsigned cc, unsigned i)
{
    jit_fixup(t, cc < 16 ? xe_jcc(&t->e, cc) : xe_jmp(&t->e), FX_HANDLER, i);
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
        jit_fixup(t, xe_jcc(e, XC_NE), FX_EXIT, i + 1);
        xe_alu_load(e, 4, XA_CMP, XR_R15, vm(V_OFF(epoch)));
        jit_fixup(t, xe_jcc(e, XC_NE), FX_EXIT, i + 1);
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
void jit_emit_rem_cond(struct tr *t, unsigned cc)
{
    struct xe *e = &t->e;
    xe_mov_load(e, 8, XR_RDI, xm_reg(XR_RBX));
    xe_mov_imm(e, XR_RSI, cc);
    xe_call_abs(e, (const void *)(uintptr_t)rem_cond);
    xe_test(e, 1, xm_reg(XR_RAX), XR_RAX);
}

/* Leaves the block with RIP in rax by a chainable exit: a jump, at first to
 * the stub right behind it that records the exit in v->jit_exit (rem_block.c
 * then links it to the translation that runs next, rem_jit_link), once
 * linked to the link. toff: the target's offset from the entry RIP (static). */
static void emit_slot(struct tr *t, bool dynamic, int64_t toff)
{
    struct xe *e = &t->e;
    if (t->nslots == JIT_MAX_SLOTS) {
        xe_jmp_to(e, XC_ALWAYS, t->exit_rax);
        return;
    }
    uint8_t *jmp = xe_jmp(e);
    xe_patch(jmp, e->p);
    xe_b(e, 0x48); /* mov rcx, imm64: the record */
    xe_b(e, 0xb9);
    uint8_t *rec = e->p;
    xe_u64(e, 0);
    xe_mov_store(e, 8, vm(V_OFF(jit_exit)), XR_RCX);
    xe_jmp_to(e, XC_ALWAYS, t->exit_rax);
    int64_t at = (int64_t)t->page_off + toff;
    if (!e->full)
        t->slots[t->nslots++] = (struct slot){ jmp, rec, dynamic,
                                               !dynamic && at >= 0 && at < PGM_PAGE_SIZE };
}

/* rax = the target; loops when it is the block's start, else leaves. */

/* Leaves the chain for `target` when an interrupt window is requested and
 * the guest has IF set; with IF clear the outer loop could not take the
 * interrupt either, so the chain goes on (a guest spinning with IF=0 and
 * an interrupt pending runs at full speed; issue 19). RCX is scratch. */
static void emit_window_check(struct xe *e, const uint8_t *target)
{
    xe_alu_imm(e, 1, XA_CMP, vm(V_OFF(irq_window)), 0);
    uint8_t *none = xe_jcc(e, XC_E);
    xe_mov_imm(e, XR_RCX, FL_IF);
    xe_test(e, 4, xm_mem(XR_RBP, (int32_t)offsetof(struct cpum_ctx, rflags)), XR_RCX);
    xe_jmp_to(e, XC_NE, target);
    xe_patch(none, e->p);
}

static void emit_goto(struct tr *t, unsigned i, int64_t toff)
{
    struct xe *e = &t->e;
    xe_lea(e, XR_RAX, xm_mem(XR_R12, (int32_t)toff));
    jit_emit_canonical(t, i);
    if (toff == 0) {
        /* Another pass: the budget covers it and nothing rem_run_block
         * looks at between blocks is pending. */
        xe_alu_imm(e, 8, XA_CMP, xm_reg(XR_R13), (int32_t)(2 * t->n));
        xe_jmp_to(e, XC_B, t->exit_rax);
        xe_alu_imm(e, 4, XA_CMP, vm(V_OFF(kick)), 0);
        xe_jmp_to(e, XC_NE, t->exit_rax);
        emit_window_check(e, t->exit_rax);
        xe_mov_load(e, 8, XR_RCX, xm_mem(XR_RSP, 8));
        xe_mov_load(e, 4, XR_RCX, xm_mem(XR_RCX, 0));
        xe_alu_load(e, 4, XA_CMP, XR_RCX, xm_mem(XR_RSP, 0));
        xe_jmp_to(e, XC_NE, t->exit_rax);
        xe_alu_imm(e, 8, XA_SUB, xm_reg(XR_R13), (int32_t)t->n);
        xe_alu_imm(e, 8, XA_ADD, xm_reg(XR_R14), (int32_t)t->n);
        xe_jmp_to(e, XC_ALWAYS, t->label[0]);
        return;
    }
    emit_slot(t, false, toff);
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
        xe_mov_load(e, 8, XR_RAX, jit_emit_mem(t, i, &top, 8, REM_TLB_READ));
        jit_emit_canonical(t, i);
        xe_alu_imm(e, 8, XA_ADD, gpr(CPUM_RSP), (int32_t)(8 + imm));
        emit_slot(t, true, 0);
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
        jit_emit_canonical(t, i);
        struct dis_op top = { .kind = DIS_OP_MEM, .mem = { .seg = DIS_SEG_SS, .base = CPUM_RSP,
                              .index = DIS_REG_NONE, .scale = 1, .addr_size = 8, .disp = -8 } };
        struct xm m = jit_emit_mem(t, i, &top, 8, REM_TLB_WRITE); /* keeps rax */
        xe_lea(e, XR_RCX, xm_mem(XR_R12, (int32_t)next));
        xe_mov_store(e, 8, m, XR_RCX);
        xe_mov_store(e, 8, gpr(CPUM_RSP), XR_RSI);
        emit_slot(t, false, toff);
        return true;
    }
    if (in->cf != DIS_CF_JCC)
        return false;
    unsigned hc = jit_emit_cond(t, in->cond);
    uint8_t *taken = xe_jcc(e, hc);
    xe_lea(e, XR_RAX, xm_mem(XR_R12, (int32_t)next));
    emit_slot(t, false, next);
    xe_patch(taken, e->p);
    emit_goto(t, i, toff);
    return true;
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

/* The records of the block's chainable exits, behind its code. */
static void emit_records(struct tr *t)
{
    struct xe *e = &t->e;
    while (((uintptr_t)e->p & 7) && !e->full) /* a full window writes nothing */
        xe_b(e, 0xcc);
    for (unsigned k = 0; k < t->nslots && !e->full; k++) {
        struct rem_jit_exit x = { t->slots[k].jmp, t->exit_rax, t->n, (uint8_t)t->user,
                                  t->slots[k].dynamic, t->slots[k].same_page };
        uint8_t *at = e->p;
        xe_bytes(e, &x, sizeof(x));
        if (!e->full)
            memcpy(t->slots[k].rec, &at, 8);
    }
}

int rem_jit_translate(struct rem_jit *j, const struct rem_vcpu *v,
                      const struct rem_binsn *insn, unsigned n, unsigned page_off,
                      rem_jit_fn *out)
{
    if (!n || n > JIT_MAX_INSNS || v->code_bits != 64)
        return 1;
    struct tr *t = malloc(sizeof(*t));
    if (!t)
        return 1;
    memset(t, 0, offsetof(struct tr, fx));
    t->nfx = 0;
    t->overflow = false;
    t->e = (struct xe){ j->buf + j->used, j->buf + j->size, false };
    t->insn = insn;
    t->n = n;
    t->user = rem_user(v);
    t->page_off = page_off;
    t->cc_op = -1;
    t->live = -1;
    for (unsigned i = 0; i < n; i++)
        t->off[i + 1] = t->off[i] + insn[i].len;

    /* The address of the body (links jump there) in the 8 bytes before the entry. */
    uint8_t *header = t->e.p;
    xe_u64(&t->e, 0);
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
        t->clobber = false;
        const struct dis_insn *in = &insn[i].in;
        bool ok = in->cf == DIS_CF_NONE ? jit_tr_insn(t, i)
                                        : i + 1 == n && !(in->prefixes & DIS_PFX_LOCK) &&
                                              tr_branch(t, i, in);
        if (ok) {
            if (jit_keeps_flags(in) && !t->cold && !t->clobber)
                t->live = live;
            continue;
        }
        t->e = save; /* a form tr_insn gave up on halfway: drop what it emitted */
        t->nfx = nfx;
        emit_handler(t, i);
        if (!jit_keeps_flags(&insn[i].in)) {
            t->cc_op = -1;
            t->cc_sure = false;
        }
    }
    t->label[n] = t->e.p;
    if (!(insn[n - 1].in.cf != DIS_CF_NONE)) {
        /* fell off the end: RIP after the last instruction */
        xe_lea(&t->e, XR_RAX, xm_mem(XR_R12, (int32_t)t->off[n]));
        emit_slot(t, false, t->off[n]);
    }
    emit_cold(t, epilogue);
    emit_records(t);
    bool full = t->e.full || t->overflow;
    if (!full)
        memcpy(header, &t->label[0], 8);
    uint8_t *end = t->e.p;
    free(t);
    if (full)
        return -1;
    j->used = (size_t)(end - j->buf + 15) & ~(size_t)15;
    *out = (rem_jit_fn)(void *)entry;
    return 0;
}

/* ---- links between translations ------------------------------------------------- */

/* The link from exit x to translation b: the checks rem_run_block does
 * between two blocks, then on into b's body with the frame of the first
 * translation of the chain (r12..r14 moved on by the exiting block).
 *   - the target (dynamic exits: RIP in rax as linked, else a plain exit);
 *   - the budget covers both blocks; no kick, no interrupt window (TF and
 *     interrupt shadows only change by block-ending handler instructions,
 *     which leave by the unchained exit);
 *   - b is still the same translation (its block was not rebuilt or
 *     translated again: else back to the unlinked stub, linked anew), was
 *     checked in this check epoch and its page has had no write since;
 *   - b's page is where the exit's RIP maps (a software-TLB hit with a host
 *     pointer, as rem_run_block's lookup needs), unless it is a static exit
 *     into the exiting block's own page, which maps where the block's does.
 * A link stays until the buffer is reset; nothing of the guest's is
 * committed before the jump into b. */
bool rem_jit_link(struct rem_jit *j, struct rem_jit_exit *x, const struct rem_jit_target *b)
{
    struct xe ee = { j->buf + j->used, j->buf + j->size, false }, *e = &ee;
    uint8_t *stub = e->p, *relink = x->jmp + 4;
    const uint8_t *out = x->exit, *body;
    memcpy(&body, (const uint8_t *)(uintptr_t)b->fn - 8, 8);
    if (x->dynamic) {
        xe_mov_imm(e, XR_RCX, b->rip);
        xe_alu_load(e, 8, XA_CMP, XR_RAX, xm_reg(XR_RCX));
        xe_jmp_to(e, XC_NE, out);
    }
    xe_alu_imm(e, 8, XA_CMP, xm_reg(XR_R13), (int32_t)(x->n + b->n));
    xe_jmp_to(e, XC_B, out);
    xe_alu_imm(e, 4, XA_CMP, vm(V_OFF(kick)), 0);
    xe_jmp_to(e, XC_NE, out);
    emit_window_check(e, out);
    xe_mov_imm(e, XR_RCX, (uint64_t)(uintptr_t)b->slot);
    xe_mov_imm(e, XR_RDX, (uint64_t)(uintptr_t)b->fn);
    xe_alu_load(e, 8, XA_CMP, XR_RDX, xm_mem(XR_RCX, 0));
    xe_jmp_to(e, XC_NE, x->dynamic ? out : relink);
    xe_mov_imm(e, XR_RCX, (uint64_t)(uintptr_t)b->checked);
    xe_mov_load(e, 4, XR_RDX, xm_mem(XR_RCX, 0));
    xe_mov_load(e, 8, XR_RCX, xm_mem(XR_RSP, 8));
    xe_alu_load(e, 4, XA_CMP, XR_RDX, xm_mem(XR_RCX, 0));
    xe_jmp_to(e, XC_NE, out);
    xe_mov_imm(e, XR_RCX, (uint64_t)(uintptr_t)b->gen);
    xe_mov_load(e, 4, XR_RDX, xm_mem(XR_RCX, 0));
    xe_mov_imm(e, XR_RCX, (uint64_t)(uintptr_t)b->page_gen);
    xe_alu_load(e, 4, XA_CMP, XR_RDX, xm_mem(XR_RCX, 0));
    xe_jmp_to(e, XC_NE, out);
    if (x->dynamic || !x->same_page) {
        int32_t tlb = V_OFF(tlb) + (int32_t)((x->user * REM_TLB_KINDS + REM_TLB_EXEC) *
                                             REM_TLB_SIZE * sizeof(struct rem_tlb_entry));
        xe_mov_load(e, 8, XR_RCX, xm_reg(XR_RAX));
        xe_shift_imm(e, 8, XS_SHR, XR_RCX, 12);
        xe_load_zx(e, 1, XR_RCX, xm_reg(XR_RCX)); /* & (REM_TLB_SIZE - 1) */
        xe_shift_imm(e, 4, XS_SHL, XR_RCX, 5);
        xe_mov_load(e, 8, XR_RDX, xm_reg(XR_RAX));
        xe_alu_imm(e, 8, XA_AND, xm_reg(XR_RDX), -(int32_t)PGM_PAGE_SIZE);
        xe_alu_imm(e, 8, XA_OR, xm_reg(XR_RDX), 1);
        xe_alu_load(e, 8, XA_CMP, XR_RDX, xm_sib(XR_RBX, XR_RCX, 1, tlb));
        xe_jmp_to(e, XC_NE, out);
        xe_alu_imm(e, 8, XA_CMP, xm_sib(XR_RBX, XR_RCX, 1, tlb + 8), 0);
        xe_jmp_to(e, XC_E, out);
        xe_mov_imm(e, XR_RDX, b->gpa & ~(uint64_t)PGM_PAGE_MASK);
        xe_alu_load(e, 8, XA_CMP, XR_RDX, xm_sib(XR_RBX, XR_RCX, 1, tlb + 16));
        xe_jmp_to(e, XC_NE, out);
    }
    xe_alu_imm(e, 8, XA_SUB, xm_reg(XR_R13), (int32_t)x->n);
    xe_alu_imm(e, 8, XA_ADD, xm_reg(XR_R14), (int32_t)x->n);
    xe_mov_load(e, 8, XR_R12, xm_reg(XR_RAX));
    xe_jmp_to(e, XC_ALWAYS, body);
    if (e->full)
        return false; /* stays unlinked until the buffer is reset */
    j->used = (size_t)(e->p - j->buf + 15) & ~(size_t)15;
    xe_patch(x->jmp, stub);
    return true;
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

size_t rem_jit_used(const struct rem_jit *j)
{
    (void)j;
    return 0;
}

size_t rem_jit_size(const struct rem_jit *j)
{
    (void)j;
    return 0;
}

int rem_jit_translate(struct rem_jit *j, const struct rem_vcpu *v,
                      const struct rem_binsn *insn, unsigned n, unsigned page_off,
                      rem_jit_fn *out)
{
    (void)j, (void)v, (void)insn, (void)n, (void)page_off, (void)out;
    return 1;
}

uint32_t rem_jit_resets(const struct rem_jit *j)
{
    (void)j;
    return 0;
}

bool rem_jit_link(struct rem_jit *j, struct rem_jit_exit *x, const struct rem_jit_target *b)
{
    (void)j, (void)x, (void)b;
    return false;
}

#endif
