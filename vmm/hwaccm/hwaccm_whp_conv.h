/*
 * hwaccm_whp_conv.h - the OS-neutral part of the WHP backend: which Windows
 * Hypervisor Platform register holds which part of struct cpum_ctx, the
 * conversion of each value, the completion of an IN, and the log that lets
 * the synchronous Windows instruction emulator (winhvemulation.h) serve
 * EM's asynchronous exits.
 *
 * Nothing here includes a Windows header, so the file also builds on Linux
 * and is unit-tested there (tests/unit/hwaccm_whp). The register numbers
 * (WHPC_*) and union whpc_value repeat the ABI of winhvplatformdefs.h
 * (WHV_REGISTER_NAME, WHV_REGISTER_VALUE); hwaccm_whp_regs.c checks each of
 * them against the real header with static assertions, so the copies cannot
 * drift silently.
 */
#ifndef VMM_HWACCM_WHP_CONV_H
#define VMM_HWACCM_WHP_CONV_H

#include <stdint.h>

#include "cpum/cpum.h"

/* WHV_REGISTER_NAME values used by the backend. GPRs and segment registers
 * follow the x86 encoding order, which is also CPUM's (CPUM_RAX.., CPUM_ES..). */
enum whpc_reg {
    WHPC_RAX = 0x00,  /* + enum cpum_gpr */
    WHPC_RIP = 0x10,
    WHPC_RFLAGS = 0x11,
    WHPC_ES = 0x12,   /* + enum cpum_sreg */
    WHPC_LDTR = 0x18,
    WHPC_TR = 0x19,
    WHPC_IDTR = 0x1a,
    WHPC_GDTR = 0x1b,
    WHPC_CR0 = 0x1c,
    WHPC_CR2 = 0x1d,
    WHPC_CR3 = 0x1e,
    WHPC_CR4 = 0x1f,
    WHPC_CR8 = 0x20,
    WHPC_DR0 = 0x21,  /* DR0..DR3 */
    WHPC_DR6 = 0x25,
    WHPC_DR7 = 0x26,
    WHPC_XMM0 = 0x1000, /* XMM0..XMM15 */
    WHPC_FPMMX0 = 0x1010, /* ST0/MM0..ST7/MM7 */
    WHPC_FP_CONTROL_STATUS = 0x1018,
    WHPC_XMM_CONTROL_STATUS = 0x1019,
    WHPC_TSC = 0x2000,
    WHPC_EFER = 0x2001,
    WHPC_KERNEL_GS_BASE = 0x2002,
    WHPC_APIC_BASE = 0x2003,
    WHPC_PAT = 0x2004,
    WHPC_SYSENTER_CS = 0x2005,
    WHPC_SYSENTER_EIP = 0x2006,
    WHPC_SYSENTER_ESP = 0x2007,
    WHPC_STAR = 0x2008,
    WHPC_LSTAR = 0x2009,
    WHPC_CSTAR = 0x200a,
    WHPC_SFMASK = 0x200b,
    WHPC_TSC_AUX = 0x207b,
};

/* Segment attribute bits WHP defines (bits 8-11 are reserved there). */
#define WHPC_SEG_ATTR_MASK 0xf0ffu

/* The layout of WHV_REGISTER_VALUE (16 bytes, 16-aligned) for the members
 * the backend uses. */
union whpc_value {
    uint64_t u64;
    uint8_t bytes[16];
    struct whpc_seg { /* WHV_X64_SEGMENT_REGISTER */
        uint64_t base;
        uint32_t limit;
        uint16_t sel;
        uint16_t attr;
    } seg;
    struct whpc_table { /* WHV_X64_TABLE_REGISTER */
        uint16_t pad[3];
        uint16_t limit;
        uint64_t base;
    } table;
    struct whpc_fpcs { /* WHV_X64_FP_CONTROL_STATUS_REGISTER */
        uint16_t fcw, fsw;
        uint8_t ftw, rsvd;
        uint16_t fop;
        uint64_t fip;
    } fpcs;
    struct whpc_xmmcs { /* WHV_X64_XMM_CONTROL_STATUS_REGISTER */
        uint64_t fdp;
        uint32_t mxcsr, mxcsr_mask;
    } xmmcs;
} __attribute__((aligned(16)));

/* Registers of all CPUM_STATE_* parts together (see whpc_names). */
#define WHPC_MAX_NAMES 80

/*
 * The WHP register names that carry the CPUM_STATE_* parts in `parts`, in a
 * fixed order: GPRS (RAX..R15, RIP, RFLAGS), SREGS (ES..GS, LDTR, TR, IDTR,
 * GDTR, CR0, CR2, CR3, CR4, CR8, EFER, APIC base), FPU (ST0..7, FP and XMM
 * control/status, XMM0..15), MSRS (TSC, the SYSCALL/SYSENTER MSRs, kernel GS
 * base, PAT; IA32_MISC_ENABLE stays in CPUM: WHP has no register for it),
 * DRS (DR0..3, DR6, DR7). Writes at most `max` names; returns the count.
 */
unsigned whpc_names(uint32_t parts, uint32_t *names, unsigned max);

/* The CPUM_STATE_* part a WHP register belongs to, 0 if none. */
uint32_t whpc_part_of(uint32_t name);

/*
 * One register between the context and its WHP value. Return CAP_FALSE
 * (and leave the destination alone) for a name that is not part of struct
 * cpum_ctx. whpc_get clears the bytes of *v the register does not use.
 */
cap_bool whpc_get(const struct cpum_ctx *c, uint32_t name, union whpc_value *v);
cap_bool whpc_set(struct cpum_ctx *c, uint32_t name, const union whpc_value *v);

/* Segment registers: CPUM keeps the VMX access-rights layout, which is
 * WHP's too, minus WHP's reserved bits 8-11. */
void whpc_seg_to_whp(const struct cpum_seg *s, struct whpc_seg *w);
void whpc_seg_from_whp(const struct whpc_seg *w, struct cpum_seg *s);

/* RAX after an IN of `size` (1, 2, 4) bytes of `data`: AL/AX merged into
 * RAX, a 32-bit IN zero-extends into RAX as every 32-bit write does. */
uint64_t whpc_io_in_rax(uint64_t rax, unsigned size, const uint8_t *data);

/* ---- replaying an instruction through the Windows emulator ------------- */

/*
 * WHvEmulatorTry{Mmio,Io}Emulation wants device data synchronously from its
 * callbacks; EM hands it over only at the next run. The backend therefore
 * emulates an instruction as often as it has device accesses: each attempt
 * answers the accesses already logged (reads with the data EM supplied,
 * writes as already done) and stops at the first new one, which becomes the
 * exit EM sees. Only an attempt that gets through every access commits the
 * registers. Guest RAM accesses are not logged (they go straight to PGM and
 * are idempotent when repeated).
 */
#define WHPC_MAX_ACCESSES 64

enum whpc_access_kind { WHPC_ACC_MMIO, WHPC_ACC_PORT };

struct whpc_access {
    uint8_t kind;  /* enum whpc_access_kind */
    uint8_t write;
    uint8_t size;  /* 1..8 */
    uint64_t addr; /* GPA or port */
    uint8_t data[8];
};

struct whpc_replay {
    unsigned n;   /* accesses logged; the last one is the current exit */
    unsigned pos; /* accesses answered in the current attempt */
    struct whpc_access log[WHPC_MAX_ACCESSES];
};

enum whpc_replay_result {
    WHPC_REPLAY_ANSWERED, /* logged before: *data filled for a read */
    WHPC_REPLAY_NEW,      /* logged now (write data copied): stop, exit to EM */
    WHPC_REPLAY_MISMATCH, /* the attempt differs from the log: give up */
    WHPC_REPLAY_FULL,     /* more than WHPC_MAX_ACCESSES accesses */
};

/* Forgets everything (the instruction completed or was abandoned). */
void whpc_replay_reset(struct whpc_replay *r);
/* Starts another attempt over the same log. */
void whpc_replay_begin(struct whpc_replay *r);
/* One device access of the attempt; `data` is size bytes (read: filled on
 * ANSWERED; write: copied into the log on NEW). size must be 1..8. */
enum whpc_replay_result whpc_replay_access(struct whpc_replay *r, enum whpc_access_kind kind,
                                           cap_bool write, uint64_t addr, unsigned size,
                                           uint8_t *data);
/* The access the current exit is about (the last logged), NULL if none. */
struct whpc_access *whpc_replay_current(struct whpc_replay *r);

#endif /* VMM_HWACCM_WHP_CONV_H */
