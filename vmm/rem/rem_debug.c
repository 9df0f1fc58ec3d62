/*
 * rem_debug.c - the debug registers (SDM Vol. 3B, chapter 17): DR0-DR3
 * breakpoints as DR7 enables them (L0-L3/G0-G3, R/W, LEN), the status they
 * leave in DR6 (B0-B3, BS), RFLAGS.RF.
 *
 * Instruction breakpoints (R/W 00) are faults: checked before an
 * instruction runs, unless RF is set; the #DB is delivered with RIP at the
 * instruction (rem_run.c clears RF once an instruction completes).
 * Data breakpoints (R/W 01: writes, 11: reads and writes) are traps: every
 * access to a page holding one takes the slow path (the TLB entry is
 * flagged REM_TLB_F_WATCH, rem_mem.c), which records the hits; the run
 * loop delivers them with the single-step trap (BS) after the instruction
 * completes - an instruction that faults discards them. A REP string
 * instruction reports its hits when the whole instruction (or its batch up
 * to a page end) is done, not after the iteration. I/O breakpoints (R/W 10
 * with CR4.DE) do not exist: the policy has no DE. DR7.GD (general
 * detect) is MOV DR's (rem_exec_sys.c). Not modelled: the TSS T bit.
 *
 * While any breakpoint is enabled rem runs instruction by instruction (no
 * decoded blocks, no translations), as it does under TF: they would skip
 * the checks.
 */
#include "rem_internal.h"

/* LEN (DR7 bits 18+4i..19+4i): bytes covered. */
static unsigned bp_len(uint64_t dr7, unsigned i)
{
    static const unsigned len[4] = {1, 2, 8, 4};
    return len[(dr7 >> (18 + 4 * i)) & 3];
}

static unsigned bp_rw(uint64_t dr7, unsigned i)
{
    return (unsigned)(dr7 >> (16 + 4 * i)) & 3;
}

static bool bp_enabled(uint64_t dr7, unsigned i)
{
    return (dr7 >> (2 * i)) & 3;
}

static bool bp_data(uint64_t dr7, unsigned i)
{
    unsigned rw = bp_rw(dr7, i);
    return bp_enabled(dr7, i) && (rw == 1 || rw == 3);
}

/* The linear address as the breakpoint compares it (32 bits outside long mode). */
static uint64_t bp_addr(const struct rem_vcpu *v, unsigned i)
{
    uint64_t a = v->ctx->dr[i];
    return (v->ctx->msr.efer & EFER_LMA) ? a : (uint32_t)a;
}

void rem_db_changed(struct rem_vcpu *v)
{
    uint64_t dr7 = v->ctx->dr[7];
    bool data = false, insn = false;
    for (unsigned i = 0; i < 4; i++) {
        data |= bp_data(dr7, i);
        insn |= bp_enabled(dr7, i) && bp_rw(dr7, i) == 0;
    }
    /* TLB entries carry the data breakpoints' pages (REM_TLB_F_WATCH). */
    if (data || v->db_data)
        rem_tlb_flush(v);
    v->db_data = data;
    v->db_insn = insn;
}

bool rem_db_watched(const struct rem_vcpu *v, uint64_t page)
{
    if (!v->db_data)
        return false;
    uint64_t dr7 = v->ctx->dr[7];
    for (unsigned i = 0; i < 4; i++) {
        if (!bp_data(dr7, i))
            continue;
        unsigned len = bp_len(dr7, i);
        uint64_t a = bp_addr(v, i) & ~(uint64_t)(len - 1);
        if ((a & ~(uint64_t)PGM_PAGE_MASK) == page)
            return true;
    }
    return false;
}

void rem_db_data(struct rem_vcpu *v, uint64_t la, unsigned len, bool write)
{
    uint64_t dr7 = v->ctx->dr[7];
    for (unsigned i = 0; i < 4; i++) {
        if (!bp_data(dr7, i) || (bp_rw(dr7, i) == 1 && !write))
            continue;
        unsigned n = bp_len(dr7, i);
        uint64_t a = bp_addr(v, i) & ~(uint64_t)(n - 1);
        if (la < a + n && a < la + len)
            v->db_hits |= 1u << i;
    }
}

void rem_db_insn(struct rem_vcpu *v)
{
    const struct cpum_ctx *c = v->ctx;
    if (c->rflags & FL_RF)
        return;
    uint64_t la = v->mode == REM_MODE_LONG ? c->rip : (uint32_t)(c->seg[CPUM_CS].base + c->rip);
    uint64_t dr7 = c->dr[7];
    uint32_t hits = 0;
    for (unsigned i = 0; i < 4; i++)
        if (bp_enabled(dr7, i) && bp_rw(dr7, i) == 0 && bp_addr(v, i) == la)
            hits |= 1u << i;
    if (!hits)
        return;
    v->ctx->dr[6] = (v->ctx->dr[6] & ~0xfull) | hits;
    rem_raise(v, X86_DB, REM_NO_ERR); /* a fault: RIP stays, RF is not set in the image */
}

void rem_db_deliver(struct rem_vcpu *v)
{
    uint32_t p = v->db_pending;
    v->db_pending = 0;
    v->ctx->dr[6] = (v->ctx->dr[6] & ~0xfull) | p;
    rem_deliver(v, X86_DB, REM_NO_ERR, REM_INT_EXT);
}
