/*
 * vmm/rem/rem_x86emit.h - a small x86-64 instruction encoder for the block
 * translator (rem_jit.c). Host x86-64 only; written for this project.
 *
 * Code goes into a struct xe window [p, end); an emit that does not fit
 * sets `full` and writes nothing more, so the translator checks once at the
 * end of a block. Operands: host registers by number (XR_*), and r/m
 * operands (struct xm) that are a register or [base + index*scale + disp32].
 * Sizes are in bytes (1, 2, 4, 8); byte forms of SPL/BPL/SIL/DIL get a REX.
 * Only what the translator needs is here: MOV/MOVZX/MOVSX/MOVSXD/LEA, the
 * eight ALU ops, TEST, shifts by an immediate, INC/DEC, IMUL, Jcc/JMP rel32
 * with patching, indirect CALL, PUSH/POP of a register, PUSHFQ, RET, SETcc.
 */
#ifndef VMM_REM_X86EMIT_H
#define VMM_REM_X86EMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

enum {
    XR_RAX, XR_RCX, XR_RDX, XR_RBX, XR_RSP, XR_RBP, XR_RSI, XR_RDI,
    XR_R8, XR_R9, XR_R10, XR_R11, XR_R12, XR_R13, XR_R14, XR_R15,
};
#define XR_NONE (-1)

/* ALU operations, numbered as the /r field of opcodes 80-83. */
enum { XA_ADD, XA_OR, XA_ADC, XA_SBB, XA_AND, XA_SUB, XA_XOR, XA_CMP };
/* Shift operations, the /r field of C0/C1. */
enum { XS_SHL = 4, XS_SHR = 5, XS_SAR = 7 };

struct xe {
    uint8_t *p, *end;
    bool full;
};

struct xm {
    bool is_reg;
    int8_t reg;          /* is_reg */
    int8_t base, index;  /* XR_NONE: absent (no base means disp32 absolute) */
    uint8_t scale;       /* 1, 2, 4, 8 */
    int32_t disp;
};

static inline struct xm xm_reg(int r)
{
    return (struct xm){ .is_reg = true, .reg = (int8_t)r, .base = XR_NONE, .index = XR_NONE };
}

static inline struct xm xm_mem(int base, int32_t disp)
{
    return (struct xm){ .reg = XR_NONE, .base = (int8_t)base, .index = XR_NONE, .scale = 1,
                        .disp = disp };
}

static inline struct xm xm_sib(int base, int index, unsigned scale, int32_t disp)
{
    return (struct xm){ .reg = XR_NONE, .base = (int8_t)base, .index = (int8_t)index,
                        .scale = (uint8_t)scale, .disp = disp };
}

static inline void xe_bytes(struct xe *e, const void *b, size_t n)
{
    if (e->full || (size_t)(e->end - e->p) < n) {
        e->full = true;
        return;
    }
    memcpy(e->p, b, n);
    e->p += n;
}

static inline void xe_b(struct xe *e, uint8_t b)
{
    xe_bytes(e, &b, 1);
}

static inline void xe_u32(struct xe *e, uint32_t x)
{
    xe_bytes(e, &x, 4);
}

static inline void xe_u64(struct xe *e, uint64_t x)
{
    xe_bytes(e, &x, 8);
}

static inline bool xe_fits8(int64_t x)
{
    return x >= -128 && x <= 127;
}

static inline bool xe_fits32(int64_t x)
{
    return x >= INT32_MIN && x <= INT32_MAX;
}

/* ModRM (+ SIB + displacement) for `reg` and the r/m operand. */
static void xe_modrm(struct xe *e, unsigned reg, struct xm m)
{
    reg &= 7;
    if (m.is_reg) {
        xe_b(e, (uint8_t)(0xc0 | reg << 3 | (m.reg & 7)));
        return;
    }
    if (m.base == XR_NONE) { /* [index*scale + disp32] or [disp32] via SIB */
        unsigned ss = m.scale == 8 ? 3 : m.scale == 4 ? 2 : m.scale == 2 ? 1 : 0;
        unsigned idx = m.index == XR_NONE ? 4 : (unsigned)m.index & 7;
        xe_b(e, (uint8_t)(reg << 3 | 4));
        xe_b(e, (uint8_t)(ss << 6 | idx << 3 | 5));
        xe_u32(e, (uint32_t)m.disp);
        return;
    }
    unsigned mod = (m.disp == 0 && (m.base & 7) != XR_RBP) ? 0 : xe_fits8(m.disp) ? 1 : 2;
    if (m.index != XR_NONE || (m.base & 7) == XR_RSP) {
        unsigned ss = m.scale == 8 ? 3 : m.scale == 4 ? 2 : m.scale == 2 ? 1 : 0;
        unsigned idx = m.index == XR_NONE ? 4 : (unsigned)m.index & 7;
        xe_b(e, (uint8_t)(mod << 6 | reg << 3 | 4));
        xe_b(e, (uint8_t)(ss << 6 | idx << 3 | (m.base & 7)));
    } else {
        xe_b(e, (uint8_t)(mod << 6 | reg << 3 | (m.base & 7)));
    }
    if (mod == 1)
        xe_b(e, (uint8_t)m.disp);
    else if (mod == 2)
        xe_u32(e, (uint32_t)m.disp);
}

/* Operand-size prefix, REX and opcode, then ModRM. `bytes` says which
 * fields name byte registers (XB_REG: the reg field, XB_RM: a register r/m):
 * REX is forced for SPL..DIL (numbers 4..7) there. */
#define XB_REG 1u
#define XB_RM 2u
static void xe_op(struct xe *e, unsigned size, const uint8_t *op, unsigned oplen, unsigned reg,
                  struct xm m, unsigned bytes)
{
    if (size == 2)
        xe_b(e, 0x66);
    unsigned rex = 0x40;
    if (size == 8)
        rex |= 8;
    if (reg & 8)
        rex |= 4;
    if (m.is_reg) {
        if (m.reg & 8)
            rex |= 1;
    } else {
        if (m.index != XR_NONE && (m.index & 8))
            rex |= 2;
        if (m.base != XR_NONE && (m.base & 8))
            rex |= 1;
    }
    bool force = ((bytes & XB_REG) && reg >= 4 && reg < 8) ||
                 ((bytes & XB_RM) && m.is_reg && m.reg >= 4 && m.reg < 8);
    if (rex != 0x40 || force)
        xe_b(e, (uint8_t)rex);
    xe_bytes(e, op, oplen);
    xe_modrm(e, reg, m);
}

/* mov reg, r/m (load) and mov r/m, reg (store), at `size`. */
static inline void xe_mov_load(struct xe *e, unsigned size, int reg, struct xm m)
{
    uint8_t op = size == 1 ? 0x8a : 0x8b;
    xe_op(e, size, &op, 1, (unsigned)reg, m, size == 1 ? XB_REG | XB_RM : 0);
}

static inline void xe_mov_store(struct xe *e, unsigned size, struct xm m, int reg)
{
    uint8_t op = size == 1 ? 0x88 : 0x89;
    xe_op(e, size, &op, 1, (unsigned)reg, m, size == 1 ? XB_REG | XB_RM : 0);
}

/* Zero-extending load of a 1/2/4/8-byte r/m into a full register. */
static inline void xe_load_zx(struct xe *e, unsigned size, int reg, struct xm m)
{
    static const uint8_t zb[2] = { 0x0f, 0xb6 }, zw[2] = { 0x0f, 0xb7 };
    if (size == 1)
        xe_op(e, 4, zb, 2, (unsigned)reg, m, XB_RM);
    else if (size == 2)
        xe_op(e, 4, zw, 2, (unsigned)reg, m, 0);
    else
        xe_mov_load(e, size, reg, m);
}

/* Sign-extending load of a 1/2/4-byte r/m into a 64-bit register. */
static inline void xe_load_sx64(struct xe *e, unsigned size, int reg, struct xm m)
{
    static const uint8_t sb[2] = { 0x0f, 0xbe }, sw[2] = { 0x0f, 0xbf }, sd[1] = { 0x63 };
    if (size == 1)
        xe_op(e, 8, sb, 2, (unsigned)reg, m, XB_RM);
    else if (size == 2)
        xe_op(e, 8, sw, 2, (unsigned)reg, m, 0);
    else if (size == 4)
        xe_op(e, 8, sd, 1, (unsigned)reg, m, 0);
    else
        xe_mov_load(e, 8, reg, m);
}

/* mov r64, imm (the shortest exact form). */
static inline void xe_mov_imm(struct xe *e, int reg, uint64_t imm)
{
    if (imm <= 0xffffffffull) { /* mov r32, imm32 zero-extends */
        if (reg & 8)
            xe_b(e, 0x41);
        xe_b(e, (uint8_t)(0xb8 + (reg & 7)));
        xe_u32(e, (uint32_t)imm);
    } else if (xe_fits32((int64_t)imm)) { /* mov r/m64, imm32 sign-extends */
        uint8_t op = 0xc7;
        xe_op(e, 8, &op, 1, 0, xm_reg(reg), 0);
        xe_u32(e, (uint32_t)imm);
    } else {
        xe_b(e, (uint8_t)(0x48 | ((reg & 8) ? 1 : 0)));
        xe_b(e, (uint8_t)(0xb8 + (reg & 7)));
        xe_u64(e, imm);
    }
}

/* mov r/m, imm32 (sign-extended for size 8); byte/word immediates for 1/2. */
static inline void xe_mov_store_imm(struct xe *e, unsigned size, struct xm m, int32_t imm)
{
    uint8_t op = size == 1 ? 0xc6 : 0xc7;
    xe_op(e, size, &op, 1, 0, m, 0);
    if (size == 1)
        xe_b(e, (uint8_t)imm);
    else if (size == 2) {
        uint16_t w = (uint16_t)imm;
        xe_bytes(e, &w, 2);
    } else {
        xe_u32(e, (uint32_t)imm);
    }
}

static inline void xe_lea(struct xe *e, int reg, struct xm m)
{
    uint8_t op = 0x8d;
    xe_op(e, 8, &op, 1, (unsigned)reg, m, 0);
}

/* reg = reg OP r/m */
static inline void xe_alu_load(struct xe *e, unsigned size, unsigned aop, int reg, struct xm m)
{
    uint8_t op = (uint8_t)(aop << 3 | (size == 1 ? 2 : 3));
    xe_op(e, size, &op, 1, (unsigned)reg, m, size == 1 ? XB_REG | XB_RM : 0);
}

/* r/m = r/m OP imm (sign-extended imm8 where it fits). */
static inline void xe_alu_imm(struct xe *e, unsigned size, unsigned aop, struct xm m, int32_t imm)
{
    if (size == 1) {
        uint8_t op = 0x80;
        xe_op(e, 1, &op, 1, aop, m, XB_RM);
        xe_b(e, (uint8_t)imm);
    } else if (xe_fits8(imm)) {
        uint8_t op = 0x83;
        xe_op(e, size, &op, 1, aop, m, 0);
        xe_b(e, (uint8_t)imm);
    } else {
        uint8_t op = 0x81;
        xe_op(e, size, &op, 1, aop, m, 0);
        if (size == 2) {
            uint16_t w = (uint16_t)imm;
            xe_bytes(e, &w, 2);
        } else {
            xe_u32(e, (uint32_t)imm);
        }
    }
}

/* test r/m, reg */
static inline void xe_test(struct xe *e, unsigned size, struct xm m, int reg)
{
    uint8_t op = size == 1 ? 0x84 : 0x85;
    xe_op(e, size, &op, 1, (unsigned)reg, m, size == 1 ? XB_REG | XB_RM : 0);
}

static inline void xe_shift_imm(struct xe *e, unsigned size, unsigned sop, int reg, uint8_t cnt)
{
    uint8_t op = size == 1 ? 0xc0 : 0xc1;
    xe_op(e, size, &op, 1, sop, xm_reg(reg), size == 1 ? XB_RM : 0);
    xe_b(e, cnt);
}

/* inc (dec = true: dec) of a register. */
static inline void xe_incdec(struct xe *e, unsigned size, bool dec, int reg)
{
    uint8_t op = size == 1 ? 0xfe : 0xff;
    xe_op(e, size, &op, 1, dec ? 1 : 0, xm_reg(reg), size == 1 ? XB_RM : 0);
}

/* imul reg, r/m (2, 4 or 8 bytes) */
static inline void xe_imul_load(struct xe *e, unsigned size, int reg, struct xm m)
{
    static const uint8_t op[2] = { 0x0f, 0xaf };
    xe_op(e, size, op, 2, (unsigned)reg, m, 0);
}

static inline void xe_pushf(struct xe *e)
{
    xe_b(e, 0x9c);
}

/* setcc r8 (byte register; SPL..DIL get a REX). */
static inline void xe_setcc(struct xe *e, unsigned cc, int reg)
{
    uint8_t op[2] = { 0x0f, (uint8_t)(0x90 | (cc & 15)) };
    xe_op(e, 1, op, 2, 0, xm_reg(reg), XB_RM);
}

/* Jcc rel32 / JMP rel32 to an unknown target: returns where the rel32
 * sits, for xe_patch (NULL when the buffer is full). */
static inline uint8_t *xe_jcc(struct xe *e, unsigned cc)
{
    uint8_t op[2] = { 0x0f, (uint8_t)(0x80 | (cc & 15)) };
    xe_bytes(e, op, 2);
    uint8_t *at = e->p;
    xe_u32(e, 0);
    return e->full ? NULL : at;
}

static inline uint8_t *xe_jmp(struct xe *e)
{
    xe_b(e, 0xe9);
    uint8_t *at = e->p;
    xe_u32(e, 0);
    return e->full ? NULL : at;
}

/* Points the rel32 at `at` to `target`. */
static inline void xe_patch(uint8_t *at, const uint8_t *target)
{
    if (!at)
        return;
    int32_t rel = (int32_t)(target - (at + 4));
    memcpy(at, &rel, 4);
}

/* Jumps (Jcc when cc < 16, else JMP) to a known address. */
static inline void xe_jmp_to(struct xe *e, unsigned cc, const uint8_t *target)
{
    uint8_t *at = cc < 16 ? xe_jcc(e, cc) : xe_jmp(e);
    xe_patch(at, target);
}

/* call through a register (the helper may be anywhere in the address space). */
static inline void xe_call_abs(struct xe *e, const void *fn)
{
    xe_mov_imm(e, XR_RAX, (uint64_t)(uintptr_t)fn);
    xe_b(e, 0xff);
    xe_b(e, 0xd0); /* call rax */
}

static inline void xe_push(struct xe *e, int reg)
{
    if (reg & 8)
        xe_b(e, 0x41);
    xe_b(e, (uint8_t)(0x50 + (reg & 7)));
}

static inline void xe_pop(struct xe *e, int reg)
{
    if (reg & 8)
        xe_b(e, 0x41);
    xe_b(e, (uint8_t)(0x58 + (reg & 7)));
}

static inline void xe_ret(struct xe *e)
{
    xe_b(e, 0xc3);
}

/* Host condition codes (the low nibble of Jcc/SETcc), the same as the guest's. */
enum { XC_O, XC_NO, XC_B, XC_AE, XC_E, XC_NE, XC_BE, XC_A, XC_S, XC_NS, XC_P, XC_NP, XC_L,
       XC_GE, XC_LE, XC_G, XC_ALWAYS = 16 };

#endif /* VMM_REM_X86EMIT_H */
