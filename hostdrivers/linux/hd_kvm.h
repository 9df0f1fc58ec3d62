/*
 * hostdrivers/linux/hd_kvm.h - the thin /dev/kvm layer: the "ring-0 piece"
 * of Capsule on Linux.
 *
 * One struct hd_kvm per VM (its /dev/kvm and VM file descriptors), one
 * struct hd_kvm_vcpu per vCPU (its fd and the mmapped kvm_run). Each
 * function is one or two ioctls with errno turned into a cap_result and a
 * message; policy (what to put in the registers, how to read an exit) lives
 * in vmm/hwaccm/hwaccm_kvm.c. Uses KVM's own structs (linux/kvm.h): this
 * header is only included by *_kvm.c files.
 *
 * No in-kernel irqchip or PIT is ever created: devices stay in user space
 * so one device model serves every engine.
 *
 * Threads: VM-level calls from the EMT during setup; vCPU calls from the
 * vCPU's own thread only (KVM requires it for KVM_RUN).
 */
#ifndef HOSTDRIVERS_LINUX_HD_KVM_H
#define HOSTDRIVERS_LINUX_HD_KVM_H

#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>

#include <capsule/result.h>

#include "hd_result.h"

/* Guest-physical places KVM needs for its own use on Intel without
 * unrestricted guest (3 pages of TSS, 1 page identity map): just below the
 * BIOS ROM alias at 4 GiB - 256 KiB, where PCs have no RAM. */
#define HD_KVM_TSS_ADDR      0xfffbd000ull
#define HD_KVM_IDENTITY_ADDR 0xfffbc000ull

struct hd_kvm {
    int kvm_fd;          /* /dev/kvm */
    int vm_fd;
    int run_size;        /* KVM_GET_VCPU_MMAP_SIZE */
    cap_bool sync_regs;  /* KVM_CAP_SYNC_REGS offers regs+sregs */
    cap_bool emul_bytes; /* KVM_CAP_EXIT_ON_EMULATION_FAILURE enabled */
    cap_bool immediate_exit;
    cap_bool xsave;      /* KVM_CAP_XSAVE: FPU state through KVM_{GET,SET}_XSAVE */
    cap_bool msr_filter; /* KVM_CAP_X86_MSR_FILTER, and USER_SPACE_MSR for filtered MSRs */
    unsigned max_slots;
};

struct hd_kvm_vcpu {
    struct hd_kvm *vm;
    int fd;
    unsigned id;
    struct kvm_run *run; /* mmapped, run_size bytes */
};

/*
 * Opens /dev/kvm (path overridable with CAPSULE_KVM_DEVICE for tests),
 * checks API version 12 and the capabilities Capsule needs (user memory,
 * TSS address, extended CPUID, immediate exit), creates the VM and sets the
 * TSS and identity-map addresses. HD_E_NO_HYPERVISOR if the device is missing or
 * not accessible, HD_E_API for a wrong version or missing capability,
 * HD_E_CALL otherwise - always with a message.
 */
cap_result hd_kvm_open(struct hd_kvm **out);
void hd_kvm_close(struct hd_kvm *kvm);

/* Sets (size > 0) or deletes (size == 0) memory slot `slot`. flags:
 * HD_KVM_SLOT_READONLY (guest writes exit as MMIO), HD_KVM_SLOT_LOG_DIRTY
 * (KVM_MEM_LOG_DIRTY_PAGES: KVM logs the pages the guest writes, read with
 * hd_kvm_dirty_log). */
#define HD_KVM_SLOT_READONLY  0x1u
#define HD_KVM_SLOT_LOG_DIRTY 0x2u
cap_result hd_kvm_set_slot(struct hd_kvm *kvm, unsigned slot, uint64_t gpa, uint64_t size,
                           void *hva, unsigned flags);

/* KVM_GET_DIRTY_LOG of a slot set with HD_KVM_SLOT_LOG_DIRTY: the pages
 * written since the last call, one bit per 4 KiB page (bit p % 64 of word
 * p / 64, the slot's npages rounded up to 64), which KVM then clears (and
 * write-protects again). Any thread. HD_E_CALL with a message. */
cap_result hd_kvm_dirty_log(struct hd_kvm *kvm, unsigned slot, uint64_t *bits);

/*
 * Hands the guest's RDMSR/WRMSR of the MSRs `filter` denies to user space
 * instead of KVM's own handling: enables KVM_CAP_X86_USER_SPACE_MSR for
 * filtered MSRs, then sets the filter (KVM_X86_SET_MSR_FILTER). Such an
 * access exits with KVM_EXIT_X86_RDMSR/WRMSR; kvm_run.msr carries the
 * answer into the next KVM_RUN (error = 1: KVM injects #GP(0)).
 * Host-initiated KVM_{GET,SET}_MSRS are never filtered. Needs
 * kvm->msr_filter; EMT, before the vCPUs first run. HD_E_CALL with a
 * message.
 */
cap_result hd_kvm_set_msr_filter(struct hd_kvm *kvm, const struct kvm_msr_filter *filter);

/* KVM_GET_SUPPORTED_CPUID; *out is malloc'ed, free() it. */
cap_result hd_kvm_supported_cpuid(struct hd_kvm *kvm, struct kvm_cpuid2 **out);

cap_result hd_kvm_vcpu_create(struct hd_kvm *kvm, unsigned id, struct hd_kvm_vcpu **out);
void hd_kvm_vcpu_destroy(struct hd_kvm_vcpu *vcpu);

cap_result hd_kvm_get_regs(struct hd_kvm_vcpu *v, struct kvm_regs *r);
cap_result hd_kvm_set_regs(struct hd_kvm_vcpu *v, const struct kvm_regs *r);
cap_result hd_kvm_get_sregs(struct hd_kvm_vcpu *v, struct kvm_sregs *s);
cap_result hd_kvm_set_sregs(struct hd_kvm_vcpu *v, const struct kvm_sregs *s);
cap_result hd_kvm_get_fpu(struct hd_kvm_vcpu *v, struct kvm_fpu *f);
cap_result hd_kvm_set_fpu(struct hd_kvm_vcpu *v, const struct kvm_fpu *f);
/* KVM_{GET,SET}_XSAVE: the first 512 bytes of region are the FXSAVE image. */
cap_result hd_kvm_get_xsave(struct hd_kvm_vcpu *v, struct kvm_xsave *x);
cap_result hd_kvm_set_xsave(struct hd_kvm_vcpu *v, const struct kvm_xsave *x);
cap_result hd_kvm_get_debugregs(struct hd_kvm_vcpu *v, struct kvm_debugregs *d);
cap_result hd_kvm_set_debugregs(struct hd_kvm_vcpu *v, const struct kvm_debugregs *d);
cap_result hd_kvm_set_guest_debug(struct hd_kvm_vcpu *v, const struct kvm_guest_debug *d);
/* n entries in/out; msrs->nmsrs is set by the call. Fails unless all n went through. */
cap_result hd_kvm_get_msrs(struct hd_kvm_vcpu *v, struct kvm_msrs *msrs, unsigned n);
cap_result hd_kvm_set_msrs(struct hd_kvm_vcpu *v, struct kvm_msrs *msrs, unsigned n);
cap_result hd_kvm_set_cpuid(struct hd_kvm_vcpu *v, const struct kvm_cpuid2 *cpuid);
/* The guest TSC rate of a vCPU in kHz (KVM_GET_TSC_KHZ); 0 if KVM won't say. */
uint32_t hd_kvm_get_tsc_khz(struct hd_kvm_vcpu *v);
/* Asks KVM to run the guest TSC at khz (needs TSC scaling on the host).
 * CAP_OK, or HD_E_CALL with error info when the host cannot. */
cap_result hd_kvm_set_tsc_khz(struct hd_kvm_vcpu *v, uint32_t khz);

/* KVM_INTERRUPT: queue external interrupt `vector` (only when kvm_run says
 * ready_for_interrupt_injection). */
cap_result hd_kvm_interrupt(struct hd_kvm_vcpu *v, uint8_t vector);
/* KVM_NMI: queue an NMI; KVM delivers it once the guest's NMI blocking
 * allows (one more is held while one waits). */
cap_result hd_kvm_nmi(struct hd_kvm_vcpu *v);

/*
 * KVM_RUN. Returns CAP_OK after an exit (v->run->exit_reason says which),
 * CAP_FALSE_RESULT if interrupted by a signal or immediate_exit (exit_reason
 * is then KVM_EXIT_INTR), HD_E_CALL on failure.
 */
cap_result hd_kvm_run(struct hd_kvm_vcpu *v);

#endif /* HOSTDRIVERS_LINUX_HD_KVM_H */
