/*
 * raw_snap.c - when a guest invalidation needs no flush (raw_internal.h:
 * struct raw_snap; host-neutral).
 *
 * KVM never sees the page-table writes rem makes (tools/probes/raw
 * README, fact 2), so raw drops every shadow page when the guest
 * invalidated (MOV CR3, INVLPG, ...) since its last run. Most of those
 * invalidations change nothing KVM holds: a Linux guest with page-table
 * isolation writes CR3 at every kernel exit, switching to the user PGD,
 * whose user half is the kernel PGD's. raw keeps a copy of every table KVM
 * may have shadowed since the last flush - the raw root's user half and
 * every table reachable from it at some raw entry - and at each entry
 * compares them with the guest's memory: an entry that lost something
 * (raw_pte_lost) is remembered until the next flush. When the guest
 * invalidated and nothing was lost, the flush is skipped (/RAW/FlushesSkipped):
 * KVM's translations all still hold. Upgrades (not present -> present, more
 * rights) need nothing (KVM re-walks on its fault) but the copy takes them,
 * so a later downgrade back is seen as a loss. Tables that leave the tree
 * stay in the copy (KVM may keep their shadow pages, and the guest may link
 * them again). More tables than RAW_SNAP_MAX, or one outside RAM, and the
 * copy is incomplete: every invalidation flushes, as before.
 */
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>

#include "raw_internal.h"

#define PTE_P    (1ull << 0)
#define PTE_PS   (1ull << 7)
#define PTE_ADDR 0x000ffffffffff000ull

cap_result raw_snap_init(struct raw_snap *s)
{
    memset(s, 0, sizeof(*s));
    s->pages = calloc(RAW_SNAP_MAX, sizeof(*s->pages));
    if (!s->pages)
        return cap_error_set(CAP_E_OUTOFMEMORY, VMM_COMPONENT, NULL, "raw: out of memory");
    raw_snap_reset(s);
    return CAP_OK;
}

void raw_snap_free(struct raw_snap *s)
{
    free(s->pages);
    s->pages = NULL;
}

void raw_snap_reset(struct raw_snap *s)
{
    s->n = 0;
    s->complete = CAP_TRUE;
    s->lost = CAP_FALSE;
    s->root_known = CAP_FALSE;
}

static void compare(struct raw_snap *s, uint64_t *copy, const uint64_t *cur, unsigned count)
{
    if (!memcmp(copy, cur, count * sizeof(uint64_t)))
        return;
    for (unsigned i = 0; i < count && !s->lost; i++)
        if (raw_pte_lost(copy[i], cur[i]))
            s->lost = CAP_TRUE;
    memcpy(copy, cur, count * sizeof(uint64_t));
}

static struct raw_snap_page *find(struct raw_snap *s, uint64_t gpa)
{
    for (unsigned i = 0; i < s->n; i++)
        if (s->pages[i].gpa == gpa)
            return &s->pages[i];
    return NULL;
}

/* Adds the table at `gpa` (a PDPT at level 3 .. a PT at 1) and what it
 * links to, copying each table met for the first time. */
static void add_tree(struct raw_snap *s, const struct pgm *pgm, uint64_t gpa, unsigned level)
{
    const uint64_t *t = pgm_gpa_to_hva(pgm, gpa, 4096, CAP_FALSE);
    if (!t) {
        s->complete = CAP_FALSE;
        return;
    }
    if (!find(s, gpa)) {
        if (s->n == RAW_SNAP_MAX) {
            s->complete = CAP_FALSE;
            return;
        }
        struct raw_snap_page *p = &s->pages[s->n++];
        p->gpa = gpa;
        memcpy(p->e, t, sizeof(p->e));
    }
    if (level == 1)
        return;
    for (unsigned i = 0; i < 512 && s->complete; i++)
        if ((t[i] & PTE_P) && !(t[i] & PTE_PS))
            add_tree(s, pgm, t[i] & PTE_ADDR, level - 1);
}

void raw_snap_update(struct raw_snap *s, const struct pgm *pgm, const uint64_t *guest_pml4)
{
    if (!s->complete)
        return; /* the next invalidation flushes anyway */
    if (s->root_known)
        compare(s, s->root, guest_pml4, 256);
    else
        memcpy(s->root, guest_pml4, sizeof(s->root));
    s->root_known = CAP_TRUE;
    for (unsigned i = 0; i < s->n && s->complete; i++) {
        const uint64_t *t = pgm_gpa_to_hva(pgm, s->pages[i].gpa, 4096, CAP_FALSE);
        if (!t)
            s->complete = CAP_FALSE;
        else
            compare(s, s->pages[i].e, t, 512);
    }
    for (unsigned i = 0; i < 256 && s->complete; i++)
        if (guest_pml4[i] & PTE_P)
            add_tree(s, pgm, guest_pml4[i] & PTE_ADDR, 3);
}
