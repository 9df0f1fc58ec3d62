/*
 * hwaccm_kvm_regs.c - moving the vCPU state between struct cpum_ctx and
 * KVM: kvm_regs/kvm_sregs (through kvm_run's sync-regs area when KVM offers
 * it, which saves two ioctls per exit), kvm_fpu, MSRs and debug registers,
 * plus the CPUID table KVM is given.
 */
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>

#include "cpum/cpum_kvm.h"
#include "hwaccm_kvm.h"

static void sregs_to_kvm(const struct cpum_ctx *c, struct kvm_sregs *s)
{
    struct kvm_segment *segs[CPUM_SREG_COUNT] = {&s->es, &s->cs, &s->ss, &s->ds, &s->fs, &s->gs};
    for (unsigned i = 0; i < CPUM_SREG_COUNT; i++)
        cpum_seg_to_kvm(&c->seg[i], segs[i]);
    cpum_seg_to_kvm(&c->ldtr, &s->ldt);
    cpum_seg_to_kvm(&c->tr, &s->tr);
    s->tr.unusable = 0; /* TR is never unusable for VMX */
    s->gdt = (struct kvm_dtable){.base = c->gdtr.base, .limit = c->gdtr.limit};
    s->idt = (struct kvm_dtable){.base = c->idtr.base, .limit = c->idtr.limit};
    s->cr0 = c->cr0, s->cr2 = c->cr2, s->cr3 = c->cr3, s->cr4 = c->cr4, s->cr8 = c->cr8;
    s->efer = c->msr.efer;
    s->apic_base = c->msr.apic_base;
    /* Never re-queue an interrupt KVM already reported pending: KVM only adds. */
    memset(s->interrupt_bitmap, 0, sizeof(s->interrupt_bitmap));
}

static void sregs_from_kvm(const struct kvm_sregs *s, struct cpum_ctx *c)
{
    const struct kvm_segment *segs[CPUM_SREG_COUNT] = {&s->es, &s->cs, &s->ss,
                                                       &s->ds, &s->fs, &s->gs};
    for (unsigned i = 0; i < CPUM_SREG_COUNT; i++)
        cpum_seg_from_kvm(segs[i], &c->seg[i]);
    cpum_seg_from_kvm(&s->ldt, &c->ldtr);
    cpum_seg_from_kvm(&s->tr, &c->tr);
    c->gdtr = (struct cpum_dtr){.base = s->gdt.base, .limit = s->gdt.limit};
    c->idtr = (struct cpum_dtr){.base = s->idt.base, .limit = s->idt.limit};
    c->cr0 = s->cr0, c->cr2 = s->cr2, c->cr3 = s->cr3, c->cr4 = s->cr4, c->cr8 = s->cr8;
    c->msr.efer = s->efer;
    c->msr.apic_base = s->apic_base;
}

static void fpu_to_kvm(const struct cpum_fxsave *x, struct kvm_fpu *f)
{
    memset(f, 0, sizeof(*f));
    memcpy(f->fpr, x->st, sizeof(f->fpr));
    f->fcw = x->fcw, f->fsw = x->fsw, f->ftwx = x->ftw, f->last_opcode = x->fop;
    f->last_ip = x->fip, f->last_dp = x->fdp;
    memcpy(f->xmm, x->xmm, sizeof(f->xmm));
    f->mxcsr = x->mxcsr;
}

static void fpu_from_kvm(const struct kvm_fpu *f, struct cpum_fxsave *x)
{
    memcpy(x->st, f->fpr, sizeof(x->st));
    x->fcw = f->fcw, x->fsw = f->fsw, x->ftw = f->ftwx, x->fop = f->last_opcode;
    x->fip = f->last_ip, x->fdp = f->last_dp;
    memcpy(x->xmm, f->xmm, sizeof(x->xmm));
    x->mxcsr = f->mxcsr;
}

/*
 * FPU state. KVM_{GET,SET}_XSAVE carries the FXSAVE image byte for byte
 * (the legacy region), MXCSR included - which KVM_{GET,SET}_FPU loses on
 * some hosts (measured on this project's PVM host) - so it is preferred.
 */
static cap_result fpu_io(struct hwaccm_vcpu *vcpu, cap_bool set)
{
    struct cpum_fxsave *fx = &vcpu->cpu->ctx.fpu;
    cap_result rc;
    if (vcpu->hm->kvm->xsave) {
        struct kvm_xsave xs;
        if (CAP_FAILED(rc = hd_kvm_get_xsave(vcpu->kv, &xs)))
            return rc;
        if (!set) {
            memcpy(fx, xs.region, sizeof(*fx));
            return CAP_OK;
        }
        memcpy(xs.region, fx, sizeof(*fx));
        uint64_t bv;
        memcpy(&bv, (uint8_t *)xs.region + 512, 8);
        bv |= 3; /* x87 and SSE components present in the image */
        memcpy((uint8_t *)xs.region + 512, &bv, 8);
        return hd_kvm_set_xsave(vcpu->kv, &xs);
    }
    struct kvm_fpu f;
    if (set) {
        fpu_to_kvm(fx, &f);
        return hd_kvm_set_fpu(vcpu->kv, &f);
    }
    if (CAP_SUCCEEDED(rc = hd_kvm_get_fpu(vcpu->kv, &f)))
        fpu_from_kvm(&f, fx);
    return rc;
}

/* Context MSRs KVM takes through KVM_{GET,SET}_MSRS (EFER and APIC base go in sregs). */
static const uint32_t kvm_msrs[] = {
    MSR_IA32_TSC,
    MSR_IA32_SYSENTER_CS,
    MSR_IA32_SYSENTER_ESP,
    MSR_IA32_SYSENTER_EIP,
    MSR_IA32_PAT,
    MSR_STAR,
    MSR_LSTAR,
    MSR_CSTAR,
    MSR_SFMASK,
    MSR_KERNEL_GS_BASE,
    MSR_IA32_MISC_ENABLE,
    MSR_IA32_TSC_ADJUST,
};
#define N_KVM_MSRS (sizeof(kvm_msrs) / sizeof(kvm_msrs[0]))

static uint64_t *msr_slot(struct cpum_msrs *m, uint32_t idx)
{
    switch (idx) {
    case MSR_IA32_TSC: return &m->tsc;
    case MSR_IA32_SYSENTER_CS: return &m->sysenter_cs;
    case MSR_IA32_SYSENTER_ESP: return &m->sysenter_esp;
    case MSR_IA32_SYSENTER_EIP: return &m->sysenter_eip;
    case MSR_IA32_PAT: return &m->pat;
    case MSR_STAR: return &m->star;
    case MSR_LSTAR: return &m->lstar;
    case MSR_CSTAR: return &m->cstar;
    case MSR_SFMASK: return &m->sfmask;
    case MSR_KERNEL_GS_BASE: return &m->kernel_gs_base;
    case MSR_IA32_TSC_ADJUST:
        return &m->tsc_adjust;
    default: return &m->misc_enable;
    }
}

struct msr_buf {
    struct kvm_msrs hdr;
    struct kvm_msr_entry e[N_KVM_MSRS];
};

_Static_assert(N_KVM_MSRS <= HWACCM_KVM_NMSRS, "hwaccm_vcpu.msr_known holds them all");

/*
 * Loading sets only the MSRs whose value differs from what KVM holds, when
 * that is known (read or written since the guest last ran): one MSR
 * changed by EM (a WRMSR CPUM accepted) must not load the others back -
 * the TSC imported a moment ago would move the guest's clock back.
 */
static cap_result msrs_load(struct hwaccm_vcpu *vcpu, struct msr_buf *b)
{
    unsigned n = 0;
    for (unsigned i = 0; i < N_KVM_MSRS; i++)
        if (!vcpu->msr_known_valid || vcpu->msr_known[i] != b->e[i].data)
            b->e[n++] = b->e[i];
    cap_result rc = n ? hd_kvm_set_msrs(vcpu->kv, &b->hdr, n) : CAP_OK;
    vcpu->msr_known_valid = CAP_FALSE; /* unknown again after a partial failure */
    return rc;
}

static cap_result msrs_io(struct hwaccm_vcpu *vcpu, cap_bool set)
{
    struct msr_buf b;
    memset(&b, 0, sizeof(b));
    struct cpum_msrs *m = &vcpu->cpu->ctx.msr;
    for (unsigned i = 0; i < N_KVM_MSRS; i++) {
        b.e[i].index = kvm_msrs[i];
        b.e[i].data = *msr_slot(m, kvm_msrs[i]);
    }
    cap_result rc = set ? msrs_load(vcpu, &b) : hd_kvm_get_msrs(vcpu->kv, &b.hdr, N_KVM_MSRS);
    if (CAP_FAILED(rc))
        return rc;
    for (unsigned i = 0; i < N_KVM_MSRS; i++) {
        uint64_t *slot = msr_slot(m, kvm_msrs[i]);
        if (!set)
            *slot = b.e[i].data;
        vcpu->msr_known[i] = *slot;
    }
    vcpu->msr_known_valid = CAP_TRUE;
    return CAP_OK;
}

static cap_result drs_io(struct hwaccm_vcpu *vcpu, cap_bool set)
{
    struct kvm_debugregs d;
    memset(&d, 0, sizeof(d));
    uint64_t *dr = vcpu->cpu->ctx.dr;
    if (set) {
        memcpy(d.db, dr, sizeof(d.db));
        d.dr6 = dr[6], d.dr7 = dr[7];
        return hd_kvm_set_debugregs(vcpu->kv, &d);
    }
    cap_result rc = hd_kvm_get_debugregs(vcpu->kv, &d);
    if (CAP_SUCCEEDED(rc)) {
        memcpy(dr, d.db, sizeof(d.db));
        dr[6] = d.dr6, dr[7] = d.dr7;
    }
    return rc;
}

cap_result hwaccm_kvm_push(struct hwaccm_vcpu *vcpu)
{
    struct cpum_cpu *cpu = vcpu->cpu;
    struct kvm_run *run = vcpu->kv->run;
    cap_bool sync = vcpu->hm->kvm->sync_regs;
    cap_result rc = CAP_OK;
    if (cpu->dirty & CPUM_STATE_GPRS) {
        struct kvm_regs r;
        cpum_regs_to_kvm(&cpu->ctx, &r);
        if (sync) {
            run->s.regs.regs = r;
            run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
        } else if (CAP_FAILED(rc = hd_kvm_set_regs(vcpu->kv, &r)))
            return rc;
    }
    if (cpu->dirty & CPUM_STATE_SREGS) {
        sregs_to_kvm(&cpu->ctx, &vcpu->sregs);
        if (sync) {
            run->s.regs.sregs = vcpu->sregs;
            run->kvm_dirty_regs |= KVM_SYNC_X86_SREGS;
        } else if (CAP_FAILED(rc = hd_kvm_set_sregs(vcpu->kv, &vcpu->sregs)))
            return rc;
    }
    if ((cpu->dirty & CPUM_STATE_FPU) && CAP_FAILED(rc = fpu_io(vcpu, CAP_TRUE)))
        return rc;
    if ((cpu->dirty & CPUM_STATE_MSRS) && CAP_FAILED(rc = msrs_io(vcpu, CAP_TRUE)))
        return rc;
    if ((cpu->dirty & CPUM_STATE_DRS) && CAP_FAILED(rc = drs_io(vcpu, CAP_TRUE)))
        return rc;
    cpu->extrn &= ~cpu->dirty;
    cpu->dirty = 0;
    run->cr8 = cpu->ctx.cr8; /* without an in-kernel APIC, KVM takes CR8 from here */
    return CAP_OK;
}

/* With sync regs KVM stored both on its way out (kvm_valid_regs): they are
 * converted straight from kvm_run, without a copy. */
cap_result hwaccm_kvm_pull(struct hwaccm_vcpu *vcpu)
{
    struct cpum_cpu *cpu = vcpu->cpu;
    struct kvm_run *run = vcpu->kv->run;
    cap_result rc;
    if (vcpu->hm->kvm->sync_regs) {
        cpum_regs_from_kvm(&run->s.regs.regs, &cpu->ctx);
        sregs_from_kvm(&run->s.regs.sregs, &cpu->ctx);
    } else {
        struct kvm_regs r;
        if (CAP_FAILED(rc = hd_kvm_get_regs(vcpu->kv, &r)) ||
            CAP_FAILED(rc = hd_kvm_get_sregs(vcpu->kv, &vcpu->sregs)))
            return rc;
        cpum_regs_from_kvm(&r, &cpu->ctx);
        sregs_from_kvm(&vcpu->sregs, &cpu->ctx);
    }
    cpu->ctx.cr8 = run->cr8;
    cpu->extrn |= CPUM_STATE_FPU | CPUM_STATE_MSRS | CPUM_STATE_DRS;
    return CAP_OK;
}

cap_result hwaccm_vcpu_import(struct hwaccm_vcpu *vcpu, uint32_t what)
{
    struct cpum_cpu *cpu = vcpu->cpu;
    what &= cpu->extrn;
    cap_result rc = CAP_OK;
    if ((what & CPUM_STATE_FPU) && CAP_FAILED(rc = fpu_io(vcpu, CAP_FALSE)))
        return vmm_result_from_hd(rc);
    if ((what & CPUM_STATE_MSRS) && CAP_FAILED(rc = msrs_io(vcpu, CAP_FALSE)))
        return vmm_result_from_hd(rc);
    if ((what & CPUM_STATE_DRS) && CAP_FAILED(rc = drs_io(vcpu, CAP_FALSE)))
        return vmm_result_from_hd(rc);
    cpu->extrn &= ~what;
    return CAP_OK;
}

cap_result hwaccm_kvm_cpuid(const struct cpum_policy *policy, unsigned id,
                            struct kvm_cpuid2 **out)
{
    *out = cpum_kvm_cpuid(policy, id);
    if (!*out)
        return cap_error_set(CAP_E_OUTOFMEMORY, VMM_COMPONENT, NULL, "hwaccm: out of memory");
    return CAP_OK;
}
