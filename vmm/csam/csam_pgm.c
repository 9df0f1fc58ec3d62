/*
 * csam_pgm.c - struct csam_mem over PGM: the page walker for a supervisor
 * instruction fetch (no accessed/dirty updates: scanning is not executing),
 * and RAM or ROM only (never MMIO, whose reads have side effects).
 */
#include <string.h>

#include "csam/csam_internal.h"
#include "pgm/pgm.h"

static int pgm_translate(void *user, uint64_t va, uint64_t *gpa)
{
    struct csam_pgm_mem *m = user;
    struct pgm_walk w;
    if (pgm_walk(m->pgm, m->pg, va, PGM_ACC_EXEC | PGM_ACC_NO_AD, &w) != CAP_OK)
        return -1;
    *gpa = w.gpa & ~CSAM_PAGE_MASK;
    return 0;
}

static int pgm_read_page(void *user, uint64_t gpa, uint8_t *buf)
{
    struct csam_pgm_mem *m = user;
    const void *h = pgm_gpa_to_hva(m->pgm, gpa, CSAM_PAGE_SIZE, CAP_FALSE);
    if (!h)
        return -1;
    memcpy(buf, h, CSAM_PAGE_SIZE);
    return 0;
}

void csam_mem_pgm(struct csam_mem *mem, struct csam_pgm_mem *ctx, struct pgm *pgm,
                  const struct pgm_paging *pg)
{
    ctx->pgm = pgm;
    ctx->pg = pg;
    mem->translate = pgm_translate;
    mem->read_page = pgm_read_page;
    mem->user = ctx;
}
