/*
 * pgm_walk.c - the guest page-table walker, one for every engine and the
 * debugger.
 *
 * Follows the Intel SDM, Vol. 3A, chapter 4: 32-bit paging (4 KiB pages and,
 * with CR4.PSE, 4 MiB pages carrying PSE-36 address bits), PAE paging (four
 * PDPTEs, 2 MiB pages, NX) and 4-level paging (1 GiB pages only when the
 * policy offers them). Rights accumulate over the levels: writable and user
 * only if every level says so, no-execute if any level says so (with
 * EFER.NXE). Faults come back as the #PF error code the CPU would push.
 *
 * Accessed bits are set on every entry used and the dirty bit on the final
 * entry of a write, once the translation succeeded, with an atomic OR on the
 * guest's RAM - vCPUs in hardware set the same bits concurrently.
 */
#include <string.h>

#include "pgm_internal.h"

#define PTE_P   (1ull << 0)
#define PTE_W   (1ull << 1)
#define PTE_U   (1ull << 2)
#define PTE_A   (1ull << 5)
#define PTE_D   (1ull << 6)
#define PTE_PS  (1ull << 7)
#define PTE_NX  (1ull << 63)

#define BITS(hi, lo) ((~0ull >> (63 - (hi))) & (~0ull << (lo)))

void pgm_paging_from_ctx(struct pgm_paging *pg, const struct cpum_cpu *cpu)
{
    pg->cr0 = cpu->ctx.cr0;
    pg->cr3 = cpu->ctx.cr3;
    pg->cr4 = cpu->ctx.cr4;
    pg->efer = cpu->ctx.msr.efer;
    pg->phys_addr_bits = cpu->policy ? cpu->policy->phys_addr_bits : 36;
    pg->pdpe1gb = cpu->policy ? cpum_has_feature(cpu->policy, CPUM_FEAT_PDPE1GB) : CAP_FALSE;
}

enum pgm_mode pgm_mode_of(const struct pgm_paging *pg)
{
    if (!(pg->cr0 & CR0_PG) || !(pg->cr0 & CR0_PE))
        return PGM_MODE_NONE;
    if (pg->efer & EFER_LMA)
        return PGM_MODE_LONG;
    return (pg->cr4 & CR4_PAE) ? PGM_MODE_PAE : PGM_MODE_32BIT;
}

unsigned pgm_access_for_cpl(unsigned cpl, unsigned access)
{
    return cpl == 3 ? access | PGM_ACC_USER : access & ~PGM_ACC_USER;
}

struct entry {
    uint64_t gpa, val;
};

static uint64_t read_entry(struct pgm *pgm, uint64_t gpa, unsigned size)
{
    void *p = pgm_gpa_to_hva(pgm, gpa, size, CAP_FALSE);
    if (p)
        return size == 8 ? __atomic_load_n((uint64_t *)p, __ATOMIC_ACQUIRE)
                         : __atomic_load_n((uint32_t *)p, __ATOMIC_ACQUIRE);
    uint64_t v = 0;
    pgm_phys_read(pgm, gpa, &v, size);
    return v;
}

static void set_bits(struct pgm *pgm, const struct entry *e, unsigned size, uint64_t bits)
{
    if ((e->val & bits) == bits)
        return;
    void *p = pgm_gpa_to_hva(pgm, e->gpa, size, CAP_TRUE);
    if (p && size == 8)
        __atomic_fetch_or((uint64_t *)p, bits, __ATOMIC_ACQ_REL);
    else if (p)
        __atomic_fetch_or((uint32_t *)p, (uint32_t)bits, __ATOMIC_ACQ_REL);
    else {
        uint64_t v = e->val | bits;
        pgm_phys_write(pgm, e->gpa, &v, size);
    }
}

static cap_result fault(struct pgm_walk *w, const struct pgm_paging *pg, unsigned access,
                        unsigned level, uint32_t why)
{
    w->level = level;
    w->error_code = why;
    if (access & PGM_ACC_WRITE)
        w->error_code |= PGM_PF_W;
    if (access & PGM_ACC_USER)
        w->error_code |= PGM_PF_U;
    /* I/D: a fetch, where NX can apply (PAE or 4-level paging with NXE) or
     * SMEP is on (SDM Vol. 3A, 4.7). */
    if ((access & PGM_ACC_EXEC) &&
        (((pg->cr4 & CR4_PAE) && (pg->efer & EFER_NXE)) || (pg->cr4 & CR4_SMEP)))
        w->error_code |= PGM_PF_ID;
    return VMM_XCPT_PF;
}

static cap_result check_rights(struct pgm_walk *w, const struct pgm_paging *pg, unsigned access)
{
    cap_bool user = (access & PGM_ACC_USER) != 0;
    if (user && !w->user)
        return fault(w, pg, access, w->level, PGM_PF_P);
    if (!user && w->user) { /* supervisor access to a user page */
        if ((access & PGM_ACC_EXEC) ? (pg->cr4 & CR4_SMEP) != 0
                                    : (pg->cr4 & CR4_SMAP) && !(access & PGM_ACC_AC))
            return fault(w, pg, access, w->level, PGM_PF_P);
    }
    if ((access & PGM_ACC_WRITE) && !w->writable && (user || (pg->cr0 & CR0_WP)))
        return fault(w, pg, access, w->level, PGM_PF_P);
    if ((access & PGM_ACC_EXEC) && w->nx)
        return fault(w, pg, access, w->level, PGM_PF_P);
    return CAP_OK;
}

/* Large-page frame and reserved bits for an entry with PS at `level`. */
static uint64_t large_frame(const struct pgm_paging *pg, enum pgm_mode mode, unsigned level,
                            uint64_t e, uint64_t *rsvd)
{
    unsigned m = pg->phys_addr_bits;
    if (mode == PGM_MODE_32BIT) { /* 4 MiB: PA[39:32] in bits 20:13 (PSE-36) */
        unsigned n = (m > 40 ? 40 : m) - 32;
        *rsvd = BITS(21, 13 + n);
        return (e & 0xffc00000ull) | (((e >> 13) & ((1ull << n) - 1)) << 32);
    }
    unsigned shift = level == 3 ? 30 : 21;
    *rsvd |= BITS(shift - 1, 13);
    return e & BITS(m - 1, shift);
}

cap_result pgm_walk(struct pgm *pgm, const struct pgm_paging *pg, uint64_t va, unsigned access,
                    struct pgm_walk *w)
{
    enum pgm_mode mode = pgm_mode_of(pg);
    memset(w, 0, sizeof(*w));
    w->cr2 = va;
    w->writable = w->user = CAP_TRUE;
    w->page_size = PGM_PAGE_SIZE;
    if (mode == PGM_MODE_NONE) {
        w->gpa = va & 0xffffffffull;
        return CAP_OK;
    }
    unsigned m = pg->phys_addr_bits, es = mode == PGM_MODE_32BIT ? 4 : 8, level, n = 0;
    cap_bool nxe = (pg->efer & EFER_NXE) != 0;
    uint64_t rsvd_hi = 0, table;
    struct entry ents[4];

    if (mode == PGM_MODE_LONG) {
        int64_t s = (int64_t)(va << 16) >> 16;
        if ((uint64_t)s != va)
            return VMM_XCPT_GP;
        rsvd_hi = BITS(51, m) | (nxe ? 0 : PTE_NX);
        table = pg->cr3 & BITS(m - 1, 12);
        level = 4;
    } else if (mode == PGM_MODE_PAE) {
        rsvd_hi = BITS(62, m) | (nxe ? 0 : PTE_NX);
        va &= 0xffffffffull;
        uint64_t pdpte = read_entry(pgm, (pg->cr3 & 0xffffffe0ull) + ((va >> 30) & 3) * 8, 8);
        if (!(pdpte & PTE_P))
            return fault(w, pg, access, 3, 0);
        if (pdpte & (BITS(63, m) | BITS(2, 1) | BITS(8, 5)))
            return fault(w, pg, access, 3, PGM_PF_P | PGM_PF_RSVD);
        table = pdpte & BITS(m - 1, 12);
        level = 2;
    } else {
        va &= 0xffffffffull;
        table = pg->cr3 & 0xfffff000ull;
        level = 2;
    }

    for (;; level--) {
        unsigned shift = 12 + (level - 1) * (es == 8 ? 9 : 10);
        uint64_t idx = (va >> shift) & (es == 8 ? 0x1ff : 0x3ff);
        uint64_t e = read_entry(pgm, table + idx * es, es);
        ents[n++] = (struct entry){table + idx * es, e};
        w->level = level;
        if (!(e & PTE_P))
            return fault(w, pg, access, level, 0);
        uint64_t rsvd = rsvd_hi;
        cap_bool large = CAP_FALSE;
        if (level == 4)
            rsvd |= PTE_PS;
        else if (level == 3 && (e & PTE_PS) && !pg->pdpe1gb)
            rsvd |= PTE_PS;
        else if (level > 1 && (e & PTE_PS))
            large = mode != PGM_MODE_32BIT || (pg->cr4 & CR4_PSE);
        uint64_t frame = large ? large_frame(pg, mode, level, e, &rsvd) : 0;
        if (e & rsvd)
            return fault(w, pg, access, level, PGM_PF_P | PGM_PF_RSVD);
        w->writable &= (e & PTE_W) != 0;
        w->user &= (e & PTE_U) != 0;
        w->nx |= nxe && es == 8 && (e & PTE_NX);
        if (large || level == 1) {
            w->page_size = 1ull << shift;
            frame = large ? frame : (es == 8 ? e & BITS(m - 1, 12) : e & 0xfffff000ull);
            w->gpa = frame | (va & (w->page_size - 1));
            break;
        }
        table = es == 8 ? e & BITS(m - 1, 12) : e & 0xfffff000ull;
    }

    cap_result rc = check_rights(w, pg, access);
    if (CAP_FAILED(rc) || (access & PGM_ACC_NO_AD))
        return rc;
    for (unsigned i = 0; i < n; i++)
        set_bits(pgm, &ents[i], es, PTE_A | (i == n - 1 && (access & PGM_ACC_WRITE) ? PTE_D : 0));
    return CAP_OK;
}

cap_result pgm_virt_read(struct pgm *pgm, const struct pgm_paging *pg, uint64_t va, void *buf,
                         size_t len, unsigned access, struct pgm_walk *w)
{
    uint8_t *out = buf;
    while (len) {
        cap_result rc = pgm_walk(pgm, pg, va, access, w);
        if (CAP_FAILED(rc))
            return rc;
        size_t n = PGM_PAGE_SIZE - (va & PGM_PAGE_MASK);
        if (n > len)
            n = len;
        rc = pgm_phys_read(pgm, w->gpa, out, n);
        if (CAP_FAILED(rc))
            return rc;
        va += n, out += n, len -= n;
    }
    return CAP_OK;
}
