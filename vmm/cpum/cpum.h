/*
 * vmm/cpum/cpum.h - CPUM, the CPU monitor: guest CPU state, CPUID policy and
 * MSR emulation.
 *
 * Every engine (hm over KVM or WHP, rem, raw) runs a vCPU from the same
 * struct cpum_ctx, and every one of them shows the guest the same CPUID,
 * built once per VM from one table (cpum_cpuid.c). A feature bit is in that
 * table only when every engine and every device model of the VMM really
 * implements it; an engine that cannot provide one of them refuses to start
 * (hwaccm checks against KVM's supported CPUID) rather than showing the guest
 * a different CPU.
 *
 * Objects:
 *   struct cpum_policy  one per VM: CPUID leaves, address widths. Built by
 *                       cpum_policy_init(), read-only afterwards, so any vCPU
 *                       thread may read it without locks.
 *   struct cpum_cpu     one per vCPU: the context plus the vCPU's id and the
 *                       policy it follows. Owned and touched by the vCPU's
 *                       thread only (EM's thread), except where noted.
 *
 * State synchronisation with an engine: an engine that keeps part of the
 * state in the host (KVM) records which parts in `extrn` (those are stale
 * in ctx until the engine imports them); code that changes ctx outside the
 * engine sets the matching bits in `dirty` (cpum_mark_dirty) so the engine
 * pushes them before the next run. CPUM itself never calls an engine.
 */
#ifndef VMM_CPUM_H
#define VMM_CPUM_H

#include <stddef.h>
#include <stdint.h>

#include <capsule/types.h>

#include "vmm_result.h"
#include "cpum_profile.h"

#define VMM_API __attribute__((visibility("default")))

/* General-purpose register indices into cpum_ctx.gpr. */
enum cpum_gpr {
    CPUM_RAX, CPUM_RCX, CPUM_RDX, CPUM_RBX, CPUM_RSP, CPUM_RBP, CPUM_RSI, CPUM_RDI,
    CPUM_R8, CPUM_R9, CPUM_R10, CPUM_R11, CPUM_R12, CPUM_R13, CPUM_R14, CPUM_R15,
    CPUM_GPR_COUNT
};

/* Segment register indices into cpum_ctx.seg (the encoding of x86 sreg fields). */
enum cpum_sreg { CPUM_ES, CPUM_CS, CPUM_SS, CPUM_DS, CPUM_FS, CPUM_GS, CPUM_SREG_COUNT };

/*
 * Segment attributes, in the VMX access-rights layout (also what KVM and WHP
 * use, bit for bit): type 3:0, S 4, DPL 6:5, P 7, AVL 12, L 13, D/B 14, G 15.
 * The limit is always stored expanded to bytes (G already applied). A
 * segment with P clear is "unusable" (a null selector loaded in 64-bit mode).
 */
#define CPUM_SEG_TYPE_MASK 0x000fu
#define CPUM_SEG_S         0x0010u
#define CPUM_SEG_DPL_SHIFT 5
#define CPUM_SEG_DPL_MASK  0x0060u
#define CPUM_SEG_P         0x0080u
#define CPUM_SEG_AVL       0x1000u
#define CPUM_SEG_L         0x2000u
#define CPUM_SEG_DB        0x4000u
#define CPUM_SEG_G         0x8000u

struct cpum_seg {
    uint16_t sel;
    uint16_t attr;
    uint32_t limit; /* in bytes */
    uint64_t base;
};

struct cpum_dtr { /* GDTR / IDTR */
    uint64_t base;
    uint16_t limit;
};

/* The x87/MMX/SSE state exactly as FXSAVE stores it (512 bytes, 16-aligned). */
struct cpum_fxsave {
    uint16_t fcw, fsw;
    uint8_t ftw, rsvd1; /* abridged tag word: 1 bit per register, 1 = valid */
    uint16_t fop;
    uint64_t fip, fdp;  /* 64-bit format (REX.W FXSAVE) */
    uint32_t mxcsr, mxcsr_mask;
    uint8_t st[8][16];  /* ST0-7 / MM0-7, 10 bytes used each */
    uint8_t xmm[16][16];
    uint8_t rsvd2[96];
} __attribute__((aligned(16)));

/* MSR numbers CPUM knows. */
#define MSR_IA32_TSC            0x00000010u
#define MSR_IA32_APIC_BASE      0x0000001bu
#define MSR_IA32_TSC_ADJUST     0x0000003bu
#define MSR_IA32_BIOS_SIGN_ID   0x0000008bu /* microcode revision: reads 0, writes ignored */
#define MSR_IA32_MISC_ENABLE    0x000001a0u
#define MSR_IA32_SYSENTER_CS    0x00000174u
#define MSR_IA32_SYSENTER_ESP   0x00000175u
#define MSR_IA32_SYSENTER_EIP   0x00000176u
#define MSR_IA32_MCG_CAP        0x00000179u /* machine-check banks: reads CPUM_MCG_CAP */
#define MSR_IA32_MCG_STATUS     0x0000017au /* reads 0: no machine check in progress */
#define MSR_IA32_MCG_CTL        0x0000017bu /* absent: CPUM_MCG_CAP has no MCG_CTL_P */
#define MSR_IA32_MC0_CTL        0x00000400u /* bank i: 0x400 + 4i (CTL, STATUS, ADDR, MISC); none */
/* IA32_MCG_CAP of every profile: zero error-reporting banks and none of the
 * optional registers (no MCG_CTL, CMCI, LMCE). The guest finds a
 * machine-check architecture with nothing to report, which is what the
 * VMM has: no host error is ever passed on as a #MC. */
#define CPUM_MCG_CAP            0ull
#define MSR_IA32_PAT            0x00000277u
#define MSR_EFER                0xc0000080u
#define MSR_STAR                0xc0000081u
#define MSR_LSTAR               0xc0000082u
#define MSR_CSTAR               0xc0000083u
#define MSR_SFMASK              0xc0000084u
#define MSR_FS_BASE             0xc0000100u
#define MSR_GS_BASE             0xc0000101u
#define MSR_KERNEL_GS_BASE      0xc0000102u
/* AMD (APM Vol. 2, appendix A; the BKDG/PPR of each family) */
#define MSR_AMD_SYSCFG          0xc0010010u
#define MSR_AMD_HWCR            0xc0010015u
#define MSR_AMD_NB_CFG          0xc001001fu
#define MSR_AMD_DE_CFG          0xc0011029u
#define MSR_AMD_HWCR_TSC_FREQ_SEL (1ull << 24) /* TSC counts at the P0 rate: read-only 1 */
#define MSR_TSC_AUX             0xc0000103u

#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_AM (1ull << 18)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)

#define CR4_VME        (1ull << 0)
#define CR4_PVI        (1ull << 1)
#define CR4_TSD        (1ull << 2)
#define CR4_DE         (1ull << 3)
#define CR4_PSE        (1ull << 4)
#define CR4_PAE        (1ull << 5)
#define CR4_MCE        (1ull << 6)
#define CR4_PGE        (1ull << 7)
#define CR4_OSFXSR     (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_UMIP       (1ull << 11)
#define CR4_PCE        (1ull << 8)
#define CR4_SMEP       (1ull << 20)
#define CR4_SMAP       (1ull << 21)

#define RFLAGS_IF (1ull << 9)
#define RFLAGS_IOPL_SHIFT 12

#define APIC_BASE_BSP    (1ull << 8)
#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_DEFAULT 0xfee00000ull

/* The MSRs that are part of the context (those the architecture keeps per vCPU). */
struct cpum_msrs {
    uint64_t efer;
    uint64_t star, lstar, cstar, sfmask, kernel_gs_base;
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t pat;
    uint64_t tsc; /* last value written or read; TM owns the clock that advances it */
    uint64_t apic_base;
    uint64_t misc_enable;
    uint64_t tsc_aux;    /* IA32_TSC_AUX (RDTSCP, RDPID): low 32 bits */
    uint64_t tsc_adjust; /* IA32_TSC_ADJUST: what the guest's TSC writes added (SDM 17.17.3) */
};

/* AMD's model-specific registers under AMD profiles (cpum_msr_amd.c).
 * Only here: rem applies them, and hm over KVM sends the guest's accesses
 * to them to CPUM (hwaccm_kvm_msr.c), so no engine syncs them. */
struct cpum_amd_msrs {
    uint64_t hwcr, syscfg, nb_cfg, de_cfg;
};

/* Parts of the context, for cpum_cpu.extrn / .dirty. */
#define CPUM_STATE_GPRS  (1u << 0) /* gpr, rip, rflags */
#define CPUM_STATE_SREGS (1u << 1) /* seg, ldtr, tr, gdtr, idtr, cr0-4, cr8, efer, apic_base */
#define CPUM_STATE_FPU   (1u << 2)
#define CPUM_STATE_MSRS  (1u << 3) /* the rest of cpum_msrs */
#define CPUM_STATE_DRS   (1u << 4)
#define CPUM_STATE_ALL   0x1fu

struct cpum_ctx {
    uint64_t gpr[CPUM_GPR_COUNT];
    uint64_t rip, rflags;
    struct cpum_seg seg[CPUM_SREG_COUNT];
    struct cpum_seg ldtr, tr;
    struct cpum_dtr gdtr, idtr;
    uint64_t cr0, cr2, cr3, cr4, cr8;
    uint64_t dr[8]; /* dr[4], dr[5] unused (aliases of 6, 7) */
    struct cpum_msrs msr;
    struct cpum_amd_msrs amd;
    struct cpum_fxsave fpu;
};

/* ---- CPUID policy ------------------------------------------------------ */

#define CPUM_MAX_LEAVES 32

/* The time base the CPUID policy advertises (leaves 0x15/0x16, see
 * cpum_cpuid.c): the guest TSC rate (TM's default tsc_hz) and the APIC
 * timer's input clock (the apic device's default timer_hz). */
#define CPUM_TSC_HZ  1000000000ull
#define CPUM_APIC_HZ 1000000000ull

struct cpum_cpuid_leaf {
    uint32_t leaf, subleaf;
    cap_bool has_subleaves; /* subleaf is significant */
    uint32_t eax, ebx, ecx, edx;
};

struct cpum_policy {
    unsigned ncpus;
    unsigned phys_addr_bits; /* MAXPHYADDR (CPUID 0x80000008.EAX[7:0]) */
    unsigned virt_addr_bits;
    uint32_t signature;      /* CPUID.1.EAX: family/model/stepping */
    char vendor[13];
    char profile[CPUM_PROFILE_NAME_MAX]; /* the profile it was built from */
    enum cpum_vendor vendor_id;
    uint32_t mxcsr_mask;     /* FXSAVE's MXCSR_MASK */
    uint32_t behaviours;     /* CPUM_B_* */
    unsigned nleaves;
    struct cpum_cpuid_leaf leaves[CPUM_MAX_LEAVES];
};

static inline cap_bool cpum_behaves(const struct cpum_policy *p, uint32_t b)
{
    return (p->behaviours & b) != 0;
}

/* Feature bits (CPUID register, bit) used by code that asks the policy. */
enum cpum_feature {
    CPUM_FEAT_PSE,
    CPUM_FEAT_PAE,
    CPUM_FEAT_PGE,
    CPUM_FEAT_PAT,
    CPUM_FEAT_PSE36,
    CPUM_FEAT_SEP,
    CPUM_FEAT_APIC,
    CPUM_FEAT_FXSR,
    CPUM_FEAT_SSE,
    CPUM_FEAT_SSE2,
    CPUM_FEAT_SYSCALL,
    CPUM_FEAT_NX,
    CPUM_FEAT_LM,
    CPUM_FEAT_PDPE1GB,
    CPUM_FEAT_X2APIC,
    CPUM_FEAT_MTRR,
    CPUM_FEAT_RDTSCP,
    CPUM_FEAT_TSC_ADJUST,
    CPUM_FEAT_RDPID,
    CPUM_FEAT_SMEP,
    CPUM_FEAT_SMAP,
    CPUM_FEAT_UMIP,
    CPUM_FEAT_TSC,
    CPUM_FEAT_MCE,
    CPUM_FEAT_MCA,
};

/*
 * Builds the VM's policy for `ncpus` vCPUs (1..255) from the profile called
 * `profile` (NULL = CPUM_PROFILE_DEFAULT): its vendor, signature, brand,
 * MXCSR_MASK and behaviours, and the supported feature set listed at the top
 * of cpum_cpuid.c. Returns CAP_E_INVALIDARG for a bad count or an unknown
 * profile (the error info lists the known ones).
 */
VMM_API cap_result cpum_policy_init(struct cpum_policy *policy, unsigned ncpus,
                                    const char *profile);

/*
 * The same, advertising only the profile's optional features (CPUM_OPT_*)
 * that are also in `optional`: for the "host" profile under an engine whose
 * hypervisor offers fewer of them than the host CPU has (EM asks hwaccm).
 */
VMM_API cap_result cpum_policy_init_opt(struct cpum_policy *policy, unsigned ncpus,
                                        const char *profile, uint32_t optional);


/*
 * CPUID as the guest on vCPU `cpu_id` sees it: per the SDM, a leaf above the
 * maximum of its range returns the highest basic leaf; unknown leaves inside
 * a range return zeros. APIC-id fields are filled in for the vCPU. out[] is
 * eax, ebx, ecx, edx.
 */
VMM_API void cpum_cpuid(const struct cpum_policy *policy, unsigned cpu_id, uint32_t leaf,
                        uint32_t subleaf, uint32_t out[4]);

VMM_API cap_bool cpum_has_feature(const struct cpum_policy *policy, enum cpum_feature f);

/*
 * The CR4 bits a MOV to CR4 may set under this policy: those of the
 * features it advertises (PSE, PAE, PGE, OSFXSR, OSXMMEXCPT, TSD, UMIP,
 * SMEP, SMAP) and PCE. Any other bit set is #GP(0) - as a CPU without the
 * feature answers, and as KVM checks against the same CPUID.
 */
VMM_API uint64_t cpum_cr4_allowed(const struct cpum_policy *policy);

/* The (register, bit) of a feature in the leaf table: leaf, reg 0..3 = eax..edx. */
VMM_API void cpum_feature_location(enum cpum_feature f, uint32_t *leaf, unsigned *reg,
                                   unsigned *bit);

/* ---- vCPUs ------------------------------------------------------------- */

struct cpum_cpu {
    struct cpum_ctx ctx;
    const struct cpum_policy *policy; /* set at init, outlives the vCPU */
    unsigned id;                      /* 0 is the bootstrap processor */
    uint32_t extrn;                   /* CPUM_STATE_* held by the engine, stale in ctx */
    uint32_t dirty;                   /* CPUM_STATE_* changed in ctx, engine must load */
};

enum cpum_reset_kind {
    CPUM_RESET_POWER_ON, /* everything to its power-up value */
    CPUM_RESET_INIT,     /* INIT signal: x87/SSE state and most MSRs survive */
};

/* Initialises a vCPU at power-on state. `policy` must outlive it. */
VMM_API void cpum_cpu_init(struct cpum_cpu *cpu, const struct cpum_policy *policy, unsigned id);

/*
 * Puts the vCPU in the SDM's state after RESET or INIT (Vol. 3A, table 9-1):
 * CS.sel 0xf000 base 0xffff0000, RIP 0xfff0, RFLAGS 2, CR0 0x60000010, EDX =
 * the CPUID signature, DR6 0xffff0ff0, DR7 0x400, APIC base 0xfee00000 with
 * BSP set on vCPU 0, ... Marks the whole state dirty and not external.
 */
VMM_API void cpum_reset(struct cpum_cpu *cpu, enum cpum_reset_kind kind);

static inline void cpum_mark_dirty(struct cpum_cpu *cpu, uint32_t what)
{
    cpu->dirty |= what;
}

/* Current privilege level: SS.DPL (as VMX/SVM define it); 0 in real mode. */
VMM_API unsigned cpum_cpl(const struct cpum_ctx *ctx);

/* ---- MSR emulation ----------------------------------------------------- */

/*
 * RDMSR / WRMSR for an engine (or rem) that must emulate one. The needed
 * state (CPUM_STATE_MSRS | CPUM_STATE_SREGS) must be imported first.
 * Returns CAP_OK, or VMM_XCPT_GP when the architecture says #GP(0): unknown
 * MSR, reserved bits set, non-canonical address, feature not in the policy,
 * read-only MSR written. Never sets error info. A successful write marks the
 * matching state dirty.
 */
VMM_API cap_result cpum_msr_read(struct cpum_cpu *cpu, uint32_t msr, uint64_t *value);
VMM_API cap_result cpum_msr_write(struct cpum_cpu *cpu, uint32_t msr, uint64_t value);

/* The MSR numbers of the context (for engines that save/restore them in bulk). */
VMM_API unsigned cpum_msr_list(const uint32_t **list);

#endif /* VMM_CPUM_H */
