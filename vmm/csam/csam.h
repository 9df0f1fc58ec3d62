/*
 * vmm/csam/csam.h - CSAM, the code scanner of raw mode (issue 14, item 4).
 *
 * Before guest kernel code runs natively but deprivileged, CSAM decodes it
 * (vmm/dis) recursively from an entry point: it follows fall-through, both
 * ways of a conditional branch, direct jumps and calls (assumed to return),
 * across pages, and ends a path at RET, IRET, SYSRET, an indirect or far
 * JMP, UD2, INT3 and bytes that do not decode. On the way it records, per
 * guest-physical page, which offsets start an instruction, which are entry
 * points and branch targets, and the instructions a deprivileged kernel must
 * not run as they are (struct dis_insn.sens: pushf/popf, cli/sti, iret, port
 * I/O, CR/DR moves, descriptor tables, MSRs, CPUID, CS/SS reads, ...) with
 * the path ends and indirect transfers PATM will need. See README.md.
 *
 * Guest memory is reached only through struct csam_mem (translate a linear
 * address of a kernel instruction fetch to its guest-physical page, read a
 * page), so CSAM works on PGM (csam_mem_pgm) and on plain buffers alike.
 *
 * Records are kept per guest-physical page, at most cfg.max_pages of them;
 * a guest write to a page drops its record (csam_page_written) and the
 * records of pages whose last instruction continues onto it. A limit that
 * stops a path (table full, queue full, a page reached in another mode)
 * leaves the page it stopped on "incomplete": never ready.
 *
 * Contract for the raw engine: guest kernel code on page P may run natively
 * only while csam_page_ready(P); an entry at an offset that is not an
 * instruction start (csam_is_insn_start) must be scanned first. Everything
 * else - a page not ready, code reached through a mapping made after the
 * scan - must reach EM (PGM's shadow tables keep such pages non-executable).
 *
 * Threads: a struct csam belongs to one vCPU thread (the EMT); no call may
 * run concurrently with another on the same instance. No global state.
 */
#ifndef VMM_CSAM_H
#define VMM_CSAM_H

#include <stddef.h>
#include <stdint.h>

#include <capsule/types.h>

#include "dis/dis.h"
#include "vmm_result.h"

#ifndef VMM_API
#define VMM_API __attribute__((visibility("default")))
#endif

#define CSAM_PAGE_SIZE 4096u
#define CSAM_PAGE_MASK 0xfffull

struct pgm;
struct pgm_paging;
struct stam;

/* How CSAM reads guest code. Both calls return 0 on success. */
struct csam_mem {
    /* The guest-physical page (page-aligned) holding linear address va for
     * an instruction fetch by the guest kernel; nonzero: not mapped or not
     * executable (the path ends there; counted as /CSAM/Unmapped). */
    int (*translate)(void *user, uint64_t va, uint64_t *gpa);
    /* The CSAM_PAGE_SIZE bytes of the page at gpa into buf; nonzero: not RAM
     * or ROM (MMIO is never read: it has side effects). */
    int (*read_page)(void *user, uint64_t gpa, uint8_t *buf);
    void *user;
};

struct csam_config {
    unsigned max_pages;   /* page records kept; 0 = CSAM_DEFAULT_PAGES */
    unsigned max_pending; /* branch targets queued; 0 = CSAM_DEFAULT_PENDING */
    uint32_t ignore;      /* (1u << DIS_SENS_x) for kinds not to record (policy:
                             rdtsc where CR4.TSD is clear and the TSC is not
                             virtualised) */
};
#define CSAM_DEFAULT_PAGES   8192u
#define CSAM_DEFAULT_PENDING 8192u

/* struct csam_insn.flags */
#define CSAM_INSN_END      0x01 /* ends its path (ret, iret, jmp r/m, far, ud, int3, invalid) */
#define CSAM_INSN_INDIRECT 0x02 /* jmp or call through a register or memory */
#define CSAM_INSN_CROSS    0x04 /* its bytes continue on the next page */
#define CSAM_INSN_INVALID  0x08 /* does not decode (#UD or #GP when run); sens = DIS_SENS_UD */

/* One recorded instruction: sensitive (sens != DIS_SENS_NONE) and/or a
 * control transfer PATM must know (flags). */
struct csam_insn {
    uint16_t off;  /* offset of its first byte in the page */
    uint8_t len;   /* 1..15 */
    uint8_t sens;  /* enum dis_sens */
    uint16_t mnem; /* enum dis_mnem (DIS_invalid for CSAM_INSN_INVALID) */
    uint8_t cf;    /* enum dis_cf */
    uint8_t flags; /* CSAM_INSN_* */
};

/* Counters (also registered with STAM by csam_register_stats). */
struct csam_stats {
    uint64_t pages_scanned;        /* page records that got their first instruction */
    uint64_t insns;                /* instructions decoded */
    uint64_t sens[DIS_SENS_COUNT]; /* recorded sensitive instructions by kind */
    uint64_t invalid;              /* byte sequences that do not decode */
    uint64_t cross;                /* instructions continuing onto the next page */
    uint64_t unmapped;             /* paths ended at an address csam_mem could not give */
    uint64_t limits;               /* paths ended by a limit (page left incomplete) */
    uint64_t budget_stops;         /* scans that returned CSAM_MORE */
    uint64_t pages_dropped;        /* records dropped by writes, csam_reset excluded */
    uint64_t pages;                /* records held now (a gauge) */
};

enum csam_status {
    CSAM_DONE = 0,     /* nothing queued any more */
    CSAM_MORE = 1,     /* the budget ran out: csam_resume goes on */
    CSAM_UNMAPPED = 2, /* the entry itself cannot be translated or read */
    CSAM_BADARG = -1,  /* mode not 16/32/64, mem incomplete, budget 0 */
};

struct csam;

/* A scanner with no records. cfg may be NULL (defaults). CAP_E_OUTOFMEMORY
 * (with error info) or CAP_E_INVALIDARG. */
VMM_API cap_result csam_create(const struct csam_config *cfg, struct csam **out);
/* Frees it (NULL is fine); deregister its statistics first. */
VMM_API void csam_destroy(struct csam *c);

/*
 * Scans from linear address va (an entry point: an IDT handler, LSTAR, the
 * target of an IRET into kernel code, ...) in `mode`, then whatever is still
 * queued, decoding at most `budget` instructions in this call. Returns
 * CSAM_DONE, CSAM_MORE (work left: csam_resume, with the same address
 * space), CSAM_UNMAPPED or CSAM_BADARG. An entry already scanned costs one
 * lookup.
 */
VMM_API int csam_scan(struct csam *c, const struct csam_mem *mem, uint64_t va, enum dis_mode mode,
                      unsigned budget);
/* Goes on with the queue (after CSAM_MORE). CSAM_DONE, CSAM_MORE or CSAM_BADARG. */
VMM_API int csam_resume(struct csam *c, const struct csam_mem *mem, unsigned budget);

/*
 * The write-monitor hook: the guest wrote the page at gpa (any address in
 * it). Drops its record and those of the pages whose instruction continues
 * onto it; the next execution there must scan again. No-op for a page
 * without a record.
 */
VMM_API void csam_page_written(struct csam *c, uint64_t gpa);
/* Drops every record and the queue (a new CR3 layout, a reset). */
VMM_API void csam_reset(struct csam *c);

/* ---- queries (for the raw engine and PATM); gpa: any address in the page ---- */

/* Some code was decoded on the page. */
VMM_API cap_bool csam_page_scanned(const struct csam *c, uint64_t gpa);
/* Scanned, no queued branch leaves from it, no path stopped on it by a limit. */
VMM_API cap_bool csam_page_ready(const struct csam *c, uint64_t gpa);
/* An instruction decoded on some path starts at gpa (overlapping paths may
 * give several starts inside one another). */
VMM_API cap_bool csam_is_insn_start(const struct csam *c, uint64_t gpa);
/* gpa was given to csam_scan as an entry point. */
VMM_API cap_bool csam_is_entry(const struct csam *c, uint64_t gpa);
/*
 * Whether a patch over [a, b) (guest-physical, one page; a < b) would cover
 * a branch target or entry point t with a < t < b: a jump into the middle of
 * the patch's jump. A target at a itself is fine (it reaches the patch).
 */
VMM_API cap_bool csam_range_has_target(const struct csam *c, uint64_t a, uint64_t b);
/*
 * The recorded instructions starting on the page, sorted by offset, in
 * *out (NULL and 0 without a record). Valid until the next call that scans
 * or drops; the caller filters (sens != DIS_SENS_NONE for the sensitive ones).
 */
VMM_API size_t csam_page_insns(const struct csam *c, uint64_t gpa, const struct csam_insn **out);
/* The counters (a copy). */
VMM_API void csam_get_stats(const struct csam *c, struct csam_stats *out);

/* Registers the counters as /CSAM/... (/CSAM/Sensitive/<kind> per kind).
 * Errors: stam_register's. csam_deregister_stats before csam_destroy. */
VMM_API cap_result csam_register_stats(struct csam *c, struct stam *st);
VMM_API void csam_deregister_stats(struct csam *c, struct stam *st);

/*
 * csam_mem over PGM: translates with pgm_walk (a supervisor fetch, no A/D
 * updates) under *pg, reads RAM and ROM only (pgm_gpa_to_hva). pgm and pg
 * must outlive the uses of *mem; pg is read at each call.
 */
struct csam_pgm_mem {
    struct pgm *pgm;
    const struct pgm_paging *pg;
};
VMM_API void csam_mem_pgm(struct csam_mem *mem, struct csam_pgm_mem *ctx, struct pgm *pgm,
                          const struct pgm_paging *pg);

#endif /* VMM_CSAM_H */
