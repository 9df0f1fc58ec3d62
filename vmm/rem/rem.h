/*
 * vmm/rem/rem.h - REM, the recompiled-execution manager: the software x86
 * CPU. Instructions are decoded by vmm/dis into blocks kept in a cache
 * (rem_block.c) and executed from the structured instruction, memory going
 * through a software TLB; on x86-64 Linux hosts a block of 64-bit code that
 * has run often is translated to host code (rem_jit.c, rem_vcpu_set_jit
 * below), with the same guest-visible behaviour.
 *
 * What the engine does:
 *   - runs a vCPU directly on its CPUM context (struct cpum_cpu): GPRs,
 *     segments with their hidden parts, control registers, MSRs and the
 *     FXSAVE image are read and written in place; only the arithmetic flags
 *     are kept lazily while running and are folded back into ctx.rflags
 *     before rem_vcpu_run/rem_vcpu_step_one return;
 *   - decodes every instruction with vmm/dis (the project's one decoder)
 *     and executes the structured result; rem_vcpu_run keeps the decoded
 *     instructions as blocks (rem_block.c: keyed by guest-physical address,
 *     handlers resolved at decode time, checked against writes to code
 *     pages), single steps decode afresh;
 *   - translates linear addresses through a software TLB filled by PGM's
 *     walker (pgm_walk, the one page-table walker): RAM is read and written
 *     through host pointers, ROM and MMIO through pgm_phys_read/write;
 *   - MMIO is handled INLINE: PGM's MMIO ranges dispatch into IOM on the
 *     calling thread, exactly what EM does for hm's MMIO exits, so rem never
 *     returns VMM_EXIT_MMIO;
 *   - port I/O, HLT, triple fault, interrupt windows and an exhausted budget
 *     come back to EM as the same neutral struct vmm_exit hm uses, so EM
 *     handles both engines with one switch. Port IN: the exit is taken
 *     before the instruction completes; EM fills exit.io.data and the next
 *     run completes the instruction (as with KVM). OUT/OUTS: the instruction
 *     has completed, exit.io.data holds the bytes. String I/O is batched up
 *     to the end of the guest page (exit.io.count > 1).
 *
 * Threads: rem_create/destroy on the EMT; every rem_vcpu_* call on the
 * vCPU's own thread, except rem_vcpu_kick (any thread).
 */
#ifndef VMM_REM_H
#define VMM_REM_H

#include <stdint.h>

#include "cpum/cpum.h"
#include "pgm/pgm.h"
#include "vmm_exit.h"
#include "vmm_result.h"

struct rem;
struct rem_vcpu;
struct stam;

/* Services of the VM the CPU needs; any member may be NULL. */
struct rem_callbacks {
    /* Guest TSC now (RDTSC, RDTSCP, RDMSR IA32_TSC): EM passes tm_tsc. NULL: 0. */
    uint64_t (*rdtsc)(void *opaque);
    /* Guest WRMSR IA32_TSC: EM passes tm_set_tsc. */
    void (*wrtsc)(void *opaque, uint64_t value);
    void *opaque;
};

/*
 * Creates the engine for `pgm`'s map and `policy` (both must outlive it).
 * `cb` is copied (NULL: no services). CAP_E_OUTOFMEMORY.
 */
VMM_API cap_result rem_create(struct pgm *pgm, const struct cpum_policy *policy,
                              const struct rem_callbacks *cb, struct rem **out);
/* Destroy the vCPUs first. NULL is fine. */
VMM_API void rem_destroy(struct rem *rem);

/* Creates the engine's vCPU for `cpu` (which must outlive it). */
VMM_API cap_result rem_vcpu_create(struct rem *rem, struct cpum_cpu *cpu,
                                   struct rem_vcpu **out);
VMM_API void rem_vcpu_destroy(struct rem_vcpu *v);

/*
 * Runs until an exit or until `max_insns` instructions have retired
 * (0 = no limit), and fills *exit:
 *   VMM_EXIT_IO          port I/O (see above)
 *   VMM_EXIT_HLT         HLT executed (RIP after it); EM waits for an interrupt
 *   VMM_EXIT_SHUTDOWN    triple fault (ctx as at the fault that could not be delivered)
 *   VMM_EXIT_IRQ_WINDOW  a window was requested and the guest can take an interrupt
 *   VMM_EXIT_INTERRUPTED the budget ran out or rem_vcpu_kick was called
 *   VMM_EXIT_EMULATION_FAILURE something rem does not implement (emul.*: the
 *                           instruction; today only a task switch to a 16-bit
 *                           TSS); EM should stop the VM. An instruction rem
 *                           does not execute is outside the CPUID policy and
 *                           raises #UD in the guest instead (rem_exec_feat.c)
 * Returns CAP_OK for every exit; failures are the VMM's (an MMIO callback's
 * failure, VMM_E_BAD_STATE for a context marked external). If cpu->dirty is
 * set on entry, the TLB is flushed and the cached mode recomputed (dirty is
 * then cleared: rem has loaded the state).
 */
VMM_API cap_result rem_vcpu_run(struct rem_vcpu *v, uint64_t max_insns, struct vmm_exit *exit);

/*
 * Executes exactly one instruction (or delivers the exception it raises),
 * for an engine that could not (hm after an emulation failure). The TLB is
 * flushed first (another engine may have changed anything), cpu->dirty is
 * left alone on entry and gets CPUM_STATE_ALL afterwards. A kick does not
 * cut the step short (it stays set for the next rem_vcpu_run). Exits as
 * above; VMM_EXIT_NONE when the instruction simply completed; after
 * VMM_EXIT_IO for an IN, rem_vcpu_complete_io finishes it.
 */
VMM_API cap_result rem_vcpu_step_one(struct rem_vcpu *v, struct vmm_exit *exit);

/*
 * After an IN exit from rem_vcpu_step_one (the instruction is waiting for
 * its data) and once EM filled exit.io.data: completes that instruction and
 * runs nothing else, for an engine that goes on in another engine. A no-op
 * when nothing is pending. cpu->dirty gets CPUM_STATE_ALL.
 */
VMM_API cap_result rem_vcpu_complete_io(struct rem_vcpu *v);

/*
 * Forgets what the vCPU had in flight (a pending IN, an injected interrupt
 * or NMI not yet delivered, NMI blocking, an interrupt shadow, the window
 * request) and reloads the context: EM after a reset put the CPU in its
 * power-on state.
 */
VMM_API void rem_vcpu_reset(struct rem_vcpu *v);

/*
 * External interrupts, as hwaccm: irq_ready says whether the guest can take
 * one now (IF set, no interrupt shadow, no IN completion pending); inject
 * delivers `vector` through the IVT/IDT at once (VMM_E_BAD_STATE if not
 * ready; a fault during delivery is handled as the CPU would); the window
 * request makes rem_vcpu_run stop with VMM_EXIT_IRQ_WINDOW as soon as
 * the guest is ready.
 */
VMM_API cap_bool rem_vcpu_irq_ready(const struct rem_vcpu *v);
VMM_API cap_result rem_vcpu_inject_irq(struct rem_vcpu *v, uint8_t vector);
VMM_API void rem_vcpu_request_irq_window(struct rem_vcpu *v, cap_bool on);
/*
 * An NMI (vector 2, whatever IF says): delivered at the start of the next
 * rem_vcpu_run, or, while the guest is in its NMI handler (NMI blocking,
 * until IRET), held - one, as the CPU latches one - and delivered right
 * after that IRET (the run ends there with VMM_EXIT_INTERRUPTED and the
 * next one delivers it). Always CAP_OK.
 */
VMM_API cap_result rem_vcpu_inject_nmi(struct rem_vcpu *v);

/* From any thread: the current or next run returns VMM_EXIT_INTERRUPTED. */
VMM_API void rem_vcpu_kick(struct rem_vcpu *v);
VMM_API void rem_vcpu_clear_kick(struct rem_vcpu *v);

/* Drops every TLB entry (EM after changing paging state behind rem's back). */
VMM_API void rem_vcpu_flush_tlb(struct rem_vcpu *v);

/* Instructions retired since the vCPU was created. */
VMM_API uint64_t rem_vcpu_insns(const struct rem_vcpu *v);

/* The block translator (rem_jit.c, x86-64 Linux hosts): a block of 64-bit
 * code is translated to host code once it has run `hot` times (0: at its
 * first run); hot < 0 turns translation off for this vCPU. The default comes
 * from the environment: CAPSULE_REM_JIT=0 turns it off, CAPSULE_REM_JIT_HOT=N
 * sets the threshold (REM_JIT_HOT_DEFAULT otherwise). Guest-visible
 * behaviour is the same either way. Drops the block cache; call between runs. */
#define REM_JIT_HOT_DEFAULT 16
VMM_API void rem_vcpu_set_jit(struct rem_vcpu *v, int hot);
/* Blocks translated since the vCPU was created (for tests). */
VMM_API uint64_t rem_vcpu_jit_translations(const struct rem_vcpu *v);
/* Exits of translations linked straight to the next translation (for tests). */
VMM_API uint64_t rem_vcpu_jit_links(const struct rem_vcpu *v);

/*
 * For an engine that runs 64-bit user code itself (raw, vmm/raw): with `on`,
 * rem_vcpu_run ends with VMM_EXIT_INTERRUPTED as soon as, after at least one
 * instruction retired in that run, the vCPU is about to execute 64-bit code at
 * CPL 3 with IF = 1, TF = 0 and IOPL = 0 (so an instruction that faulted in
 * the other engine is executed, or its exception delivered, first). Checked
 * between blocks: a chain of translations may run a few more instructions.
 * vCPU thread.
 */
VMM_API void rem_vcpu_set_user_stop(struct rem_vcpu *v, cap_bool on);
/* Guest instructions that invalidated translations since create: MOV CR3,
 * INVLPG, a paging bit of CR0/CR4/EFER changed, a task switch loading CR3
 * (x86 requires one of these after an entry lost rights or changed frame).
 * An engine that caches translations itself compares it across a run. */
VMM_API uint64_t rem_vcpu_guest_invalidations(const struct rem_vcpu *v);

/*
 * Registers the vCPU's statistics in `st` (stam.h) under /REM/: the
 * instructions it retired, the decoded-block cache (lookups, misses that
 * built a block, rechecks, flushes) and the translator (blocks translated,
 * refused, exits chained, code buffer flushes, its use and size), all since
 * the vCPU was created. rem_vcpu_destroy deregisters them (so `st` must
 * outlive the vCPU). One vCPU per registry until SMP. Errors as
 * stam_register_table; nothing is registered then.
 */
VMM_API cap_result rem_vcpu_register_stats(struct rem_vcpu *v, struct stam *st);

#endif /* VMM_REM_H */
