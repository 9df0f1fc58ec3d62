/*
 * vmm/hwaccm/hwaccm.h - HWACCM, the hm engine: guest code run by the CPU
 * through the host's hypervisor interface.
 *
 * This header is the engine's contract with EM. Backends implement all of
 * it, chosen by file name in the SConscript: hwaccm_kvm*.c over /dev/kvm
 * (hostdrivers/linux), hwaccm_whp*.c over the Windows Hypervisor Platform
 * (hostdrivers/windows; cross-compiled by `scons windows`, never run yet:
 * hostdrivers/windows/README.md). hwaccm.c holds what is common (names, the CPUID comparison, the
 * fetch of instruction bytes through PGM's walker, the policy hm runs),
 * hwaccm_probe.c the probe of what the guest's CPUID really returns.
 *
 * What the engine does and does not do:
 *   - creates the hypervisor VM and maps PGM's RAM and ROM into it (ROM
 *     read-only, so guest writes to ROM come back as MMIO write exits);
 *     ranges PGM gains later are mapped as they appear (PGM listener);
 *   - gives every vCPU the CPUID of the CPUM policy, refusing to start
 *     (VMM_E_CPUID_UNSUPPORTED) if the host cannot provide a bit of it;
 *   - runs a vCPU until the next exit and decodes the exit into the neutral
 *     struct vmm_exit; it never handles devices itself - no in-kernel
 *     irqchip or PIT - so port I/O, MMIO, HLT and interrupt windows all come
 *     back to EM, and the same device models serve every engine;
 *   - reports what the host cannot execute as VMM_EXIT_EMULATION_FAILURE
 *     for EM to step in rem - including, on a KVM that emulates guest
 *     kernel code, INT n from user mode, which that KVM turns into a #UD
 *     without an exit (hwaccm_kvm_udtrap.c catches it at the guest's #UD
 *     handler and undoes the delivery first);
 *   - leaves to CPUM's rules the guest's RDMSR/WRMSR of the MSRs where the
 *     host's hypervisor would answer unlike them (VMM_EXIT_MSR; KVM:
 *     hwaccm_kvm_msr.c), so the guest sees the policy's MSRs, not the
 *     host's, where the host can route them.
 *
 * State: the vCPU's struct cpum_cpu is the reference. Before each run the
 * engine loads the parts marked in cpu->dirty; after each exit GPRs, RIP,
 * RFLAGS, segments, control registers, EFER and CR8 are current in cpu->ctx,
 * while FPU, MSRs and debug registers stay in the engine (cpu->extrn) until
 * hwaccm_vcpu_import() fetches them. Import a part before changing it.
 *
 * Threads: hwaccm_create/destroy on the EMT; every hwaccm_vcpu_* call on the
 * vCPU's own thread.
 */
#ifndef VMM_HWACCM_H
#define VMM_HWACCM_H

#include <stdint.h>

#include "cpum/cpum.h"
#include "pgm/pgm.h"
#include "vmm_exit.h"
#include "vmm_result.h"

struct hwaccm;
struct hwaccm_vcpu;

/* Name of the host interface this build's backend drives ("kvm", "whp"). */
VMM_API const char *hwaccm_backend_name(void);

/*
 * Creates the engine's VM for `pgm`'s map and `policy` (both must outlive
 * it). VMM_E_NO_KVM (or the backend's equivalent) when the host has no
 * usable hypervisor, VMM_E_KVM_API, VMM_E_CPUID_UNSUPPORTED, VMM_E_HOSTDRV;
 * always with error info naming the cause.
 */
VMM_API cap_result hwaccm_create(struct pgm *pgm, const struct cpum_policy *policy,
                                 struct hwaccm **out);
/* Destroy the vCPUs first. NULL is fine. */
VMM_API void hwaccm_destroy(struct hwaccm *hm);

/* Creates the vCPU for `cpu` (id = cpu->id, which must be < policy->ncpus). */
VMM_API cap_result hwaccm_vcpu_create(struct hwaccm *hm, struct cpum_cpu *cpu,
                                      struct hwaccm_vcpu **out);
VMM_API void hwaccm_vcpu_destroy(struct hwaccm_vcpu *vcpu);

/*
 * Loads dirty state, runs the vCPU until the next exit and decodes it into
 * *exit. Data pointers in *exit stay valid until the next run. Returns
 * CAP_OK for any exit (a guest triple fault is an exit, not a failure);
 * failures are the host's (VMM_E_HOSTDRV).
 *
 * VMM_EXIT_MSR: the caller answers with CPUM's rules on the vCPU's context
 * (import CPUM_STATE_MSRS first): cpum_msr_read into *msr.data, or
 * cpum_msr_write of *msr.data (which marks what it changed dirty, so the
 * next run loads it into the host); VMM_XCPT_GP sets *msr.gp to 1. The
 * next run then completes the instruction or raises #GP(0).
 */
VMM_API cap_result hwaccm_vcpu_run(struct hwaccm_vcpu *vcpu, struct vmm_exit *exit);

/* NULL when the guest's MSR accesses follow the CPU policy, else one line
 * for the log naming what the host answers itself instead. Any thread. */
VMM_API const char *hwaccm_msr_note(const struct hwaccm *hm);

/* Fetches CPUM_STATE_* parts held by the engine into cpu->ctx. */
VMM_API cap_result hwaccm_vcpu_import(struct hwaccm_vcpu *vcpu, uint32_t what);

/*
 * External interrupts (no in-kernel irqchip). irq_ready says whether an
 * interrupt can be injected now (interrupts enabled, no interrupt shadow,
 * nothing else being injected). inject_irq queues `vector` for delivery at
 * the next run (VMM_E_BAD_STATE if not ready). When EM has an interrupt
 * pending but the guest is not ready, it asks for an interrupt window: the
 * next run then stops with VMM_EXIT_IRQ_WINDOW as soon as the guest can
 * take it. The request stays on until cleared.
 */
VMM_API cap_bool hwaccm_vcpu_irq_ready(const struct hwaccm_vcpu *vcpu);
VMM_API cap_result hwaccm_vcpu_inject_irq(struct hwaccm_vcpu *vcpu, uint8_t vector);
VMM_API void hwaccm_vcpu_request_irq_window(struct hwaccm_vcpu *vcpu, cap_bool on);

/*
 * An NMI for the vCPU (vector 2, not masked by IF), delivered at the next
 * run. The host keeps the NMI blocking rules: an NMI that arrives while the
 * guest's NMI handler runs is held until its IRET (KVM: KVM_NMI; WHP: the
 * pending-interruption register, after an NMI window if NMIs are masked).
 * Any time on the vCPU's thread; failures are the host's.
 */
VMM_API cap_result hwaccm_vcpu_inject_nmi(struct hwaccm_vcpu *vcpu);

/*
 * Kicking a vCPU out of the engine from another thread (EM's pause,
 * power-off, reset and interrupt requests). hwaccm_vcpu_kick may be called
 * from any thread: the vCPU's next (or current, together with a signal to
 * its thread, which EM sends) run returns VMM_EXIT_INTERRUPTED at once.
 * hwaccm_vcpu_clear_kick, on the vCPU's thread, re-arms normal runs; EM
 * calls it before it looks at its request flags, so no request is lost.
 */
VMM_API void hwaccm_vcpu_kick(struct hwaccm_vcpu *vcpu);
VMM_API void hwaccm_vcpu_clear_kick(struct hwaccm_vcpu *vcpu);

/*
 * Whether this host's hypervisor runs guest CPL0 (and real-mode) code
 * natively - VT-x or AMD-V under KVM - rather than emulating it one
 * instruction at a time (KVM's PVM backend, ~1000x slower). `why` (may be
 * NULL) gets one line saying what was found. Any thread.
 */
VMM_API cap_bool hwaccm_host_runs_cpl0_natively(char *why, size_t len);

/*
 * The optional CPU features (CPUM_OPT_*, cpum_profile.h) this host's
 * hypervisor can show a guest - what the "host" profile may advertise under
 * hm. CPUM_OPT_ALL when the hypervisor cannot be asked (hwaccm_create then
 * says why). Any thread; opens and closes the device.
 */
VMM_API uint32_t hwaccm_host_optional(void);

/*
 * The CPU policy of a VM that hm runs (cpum_policy_init_opt): the "host"
 * profile (`profile` NULL, "" or "host") advertises only the optional
 * features this host's hypervisor can show (hwaccm_host_optional); a named
 * profile keeps all of its own, and hwaccm_create refuses it where the
 * host lacks one. Every policy meant for hwaccm_create is built here (EM's
 * VM and its auto probe, the hm tests), so they all agree. Errors as
 * cpum_policy_init. Any thread.
 */
VMM_API cap_result hwaccm_policy_init(struct cpum_policy *policy, unsigned ncpus,
                                      const char *profile);

/*
 * Whether the guest's CPUID instruction returns the policy's CPUID - the
 * table hwaccm_create hands the hypervisor - on this host. Some do not:
 * KVM's PVM backend (measured nested on an AMD EPYC family 26 host)
 * accepts the table but lets the guest's CPUID return a host-derived one,
 * at CPL0 and CPL3 alike, so the guest sees features the policy lacks
 * (XSAVE, AVX, SMEP, SMAP, ...) and the host's emulator may not even run
 * them (CLAC: #UD). Found out once per process by a probe VM
 * (hwaccm_probe.c): CPUID leaves 1, 7.0 and 0x80000001 at 64-bit CPL3
 * and CPL0 under the "host" policy (hwaccm_policy_init), compared
 * register by register but for the bits the hypervisor keeps in step with
 * the guest's state (OSXSAVE, APIC, MONITOR, OSPKE).
 *
 * CAP_FALSE only when the probe saw the guest get other values; CAP_TRUE
 * when it got the policy's, or when the probe could not run (no
 * hypervisor: hwaccm_create then says why). `why` (may be NULL) gets one
 * line: the registers that differed (without those bits), each as
 * "leaf 7 ebx 0xf1bf03ab (policy: 0x00000002)", with the CPLs they
 * differed at; or what was found. tests/guests/run.sh reads that form.
 * Any thread; the first call takes a few milliseconds (a VM created and
 * run), later ones return the same answer and line.
 */
VMM_API cap_bool hwaccm_cpuid_faithful(char *why, size_t len);

#endif /* VMM_HWACCM_H */
