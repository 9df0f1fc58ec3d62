/*
 * vmm/rem/rem_internal.h - the software CPU's private state and the helpers
 * its files share:
 *   rem_mem.c    software TLB, linear and segmented memory access
 *   rem_flags.c  lazily computed arithmetic flags
 *   rem_xcpt.c   exceptions and interrupts (IVT, IDT in every mode, #DF and
 *                triple fault)
 *   rem_seg.c    CPU mode, descriptors, segment loads, TSS stacks and frames
 *   rem_task.c   task switches (32-bit TSS)
 *   rem_far.c    IRET, far RET, far JMP and CALL (call gates)
 *   rem_exec*.c  instruction semantics, one file per group; rem_exec_feat.c
 *                the optional CPUID features and the #UD rule for the rest
 *   rem_block.c  decoded-block cache and the block executor
 *   rem_jit.c    the block translator: hot 64-bit blocks to host code
 *                (rem_x86emit.h its encoder, rem_jit_insn.c its instruction
 *                translators), linked to each other; rem_block.c runs them
 *   rem_fast.c   handlers resolved when a block is built
 *   rem_run.c    the run loop, the API of rem.h
 *
 * Faults: an instruction that faults calls rem_raise() (or a memory helper
 * does), which longjmps back to the run loop with the exception recorded;
 * RIP and every register the instruction had not yet committed are as they
 * were at its start, so the instruction restarts after the handler. String
 * instructions commit RCX/RSI/RDI per iteration.
 */
#ifndef VMM_REM_INTERNAL_H
#define VMM_REM_INTERNAL_H

#include <setjmp.h>
#include <stdbool.h>
#include <string.h>

#include "dis/dis.h"
#include "rem.h"

#define REM_COMPONENT "rem"

/* ---- modes ---------------------------------------------------------------- */

enum rem_mode { REM_MODE_REAL, REM_MODE_V86, REM_MODE_PROT, REM_MODE_COMPAT, REM_MODE_LONG };

/* ---- software TLB --------------------------------------------------------- */

#define REM_TLB_BITS 8
#define REM_TLB_SIZE (1u << REM_TLB_BITS)
enum { REM_TLB_READ, REM_TLB_WRITE, REM_TLB_EXEC, REM_TLB_KINDS };

struct rem_tlb_entry {
    uint64_t tag;     /* linear page | 1 when valid, 0 when empty */
    uintptr_t addend; /* host address - linear address (RAM/ROM), 0: slow path */
    uint64_t gpa;     /* guest-physical page | REM_TLB_F_* (read/write entries) */
    uintptr_t code_addend; /* write entries of RAM pages holding cached blocks: the
                              host addend the slow path writes through (addend is 0
                              so every write notices the code), else 0 */
};

/* Low bits of rem_tlb_entry.gpa: the slow path checks every access (rem_mem.c). */
#define REM_TLB_F_SMAP  0x1u /* supervisor entry of a user page, CR4.SMAP set */
#define REM_TLB_F_WATCH 0x2u /* the page holds an enabled data breakpoint */
#define REM_TLB_F_MASK  0x3u
/* A write entry with a host pointer into dirty-tracked RAM (pgm.h): the page
 * was marked dirty when the entry was filled, and is marked again when the
 * entry goes (rem_mem.c); not in REM_TLB_F_MASK (no slow path for it). */
#define REM_TLB_F_DIRTY 0x4u

/* ---- lazy flags ----------------------------------------------------------- */

enum rem_cc_op {
    REM_CC_EFLAGS, /* the arithmetic flags are in cc.flags */
    REM_CC_ADD, REM_CC_ADC, REM_CC_SUB, REM_CC_SBB, REM_CC_LOGIC, REM_CC_INC, REM_CC_DEC,
    /* shifts by a count of 1..bits-1: src1 the operand, src2 the count (rem_fast.c) */
    REM_CC_SHL, REM_CC_SHR, REM_CC_SAR,
};

#define FL_CF 0x0001u
#define FL_PF 0x0004u
#define FL_AF 0x0010u
#define FL_ZF 0x0040u
#define FL_SF 0x0080u
#define FL_TF 0x0100u
#define FL_IF 0x0200u
#define FL_DF 0x0400u
#define FL_OF 0x0800u
#define FL_IOPL 0x3000u
#define FL_NT 0x4000u
#define FL_RF 0x10000u
#define FL_VM 0x20000u
#define FL_AC 0x40000u
#define FL_VIF 0x80000u
#define FL_VIP 0x100000u
#define FL_ID 0x200000u
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

struct rem_cc {
    uint64_t res, src1, src2; /* masked to the operand size */
    uint32_t cin;             /* ADC/SBB carry in; INC/DEC: the CF to keep */
    uint8_t op;               /* enum rem_cc_op */
    uint8_t bits;             /* operand size in bits */
};

/* ---- the engine ------------------------------------------------------------ */

struct rem {
    struct pgm *pgm;
    const struct cpum_policy *policy;
    struct rem_callbacks cb;
    struct pgm_listener listener; /* RAM/ROM changes: the vCPUs' TLBs are flushed */
    struct rem_vcpu *vcpus;       /* linked through rem_vcpu.next_vcpu */
};

#define REM_NO_VECTOR 0xffffu

/* Decoded-instruction cache (rem_exec.c): direct-mapped by linear address,
 * validated by comparing the instruction bytes, so it never goes stale. */
#define REM_ICACHE_SIZE 1024u
struct rem_icache_entry {
    uint64_t la;
    uint64_t w[2], m[2]; /* the instruction bytes as two words, and their masks */
    uint8_t bits, len;
    uint8_t bytes[15];
    struct dis_insn in;
};
#define REM_IOBUF_SIZE 4096u

/* Decoded-block cache (rem_block.c): straight-line runs of instructions
 * keyed by the guest-physical address of their first byte, each with its
 * handler resolved at decode time. */
typedef void (*rem_insn_fn)(struct rem_vcpu *v, const struct dis_insn *in);
struct rem_bcache;

struct rem_vcpu {
    struct rem *rem;
    struct cpum_cpu *cpu;
    struct cpum_ctx *ctx; /* &cpu->ctx */

    /* Cached from ctx; recomputed by rem_update_mode() whenever CR0, EFER,
     * CS, SS or RFLAGS.VM change. */
    enum rem_mode mode;
    unsigned cpl;
    unsigned code_bits;  /* 16, 32, 64 */
    unsigned stack_bits; /* 16, 32, 64 (SS.B, 64 in long mode) */
    struct pgm_paging paging;

    struct rem_cc cc;

    /* TLB: [user access][kind][index]. */
    struct rem_tlb_entry tlb[2][REM_TLB_KINDS][REM_TLB_SIZE];

    struct rem_icache_entry icache[REM_ICACHE_SIZE];
    struct rem_bcache *bcache;  /* allocated with the vCPU; NULL: blocks off */
    uint32_t epoch;             /* bumped when mode or translations change or a guest
                                   write hits cached code: a block stops after the
                                   instruction that did it */

    /* The current instruction. */
    uint64_t insn_rip;   /* RIP at its start */
    uint64_t next_rip;   /* RIP after it */
    bool rip_set;        /* a transfer set ctx.rip itself (far, IRET, INT) */

    /* Faults: rem_raise fills these and longjmps to `jb`. */
    jmp_buf jb;
    unsigned xcpt_vec;      /* raised vector */
    uint32_t xcpt_err;      /* error code or REM_NO_ERR */
    uint64_t xcpt_cr2;      /* #PF: the faulting linear address */
    unsigned delivering;    /* vector being delivered or REM_NO_VECTOR (#DF rules) */
    bool in_run;            /* jb is valid */
    bool implicit;          /* an implicit supervisor access (rem_sys_rd/wr) is under way */
    cap_result fail_rc;     /* REM_VMM_FAILURE: the VMM's failure (MMIO callback) */

    /* Interrupts. */
    uint8_t shadow;         /* interrupt shadow: 2 after STI / MOV SS, counts down per insn */
    bool shadow_ss;         /* the shadow is MOV SS / POP SS's: debug traps wait too */

    /* Debug (rem_debug.c). */
    bool db_data, db_insn;  /* DR7 enables a data / an instruction breakpoint */
    bool db_inhibit;        /* this boundary follows MOV SS / POP SS: #DB waits a step */
    bool step_suppress;     /* the instruction entered a handler with TF cleared (INT n,
                               SYSCALL with SFMASK.TF): no single-step trap after it */
    uint32_t db_hits;       /* DR6 B0-B3 of data breakpoints hit by this instruction */
    uint32_t db_pending;    /* DR6 bits of a #DB trap not delivered yet */
    bool irq_window;
    int pending_irq;        /* vector to deliver at the next run, -1 none */
    bool pending_nmi;
    bool nmi_blocked;       /* in an NMI handler until IRET */
    int kick;               /* atomic */

    /* The exit being produced (rem_vcpu_run's argument). */
    struct vmm_exit *exit;
    bool stop;              /* leave the loop after this instruction */
    /* Port IN waiting for EM's data. */
    bool io_pending;
    uint8_t io_insn;        /* enum: 0 IN, 1 INS */
    uint8_t io_size;
    uint8_t io_reg_size;
    uint32_t io_count;
    bool io_rep;
    uint64_t io_la, io_am;  /* INS: destination and address-size mask */
    uint8_t iobuf[REM_IOBUF_SIZE];

    uint64_t insns;         /* retired */
    uint64_t budget;        /* left in this run */

    struct rem_jit_exit *jit_exit; /* set by a translation that left by an exit not yet
                                      linked to the next translation (rem_block.c links it) */
    int jit_hot;            /* translate a block after it ran this many times; <0: never
                               (rem_vcpu_set_jit; CAPSULE_REM_JIT, CAPSULE_REM_JIT_HOT) */

    /* Statistics since the vCPU was created (registered under /REM/ by
     * rem_vcpu_register_stats, rem_stats.c): plain fields this vCPU's
     * thread increments; STAM's readers load them racily. */
    struct rem_counters {
        uint64_t block_lookups;  /* blocks looked up by rem_run_block */
        uint64_t blocks_built;   /* ... not in the cache or stale: decoded (misses) */
        uint64_t block_rechecks; /* ... whose bytes were compared again and still held */
        uint64_t cache_flushes;  /* the pools were full: every block dropped */
        uint64_t jit_translations, jit_links, jit_refused;
        uint64_t jit_buffer_flushes; /* the code buffer was full: every translation dropped */
        uint64_t jit_code_bytes;     /* gauge: of the code buffer in use */
        uint64_t jit_buffer_bytes;   /* gauge: its size, 0 without a translator */
    } stats;
    /* Guest instructions that invalidate translations (MOV CR3, INVLPG,
     * paging bits of CR0/CR4/EFER, task switches), since create: another
     * engine caching translations must drop them when this moved. */
    uint64_t guest_invalidations;
    /* rem_vcpu_set_user_stop: end a run at 64-bit user code with IF=1 once
     * an instruction retired after user_stop_from (insns at the run's start). */
    bool user_stop;
    uint64_t user_stop_from;
    struct stam *stam;          /* where those are registered (deregistered at destroy), or NULL */
    unsigned tracked;           /* TLB entries flagged REM_TLB_F_DIRTY (an upper bound) */
    struct rem_vcpu *next_vcpu; /* rem.vcpus */
};

#define REM_NO_ERR 0xffffffffu
/* Pseudo-vectors for rem_raise: not guest exceptions but ways out of an instruction. */
#define REM_VMM_FAILURE 0x100u   /* fail_rc says why */
#define REM_EXIT_NOW    0x101u   /* exit already filled (emulation failure, IN pending) */

/* x86 exception vectors. */
enum {
    X86_DE = 0, X86_DB = 1, X86_NMI = 2, X86_BP = 3, X86_OF = 4, X86_BR = 5, X86_UD = 6,
    X86_NM = 7, X86_DF = 8, X86_TS = 10, X86_NP = 11, X86_SS = 12, X86_GP = 13, X86_PF = 14,
    X86_MF = 16, X86_AC = 17, X86_MC = 18, X86_XM = 19,
};

/* ---- rem_mem.c ------------------------------------------------------------- */

void rem_tlb_flush(struct rem_vcpu *v);
void rem_tlb_flush_page(struct rem_vcpu *v, uint64_t la);
/* Drops the write entries into dirty-tracked RAM, marking their pages dirty
 * (what was written through them since the collector last looked). At the
 * end of every run, so a collect never misses a write for longer than one
 * run (rem_mem.c). */
void rem_tlb_release_tracked(struct rem_vcpu *v);
/* After CR0/CR3/CR4/EFER changed: new paging inputs, TLB flushed. */
void rem_paging_changed(struct rem_vcpu *v);
/* The same for a change the guest made itself (MOV to CR0/CR3/CR4, EFER,
 * a task switch): also counted in guest_invalidations. */
void rem_paging_invalidated(struct rem_vcpu *v);

/* Linear accesses; `user` = a CPL3 access (not an implicit supervisor one).
 * Fault with #PF / #GP (non-canonical) through rem_raise. */
void rem_lin_read(struct rem_vcpu *v, uint64_t la, void *buf, unsigned len, bool user);
void rem_lin_write(struct rem_vcpu *v, uint64_t la, const void *buf, unsigned len, bool user);
/* Host pointer for a RAM access of `len` bytes that stays within a page, or
 * NULL (MMIO, ROM write, page crossing): the caller uses the slow calls. */
void *rem_lin_ptr(struct rem_vcpu *v, uint64_t la, unsigned len, unsigned kind, bool user);
/* Instruction bytes at linear `la`; returns how many could be read (stops at
 * a faulting page only when at least one byte was read). */
unsigned rem_fetch(struct rem_vcpu *v, uint64_t la, uint8_t *buf, unsigned len);

/* The bytes of the next page, raising its fault (the instruction needs them). */
void rem_fetch_more(struct rem_vcpu *v, uint64_t la, uint8_t *buf, unsigned len);

/* Segmented: checks limit and rights (#GP(0) / #SS(0)), returns the linear
 * address. `write`: 0 read, 1 write, 2 read-modify-write. */
uint64_t rem_seg_la(struct rem_vcpu *v, unsigned sreg, uint64_t off, unsigned len, int write);
uint64_t rem_rd(struct rem_vcpu *v, unsigned sreg, uint64_t off, unsigned len);
void rem_wr(struct rem_vcpu *v, unsigned sreg, uint64_t off, unsigned len, uint64_t val);

/* Stack, at the current SS and stack size. */
void rem_push(struct rem_vcpu *v, unsigned len, uint64_t val);
uint64_t rem_pop(struct rem_vcpu *v, unsigned len);

/* Implicit supervisor accesses (descriptor tables, TSS), by linear address. */
uint64_t rem_sys_rd(struct rem_vcpu *v, uint64_t la, unsigned len);
void rem_sys_wr(struct rem_vcpu *v, uint64_t la, unsigned len, uint64_t val);

static inline bool rem_user(const struct rem_vcpu *v)
{
    return v->cpl == 3;
}

/* ---- rem_flags.c ----------------------------------------------------------- */

uint64_t rem_get_rflags(struct rem_vcpu *v);
/* Sets RFLAGS (all bits; arithmetic ones become eager). */
void rem_set_rflags(struct rem_vcpu *v, uint64_t fl);
uint32_t rem_arith_flags(struct rem_vcpu *v);
/* Sets the arithmetic flags in `mask` to `val` (others keep their value). */
void rem_set_arith(struct rem_vcpu *v, uint32_t mask, uint32_t val);
bool rem_cond(struct rem_vcpu *v, unsigned cc); /* cc = the low nibble of Jcc */
uint32_t rem_parity(uint64_t x);

static inline void rem_cc_set(struct rem_vcpu *v, unsigned op, unsigned bits, uint64_t res,
                              uint64_t s1, uint64_t s2)
{
    v->cc.op = (uint8_t)op;
    v->cc.bits = (uint8_t)bits;
    v->cc.res = res;
    v->cc.src1 = s1;
    v->cc.src2 = s2;
}

static inline uint64_t rem_mask(unsigned bits)
{
    return bits == 64 ? ~0ull : (1ull << bits) - 1;
}

/* ---- rem_xcpt.c: raising, delivery ---------------------------------------- */

_Noreturn void rem_raise(struct rem_vcpu *v, unsigned vec, uint32_t err);
_Noreturn void rem_raise_pf(struct rem_vcpu *v, uint64_t cr2, uint32_t err);
static inline _Noreturn void rem_gp0(struct rem_vcpu *v)
{
    rem_raise(v, X86_GP, 0);
}
static inline _Noreturn void rem_ud(struct rem_vcpu *v)
{
    rem_raise(v, X86_UD, REM_NO_ERR);
}

enum rem_int_kind { REM_INT_XCPT, REM_INT_SOFT, REM_INT_EXT, REM_INT_ICEBP };
/* Delivers vector `vec` through the IVT/IDT; RIP is the return address
 * (the faulting instruction for faults, the next one for traps and INT n). */
void rem_deliver(struct rem_vcpu *v, unsigned vec, uint32_t err, enum rem_int_kind kind);
/* Handles the exception recorded by rem_raise (#DF / triple-fault rules). */
void rem_handle_xcpt(struct rem_vcpu *v);

/* ---- rem_seg.c: modes, descriptors, segment loads, stacks ----------------- */

void rem_update_mode(struct rem_vcpu *v);
/* MOV/POP Sreg, LDS...: loads a data or stack segment register (checks). */
void rem_load_sreg(struct rem_vcpu *v, unsigned sreg, uint16_t sel);
void rem_load_ldtr(struct rem_vcpu *v, uint16_t sel);
void rem_load_tr(struct rem_vcpu *v, uint16_t sel);
/* The linear address of the `len`-byte descriptor of `sel` in the GDT or
 * LDT; fault `vec`(sel) past the table's limit or with no LDT. */
uint64_t rem_desc_addr(struct rem_vcpu *v, uint16_t sel, unsigned vec, unsigned len);
/* Reads the 8-byte descriptor of `sel` (GDT/LDT); #GP(sel) past the limit. */
uint64_t rem_read_desc(struct rem_vcpu *v, uint16_t sel, unsigned vec);
void rem_desc_to_seg(uint64_t d, uint16_t sel, struct cpum_seg *s);
/* Sets the accessed bit of descriptor `d` (of `sel`) in its table if clear. */
void rem_set_accessed(struct rem_vcpu *v, uint16_t sel, uint64_t d);
/* A NULL (unusable) segment with selector `sel`. */
void rem_seg_null(struct cpum_seg *s, uint16_t sel);

/* Fields of an 8-byte segment descriptor (SDM Vol. 3A 3.4.5). */
static inline unsigned rem_desc_dpl(uint64_t d)
{
    return (unsigned)(d >> 45) & 3;
}
static inline unsigned rem_desc_type(uint64_t d)
{
    return (unsigned)(d >> 40) & 0xf;
}
static inline bool rem_desc_present(uint64_t d)
{
    return (d >> 47) & 1;
}
static inline bool rem_desc_code(uint64_t d)
{
    return ((d >> 44) & 1) && (rem_desc_type(d) & 8);
}
static inline bool rem_desc_data(uint64_t d)
{
    return ((d >> 44) & 1) && !(rem_desc_type(d) & 8);
}

/* The inner stack for privilege level `dpl` from the 16- or 32-bit TSS;
 * #TS(TR | ext) past its limit. */
void rem_tss_stack(struct rem_vcpu *v, unsigned dpl, uint16_t *ss, uint64_t *sp, uint32_t ext);
/* Loads CS from descriptor `d` (marked accessed) with RPL = `cpl`. */
void rem_commit_cs(struct rem_vcpu *v, uint64_t d, uint16_t sel, unsigned cpl);

/* A stack frame collected before anything is written (checks first). */
struct rem_frame {
    uint64_t val[12];
    unsigned n;
};
static inline void rem_frame_push(struct rem_frame *f, uint64_t x)
{
    f->val[f->n++] = x;
}
/* Writes the frame (first pushed first) below `sp` on the stack at `base`
 * with a `bits`-wide stack pointer, `size` bytes an item; returns the new
 * stack pointer. */
uint64_t rem_frame_write(struct rem_vcpu *v, const struct rem_frame *f, uint64_t base, uint64_t sp,
                         unsigned bits, unsigned size, bool user, bool flat);

/* ---- rem_task.c: task switches ---------------------------------------------- */

enum rem_task_reason { REM_TASK_JMP, REM_TASK_CALL, REM_TASK_IRET, REM_TASK_INT };
#define REM_TSS_LINK 0x00 /* the previous task's selector in a 32-bit TSS */
/* Switches to the task of TSS selector `sel` for `why`, saving the current
 * task with EIP = `ret_eip`; `err` (unless REM_NO_ERR) is pushed on the new
 * task's stack (a task gate in the IDT). rem_task.c says more. */
void rem_task_switch(struct rem_vcpu *v, uint16_t sel, enum rem_task_reason why, uint32_t err,
                     uint64_t ret_eip, uint32_t ext);

/* ---- rem_far.c: IRET, far RET, far JMP and CALL ------------------------------ */

/* Far JMP / CALL / RET / IRET (operand size in bytes). */
void rem_far_jmp(struct rem_vcpu *v, uint16_t sel, uint64_t off, unsigned osz);
void rem_far_call(struct rem_vcpu *v, uint16_t sel, uint64_t off, unsigned osz);
void rem_far_ret(struct rem_vcpu *v, unsigned osz, uint16_t imm);
void rem_iret(struct rem_vcpu *v, unsigned osz);

/* ---- rem_debug.c ------------------------------------------------------------ */

#define DR6_BD (1u << 13)
#define DR6_BS (1u << 14)
#define DR7_GD (1u << 13)
/* DR7 or DR0-DR3 changed (or the whole context): recomputes db_data/db_insn,
 * flushes the TLB when data breakpoints were or are enabled. */
void rem_db_changed(struct rem_vcpu *v);
/* True when an enabled data breakpoint lies in linear page `page`. */
bool rem_db_watched(const struct rem_vcpu *v, uint64_t page);
/* An access of the slow path to a watched page: records hits in db_hits. */
void rem_db_data(struct rem_vcpu *v, uint64_t la, unsigned len, bool write);
/* Before the instruction at CS:RIP: raises #DB (fault) for an instruction
 * breakpoint unless RF is set. */
void rem_db_insn(struct rem_vcpu *v);
/* Delivers db_pending as a #DB trap (DR6 updated). */
void rem_db_deliver(struct rem_vcpu *v);

/* ---- rem_exec*.c ----------------------------------------------------------- */

/* Decodes and executes the instruction at CS:RIP (faults longjmp). */
void rem_exec_one(struct rem_vcpu *v);
/* Executes a decoded instruction (privilege check, then its group); RIP
 * handling as in rem_exec_one: insn_rip, next_rip and rip_set set first. */
void rem_execute(struct rem_vcpu *v, const struct dis_insn *in);

/* ---- rem_block.c -------------------------------------------------------------- */

cap_result rem_bcache_create(struct rem_vcpu *v);
void rem_bcache_destroy(struct rem_vcpu *v);
/* Runs the cached block at CS:RIP (building it on a miss) up to the end of
 * the block, the budget, or an instruction that stops the run, changes the
 * mode or translations, or writes to cached code. Returns false, having run
 * nothing, when the block path cannot take this instruction (the caller
 * then uses rem_exec_one). Needs: TF clear, no interrupt shadow. */
bool rem_run_block(struct rem_vcpu *v);
/* True when guest-physical page `gpa` holds cached blocks. */
bool rem_bcache_has_code(const struct rem_vcpu *v, uint64_t gpa);
/* A guest write of this vCPU to a page that holds blocks (rem_mem.c). */
void rem_bcache_code_write(struct rem_vcpu *v, uint64_t gpa);
/* Blocks compare their bytes with memory again before they next run. */
void rem_bcache_new_epoch(struct rem_vcpu *v);
/* Completes a port IN after EM filled iobuf. */
void rem_complete_in(struct rem_vcpu *v);

/* A decoded instruction of a block, with the handler resolved at decode time. */
struct rem_binsn {
    rem_insn_fn fn;
    uint8_t len;
    struct dis_insn in;
};

/* ---- rem_jit.c ------------------------------------------------------------------ */

/* A translated block: runs the whole block (v->budget must cover it) with
 * ctx.rip at its first instruction; check_epoch is the block cache's. */
typedef void (*rem_jit_fn)(struct rem_vcpu *v, const uint32_t *check_epoch);
struct rem_jit;
/* The code buffer, or NULL where there is no translator (not x86-64 Linux,
 * no W+X memory): the caller then interprets. */
struct rem_jit *rem_jit_create(void);
void rem_jit_destroy(struct rem_jit *j);
/* Forgets every translation (the caller drops its pointers to them). */
void rem_jit_reset(struct rem_jit *j);
/* Bytes of the code buffer in use, and its size (0 for NULL). */
size_t rem_jit_used(const struct rem_jit *j);
size_t rem_jit_size(const struct rem_jit *j);
/* Counts rem_jit_reset: an exit record (rem_jit_link) from before a reset is gone. */
uint32_t rem_jit_resets(const struct rem_jit *j);
/* Translates the n instructions of a block for v's current CPL (64-bit code
 * only); page_off: the block's offset in its guest page. 0: *out set; 1: not
 * translatable; -1: the buffer is full (reset it with every pointer to its
 * translations, then try again). The translation refers to `insn` (the
 * block pool): it lives no longer than they do. */
int rem_jit_translate(struct rem_jit *j, const struct rem_vcpu *v,
                      const struct rem_binsn *insn, unsigned n, unsigned page_off,
                      rem_jit_fn *out);
/* An exit of a translation that can be linked straight to the next one. */
struct rem_jit_exit;
/* The translation an exit is linked to, and where its block keeps what the
 * link checks each time it is taken (the block cache's fields). */
struct rem_jit_target {
    rem_jit_fn fn;
    rem_jit_fn const *slot;     /* the block's translation pointer: linked while == fn */
    const uint32_t *checked;    /* the check epoch the block was compared in */
    const uint32_t *gen, *page_gen; /* its page's write generation then / now */
    uint64_t rip, gpa;          /* where it starts */
    unsigned n;                 /* its instructions */
};
/* Links exit x (v->jit_exit after a translation returned, with no reset of
 * j since) to b, which rem_run_block is about to run next, translated, after
 * x's block; b must have been checked for this RIP, CPL and check epoch.
 * False when the buffer had no room for the link (x stays unlinked). */
bool rem_jit_link(struct rem_jit *j, struct rem_jit_exit *x, const struct rem_jit_target *b);

/* Something rem does not implement although the architecture the policy
 * describes has it (a 16-bit TSS task switch): stops the run with
 * VMM_EXIT_EMULATION_FAILURE. Instructions rem does not execute are
 * outside the policy and raise #UD instead (rem_exec_feat.c). */
_Noreturn void rem_unimplemented(struct rem_vcpu *v);

#endif /* VMM_REM_INTERNAL_H */
