/*
 * rd.h - rem_diff, the hardware differential tester of the software CPU.
 *
 * Random sequences of unprivileged integer instructions, generated from the
 * decoder's own opcode maps (rd_gen.c), run as 64-bit CPL3 code natively
 * under KVM and in rem from the same starting state (rd_guest.c); the final
 * registers, defined flags, scratch memory and any exception are compared,
 * and a mismatch is printed and minimised (rd_main.c). Where hm and rem
 * disagree, the host CPU itself runs the sequence at CPL3 in a child
 * process (rd_native.c) and arbitrates; `--reference native` makes it the
 * reference for every sequence.
 *
 * Guest layout (identity-mapped with 4 KiB pages, everything else absent):
 *   0x1000 GDT   0x2000 IDT   0x3000 TSS   0x4000 exception handlers
 *   0x5000 kernel stack (RSP0 = 0x6000)   0x8000.. page tables
 *   RD_CODE  user code, read-only         RD_SCRATCH  user data, 2 pages
 * The sequence ends with `out RD_PORT_END, al` (IOPL 3); an exception goes
 * through a 64-bit interrupt gate to `out RD_PORT_XCPT+vector, al` at CPL0.
 */
#ifndef REM_DIFF_RD_H
#define REM_DIFF_RD_H

#include <stdbool.h>
#include <stdint.h>

#include "dis/dis.h"

#define RD_CODE 0x100000ull
#define RD_SCRATCH 0x200000ull
#define RD_SCRATCH_SIZE 0x2000u
#define RD_KSTACK_TOP 0x6000ull
#define RD_PORT_END 0xe0
#define RD_PORT_XCPT 0xa0

#define RD_MAX_INSNS 64
#define RD_CODE_MAX 2048

/* Small deterministic PRNG (xorshift64*): the whole run follows from --seed. */
struct rd_rng {
    uint64_t s;
};
static inline uint64_t rd_next(struct rd_rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545f4914f6cdd1dull;
}
static inline unsigned rd_below(struct rd_rng *r, unsigned n)
{
    return (unsigned)(rd_next(r) % n);
}

/* The starting state of one sequence. */
struct rd_state {
    uint64_t gpr[16];
    uint64_t rflags;
    uint16_t ptr_regs;   /* bit mask: registers pointing into the scratch pages */
    uint8_t index_reg;   /* register holding a small index */
    uint8_t scratch[RD_SCRATCH_SIZE];
};

/* One instruction of a sequence, position-independent: branch targets and
 * RIP-relative operands are re-patched whenever the sequence is assembled. */
struct rd_item {
    uint8_t bytes[15];
    uint8_t len;
    int8_t rel_pos;      /* offset of a rel8/rel32 field, -1 if none */
    uint8_t rel_size;
    int16_t target;      /* branch target: index of an item (n = the final out) */
    int8_t rip_pos;      /* offset of a RIP-relative disp32, -1 if none */
    uint64_t rip_target; /* its absolute target address */
};

struct rd_seq {
    unsigned n;
    struct rd_item it[RD_MAX_INSNS];
};

/* The sequence assembled at RD_CODE: code[], item addresses and decodes,
 * and the flags left undefined (conservatively) before each item. */
struct rd_asm {
    uint8_t code[RD_CODE_MAX];
    unsigned len;
    uint64_t addr[RD_MAX_INSNS + 1]; /* addr[n] = the final out */
    struct dis_insn insn[RD_MAX_INSNS];
    uint32_t undef_in[RD_MAX_INSNS + 1];
    bool valid; /* no instruction reads a possibly undefined flag, encodings fit */
};

/* Outcome of one run. */
struct rd_result {
    int vector;           /* -1: reached the final out; else the exception */
    int other;            /* nonzero: the engine stopped some other way (text in why) */
    int timed_out;        /* native: no result within the time limit */
    char why[96];
    uint64_t gpr[16], rip, rflags;
    uint64_t err, cr2;    /* exception: error code (if any), CR2 for #PF */
    uint8_t scratch[RD_SCRATCH_SIZE];
};

/* rd_gen.c */
int rd_gen_init(bool verbose);               /* builds the form table; returns its size */
unsigned rd_gen_mnem_count(void);            /* distinct mnemonics among the forms */
void rd_gen_state(struct rd_rng *r, struct rd_state *st);
void rd_gen_seq(struct rd_rng *r, const struct rd_state *st, unsigned max_len, struct rd_seq *seq);
void rd_assemble(const struct rd_seq *seq, struct rd_asm *a);
int rd_parse_code(const uint8_t *code, unsigned len, struct rd_seq *seq); /* -1 on bad bytes */
bool rd_vector_has_err(int vector);
extern uint64_t rd_mnem_hits[DIS_MNEM_COUNT];

/* rd_guest.c */
struct rd_guest;
/* rem (and hm when want_hm) under the CPU profile `profile` (NULL: host). */
int rd_guest_create(struct rd_guest **out, bool want_hm, const char *profile, char *err,
                    size_t errlen);
void rd_guest_destroy(struct rd_guest *g);
void rd_run_hm(struct rd_guest *g, const struct rd_state *st, const struct rd_asm *a,
               struct rd_result *res);
void rd_run_rem(struct rd_guest *g, const struct rd_state *st, const struct rd_asm *a,
                struct rd_result *res);

/* rd_open.c: the known open rem issue that a sequence whose native and rem
 * outcomes differ shows, or NULL. */
const char *rd_open_issue(const struct rd_seq *seq, const struct rd_asm *a,
                          const struct rd_result *native, const struct rd_result *rem);

/* rd_native.c: the host CPU at CPL3 in a forked server process. */
struct rd_native;
enum rd_native_status {
    RD_NATIVE_RAN,     /* res holds the outcome */
    RD_NATIVE_SKIPPED, /* the native layout cannot reproduce this case (res->why) */
    RD_NATIVE_FAILED,  /* the executor died or hung (res->why); restarted at the next run */
};
/* Starts the executor; -1 with err filled when this host cannot run one. */
int rd_native_create(struct rd_native **out, char *err, size_t errlen);
void rd_native_destroy(struct rd_native *n);
/* Runs the assembled sequence of nitems items from st, like rd_run_hm. */
enum rd_native_status rd_run_native(struct rd_native *n, const struct rd_state *st,
                                    const struct rd_asm *a, unsigned nitems,
                                    struct rd_result *res);

#endif
