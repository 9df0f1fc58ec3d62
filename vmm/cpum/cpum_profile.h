/*
 * vmm/cpum/cpum_profile.h - the table of CPU profiles (which CPU a guest
 * sees). A module of its own, with no dependency on the rest of the VMM, so
 * that the service (which never links the VMM) validates and lists the same
 * names the VM process runs: one owner for the fact.
 */
#ifndef VMM_CPUM_PROFILE_H
#define VMM_CPUM_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#ifndef VMM_API
#define VMM_API __attribute__((visibility("default")))
#endif

/* ---- CPU profiles ------------------------------------------------------ */

/*
 * A CPU profile names the CPU the guest sees (VirtualBox: --cpu-profile,
 * QEMU: -cpu): vendor, family/model/stepping, brand string, MXCSR_MASK and
 * the vendor-dependent behaviours the software CPU models. The feature set
 * is what every engine of the VMM implements (cpum_cpuid.c), the same for
 * every profile but for the optional features (CPUM_OPT_*) the host
 * profile drops where the host lacks them - so a profile changes who the
 * CPU is, never whether what it advertises works.
 *
 * Profiles: "host" (the default: the host's vendor, signature and brand,
 * with the behaviours of the host's vendor), "intel-core" and "amd-epyc".
 * The table is in cpum_profile.c.
 */
enum cpum_vendor { CPUM_VENDOR_INTEL, CPUM_VENDOR_AMD };

/*
 * Vendor-dependent behaviours (struct cpum_policy.behaviours). Each names
 * what the CPU does where the Intel SDM and the AMD APM differ, or where the
 * manuals leave it open and the silicon of one vendor is known to differ:
 *
 *   CMPS_SRC_FIRST   CMPS reads DS:[rSI] before ES:[rDI], so its fault wins
 *                    (AMD; Intel reads ES:[rDI] first).
 *   REP_A32_LAZY     a REP string instruction with 32-bit addressing in
 *                    64-bit mode writes RCX/RSI/RDI as 32-bit registers only
 *                    when an element completes (AMD); Intel truncates RCX
 *                    (and RSI/RDI for MOVS/STOS) even when the first element
 *                    faults.
 *   REP_CMP_FLAGS_EACH  REP CMPS/SCAS set the arithmetic flags after every
 *                    element, so a fault on a later element leaves those of
 *                    the last completed comparison (AMD); Intel leaves the
 *                    flags of the instruction's start until it completes.
 *                    Checked natively by tests/rem_diff on both vendors.
 *   CPUID_ZERO_ABOVE_MAX  a leaf above its range's maximum reads as zeros
 *                    (AMD APM, CPUID); Intel answers with the highest basic
 *                    leaf (SDM Vol. 2A, CPUID).
 *   SYSCALL_LEGACY   SYSCALL/SYSRET also work outside 64-bit mode, in legacy
 *                    protected and compatibility mode (AMD APM Vol. 3,
 *                    SYSCALL); Intel raises #UD outside 64-bit mode.
 *   SYSENTER_LONG_UD SYSENTER/SYSEXIT raise #UD in long mode (AMD APM Vol. 3,
 *                    SYSENTER); Intel supports them there.
 *   SYSRET_USER_GP   SYSRET to a non-canonical RIP completes the switch to
 *                    CPL3 and the #GP is taken there (AMD); Intel raises
 *                    #GP(0) at CPL0 before changing anything (SDM, SYSRET).
 *   MXCSR_MM         MXCSR bit 17 (MM, AMD's misaligned SSE mode) is
 *                    writable: FXSAVE's MXCSR_MASK is 0x2ffff (AMD APM
 *                    Vol. 4, MXCSR). Setting it does not lift the alignment
 *                    checks on the AMD family 26 silicon this was checked on
 *                    natively (MOVAPS, ADDPS m128, MOVNTPS, FXSAVE still
 *                    #GP), and rem keeps them too; so no profile advertises
 *                    MisAlignSse (CPUID 0x80000001 ECX[7]).
 */
#define CPUM_B_CMPS_SRC_FIRST       (1u << 0)
#define CPUM_B_REP_A32_LAZY         (1u << 1)
#define CPUM_B_CPUID_ZERO_ABOVE_MAX (1u << 2)
#define CPUM_B_SYSCALL_LEGACY       (1u << 3)
#define CPUM_B_SYSENTER_LONG_UD     (1u << 4)
#define CPUM_B_SYSRET_USER_GP       (1u << 5)
#define CPUM_B_MXCSR_MM             (1u << 6)
#define CPUM_B_REP_CMP_FLAGS_EACH   (1u << 7)
#define CPUM_B_AMD (CPUM_B_CMPS_SRC_FIRST | CPUM_B_REP_A32_LAZY | CPUM_B_CPUID_ZERO_ABOVE_MAX | \
                    CPUM_B_SYSCALL_LEGACY | CPUM_B_SYSENTER_LONG_UD | CPUM_B_SYSRET_USER_GP | \
                    CPUM_B_REP_CMP_FLAGS_EACH)

/*
 * Optional features (struct cpum_profile.optional): the policy advertises
 * each one only where the profile has it. The fixed profiles have them all;
 * "host" only those the host's CPU has, so that hm - which runs guest code
 * on that silicon, and refuses a policy bit the host lacks - can run it.
 */
#define CPUM_OPT_SMEP   (1u << 0) /* CPUID.7.0:EBX[7], CR4.SMEP */
#define CPUM_OPT_SMAP   (1u << 1) /* CPUID.7.0:EBX[20], CR4.SMAP, STAC/CLAC */
#define CPUM_OPT_UMIP   (1u << 2) /* CPUID.7.0:ECX[2], CR4.UMIP */
#define CPUM_OPT_RDPID  (1u << 3) /* CPUID.7.0:ECX[22] */
#define CPUM_OPT_RDTSCP (1u << 4) /* CPUID.80000001h:EDX[27] (with IA32_TSC_AUX) */
#define CPUM_OPT_ALL    0x1fu

/* The CPUM_OPT_* set a CPUID shows (leaf 7.0 EBX/ECX, 0x80000001 EDX). */
VMM_API uint32_t cpum_optional_from_cpuid(uint32_t l7_ebx, uint32_t l7_ecx, uint32_t e1_edx);

#define CPUM_PROFILE_NAME_MAX 32
#define CPUM_PROFILE_DEFAULT "host"

struct cpum_profile {
    char name[CPUM_PROFILE_NAME_MAX];
    char description[80];
    enum cpum_vendor vendor;
    uint32_t signature;  /* CPUID.1.EAX */
    char brand[49];      /* CPUID 0x80000002-4, NUL-terminated */
    uint32_t mxcsr_mask; /* what FXSAVE stores; bit 17 only with CPUM_B_MXCSR_MM */
    uint32_t behaviours; /* CPUM_B_* */
    uint32_t optional;   /* CPUM_OPT_*: the optional features it has */
};

/* The number of profiles and the i-th (0 is "host", filled in from the
 * host's CPUID the first time it is asked for; thread-safe). */
VMM_API unsigned cpum_profile_count(void);
VMM_API const struct cpum_profile *cpum_profile_at(unsigned i);

/* The profile called `name` (NULL or "" = CPUM_PROFILE_DEFAULT), or NULL
 * when there is none. */
VMM_API const struct cpum_profile *cpum_profile_find(const char *name);

/* "host, intel-core, amd-epyc": the known names, for error messages.
 * Returns buf. */
VMM_API const char *cpum_profile_names(char *buf, size_t size);

/* The vendor's name as CPUID leaf 0 spells it ("GenuineIntel", ...). */
VMM_API const char *cpum_vendor_string(enum cpum_vendor v);

/* The host's vendor (Intel for any vendor that is not AMD). */
VMM_API enum cpum_vendor cpum_host_vendor(void);

#endif /* VMM_CPUM_PROFILE_H */
