/*
 * vmm/rem/rem_ops.h - operand access for the instruction files: registers
 * by the decoder's numbering (which is CPUM's), effective addresses,
 * memory operands through the segment and TLB layers, and read-modify-write
 * of memory with LOCK done as an atomic compare-and-swap on guest RAM.
 */
#ifndef VMM_REM_OPS_H
#define VMM_REM_OPS_H

#include "dis/dis.h"
#include "rem_internal.h"

static inline uint64_t gpr_get(struct rem_vcpu *v, unsigned cls, unsigned reg, unsigned size)
{
    uint64_t *g = v->ctx->gpr;
    if (cls == DIS_RC_GPR8H)
        return (g[reg] >> 8) & 0xff;
    return g[reg] & rem_mask(size * 8);
}

static inline void gpr_set(struct rem_vcpu *v, unsigned cls, unsigned reg, unsigned size,
                           uint64_t val)
{
    uint64_t *g = v->ctx->gpr;
    switch (size) {
    case 1:
        if (cls == DIS_RC_GPR8H)
            g[reg] = (g[reg] & ~0xff00ull) | ((val & 0xff) << 8);
        else
            g[reg] = (g[reg] & ~0xffull) | (val & 0xff);
        break;
    case 2: g[reg] = (g[reg] & ~0xffffull) | (val & 0xffff); break;
    case 4: g[reg] = (uint32_t)val; break;
    default: g[reg] = val; break;
    }
}

static inline uint64_t ea_off(struct rem_vcpu *v, const struct dis_op *op)
{
    uint64_t a = (uint64_t)op->mem.disp;
    if (op->mem.base == DIS_REG_RIP)
        a += v->next_rip;
    else if (op->mem.base != DIS_REG_NONE)
        a += v->ctx->gpr[op->mem.base];
    if (op->mem.index != DIS_REG_NONE)
        a += v->ctx->gpr[op->mem.index] * op->mem.scale;
    return a & rem_mask(op->mem.addr_size * 8);
}

static inline unsigned op_seg(const struct dis_op *op)
{
    return op->mem.seg == DIS_SEG_NONE ? CPUM_DS : op->mem.seg;
}

/* Reads a GPR, memory or immediate operand of `size` bytes (<= 8). */
static inline uint64_t op_get(struct rem_vcpu *v, const struct dis_op *op, unsigned size)
{
    switch (op->kind) {
    case DIS_OP_REG:
        if (op->reg_class == DIS_RC_SEG)
            return v->ctx->seg[op->reg].sel;
        return gpr_get(v, op->reg_class, op->reg, size);
    case DIS_OP_MEM: return rem_rd(v, op_seg(op), ea_off(v, op), size);
    default: return op->imm & rem_mask(size * 8);
    }
}

static inline void op_set(struct rem_vcpu *v, const struct dis_op *op, unsigned size,
                          uint64_t val)
{
    if (op->kind == DIS_OP_REG)
        gpr_set(v, op->reg_class, op->reg, size, val);
    else
        rem_wr(v, op_seg(op), ea_off(v, op), size, val);
}

/* ---- read-modify-write on memory ------------------------------------------ */

struct rem_mref {
    uint64_t la;
    void *p;     /* host pointer (RAM, inside one page) or NULL */
    unsigned size;
    bool lock;
};

static inline void mref_rmw(struct rem_vcpu *v, const struct dis_insn *in, const struct dis_op *op,
                            unsigned size, struct rem_mref *m)
{
    m->la = rem_seg_la(v, op_seg(op), ea_off(v, op), size, 2);
    m->size = size;
    m->p = rem_lin_ptr(v, m->la, size, REM_TLB_WRITE, rem_user(v));
    m->lock = (in->prefixes & DIS_PFX_LOCK) != 0;
    if (!m->p) { /* slow path: make sure both pages are writable first */
        uint8_t tmp[16];
        /* probed as writes, so a fault has W=1 as on hardware (tests/rem_diff) */
        (void)rem_lin_ptr(v, m->la, 1, REM_TLB_WRITE, rem_user(v));
        (void)rem_lin_ptr(v, (m->la + size - 1) & ~(uint64_t)PGM_PAGE_MASK, 1, REM_TLB_WRITE,
                          rem_user(v)); /* CR2 = first byte on the second page */
        rem_lin_read(v, m->la, tmp, size, rem_user(v));
        rem_lin_write(v, m->la, tmp, size, rem_user(v));
    }
}

static inline uint64_t mref_load(struct rem_vcpu *v, const struct rem_mref *m)
{
    uint64_t x = 0;
    if (m->p) {
        switch (m->size) {
        case 1: return __atomic_load_n((uint8_t *)m->p, __ATOMIC_RELAXED);
        case 2: memcpy(&x, m->p, 2); return x;
        case 4: memcpy(&x, m->p, 4); return x;
        default: memcpy(&x, m->p, 8); return x;
        }
    }
    rem_lin_read(v, m->la, &x, m->size, rem_user(v));
    return x;
}

/* Stores `nv` if memory still holds `old` (LOCK on RAM); false: retry. */
static inline bool mref_store(struct rem_vcpu *v, const struct rem_mref *m, uint64_t old,
                              uint64_t nv)
{
    if (m->p && m->lock && (((uintptr_t)m->p & (m->size - 1)) == 0)) {
        switch (m->size) {
        case 1: {
            uint8_t o = (uint8_t)old;
            return __atomic_compare_exchange_n((uint8_t *)m->p, &o, (uint8_t)nv, false,
                                               __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
        }
        case 2: {
            uint16_t o = (uint16_t)old;
            return __atomic_compare_exchange_n((uint16_t *)m->p, &o, (uint16_t)nv, false,
                                               __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
        }
        case 4: {
            uint32_t o = (uint32_t)old;
            return __atomic_compare_exchange_n((uint32_t *)m->p, &o, (uint32_t)nv, false,
                                               __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
        }
        default: {
            uint64_t o = old;
            return __atomic_compare_exchange_n((uint64_t *)m->p, &o, nv, false,
                                               __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
        }
        }
    }
    if (m->p)
        memcpy(m->p, &nv, m->size);
    else
        rem_lin_write(v, m->la, &nv, m->size, rem_user(v));
    return true;
}

/* ---- instruction-file entry points ------------------------------------------ */

/* Each returns false when it does not handle the mnemonic. */
bool rem_exec_general(struct rem_vcpu *v, const struct dis_insn *in);
bool rem_exec_alu(struct rem_vcpu *v, const struct dis_insn *in);
bool rem_exec_str(struct rem_vcpu *v, const struct dis_insn *in);
bool rem_exec_sys(struct rem_vcpu *v, const struct dis_insn *in);
bool rem_exec_fpu(struct rem_vcpu *v, const struct dis_insn *in);
bool rem_exec_sse(struct rem_vcpu *v, const struct dis_insn *in);
/* rem_exec_feat.c: instructions of optional CPUID features. */
bool rem_exec_feat(struct rem_vcpu *v, const struct dis_insn *in);
/* A privileged instruction that is #UD before its CPL check: absent from
 * the policy (not executed by rem), or #UD at CPL>0 / in this mode by
 * definition (STAC/CLAC, SWAPGS outside 64-bit mode). */
bool rem_priv_ud(const struct rem_vcpu *v, const struct dis_insn *in);

/* #NM / #UD checks shared by x87 and SSE. */
void rem_fpu_check(struct rem_vcpu *v);
void rem_sse_check(struct rem_vcpu *v);

#endif /* VMM_REM_OPS_H */
