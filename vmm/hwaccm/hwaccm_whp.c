/*
 * hwaccm_whp.c - the hm engine over the Windows Hypervisor Platform: the
 * partition and its GPA mappings, vCPUs, WHvRunVirtualProcessor and the
 * decoding of its exits into struct vmm_exit, and external-interrupt
 * injection through WHvRegisterPendingInterruption with interrupt-window
 * exits (no APIC emulation in the partition). The same contract as
 * hwaccm_kvm.c (hwaccm.h), chosen by file name in the cross-build.
 *
 * Where WHP differs from KVM, the engine makes up the difference so that EM
 * sees the same exits:
 *   - CPUID and unimplemented MSRs exit to user space; the engine answers
 *     them from CPUM (cpum_cpuid, cpum_msr_*) and re-enters, as KVM does in
 *     the kernel, so every engine shows the guest one CPU;
 *   - a plain IN/OUT exit is decoded here; the next run stores the IN data
 *     in RAX and steps RIP over the instruction (what KVM does on re-entry);
 *   - MMIO and string I/O come with instruction bytes but not the access:
 *     the Windows emulator (hwaccm_whp_emu.c) finds it, one device access
 *     per exit.
 *
 * Compile-only: cross-built with mingw-w64 and never run
 * (hostdrivers/windows/README.md).
 */
#include <cpuid.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>

#include "hwaccm_whp.h"

const char *hwaccm_backend_name(void)
{
    return "whp";
}

static cap_result map_changed(void *opaque, const struct pgm_range *r, cap_bool added)
{
    struct hwaccm *hm = opaque;
    unsigned i;
    if (added) {
        for (i = 0; i < HWACCM_WHP_MAX_MAPS && hm->map_size[i]; i++)
            ;
        if (i == HWACCM_WHP_MAX_MAPS)
            return cap_error_set(VMM_E_HOSTDRV, VMM_COMPONENT, NULL,
                                 "hwaccm: no free mapping slot for '%s'", r->name);
        /* Dirty-tracked RAM (a framebuffer BAR) read-only too: its writes
         * exit and reach pgm_phys_write, which marks them (WHP's own dirty
         * bitmap, WHvQueryGpaRangeDirtyBitmap, would be the fast way). */
        cap_result rc =
            hd_whp_map(hm->whp, r->gpa, r->size, r->hva, r->kind == PGM_RANGE_ROM || r->dirty);
        if (CAP_SUCCEEDED(rc))
            hm->map_gpa[i] = r->gpa, hm->map_size[i] = r->size;
        return vmm_result_from_hd(rc);
    }
    for (i = 0; i < HWACCM_WHP_MAX_MAPS; i++)
        if (hm->map_size[i] && hm->map_gpa[i] == r->gpa) {
            hd_whp_unmap(hm->whp, hm->map_gpa[i], hm->map_size[i]);
            hm->map_size[i] = 0;
        }
    return CAP_OK;
}

/* The host CPU's CPUID: WHP passes the hardware's features through (minus
 * what the hypervisor hides, which only a guest-side check would show). */
static void host_cpuid(void *ctx, uint32_t leaf, uint32_t out[4])
{
    (void)ctx;
    out[0] = out[1] = out[2] = out[3] = 0;
    if (__get_cpuid_max(leaf & 0x80000000u, NULL) >= leaf)
        __cpuid_count(leaf, 0, out[0], out[1], out[2], out[3]);
}

uint32_t hwaccm_host_optional(void)
{
    uint32_t l7[4], e1[4];
    host_cpuid(NULL, 7, l7);
    host_cpuid(NULL, 0x80000001u, e1);
    return cpum_optional_from_cpuid(l7[1], l7[2], e1[3]);
}

/* The partition sends the MSRs WHP does not handle, and IA32_MISC_ENABLE
 * reads, to CPUM (hd_whp.c), answered by do_msr below. */
const char *hwaccm_msr_note(const struct hwaccm *hm)
{
    (void)hm;
    return NULL;
}

cap_result hwaccm_create(struct pgm *pgm, const struct cpum_policy *policy, struct hwaccm **out)
{
    *out = NULL;
    struct hwaccm *hm = calloc(1, sizeof(*hm));
    if (!hm)
        return cap_error_set(CAP_E_OUTOFMEMORY, VMM_COMPONENT, NULL, "hwaccm: out of memory");
    hm->pgm = pgm;
    hm->policy = policy;
    cap_result rc = hwaccm_check_cpuid(policy, host_cpuid, NULL);
    if (CAP_SUCCEEDED(rc))
        rc = hd_whp_open(policy->ncpus, &hm->whp);
    if (CAP_FAILED(rc))
        goto fail;
    hm->listener = (struct pgm_listener){.changed = map_changed, .opaque = hm};
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
    hd_whp_close(hm->whp); /* deleting the partition drops its mappings */
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
    cap_result rc = hd_whp_vcpu_create(hm->whp, cpu->id, &v->wv);
    if (CAP_SUCCEEDED(rc))
        rc = hwaccm_whp_emu_create(v);
    if (CAP_FAILED(rc)) {
        hwaccm_vcpu_destroy(v);
        return vmm_result_from_hd(rc);
    }
    /* WHP starts the VP in its own reset state; ours replaces all of it. */
    cpu->dirty = CPUM_STATE_ALL;
    cpu->extrn = 0;
    *out = v;
    return CAP_OK;
}

void hwaccm_vcpu_destroy(struct hwaccm_vcpu *v)
{
    if (!v)
        return;
    hwaccm_whp_emu_destroy(v);
    hd_whp_vcpu_destroy(v->wv);
    free(v);
}

/* ---- finishing the instruction of the last exit ------------------------ */

static void finish_io(struct hwaccm_vcpu *v)
{
    const WHV_X64_IO_PORT_ACCESS_CONTEXT *io = &v->exit.IoPortAccess;
    struct cpum_ctx *c = &v->cpu->ctx;
    if (!io->AccessInfo.IsWrite)
        c->gpr[CPUM_RAX] = whpc_io_in_rax(c->gpr[CPUM_RAX], io->AccessInfo.AccessSize, v->io_data);
    c->rip += v->exit.VpContext.InstructionLength;
    cpum_mark_dirty(v->cpu, CPUM_STATE_GPRS);
}

/* Completes what the last exit left to the next run. May produce another
 * exit for EM (x->reason != NONE): the emulated instruction's next device
 * access. If EM moved RIP meanwhile (a reset, say), the instruction was
 * abandoned and is dropped. */
static cap_result finish_pending(struct hwaccm_vcpu *v, struct vmm_exit *x)
{
    enum whp_pending p = v->pending;
    x->reason = VMM_EXIT_NONE;
    if (p == WHP_PENDING_NONE)
        return CAP_OK;
    v->pending = WHP_PENDING_NONE;
    if (v->cpu->ctx.rip != v->pending_rip) {
        whpc_replay_reset(&v->replay);
        return CAP_OK;
    }
    if (p == WHP_PENDING_IO) {
        finish_io(v);
        return CAP_OK;
    }
    cap_result rc = hwaccm_whp_emulate(v, x);
    if (CAP_SUCCEEDED(rc) && x->reason != VMM_EXIT_NONE && x->reason != VMM_EXIT_EMULATION_FAILURE)
        v->pending = WHP_PENDING_EMUL; /* another device access of the same instruction */
    return rc;
}

/* ---- exits the engine answers itself ----------------------------------- */

static void skip_insn(struct hwaccm_vcpu *v)
{
    v->cpu->ctx.rip += v->exit.VpContext.InstructionLength;
    cpum_mark_dirty(v->cpu, CPUM_STATE_GPRS);
}

static void do_cpuid(struct hwaccm_vcpu *v)
{
    const WHV_X64_CPUID_ACCESS_CONTEXT *a = &v->exit.CpuidAccess;
    uint64_t *g = v->cpu->ctx.gpr;
    uint32_t r[4];
    cpum_cpuid(v->hm->policy, v->cpu->id, (uint32_t)a->Rax, (uint32_t)a->Rcx, r);
    g[CPUM_RAX] = r[0], g[CPUM_RBX] = r[1], g[CPUM_RCX] = r[2], g[CPUM_RDX] = r[3];
    skip_insn(v);
}

static cap_result do_msr(struct hwaccm_vcpu *v)
{
    const WHV_X64_MSR_ACCESS_CONTEXT *a = &v->exit.MsrAccess;
    uint64_t *g = v->cpu->ctx.gpr;
    cap_result rc = hwaccm_vcpu_import(v, CPUM_STATE_MSRS);
    if (CAP_FAILED(rc))
        return rc;
    if (a->AccessInfo.IsWrite)
        rc = cpum_msr_write(v->cpu, a->MsrNumber, (a->Rdx << 32) | (uint32_t)a->Rax);
    else {
        uint64_t val = 0;
        rc = cpum_msr_read(v->cpu, a->MsrNumber, &val);
        if (CAP_SUCCEEDED(rc))
            g[CPUM_RAX] = (uint32_t)val, g[CPUM_RDX] = val >> 32;
    }
    if (rc == VMM_XCPT_GP) {
        v->xcpt = CAP_TRUE; /* #GP(0) at the RDMSR/WRMSR, RIP unchanged */
        v->xcpt_vector = 13;
        return CAP_OK;
    }
    if (CAP_SUCCEEDED(rc))
        skip_insn(v);
    return rc;
}

/* ---- decoding ---------------------------------------------------------- */

static void decode_io(struct hwaccm_vcpu *v, struct vmm_exit *x)
{
    const WHV_X64_IO_PORT_ACCESS_CONTEXT *io = &v->exit.IoPortAccess;
    unsigned size = io->AccessInfo.AccessSize;
    x->reason = VMM_EXIT_IO;
    x->io.port = io->PortNumber;
    x->io.size = (uint8_t)size;
    x->io.write = io->AccessInfo.IsWrite;
    x->io.count = 1;
    x->io.data = v->io_data;
    memset(v->io_data, 0, sizeof(v->io_data));
    if (io->AccessInfo.IsWrite)
        for (unsigned i = 0; i < size && i < 4; i++)
            v->io_data[i] = (uint8_t)(io->Rax >> (8 * i));
    v->pending = WHP_PENDING_IO;
    v->pending_rip = v->cpu->ctx.rip;
}

static void decode_emulated(struct hwaccm_vcpu *v, struct vmm_exit *x, cap_result *rc)
{
    whpc_replay_reset(&v->replay);
    v->pending_rip = v->cpu->ctx.rip;
    *rc = hwaccm_whp_emulate(v, x);
    if (CAP_SUCCEEDED(*rc) && x->reason != VMM_EXIT_NONE && x->reason != VMM_EXIT_EMULATION_FAILURE)
        v->pending = WHP_PENDING_EMUL;
}

/* Decodes v->exit into *x. Exits the engine handles itself (CPUID, MSRs,
 * an emulated instruction with no device access) leave x->reason NONE. */
static cap_result decode(struct hwaccm_vcpu *v, struct vmm_exit *x)
{
    const WHV_RUN_VP_EXIT_CONTEXT *e = &v->exit;
    cap_result rc = CAP_OK;
    memset(x, 0, sizeof(*x));
    switch (e->ExitReason) {
    case WHvRunVpExitReasonX64IoPortAccess:
        if (e->IoPortAccess.AccessInfo.StringOp)
            decode_emulated(v, x, &rc);
        else
            decode_io(v, x);
        break;
    case WHvRunVpExitReasonMemoryAccess: decode_emulated(v, x, &rc); break;
    case WHvRunVpExitReasonX64Halt:
        x->reason = VMM_EXIT_HLT;
        break;
    case WHvRunVpExitReasonUnrecoverableException:
        x->reason = VMM_EXIT_SHUTDOWN;
        break;
    case WHvRunVpExitReasonX64InterruptWindow:
        /* one-shot: WHP cleared the notifications */
        v->window_armed = v->nmi_armed = CAP_FALSE;
        if (e->InterruptWindow.DeliverableType == WHvX64PendingNmi && v->nmi) {
            rc = hd_whp_inject_nmi(v->wv); /* the NMI window: in it goes, run on */
            v->nmi = CAP_FALSE;
            break;
        }
        x->reason = VMM_EXIT_IRQ_WINDOW;
        break;
    case WHvRunVpExitReasonCanceled:
        x->reason = VMM_EXIT_INTERRUPTED;
        break;
    case WHvRunVpExitReasonX64Cpuid: do_cpuid(v); break;
    case WHvRunVpExitReasonX64MsrAccess: rc = do_msr(v); break;
    case WHvRunVpExitReasonInvalidVpRegisterValue:
        x->reason = VMM_EXIT_FAIL_ENTRY;
        x->fail_entry.reason = e->ExitReason;
        break;
    case WHvRunVpExitReasonUnsupportedFeature:
        x->reason = VMM_EXIT_INTERNAL_ERROR;
        x->emul.suberror = e->UnsupportedFeature.FeatureCode;
        break;
    default:
        x->reason = VMM_EXIT_UNKNOWN;
        x->unknown.code = e->ExitReason;
        break;
    }
    return rc;
}

/* ---- running ----------------------------------------------------------- */

/* Dirty registers, then the event to inject and the window request. */
static cap_result load(struct hwaccm_vcpu *v)
{
    cap_result rc = hwaccm_whp_push(v);
    if (CAP_SUCCEEDED(rc) && v->xcpt) {
        rc = hd_whp_inject_exception(v->wv, v->xcpt_vector, CAP_TRUE, 0);
        v->xcpt = CAP_FALSE;
    } else if (CAP_SUCCEEDED(rc) && v->inject) {
        rc = hd_whp_inject_interrupt(v->wv, v->inject_vector);
        v->inject = CAP_FALSE;
    }
    /* an NMI always waits for its window: WHP then knows the guest's NMI
     * blocking (an NMI handler not yet ended by IRET) */
    if (CAP_SUCCEEDED(rc) && (v->irq_window != v->window_armed || v->nmi != v->nmi_armed)) {
        rc = hd_whp_interrupt_notification(v->wv, v->irq_window, v->nmi);
        if (CAP_SUCCEEDED(rc)) {
            v->window_armed = v->irq_window;
            v->nmi_armed = v->nmi;
        }
    }
    return rc;
}

static cap_result run(struct hwaccm_vcpu *v, struct vmm_exit *exit)
{
    cap_result rc = finish_pending(v, exit);
    if (CAP_FAILED(rc) || exit->reason != VMM_EXIT_NONE)
        return rc;
    for (;;) {
        if (InterlockedCompareExchange(&v->kicked, 0, 0)) {
            memset(exit, 0, sizeof(*exit));
            exit->reason = VMM_EXIT_INTERRUPTED;
            return CAP_OK;
        }
        if (CAP_FAILED(rc = load(v)) || CAP_FAILED(rc = hd_whp_run(v->wv, &v->exit)))
            return rc;
        v->exec = v->exit.VpContext.ExecutionState;
        if (CAP_FAILED(rc = hwaccm_whp_pull(v)) || CAP_FAILED(rc = decode(v, exit)))
            return rc;
        if (exit->reason != VMM_EXIT_NONE)
            return CAP_OK;
    }
}

cap_result hwaccm_vcpu_run(struct hwaccm_vcpu *v, struct vmm_exit *exit)
{
    return vmm_result_from_hd(run(v, exit));
}

cap_bool hwaccm_vcpu_irq_ready(const struct hwaccm_vcpu *v)
{
    return (v->cpu->ctx.rflags & RFLAGS_IF) && !v->exec.InterruptShadow &&
           !v->exec.InterruptionPending && !v->inject && !v->xcpt;
}

cap_result hwaccm_vcpu_inject_irq(struct hwaccm_vcpu *v, uint8_t vector)
{
    if (!hwaccm_vcpu_irq_ready(v))
        return cap_error_set(VMM_E_BAD_STATE, VMM_COMPONENT, NULL,
                             "hwaccm: vCPU %u cannot take interrupt 0x%02x now (ask for a window)",
                             v->cpu->id, vector);
    v->inject = CAP_TRUE;
    v->inject_vector = vector;
    return CAP_OK;
}

cap_result hwaccm_vcpu_inject_nmi(struct hwaccm_vcpu *v)
{
    v->nmi = CAP_TRUE; /* a second one before the window: one NMI, as a latch */
    return CAP_OK;
}

void hwaccm_vcpu_request_irq_window(struct hwaccm_vcpu *v, cap_bool on)
{
    v->irq_window = on;
}

/* The flag covers a kick that lands between runs, in case
 * WHvCancelRunVirtualProcessor only ends a run in progress (untested); a
 * cancel that lands after the run ended would show up as one spurious
 * Canceled exit, which EM treats like any INTERRUPTED. */
void hwaccm_vcpu_kick(struct hwaccm_vcpu *v)
{
    InterlockedExchange(&v->kicked, 1);
    hd_whp_cancel(v->wv);
}

void hwaccm_vcpu_clear_kick(struct hwaccm_vcpu *v)
{
    InterlockedExchange(&v->kicked, 0);
}

/* WHP needs VT-x/AMD-V with second-level translation: where it runs at all,
 * guest CPL0 and real-mode code run natively. */
cap_bool hwaccm_host_runs_cpl0_natively(char *why, size_t len)
{
    return hd_whp_present(why, len);
}
