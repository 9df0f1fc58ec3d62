/*
 * rem_exec_str.c - string instructions (MOVS, CMPS, STOS, LODS, SCAS with
 * REP/REPE/REPNE) and port I/O (IN, OUT, INS, OUTS).
 *
 * REP commits RCX, RSI and RDI after every element, so a fault in the
 * middle restarts the instruction where it stopped (RIP stays on it); REP
 * CMPS/SCAS set the flags only when they finish, so a fault leaves those of
 * the instruction's start, as hardware does. A long REP gives up the CPU
 * every REM_REP_CHUNK elements with RIP still on the instruction, so
 * interrupts and kicks are not held off by a large memset. Forward MOVS and
 * STOS on RAM copy whole runs inside a page with memmove/memset - the
 * kernel's memcpy/memset are REP MOVSQ/STOSQ - except a MOVS whose
 * destination overlaps just above its source, which must repeat the pattern.
 *
 * Port I/O leaves through the neutral exit (rem.h): the permission check
 * (IOPL, then the TSS I/O bitmap) happens first; OUT/OUTS complete before
 * the exit; IN/INS complete in rem_complete_in() once EM filled the data.
 */
#include "rem_ops.h"

#define REM_REP_CHUNK 65536u

struct str_ctx {
    unsigned size, src_seg;
    uint64_t am; /* address-size mask */
    int64_t step;
};

static unsigned src_seg(const struct dis_insn *in)
{
    for (unsigned i = 0; i < in->nops; i++)
        if (in->op[i].kind == DIS_OP_MEM && in->op[i].mem.base == CPUM_RSI)
            return op_seg(&in->op[i]);
    return in->seg_override == DIS_SEG_NONE ? CPUM_DS : in->seg_override;
}

static void adv(struct rem_vcpu *v, const struct str_ctx *s, unsigned reg, uint64_t n)
{
    uint64_t *g = v->ctx->gpr;
    g[reg] = (g[reg] & ~s->am) | ((g[reg] + (uint64_t)s->step * n) & s->am);
    if (s->am == 0xffffffffull)
        g[reg] = (uint32_t)g[reg];
}

/* The count after elements completed: CX keeps RCX's upper bits, ECX is
 * written as a 32-bit register. */
static void set_count(uint64_t *g, const struct str_ctx *s, uint64_t left)
{
    g[CPUM_RCX] = s->am == 0xffffffffull ? (uint32_t)left : (g[CPUM_RCX] & ~s->am) | (left & s->am);
}

/* Bulk forward MOVS/STOS inside one page of each operand; returns elements done. */
static uint64_t bulk(struct rem_vcpu *v, const struct dis_insn *in, const struct str_ctx *s,
                     uint64_t count)
{
    uint64_t *g = v->ctx->gpr;
    uint64_t di = g[CPUM_RDI] & s->am, si = g[CPUM_RSI] & s->am;
    /* MOVS: the source is checked first, so its fault wins as on hardware. */
    uint64_t sla = in->mnem == DIS_movs ? rem_seg_la(v, s->src_seg, si, s->size, 0) : 0;
    if (in->mnem == DIS_movs)
        (void)rem_lin_ptr(v, sla, 1, REM_TLB_READ, rem_user(v)); /* its #PF too */
    uint64_t dla = rem_seg_la(v, CPUM_ES, di, s->size, 1);
    uint64_t n = (PGM_PAGE_SIZE - (dla & PGM_PAGE_MASK)) / s->size;
    if (in->mnem == DIS_movs) {
        uint64_t n2 = (PGM_PAGE_SIZE - (sla & PGM_PAGE_MASK)) / s->size;
        if (n2 < n)
            n = n2;
        /* Stay inside the segment limits and the address-size wrap. */
        if (v->mode != REM_MODE_LONG && (si + n * s->size - 1) > v->ctx->seg[s->src_seg].limit)
            return 0;
        if (si + n * s->size - 1 > s->am)
            return 0;
    }
    if (n > count)
        n = count;
    if (n < 2)
        return 0;
    if (v->mode != REM_MODE_LONG && (di + n * s->size - 1) > v->ctx->seg[CPUM_ES].limit)
        return 0;
    if (di + n * s->size - 1 > s->am)
        return 0;
    uint64_t bytes = n * s->size;
    /* MOVS: the source is translated first, so its fault wins as on hardware. */
    void *p = in->mnem == DIS_movs ? rem_lin_ptr(v, sla, (unsigned)bytes, REM_TLB_READ, rem_user(v))
                                   : NULL;
    if (in->mnem == DIS_movs && !p)
        return 0;
    void *d = rem_lin_ptr(v, dla, (unsigned)bytes, REM_TLB_WRITE, rem_user(v));
    if (!d)
        return 0;
    if (in->mnem == DIS_movs) {
        /* A destination just above the source: later elements read what
         * earlier ones wrote (the pattern repeats, as on hardware), which
         * memmove would not do. Bytewise forward is the same thing once
         * the distance is at least one element; below that, per element. */
        uint64_t dist = dla - sla;
        if (dist && dist < bytes) {
            if (dist < s->size)
                return 0;
            for (uint64_t i = 0; i < bytes; i++)
                ((uint8_t *)d)[i] = ((const uint8_t *)p)[i];
        } else {
            memmove(d, p, bytes);
        }
        adv(v, s, CPUM_RSI, n);
    } else {
        uint64_t val = g[CPUM_RAX];
        if (s->size == 1) {
            memset(d, (int)(val & 0xff), bytes);
        } else {
            for (uint64_t i = 0; i < n; i++)
                memcpy((uint8_t *)d + i * s->size, &val, s->size);
        }
    }
    adv(v, s, CPUM_RDI, n);
    return n;
}

/* CMPS/SCAS under REP: the last comparison, turned into the flags only when
 * the instruction completes - a fault partway leaves the flags of the
 * instruction's start, as on hardware (tests/rem_diff). */
struct str_cmp {
    uint64_t a, b;
    bool any;
};

static void cmp_result(struct rem_vcpu *v, struct str_cmp *c, unsigned bits, uint64_t a,
                       uint64_t b)
{
    uint64_t m = rem_mask(bits);
    if (!c) {
        rem_cc_set(v, REM_CC_SUB, bits, (a - b) & m, a, b);
        return;
    }
    c->a = a;
    c->b = b;
    c->any = true;
}

/* One element, registers committed; CMPS/SCAS leave their result in `c`
 * when it is not NULL, else in the flags. */
static void element(struct rem_vcpu *v, const struct dis_insn *in, const struct str_ctx *s,
                    struct str_cmp *c)
{
    uint64_t *g = v->ctx->gpr;
    unsigned size = s->size, bits = size * 8;
    uint64_t si = g[CPUM_RSI] & s->am, di = g[CPUM_RDI] & s->am, m = rem_mask(bits);
    switch (in->mnem) {
    case DIS_movs:
        rem_wr(v, CPUM_ES, di, size, rem_rd(v, s->src_seg, si, size));
        adv(v, s, CPUM_RSI, 1);
        adv(v, s, CPUM_RDI, 1);
        break;
    case DIS_stos:
        rem_wr(v, CPUM_ES, di, size, g[CPUM_RAX]);
        adv(v, s, CPUM_RDI, 1);
        break;
    case DIS_lods:
        gpr_set(v, DIS_RC_GPR, CPUM_RAX, size, rem_rd(v, s->src_seg, si, size));
        adv(v, s, CPUM_RSI, 1);
        break;
    case DIS_cmps: {
        /* Intel reads ES:rDI first - any fault there (#GP for a
         * non-canonical rDI, #PF) wins over DS:rSI's; AMD reads DS:rSI
         * first (both checked natively by tests/rem_diff; KVM's emulator
         * reads DS:rSI first). */
        uint64_t a, b;
        if (cpum_behaves(v->rem->policy, CPUM_B_CMPS_SRC_FIRST)) {
            a = rem_rd(v, s->src_seg, si, size);
            b = rem_rd(v, CPUM_ES, di, size);
        } else {
            b = rem_rd(v, CPUM_ES, di, size);
            a = rem_rd(v, s->src_seg, si, size);
        }
        adv(v, s, CPUM_RSI, 1);
        adv(v, s, CPUM_RDI, 1);
        cmp_result(v, c, bits, a, b);
        break;
    }
    default: { /* scas */
        uint64_t a = g[CPUM_RAX] & m, b = rem_rd(v, CPUM_ES, di, size);
        adv(v, s, CPUM_RDI, 1);
        cmp_result(v, c, bits, a, b);
        break;
    }
    }
}

static void string_op(struct rem_vcpu *v, const struct dis_insn *in)
{
    uint64_t *g = v->ctx->gpr;
    struct str_ctx s = {
        .size = in->opsize,
        .src_seg = src_seg(in),
        .am = rem_mask(in->addrsize * 8),
    };
    s.step = (v->ctx->rflags & FL_DF) ? -(int64_t)s.size : (int64_t)s.size;
    bool rep = in->prefixes & (DIS_PFX_REP | DIS_PFX_REPNE);
    if (!rep) {
        element(v, in, &s, NULL);
        return;
    }
    bool cond = in->attr & DIS_A_REPE; /* cmps/scas: F3 = repe, F2 = repne */
    bool want_zf = !(in->prefixes & DIS_PFX_REPNE);
    /* REP with a 32-bit address size writes ECX, ESI and EDI as 32-bit
     * registers (zero-extended in 64-bit mode) as elements complete. Intel
     * writes ECX (and ESI/EDI for MOVS/STOS, not for CMPS/SCAS/LODS) even
     * when no element completes - ECX = 0, or the first element faults;
     * AMD leaves all three untouched then (CPUM_B_REP_A32_LAZY). Both
     * checked natively by tests/rem_diff. */
    bool eager = !cpum_behaves(v->rem->policy, CPUM_B_REP_A32_LAZY);
    if (s.am == 0xffffffffull && eager)
        g[CPUM_RCX] = (uint32_t)g[CPUM_RCX];
    if (s.am == 0xffffffffull && eager && (in->mnem == DIS_movs || in->mnem == DIS_stos)) {
        g[CPUM_RDI] = (uint32_t)g[CPUM_RDI];
        if (in->mnem == DIS_movs)
            g[CPUM_RSI] = (uint32_t)g[CPUM_RSI];
    }
    struct str_cmp cmp = {0};
    uint64_t m = rem_mask(s.size * 8);
    /* AMD sets the flags of every compared element, so a fault on a later
     * element leaves those of the last one; Intel's stay those of the
     * instruction's start until it completes. */
    bool per_element = cpum_behaves(v->rem->policy, CPUM_B_REP_CMP_FLAGS_EACH);
    for (unsigned done = 0;;) {
        uint64_t c = g[CPUM_RCX] & s.am;
        if (!c)
            break;
        if (done >= REM_REP_CHUNK) {
            v->rip_set = true; /* come back to it, flags untouched as after a fault */
            return;
        }
        uint64_t n = 0;
        if (!cond && s.step > 0 && (in->mnem == DIS_movs || in->mnem == DIS_stos))
            n = bulk(v, in, &s, c);
        if (n) {
            set_count(g, &s, c - n);
            done += (unsigned)n;
            continue;
        }
        element(v, in, &s, cond ? &cmp : NULL);
        set_count(g, &s, c - 1);
        done++;
        if (cond && per_element)
            rem_cc_set(v, REM_CC_SUB, s.size * 8, (cmp.a - cmp.b) & m, cmp.a, cmp.b);
        if (cond && (((cmp.a - cmp.b) & m) == 0) != want_zf)
            break;
    }
    if (cmp.any)
        rem_cc_set(v, REM_CC_SUB, s.size * 8, (cmp.a - cmp.b) & m, cmp.a, cmp.b);
}

/* ---- port I/O ------------------------------------------------------------------------------ */

static void io_check(struct rem_vcpu *v, unsigned port, unsigned size)
{
    unsigned iopl = (unsigned)(v->ctx->rflags & FL_IOPL) >> 12;
    if (v->mode == REM_MODE_REAL || (v->mode != REM_MODE_V86 && v->cpl <= iopl))
        return;
    const struct cpum_seg *tr = &v->ctx->tr;
    unsigned type = tr->attr & 0xf;
    if ((type != 0x9 && type != 0xb) || tr->limit < 0x67)
        rem_gp0(v);
    unsigned base = (unsigned)rem_sys_rd(v, tr->base + 0x66, 2);
    if (base + port / 8 + 1 > tr->limit)
        rem_gp0(v);
    unsigned bits = (unsigned)rem_sys_rd(v, tr->base + base + port / 8, 2);
    if ((bits >> (port & 7)) & ((1u << size) - 1))
        rem_gp0(v);
}

static void io_exit(struct rem_vcpu *v, unsigned port, unsigned size, bool write, uint32_t count)
{
    struct vmm_exit *x = v->exit;
    x->reason = VMM_EXIT_IO;
    x->io.port = (uint16_t)port;
    x->io.size = (uint8_t)size;
    x->io.write = write;
    x->io.count = count;
    x->io.data = v->iobuf;
    v->stop = true;
}

static void port_io(struct rem_vcpu *v, const struct dis_insn *in)
{
    uint64_t *g = v->ctx->gpr;
    bool out = in->mnem == DIS_out || in->mnem == DIS_outs;
    const struct dis_op *pop = &in->op[out ? 0 : 1];
    unsigned port = pop->kind == DIS_OP_IMM ? (unsigned)pop->imm & 0xff : (unsigned)g[CPUM_RDX] & 0xffff;
    unsigned size = in->opsize > 4 ? 4 : in->opsize;
    io_check(v, port, size);
    if (in->mnem == DIS_out) {
        memcpy(v->iobuf, &g[CPUM_RAX], size);
        io_exit(v, port, size, true, 1);
        return;
    }
    if (in->mnem == DIS_in) {
        v->io_pending = true;
        v->io_insn = 0;
        v->io_size = (uint8_t)size;
        io_exit(v, port, size, false, 1);
        return;
    }
    struct str_ctx s = { .size = size, .src_seg = src_seg(in), .am = rem_mask(in->addrsize * 8) };
    s.step = (v->ctx->rflags & FL_DF) ? -(int64_t)size : (int64_t)size;
    bool rep = in->prefixes & (DIS_PFX_REP | DIS_PFX_REPNE);
    uint64_t c = rep ? g[CPUM_RCX] & s.am : 1;
    if (!c)
        return;
    unsigned reg = out ? CPUM_RSI : CPUM_RDI;
    unsigned seg = out ? s.src_seg : CPUM_ES;
    uint64_t off = g[reg] & s.am;
    uint64_t la = rem_seg_la(v, seg, off, size, out ? 0 : 1);
    uint64_t n = 1;
    if (rep && s.step > 0) {
        n = (PGM_PAGE_SIZE - (la & PGM_PAGE_MASK)) / size;
        if (n > c)
            n = c;
        if (n > REM_IOBUF_SIZE / size)
            n = REM_IOBUF_SIZE / size;
        if (n == 0)
            n = 1;
        if (off + n * size - 1 > s.am ||
            (v->mode != REM_MODE_LONG && off + n * size - 1 > v->ctx->seg[seg].limit))
            n = 1;
    }
    if (out) {
        rem_lin_read(v, la, v->iobuf, (unsigned)(n * size), rem_user(v));
        adv(v, &s, CPUM_RSI, n);
        if (rep)
            set_count(g, &s, c - n);
        if (rep && c - n)
            v->rip_set = true;
        io_exit(v, port, size, true, (uint32_t)n);
        return;
    }
    /* INS: make sure the destination is writable before the device is read. */
    uint8_t probe[8];
    rem_lin_read(v, la, probe, size, rem_user(v));
    rem_lin_write(v, la, probe, size, rem_user(v));
    if (n > 1) {
        uint64_t last = la + (n - 1) * size;
        rem_lin_read(v, last, probe, size, rem_user(v));
        rem_lin_write(v, last, probe, size, rem_user(v));
    }
    v->io_pending = true;
    v->io_insn = 1;
    v->io_size = (uint8_t)size;
    v->io_count = (uint32_t)n;
    v->io_la = la;
    v->io_am = s.am;
    v->io_rep = rep;
    if (rep && c - n)
        v->rip_set = true;
    io_exit(v, port, size, false, (uint32_t)n);
}

void rem_complete_in(struct rem_vcpu *v)
{
    uint64_t *g = v->ctx->gpr;
    v->io_pending = false;
    if (v->io_insn == 0) {
        uint64_t x = 0;
        memcpy(&x, v->iobuf, v->io_size);
        gpr_set(v, DIS_RC_GPR, CPUM_RAX, v->io_size, x);
        return;
    }
    unsigned bytes = v->io_count * v->io_size;
    rem_lin_write(v, v->io_la, v->iobuf, bytes, rem_user(v));
    struct str_ctx s = { .size = v->io_size, .am = v->io_am };
    s.step = (v->ctx->rflags & FL_DF) ? -(int64_t)s.size : (int64_t)s.size;
    adv(v, &s, CPUM_RDI, v->io_count);
    if (v->io_rep) {
        uint64_t c = g[CPUM_RCX] & s.am;
        g[CPUM_RCX] = (g[CPUM_RCX] & ~s.am) | ((c - v->io_count) & s.am);
    }
}

bool rem_exec_str(struct rem_vcpu *v, const struct dis_insn *in)
{
    switch (in->mnem) {
    case DIS_movs: case DIS_cmps: case DIS_stos: case DIS_lods: case DIS_scas:
        string_op(v, in);
        return true;
    case DIS_in: case DIS_out: case DIS_ins: case DIS_outs:
        port_io(v, in);
        return true;
    default:
        return false;
    }
}
