/*
 * rem_mem.c - the software CPU's memory path: segmentation, the software
 * TLB and the accesses built on them.
 *
 * A guest access goes segment -> linear -> physical. Segmentation checks
 * (limit, expand-down, read/write rights, unusable segments; canonical form
 * and FS/GS bases in 64-bit mode) produce a linear address or #GP(0)/#SS(0).
 * The TLB maps a linear page to a guest-physical page and, for RAM (and ROM
 * when reading), to a host pointer; it is filled by PGM's walker (pgm_walk,
 * which also sets the accessed and dirty bits) and has one table per access
 * kind (read, write, execute) and per privilege (user, supervisor), so a hit
 * needs no rights check: the fill already did it. Entries that map no host
 * memory (MMIO, ROM writes, unassigned) send the access through
 * pgm_phys_read/write, which dispatches MMIO to its device on this thread.
 *
 * Entries whose accesses need a check each time (REM_TLB_F_*: a user page
 * seen by supervisor data accesses under CR4.SMAP, which EFLAGS.AC and
 * implicit accesses decide; a page holding a data breakpoint) have no host
 * pointer in `addend`, so every fast path (rem_fast.c, the JIT) leaves them
 * to the slow path here, which checks and then uses `code_addend`.
 *
 * Invalidation follows the architecture: INVLPG drops the page in every
 * table; CR3 writes and changes of CR0.PG/WP/PE, CR4.PAE/PSE/PGE/SMEP/SMAP or
 * EFER.NXE/LMA drop everything (PGM's walk does not report the G bit, so a
 * CR3 write also drops global pages - allowed, a TLB may forget at any
 * time). Writes to page tables need no invalidation (x86 semantics).
 *
 * An access that crosses a page translates both pages before writing any
 * byte, so a fault on the second page leaves memory untouched.
 *
 * Dirty tracking (pgm.h: a device's RAM such as the VGA's framebuffer) must
 * see JIT'd and fast-path stores, which write through `addend` without
 * calling out. So a write entry into tracked RAM marks its page dirty when
 * it is filled and is flagged REM_TLB_F_DIRTY; whenever such an entry goes
 * (evicted, flushed, or dropped at the end of each run by
 * rem_tlb_release_tracked) its page is marked again. A collector that
 * cleared the bits while the entry lived thus sees the page in its next
 * collect at the latest; a page nobody writes stops showing once its entry
 * is gone, so an idle screen costs nothing.
 */
#include "rem_internal.h"

/* An entry goes: a tracked one marks its page (see the top). */
static inline void tlb_drop(struct rem_vcpu *v, struct rem_tlb_entry *e)
{
    if (__builtin_expect(e->tag && (e->gpa & REM_TLB_F_DIRTY), 0))
        pgm_dirty_mark(v->rem->pgm, e->gpa & ~(uint64_t)PGM_PAGE_MASK, PGM_PAGE_SIZE);
    e->tag = 0;
}

void rem_tlb_release_tracked(struct rem_vcpu *v)
{
    if (!v->tracked)
        return;
    for (unsigned u = 0; u < 2; u++)
        for (unsigned i = 0; i < REM_TLB_SIZE; i++) {
            struct rem_tlb_entry *e = &v->tlb[u][REM_TLB_WRITE][i];
            if (e->tag && (e->gpa & REM_TLB_F_DIRTY))
                tlb_drop(v, e);
        }
    v->tracked = 0;
    v->epoch++;
}

void rem_tlb_flush(struct rem_vcpu *v)
{
    rem_tlb_release_tracked(v);
    memset(v->tlb, 0, sizeof(v->tlb));
    v->epoch++;
}

void rem_tlb_flush_page(struct rem_vcpu *v, uint64_t la)
{
    unsigned i = (unsigned)(la >> 12) & (REM_TLB_SIZE - 1);
    uint64_t tag = (la & ~PGM_PAGE_MASK) | 1;
    v->epoch++;
    for (unsigned u = 0; u < 2; u++)
        for (unsigned k = 0; k < REM_TLB_KINDS; k++)
            if (v->tlb[u][k][i].tag == tag)
                tlb_drop(v, &v->tlb[u][k][i]);
    /* A large page maps many 4 KiB entries: the SDM lets INVLPG drop them
     * all; the cheap way to be right is to drop every entry with a large
     * translation - we do not track them, so drop those of the same 2 MiB. */
    uint64_t big = la & ~0x1fffffull;
    for (unsigned u = 0; u < 2; u++)
        for (unsigned k = 0; k < REM_TLB_KINDS; k++)
            for (unsigned j = 0; j < REM_TLB_SIZE; j++)
                if ((v->tlb[u][k][j].tag & ~0x1fffffull) == big)
                    tlb_drop(v, &v->tlb[u][k][j]);
}

void rem_paging_changed(struct rem_vcpu *v)
{
    pgm_paging_from_ctx(&v->paging, v->cpu);
    rem_tlb_flush(v);
}

void rem_paging_invalidated(struct rem_vcpu *v)
{
    v->guest_invalidations++;
    rem_paging_changed(v);
}

/* Fills the entry for `la`, raising #PF/#GP as the walk says. */
static struct rem_tlb_entry *tlb_fill(struct rem_vcpu *v, uint64_t la, unsigned kind, bool user)
{
    unsigned acc = kind == REM_TLB_WRITE ? PGM_ACC_WRITE
                   : kind == REM_TLB_EXEC ? PGM_ACC_EXEC : PGM_ACC_READ;
    if (user)
        acc |= PGM_ACC_USER;
    else if (kind != REM_TLB_EXEC && !v->implicit && (v->ctx->rflags & FL_AC))
        acc |= PGM_ACC_AC;
    struct pgm_walk w;
    cap_result rc = pgm_walk(v->rem->pgm, &v->paging, la, acc, &w);
    if (rc == VMM_XCPT_PF)
        rem_raise_pf(v, w.cr2, w.error_code);
    if (CAP_FAILED(rc))
        rem_gp0(v);
    uint64_t page = la & ~PGM_PAGE_MASK;
    struct rem_tlb_entry *e = &v->tlb[user][kind][(la >> 12) & (REM_TLB_SIZE - 1)];
    tlb_drop(v, e);
    e->tag = page | 1;
    e->gpa = w.gpa & ~PGM_PAGE_MASK;
    void *h = pgm_gpa_to_hva(v->rem->pgm, e->gpa, PGM_PAGE_SIZE, kind == REM_TLB_WRITE);
    e->addend = h ? (uintptr_t)h - (uintptr_t)page : 0;
    e->code_addend = 0;
    if (h && kind == REM_TLB_WRITE) {
        const struct pgm_range *r = pgm_find(v->rem->pgm, e->gpa);
        if (r && r->dirty) {
            pgm_dirty_mark(v->rem->pgm, e->gpa, PGM_PAGE_SIZE);
            e->gpa |= REM_TLB_F_DIRTY;
            v->tracked++;
        }
    }
    if (h && kind == REM_TLB_WRITE && rem_bcache_has_code(v, e->gpa)) {
        /* Writes to cached code take the slow path, which notices them. */
        e->code_addend = e->addend;
        e->addend = 0;
    }
    /* Pages whose every access needs a check take the slow path too: a user
     * page for supervisor data accesses under SMAP (EFLAGS.AC and implicit
     * accesses decide per access), a page holding a data breakpoint. */
    unsigned flags = 0;
    if (!user && kind != REM_TLB_EXEC && w.user && (v->paging.cr4 & CR4_SMAP))
        flags |= REM_TLB_F_SMAP;
    if (kind != REM_TLB_EXEC && rem_db_watched(v, page))
        flags |= REM_TLB_F_WATCH;
    if (flags) {
        if (e->addend) {
            e->code_addend = e->addend;
            e->addend = 0;
        }
        e->gpa |= flags;
    }
    return e;
}

/* The checks of a flagged entry (REM_TLB_F_*), before the access. */
static void slow_checks(struct rem_vcpu *v, const struct rem_tlb_entry *e, uint64_t la,
                        unsigned len, bool write)
{
    if ((e->gpa & REM_TLB_F_SMAP) && (v->implicit || !(v->ctx->rflags & FL_AC)))
        rem_raise_pf(v, la, PGM_PF_P | (write ? PGM_PF_W : 0));
    if (e->gpa & REM_TLB_F_WATCH)
        rem_db_data(v, la, len, write);
}

static inline struct rem_tlb_entry *tlb_get(struct rem_vcpu *v, uint64_t la, unsigned kind,
                                            bool user)
{
    struct rem_tlb_entry *e = &v->tlb[user][kind][(la >> 12) & (REM_TLB_SIZE - 1)];
    if (__builtin_expect(e->tag == ((la & ~PGM_PAGE_MASK) | 1), 1))
        return e;
    return tlb_fill(v, la, kind, user);
}

void *rem_lin_ptr(struct rem_vcpu *v, uint64_t la, unsigned len, unsigned kind, bool user)
{
    if ((la & PGM_PAGE_MASK) + len > PGM_PAGE_SIZE)
        return NULL;
    struct rem_tlb_entry *e = tlb_get(v, la, kind, user);
    return e->addend ? (void *)(uintptr_t)(la + e->addend) : NULL;
}

static void phys_fail(struct rem_vcpu *v, cap_result rc)
{
    v->fail_rc = rc;
    rem_raise(v, REM_VMM_FAILURE, REM_NO_ERR);
}

/* One piece inside a page. */
static void page_read(struct rem_vcpu *v, struct rem_tlb_entry *e, uint64_t la, void *buf,
                      unsigned len)
{
    if (e->addend) {
        memcpy(buf, (void *)(uintptr_t)(la + e->addend), len);
        return;
    }
    if (e->gpa & REM_TLB_F_MASK)
        slow_checks(v, e, la, len, false);
    if (e->code_addend) {
        memcpy(buf, (void *)(uintptr_t)(la + e->code_addend), len);
        return;
    }
    uint64_t gpa = (e->gpa & ~(uint64_t)PGM_PAGE_MASK) | (la & PGM_PAGE_MASK);
    cap_result rc = pgm_phys_read(v->rem->pgm, gpa, buf, len);
    rem_bcache_new_epoch(v); /* a device may have written RAM */
    if (CAP_FAILED(rc))
        phys_fail(v, rc);
}

static void page_write(struct rem_vcpu *v, struct rem_tlb_entry *e, uint64_t la,
                       const void *buf, unsigned len)
{
    if (e->addend) {
        memcpy((void *)(uintptr_t)(la + e->addend), buf, len);
        return;
    }
    if (e->gpa & REM_TLB_F_MASK)
        slow_checks(v, e, la, len, true);
    uint64_t gpa = (e->gpa & ~(uint64_t)PGM_PAGE_MASK) | (la & PGM_PAGE_MASK);
    if (e->code_addend) {
        /* RAM holding cached blocks: the block running now must stop after
         * this instruction (rem_run_block); blocks check their bytes on entry. */
        memcpy((void *)(uintptr_t)(la + e->code_addend), buf, len);
        if (rem_bcache_has_code(v, gpa))
            rem_bcache_code_write(v, gpa);
        return;
    }
    cap_result rc = pgm_phys_write(v->rem->pgm, gpa, buf, len);
    rem_bcache_new_epoch(v); /* a device may have written RAM */
    if (CAP_FAILED(rc))
        phys_fail(v, rc);
}

void rem_lin_read(struct rem_vcpu *v, uint64_t la, void *buf, unsigned len, bool user)
{
    unsigned first = PGM_PAGE_SIZE - (unsigned)(la & PGM_PAGE_MASK);
    if (first >= len) {
        page_read(v, tlb_get(v, la, REM_TLB_READ, user), la, buf, len);
        return;
    }
    uint64_t la2 = v->mode == REM_MODE_LONG ? la + first : (uint32_t)(la + first);
    struct rem_tlb_entry e1 = *tlb_get(v, la, REM_TLB_READ, user);
    struct rem_tlb_entry *e2 = tlb_get(v, la2, REM_TLB_READ, user);
    page_read(v, &e1, la, buf, first);
    page_read(v, e2, la2, (uint8_t *)buf + first, len - first);
}

void rem_lin_write(struct rem_vcpu *v, uint64_t la, const void *buf, unsigned len, bool user)
{
    unsigned first = PGM_PAGE_SIZE - (unsigned)(la & PGM_PAGE_MASK);
    if (first >= len) {
        page_write(v, tlb_get(v, la, REM_TLB_WRITE, user), la, buf, len);
        return;
    }
    uint64_t la2 = v->mode == REM_MODE_LONG ? la + first : (uint32_t)(la + first);
    struct rem_tlb_entry e1 = *tlb_get(v, la, REM_TLB_WRITE, user);
    struct rem_tlb_entry *e2 = tlb_get(v, la2, REM_TLB_WRITE, user);
    if (e2->gpa & REM_TLB_F_MASK) /* its #PF (SMAP) before the first byte is written */
        slow_checks(v, e2, la2, len - first, true);
    page_write(v, &e1, la, buf, first);
    page_write(v, e2, la2, (const uint8_t *)buf + first, len - first);
}

unsigned rem_fetch(struct rem_vcpu *v, uint64_t la, uint8_t *buf, unsigned len)
{
    bool user = rem_user(v);
    unsigned first = PGM_PAGE_SIZE - (unsigned)(la & PGM_PAGE_MASK);
    struct rem_tlb_entry *e = tlb_get(v, la, REM_TLB_EXEC, user);
    if (first >= len) {
        page_read(v, e, la, buf, len);
        return len;
    }
    page_read(v, e, la, buf, first);
    /* The second page may fault: only if the instruction needs its bytes,
     * which the caller finds out by decoding (rem_fetch_more). */
    return first;
}

void rem_fetch_more(struct rem_vcpu *v, uint64_t la, uint8_t *buf, unsigned len)
{
    page_read(v, tlb_get(v, la, REM_TLB_EXEC, rem_user(v)), la, buf, len);
}

/* ---- segmentation ---------------------------------------------------------- */

static _Noreturn void seg_fault(struct rem_vcpu *v, unsigned sreg)
{
    rem_raise(v, sreg == CPUM_SS ? X86_SS : X86_GP, 0);
}

uint64_t rem_seg_la(struct rem_vcpu *v, unsigned sreg, uint64_t off, unsigned len, int write)
{
    const struct cpum_seg *s = &v->ctx->seg[sreg];
    if (v->mode == REM_MODE_LONG) {
        uint64_t la = off + (sreg >= CPUM_FS ? s->base : 0);
        if ((uint64_t)((int64_t)(la << 16) >> 16) != la)
            seg_fault(v, sreg);
        return la;
    }
    if (v->mode == REM_MODE_PROT || v->mode == REM_MODE_COMPAT) {
        unsigned type = s->attr & CPUM_SEG_TYPE_MASK;
        if (!(s->attr & CPUM_SEG_P))
            seg_fault(v, sreg);
        if (type & 8) { /* code: never writable, readable if R */
            if (write || !(type & 2))
                seg_fault(v, sreg);
        } else if (write && !(type & 2)) {
            seg_fault(v, sreg);
        }
        if ((type & 0xc) == 0x4) { /* expand-down data */
            uint64_t top = (s->attr & CPUM_SEG_DB) ? 0xffffffffull : 0xffffull;
            if (off <= s->limit || off + len - 1 > top)
                seg_fault(v, sreg);
            return (uint32_t)(s->base + off);
        }
    }
    if (off + len - 1 > s->limit)
        seg_fault(v, sreg);
    return (uint32_t)(s->base + off);
}

uint64_t rem_rd(struct rem_vcpu *v, unsigned sreg, uint64_t off, unsigned len)
{
    uint64_t la = rem_seg_la(v, sreg, off, len, 0);
    bool user = rem_user(v);
    struct rem_tlb_entry *e = &v->tlb[user][REM_TLB_READ][(la >> 12) & (REM_TLB_SIZE - 1)];
    uint64_t val = 0;
    if (__builtin_expect(e->tag == ((la & ~PGM_PAGE_MASK) | 1) && e->addend &&
                             (la & PGM_PAGE_MASK) + len <= PGM_PAGE_SIZE,
                         1)) {
        const void *p = (const void *)(uintptr_t)(la + e->addend);
        switch (len) { /* constant sizes: no call into libc's memcpy */
        case 1: return *(const uint8_t *)p;
        case 2: { uint16_t x; memcpy(&x, p, 2); return x; }
        case 4: { uint32_t x; memcpy(&x, p, 4); return x; }
        case 8: memcpy(&val, p, 8); return val;
        default: memcpy(&val, p, len); return val;
        }
    }
    rem_lin_read(v, la, &val, len, user);
    return val;
}

void rem_wr(struct rem_vcpu *v, unsigned sreg, uint64_t off, unsigned len, uint64_t val)
{
    uint64_t la = rem_seg_la(v, sreg, off, len, 1);
    bool user = rem_user(v);
    struct rem_tlb_entry *e = &v->tlb[user][REM_TLB_WRITE][(la >> 12) & (REM_TLB_SIZE - 1)];
    if (__builtin_expect(e->tag == ((la & ~PGM_PAGE_MASK) | 1) && e->addend &&
                             (la & PGM_PAGE_MASK) + len <= PGM_PAGE_SIZE,
                         1)) {
        void *p = (void *)(uintptr_t)(la + e->addend);
        switch (len) {
        case 1: *(uint8_t *)p = (uint8_t)val; return;
        case 2: { uint16_t x = (uint16_t)val; memcpy(p, &x, 2); return; }
        case 4: { uint32_t x = (uint32_t)val; memcpy(p, &x, 4); return; }
        default: memcpy(p, &val, len); return;
        }
    }
    rem_lin_write(v, la, &val, len, user);
}

/* ---- stack ------------------------------------------------------------------ */

void rem_push(struct rem_vcpu *v, unsigned len, uint64_t val)
{
    uint64_t rsp = v->ctx->gpr[CPUM_RSP];
    uint64_t m = rem_mask(v->stack_bits);
    uint64_t nsp = (rsp - len) & m;
    rem_wr(v, CPUM_SS, nsp, len, val);
    v->ctx->gpr[CPUM_RSP] = (rsp & ~m) | nsp;
}

uint64_t rem_pop(struct rem_vcpu *v, unsigned len)
{
    uint64_t rsp = v->ctx->gpr[CPUM_RSP];
    uint64_t m = rem_mask(v->stack_bits);
    uint64_t val = rem_rd(v, CPUM_SS, rsp & m, len);
    v->ctx->gpr[CPUM_RSP] = (rsp & ~m) | ((rsp + len) & m);
    return val;
}

/* ---- implicit supervisor accesses -------------------------------------------- */

uint64_t rem_sys_rd(struct rem_vcpu *v, uint64_t la, unsigned len)
{
    uint64_t val = 0;
    v->implicit = true; /* SMAP: never to user pages (a fault leaves it to the run loop) */
    rem_lin_read(v, la, &val, len, false);
    v->implicit = false;
    return val;
}

void rem_sys_wr(struct rem_vcpu *v, uint64_t la, unsigned len, uint64_t val)
{
    v->implicit = true;
    rem_lin_write(v, la, &val, len, false);
    v->implicit = false;
}
