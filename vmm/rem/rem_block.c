/*
 * rem_block.c - the decoded-block cache and the block executor.
 *
 * A block is a straight run of instructions inside one guest page, decoded
 * once: it ends after a control transfer (any dis_cf), after an instruction
 * that may change the mode, privilege, translations, interrupt state or
 * leave the run (privileged, sensitive, I/O, string), before an instruction
 * rem_exec_one would refuse (#UD forms) or that crosses the page, and after
 * REM_BLOCK_MAX instructions. Each instruction keeps its decoded form and
 * its handler, resolved when the block is built (rem_fast.c: specialised
 * handlers for the frequent forms, rem_execute for the rest), so running
 * it is one indirect call.
 *
 * Keyed by the guest-physical address of the first byte and the code size,
 * in a direct-mapped table; instructions and bytes live in two pools that
 * are emptied together when either is full (no allocation while running).
 *
 * Staleness, the rules that keep blocks exact:
 *   - Guest writes: a page that holds blocks is marked (code_pages); its
 *     write TLB entries have no host pointer (rem_mem.c, code_addend), so
 *     every write to it by this vCPU takes the slow path, which bumps the
 *     page's generation and v->epoch: the running block stops after
 *     that instruction, and a block whose page generation moved compares its
 *     bytes with guest memory before it runs again (rebuilt if they differ).
 *     Self-modifying code is exact to the instruction.
 *   - Every other writer (devices, the loader, another engine, a test
 *     rewriting memory between runs): blocks compare their bytes once per
 *     check epoch, which starts with every rem_vcpu_run, after a block that
 *     ends with a privileged, sensitive, I/O or interrupt/far-transfer
 *     instruction (the serialising ones the SDM requires after cross-
 *     modifying code are among them), and after an MMIO access (a device may
 *     have written RAM). A write from another thread during a run is seen by
 *     the next epoch at the latest - at most one EM slice later.
 *   - An instruction that changes the mode or flushes translations bumps
 *     v->epoch (rem_update_mode, rem_tlb_flush*); the block stops after it.
 *   - Linear-to-physical: the entry looks the page up in the execute TLB
 *     like any fetch; outside 64-bit mode the whole block must lie inside
 *     the CS limit, else the instruction goes the one-by-one way.
 *
 *   - Blocks cover guest-physical 0..4 GiB (the generation array); code
 *     above runs one instruction at a time.
 *
 * Translation (rem_jit.c): a block of 64-bit code that has run
 * v->jit_hot times is translated to host code for the current CPL; it then
 * runs as one call when the budget covers the whole block (else the loop
 * below, instruction by instruction). A translation lives in the block
 * (b->jit) and refers to its decoded instructions, so a rebuilt block drops
 * it and a flush of the pools drops all of them with the code buffer; a full
 * code buffer drops every translation too. The staleness rules above hold
 * unchanged: a translated block is looked up, checked and rebuilt like any.
 * When a translation left by an exit not yet linked and the next block runs
 * translated too, the exit is linked to it (rem_jit_link): later runs jump
 * straight from one to the other, the link repeating at run time the
 * checks below and the lookup's validity tests (same translation, checked
 * in this check epoch, page generation, execute-TLB entry).
 *
 * Sizes: the Linux boot's kernel and user code thrashed a 4096-block table
 * and a 16 Ki-instruction pool (4.9 M builds, 1589 pool flushes, each
 * dropping every translation); 64 Ki blocks and 256 Ki instructions (56 MiB
 * of address space, touched as used) cut that to ~0.4 M builds, 8 flushes.
 *
 * Budget and kicks: the budget is counted per instruction (exact, as EM's
 * slices need); the kick, the interrupt window and TF are looked at between
 * blocks, here when one block chains to the next (same page: no TLB lookup;
 * a block looping onto itself: no lookup at all) or by the loop in
 * rem_run.c. An interrupt shadow (STI, MOV/POP SS, LSS) is only ever set by
 * the last instruction of a block (ends_block), so the executor looks at it
 * after the block - an instruction that sets it must end its block.
 */
#include <stdlib.h>

#include <capsule/errorinfo.h>

#include "rem_internal.h"

#define REM_BLOCK_MAX 32u
#define REM_BCACHE_SIZE 65536u          /* blocks, direct-mapped */
#define REM_BPOOL_INSNS 262144u         /* decoded instructions in all blocks (56 MiB, touched as used) */
#define REM_BPOOL_BYTES (REM_BPOOL_INSNS * 6u)
#define REM_CODE_PAGES (1ull << 20)     /* blocks cover guest-physical 0..4 GiB */

struct rem_block {
    uint64_t gpa;    /* of the first byte; ~0: empty */
    const struct rem_binsn *insn; /* its first instruction in the pool */
    uint32_t bytes;  /* index in the byte pool */
    uint16_t nbytes;
    uint8_t n;       /* instructions */
    uint8_t bits;    /* code size decoded for */
    bool sync;       /* ends with an instruction that starts a new check epoch */
    uint32_t gen;    /* its page's write generation when last checked */
    uint32_t checked;/* the check epoch it was last compared in */
    rem_jit_fn jit;  /* its translation (rem_jit.c) for CPL jit_cpl, or NULL */
    uint8_t jit_cpl;
    bool no_jit;     /* the translator refused it */
    uint16_t runs;   /* times it ran, up to the translation threshold */
};

struct rem_bcache {
    struct rem_block blocks[REM_BCACHE_SIZE];
    uint32_t insns_used, bytes_used;
    uint8_t *code_pages; /* bitmap: a page holds blocks (its writes take the slow path) */
    uint32_t *gen;       /* per page: guest writes to it while it held blocks */
    uint32_t check_epoch;/* blocks compare their bytes once per epoch */
    struct rem_jit *jit; /* the translator's code buffer, NULL: interpret only */
    uint8_t bytes[REM_BPOOL_BYTES + 8]; /* + padding for same_bytes' last word */
    struct rem_binsn insns[REM_BPOOL_INSNS];
};

rem_insn_fn rem_fast_handler(const struct dis_insn *in);

/* Translations refer to the pools: emptied with them. */
static void bcache_flush(struct rem_bcache *bc)
{
    for (unsigned i = 0; i < REM_BCACHE_SIZE; i++) {
        bc->blocks[i].gpa = ~0ull;
        bc->blocks[i].jit = NULL;
    }
    rem_jit_reset(bc->jit);
    bc->insns_used = 0;
    bc->bytes_used = 0;
    memset(bc->code_pages, 0, REM_CODE_PAGES / 8);
}

cap_result rem_bcache_create(struct rem_vcpu *v)
{
    struct rem_bcache *bc = malloc(sizeof(*bc));
    uint8_t *map = calloc(1, REM_CODE_PAGES / 8); /* untouched pages stay unallocated */
    uint32_t *gen = calloc(REM_CODE_PAGES, sizeof(*gen));
    if (!bc || !map || !gen) {
        free(bc);
        free(map);
        free(gen);
        return cap_error_set(CAP_E_OUTOFMEMORY, REM_COMPONENT, NULL,
                             "out of memory creating the rem block cache");
    }
    bc->code_pages = map;
    bc->gen = gen;
    bc->jit = v->jit_hot >= 0 ? rem_jit_create() : NULL;
    bc->check_epoch = 1;
    bcache_flush(bc);
    v->bcache = bc;
    v->stats.jit_buffer_bytes = rem_jit_size(bc->jit);
    v->stats.jit_code_bytes = 0;
    return CAP_OK;
}

void rem_bcache_destroy(struct rem_vcpu *v)
{
    if (!v->bcache)
        return;
    rem_jit_destroy(v->bcache->jit);
    free(v->bcache->code_pages);
    free(v->bcache->gen);
    free(v->bcache);
    v->bcache = NULL;
}

void rem_bcache_new_epoch(struct rem_vcpu *v)
{
    if (v->bcache)
        v->bcache->check_epoch++;
}

void rem_bcache_code_write(struct rem_vcpu *v, uint64_t gpa)
{
    v->epoch++; /* the running block stops after this instruction */
    if (v->bcache && (gpa >> 12) < REM_CODE_PAGES)
        v->bcache->gen[gpa >> 12]++;
}

bool rem_bcache_has_code(const struct rem_vcpu *v, uint64_t gpa)
{
    uint64_t pg = gpa >> 12;
    return v->bcache && pg < REM_CODE_PAGES && (v->bcache->code_pages[pg >> 3] >> (pg & 7)) & 1;
}

/* Marks the page as holding code; its write entries lose their host pointer. */
static void mark_code_page(struct rem_vcpu *v, uint64_t gpa)
{
    uint64_t pg = gpa >> 12;
    uint8_t *b = &v->bcache->code_pages[pg >> 3];
    if ((*b >> (pg & 7)) & 1)
        return;
    *b |= (uint8_t)(1u << (pg & 7));
    uint64_t page = gpa & ~(uint64_t)PGM_PAGE_MASK;
    for (unsigned u = 0; u < 2; u++)
        for (unsigned i = 0; i < REM_TLB_SIZE; i++) {
            struct rem_tlb_entry *e = &v->tlb[u][REM_TLB_WRITE][i];
            if (e->tag && (e->gpa & ~(uint64_t)PGM_PAGE_MASK) == page && e->addend) {
                e->code_addend = e->addend;
                e->addend = 0;
            }
        }
}

/* Ends the block after this instruction? */
static bool ends_block(const struct dis_insn *in)
{
    if (in->cf != DIS_CF_NONE)
        return true;
    if (in->attr & (DIS_A_PRIV | DIS_A_SENS | DIS_A_IO | DIS_A_STRING))
        return true;
    switch (in->mnem) {
    case DIS_pop: /* pop ss/ds/...: segment loads, the SS interrupt shadow */
    case DIS_les: case DIS_lds: case DIS_lss: case DIS_lfs: case DIS_lgs:
    case DIS_popf: case DIS_pushf: case DIS_cli: case DIS_sti: case DIS_hlt:
        return in->mnem != DIS_pop || in->op[0].reg_class == DIS_RC_SEG;
    default:
        return false;
    }
}

/* Instructions rem_exec_one turns into #UD before running them. */
static bool refused(const struct dis_insn *in)
{
    if ((in->attr & DIS_A_LENGTH_ONLY) || (in->prefixes & (DIS_PFX_VEX | DIS_PFX_EVEX | DIS_PFX_XOP)))
        return true;
    return (in->prefixes & DIS_PFX_LOCK) &&
           (!(in->attr & DIS_A_LOCKABLE) || in->op[0].kind != DIS_OP_MEM);
}

static struct rem_block *build(struct rem_vcpu *v, struct rem_block *b, uint64_t gpa,
                               const uint8_t *host)
{
    struct rem_bcache *bc = v->bcache;
    if ((gpa >> 12) >= REM_CODE_PAGES)
        return NULL;
    if (bc->insns_used + REM_BLOCK_MAX > REM_BPOOL_INSNS ||
        bc->bytes_used + REM_BLOCK_MAX * DIS_MAX_LEN > REM_BPOOL_BYTES) {
        bcache_flush(bc);
        v->stats.cache_flushes++;
        v->stats.jit_code_bytes = 0;
    }
    struct rem_binsn *out = &bc->insns[bc->insns_used];
    unsigned off = (unsigned)(gpa & PGM_PAGE_MASK), pos = 0, n = 0;
    while (n < REM_BLOCK_MAX) {
        unsigned avail = PGM_PAGE_SIZE - (off + pos);
        if (!avail)
            break;
        if (avail > DIS_MAX_LEN)
            avail = DIS_MAX_LEN;
        struct rem_binsn *bi = &out[n];
        int len = dis_decode(host + pos, avail, (enum dis_mode)v->code_bits, &bi->in);
        if (len <= 0 || refused(&bi->in))
            break;
        bi->len = (uint8_t)len;
        bi->fn = rem_fast_handler(&bi->in);
        n++;
        pos += (unsigned)len;
        if (ends_block(&bi->in))
            break;
    }
    if (!n)
        return NULL;
    b->gpa = gpa;
    b->bits = (uint8_t)v->code_bits;
    b->n = (uint8_t)n;
    b->insn = out;
    b->bytes = bc->bytes_used;
    b->nbytes = (uint16_t)pos;
    b->gen = bc->gen[gpa >> 12];
    b->checked = bc->check_epoch;
    b->jit = NULL;
    b->no_jit = false;
    b->runs = 0;
    const struct dis_insn *last = &out[n - 1].in;
    b->sync = (last->attr & (DIS_A_PRIV | DIS_A_SENS | DIS_A_IO)) ||
              (last->cf != DIS_CF_NONE && last->cf != DIS_CF_JMP && last->cf != DIS_CF_JCC &&
               last->cf != DIS_CF_LOOP && last->cf != DIS_CF_CALL && last->cf != DIS_CF_RET);
    memcpy(&bc->bytes[bc->bytes_used], host, pos);
    bc->insns_used += n;
    bc->bytes_used += pos;
    v->stats.blocks_built++;
    mark_code_page(v, gpa);
    return b;
}

/* memcmp(host, bytes, n) == 0 for the short runs blocks are, by words; the
 * last word is masked. Reads stay inside the page: the caller's block does,
 * and a word that would leave it is compared bytewise. */
static inline bool same_bytes(const uint8_t *host, const uint8_t *bytes, unsigned n)
{
    if ((((uintptr_t)host & PGM_PAGE_MASK) + ((n + 7u) & ~7u)) > PGM_PAGE_SIZE)
        return memcmp(host, bytes, n) == 0;
    uint64_t diff = 0;
    unsigned i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t a, b;
        memcpy(&a, host + i, 8);
        memcpy(&b, bytes + i, 8);
        diff |= a ^ b;
    }
    if (i < n) { /* the pool is padded */
        uint64_t a, b;
        memcpy(&a, host + i, 8);
        memcpy(&b, bytes + i, 8);
        diff |= (a ^ b) & (~0ull >> (64 - 8 * (n - i)));
    }
    return diff == 0;
}

/* Translates block b for the current CPL; a full code buffer drops every
 * translation and is tried once more. */
static void translate(struct rem_vcpu *v, struct rem_block *b)
{
    struct rem_bcache *bc = v->bcache;
    rem_jit_fn fn = NULL;
    unsigned off = (unsigned)(b->gpa & PGM_PAGE_MASK);
    int rc = rem_jit_translate(bc->jit, v, b->insn, b->n, off, &fn);
    if (rc < 0) {
        for (unsigned i = 0; i < REM_BCACHE_SIZE; i++)
            bc->blocks[i].jit = NULL;
        rem_jit_reset(bc->jit);
        v->stats.jit_buffer_flushes++;
        rc = rem_jit_translate(bc->jit, v, b->insn, b->n, off, &fn);
    }
    v->stats.jit_code_bytes = rem_jit_used(bc->jit);
    if (rc) {
        b->no_jit = true;
        v->stats.jit_refused++;
        return;
    }
    v->stats.jit_translations++;
    b->jit = fn;
    b->jit_cpl = (uint8_t)v->cpl;
}

/* Links the exit the last translation left by to block b's, next to run. */
static void link_to(struct rem_vcpu *v, struct rem_jit_exit *x, const struct rem_block *b,
                    uint64_t rip)
{
    struct rem_bcache *bc = v->bcache;
    struct rem_jit_target tg = { b->jit, &b->jit, &b->checked, &b->gen, &bc->gen[b->gpa >> 12],
                                 rip, b->gpa, b->n };
    if (rem_jit_link(bc->jit, x, &tg))
        v->stats.jit_links++;
    v->stats.jit_code_bytes = rem_jit_used(bc->jit);
}

bool rem_run_block(struct rem_vcpu *v)
{
    struct rem_bcache *bc = v->bcache;
    struct cpum_ctx *c = v->ctx;
    bool lm = v->mode == REM_MODE_LONG, ran = false;
    uint64_t mask = rem_mask(v->code_bits);
    uint32_t epoch = v->epoch;
    uint64_t page_la = 1, page_gpa = 0; /* the page the TLB was looked up for (1: none) */
    uintptr_t addend = 0;
    uint64_t rip0;
    struct rem_jit_exit *link = NULL; /* the last translation's exit, to link to the next */
    uint32_t link_resets = 0;
    for (;;) {
        uint64_t rip = c->rip, la;
        if (lm) {
            la = rip;
        } else {
            if (rip > c->seg[CPUM_CS].limit)
                return ran;
            la = (uint32_t)(c->seg[CPUM_CS].base + rip);
        }
        /* Within the page of the previous block and with no mode or
         * translation change since (epoch), its translation still holds. */
        if ((la & ~PGM_PAGE_MASK) != page_la) {
            const struct rem_tlb_entry *t =
                &v->tlb[rem_user(v)][REM_TLB_EXEC][(la >> 12) & (REM_TLB_SIZE - 1)];
            if (t->tag != ((la & ~PGM_PAGE_MASK) | 1) || !t->addend)
                return ran;
            page_la = la & ~PGM_PAGE_MASK;
            page_gpa = t->gpa;
            addend = t->addend;
        }
        uint64_t gpa = page_gpa | (la & PGM_PAGE_MASK);
        struct rem_block *b = &bc->blocks[(gpa ^ (gpa >> 12)) & (REM_BCACHE_SIZE - 1)];
        v->stats.block_lookups++;
        if (__builtin_expect(b->gpa != gpa || b->bits != v->code_bits ||
                                 b->checked != bc->check_epoch || b->gen != bc->gen[gpa >> 12],
                             0)) {
            const uint8_t *host = (const uint8_t *)(uintptr_t)(la + addend);
            if (b->gpa == gpa && b->bits == v->code_bits &&
                same_bytes(host, &bc->bytes[b->bytes], b->nbytes)) {
                v->stats.block_rechecks++;
                b->checked = bc->check_epoch;
                b->gen = bc->gen[gpa >> 12];
            } else {
                b = build(v, b, gpa, host);
                if (!b)
                    return ran;
            }
        }
        if (!lm && rip + b->nbytes - 1 > c->seg[CPUM_CS].limit)
            return ran;
        rip0 = rip;
    again:
        /* Translated: the whole block at once when the budget covers it. */
        if (lm && bc->jit && !b->no_jit) {
            if (!b->jit || b->jit_cpl != v->cpl) {
                if (b->runs < v->jit_hot)
                    b->runs++;
                else
                    translate(v, b);
            }
            if (b->jit && b->jit_cpl == v->cpl && v->budget >= b->n) {
                ran = true;
                if (link && link_resets == rem_jit_resets(bc->jit))
                    link_to(v, link, b, rip);
                v->jit_exit = NULL;
                b->jit(v, &bc->check_epoch);
                link = v->jit_exit;
                link_resets = rem_jit_resets(bc->jit);
                goto done;
            }
        }
        link = NULL;
        {
        /* All but the last instruction neither transfer control nor set
         * rip_set (ends_block); interrupt shadows come from block-ending
         * instructions only, so they are looked at after the block. */
        const struct rem_binsn *bi = b->insn, *last = bi + b->n - 1;
        if (v->budget < b->n)
            last = bi + v->budget - 1;
        ran = true;
        for (; bi < last; bi++) {
            uint64_t next = (rip + bi->len) & mask;
            v->insn_rip = rip;
            v->next_rip = next;
            v->budget--;
            bi->fn(v, &bi->in);
            v->insns++;
            c->rip = rip = next;
            if (__builtin_expect(v->stop | (v->epoch != epoch), 0))
                break;
        }
        if (bi == last) {
            v->insn_rip = rip;
            v->rip_set = false;
            v->next_rip = (rip + bi->len) & mask;
            v->budget--;
            bi->fn(v, &bi->in);
            v->insns++;
            c->rip = v->rip_set ? c->rip : v->next_rip;
        }
        }
    done:
        if (b->sync || v->stop || v->epoch != epoch || v->shadow) {
            if (b->sync)
                bc->check_epoch++;
            if (v->shadow) /* set by the last instruction: the loop counts it down after each */
                v->shadow--;
            return true;
        }
        /* On to the next block without the loop when nothing it checks
         * between instructions can be pending: budget, kick, interrupt
         * window the guest can take (IF set), single step. */
        if (!v->budget || __atomic_load_n(&v->kick, __ATOMIC_RELAXED) ||
            (v->irq_window && (c->rflags & FL_IF)) || (c->rflags & FL_TF))
            return true;
        /* A loop onto itself: no write to its page (that bumps the epoch
         * and returned above) and no new check epoch (MMIO), so it runs
         * again without the lookup. */
        if (c->rip == rip0 && b->checked == bc->check_epoch) {
            rip = rip0;
            goto again;
        }
    }
}
