/*
 * hwaccm_kvm_msr.c - the guest's MSR accesses that KVM must not answer
 * itself. The guest sees one CPU under every engine, and CPUM's rules
 * (cpum_msr.c, what rem applies) are that CPU's; where KVM answers a
 * guest RDMSR/WRMSR differently, its MSR filter (KVM_X86_SET_MSR_FILTER)
 * sends the access to user space, hwaccm reports it as VMM_EXIT_MSR and EM
 * answers it with CPUM's rules (em_engine.c). An accepted write changes the
 * context and marks it dirty; hwaccm_kvm_push loads it into KVM with
 * host-initiated KVM_SET_MSRS, which the filter never stops. Reads stay
 * with KVM wherever its copy is CPUM's (kept in sync by
 * hwaccm_kvm_regs.c).
 *
 * routed[] lists what differs, measured with tests/unit/hwaccm/test_msr.c
 * (Linux 6.18, PVM backend; the same code paths are x86-common in KVM).
 * Everything else - TSC, TSC_ADJUST (KVM moves the TSC with it, as the
 * SDM says), PAT, EFER, STAR, LSTAR, CSTAR, KERNEL_GS_BASE - KVM checks as
 * CPUM does. One difference stays: IA32_TSC_AUX bits 63:32 under an AMD profile
 * are cleared by KVM where CPUM raises #GP, when the policy has RDTSCP or
 * RDPID (the host here offers neither, so it cannot be measured yet).
 *
 * A KVM without the filter (before Linux 5.10) answers everything itself:
 * hwaccm_msr_note says so for EM's log.
 */
#include <string.h>

#include <capsule/errorinfo.h>

#include "hwaccm_kvm.h"

#define R KVM_MSR_FILTER_READ
#define W KVM_MSR_FILTER_WRITE

/* KVM's machine-check bank MSRs: KVM_MAX_MCE_BANKS (32) banks of CTL,
 * STATUS, ADDR and MISC from IA32_MC0_CTL on. */
#define KVM_MC_BANK_MSRS (32 * 4)

static const struct routed_msr {
    uint32_t first, count;
    uint32_t access; /* KVM_MSR_FILTER_READ | _WRITE: what leaves KVM */
} routed[] = {
    /* KVM lets the guest clear the BSP flag; it is read-only (CPUM). */
    {MSR_IA32_APIC_BASE, 1, W},
    /* KVM takes any value, CPUM only the knobs it keeps (#GP for reserved
     * bits and the ones the policy fixes, such as limit CPUID maxval). */
    {MSR_IA32_MISC_ENABLE, 1, W},
    /* KVM makes a non-canonical SYSENTER_ESP/EIP canonical; the policy's
     * 64-bit CPU raises #GP (CS rides along: one range). */
    {MSR_IA32_SYSENTER_CS, 3, W},
    /* KVM shows 32 machine-check banks of its own (MCG_CAP 0x20) and takes
     * any MCG_STATUS; the policy has none (CPUM_MCG_CAP) and takes 0. */
    {MSR_IA32_MCG_CAP, 3, R | W},
    {MSR_IA32_MC0_CTL, KVM_MC_BANK_MSRS, R | W},
    /* KVM keeps SFMASK's bits 63:32; CPUM drops them (a 32-bit mask). */
    {MSR_SFMASK, 1, W},
    /* AMD's: KVM has its own HWCR (TscFreqSel clear, most bits #GP) and no
     * DE_CFG; CPUM keeps them under AMD profiles and raises #GP under
     * Intel's. ctx.amd is the only copy under every engine. */
    {MSR_AMD_SYSCFG, 1, R | W},
    {MSR_AMD_HWCR, 1, R | W},
    {MSR_AMD_NB_CFG, 1, R | W},
    {MSR_AMD_DE_CFG, 1, R | W},
};

#define N_ROUTED (sizeof(routed) / sizeof(routed[0]))
_Static_assert(N_ROUTED <= KVM_MSR_FILTER_MAX_RANGES, "one filter range per routed_msr");

/* The widest range (the banks): its denying bitmap, all zeros, serves all. */
#define MAX_ROUTED_COUNT KVM_MC_BANK_MSRS

cap_result hwaccm_kvm_msr_filter(struct hwaccm *hm)
{
    static const uint8_t deny[MAX_ROUTED_COUNT / 8];
    if (!hm->kvm->msr_filter) {
        hm->msr_note = "the host's KVM has no MSR filter (KVM_CAP_X86_MSR_FILTER): it answers "
                       "every guest RDMSR/WRMSR itself, including those where it is laxer than "
                       "the CPU policy (IA32_MISC_ENABLE reserved bits, non-canonical "
                       "SYSENTER_ESP/EIP, machine-check banks, AMD's HWCR/DE_CFG); use --engine "
                       "rem for the policy's MSRs";
        return CAP_OK;
    }
    struct kvm_msr_filter f;
    memset(&f, 0, sizeof(f));
    f.flags = KVM_MSR_FILTER_DEFAULT_ALLOW;
    for (unsigned i = 0; i < N_ROUTED; i++) {
        if (routed[i].count > MAX_ROUTED_COUNT)
            return cap_error_set(VMM_E_HOSTDRV, VMM_COMPONENT, NULL,
                                 "hwaccm: MSR filter range at 0x%x too wide", routed[i].first);
        f.ranges[i] = (struct kvm_msr_filter_range){
            .flags = routed[i].access,
            .nmsrs = routed[i].count,
            .base = routed[i].first,
            .bitmap = (uint8_t *)deny, /* KVM copies it; a clear bit denies */
        };
    }
    return vmm_result_from_hd(hd_kvm_set_msr_filter(hm->kvm, &f));
}

const char *hwaccm_msr_note(const struct hwaccm *hm)
{
    return hm->msr_note;
}

void hwaccm_kvm_decode_msr(struct hwaccm_vcpu *v, struct vmm_exit *x)
{
    struct kvm_run *run = v->kv->run;
    x->reason = VMM_EXIT_MSR;
    x->msr.index = run->msr.index;
    x->msr.write = run->exit_reason == KVM_EXIT_X86_WRMSR;
    x->msr.data = (uint64_t *)&run->msr.data;
    x->msr.gp = &run->msr.error;
    run->msr.error = 0;
}
