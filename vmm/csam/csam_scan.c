/*
 * csam_scan.c - CSAM's recursive scanner. A path is decoded instruction by
 * instruction from its start; conditional branches and direct calls queue
 * their target (a stack of struct csam_work, bounded by cfg.max_pending)
 * and go on with the fall-through, a direct JMP continues at its target, and
 * the path ends at RET/IRET/SYSRET, an indirect or far JMP, UD2, INT3,
 * SYSCALL, bytes that do not decode, or an instruction decoded before (two
 * paths meeting). A queued target marks the page of its branch busy
 * (pending_out) until it is taken from the queue, so that page is not
 * ready while a way out of it is unexplored. An instruction that continues
 * onto the next page is decoded from both pages' bytes and links the two
 * records (a write to the second drops the first).
 */
#include <string.h>

#include "csam/csam_internal.h"

#define NO_GPA (~0ull)

struct scan {
    struct csam *c;
    const struct csam_mem *mem;
    unsigned budget;
    uint64_t buf_gpa; /* the page in buf, NO_GPA */
    uint8_t *buf;     /* struct csam's scan_buf */
    uint8_t *next;    /* struct csam's scan_next */
};

static void limit(struct csam *c, struct csam_page *p)
{
    c->st.limits++;
    if (p)
        p->flags |= PG_INCOMPLETE;
}

static uint64_t wrap(uint64_t va, enum dis_mode mode)
{
    return mode == DIS_MODE_64 ? va : (uint32_t)va; /* 16/32-bit: flat CS (base 0) */
}

/* Queues va (a branch target when mark) with `src` as the page of its branch. */
static void queue(struct scan *s, uint64_t va, uint8_t mode, struct csam_page *src, int mark)
{
    struct csam *c = s->c;
    uint64_t gpa;
    if (s->mem->translate(s->mem->user, va, &gpa)) {
        c->st.unmapped++;
        return;
    }
    struct csam_page *q = csam_page_get(c, gpa, va, mode);
    if (!q) {
        limit(c, src);
        return;
    }
    unsigned off = (unsigned)(va & CSAM_PAGE_MASK);
    if (mark)
        bit_set(q->target, off);
    if (bit_get(q->start, off))
        return;
    if (c->nwork == c->cfg.max_pending) {
        limit(c, src);
        return;
    }
    c->work[c->nwork++] =
        (struct csam_work){va, src ? src->gpa : NO_GPA, src ? src->gen : 0, mode, (uint8_t)mark};
    if (src)
        src->pending_out++;
}

static int load(struct scan *s, uint64_t gpa)
{
    if (s->buf_gpa == gpa)
        return 0;
    s->buf_gpa = NO_GPA;
    if (s->mem->read_page(s->mem->user, gpa, s->buf))
        return -1;
    s->buf_gpa = gpa;
    return 0;
}

/* Records that an instruction of page `from` continues onto q. */
static int link_from(const struct csam *c, struct csam_page *q, uint64_t from)
{
    for (unsigned k = 0; k < q->nfrom; k++)
        if (q->from[k] == from)
            return 0;
    for (unsigned k = 0; k < q->nfrom;) /* forget pages dropped since */
        if (!csam_page_find(c, q->from[k]))
            q->from[k] = q->from[--q->nfrom];
        else
            k++;
    if (q->nfrom == CSAM_FROM_MAX)
        return -1;
    q->from[q->nfrom++] = from;
    return 0;
}

/* Decodes at va, whose bytes start on page p (loaded in s->buf): the
 * length, or a DIS_ERR_* (the instruction does not decode), or 0 when the
 * next page it continues on cannot be read (the path ends there). */
static int decode_at(struct scan *s, struct csam_page *p, uint64_t va, struct dis_insn *in)
{
    unsigned off = (unsigned)(va & CSAM_PAGE_MASK), avail = CSAM_PAGE_SIZE - off;
    int rc = dis_decode(s->buf + off, avail, (enum dis_mode)p->mode, in);
    if (rc != DIS_ERR_MORE)
        return rc;
    uint64_t va2 = wrap((va | CSAM_PAGE_MASK) + 1, (enum dis_mode)p->mode), gpa2;
    if (s->mem->translate(s->mem->user, va2, &gpa2) ||
        s->mem->read_page(s->mem->user, gpa2, s->next)) {
        s->c->st.unmapped++;
        limit(s->c, p); /* an instruction on it was not decoded */
        return 0;
    }
    memcpy(s->buf + CSAM_PAGE_SIZE, s->next, DIS_MAX_LEN);
    rc = dis_decode(s->buf + off, avail + DIS_MAX_LEN, (enum dis_mode)p->mode, in);
    if (rc > (int)avail) {
        struct csam_page *q = csam_page_get(s->c, gpa2, va2, p->mode);
        if (!q || link_from(s->c, q, p->gpa)) {
            limit(s->c, p);
            return 0;
        }
        s->c->st.cross++;
    }
    return rc;
}

/* What the instruction does to its path: 1 = the path ends, 0 = goes on at
 * *next. Queues the targets of conditional branches and direct calls. */
static int follow(struct scan *s, struct csam_page *p, uint64_t va, const struct dis_insn *in,
                  struct csam_insn *r, uint64_t *next, int *jumped)
{
    int direct = in->nops && in->op[0].kind == DIS_OP_REL;
    *next = wrap(va + in->length, (enum dis_mode)p->mode);
    switch (in->cf) {
    case DIS_CF_JMP:
        if (!direct) {
            r->flags |= CSAM_INSN_INDIRECT | CSAM_INSN_END;
            return 1;
        }
        *next = dis_rel_target(in, va);
        *jumped = 1;
        return 0;
    case DIS_CF_JCC:
    case DIS_CF_LOOP:
        queue(s, dis_rel_target(in, va), p->mode, p, 1);
        return 0;
    case DIS_CF_CALL:
        if (direct)
            queue(s, dis_rel_target(in, va), p->mode, p, 1);
        else
            r->flags |= CSAM_INSN_INDIRECT;
        return 0;
    case DIS_CF_RET:
    case DIS_CF_RETF:
    case DIS_CF_IRET:
    case DIS_CF_JMPF:
    case DIS_CF_SYSRET:
    case DIS_CF_SYSCALL:
    case DIS_CF_UD:
        r->flags |= CSAM_INSN_END;
        return 1;
    case DIS_CF_INT:
        /* int3 is Linux's padding and breakpoint: its return is an entry
         * found when it happens; int n returns to the next instruction */
        if (in->mnem == DIS_int3) {
            r->flags |= CSAM_INSN_END;
            return 1;
        }
        return 0;
    default:
        return 0;
    }
}

/* One path from va. CSAM_DONE when it ended, CSAM_MORE when the budget ran
 * out (the rest is queued again). */
static int run_path(struct scan *s, uint64_t va, uint8_t mode, int jumped)
{
    struct csam *c = s->c;
    struct csam_page *prev = NULL;
    for (;;) {
        if (!s->budget) {
            queue(s, va, mode, prev, jumped);
            return CSAM_MORE;
        }
        uint64_t gpa;
        if (s->mem->translate(s->mem->user, va, &gpa)) {
            c->st.unmapped++;
            return CSAM_DONE;
        }
        struct csam_page *p = csam_page_get(c, gpa, va, mode);
        if (!p || p->mode != mode) {
            limit(c, p ? p : prev);
            return CSAM_DONE;
        }
        unsigned off = (unsigned)(va & CSAM_PAGE_MASK);
        if (jumped)
            bit_set(p->target, off);
        if (bit_get(p->start, off))
            return CSAM_DONE;
        if (load(s, p->gpa)) {
            c->st.unmapped++;
            limit(c, p);
            return CSAM_DONE;
        }
        struct dis_insn in;
        int rc = decode_at(s, p, va, &in);
        if (rc == 0)
            return CSAM_DONE;
        s->budget--;
        c->st.insns++;
        if (!(p->flags & PG_CODE)) {
            p->flags |= PG_CODE;
            c->st.pages_scanned++;
        }
        bit_set(p->start, off);
        struct csam_insn r = {(uint16_t)off, in.length, in.sens, in.mnem, in.cf, 0};
        int end;
        uint64_t next = 0;
        jumped = 0;
        if (rc < 0) {
            r.len = in.length ? (in.length > DIS_MAX_LEN ? DIS_MAX_LEN : in.length) : 1;
            r.sens = DIS_SENS_UD;
            r.mnem = DIS_invalid;
            r.cf = DIS_CF_UD;
            r.flags = CSAM_INSN_INVALID | CSAM_INSN_END;
            c->st.invalid++;
            end = 1;
        } else {
            if (c->cfg.ignore & (1u << r.sens))
                r.sens = DIS_SENS_NONE;
            if (r.sens)
                c->st.sens[r.sens]++;
            end = follow(s, p, va, &in, &r, &next, &jumped);
        }
        if (rc > 0 && (unsigned)rc > CSAM_PAGE_SIZE - off)
            r.flags |= CSAM_INSN_CROSS;
        if ((r.sens || r.flags) && csam_page_add_insn(p, &r)) {
            limit(c, p);
            return CSAM_DONE;
        }
        if (end)
            return CSAM_DONE;
        prev = p;
        va = next;
    }
}

static int run_queue(struct scan *s)
{
    struct csam *c = s->c;
    while (c->nwork) {
        if (!s->budget) {
            c->st.budget_stops++;
            return CSAM_MORE;
        }
        struct csam_work w = c->work[--c->nwork];
        struct csam_page *src = w.src_gpa == NO_GPA ? NULL : csam_page_find(c, w.src_gpa);
        if (src && src->gen == w.src_gen && src->pending_out)
            src->pending_out--;
        if (run_path(s, w.va, w.mode, w.mark) == CSAM_MORE) {
            c->st.budget_stops++;
            return CSAM_MORE;
        }
    }
    return CSAM_DONE;
}

static int check_args(const struct csam *c, const struct csam_mem *mem, unsigned budget)
{
    return c && mem && mem->translate && mem->read_page && budget ? 0 : -1;
}

int csam_scan(struct csam *c, const struct csam_mem *mem, uint64_t va, enum dis_mode mode,
              unsigned budget)
{
    if (check_args(c, mem, budget) ||
        (mode != DIS_MODE_16 && mode != DIS_MODE_32 && mode != DIS_MODE_64))
        return CSAM_BADARG;
    uint64_t gpa;
    va = wrap(va, mode);
    if (mem->translate(mem->user, va, &gpa))
        return CSAM_UNMAPPED;
    struct csam_page *p = csam_page_get(c, gpa, va, (uint8_t)mode);
    if (!p) {
        c->st.limits++;
        return CSAM_UNMAPPED;
    }
    unsigned off = (unsigned)(va & CSAM_PAGE_MASK);
    bit_set(p->entry, off);
    bit_set(p->target, off);
    if (!bit_get(p->start, off)) {
        if (c->nwork == c->cfg.max_pending) {
            limit(c, p);
            return CSAM_DONE;
        }
        c->work[c->nwork++] = (struct csam_work){va, NO_GPA, 0, (uint8_t)mode, 1};
    }
    return csam_resume(c, mem, budget);
}

int csam_resume(struct csam *c, const struct csam_mem *mem, unsigned budget)
{
    if (check_args(c, mem, budget))
        return CSAM_BADARG;
    struct scan s = {c, mem, budget, NO_GPA, c->scan_buf, c->scan_next};
    return run_queue(&s);
}
