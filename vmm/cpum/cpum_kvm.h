/*
 * vmm/cpum/cpum_kvm.h - CPUM's context and policy in KVM's terms, for every
 * engine that runs a CPUM context in a KVM vCPU (vmm/hwaccm/hwaccm_kvm*.c,
 * vmm/raw/raw_kvm*.c): segments, GPRs, the CPUID table of a policy, the TSC
 * rate. Header-only and Linux-only: included by *_kvm.c files alone (the
 * host layer, hostdrivers/linux/hd_kvm.h, stays free of CPUM).
 */
#ifndef VMM_CPUM_CPUM_KVM_H
#define VMM_CPUM_CPUM_KVM_H

#include <stdlib.h>

#include <linux/kvm.h>

#include <capsule/errorinfo.h>

#include "cpum/cpum.h"
#include "hd_kvm.h"

static inline void cpum_seg_to_kvm(const struct cpum_seg *s, struct kvm_segment *k)
{
    *k = (struct kvm_segment){
        .base = s->base,
        .limit = s->limit,
        .selector = s->sel,
        .type = s->attr & CPUM_SEG_TYPE_MASK,
        .s = !!(s->attr & CPUM_SEG_S),
        .dpl = (s->attr & CPUM_SEG_DPL_MASK) >> CPUM_SEG_DPL_SHIFT,
        .present = !!(s->attr & CPUM_SEG_P),
        .avl = !!(s->attr & CPUM_SEG_AVL),
        .l = !!(s->attr & CPUM_SEG_L),
        .db = !!(s->attr & CPUM_SEG_DB),
        .g = !!(s->attr & CPUM_SEG_G),
        .unusable = !(s->attr & CPUM_SEG_P),
    };
}

static inline void cpum_seg_from_kvm(const struct kvm_segment *k, struct cpum_seg *s)
{
    s->base = k->base;
    s->limit = k->limit;
    s->sel = k->selector;
    s->attr =
        (uint16_t)((k->type & 0xf) | (k->s ? CPUM_SEG_S : 0) | (k->dpl & 3) << CPUM_SEG_DPL_SHIFT |
                   (k->present && !k->unusable ? CPUM_SEG_P : 0) | (k->avl ? CPUM_SEG_AVL : 0) |
                   (k->l ? CPUM_SEG_L : 0) | (k->db ? CPUM_SEG_DB : 0) | (k->g ? CPUM_SEG_G : 0));
}

static inline void cpum_regs_to_kvm(const struct cpum_ctx *c, struct kvm_regs *r)
{
    const uint64_t *g = c->gpr;
    *r = (struct kvm_regs){
        .rax = g[CPUM_RAX],
        .rbx = g[CPUM_RBX],
        .rcx = g[CPUM_RCX],
        .rdx = g[CPUM_RDX],
        .rsi = g[CPUM_RSI],
        .rdi = g[CPUM_RDI],
        .rsp = g[CPUM_RSP],
        .rbp = g[CPUM_RBP],
        .r8 = g[CPUM_R8],
        .r9 = g[CPUM_R9],
        .r10 = g[CPUM_R10],
        .r11 = g[CPUM_R11],
        .r12 = g[CPUM_R12],
        .r13 = g[CPUM_R13],
        .r14 = g[CPUM_R14],
        .r15 = g[CPUM_R15],
        .rip = c->rip,
        .rflags = c->rflags,
    };
}

static inline void cpum_regs_from_kvm(const struct kvm_regs *r, struct cpum_ctx *c)
{
    uint64_t *g = c->gpr;
    g[CPUM_RAX] = r->rax, g[CPUM_RBX] = r->rbx, g[CPUM_RCX] = r->rcx, g[CPUM_RDX] = r->rdx;
    g[CPUM_RSI] = r->rsi, g[CPUM_RDI] = r->rdi, g[CPUM_RSP] = r->rsp, g[CPUM_RBP] = r->rbp;
    g[CPUM_R8] = r->r8, g[CPUM_R9] = r->r9, g[CPUM_R10] = r->r10, g[CPUM_R11] = r->r11;
    g[CPUM_R12] = r->r12, g[CPUM_R13] = r->r13, g[CPUM_R14] = r->r14, g[CPUM_R15] = r->r15;
    c->rip = r->rip;
    c->rflags = r->rflags;
}

/* The vCPU `id`'s CPUID table for KVM_SET_CPUID2 from `policy`, malloc'ed
 * (free() it); NULL when out of memory. */
static inline struct kvm_cpuid2 *cpum_kvm_cpuid(const struct cpum_policy *policy, unsigned id)
{
    struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + policy->nleaves * sizeof(c->entries[0]));
    if (!c)
        return NULL;
    for (unsigned i = 0; i < policy->nleaves; i++) {
        const struct cpum_cpuid_leaf *l = &policy->leaves[i];
        struct kvm_cpuid_entry2 *e = &c->entries[i];
        uint32_t r[4];
        cpum_cpuid(policy, id, l->leaf, l->subleaf, r);
        e->function = l->leaf;
        e->index = l->subleaf;
        e->flags = l->has_subleaves ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
        e->eax = r[0], e->ebx = r[1], e->ecx = r[2], e->edx = r[3];
    }
    c->nent = policy->nleaves;
    return c;
}

/*
 * The CPUID policy promises the guest a TSC of CPUM_TSC_HZ (leaves 0x15 and
 * 0x16, with an invariant TSC), the rate rem and TM keep. Under KVM the
 * guest TSC is the host's unless KVM scales it: ask for the policy's rate,
 * and where the host cannot scale, describe the real rate in those leaves
 * instead (the crystal stays the APIC timer's clock), so a guest that trusts
 * CPUID for its TSC frequency is right under either engine.
 * Returns the rate the vCPU's TSC runs at, in kHz.
 */
static inline uint32_t cpum_kvm_fit_tsc_rate(struct hd_kvm_vcpu *v, struct kvm_cpuid2 *cpuid)
{
    const uint32_t want = (uint32_t)(CPUM_TSC_HZ / 1000u);
    uint32_t khz = hd_kvm_get_tsc_khz(v);
    if (khz == want || khz == 0)
        return khz ? khz : want;
    if (CAP_SUCCEEDED(hd_kvm_set_tsc_khz(v, want)) && hd_kvm_get_tsc_khz(v) == want)
        return want;
    cap_error_clear();
    for (uint32_t i = 0; i < cpuid->nent; i++) {
        struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
        if (e->function == 0x15) {
            /* TSC = crystal * EBX / EAX, crystal = ECX Hz. */
            e->eax = (uint32_t)(CPUM_APIC_HZ / 1000u);
            e->ebx = khz;
        } else if (e->function == 0x16) {
            e->eax = e->ebx = khz / 1000u;
        }
    }
    return khz;
}

#endif /* VMM_CPUM_CPUM_KVM_H */
