/*
 * hwaccm_kvm.h - the KVM backend's state, shared by its files
 * (hwaccm_kvm.c: VM, vCPUs, runs, exits; hwaccm_kvm_regs.c: register sync).
 */
#ifndef VMM_HWACCM_KVM_H
#define VMM_HWACCM_KVM_H

#include "hd_kvm.h"
#include "hwaccm_internal.h"

#define HWACCM_KVM_MAX_SLOTS PGM_MAX_RANGES
#define HWACCM_KVM_NMSRS     16 /* room for the context MSRs synced through KVM_{GET,SET}_MSRS */

struct hwaccm {
    struct hd_kvm *kvm;
    struct pgm *pgm;                      /* not owned */
    const struct cpum_policy *policy;     /* not owned */
    struct kvm_cpuid2 *supported;         /* host's supported CPUID */
    struct pgm_listener listener;
    uint64_t slot_gpa[HWACCM_KVM_MAX_SLOTS]; /* gpa of each used slot */
    cap_bool slot_used[HWACCM_KVM_MAX_SLOTS];
    const char *msr_note; /* hwaccm_msr_note (create) */
};

struct hwaccm_vcpu {
    struct hwaccm *hm;
    struct cpum_cpu *cpu;      /* not owned */
    struct hd_kvm_vcpu *kv;
    struct kvm_sregs sregs;    /* staging for loads (every field comes from the context) */
    cap_bool irq_window;
    cap_bool udtrap_on; /* set at create: the host emulates guest kernel code */
    uint64_t udtrap_la; /* where the #UD breakpoint is armed (0: nowhere) */
    /* KVM's values of the MSRs hwaccm_kvm_regs.c syncs, as last read or
     * written; valid until the guest runs again (hwaccm_vcpu_run). */
    uint64_t msr_known[HWACCM_KVM_NMSRS];
    cap_bool msr_known_valid;
};

/* Load the dirty parts of vcpu->cpu into KVM (sync regs when available). */
cap_result hwaccm_kvm_push(struct hwaccm_vcpu *vcpu);
/* After an exit: GPRs and sregs from KVM into the context. */
cap_result hwaccm_kvm_pull(struct hwaccm_vcpu *vcpu);
/* hwaccm_kvm_udtrap.c: before each run, (re)arms the breakpoint at the
 * guest's #UD handler (no-op unless udtrap_on); for a KVM_EXIT_DEBUG,
 * whether it was that breakpoint - then *x is the emulation failure for
 * rem to step (the INT the host refused, or the handler's first
 * instruction). */
void hwaccm_kvm_udtrap_arm(struct hwaccm_vcpu *vcpu);
cap_bool hwaccm_kvm_udtrap_exit(struct hwaccm_vcpu *vcpu, struct vmm_exit *x);
/* At create: the MSR filter that sends the guest's accesses KVM would
 * answer unlike CPUM to user space (hwaccm_kvm_msr.c); without the
 * host's support, sets hm->msr_note instead. */
cap_result hwaccm_kvm_msr_filter(struct hwaccm *hm);
/* KVM_EXIT_X86_RDMSR/WRMSR into VMM_EXIT_MSR. */
void hwaccm_kvm_decode_msr(struct hwaccm_vcpu *v, struct vmm_exit *x);
/* Build the vCPU's kvm_cpuid2 from the policy (malloc'ed). */
cap_result hwaccm_kvm_cpuid(const struct cpum_policy *policy, unsigned id,
                            struct kvm_cpuid2 **out);

#endif /* VMM_HWACCM_KVM_H */
