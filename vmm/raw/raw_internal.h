/*
 * vmm/raw/raw_internal.h - the raw engine's state, shared by its files
 * (raw_kvm.c: VM, memory, vCPU, self-test; raw_kvm_run.c: one run and its
 * exit; raw_stats.c: the /RAW/ statistics). Linux/KVM only.
 */
#ifndef VMM_RAW_INTERNAL_H
#define VMM_RAW_INTERNAL_H

#include "hd_kvm.h"
#include "raw.h"

#define RAW_COMPONENT "raw"
#define RAW_MAX_SLOTS PGM_MAX_RANGES
#define RAW_SLOT_AREA 0u /* the hypervisor area */
#define RAW_SLOT_ZAP  1u /* one page, deleted and re-added to drop KVM's shadow pages */
#define RAW_SLOT_RAM0 2u /* PGM's RAM from here */

/* Fault vectors counted apart under /RAW/Exits/Faults/ (the rest: Other). */
enum raw_fault_kind { RAW_F_UD, RAW_F_GP, RAW_F_PF, RAW_F_NM, RAW_F_OTHER, RAW_F_COUNT };

/* Written by the vCPU thread only; read by STAM from any thread. */
struct raw_counters {
    uint64_t events[RAW_EV_COUNT];
    uint64_t faults[RAW_F_COUNT];
    uint64_t int_n;           /* FAULT events at an INT n (cd xx) */
    uint64_t raw_ns;          /* wall time inside raw runs (load, KVM_RUN, store) */
    uint64_t rem_ns;          /* raw_vcpu_account_rem */
    uint64_t flushes;         /* KVM translations dropped (slot re-add) */
    uint64_t flushes_skipped; /* invalidations after which nothing KVM holds changed */
    uint64_t flush_ns;
    uint64_t fpu_loads; /* FXSAVE image pushed to KVM (rem changed it) */
};

/* The tables KVM may have shadowed since the last flush, as they were at
 * the last raw entry (raw_snap.c). vCPU thread. */
#define RAW_SNAP_MAX                                                                               \
    64u /* tables (256 KiB of copies, ~10-20 us to compare); a busybox process has a few dozen */
struct raw_snap_page {
    uint64_t gpa;
    uint64_t e[512];
};
struct raw_snap {
    struct raw_snap_page *pages; /* RAW_SNAP_MAX (create) */
    unsigned n;
    cap_bool complete;   /* every such table is in pages (else: flush at each invalidation) */
    cap_bool lost;       /* an entry in them lost something since the last flush */
    cap_bool root_known; /* root holds the raw root's user half of the last entry */
    uint64_t root[256];
};
cap_result raw_snap_init(struct raw_snap *s);
void raw_snap_free(struct raw_snap *s);
/* After a flush: nothing shadowed, nothing lost. */
void raw_snap_reset(struct raw_snap *s);
/* At a raw entry, before the root is rewritten: compares the copies with the
 * guest's tables (noting losses), takes their current contents, and adds
 * the tables reachable from `guest_pml4`'s user half. */
void raw_snap_update(struct raw_snap *s, const struct pgm *pgm, const uint64_t *guest_pml4);

struct raw {
    struct hd_kvm *kvm;
    struct pgm *pgm;                  /* not owned */
    const struct cpum_policy *policy; /* not owned */
    struct pgm_listener listener;
    uint64_t slot_gpa[RAW_MAX_SLOTS]; /* RAM slots: gpa of each used one */
    cap_bool slot_used[RAW_MAX_SLOTS];
    uint8_t *area; /* RAW_HYP_SIZE bytes (mmap, create) */
    uint64_t area_gpa;
    uint8_t *zap; /* one page (mmap, create) */
    uint64_t zap_gpa;
};

struct raw_vcpu {
    struct raw *raw;
    struct cpum_cpu *cpu; /* not owned */
    struct hd_kvm_vcpu *kv;
    struct kvm_sregs tmpl;      /* KVM's sregs at create: apic_base and the rest kept */
    struct kvm_xsave *xsave;    /* staging; the FXSAVE image is its first 512 bytes */
    struct cpum_fxsave fpu_kvm; /* the image KVM holds (valid once fpu_known) */
    cap_bool fpu_known;
    uint32_t tsc_khz; /* the rate of KVM's guest TSC (create) */
    uint64_t tsc_aux; /* IA32_TSC_AUX as KVM has it (valid once tsc_aux_known) */
    cap_bool tsc_aux_known;
    uint64_t cr4_umip;      /* CR4_UMIP where the host took it, else 0 (create) */
    uint64_t invalidations; /* rem's count at the last flush */
    struct raw_costs costs; /* measured by the probe (create) */
    struct raw_snap snap;   /* raw_snap.c (create) */
    struct raw_counters cnt;
    struct stam *stam; /* where the counters are registered, or NULL */
};

/* raw_kvm_run.c: drops every translation KVM holds (counted, timed). */
cap_result raw_kvm_flush(struct raw_vcpu *v);
/* raw_kvm_run.c: one KVM_RUN; CAP_FALSE_RESULT for a kick (nothing ran
 * when kvm_run->kvm_dirty_regs is still set afterwards). */
cap_result raw_kvm_enter(struct raw_vcpu *v);
/* raw_kvm_run.c: the raw context's sregs but for the six segment
 * registers: KVM's template, the area's TR/LDTR/GDTR/IDTR and root, long
 * mode; `cr0`, `cr4`, `efer` are the guest's bits added to the VMM's. */
void raw_kvm_sregs(const struct raw_vcpu *v, struct kvm_sregs *s, uint64_t cr0, uint64_t cr4,
                   uint64_t efer);
/* raw_stats.c */
void raw_stats_deregister(struct raw_vcpu *v);

#endif /* VMM_RAW_INTERNAL_H */
