/*
 * hwaccm_kvm.c - the hm engine over /dev/kvm: the VM and its memory slots,
 * vCPUs with the policy's CPUID, KVM_RUN and the decoding of its exits into
 * struct vmm_exit, and external-interrupt injection through KVM_INTERRUPT
 * with interrupt-window exits (no in-kernel irqchip).
 *
 * Memory slots follow PGM's RAM and ROM ranges one to one (through a PGM
 * listener), ROM read-only; MMIO ranges get no slot, so KVM hands every
 * access to them back as an MMIO exit. RAM that PGM tracks for dirty pages
 * (a framebuffer BAR) gets a slot with KVM's dirty log, which the
 * listener's dirty_log hands to pgm_dirty_collect.
 *
 * On a host that emulates guest kernel code each run also keeps a host
 * breakpoint on the guest's #UD handler, and a KVM_EXIT_DEBUG there may
 * become an emulation failure for rem (hwaccm_kvm_udtrap.c: INT n from
 * user mode).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>

#include "cpum/cpum_kvm.h"
#include "hwaccm_kvm.h"

const char *hwaccm_backend_name(void)
{
    return "kvm";
}

static cap_result slot_changed(void *opaque, const struct pgm_range *r, cap_bool added)
{
    struct hwaccm *hm = opaque;
    unsigned slot;
    if (added) {
        for (slot = 0; slot < HWACCM_KVM_MAX_SLOTS && hm->slot_used[slot]; slot++)
            ;
        if (slot == HWACCM_KVM_MAX_SLOTS || slot >= hm->kvm->max_slots)
            return cap_error_set(VMM_E_HOSTDRV, VMM_COMPONENT, NULL,
                                 "hwaccm: no free KVM memory slot for '%s'", r->name);
        unsigned flags = (r->kind == PGM_RANGE_ROM ? HD_KVM_SLOT_READONLY : 0) |
                         (r->dirty ? HD_KVM_SLOT_LOG_DIRTY : 0);
        cap_result rc = hd_kvm_set_slot(hm->kvm, slot, r->gpa, r->size, r->hva, flags);
        if (CAP_FAILED(rc))
            return vmm_result_from_hd(rc);
        hm->slot_used[slot] = CAP_TRUE;
        hm->slot_gpa[slot] = r->gpa;
        return CAP_OK;
    }
    for (slot = 0; slot < HWACCM_KVM_MAX_SLOTS; slot++)
        if (hm->slot_used[slot] && hm->slot_gpa[slot] == r->gpa) {
            hd_kvm_set_slot(hm->kvm, slot, r->gpa, 0, NULL, 0);
            hm->slot_used[slot] = CAP_FALSE;
        }
    return CAP_OK;
}

/* KVM's log of the slot holding `r`, ORed into `bits` (pgm_listener). */
static cap_result slot_dirty_log(void *opaque, const struct pgm_range *r, uint64_t *bits)
{
    struct hwaccm *hm = opaque;
    for (unsigned slot = 0; slot < HWACCM_KVM_MAX_SLOTS; slot++) {
        if (!hm->slot_used[slot] || hm->slot_gpa[slot] != r->gpa)
            continue;
        size_t words = (size_t)((r->size / PGM_PAGE_SIZE + 63) / 64);
        uint64_t *log = calloc(words, sizeof(*log));
        if (!log)
            return cap_error_set(CAP_E_OUTOFMEMORY, VMM_COMPONENT, NULL, "hwaccm: out of memory");
        cap_result rc = hd_kvm_dirty_log(hm->kvm, slot, log);
        for (size_t w = 0; CAP_SUCCEEDED(rc) && w < words; w++)
            if (log[w])
                __atomic_fetch_or(&bits[w], log[w], __ATOMIC_RELAXED);
        free(log);
        return CAP_SUCCEEDED(rc) ? CAP_OK : vmm_result_from_hd(rc);
    }
    return CAP_OK; /* not in a slot (yet): nothing the guest wrote through KVM */
}

static void host_cpuid(void *ctx, uint32_t leaf, uint32_t out[4])
{
    const struct kvm_cpuid2 *c = ctx;
    out[0] = out[1] = out[2] = out[3] = 0;
    for (unsigned i = 0; i < c->nent; i++)
        if (c->entries[i].function == leaf && c->entries[i].index == 0) {
            out[0] = c->entries[i].eax, out[1] = c->entries[i].ebx;
            out[2] = c->entries[i].ecx, out[3] = c->entries[i].edx;
            return;
        }
}

uint32_t hwaccm_host_optional(void)
{
    struct hd_kvm *kvm = NULL;
    struct kvm_cpuid2 *sup = NULL;
    uint32_t opt = CPUM_OPT_ALL, l7[4], e1[4];
    if (CAP_SUCCEEDED(hd_kvm_open(&kvm)) && CAP_SUCCEEDED(hd_kvm_supported_cpuid(kvm, &sup))) {
        host_cpuid(sup, 7, l7);
        host_cpuid(sup, 0x80000001u, e1);
        opt = cpum_optional_from_cpuid(l7[1], l7[2], e1[3]);
    }
    cap_error_clear();
    free(sup);
    hd_kvm_close(kvm);
    return opt;
}

cap_result hwaccm_create(struct pgm *pgm, const struct cpum_policy *policy, struct hwaccm **out)
{
    *out = NULL;
    struct hwaccm *hm = calloc(1, sizeof(*hm));
    if (!hm)
        return cap_error_set(CAP_E_OUTOFMEMORY, VMM_COMPONENT, NULL, "hwaccm: out of memory");
    hm->pgm = pgm;
    hm->policy = policy;
    cap_result rc = hd_kvm_open(&hm->kvm);
    if (CAP_SUCCEEDED(rc))
        rc = hd_kvm_supported_cpuid(hm->kvm, &hm->supported);
    if (CAP_SUCCEEDED(rc))
        rc = hwaccm_check_cpuid(policy, host_cpuid, hm->supported);
    if (CAP_SUCCEEDED(rc))
        rc = hwaccm_kvm_msr_filter(hm);
    if (CAP_FAILED(rc))
        goto fail;
    hm->listener =
        (struct pgm_listener){.changed = slot_changed, .opaque = hm, .dirty_log = slot_dirty_log};
    rc = pgm_add_listener(pgm, &hm->listener);
    if (CAP_FAILED(rc)) {
        hm->listener.changed = NULL;
        goto fail;
    }
    *out = hm;
    return CAP_OK;
fail:
    hwaccm_destroy(hm);
    return vmm_result_from_hd(rc);
}

void hwaccm_destroy(struct hwaccm *hm)
{
    if (!hm)
        return;
    if (hm->listener.changed)
        pgm_remove_listener(hm->pgm, &hm->listener);
    hd_kvm_close(hm->kvm);
    free(hm->supported);
    free(hm);
}

cap_result hwaccm_vcpu_create(struct hwaccm *hm, struct cpum_cpu *cpu, struct hwaccm_vcpu **out)
{
    *out = NULL;
    if (cpu->id >= hm->policy->ncpus)
        return cap_error_set(CAP_E_INVALIDARG, VMM_COMPONENT, NULL,
                             "hwaccm: vCPU %u beyond the policy's %u", cpu->id, hm->policy->ncpus);
    struct hwaccm_vcpu *v = calloc(1, sizeof(*v));
    if (!v)
        return cap_error_set(CAP_E_OUTOFMEMORY, VMM_COMPONENT, NULL, "hwaccm: out of memory");
    v->hm = hm;
    v->cpu = cpu;
    struct kvm_cpuid2 *cpuid = NULL;
    cap_result rc = hd_kvm_vcpu_create(hm->kvm, cpu->id, &v->kv);
    if (CAP_SUCCEEDED(rc))
        rc = hwaccm_kvm_cpuid(hm->policy, cpu->id, &cpuid);
    if (CAP_SUCCEEDED(rc))
        cpum_kvm_fit_tsc_rate(v->kv, cpuid);
    if (CAP_SUCCEEDED(rc))
        rc = hd_kvm_set_cpuid(v->kv, cpuid);
    free(cpuid);
    if (CAP_FAILED(rc)) {
        hwaccm_vcpu_destroy(v);
        return vmm_result_from_hd(rc);
    }
    /* KVM starts the vCPU in its own reset state; ours replaces all of it. */
    cpu->dirty = CPUM_STATE_ALL;
    cpu->extrn = 0;
    if (hm->kvm->sync_regs)
        v->kv->run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
    v->udtrap_on = !hwaccm_host_runs_cpl0_natively(NULL, 0);
    *out = v;
    return CAP_OK;
}

void hwaccm_vcpu_destroy(struct hwaccm_vcpu *v)
{
    if (!v)
        return;
    hd_kvm_vcpu_destroy(v->kv);
    free(v);
}

static void decode_internal(struct hwaccm_vcpu *v, struct vmm_exit *x)
{
    struct kvm_run *run = v->kv->run;
    x->emul.suberror = run->internal.suberror;
    if (run->internal.suberror != KVM_INTERNAL_ERROR_EMULATION) {
        x->reason = VMM_EXIT_INTERNAL_ERROR;
        return;
    }
    x->reason = VMM_EXIT_EMULATION_FAILURE;
    hwaccm_fetch_insn(v->hm->pgm, v->cpu, x); /* also sets emul.rip */
    /* The host's copy only when PGM could not read them: this host's KVM
     * reports just the first byte of the instruction it gave up on. */
    if (!x->emul.insn_len && run->emulation_failure.ndata >= 3 &&
        (run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES) &&
        run->emulation_failure.insn_size) {
        uint8_t n = run->emulation_failure.insn_size;
        x->emul.insn_len = n > 15 ? 15 : n;
        memcpy(x->emul.insn, run->emulation_failure.insn_bytes, x->emul.insn_len);
    }
}

static void decode(struct hwaccm_vcpu *v, struct vmm_exit *x)
{
    struct kvm_run *run = v->kv->run;
    memset(x, 0, sizeof(*x));
    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        x->reason = VMM_EXIT_IO;
        x->io.port = run->io.port;
        x->io.size = run->io.size;
        x->io.write = run->io.direction == KVM_EXIT_IO_OUT;
        x->io.count = run->io.count;
        x->io.data = (uint8_t *)run + run->io.data_offset;
        break;
    case KVM_EXIT_MMIO:
        x->reason = VMM_EXIT_MMIO;
        x->mmio.gpa = run->mmio.phys_addr;
        x->mmio.size = (uint8_t)run->mmio.len;
        x->mmio.write = run->mmio.is_write;
        x->mmio.data = run->mmio.data;
        break;
    case KVM_EXIT_HLT:
        x->reason = VMM_EXIT_HLT;
        break;
    case KVM_EXIT_SHUTDOWN:
        x->reason = VMM_EXIT_SHUTDOWN;
        break;
    case KVM_EXIT_IRQ_WINDOW_OPEN:
        x->reason = VMM_EXIT_IRQ_WINDOW;
        break;
    case KVM_EXIT_INTR:
        x->reason = VMM_EXIT_INTERRUPTED;
        break;
    case KVM_EXIT_DEBUG:
        if (!hwaccm_kvm_udtrap_exit(v, x))
            x->reason = VMM_EXIT_DEBUG;
        break;
    case KVM_EXIT_FAIL_ENTRY:
        x->reason = VMM_EXIT_FAIL_ENTRY;
        x->fail_entry.reason = run->fail_entry.hardware_entry_failure_reason;
        break;
    case KVM_EXIT_INTERNAL_ERROR: decode_internal(v, x); break;
    case KVM_EXIT_X86_RDMSR:
    case KVM_EXIT_X86_WRMSR:
        hwaccm_kvm_decode_msr(v, x);
        break;
    case KVM_EXIT_SYSTEM_EVENT:
        x->reason =
            run->system_event.type == KVM_SYSTEM_EVENT_RESET ? VMM_EXIT_RESET : VMM_EXIT_SHUTDOWN;
        break;
    default:
        x->reason = VMM_EXIT_UNKNOWN;
        x->unknown.code = run->exit_reason;
        break;
    }
}

cap_result hwaccm_vcpu_run(struct hwaccm_vcpu *v, struct vmm_exit *exit)
{
    struct kvm_run *run = v->kv->run;
    cap_result rc = hwaccm_kvm_push(v);
    if (CAP_FAILED(rc))
        return vmm_result_from_hd(rc);
    run->request_interrupt_window = v->irq_window;
    hwaccm_kvm_udtrap_arm(v);
    rc = hd_kvm_run(v->kv);
    v->msr_known_valid = CAP_FALSE; /* the guest may have written them */
    run->kvm_dirty_regs = 0;
    if (CAP_SUCCEEDED(rc))
        rc = hwaccm_kvm_pull(v);
    if (CAP_FAILED(rc))
        return vmm_result_from_hd(rc);
    decode(v, exit);
    return CAP_OK;
}

cap_bool hwaccm_vcpu_irq_ready(const struct hwaccm_vcpu *v)
{
    return v->kv->run->ready_for_interrupt_injection && (v->cpu->ctx.rflags & RFLAGS_IF);
}

cap_result hwaccm_vcpu_inject_irq(struct hwaccm_vcpu *v, uint8_t vector)
{
    if (!hwaccm_vcpu_irq_ready(v))
        return cap_error_set(VMM_E_BAD_STATE, VMM_COMPONENT, NULL,
                             "hwaccm: vCPU %u cannot take interrupt 0x%02x now (ask for a window)",
                             v->cpu->id, vector);
    return vmm_result_from_hd(hd_kvm_interrupt(v->kv, vector));
}

cap_result hwaccm_vcpu_inject_nmi(struct hwaccm_vcpu *v)
{
    return vmm_result_from_hd(hd_kvm_nmi(v->kv));
}

void hwaccm_vcpu_request_irq_window(struct hwaccm_vcpu *v, cap_bool on)
{
    v->irq_window = on;
}

void hwaccm_vcpu_kick(struct hwaccm_vcpu *v)
{
    __atomic_store_n(&v->kv->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
}

/* Most turns find no kick: then nothing is stored. Skipping the store is
 * safe because a kick still to come sets the flag after this load, and
 * KVM_RUN sees it; one already there is cleared in order before EM reads
 * its requests (sequentially consistent store). */
void hwaccm_vcpu_clear_kick(struct hwaccm_vcpu *v)
{
    if (__atomic_load_n(&v->kv->run->immediate_exit, __ATOMIC_RELAXED))
        __atomic_store_n(&v->kv->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
}

/* VT-x/AMD-V show as the vmx/svm flags of /proc/cpuinfo; KVM's PVM backend
 * (and any KVM without them) emulates guest kernel code instead. */
cap_bool hwaccm_host_runs_cpl0_natively(char *why, size_t len)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[4096];
    cap_bool vmx = CAP_FALSE, svm = CAP_FALSE;
    while (f && fgets(line, sizeof(line), f)) {
        if (strncmp(line, "flags", 5))
            continue;
        vmx = strstr(line, " vmx") != NULL;
        svm = strstr(line, " svm") != NULL;
        break;
    }
    if (f)
        fclose(f);
    if (why && len)
        snprintf(why, len, "%s", vmx ? "host CPU has VT-x (vmx)" : svm ? "host CPU has AMD-V (svm)"
                                     : "host CPU shows neither vmx nor svm");
    return vmx || svm;
}
