/*
 * paging_common.h - the checks shared by paging32.c (32-bit and PAE tables)
 * and paging64.c (4-level tables): given a test window of virtual pages
 * that the caller mapped as described below, checks translation, aliases,
 * the accessed and dirty bits, #PF error codes and CR2, CR0.WP, and NX.
 *
 *   va + 0x0000  -> page A, writable
 *   va + 0x1000  -> page A, read-only (an alias)
 *   va + 0x2000  -> page B, writable, NX when nx is set
 *   va + 0x3000  not present
 */
#ifndef PAGING_COMMON_H
#define PAGING_COMMON_H

#include "guest.h"

struct pte_ref {
    void *p;
    int wide; /* 64-bit entries */
};

static inline uint64_t pte_get(struct pte_ref r)
{
    return r.wide ? *(volatile uint64_t *)r.p : *(volatile uint32_t *)r.p;
}

static inline void pte_set(struct pte_ref r, uint64_t v)
{
    if (r.wide)
        *(volatile uint64_t *)r.p = v;
    else
        *(volatile uint32_t *)r.p = (uint32_t)v;
}

static ureg pg_probe;

static void pg_read(void *a)
{
    (void)a;
    *(volatile uint32_t *)pg_probe;
}

static void pg_write(void *a)
{
    (void)a;
    *(volatile uint32_t *)pg_probe = 0x77;
}

static void pg_call(void *a)
{
    (void)a;
    ((void (*)(void))pg_probe)();
}

static void expect_pf(void (*fn)(void *), ureg va, unsigned err)
{
    struct trap_info ti;
    pg_probe = va;
    int v = trap_run(fn, NULL, &ti);
    if (v != 14)
        guest_fail("access to 0x%lx: vector %d, expected #PF (error 0x%x)", (unsigned long)va, v, err);
    if (ti.cr2 != va || ti.error != err)
        guest_fail("#PF at 0x%lx: CR2 0x%lx error 0x%lx, expected CR2 0x%lx error 0x%x",
                   (unsigned long)ti.ip, (unsigned long)ti.cr2, (unsigned long)ti.error,
                   (unsigned long)va, err);
}

/* pte[i] is the PTE of va + i * 0x1000; pa_a/pa_b the physical pages
 * (identity-mapped too, so the checks can look at them directly). */
static void paging_checks(const char *what, ureg va, struct pte_ref pte[4], uint8_t *pa_a,
                          uint8_t *pa_b, int nx)
{
    volatile uint32_t *w = (volatile uint32_t *)va;
    volatile uint32_t *alias = (volatile uint32_t *)(va + 0x1000);

    /* Translation and aliases; A and D. */
    CHECK_EQ(pte_get(pte[0]) & (PTE_A | PTE_D), 0);
    w[3] = 0xfeedf00d;
    CHECK_EQ(*(volatile uint32_t *)(pa_a + 12), 0xfeedf00d);
    CHECK_EQ(pte_get(pte[0]) & (PTE_A | PTE_D), PTE_A | PTE_D);
    CHECK_EQ(pte_get(pte[1]) & (PTE_A | PTE_D), 0);
    CHECK_EQ(alias[3], 0xfeedf00d);
    CHECK_EQ(pte_get(pte[1]) & (PTE_A | PTE_D), PTE_A); /* read: accessed, not dirty */

    /* Not present: read, write. */
    expect_pf(pg_read, va + 0x3010, 0);
    expect_pf(pg_write, va + 0x3ffc, PF_W);
    /* Read-only with CR0.WP: a supervisor write faults with P|W. */
    expect_pf(pg_write, va + 0x1008, PF_P | PF_W);
    CHECK_EQ(pa_a[8], 0);
    write_cr0(read_cr0() & ~(ureg)CR0_WP);
    pg_probe = va + 0x1008;
    pg_write(NULL);
    write_cr0(read_cr0() | CR0_WP);
    CHECK_EQ(pa_a[8], 0x77);
    /* A PTE change is seen after INVLPG. */
    pte_set(pte[3], pte_get(pte[0]));
    invlpg(va + 0x3000);
    CHECK_EQ(*(volatile uint32_t *)(va + 0x300c), 0xfeedf00d);
    pte_set(pte[3], 0);
    invlpg(va + 0x3000);
    expect_pf(pg_read, va + 0x3000, 0);

    /* Execute: B holds a RET. */
    pa_b[0] = 0xc3;
    if (nx) {
        expect_pf(pg_call, va + 0x2000, PF_P | PF_I);
        pte_set(pte[2], pte_get(pte[2]) & ~PTE_NX);
        invlpg(va + 0x2000);
    }
    pg_probe = va + 0x2000;
    pg_call(NULL);
    gprintf("ok %s: translation, aliases, A/D, #PF codes and CR2, WP, INVLPG%s\n", what,
            nx ? ", NX" : "");
}

#endif
