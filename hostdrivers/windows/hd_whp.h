/*
 * hostdrivers/windows/hd_whp.h - the thin Windows Hypervisor Platform layer:
 * the "ring-0 piece" of Capsule on Windows, the counterpart of
 * hostdrivers/linux/hd_kvm.h.
 *
 * One struct hd_whp per VM (its WHP partition), one struct hd_whp_vcpu per
 * vCPU (a virtual processor index of that partition). Each function is one
 * or two WHv* calls with the HRESULT turned into a cap_result and a message;
 * policy (what goes into which register, how an exit is read) lives in
 * vmm/hwaccm/hwaccm_whp*.c. Uses WHP's own types (winhvplatform.h): this
 * header is only included by *_whp*.c files.
 *
 * The partition gets no local APIC emulation (WHvX64LocalApicEmulationModeNone,
 * the default): devices stay in user space so one device model serves every
 * engine, as with KVM. CPUID always exits (the policy answers, per vCPU), and
 * so do MSRs the hypervisor does not implement (CPUM answers).
 *
 * Status: compile-only. Built with mingw-w64 and never run (see README.md).
 *
 * Threads: partition-level calls from the EMT during setup; vCPU calls from
 * the vCPU's own thread, except hd_whp_cancel (any thread).
 */
#ifndef HOSTDRIVERS_WINDOWS_HD_WHP_H
#define HOSTDRIVERS_WINDOWS_HD_WHP_H

#include <stddef.h>
#include <stdint.h>

#include <windows.h>
#include <winhvplatform.h>

#include <capsule/result.h>

#include "hd_result.h"

struct hd_whp {
    WHV_PARTITION_HANDLE part; /* NULL until created */
    unsigned ncpus;            /* set at open, the partition's processor count */
    cap_bool setup;            /* WHvSetupPartition done: vCPUs and memory allowed */
    WHV_CAPABILITY_FEATURES features;
    WHV_EXTENDED_VM_EXITS exits; /* the extended exits enabled on the partition */
};

struct hd_whp_vcpu {
    struct hd_whp *vm;
    unsigned id; /* VpIndex */
};

/*
 * Whether WHP is usable on this host: WinHvPlatform.dll present and
 * WHvCapabilityCodeHypervisorPresent TRUE. `why` (may be NULL) gets one line
 * saying what was found. Any thread.
 */
cap_bool hd_whp_present(char *why, size_t len);

/*
 * Creates and sets up a partition for `ncpus` processors, with CPUID exits
 * for every leaf and MSR exits for what the hypervisor does not implement.
 * HD_E_NO_HYPERVISOR (no usable hypervisor: the feature is off or the CPU lacks
 * VT-x/AMD-V), HD_E_API (a needed extended exit is missing: Windows too
 * old), HD_E_CALL otherwise - always with a message.
 */
cap_result hd_whp_open(unsigned ncpus, struct hd_whp **out);
/* Deletes the partition (delete the vCPUs first). NULL is fine. */
void hd_whp_close(struct hd_whp *whp);

/* Maps `size` bytes at `hva` (page-aligned, outliving the mapping) at guest
 * physical `gpa`: read/write/execute, or read/execute when readonly (ROM:
 * guest writes come back as memory-access exits). */
cap_result hd_whp_map(struct hd_whp *whp, uint64_t gpa, uint64_t size, void *hva,
                      cap_bool readonly);
cap_result hd_whp_unmap(struct hd_whp *whp, uint64_t gpa, uint64_t size);

cap_result hd_whp_vcpu_create(struct hd_whp *whp, unsigned id, struct hd_whp_vcpu **out);
void hd_whp_vcpu_destroy(struct hd_whp_vcpu *vcpu);

/* WHvGet/SetVirtualProcessorRegisters for n names. */
cap_result hd_whp_get_regs(struct hd_whp_vcpu *v, const WHV_REGISTER_NAME *names, unsigned n,
                           WHV_REGISTER_VALUE *values);
cap_result hd_whp_set_regs(struct hd_whp_vcpu *v, const WHV_REGISTER_NAME *names, unsigned n,
                           const WHV_REGISTER_VALUE *values);

/*
 * Event injection through WHvRegisterPendingInterruption: an external
 * interrupt (`vector`), or an exception with an optional error code. The
 * caller makes sure the guest can take it (hwaccm_vcpu_irq_ready).
 */
cap_result hd_whp_inject_interrupt(struct hd_whp_vcpu *v, uint8_t vector);
cap_result hd_whp_inject_exception(struct hd_whp_vcpu *v, uint8_t vector, cap_bool has_error,
                                   uint32_t error_code);
/* An NMI through the same register; only when the guest can take one
 * (an NMI window, below). */
cap_result hd_whp_inject_nmi(struct hd_whp_vcpu *v);
/* WHvX64RegisterDeliverabilityNotifications: with `on`, the next run stops
 * with WHvRunVpExitReasonX64InterruptWindow once the guest can take an
 * external interrupt (the hypervisor then clears the request); with `nmi`,
 * likewise once it can take an NMI (DeliverableType WHvX64PendingNmi). */
cap_result hd_whp_interrupt_notification(struct hd_whp_vcpu *v, cap_bool on, cap_bool nmi);

/* WHvRunVirtualProcessor until the next exit, described in *exit. */
cap_result hd_whp_run(struct hd_whp_vcpu *v, WHV_RUN_VP_EXIT_CONTEXT *exit);

/* WHvCancelRunVirtualProcessor: the current run ends with
 * WHvRunVpExitReasonCanceled. Any thread. */
void hd_whp_cancel(struct hd_whp_vcpu *v);

#endif /* HOSTDRIVERS_WINDOWS_HD_WHP_H */
