/*
 * csam.c - CSAM's page records: a hash table of struct csam_page keyed by
 * guest-physical page (open addressing, linear probing, backward-shift
 * deletion so that lookups need no tombstones), the queries the raw engine
 * and PATM ask and the write hook that drops records. The scanner that
 * fills the records is csam_scan.c; csam_stats.c registers the counters,
 * csam_pgm.c reads guest code through PGM.
 */
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>

#include "csam/csam_internal.h"

static size_t hash_gpa(const struct csam *c, uint64_t gpa)
{
    uint64_t h = (gpa >> 12) * 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 20) & (c->nslot - 1);
}

cap_result csam_create(const struct csam_config *cfg, struct csam **out)
{
    struct csam *c = calloc(1, sizeof(*c));
    *out = NULL;
    if (!c)
        goto oom;
    if (cfg)
        c->cfg = *cfg;
    if (!c->cfg.max_pages)
        c->cfg.max_pages = CSAM_DEFAULT_PAGES;
    if (!c->cfg.max_pending)
        c->cfg.max_pending = CSAM_DEFAULT_PENDING;
    if (c->cfg.max_pages > (1u << 24) || c->cfg.max_pending > (1u << 24)) {
        free(c);
        return cap_error_set(CAP_E_INVALIDARG, "vmm", NULL,
                             "csam: max_pages and max_pending are at most 2^24");
    }
    c->nslot = 16;
    while (c->nslot < 2 * (size_t)c->cfg.max_pages)
        c->nslot <<= 1;
    c->slot = calloc(c->nslot, sizeof(*c->slot));
    c->work = malloc(c->cfg.max_pending * sizeof(*c->work));
    if (!c->slot || !c->work)
        goto oom;
    c->next_gen = 1;
    *out = c;
    return CAP_OK;
oom:
    csam_destroy(c);
    return cap_error_set(CAP_E_OUTOFMEMORY, "vmm", NULL, "csam: out of memory for the page table");
}

static void page_free(struct csam_page *p)
{
    if (p) {
        free(p->insns);
        free(p);
    }
}

void csam_destroy(struct csam *c)
{
    if (!c)
        return;
    if (c->slot)
        for (size_t i = 0; i < c->nslot; i++)
            page_free(c->slot[i]);
    free(c->slot);
    free(c->work);
    free(c);
}

static size_t find_slot(const struct csam *c, uint64_t gpa)
{
    size_t i = hash_gpa(c, gpa);
    while (c->slot[i] && c->slot[i]->gpa != gpa)
        i = (i + 1) & (c->nslot - 1);
    return i;
}

struct csam_page *csam_page_find(const struct csam *c, uint64_t gpa)
{
    return c->slot[find_slot(c, gpa & ~CSAM_PAGE_MASK)];
}

struct csam_page *csam_page_get(struct csam *c, uint64_t gpa, uint64_t va, uint8_t mode)
{
    gpa &= ~CSAM_PAGE_MASK;
    size_t i = find_slot(c, gpa);
    if (c->slot[i])
        return c->slot[i];
    if (c->st.pages >= c->cfg.max_pages)
        return NULL;
    struct csam_page *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->gpa = gpa;
    p->va = va & ~CSAM_PAGE_MASK;
    p->mode = mode;
    p->gen = c->next_gen++;
    c->slot[i] = p;
    c->st.pages++;
    return p;
}

/* Removes slot i, shifting later members of its probe run back. */
static void slot_remove(struct csam *c, size_t i)
{
    size_t mask = c->nslot - 1, j = i;
    page_free(c->slot[i]);
    c->slot[i] = NULL;
    c->st.pages--;
    for (;;) {
        j = (j + 1) & mask;
        if (!c->slot[j])
            return;
        size_t h = hash_gpa(c, c->slot[j]->gpa);
        /* slot j may move to the hole at i unless its home lies in (i, j] */
        if (i <= j ? (h > i && h <= j) : (h > i || h <= j))
            continue;
        c->slot[i] = c->slot[j];
        c->slot[j] = NULL;
        i = j;
    }
}

static void drop(struct csam *c, uint64_t gpa)
{
    size_t i = find_slot(c, gpa & ~CSAM_PAGE_MASK);
    if (c->slot[i]) {
        slot_remove(c, i);
        c->st.pages_dropped++;
    }
}

void csam_page_written(struct csam *c, uint64_t gpa)
{
    struct csam_page *p = csam_page_find(c, gpa);
    if (!p)
        return;
    /* The pages whose last instruction ends here changed too (not further:
     * their own bytes did not). */
    uint64_t from[CSAM_FROM_MAX];
    unsigned n = p->nfrom;
    memcpy(from, p->from, sizeof(from));
    drop(c, gpa);
    for (unsigned k = 0; k < n; k++)
        drop(c, from[k]);
}

void csam_reset(struct csam *c)
{
    for (size_t i = 0; i < c->nslot; i++) {
        page_free(c->slot[i]);
        c->slot[i] = NULL;
    }
    c->st.pages = 0;
    c->nwork = 0;
}

int csam_page_add_insn(struct csam_page *p, const struct csam_insn *in)
{
    unsigned lo = 0, hi = p->ninsn;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (p->insns[mid].off < in->off)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < p->ninsn && p->insns[lo].off == in->off)
        return 0; /* decoded once per start: the same bytes give the same record */
    if (p->ninsn == p->cap) {
        unsigned ncap = p->cap ? p->cap * 2u : 8u;
        struct csam_insn *n = realloc(p->insns, ncap * sizeof(*n));
        if (!n)
            return -1;
        p->insns = n;
        p->cap = (uint16_t)ncap;
    }
    memmove(&p->insns[lo + 1], &p->insns[lo], (p->ninsn - lo) * sizeof(*in));
    p->insns[lo] = *in;
    p->ninsn++;
    return 0;
}

/* ---- queries ---- */

cap_bool csam_page_scanned(const struct csam *c, uint64_t gpa)
{
    const struct csam_page *p = csam_page_find(c, gpa);
    return p && (p->flags & PG_CODE);
}

cap_bool csam_page_ready(const struct csam *c, uint64_t gpa)
{
    const struct csam_page *p = csam_page_find(c, gpa);
    return p && (p->flags & (PG_CODE | PG_INCOMPLETE)) == PG_CODE && !p->pending_out;
}

cap_bool csam_is_insn_start(const struct csam *c, uint64_t gpa)
{
    const struct csam_page *p = csam_page_find(c, gpa);
    return p && bit_get(p->start, (unsigned)(gpa & CSAM_PAGE_MASK));
}

cap_bool csam_is_entry(const struct csam *c, uint64_t gpa)
{
    const struct csam_page *p = csam_page_find(c, gpa);
    return p && bit_get(p->entry, (unsigned)(gpa & CSAM_PAGE_MASK));
}

cap_bool csam_range_has_target(const struct csam *c, uint64_t a, uint64_t b)
{
    const struct csam_page *p = csam_page_find(c, a);
    if (!p || b <= a + 1)
        return CAP_FALSE;
    unsigned lo = (unsigned)(a & CSAM_PAGE_MASK) + 1;
    uint64_t end = b - (a & ~CSAM_PAGE_MASK);
    unsigned hi = end > CSAM_PAGE_SIZE ? CSAM_PAGE_SIZE : (unsigned)end;
    for (unsigned t = lo; t < hi; t++)
        if (bit_get(p->target, t))
            return CAP_TRUE;
    return CAP_FALSE;
}

size_t csam_page_insns(const struct csam *c, uint64_t gpa, const struct csam_insn **out)
{
    const struct csam_page *p = csam_page_find(c, gpa);
    *out = p ? p->insns : NULL;
    return p ? p->ninsn : 0;
}

void csam_get_stats(const struct csam *c, struct csam_stats *out)
{
    *out = c->st;
}
