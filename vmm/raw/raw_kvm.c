/*
 * raw_kvm.c - the raw engine on Linux KVM (raw.h): its VM with PGM's RAM
 * and the hypervisor area, the vCPU, and the probe of the mechanism every
 * vCPU passes before the guest runs.
 *
 * Memory: the area sits 2 MiB below the top of the guest's physical
 * address space (the policy's MAXPHYADDR, which KVM checks the raw root's
 * entries against), where no PC has RAM or devices; creation fails if PGM
 * maps anything there. Next to it one page of its own slot exists only to
 * be deleted and re-added: KVM drops every shadow page on a slot deletion
 * (tools/probes/raw/README.md, fact 2), which is how raw makes KVM forget
 * translations the guest kernel changed in rem. Only RAM is mapped from
 * PGM: user code touching ROM or MMIO exits as MMIO, which raw reports.
 *
 * The probe (self_test) runs on the vCPU the guest will use, in the area
 * alone: a SYSCALL from CPL 3 must reach LSTAR's stub and exit through the
 * TSS I/O bitmap with RCX right; the UD2 after it must arrive through the
 * IDT stub with the frame right; and a user read must see a page's new
 * frame after the PTE changed and raw_kvm_flush ran (the coherence
 * remedy). Whatever differs is named in the error. Then it times a
 * round trip and a loop of native user instructions (struct raw_costs: what
 * `auto` weighs raw's stretches against rem's speed with, em_raw.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <capsule/errorinfo.h>

#include "cpum/cpum_kvm.h"
#include "raw_internal.h"

#define ZAP_SIZE   0x1000u
#define AREA_BELOW 0x200000ull /* the area's distance from the top of the physical space */
#define COST_TRIES 3           /* best of: the first run faults the page in */
#define COST_LONG  (1u << 18)  /* loop count of the long cost run: ~0.1-0.3 ms natively */

/* The VMM's MSRs in the raw context (SDM Vol. 4): SYSCALL goes to LSTAR's
 * stub; SFMASK clears TF, IF, DF, NT (the stub exits at once anyway). */
#define SFMASK_RAW 0x4700ull

static cap_result unavailable(const char *fmt, const char *detail)
{
    return cap_error_set(VMM_E_ENGINE_UNAVAILABLE, VMM_COMPONENT, NULL, fmt, detail);
}

/* Takes the pending error info's message into buf (for a wrapping message). */
static const char *take_message(char *buf, size_t size)
{
    struct cap_error_info info;
    snprintf(buf, size, "unknown error");
    if (cap_error_take(&info) == CAP_OK && info.message)
        snprintf(buf, size, "%s", info.message);
    cap_error_info_clear(&info);
    return buf;
}

static cap_result ram_changed(void *opaque, const struct pgm_range *r, cap_bool added)
{
    struct raw *raw = opaque;
    if (r->kind != PGM_RANGE_RAM)
        return CAP_OK; /* ROM and MMIO stay out: such accesses exit as MMIO */
    unsigned slot;
    if (added) {
        for (slot = RAW_SLOT_RAM0; slot < RAW_MAX_SLOTS && raw->slot_used[slot]; slot++)
            ;
        if (slot == RAW_MAX_SLOTS || slot >= raw->kvm->max_slots)
            return cap_error_set(VMM_E_HOSTDRV, VMM_COMPONENT, NULL,
                                 "raw: no free KVM memory slot for '%s'", r->name);
        cap_result rc = hd_kvm_set_slot(raw->kvm, slot, r->gpa, r->size, r->hva, 0);
        if (CAP_FAILED(rc))
            return vmm_result_from_hd(rc);
        raw->slot_used[slot] = CAP_TRUE;
        raw->slot_gpa[slot] = r->gpa;
        return CAP_OK;
    }
    for (slot = RAW_SLOT_RAM0; slot < RAW_MAX_SLOTS; slot++)
        if (raw->slot_used[slot] && raw->slot_gpa[slot] == r->gpa) {
            hd_kvm_set_slot(raw->kvm, slot, r->gpa, 0, NULL, 0);
            raw->slot_used[slot] = CAP_FALSE;
        }
    return CAP_OK;
}

static cap_result place_area(struct raw *raw)
{
    uint64_t top = 1ull << raw->policy->phys_addr_bits;
    raw->area_gpa = top - AREA_BELOW;
    raw->zap_gpa = raw->area_gpa + RAW_HYP_SIZE;
    for (uint64_t gpa = raw->area_gpa; gpa < raw->zap_gpa + ZAP_SIZE; gpa += PGM_PAGE_SIZE)
        if (pgm_find(raw->pgm, gpa))
            return cap_error_set(VMM_E_ENGINE_UNAVAILABLE, VMM_COMPONENT, NULL,
                                 "raw: the hypervisor area's place (GPA 0x%" PRIx64
                                 ") is in use by the guest's physical map",
                                 raw->area_gpa);
    raw->area =
        mmap(NULL, RAW_HYP_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    raw->zap = mmap(NULL, ZAP_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw->area == MAP_FAILED || raw->zap == MAP_FAILED)
        return cap_error_set(CAP_E_OUTOFMEMORY, VMM_COMPONENT, NULL,
                             "raw: out of memory for the hypervisor area");
    raw_hyp_build(raw->area, raw->area_gpa);
    cap_result rc =
        hd_kvm_set_slot(raw->kvm, RAW_SLOT_AREA, raw->area_gpa, RAW_HYP_SIZE, raw->area, 0);
    if (CAP_SUCCEEDED(rc))
        rc = hd_kvm_set_slot(raw->kvm, RAW_SLOT_ZAP, raw->zap_gpa, ZAP_SIZE, raw->zap, 0);
    return CAP_FAILED(rc) ? vmm_result_from_hd(rc) : CAP_OK;
}

cap_result raw_create(struct pgm *pgm, const struct cpum_policy *policy, struct raw **out)
{
    *out = NULL;
    struct raw *raw = calloc(1, sizeof(*raw));
    if (!raw)
        return cap_error_set(CAP_E_OUTOFMEMORY, VMM_COMPONENT, NULL, "raw: out of memory");
    raw->pgm = pgm;
    raw->policy = policy;
    raw->area = raw->zap = MAP_FAILED;
    char msg[256];
    cap_result rc = hd_kvm_open(&raw->kvm);
    if (CAP_FAILED(rc)) {
        rc = unavailable("raw: no native context on this host: %s", take_message(msg, sizeof(msg)));
        goto fail;
    }
    if (!raw->kvm->sync_regs || !raw->kvm->xsave) {
        rc = unavailable("raw: this host's KVM lacks %s", !raw->kvm->sync_regs
                                                              ? "KVM_CAP_SYNC_REGS (regs + sregs)"
                                                              : "KVM_CAP_XSAVE");
        goto fail;
    }
    if (CAP_FAILED(rc = place_area(raw)))
        goto fail;
    raw->listener = (struct pgm_listener){.changed = ram_changed, .opaque = raw};
    if (CAP_FAILED(rc = pgm_add_listener(pgm, &raw->listener)))
        goto fail;
    *out = raw;
    return CAP_OK;
fail:
    raw_destroy(raw);
    return rc;
}

void raw_destroy(struct raw *raw)
{
    if (!raw)
        return;
    if (raw->listener.changed)
        pgm_remove_listener(raw->pgm, &raw->listener);
    hd_kvm_close(raw->kvm);
    if (raw->area != MAP_FAILED)
        munmap(raw->area, RAW_HYP_SIZE);
    if (raw->zap != MAP_FAILED)
        munmap(raw->zap, ZAP_SIZE);
    free(raw);
}

/* ---- the vCPU ------------------------------------------------------------ */

static cap_result set_msrs(struct raw_vcpu *v)
{
    struct {
        struct kvm_msrs hdr;
        struct kvm_msr_entry e[3];
    } m = {.e = {{.index = MSR_STAR, .data = (uint64_t)RAW_SEL_HCS << 32},
                 {.index = MSR_LSTAR, .data = RAW_HYP_VA + RAW_HYP_USTUB + RAW_USTUB_SYSCALL},
                 {.index = MSR_SFMASK, .data = SFMASK_RAW}}};
    return hd_kvm_set_msrs(v->kv, &m.hdr, 3);
}

/* UMIP keeps SGDT/SIDT/SLDT/STR/SMSW at CPL 3 from showing the VMM's
 * tables (a #GP that rem answers with the guest's values); only where KVM
 * takes it (it checks the bit against the CPUID it was given). */
static void probe_umip(struct raw_vcpu *v)
{
    struct kvm_sregs s = v->tmpl;
    s.cr4 |= CR4_UMIP;
    if (CAP_SUCCEEDED(hd_kvm_set_sregs(v->kv, &s)) &&
        CAP_SUCCEEDED(hd_kvm_set_sregs(v->kv, &v->tmpl)))
        v->cr4_umip = CR4_UMIP;
    cap_error_clear();
}

/* One self-test step: user code at `rip` with `rcx` until the exit on `port`. */
static cap_result test_run_rcx(struct raw_vcpu *v, uint64_t rip, uint64_t rcx, unsigned port,
                               const char *step, struct kvm_regs *r)
{
    struct kvm_run *run = v->kv->run;
    struct kvm_sync_regs *sr = &run->s.regs;
    static const struct kvm_segment cs = {.selector = 0x33,
                                          .limit = 0xfffff,
                                          .type = 0xb,
                                          .present = 1,
                                          .dpl = 3,
                                          .s = 1,
                                          .l = 1,
                                          .g = 1};
    static const struct kvm_segment ss = {.selector = 0x2b,
                                          .limit = 0xfffff,
                                          .type = 0x3,
                                          .present = 1,
                                          .dpl = 3,
                                          .s = 1,
                                          .db = 1,
                                          .g = 1};
    memset(&sr->regs, 0, sizeof(sr->regs));
    sr->regs.rip = rip;
    sr->regs.rcx = rcx;
    sr->regs.rflags = 0x202;
    raw_kvm_sregs(v, &sr->sregs, CR0_MP, 0, 0);
    sr->sregs.cs = cs;
    sr->sregs.ss = sr->sregs.ds = sr->sregs.es = sr->sregs.fs = sr->sregs.gs = ss;
    run->kvm_dirty_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
    cap_result rc = raw_kvm_enter(v);
    if (CAP_FAILED(rc))
        return rc;
    *r = sr->regs;
    if (rc == CAP_FALSE_RESULT || run->exit_reason != KVM_EXIT_IO || run->io.port != port) {
        char what[96];
        snprintf(what, sizeof(what), "%s: exit %u (port 0x%x) at RIP 0x%llx instead of port 0x%x",
                 step, run->exit_reason, run->exit_reason == KVM_EXIT_IO ? run->io.port : 0,
                 (unsigned long long)r->rip, port);
        return unavailable("raw: the probe of the native user context failed: %s", what);
    }
    return CAP_OK;
}

static cap_result test_run(struct raw_vcpu *v, uint64_t rip, unsigned port, const char *step,
                           struct kvm_regs *r)
{
    return test_run_rcx(v, rip, 0, port, step, r);
}

static uint64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* Best time of COST_TRIES runs of the area's loop with `count` iterations
 * to its #UD, 0 when one did not end there. */
static uint64_t time_loop(struct raw_vcpu *v, uint32_t count)
{
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < COST_TRIES; i++) {
        struct kvm_regs r;
        uint64_t t0 = mono_ns();
        if (CAP_FAILED(test_run_rcx(v, RAW_HYP_VA + RAW_HYP_USTUB + RAW_USTUB_LOOP, count,
                                    RAW_PORT_STUB, "cost loop", &r)) ||
            raw_hyp_stub_vector(r.rip) != 6)
            return 0;
        uint64_t dt = mono_ns() - t0;
        best = dt < best ? dt : best;
    }
    return best;
}

/* struct raw_costs: a round trip (the loop of one iteration) and the
 * native cost of an instruction (the difference to a long loop). A failure
 * leaves zeros: EM then never chooses raw on its own (em_raw.c). */
static void measure_costs(struct raw_vcpu *v)
{
    uint64_t t_short = time_loop(v, 1);
    uint64_t t_long = t_short ? time_loop(v, COST_LONG) : 0;
    cap_error_clear();
    if (!t_short || !t_long)
        return;
    v->costs.round_trip_ns = t_short;
    double d = t_long > t_short ? (double)(t_long - t_short) : 1.0;
    v->costs.ns_per_insn = d / (2.0 * (COST_LONG - 1));
}

static cap_result self_test(struct raw_vcpu *v)
{
    struct raw *raw = v->raw;
    static const uint64_t empty[256];
    raw_hyp_root(raw->area, raw->area_gpa, empty);
    const uint64_t ustub = RAW_HYP_VA + RAW_HYP_USTUB;
    struct kvm_regs r;
    cap_result rc = test_run(v, ustub + RAW_USTUB_TEST_SYS, RAW_PORT_SYSCALL, "SYSCALL", &r);
    if (CAP_FAILED(rc))
        return rc;
    if (r.rcx != ustub + RAW_USTUB_TEST_SYS + 2)
        return unavailable("raw: the probe of the native user context failed: %s",
                           "SYSCALL left the wrong return address in RCX");
    if (CAP_FAILED(rc = test_run(v, r.rcx, RAW_PORT_STUB, "UD2 after SYSCALL", &r)))
        return rc;
    const uint64_t *frame = (const uint64_t *)(raw->area + (r.rsp - RAW_HYP_VA));
    if (raw_hyp_stub_vector(r.rip) != 6 || frame[0] != ustub + RAW_USTUB_TEST_SYS + 2)
        return unavailable("raw: the probe of the native user context failed: %s",
                           "UD2 did not arrive as #UD with its frame");

    /* Coherence: a user read, the PTE moved to another frame, the flush,
     * the read again. */
    uint64_t *pt = (uint64_t *)(raw->area + RAW_HYP_PT);
    uint64_t *a = (uint64_t *)(raw->area + RAW_HYP_TEST_A),
             *b = (uint64_t *)(raw->area + RAW_HYP_TEST_B);
    const uint64_t saved = pt[RAW_HYP_TEST_A >> 12];
    *a = 0xa11a;
    *b = 0xb22b;
    pt[RAW_HYP_TEST_A >> 12] = (raw->area_gpa + RAW_HYP_TEST_A) | 0x5; /* P, U */
    rc = test_run(v, ustub + RAW_USTUB_TEST_RD, RAW_PORT_STUB, "user read", &r);
    uint64_t first = r.rax;
    pt[RAW_HYP_TEST_A >> 12] = (raw->area_gpa + RAW_HYP_TEST_B) | 0x5;
    if (CAP_SUCCEEDED(rc))
        rc = raw_kvm_flush(v);
    if (CAP_SUCCEEDED(rc))
        rc = test_run(v, ustub + RAW_USTUB_TEST_RD, RAW_PORT_STUB, "user read after the flush", &r);
    pt[RAW_HYP_TEST_A >> 12] = saved;
    *a = *b = 0;
    if (CAP_SUCCEEDED(rc) && (first != 0xa11a || r.rax != 0xb22b))
        rc = unavailable("raw: the probe of the native user context failed: %s",
                         first != 0xa11a ? "a user read through the area saw the wrong page"
                                         : "KVM kept a stale translation after the slot re-add");
    raw_kvm_flush(v); /* the test page's translation goes too */
    raw_snap_reset(&v->snap);
    if (CAP_SUCCEEDED(rc))
        measure_costs(v);
    v->cnt = (struct raw_counters){0};
    return rc;
}

cap_result raw_vcpu_create(struct raw *raw, struct cpum_cpu *cpu, struct raw_vcpu **out)
{
    *out = NULL;
    struct raw_vcpu *v = calloc(1, sizeof(*v));
    struct kvm_cpuid2 *cpuid = NULL;
    if (!v)
        return cap_error_set(CAP_E_OUTOFMEMORY, VMM_COMPONENT, NULL, "raw: out of memory");
    v->raw = raw;
    v->cpu = cpu;
    cap_result rc = hd_kvm_vcpu_create(raw->kvm, cpu->id, &v->kv);
    if (CAP_SUCCEEDED(rc) && !(cpuid = cpum_kvm_cpuid(raw->policy, cpu->id)))
        rc = cap_error_set(CAP_E_OUTOFMEMORY, VMM_COMPONENT, NULL, "raw: out of memory");
    if (CAP_SUCCEEDED(rc)) {
        v->tsc_khz = cpum_kvm_fit_tsc_rate(v->kv, cpuid);
        rc = hd_kvm_set_cpuid(v->kv, cpuid);
    }
    if (CAP_SUCCEEDED(rc))
        rc = hd_kvm_get_sregs(v->kv, &v->tmpl);
    if (CAP_SUCCEEDED(rc))
        rc = set_msrs(v);
    if (CAP_SUCCEEDED(rc) && !(v->xsave = calloc(1, sizeof(*v->xsave))))
        rc = cap_error_set(CAP_E_OUTOFMEMORY, VMM_COMPONENT, NULL, "raw: out of memory");
    if (CAP_SUCCEEDED(rc))
        rc = raw_snap_init(&v->snap);
    free(cpuid);
    if (CAP_FAILED(rc)) {
        rc = vmm_result_from_hd(rc);
        goto fail;
    }
    v->kv->run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
    probe_umip(v);
    if (CAP_FAILED(rc = self_test(v)))
        goto fail;
    *out = v;
    return CAP_OK;
fail:
    raw_vcpu_destroy(v);
    return rc;
}

void raw_vcpu_destroy(struct raw_vcpu *v)
{
    if (!v)
        return;
    raw_stats_deregister(v);
    hd_kvm_vcpu_destroy(v->kv);
    raw_snap_free(&v->snap);
    free(v->xsave);
    free(v);
}

void raw_vcpu_kick(struct raw_vcpu *v)
{
    __atomic_store_n(&v->kv->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
}

void raw_vcpu_clear_kick(struct raw_vcpu *v)
{
    if (__atomic_load_n(&v->kv->run->immediate_exit, __ATOMIC_RELAXED))
        __atomic_store_n(&v->kv->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
}

void raw_vcpu_costs(const struct raw_vcpu *v, struct raw_costs *out)
{
    *out = v->costs;
}

uint64_t raw_vcpu_tsc_hz(const struct raw_vcpu *v)
{
    return (uint64_t)v->tsc_khz * 1000u;
}

void raw_vcpu_account_rem(struct raw_vcpu *v, uint64_t ns)
{
    v->cnt.rem_ns += ns;
}
