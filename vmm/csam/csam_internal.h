/*
 * csam_internal.h - what csam.c (page records, queries, drops, statistics)
 * and csam_scan.c (the recursive scanner) share.
 */
#ifndef VMM_CSAM_INTERNAL_H
#define VMM_CSAM_INTERNAL_H

#include "csam/csam.h"

#define CSAM_FROM_MAX 4 /* pages whose instruction continues onto one page */
#define CSAM_BITMAP   (CSAM_PAGE_SIZE / 8)

/* struct csam_page.flags */
#define PG_CODE       0x01 /* an instruction was decoded here */
#define PG_INCOMPLETE 0x02 /* a path stopped here on a limit: never ready */

/* One guest-physical page's record; created at the first scan that reaches
 * the page (a decode, a branch target, the tail of a crossing instruction),
 * freed when dropped. */
struct csam_page {
    uint64_t gpa;         /* page-aligned */
    uint64_t va;          /* linear address the first scan reached it at */
    uint32_t gen;         /* this record's generation (queued edges check it) */
    uint32_t pending_out; /* queued branch targets whose branch lies here */
    uint8_t mode;         /* enum dis_mode of the code on it */
    uint8_t flags;        /* PG_* */
    uint8_t nfrom;
    uint16_t ninsn, cap;
    uint64_t from[CSAM_FROM_MAX];
    uint8_t start[CSAM_BITMAP], target[CSAM_BITMAP], entry[CSAM_BITMAP];
    struct csam_insn *insns; /* sorted by off */
};

/* A queued branch target and the page of its branch. */
struct csam_work {
    uint64_t va;
    uint64_t src_gpa;
    uint32_t src_gen;
    uint8_t mode;
    uint8_t mark; /* a branch target or entry: marked again if its page was dropped since */
};

struct csam {
    struct csam_config cfg;
    struct csam_page **slot; /* open addressing, linear probing */
    size_t nslot;            /* power of 2, >= 2 * max_pages */
    uint32_t next_gen;
    struct csam_work *work; /* a stack */
    size_t nwork;
    struct csam_stats st;
    uint8_t scan_buf[CSAM_PAGE_SIZE + DIS_MAX_LEN]; /* a page, then the next one's first bytes */
    uint8_t scan_next[CSAM_PAGE_SIZE];
};

static inline int bit_get(const uint8_t *bm, unsigned off)
{
    return (bm[off >> 3] >> (off & 7)) & 1;
}
static inline void bit_set(uint8_t *bm, unsigned off)
{
    bm[off >> 3] |= (uint8_t)(1u << (off & 7));
}

struct csam_page *csam_page_find(const struct csam *c, uint64_t gpa);
/* The record of gpa's page, created with `mode` when missing; NULL when the
 * table is full or out of memory. */
struct csam_page *csam_page_get(struct csam *c, uint64_t gpa, uint64_t va, uint8_t mode);
/* Inserts or merges a recorded instruction; 0, or -1 out of memory. */
int csam_page_add_insn(struct csam_page *p, const struct csam_insn *in);

#endif
