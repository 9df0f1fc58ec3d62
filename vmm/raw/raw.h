/*
 * vmm/raw/raw.h - RAW, raw ring 3: guest 64-bit user code run natively in a
 * hardware context of the host driver (a KVM vCPU on Linux), everything
 * else left to rem. The first step of issue 14 (tools/probes/raw/README.md
 * has the facts and costs measured on this host this design rests on).
 *
 * What the engine does:
 *   - keeps its own KVM VM: PGM's RAM mapped as in hm (a PGM listener), plus
 *     the hypervisor area - memory of the VMM's own in a slot above the
 *     guest's physical map, never visible to devices - mapped at RAW_HYP_VA,
 *     one PML4 slot of the kernel half. The raw context's CR3 is the area's
 *     root page: the guest PML4's user half (entries 0-255, copied at every
 *     entry, ~25 ns) plus one entry for the area; the guest's lower-level
 *     tables are used as they are. The guest kernel's half is never copied,
 *     so the area cannot collide with a guest mapping;
 *   - the area holds a GDT (the guest's descriptors copied below the VMM's
 *     own at every entry), a TSS whose I/O bitmap allows CPL 3 one port, an
 *     IDT whose 256 gates lead to CPL0 stubs `out RAW_PORT_STUB` (the vector
 *     follows from the stub's address, the frame is on the area's stack), and
 *     LSTAR's stub `out RAW_PORT_SYSCALL` (a user page of the area);
 *   - every way user code leaves is turned into one CPUM state rem executes:
 *     faults (and INT n, seen as #UD/#GP at `cd xx`) at the instruction,
 *     traps (#BP) moved back onto their instruction, SYSCALL moved back onto
 *     the instruction with RFLAGS from R11, so rem re-executes it and
 *     delivers through the GUEST's IDT/LSTAR with the guest's rules; a kick
 *     (signal + immediate_exit) leaves the vCPU between two user
 *     instructions;
 *   - page-table coherence (the probe's main finding: KVM's shadow MMU never
 *     sees page-table writes made outside the vCPU): when the guest executed
 *     an instruction that invalidates translations since the last raw run
 *     (rem_vcpu_guest_invalidations: MOV CR3, INVLPG, paging bits), every
 *     shadow page KVM holds is dropped by deleting and re-adding a one-page
 *     slot of the VMM's (KVM zaps all shadow pages on a slot deletion). The
 *     guest must invalidate after taking rights away from a present entry,
 *     so this is correct for a guest that follows the architecture;
 *     not-present -> present and upgrades need nothing (KVM re-walks on
 *     its fault).
 *
 * State: the vCPU's struct cpum_cpu is the reference, as for rem. raw loads
 * GPRs, RIP, RFLAGS, the user segments (with FS/GS bases) and the FXSAVE
 * image at each run and writes them back after it; control registers, MSRs
 * and descriptor tables are the VMM's inside the raw context and are never
 * written back. XSAVE state beyond FXSAVE (YMM) stays in KVM.
 *
 * Threads: raw_create/destroy on the EMT; raw_vcpu_* on the vCPU's thread,
 * except raw_vcpu_kick (any thread, async-signal-safe).
 */
#ifndef VMM_RAW_H
#define VMM_RAW_H

#include <stdint.h>

#include "cpum/cpum.h"
#include "pgm/pgm.h"
#include "vmm_result.h"

struct raw;
struct raw_vcpu;
struct stam;

/* ---- the hypervisor area (raw_hyp.c, host-neutral) ---------------------- */

#define RAW_HYP_SLOT 500ull /* PML4 index of the area: kernel half, never copied */
#define RAW_HYP_VA   (0xffff000000000000ull | (RAW_HYP_SLOT << 39))
#define RAW_HYP_SIZE 0x10000u

/* Offsets inside the area (guest-physical: the slot's base + offset; linear:
 * RAW_HYP_VA + offset). */
#define RAW_HYP_ROOT   0x0000u /* the raw context's PML4 (CR3) */
#define RAW_HYP_PDPT   0x1000u
#define RAW_HYP_PD     0x2000u
#define RAW_HYP_PT     0x3000u /* maps the area's 16 pages, 4 KiB each */
#define RAW_HYP_GDT    0x4000u /* 4 KiB; the guest's descriptors below RAW_GDT_GUEST_MAX */
#define RAW_HYP_TSS    0x5000u /* 64-bit TSS + I/O bitmap for ports 0..0xff */
#define RAW_HYP_IDT    0x6000u
#define RAW_HYP_STUBS  0x7000u /* 256 x RAW_STUB_SIZE bytes, CPL0 only */
#define RAW_HYP_USTUB  0x8000u /* the one page CPL 3 may run: LSTAR's stub, the self-test */
#define RAW_HYP_TEST_A 0x9000u /* self-test data pages (user-readable only during it) */
#define RAW_HYP_TEST_B 0xa000u
#define RAW_HYP_STACK  0xe000u /* top of the exception stack (pages 0xb000..0xdfff) */

#define RAW_STUB_SIZE      16u
#define RAW_GDT_GUEST_MAX  0xfe0u /* guest descriptors below; the VMM's from here */
#define RAW_SEL_HCS        0xfe0u
#define RAW_SEL_HDS        0xfe8u
#define RAW_SEL_TSS        0xff0u
#define RAW_TSS_LIMIT      (0x68u + 32u) /* TSS + bitmap for ports 0..255 + the 0xff byte */
#define RAW_PORT_STUB      0xe0u         /* out from an exception stub (CPL0) */
#define RAW_PORT_SYSCALL   0xe1u         /* out from LSTAR's stub (CPL3, allowed by the bitmap) */
#define RAW_USTUB_SYSCALL  0x00u         /* offset of LSTAR's stub in RAW_HYP_USTUB */
#define RAW_USTUB_TEST_SYS 0x10u         /* self-test: syscall; ud2 */
#define RAW_USTUB_TEST_RD  0x20u         /* self-test: movabs (RAW_HYP_VA + TEST_A), %rax; ud2 */
#define RAW_USTUB_LOOP     0x30u         /* cost probe: 1: dec %ecx; jnz 1b; ud2 */

/*
 * Writes the area (RAW_HYP_SIZE bytes at `area`, placed at guest-physical
 * `gpa`): its page tables, GDT with the VMM's descriptors, TSS and bitmap,
 * IDT, stubs. The root is left empty (raw_hyp_root fills it). Pure.
 */
VMM_API void raw_hyp_build(uint8_t *area, uint64_t gpa);
/*
 * The raw root for a guest PML4 (512 entries as the guest wrote them):
 * entries 0..255 copied, RAW_HYP_SLOT the area's PDPT (present, writable,
 * user: the rights below decide), the rest not present. Pure.
 */
VMM_API void raw_hyp_root(uint8_t *area, uint64_t gpa, const uint64_t *guest_pml4);
/* The vector of the exception stub whose `out` ends at `rip` (RIP after the
 * exit), or -1 when rip is not one. Pure. */
VMM_API int raw_hyp_stub_vector(uint64_t rip);
/* Whether a paging-structure entry changed from `old` to `cur` lost
 * something a translation made from `old` had (present, frame, PS, caching
 * bits, W, U, not-NX, D): only then must a TLB (KVM's shadow) drop it. Pure. */
VMM_API cap_bool raw_pte_lost(uint64_t old, uint64_t cur);
/* Whether the exception `vector` pushes an error code (SDM Vol. 3A 6.13). */
VMM_API cap_bool raw_vector_has_error(unsigned vector);

/* ---- the engine --------------------------------------------------------- */

/*
 * Whether raw can run the context as it is (pure): long mode, 64-bit CS at
 * CPL 3, IF = 1, TF = 0, IOPL = 0, 4-level paging, no enabled hardware
 * breakpoint (DR7's enable bits clear: the raw context does not carry them),
 * CR4.TSD clear (this host runs RDTSC/RDTSCP natively whatever it says).
 */
VMM_API cap_bool raw_ctx_native(const struct cpum_ctx *c);

/*
 * Creates the engine over `pgm`'s map for `policy` (both must outlive it):
 * the host's VM, RAM mapped (and kept mapped as PGM's map changes), the
 * hypervisor area. VMM_E_ENGINE_UNAVAILABLE with a message naming the
 * reason where the host has no usable native context ("not on this host",
 * no /dev/kvm, ...); other failures as the host driver reports them.
 */
VMM_API cap_result raw_create(struct pgm *pgm, const struct cpum_policy *policy, struct raw **out);
/* Destroy the vCPUs first. NULL is fine. */
VMM_API void raw_destroy(struct raw *raw);

/*
 * Creates the vCPU for `cpu` (which must outlive it) and probes the
 * mechanism on it before the guest runs: user code at CPL 3 in the area, a
 * SYSCALL through LSTAR's stub, a #UD through the IDT stub with the right
 * frame, and a changed present PTE seen after the flush. Any step failing
 * gives VMM_E_ENGINE_UNAVAILABLE naming the step and what came instead.
 */
VMM_API cap_result raw_vcpu_create(struct raw *raw, struct cpum_cpu *cpu, struct raw_vcpu **out);
VMM_API void raw_vcpu_destroy(struct raw_vcpu *v);

/* Why a raw run ended (struct raw_event.kind). */
enum raw_event_kind {
    RAW_EV_KICK,    /* kicked (or a signal): the context is between two instructions */
    RAW_EV_FAULT,   /* an exception at the instruction (INT n: #UD/#GP at `cd xx`) */
    RAW_EV_TRAP,    /* #BP: the context was moved back onto its INT3 / INT 3 */
    RAW_EV_SYSCALL, /* SYSCALL: the context was moved back onto it, RFLAGS = R11 */
    RAW_EV_COUNT
};

struct raw_event {
    enum raw_event_kind kind;
    unsigned vector;     /* FAULT, TRAP */
    uint32_t error_code; /* FAULT with an error code */
    uint64_t cr2;        /* FAULT #PF */
    uint64_t run_ns;     /* the whole run: flush, load, KVM_RUN, store (CLOCK_MONOTONIC) */
    uint64_t flush_ns;   /* of it the flush, 0 when none was due */
};

/* What a raw stretch costs on this host, timed by raw_vcpu_create's probe
 * (best of a few runs of a `dec ecx; jnz` loop in the area's user page). */
struct raw_costs {
    uint64_t round_trip_ns; /* load, KVM_RUN, an exception out through the IDT stub, store */
    double ns_per_insn;     /* the loop's instructions, native at CPL 3 */
};

/*
 * Runs the context natively until user code leaves (needs raw_ctx_native;
 * VMM_E_BAD_STATE otherwise). `invalidations` is rem's count of guest
 * invalidations (rem_vcpu_guest_invalidations): when it moved since the
 * last run, KVM's translations are dropped first (/RAW/Flushes). On
 * CAP_OK the context holds where rem goes on: for FAULT, TRAP and SYSCALL
 * rem executes the instruction at RIP again and so raises the exception
 * itself through the guest's IDT; cpu->dirty gets GPRs, segments and FPU
 * so rem reloads them. An exit raw cannot hand over (an MMIO access from
 * user code, a host error) fails with VMM_E_HOSTDRV and a message naming
 * it. vCPU thread.
 */
VMM_API cap_result raw_vcpu_run(struct raw_vcpu *v, uint64_t invalidations, struct raw_event *ev);
/* The costs raw_vcpu_create measured (struct raw_costs). Any thread. */
VMM_API void raw_vcpu_costs(const struct raw_vcpu *v, struct raw_costs *out);
/* Ends the current or next run (RAW_EV_KICK); any thread, async-signal-safe
 * (EM's kick signal interrupts KVM_RUN itself). */
VMM_API void raw_vcpu_kick(struct raw_vcpu *v);
VMM_API void raw_vcpu_clear_kick(struct raw_vcpu *v);
/* Sets the TSC KVM gives user code (IA32_TSC), so RDTSC in raw follows
 * rem's clock (EM: tm_tsc at the first run and after a reset). */
VMM_API cap_result raw_vcpu_set_tsc(struct raw_vcpu *v, uint64_t tsc);
/* The rate of the TSC user code reads in raw, in Hz: the policy's
 * (CPUM_TSC_HZ) where KVM scales, else the host's. EM runs TM's TSC - rem's -
 * at that rate so the guest sees one clock. */
VMM_API uint64_t raw_vcpu_tsc_hz(const struct raw_vcpu *v);
/* Time the vCPU spent in rem between raw runs, for /RAW/RemNs (EM). */
VMM_API void raw_vcpu_account_rem(struct raw_vcpu *v, uint64_t ns);
/*
 * Registers the statistics under /RAW/ in `st`: transitions by kind and
 * vector, time in raw and in rem, flushes and their time. raw_vcpu_destroy
 * deregisters them. Errors as stam_register_table.
 */
VMM_API cap_result raw_vcpu_register_stats(struct raw_vcpu *v, struct stam *st);

#endif /* VMM_RAW_H */
