/*
 * hwaccm_kvm.h - the KVM backend's state, shared by its files
 * (hwaccm_kvm.c: VM, vCPUs, runs, exits; hwaccm_kvm_regs.c: register sync).
 */
#ifndef VMM_HWACCM_KVM_H
#define VMM_HWACCM_KVM_H

#include "hd_kvm.h"
#include "hwaccm_internal.h"

#define HWACCM_KVM_MAX_SLOTS PGM_MAX_RANGES

struct hwaccm {
    struct hd_kvm *kvm;
    struct pgm *pgm;                      /* not owned */
    const struct cpum_policy *policy;     /* not owned */
    struct kvm_cpuid2 *supported;         /* host's supported CPUID */
    struct pgm_listener listener;
    uint64_t slot_gpa[HWACCM_KVM_MAX_SLOTS]; /* gpa of each used slot */
    cap_bool slot_used[HWACCM_KVM_MAX_SLOTS];
};

struct hwaccm_vcpu {
    struct hwaccm *hm;
    struct cpum_cpu *cpu;      /* not owned */
    struct hd_kvm_vcpu *kv;
    struct kvm_sregs sregs;    /* staging for loads (every field comes from the context) */
    cap_bool irq_window;
    cap_bool udtrap_on; /* set at create: the host emulates guest kernel code */
    uint64_t udtrap_la; /* where the #UD breakpoint is armed (0: nowhere) */
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
/* Build the vCPU's kvm_cpuid2 from the policy (malloc'ed). */
cap_result hwaccm_kvm_cpuid(const struct cpum_policy *policy, unsigned id,
                            struct kvm_cpuid2 **out);

#endif /* VMM_HWACCM_KVM_H */
