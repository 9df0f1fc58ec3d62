/*
 * rem_exec.c - fetch, decode (vmm/dis) and dispatch of one instruction, and
 * the general-purpose data-movement and control-flow instructions. The
 * other groups live in rem_exec_alu.c (arithmetic), rem_exec_str.c
 * (strings and port I/O), rem_exec_sys.c (system), rem_exec_fpu.c (x87)
 * and rem_exec_sse.c (SSE/SSE2).
 *
 * An instruction runs with ctx.rip still at its start and v->next_rip past
 * it; it commits by returning (ctx.rip = next_rip, or whatever a transfer
 * set with v->rip_set). A fault longjmps out before the commit, so RIP
 * points at the faulting instruction as the architecture requires.
 *
 * The decoded instruction is a plain struct on the stack: nothing is
 * allocated per instruction. rem_vcpu_run normally takes the block path
 * (rem_block.c), which keeps these structs in decoded blocks keyed by
 * physical address and calls rem_execute (or a handler of rem_fast.c)
 * directly; rem_exec_one serves single steps and what blocks do not take.
 */
#include "rem_ops.h"

bool rem_exec_alu(struct rem_vcpu *v, const struct dis_insn *in);

_Noreturn void rem_unimplemented(struct rem_vcpu *v)
{
    struct vmm_exit *x = v->exit;
    x->reason = VMM_EXIT_EMULATION_FAILURE;
    x->emul.suberror = 0;
    x->emul.rip = v->mode == REM_MODE_LONG ? v->insn_rip
                                          : (uint32_t)(v->ctx->seg[CPUM_CS].base + v->insn_rip);
    x->emul.insn_len = (uint8_t)rem_fetch(v, x->emul.rip, x->emul.insn, 15);
    rem_raise(v, REM_EXIT_NOW, REM_NO_ERR);
}

/* Branch target check: CS limit outside 64-bit mode, canonical inside. */
static void jump_to(struct rem_vcpu *v, uint64_t target)
{
    if (v->mode == REM_MODE_LONG) {
        if ((uint64_t)((int64_t)(target << 16) >> 16) != target)
            rem_gp0(v);
    } else if (target > v->ctx->seg[CPUM_CS].limit) {
        rem_gp0(v);
    }
    v->next_rip = target;
}

static uint64_t rel_target(struct rem_vcpu *v, const struct dis_insn *in)
{
    return dis_rel_target(in, v->insn_rip);
}

/* ---- stack instructions -------------------------------------------------------------- */

static void push_insn(struct rem_vcpu *v, const struct dis_insn *in)
{
    unsigned size = in->opsize;
    const struct dis_op *op = &in->op[0];
    uint64_t val;
    if (op->kind == DIS_OP_REG && op->reg_class == DIS_RC_SEG)
        val = v->ctx->seg[op->reg].sel;
    else if (op->kind == DIS_OP_IMM)
        val = op->imm;
    else
        val = op_get(v, op, size);
    rem_push(v, size, val);
}

static void pop_insn(struct rem_vcpu *v, const struct dis_insn *in)
{
    unsigned size = in->opsize;
    const struct dis_op *op = &in->op[0];
    uint64_t m = rem_mask(v->stack_bits), rsp = v->ctx->gpr[CPUM_RSP];
    uint64_t val = rem_rd(v, CPUM_SS, rsp & m, size);
    uint64_t nsp = (rsp & ~m) | ((rsp + size) & m);
    if (op->kind == DIS_OP_REG && op->reg_class == DIS_RC_SEG) {
        rem_load_sreg(v, op->reg, (uint16_t)val);
        v->ctx->gpr[CPUM_RSP] = nsp;
        if (op->reg == CPUM_SS) {
            v->shadow = 2;
            v->shadow_ss = true;
        }
        return;
    }
    if (op->kind == DIS_OP_MEM) {
        /* The address uses RSP after the pop, but a fault (#SS/#GP on the
         * address as much as #PF on the store) leaves RSP unchanged. */
        v->ctx->gpr[CPUM_RSP] = nsp;
        uint64_t off = ea_off(v, op);
        v->ctx->gpr[CPUM_RSP] = rsp;
        uint64_t la = rem_seg_la(v, op_seg(op), off, size, 1);
        rem_lin_write(v, la, &val, size, rem_user(v));
        v->ctx->gpr[CPUM_RSP] = nsp;
        return;
    }
    v->ctx->gpr[CPUM_RSP] = nsp;
    op_set(v, op, size, val);
}

static void pusha_popa(struct rem_vcpu *v, const struct dis_insn *in)
{
    unsigned size = in->opsize;
    uint64_t *g = v->ctx->gpr, m = rem_mask(v->stack_bits), sp = g[CPUM_RSP];
    if (v->mode == REM_MODE_LONG)
        rem_ud(v);
    if (in->mnem == DIS_pusha) {
        for (unsigned r = 0; r < 8; r++)
            rem_wr(v, CPUM_SS, (sp - (r + 1) * size) & m, size, g[r == CPUM_RSP ? CPUM_RSP : r]);
        g[CPUM_RSP] = (sp & ~m) | ((sp - 8 * size) & m);
        return;
    }
    uint64_t vals[8];
    for (unsigned r = 0; r < 8; r++)
        vals[7 - r] = rem_rd(v, CPUM_SS, (sp + r * size) & m, size);
    for (unsigned r = 0; r < 8; r++)
        if (r != CPUM_RSP)
            gpr_set(v, DIS_RC_GPR, r, size, vals[r]);
    g[CPUM_RSP] = (sp & ~m) | ((sp + 8 * size) & m);
}

static void enter_leave(struct rem_vcpu *v, const struct dis_insn *in)
{
    unsigned size = in->opsize;
    uint64_t *g = v->ctx->gpr, m = rem_mask(v->stack_bits);
    if (in->mnem == DIS_leave) {
        uint64_t sp = (g[CPUM_RSP] & ~m) | (g[CPUM_RBP] & m);
        uint64_t bp = rem_rd(v, CPUM_SS, sp & m, size);
        g[CPUM_RSP] = (sp & ~m) | ((sp + size) & m);
        gpr_set(v, DIS_RC_GPR, CPUM_RBP, size, bp);
        return;
    }
    unsigned alloc = (unsigned)in->op[0].imm & 0xffff, level = (unsigned)in->op[1].imm & 31;
    uint64_t sp = g[CPUM_RSP], bp = g[CPUM_RBP];
    sp -= size;
    rem_wr(v, CPUM_SS, sp & m, size, bp);
    uint64_t frame = sp;
    for (unsigned i = 1; i < level; i++) {
        bp -= size;
        uint64_t x = rem_rd(v, CPUM_SS, bp & m, size);
        sp -= size;
        rem_wr(v, CPUM_SS, sp & m, size, x);
    }
    if (level) {
        sp -= size;
        rem_wr(v, CPUM_SS, sp & m, size, frame);
    }
    sp -= alloc;
    /* The new stack top must be writable: hardware probes it as a write
     * (#PF error code W=1; found by tests/rem_diff). */
    (void)rem_lin_ptr(v, rem_seg_la(v, CPUM_SS, sp & m, 1, 1), 1, REM_TLB_WRITE, rem_user(v));
    gpr_set(v, DIS_RC_GPR, CPUM_RBP, size, frame);
    g[CPUM_RSP] = (g[CPUM_RSP] & ~m) | (sp & m);
}

/* ---- flags instructions ----------------------------------------------------------------- */

static void pushf_popf(struct rem_vcpu *v, const struct dis_insn *in)
{
    unsigned size = in->opsize;
    uint64_t fl = rem_get_rflags(v);
    unsigned iopl = (unsigned)(fl & FL_IOPL) >> 12;
    if (v->mode == REM_MODE_V86 && iopl < 3)
        rem_gp0(v);
    if (in->mnem == DIS_pushf) {
        rem_push(v, size, fl & ~(uint64_t)(FL_VM | FL_RF));
        return;
    }
    uint64_t nf = rem_pop(v, size);
    uint64_t mask = FL_ARITH | FL_TF | FL_DF | FL_NT | FL_AC | FL_ID;
    if (v->cpl == 0)
        mask |= FL_IOPL | FL_IF;
    else if (v->cpl <= iopl)
        mask |= FL_IF;
    if (size == 2)
        mask &= 0xffff;
    rem_set_rflags(v, (fl & ~mask) | (nf & mask));
}

static void cli_sti(struct rem_vcpu *v, const struct dis_insn *in)
{
    uint64_t fl = v->ctx->rflags;
    unsigned iopl = (unsigned)(fl & FL_IOPL) >> 12;
    if (v->mode != REM_MODE_REAL && v->cpl > iopl)
        rem_gp0(v);
    if (in->mnem == DIS_cli) {
        v->ctx->rflags &= ~(uint64_t)FL_IF;
    } else {
        if (!(fl & FL_IF))
            v->shadow = 2;
        v->ctx->rflags |= FL_IF;
    }
}

static void flag_insn(struct rem_vcpu *v, const struct dis_insn *in)
{
    switch (in->mnem) {
    case DIS_clc: rem_set_arith(v, FL_CF, 0); break;
    case DIS_stc: rem_set_arith(v, FL_CF, FL_CF); break;
    case DIS_cmc: rem_set_arith(v, FL_CF, rem_cond(v, 2) ? 0 : FL_CF); break;
    case DIS_cld: v->ctx->rflags &= ~(uint64_t)FL_DF; break;
    case DIS_std: v->ctx->rflags |= FL_DF; break;
    case DIS_lahf: {
        uint64_t f = rem_get_rflags(v);
        gpr_set(v, DIS_RC_GPR8H, CPUM_RAX, 1, (f & 0xd5) | 2);
        break;
    }
    default: /* sahf */
        rem_set_arith(v, FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF,
                      (uint32_t)(v->ctx->gpr[CPUM_RAX] >> 8) & 0xd5);
        break;
    }
}

/* ---- moves -------------------------------------------------------------------------------- */

static void movx(struct rem_vcpu *v, const struct dis_insn *in)
{
    unsigned ss = in->op[1].size ? in->op[1].size : 1;
    uint64_t x = op_get(v, &in->op[1], ss);
    if (in->mnem != DIS_movzx) {
        unsigned b = ss * 8;
        x = (uint64_t)((int64_t)(x << (64 - b)) >> (64 - b));
    }
    op_set(v, &in->op[0], in->opsize, x & rem_mask(in->opsize * 8));
}

static void load_far_ptr(struct rem_vcpu *v, const struct dis_insn *in)
{
    unsigned size = in->opsize, seg;
    switch (in->mnem) {
    case DIS_les: seg = CPUM_ES; break;
    case DIS_lds: seg = CPUM_DS; break;
    case DIS_lss: seg = CPUM_SS; break;
    case DIS_lfs: seg = CPUM_FS; break;
    default: seg = CPUM_GS; break;
    }
    const struct dis_op *op = &in->op[1];
    if (op->kind != DIS_OP_MEM)
        rem_ud(v);
    uint64_t off = ea_off(v, op);
    uint64_t ptr = rem_rd(v, op_seg(op), off, size);
    uint16_t sel = (uint16_t)rem_rd(v, op_seg(op), (off + size) & rem_mask(op->mem.addr_size * 8), 2);
    rem_load_sreg(v, seg, sel);
    op_set(v, &in->op[0], size, ptr);
    if (seg == CPUM_SS)
        v->shadow = 2;
}

static void movseg(struct rem_vcpu *v, const struct dis_insn *in)
{
    const struct dis_op *d = &in->op[0], *s = &in->op[1];
    if (d->kind == DIS_OP_REG && d->reg_class == DIS_RC_SEG) {
        if (d->reg == CPUM_CS)
            rem_ud(v);
        rem_load_sreg(v, d->reg, (uint16_t)op_get(v, s, 2));
        if (d->reg == CPUM_SS) {
            v->shadow = 2;
            v->shadow_ss = true;
        }
        return;
    }
    uint16_t sel = v->ctx->seg[s->reg].sel;
    if (d->kind == DIS_OP_MEM)
        op_set(v, d, 2, sel);
    else
        op_set(v, d, in->opsize, sel); /* register: zero-extended */
}

/* ---- control flow --------------------------------------------------------------------------- */

static void far_operand(struct rem_vcpu *v, const struct dis_insn *in, uint16_t *sel,
                        uint64_t *off, unsigned *osz)
{
    const struct dis_op *op = &in->op[0];
    *osz = in->opsize;
    if (op->kind == DIS_OP_FAR) {
        *sel = op->sel;
        *off = op->imm;
        return;
    }
    if (op->kind != DIS_OP_MEM)
        rem_ud(v);
    uint64_t a = ea_off(v, op);
    *off = rem_rd(v, op_seg(op), a, *osz);
    *sel = (uint16_t)rem_rd(v, op_seg(op), (a + *osz) & rem_mask(op->mem.addr_size * 8), 2);
}

static void control(struct rem_vcpu *v, const struct dis_insn *in)
{
    uint64_t *g = v->ctx->gpr;
    unsigned size = in->opsize;
    switch (in->mnem) {
    case DIS_jmp:
        jump_to(v, in->op[0].kind == DIS_OP_REL ? rel_target(v, in) : op_get(v, &in->op[0], size));
        break;
    case DIS_call: {
        uint64_t t = in->op[0].kind == DIS_OP_REL ? rel_target(v, in) : op_get(v, &in->op[0], size);
        uint64_t ret = v->next_rip;
        jump_to(v, t);
        rem_push(v, size, ret);
        break;
    }
    case DIS_ret: {
        uint64_t m = rem_mask(v->stack_bits), sp = g[CPUM_RSP];
        uint64_t t = rem_rd(v, CPUM_SS, sp & m, size);
        unsigned imm = in->nops ? (unsigned)in->op[0].imm & 0xffff : 0;
        jump_to(v, t);
        g[CPUM_RSP] = (sp & ~m) | ((sp + size + imm) & m);
        break;
    }
    case DIS_loop: case DIS_loope: case DIS_loopne: case DIS_jcxz: {
        uint64_t am = rem_mask(in->addrsize * 8), c = g[CPUM_RCX] & am;
        bool take;
        if (in->mnem == DIS_jcxz) {
            take = c == 0;
        } else {
            c = (c - 1) & am;
            take = c != 0;
            if (in->mnem == DIS_loope)
                take = take && rem_cond(v, 4);
            else if (in->mnem == DIS_loopne)
                take = take && !rem_cond(v, 4);
        }
        uint64_t t = rel_target(v, in);
        if (take)
            jump_to(v, t);
        if (in->mnem != DIS_jcxz)
            g[CPUM_RCX] = (g[CPUM_RCX] & ~am) | c;
        break;
    }
    case DIS_jmpf: case DIS_callf: {
        uint16_t sel;
        uint64_t off;
        unsigned osz;
        far_operand(v, in, &sel, &off, &osz);
        if (in->mnem == DIS_jmpf)
            rem_far_jmp(v, sel, off, osz);
        else
            rem_far_call(v, sel, off, osz);
        v->rip_set = true;
        break;
    }
    case DIS_retf:
        rem_far_ret(v, size, in->nops ? (uint16_t)in->op[0].imm : 0);
        v->rip_set = true;
        break;
    case DIS_iret:
        rem_iret(v, size);
        v->rip_set = true;
        break;
    case DIS_int3:
        rem_deliver(v, X86_BP, REM_NO_ERR, REM_INT_SOFT);
        v->rip_set = true;
        break;
    case DIS_int:
        rem_deliver(v, (unsigned)in->op[0].imm & 0xff, REM_NO_ERR, REM_INT_SOFT);
        v->rip_set = true;
        break;
    case DIS_into:
        if (v->mode == REM_MODE_LONG)
            rem_ud(v);
        if (rem_cond(v, 0)) {
            rem_deliver(v, X86_OF, REM_NO_ERR, REM_INT_SOFT);
            v->rip_set = true;
        }
        break;
    case DIS_int1:
        rem_deliver(v, X86_DB, REM_NO_ERR, REM_INT_ICEBP);
        v->rip_set = true;
        break;
    }
}

/* ---- the rest of the general-purpose set ------------------------------------------------------ */

bool rem_exec_general(struct rem_vcpu *v, const struct dis_insn *in)
{
    uint64_t *g = v->ctx->gpr;
    unsigned size = in->opsize;
    unsigned mn = in->mnem;
    if (mn >= DIS_jo && mn <= DIS_jg) {
        if (rem_cond(v, in->cond))
            jump_to(v, rel_target(v, in));
        return true;
    }
    if (mn >= DIS_seto && mn <= DIS_setg) {
        op_set(v, &in->op[0], 1, rem_cond(v, in->cond));
        return true;
    }
    if (mn >= DIS_cmovo && mn <= DIS_cmovg) {
        uint64_t s = op_get(v, &in->op[1], size);
        if (rem_cond(v, in->cond))
            op_set(v, &in->op[0], size, s);
        else if (size == 4)
            op_set(v, &in->op[0], 4, op_get(v, &in->op[0], 4)); /* zero-extends */
        return true;
    }
    switch (mn) {
    case DIS_mov: case DIS_movabs:
        op_set(v, &in->op[0], size, op_get(v, &in->op[1], size));
        return true;
    case DIS_movzx: case DIS_movsx: case DIS_movsxd:
        movx(v, in);
        return true;
    case DIS_lea:
        if (in->op[1].kind != DIS_OP_MEM)
            rem_ud(v);
        op_set(v, &in->op[0], size, ea_off(v, &in->op[1]));
        return true;
    case DIS_movseg:
        movseg(v, in);
        return true;
    case DIS_bswap: {
        uint64_t x = op_get(v, &in->op[0], size);
        x = size == 8 ? __builtin_bswap64(x) : size == 4 ? __builtin_bswap32((uint32_t)x) : 0;
        op_set(v, &in->op[0], size, x);
        return true;
    }
    case DIS_xlat: {
        uint64_t am = rem_mask(in->addrsize * 8);
        unsigned seg = in->seg_override == DIS_SEG_NONE ? CPUM_DS : in->seg_override;
        uint64_t x = rem_rd(v, seg, (g[CPUM_RBX] + (g[CPUM_RAX] & 0xff)) & am, 1);
        gpr_set(v, DIS_RC_GPR, CPUM_RAX, 1, x);
        return true;
    }
    case DIS_cbw: {
        unsigned b = size * 4;
        uint64_t x = (uint64_t)((int64_t)(g[CPUM_RAX] << (64 - b)) >> (64 - b));
        gpr_set(v, DIS_RC_GPR, CPUM_RAX, size, x);
        return true;
    }
    case DIS_cwd: {
        unsigned b = size * 8;
        bool neg = (g[CPUM_RAX] >> (b - 1)) & 1;
        gpr_set(v, DIS_RC_GPR, CPUM_RDX, size, neg ? ~0ull : 0);
        return true;
    }
    case DIS_push: push_insn(v, in); return true;
    case DIS_pop: pop_insn(v, in); return true;
    case DIS_pusha: case DIS_popa: pusha_popa(v, in); return true;
    case DIS_enter: case DIS_leave: enter_leave(v, in); return true;
    case DIS_pushf: case DIS_popf: pushf_popf(v, in); return true;
    case DIS_cli: case DIS_sti: cli_sti(v, in); return true;
    case DIS_clc: case DIS_stc: case DIS_cmc: case DIS_cld: case DIS_std: case DIS_lahf:
    case DIS_sahf:
        flag_insn(v, in);
        return true;
    case DIS_les: case DIS_lds: case DIS_lss: case DIS_lfs: case DIS_lgs:
        load_far_ptr(v, in);
        return true;
    case DIS_bound: {
        uint64_t idx = op_get(v, &in->op[0], size), a = ea_off(v, &in->op[1]);
        unsigned sg = op_seg(&in->op[1]), b = size * 8;
        int64_t lo = (int64_t)(rem_rd(v, sg, a, size) << (64 - b)) >> (64 - b);
        int64_t hi = (int64_t)(rem_rd(v, sg, a + size, size) << (64 - b)) >> (64 - b);
        int64_t i = (int64_t)(idx << (64 - b)) >> (64 - b);
        if (i < lo || i > hi)
            rem_raise(v, X86_BR, REM_NO_ERR);
        return true;
    }
    case DIS_nop: case DIS_pause: case DIS_prefetch: case DIS_prefetchw: case DIS_prefetchnta:
    case DIS_prefetcht0: case DIS_prefetcht1: case DIS_prefetcht2: case DIS_lfence:
    case DIS_mfence: case DIS_sfence: case DIS_endbr32: case DIS_endbr64:
    case DIS_rdsspd: case DIS_rdsspq: /* shadow stacks off (no CR4.CET): a NOP, as on hardware */
        /* 66/F2/F3 0F AE /5../7 with a register operand are other (absent)
         * instructions, not fences: #UD, as on the CPU (tests/rem_diff). */
        if ((mn == DIS_lfence || mn == DIS_mfence || mn == DIS_sfence) &&
            (in->prefixes & (DIS_PFX_OPSIZE | DIS_PFX_REP | DIS_PFX_REPNE)))
            rem_ud(v);
        if (mn == DIS_mfence)
            __atomic_thread_fence(__ATOMIC_SEQ_CST);
        return true;
    case DIS_clflush:
        if (in->op[0].kind == DIS_OP_MEM)
            (void)rem_rd(v, op_seg(&in->op[0]), ea_off(v, &in->op[0]), 1);
        return true;
    case DIS_jmp: case DIS_call: case DIS_ret: case DIS_loop: case DIS_loope: case DIS_loopne:
    case DIS_jcxz: case DIS_jmpf: case DIS_callf: case DIS_retf: case DIS_iret: case DIS_int3:
    case DIS_int: case DIS_into: case DIS_int1:
        control(v, in);
        return true;
    case DIS_ud0: case DIS_ud1: case DIS_ud2:
        rem_ud(v);
    default:
        return false;
    }
}

/* ---- fetch, decode, dispatch --------------------------------------------------------------------- */

void rem_execute(struct rem_vcpu *v, const struct dis_insn *in)
{
    if ((in->attr & DIS_A_PRIV) && v->cpl != 0) {
        if (rem_priv_ud(v, in))
            rem_ud(v);
        rem_gp0(v);
    }
    if (rem_exec_general(v, in) || rem_exec_alu(v, in) || rem_exec_str(v, in) ||
        rem_exec_sys(v, in) || rem_exec_fpu(v, in) || rem_exec_sse(v, in) ||
        rem_exec_feat(v, in))
        return;
    /* Not executed by rem, so not in the CPUID policy (rem_exec_feat.c):
     * what a CPU without the feature does. */
    rem_ud(v);
}

void rem_exec_one(struct rem_vcpu *v)
{
    struct cpum_ctx *c = v->ctx;
    uint64_t rip = c->rip;
    v->insn_rip = rip;
    v->rip_set = false;
    uint64_t la;
    unsigned avail;
    if (v->mode == REM_MODE_LONG) {
        la = rip;
        avail = 15;
    } else {
        if (rip > c->seg[CPUM_CS].limit)
            rem_gp0(v);
        la = (uint32_t)(c->seg[CPUM_CS].base + rip);
        uint64_t left = (uint64_t)c->seg[CPUM_CS].limit - rip + 1;
        avail = left < 15 ? (unsigned)left : 15;
    }
    /* Fast path: the page is in the execute TLB with a host pointer, the
     * next 16 bytes are inside it, and the cached decode's bytes match. */
    struct rem_tlb_entry *t = &v->tlb[rem_user(v)][REM_TLB_EXEC][(la >> 12) & (REM_TLB_SIZE - 1)];
    struct rem_icache_entry *e = &v->icache[(la ^ (la >> 12)) & (REM_ICACHE_SIZE - 1)];
    const struct dis_insn *ip;
    int len;
    if (t->tag == ((la & ~PGM_PAGE_MASK) | 1) && t->addend && (la & PGM_PAGE_MASK) <= 4096 - 16 &&
        e->la == la && e->bits == v->code_bits && e->len <= avail) {
        uint64_t w0, w1;
        const uint8_t *p = (const uint8_t *)(uintptr_t)(la + t->addend);
        memcpy(&w0, p, 8);
        memcpy(&w1, p + 8, 8);
        if ((((w0 ^ e->w[0]) & e->m[0]) | ((w1 ^ e->w[1]) & e->m[1])) == 0) {
            ip = &e->in;
            len = e->len;
            goto decoded;
        }
    }
    uint8_t buf[16];
    unsigned n = rem_fetch(v, la, buf, avail);
    /* Decoded-instruction cache: the bytes are compared every time, so
     * self-modifying code and remapped pages need no invalidation. */
    if (e->la == la && e->bits == v->code_bits && e->len <= n &&
        memcmp(e->bytes, buf, e->len) == 0) {
        ip = &e->in;
        len = e->len;
    } else {
        /* The entry describes no instruction until this decode completes:
         * the decode overwrites e->in, and fetching the rest of an
         * instruction that crosses into the next page may fault (#PF) and
         * leave from here, which must not leave the old address paired
         * with another instruction's half-done decode. */
        e->la = ~0ull;
        len = dis_decode(buf, n, (enum dis_mode)v->code_bits, &e->in);
        if (len == DIS_ERR_MORE && n < avail) {
            uint64_t la2 = v->mode == REM_MODE_LONG ? la + n : (uint32_t)(la + n);
            rem_fetch_more(v, la2, buf + n, avail - n);
            len = dis_decode(buf, avail, (enum dis_mode)v->code_bits, &e->in);
        }
        e->la = len > 0 ? la : ~0ull;
        e->bits = (uint8_t)v->code_bits;
        e->len = len > 0 ? (uint8_t)len : 0xff;
        if (len > 0) {
            uint8_t wb[16] = { 0 }, mb[16] = { 0 };
            memcpy(e->bytes, buf, (size_t)len);
            memcpy(wb, buf, (size_t)len);
            memset(mb, 0xff, (size_t)len);
            memcpy(e->w, wb, 16);
            memcpy(e->m, mb, 16);
        }
        ip = &e->in;
    }
decoded:
    if (len == DIS_ERR_TOOLONG || (len == DIS_ERR_MORE && avail < 15))
        rem_gp0(v);
    if (len < 0)
        rem_ud(v);
    if ((ip->attr & DIS_A_LENGTH_ONLY) || (ip->prefixes & (DIS_PFX_VEX | DIS_PFX_EVEX | DIS_PFX_XOP)))
        rem_ud(v); /* EVEX, XOP, 3DNow!, VEX forms rem does not run: not in the CPUID policy */
    if (ip->prefixes & (DIS_PFX_LOCK)) {
        if (!(ip->attr & DIS_A_LOCKABLE) || ip->op[0].kind != DIS_OP_MEM)
            rem_ud(v);
    }
    v->next_rip = (rip + (unsigned)len) & rem_mask(v->code_bits);
    rem_execute(v, ip);
    if (!v->rip_set)
        c->rip = v->next_rip;
}
