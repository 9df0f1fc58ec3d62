/*
 * dis.h - DIS, the x86 instruction decoder and Intel-syntax printer.
 *
 * One table-driven decoder for 16-, 32- and 64-bit code. dis_decode() turns
 * bytes into a `struct dis_insn`: a mnemonic id, up to four operands already
 * resolved to registers (CPUM numbering), memory references (segment, base,
 * index, scale, displacement, address size), immediates, relative targets or
 * far pointers, plus the effective operand/address size, prefixes, RFLAGS bits
 * read/written/left undefined and the attributes REM and CSAM need
 * (privileged, sensitive, control-flow kind, string, LOCK-able) and, for raw
 * mode, the kind of sensitive instruction (`sens`, enum dis_sens).
 * dis_format() prints it the way `objdump -M intel` does.
 *
 * Contract: pure functions, no global state, no allocation; any thread may
 * call them concurrently. dis_decode never reads bytes[avail] or beyond and
 * never more than DIS_MAX_LEN bytes. Used by REM (execution), CSAM (code
 * scanning), capsule-dis and the debugger.
 *
 * Register numbering (struct dis_op.reg) follows CPUM:
 *   DIS_RC_GPR   0..15 = rax rcx rdx rbx rsp rbp rsi rdi r8..r15; the operand
 *                size says which part (al/ax/eax/rax; spl..dil need REX).
 *   DIS_RC_GPR8H 0..3  = ah ch dh bh (bits 8..15 of rax/rcx/rdx/rbx).
 *   DIS_RC_SEG   0..5  = es cs ss ds fs gs (DIS_SEG_*).
 *   DIS_RC_CR, DIS_RC_DR: 0..15; DIS_RC_MM 0..7; DIS_RC_XMM 0..15 (size 16);
 *   DIS_RC_YMM 0..15 (size 32); DIS_RC_ST 0..7 = st(i) relative to TOP.
 */
#ifndef CAPSULE_VMM_DIS_H
#define CAPSULE_VMM_DIS_H

#include <stddef.h>
#include <stdint.h>

#include "dis/dis_mnem.h"

#ifndef VMM_API
#define VMM_API __attribute__((visibility("default")))
#endif

#define DIS_MAX_LEN 15 /* architectural limit; longer -> #GP(0) */

enum dis_mode { DIS_MODE_16 = 16, DIS_MODE_32 = 32, DIS_MODE_64 = 64 };

/* Negative results of dis_decode. */
enum dis_status {
    DIS_ERR_MORE = -1,    /* the bytes end inside the instruction: fetch more (if the
                             instruction would reach beyond DIS_MAX_LEN, TOOLONG wins) */
    DIS_ERR_INVALID = -2, /* #UD: undefined opcode, invalid in this mode, LOCK where
                             not allowed, register form where memory is required... */
    DIS_ERR_TOOLONG = -3, /* more than 15 bytes (prefixes included): #GP(0) */
};

#define DIS_X(id, text, fl, at) DIS_##id,
enum dis_mnem { DIS_MNEMONICS(DIS_X) DIS_MNEM_COUNT };
#undef DIS_X

enum dis_op_kind {
    DIS_OP_NONE = 0,
    DIS_OP_REG,  /* reg_class + reg */
    DIS_OP_MEM,  /* mem.*: effective address = base + index*scale + disp, wrapped to
                    mem.addr_size; base DIS_REG_RIP = address of the next instruction */
    DIS_OP_IMM,  /* imm, already extended to `size` bytes as the encoding says; size 0 =
                    the implicit count 1 of the D0-D3 shifts */
    DIS_OP_REL,  /* imm = signed displacement from the next instruction; the target
                    is truncated to insn.opsize (dis_rel_target) */
    DIS_OP_FAR,  /* far pointer immediate: sel:imm (EA/9A, not in 64-bit) */
};

enum dis_reg_class {
    DIS_RC_NONE = 0, DIS_RC_GPR, DIS_RC_GPR8H, DIS_RC_SEG, DIS_RC_CR, DIS_RC_DR,
    DIS_RC_MM, DIS_RC_XMM, DIS_RC_YMM, DIS_RC_ST,
};

enum dis_seg { DIS_SEG_ES = 0, DIS_SEG_CS, DIS_SEG_SS, DIS_SEG_DS, DIS_SEG_FS, DIS_SEG_GS,
               DIS_SEG_NONE = 0xff };

#define DIS_REG_NONE 0xff /* no base / no index */
#define DIS_REG_RIP 0x10  /* mem.base of a RIP-relative operand (64-bit mode only) */

/* struct dis_op.access */
#define DIS_ACC_R 1
#define DIS_ACC_W 2
#define DIS_ACC_RW 3

struct dis_op {
    uint8_t kind;      /* enum dis_op_kind */
    uint8_t access;    /* DIS_ACC_*: how the instruction uses it (best effort for rare
                          instructions; exact for GP arithmetic, mov, push/pop, strings) */
    uint16_t size;     /* bytes: 1,2,4,8,10,16,32, 6/10 for m16:32/m16:64, 0 = no size
                          (lea's m, prefetch, fxsave's 512-byte image is 512) */
    uint8_t reg_class; /* DIS_OP_REG: enum dis_reg_class */
    uint8_t reg;       /* DIS_OP_REG: number in that class */
    struct {
        uint8_t seg;       /* effective segment (override or default), DIS_SEG_* */
        uint8_t base;      /* GPR 0..15, DIS_REG_RIP or DIS_REG_NONE */
        uint8_t index;     /* GPR 0..15 or DIS_REG_NONE */
        uint8_t scale;     /* 1,2,4,8 */
        uint8_t addr_size; /* 2,4,8 */
        int64_t disp;      /* sign-extended */
    } mem;
    uint64_t imm;  /* DIS_OP_IMM value, DIS_OP_REL displacement (as int64), DIS_OP_FAR offset */
    uint16_t sel;  /* DIS_OP_FAR selector */
};

/* struct dis_insn.prefixes */
#define DIS_PFX_LOCK 0x0001
#define DIS_PFX_REP 0x0002   /* F3 (rep/repe, or mandatory prefix of an SSE form) */
#define DIS_PFX_REPNE 0x0004 /* F2 */
#define DIS_PFX_OPSIZE 0x0008
#define DIS_PFX_ADDRSIZE 0x0010
#define DIS_PFX_SEG 0x0020   /* a segment override: insn.seg_override */
#define DIS_PFX_REX 0x0040   /* insn.rex holds the REX byte */
#define DIS_PFX_VEX 0x0080   /* VEX-encoded: insn.vex_* */
#define DIS_PFX_EVEX 0x0100
#define DIS_PFX_XOP 0x0200

/* struct dis_insn.attr */
#define DIS_A_PRIV 0x0001      /* CPL0 only (#GP(0) otherwise) */
#define DIS_A_SENS 0x0002      /* reads/writes state raw mode must trap or patch */
#define DIS_A_LOCKABLE 0x0004  /* LOCK allowed with a memory destination */
#define DIS_A_STRING 0x0008    /* string instruction (rSI/rDI/rCX per addrsize) */
#define DIS_A_REP 0x0010       /* F3 means rep */
#define DIS_A_REPE 0x0020      /* F3/F2 mean repe/repne (cmps, scas) */
#define DIS_A_IO 0x0040        /* port I/O (IOPL/TSS bitmap checks) */
#define DIS_A_INVALID64 0x0080 /* (informational) this opcode is #UD in 64-bit mode */
#define DIS_A_LENGTH_ONLY 0x0100 /* length is right, operands/semantics are not decoded */

enum dis_cf {
    DIS_CF_NONE = 0,
    DIS_CF_JMP,      /* near jmp: op[0] is REL (direct) or REG/MEM (indirect) */
    DIS_CF_JCC,      /* conditional near jump, insn.cond */
    DIS_CF_LOOP,     /* loop/loope/loopne/jcxz: conditional on rCX (addrsize) */
    DIS_CF_CALL,     /* near call */
    DIS_CF_RET,      /* near ret (op[0] = imm16 to pop, if any) */
    DIS_CF_JMPF,     /* far jmp: op[0] FAR or MEM (m16:16/32/64) */
    DIS_CF_CALLF,
    DIS_CF_RETF,
    DIS_CF_IRET,
    DIS_CF_INT,      /* int n / int3 / into / int1 */
    DIS_CF_SYSCALL,  /* syscall, sysenter */
    DIS_CF_SYSRET,   /* sysret, sysexit */
    DIS_CF_UD,       /* ud0/ud1/ud2: always #UD */
    DIS_CF_HLT,
};

/*
 * struct dis_insn.sens: why raw mode must not run the instruction as it is in
 * a guest kernel that runs deprivileged (at CPL 1 or 3 instead of 0), one kind
 * per patch or emulation strategy (CSAM records them, PATM patches by kind).
 * Every instruction with attr PRIV or IO has a kind, and every SENS one but
 * stores of DS/ES/FS/GS (mov r/m, ds: harmless); it also names what attr
 * leaves to REM (reads of CS/SS, segment loads, INT n, UD2, SYSCALL), which
 * behave or fault differently at a lower CPL without being system
 * instructions. Instructions decoded for length only have none.
 */
enum dis_sens {
    DIS_SENS_NONE = 0,
    DIS_SENS_PUSHF,     /* pushf/pushfq: pushes the real IF and IOPL */
    DIS_SENS_POPF,      /* popf/popfq: IF and IOPL silently unchanged below CPL 0 */
    DIS_SENS_CLI,       /* cli: #GP, or silently nothing, below IOPL */
    DIS_SENS_STI,       /* sti (and its interrupt shadow) */
    DIS_SENS_IRET,      /* iret/iretd/iretq: privilege checks against the real CPL */
    DIS_SENS_SYSRET,    /* sysret/sysexit: CPL 0 only */
    DIS_SENS_SWAPGS,    /* CPL 0 only */
    DIS_SENS_IO,        /* in/out/ins/outs: IOPL and the TSS bitmap */
    DIS_SENS_CR,        /* mov to/from CRn, clts, lmsw, smsw (reads CR0 at any CPL) */
    DIS_SENS_DR,        /* mov to/from DRn */
    DIS_SENS_DESC_LOAD, /* lgdt lidt lldt ltr */
    DIS_SENS_DESC_READ, /* sgdt sidt sldt str: the host's tables at any CPL */
    DIS_SENS_MSR,       /* rdmsr wrmsr */
    DIS_SENS_CPUID,     /* the host's answer unless the hypervisor traps it */
    DIS_SENS_HLT,       /* hlt */
    DIS_SENS_TLB,       /* invlpg invpcid invlpga */
    DIS_SENS_TSC,       /* rdtsc rdtscp rdpmc (policy: CR4.TSD/PCE decide) */
    DIS_SENS_SEG_READ,  /* mov r/m,cs|ss, push cs|ss, lar lsl verr verw arpl: show the CPL */
    DIS_SENS_SEG_LOAD,  /* mov/pop Sreg, lds les lss lfs lgs: DPL checks against the CPL */
    DIS_SENS_FAR,       /* far jmp/call/ret: selector RPL and CPL checks */
    DIS_SENS_INT,       /* int n, int3, into, int1: gate DPL against the real CPL */
    DIS_SENS_SYSCALL,   /* syscall/sysenter executed by kernel code */
    DIS_SENS_UD,        /* ud0/ud1/ud2: always #UD (Linux's BUG/WARN) */
    DIS_SENS_PRIV,      /* every other CPL-0-only or hypervisor instruction (wbinvd,
                           xsetbv, clac/stac, monitor/mwait, VMX/SVM, vmcall...) */
    DIS_SENS_COUNT
};

/* RFLAGS bits for flags_read/flags_written/flags_undef (architectural positions). */
#define DIS_FL_CF 0x0001u
#define DIS_FL_PF 0x0004u
#define DIS_FL_AF 0x0010u
#define DIS_FL_ZF 0x0040u
#define DIS_FL_SF 0x0080u
#define DIS_FL_TF 0x0100u
#define DIS_FL_IF 0x0200u
#define DIS_FL_DF 0x0400u
#define DIS_FL_OF 0x0800u
#define DIS_FL_IOPL 0x3000u
#define DIS_FL_NT 0x4000u
#define DIS_FL_RF 0x10000u
#define DIS_FL_VM 0x20000u
#define DIS_FL_AC 0x40000u
#define DIS_FL_ID 0x200000u
#define DIS_FL_STATUS (DIS_FL_CF | DIS_FL_PF | DIS_FL_AF | DIS_FL_ZF | DIS_FL_SF | DIS_FL_OF)

struct dis_insn {
    uint16_t mnem;       /* enum dis_mnem */
    uint8_t length;      /* 1..15 */
    uint8_t mode;        /* 16/32/64 as decoded */
    uint8_t opsize;      /* effective operand size in bytes: 1 for byte forms, 2, 4, 8 */
    uint8_t addrsize;    /* effective address size: 2, 4, 8 */
    uint8_t nops;        /* operands used in op[] (Intel order: destination first) */
    uint8_t seg_override;/* DIS_SEG_* of the last segment prefix, DIS_SEG_NONE */
    uint16_t prefixes;   /* DIS_PFX_* */
    uint8_t rex;         /* REX byte (0x40..0x4f) or 0 */
    uint8_t map;         /* 0 = one-byte, 1 = 0F, 2 = 0F38, 3 = 0F3A (also VEX.mmmmm) */
    uint8_t opcode;      /* the opcode byte within its map */
    uint8_t modrm;       /* valid if has_modrm */
    uint8_t has_modrm;
    uint8_t cond;        /* 0..15 condition code for jcc/setcc/cmovcc/fcmov, 0xff otherwise */
    uint8_t cf;          /* enum dis_cf */
    uint8_t vex_l;       /* VEX.L (0 = 128, 1 = 256) */
    uint8_t vex_w;       /* VEX.W */
    uint8_t vex_v;       /* VEX.vvvv, already inverted (register number) */
    uint8_t imm_len;     /* bytes of immediate(s) in the encoding */
    uint8_t sens;        /* enum dis_sens: DIS_SENS_NONE unless raw mode must act */
    uint16_t attr;       /* DIS_A_* */
    uint32_t flags_read;    /* RFLAGS bits the instruction reads */
    uint32_t flags_written; /* bits it writes (defined or not) */
    uint32_t flags_undef;   /* subset of flags_written left undefined by the SDM */
    struct dis_op op[4];
};

/*
 * Decodes one instruction at bytes[0..avail) in `mode`. Returns its length
 * (1..15) and fills *out, or a negative enum dis_status (then *out holds what
 * was decoded so far; out->length = bytes consumed up to the failure, for a
 * disassembler that wants to skip; out->mnem = DIS_invalid).
 */
VMM_API int dis_decode(const uint8_t *bytes, size_t avail, enum dis_mode mode, struct dis_insn *out);

/* Mnemonic text of an id ("(bad)" for DIS_invalid); never NULL. */
VMM_API const char *dis_mnem_name(unsigned mnem);

/* Name of an enum dis_sens kind ("pushf", "seg-read", ...); "?" if out of range. */
VMM_API const char *dis_sens_name(unsigned sens);

/* Target of a DIS_OP_REL operand given the address of the instruction. */
VMM_API uint64_t dis_rel_target(const struct dis_insn *insn, uint64_t ip);

/*
 * Prints the instruction in objdump -M intel syntax into buf (always NUL
 * terminated when size > 0, truncated if too small). `ip` is the instruction's
 * address (for relative targets and RIP-relative comments). Returns the length
 * the full text would have (like snprintf).
 */
VMM_API int dis_format(const struct dis_insn *insn, uint64_t ip, char *buf, size_t size);

#endif
