/*
 * raw_kvm_run.c - one raw run on KVM (raw.h): the CPUM context into the
 * raw context through kvm_run's sync-regs area (no ioctl besides KVM_RUN
 * unless the FPU image changed), the exit decoded into a struct raw_event,
 * and the context left where rem executes the instruction again.
 *
 * Entry: GPRs, RIP, RFLAGS and the six segment registers come from the
 * context (hidden parts included, so no descriptor is read at entry); TR,
 * GDTR, IDTR, CR3 and EFER.LME/LMA/SCE are the area's; CR0 and CR4 take
 * from the guest only what changes user code's behaviour (CR0.MP/EM/TS/AM,
 * CR4.TSD/OSXSAVE, EFER.NXE for the NX bit of the guest's tables). The
 * guest's GDT below RAW_GDT_GUEST_MAX is copied into the area's, for user
 * code that loads a segment register; the guest PML4's user half into the
 * root.
 *
 * Exit: a kick before the sync (kvm_dirty_regs still set) ran nothing; any
 * other exit brings the registers back in the sync area. A stub's `out`
 * gives the vector from its address and the frame from the area's stack;
 * LSTAR's stub a SYSCALL (RCX = the instruction after it); both leave the
 * context ON the instruction for rem.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <capsule/errorinfo.h>

#include "cpum/cpum_kvm.h"
#include "raw_internal.h"

#define RFLAGS_RF        (1ull << 16)
#define CR4_OSXSAVE      (1ull << 18)
#define XSTATE_BV        512u /* offset of XSTATE_BV in the XSAVE area's header */
#define RAW_STUB_RETRIES 100u /* kicks tolerated while a stub finishes */

static cap_result fail(const char *fmt, ...) CAP_PRINTF(1, 2);
static cap_result fail(const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return cap_error_set(VMM_E_HOSTDRV, VMM_COMPONENT, NULL, "raw: %s", msg);
}

cap_result raw_kvm_flush(struct raw_vcpu *v)
{
    struct raw *raw = v->raw;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cap_result rc = hd_kvm_set_slot(raw->kvm, RAW_SLOT_ZAP, raw->zap_gpa, 0, NULL, 0);
    if (CAP_SUCCEEDED(rc))
        rc = hd_kvm_set_slot(raw->kvm, RAW_SLOT_ZAP, raw->zap_gpa, PGM_PAGE_SIZE, raw->zap, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    v->cnt.flushes++;
    v->cnt.flush_ns += (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000ull + t1.tv_nsec - t0.tv_nsec;
    return CAP_FAILED(rc) ? vmm_result_from_hd(rc) : CAP_OK;
}

cap_result raw_kvm_enter(struct raw_vcpu *v)
{
    cap_result rc = hd_kvm_run(v->kv);
    return CAP_FAILED(rc) ? vmm_result_from_hd(rc) : rc;
}

/* The guest's GDT below RAW_GDT_GUEST_MAX into the area's (zeros where it
 * cannot be read: a segment load then faults and rem sees why). */
static void copy_gdt(struct raw_vcpu *v)
{
    const struct cpum_ctx *c = &v->cpu->ctx;
    uint8_t *gdt = v->raw->area + RAW_HYP_GDT;
    size_t n = (size_t)c->gdtr.limit + 1;
    if (n > RAW_GDT_GUEST_MAX)
        n = RAW_GDT_GUEST_MAX;
    struct pgm_paging pg;
    struct pgm_walk w;
    pgm_paging_from_ctx(&pg, v->cpu);
    if (pgm_virt_read(v->raw->pgm, &pg, c->gdtr.base, gdt, n, PGM_ACC_READ | PGM_ACC_NO_AD, &w) !=
        CAP_OK)
        n = 0;
    memset(gdt + n, 0, RAW_GDT_GUEST_MAX - n);
}

static cap_result load_fpu(struct raw_vcpu *v)
{
    const struct cpum_fxsave *f = &v->cpu->ctx.fpu;
    if (v->fpu_known && !memcmp(f, &v->fpu_kvm, sizeof(*f)))
        return CAP_OK;
    cap_result rc = CAP_OK;
    if (!v->fpu_known)
        rc = hd_kvm_get_xsave(v->kv, v->xsave);
    if (CAP_FAILED(rc))
        return vmm_result_from_hd(rc);
    memcpy(v->xsave->region, f, sizeof(*f));
    uint64_t bv;
    memcpy(&bv, (uint8_t *)v->xsave->region + XSTATE_BV, 8);
    bv |= 3; /* x87 and SSE come from the image, not their init state */
    memcpy((uint8_t *)v->xsave->region + XSTATE_BV, &bv, 8);
    if (CAP_FAILED(rc = hd_kvm_set_xsave(v->kv, v->xsave)))
        return vmm_result_from_hd(rc);
    v->fpu_kvm = *f;
    v->fpu_known = CAP_TRUE;
    v->cnt.fpu_loads++;
    return CAP_OK;
}

static cap_result store_fpu(struct raw_vcpu *v)
{
    cap_result rc = hd_kvm_get_xsave(v->kv, v->xsave);
    if (CAP_FAILED(rc))
        return vmm_result_from_hd(rc);
    memcpy(&v->cpu->ctx.fpu, v->xsave->region, sizeof(v->cpu->ctx.fpu));
    v->fpu_kvm = v->cpu->ctx.fpu;
    return CAP_OK;
}

void raw_kvm_sregs(const struct raw_vcpu *v, struct kvm_sregs *s, uint64_t cr0, uint64_t cr4,
                   uint64_t efer)
{
    *s = v->tmpl;
    s->tr = (struct kvm_segment){.selector = RAW_SEL_TSS,
                                 .base = RAW_HYP_VA + RAW_HYP_TSS,
                                 .limit = RAW_TSS_LIMIT,
                                 .type = 11,
                                 .present = 1};
    s->ldt = (struct kvm_segment){.unusable = 1};
    s->gdt = (struct kvm_dtable){.base = RAW_HYP_VA + RAW_HYP_GDT, .limit = 0xfff};
    s->idt = (struct kvm_dtable){.base = RAW_HYP_VA + RAW_HYP_IDT, .limit = 0xfff};
    s->cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_WP | CR0_PG | cr0;
    s->cr3 = v->raw->area_gpa + RAW_HYP_ROOT;
    s->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT | v->cr4_umip | cr4;
    s->efer = EFER_LME | EFER_LMA | EFER_SCE | efer;
    memset(s->interrupt_bitmap, 0, sizeof(s->interrupt_bitmap));
}

/* RDTSCP and RDPID in user code read KVM's IA32_TSC_AUX: the guest's. */
static cap_result load_tsc_aux(struct raw_vcpu *v)
{
    uint64_t aux = v->cpu->ctx.msr.tsc_aux;
    if (v->tsc_aux_known && aux == v->tsc_aux)
        return CAP_OK;
    struct {
        struct kvm_msrs hdr;
        struct kvm_msr_entry e;
    } m = {.e = {.index = MSR_TSC_AUX, .data = aux}};
    cap_result rc = hd_kvm_set_msrs(v->kv, &m.hdr, 1);
    if (CAP_FAILED(rc))
        return vmm_result_from_hd(rc);
    v->tsc_aux = aux;
    v->tsc_aux_known = CAP_TRUE;
    return CAP_OK;
}

static cap_result load(struct raw_vcpu *v)
{
    struct raw *raw = v->raw;
    const struct cpum_ctx *c = &v->cpu->ctx;
    const uint64_t *pml4 =
        pgm_gpa_to_hva(raw->pgm, c->cr3 & 0x000ffffffffff000ull, 4096, CAP_FALSE);
    if (!pml4)
        return fail("the guest's PML4 (CR3 0x%" PRIx64 ") is not in RAM", c->cr3);
    raw_hyp_root(raw->area, raw->area_gpa, pml4);
    copy_gdt(v);
    struct kvm_run *run = v->kv->run;
    struct kvm_sync_regs *sr = &run->s.regs;
    cpum_regs_to_kvm(c, &sr->regs);
    raw_kvm_sregs(v, &sr->sregs, c->cr0 & (CR0_MP | CR0_EM | CR0_TS | CR0_AM), c->cr4 & CR4_OSXSAVE,
                  c->msr.efer & EFER_NXE);
    struct kvm_segment *segs[CPUM_SREG_COUNT] = {&sr->sregs.es, &sr->sregs.cs, &sr->sregs.ss,
                                                 &sr->sregs.ds, &sr->sregs.fs, &sr->sregs.gs};
    for (unsigned i = 0; i < CPUM_SREG_COUNT; i++)
        cpum_seg_to_kvm(&c->seg[i], segs[i]);
    memset(sr->sregs.interrupt_bitmap, 0, sizeof(sr->sregs.interrupt_bitmap));
    run->kvm_dirty_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
    cap_result rc = load_tsc_aux(v);
    return CAP_SUCCEEDED(rc) ? load_fpu(v) : rc;
}

/* The registers and user segments back into the context (RIP, RSP and
 * RFLAGS as the caller decides). */
static cap_result store(struct raw_vcpu *v, uint64_t rip, uint64_t rsp, uint64_t rflags)
{
    struct cpum_ctx *c = &v->cpu->ctx;
    const struct kvm_sync_regs *sr = &v->kv->run->s.regs;
    cpum_regs_from_kvm(&sr->regs, c);
    c->rip = rip;
    c->gpr[CPUM_RSP] = rsp;
    c->rflags = rflags & ~RFLAGS_RF;
    /* CS and SS stay as loaded (at a stub's exit they are the stub's; user
     * code cannot change CS, and an SS load faults on the area's GDT only
     * if the guest's lacks the selector); the data segments come back,
     * with the FS/GS bases user code may have written (WRFSBASE). */
    cpum_seg_from_kvm(&sr->sregs.ds, &c->seg[CPUM_DS]);
    cpum_seg_from_kvm(&sr->sregs.es, &c->seg[CPUM_ES]);
    cpum_seg_from_kvm(&sr->sregs.fs, &c->seg[CPUM_FS]);
    cpum_seg_from_kvm(&sr->sregs.gs, &c->seg[CPUM_GS]);
    cpum_mark_dirty(v->cpu, CPUM_STATE_GPRS | CPUM_STATE_SREGS | CPUM_STATE_FPU);
    return store_fpu(v);
}

/* Reads `len` bytes of user code at `va` (0 if unreadable). */
static unsigned read_code(struct raw_vcpu *v, uint64_t va, uint8_t *buf, unsigned len)
{
    struct pgm_paging pg;
    struct pgm_walk w;
    pgm_paging_from_ctx(&pg, v->cpu);
    /* a user access: a supervisor read of a user page faults under the guest's SMAP */
    return pgm_virt_read(v->raw->pgm, &pg, va, buf, len, PGM_ACC_USER | PGM_ACC_NO_AD, &w) == CAP_OK
               ? len
               : 0;
}

static enum raw_fault_kind fault_kind(unsigned vec)
{
    switch (vec) {
    case 6:
        return RAW_F_UD;
    case 7:
        return RAW_F_NM;
    case 13:
        return RAW_F_GP;
    case 14:
        return RAW_F_PF;
    default:
        return RAW_F_OTHER;
    }
}

/* An exception stub's exit: the frame on the area's stack. */
static cap_result stub_exit(struct raw_vcpu *v, int vec, struct raw_event *ev)
{
    const struct kvm_sync_regs *sr = &v->kv->run->s.regs;
    uint64_t off = sr->regs.rsp - RAW_HYP_VA;
    if (off < RAW_HYP_STACK - 0x3000 || off > RAW_HYP_STACK - 40)
        return fail("exception stub %d exited with RSP 0x%llx outside the area's stack", vec,
                    (unsigned long long)sr->regs.rsp);
    const uint64_t *p = (const uint64_t *)(v->raw->area + off);
    ev->vector = (unsigned)vec;
    if (raw_vector_has_error((unsigned)vec))
        ev->error_code = (uint32_t)*p++;
    uint64_t rip = p[0], rflags = p[2], rsp = p[3];
    ev->kind = RAW_EV_FAULT;
    if (vec == 14)
        ev->cr2 = sr->sregs.cr2;
    uint8_t b[2];
    if (vec == 1 || vec == 3) { /* traps: ICEBP (f1) / INT3 (cc) put back on their byte */
        if (read_code(v, rip - 1, b, 1) != 1 || b[0] != (vec == 1 ? 0xf1 : 0xcc))
            return fail("#%s from user code at 0x%" PRIx64 " that raw cannot place",
                        vec == 1 ? "DB" : "BP", rip);
        rip--;
        ev->kind = RAW_EV_TRAP;
    } else if ((vec == 6 || vec == 13) && read_code(v, rip, b, 2) == 2 && b[0] == 0xcd) {
        v->cnt.int_n++;
    }
    if (ev->kind == RAW_EV_FAULT)
        v->cnt.faults[fault_kind((unsigned)vec)]++;
    return store(v, rip, rsp, rflags);
}

static cap_result syscall_exit(struct raw_vcpu *v, struct raw_event *ev)
{
    const struct kvm_regs *r = &v->kv->run->s.regs.regs;
    uint8_t b[2];
    if (read_code(v, r->rcx - 2, b, 2) != 2 || b[0] != 0x0f || b[1] != 0x05)
        return fail("user code reached LSTAR's stub without a SYSCALL (RCX 0x%llx)",
                    (unsigned long long)r->rcx);
    ev->kind = RAW_EV_SYSCALL;
    return store(v, r->rcx - 2, r->rsp, r->r11);
}

static cap_result decode(struct raw_vcpu *v, struct raw_event *ev)
{
    const struct kvm_run *run = v->kv->run;
    const struct kvm_regs *r = &run->s.regs.regs;
    const uint64_t sys_rip = RAW_HYP_VA + RAW_HYP_USTUB + RAW_USTUB_SYSCALL + 2;
    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        if (run->io.port == RAW_PORT_STUB && raw_hyp_stub_vector(r->rip) >= 0)
            return stub_exit(v, raw_hyp_stub_vector(r->rip), ev);
        if (run->io.port == RAW_PORT_SYSCALL && r->rip == sys_rip)
            return syscall_exit(v, ev);
        return fail("port 0x%x access at RIP 0x%llx that no stub made", run->io.port,
                    (unsigned long long)r->rip);
    case KVM_EXIT_MMIO:
        return fail("user code at RIP 0x%llx accessed GPA 0x%llx outside RAM (MMIO from raw "
                    "user code is not handled yet)",
                    (unsigned long long)r->rip, (unsigned long long)run->mmio.phys_addr);
    default:
        return fail("unexpected KVM exit %u at RIP 0x%llx", run->exit_reason,
                    (unsigned long long)r->rip);
    }
}

/* After a kick that came once KVM had the registers: whether the vCPU
 * stopped inside the area (a stub under way) rather than in user code. */
static bool in_area(const struct raw_vcpu *v)
{
    const struct kvm_run *run = v->kv->run;
    return !run->kvm_dirty_regs && run->s.regs.regs.rip - RAW_HYP_VA < RAW_HYP_SIZE;
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

cap_result raw_vcpu_run(struct raw_vcpu *v, uint64_t invalidations, struct raw_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    if (!raw_ctx_native(&v->cpu->ctx))
        return cap_error_set(VMM_E_BAD_STATE, VMM_COMPONENT, NULL,
                             "raw: the context is not 64-bit user code raw can run");
    uint64_t t0 = now_ns();
    cap_result rc = CAP_OK;
    const struct cpum_ctx *c = &v->cpu->ctx;
    const uint64_t *pml4 =
        pgm_gpa_to_hva(v->raw->pgm, c->cr3 & 0x000ffffffffff000ull, 4096, CAP_FALSE);
    if (!pml4)
        return fail("the guest's PML4 (CR3 0x%" PRIx64 ") is not in RAM", c->cr3);
    raw_snap_update(&v->snap, v->raw->pgm, pml4);
    if (invalidations != v->invalidations) {
        v->invalidations = invalidations;
        if (v->snap.complete && !v->snap.lost) {
            v->cnt.flushes_skipped++;
        } else {
            uint64_t before = v->cnt.flush_ns;
            rc = raw_kvm_flush(v);
            ev->flush_ns = v->cnt.flush_ns - before;
            raw_snap_reset(&v->snap);
            raw_snap_update(&v->snap, v->raw->pgm, pml4);
        }
    }
    if (CAP_SUCCEEDED(rc))
        rc = load(v);
    if (CAP_SUCCEEDED(rc))
        rc = raw_kvm_enter(v);
    /* a signal while the host ran a stub: let the stub finish (its exit
     * decides), the loop turns right after anyway */
    for (unsigned tries = 0; rc == CAP_FALSE_RESULT && in_area(v); tries++) {
        if (tries == RAW_STUB_RETRIES)
            return fail("the vCPU stayed in the hypervisor area at RIP 0x%llx through %u kicks",
                        (unsigned long long)v->kv->run->s.regs.regs.rip, tries);
        raw_vcpu_clear_kick(v);
        v->kv->run->kvm_dirty_regs = 0;
        rc = raw_kvm_enter(v);
    }
    if (rc == CAP_FALSE_RESULT) {
        ev->kind = RAW_EV_KICK;
        /* nothing ran when KVM did not take the registers (a kick before entry) */
        const struct kvm_regs *r = &v->kv->run->s.regs.regs;
        rc = v->kv->run->kvm_dirty_regs ? CAP_OK : store(v, r->rip, r->rsp, r->rflags);
        v->kv->run->kvm_dirty_regs = 0;
    } else if (CAP_SUCCEEDED(rc)) {
        rc = decode(v, ev);
    }
    if (CAP_SUCCEEDED(rc))
        v->cnt.events[ev->kind]++;
    ev->run_ns = now_ns() - t0;
    v->cnt.raw_ns += ev->run_ns;
    return rc;
}

cap_result raw_vcpu_set_tsc(struct raw_vcpu *v, uint64_t tsc)
{
    struct {
        struct kvm_msrs hdr;
        struct kvm_msr_entry e;
    } m = {.e = {.index = MSR_IA32_TSC, .data = tsc}};
    cap_result rc = hd_kvm_set_msrs(v->kv, &m.hdr, 1);
    return CAP_FAILED(rc) ? vmm_result_from_hd(rc) : CAP_OK;
}
