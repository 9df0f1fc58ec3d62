/*
 * em_engine.c - the two engines behind one table (struct em_engine_ops),
 * and rem stepping in for hm.
 *
 * hm (HWACCM) and rem (the software CPU) both report the neutral struct
 * vmm_exit (vmm_exit.h), take interrupts the same way (ready? inject : ask for a
 * window) and can be kicked from any thread, so em_run.c's loop is the same
 * for both; only these small adapters differ. rem runs in slices of
 * EM_REM_SLICE instructions: its kick (set by the kick timer at each device
 * deadline, and by every request from another thread) ends a run at once,
 * the slice only bounds how long EM goes without looking otherwise.
 *
 * rem stepping in: when the host cannot emulate an instruction hm met (here:
 * KVM without VT-x/AMD-V emulates guest kernel code and fails on LSL, LAR,
 * SSE, x87, ...), EM fetches the whole state from hm, lets rem execute that
 * one instruction on the same CPUM context (delivering any exception it
 * raises), handles what it exits for (port I/O, HLT, triple fault) with the
 * loop's own handler, and marks the context dirty so hm reloads it on the
 * next run. Only when rem cannot run the instruction either does the VM
 * stop, naming the bytes.
 *
 * MSRs: rem applies CPUM's rules itself; hm hands EM the accesses its host
 * would answer otherwise (VMM_EXIT_MSR), and em_hm_msr answers them with
 * the same rules on the same context.
 */
#include <inttypes.h>
#include <string.h>

#include "dis/dis.h"
#include "em_internal.h"

/* ---- hm ------------------------------------------------------------------ */

static cap_result hm_run(struct vm *vm, struct em_vcpu *v)
{
    (void)vm;
    return hwaccm_vcpu_run(v->hv, &v->exit);
}

static cap_bool hm_irq_ready(struct em_vcpu *v) { return hwaccm_vcpu_irq_ready(v->hv); }
static cap_result hm_inject(struct em_vcpu *v, uint8_t vec) { return hwaccm_vcpu_inject_irq(v->hv, vec); }
static cap_result hm_inject_nmi(struct em_vcpu *v) { return hwaccm_vcpu_inject_nmi(v->hv); }
static void hm_window(struct em_vcpu *v, cap_bool on) { hwaccm_vcpu_request_irq_window(v->hv, on); }
static void hm_kick(struct em_vcpu *v) { hwaccm_vcpu_kick(v->hv); }
static void hm_clear_kick(struct em_vcpu *v) { hwaccm_vcpu_clear_kick(v->hv); }

static void hm_reset(struct em_vcpu *v)
{
    rem_vcpu_reset(v->rv); /* the helper must not complete an old IN after a reset */
}

const struct em_engine_ops em_hm_ops = {
    .engine = VM_ENGINE_HM,
    .run = hm_run,
    .irq_ready = hm_irq_ready,
    .inject_irq = hm_inject,
    .inject_nmi = hm_inject_nmi,
    .request_irq_window = hm_window,
    .kick = hm_kick,
    .clear_kick = hm_clear_kick,
    .reset = hm_reset,
};

/* ---- rem ----------------------------------------------------------------- */

static cap_result rem_run(struct vm *vm, struct em_vcpu *v)
{
    (void)vm; /* rem counts its instructions and blocks itself (/REM/) */
    return rem_vcpu_run(v->rv, EM_REM_SLICE, &v->exit);
}

static cap_bool rem_irq_ready(struct em_vcpu *v) { return rem_vcpu_irq_ready(v->rv); }
static cap_result rem_inject(struct em_vcpu *v, uint8_t vec) { return rem_vcpu_inject_irq(v->rv, vec); }
static cap_result rem_inject_nmi(struct em_vcpu *v) { return rem_vcpu_inject_nmi(v->rv); }
static void rem_window(struct em_vcpu *v, cap_bool on) { rem_vcpu_request_irq_window(v->rv, on); }
static void rem_kick(struct em_vcpu *v) { rem_vcpu_kick(v->rv); }
static void rem_clear_kick(struct em_vcpu *v) { rem_vcpu_clear_kick(v->rv); }
static void rem_reset(struct em_vcpu *v) { rem_vcpu_reset(v->rv); }

const struct em_engine_ops em_rem_ops = {
    .engine = VM_ENGINE_REM,
    .run = rem_run,
    .irq_ready = rem_irq_ready,
    .inject_irq = rem_inject,
    .inject_nmi = rem_inject_nmi,
    .request_irq_window = rem_window,
    .kick = rem_kick,
    .clear_kick = rem_clear_kick,
    .reset = rem_reset,
};

void em_hm_msr(struct vm *vm, struct em_vcpu *v)
{
    const struct vmm_exit *x = &v->exit;
    cap_result rc = hwaccm_vcpu_import(v->hv, CPUM_STATE_MSRS);
    if (CAP_FAILED(rc)) {
        em_fail(vm, rc, "fetching the MSRs from hm");
        return;
    }
    rc = x->msr.write ? cpum_msr_write(&v->cpu, x->msr.index, *x->msr.data)
                      : cpum_msr_read(&v->cpu, x->msr.index, x->msr.data);
    *x->msr.gp = rc == VMM_XCPT_GP;
    if (rc == VMM_XCPT_GP)
        vm->cnt.msr_gps++;
}

/* ---- rem stepping in for hm ---------------------------------------------- */

void em_format_bytes(char *buf, size_t size, const uint8_t *bytes, unsigned len)
{
    /* byte i starts at 3*i (the separator comes after, so each snprintf
     * overwrites the previous one's terminator) */
    if (len > 15)
        len = 15;
    snprintf(buf, size, "unreadable");
    for (unsigned i = 0; i < len && 3 * i + 2 < size; i++)
        snprintf(buf + 3 * i, size - 3 * i, "%02x%s", bytes[i], i + 1 < len ? " " : "");
}

static enum dis_mode code_mode(const struct cpum_ctx *c)
{
    if (!(c->cr0 & CR0_PE))
        return DIS_MODE_16;
    if ((c->msr.efer & EFER_LMA) && (c->seg[CPUM_CS].attr & CPUM_SEG_L))
        return DIS_MODE_64;
    return (c->seg[CPUM_CS].attr & CPUM_SEG_DB) ? DIS_MODE_32 : DIS_MODE_16;
}

/* Counts one step under the instruction's mnemonic (/EM/Steps/<mnemonic>). */
static void count_step(struct vm *vm, const struct cpum_ctx *c, const struct vmm_exit *hx)
{
    struct dis_insn in;
    const char *name = "(unreadable)";
    unsigned index = DIS_MNEM_COUNT;
    if (hx->emul.insn_len) {
        int n = dis_decode(hx->emul.insn, hx->emul.insn_len, code_mode(c), &in);
        name = n > 0 ? dis_mnem_name(in.mnem) : "(undecodable)";
        index = n > 0 ? in.mnem : DIS_MNEM_COUNT + 1;
    }
    vm->cnt.rem_steps++;
    em_count_step(vm, name, index);
}

static void stop_unimplemented(struct vm *vm, const struct em_vcpu *v, const struct vmm_exit *hx,
                               const struct vmm_exit *rx)
{
    char bytes[15 * 3 + 1];
    /* rem read the bytes itself through the guest's paging; hm's are the fallback */
    const struct vmm_exit *b = rx->emul.insn_len ? rx : hx;
    em_format_bytes(bytes, sizeof(bytes), b->emul.insn, b->emul.insn_len);
    const struct cpum_ctx *c = &v->cpu.ctx;
    em_stop(vm, VM_STATE_ABORTED, VM_STOP_EMULATION_FAILURE, -1, CAP_OK,
            "emulation failure at %04x:%08" PRIx64 " (linear 0x%" PRIx64 ", CPL %u): the host "
            "cannot emulate the instruction bytes [%s], and they are not implemented in rem "
            "either",
            c->seg[CPUM_CS].sel, c->rip, b->emul.rip, cpum_cpl(c), bytes);
}

void em_step_in_rem(struct vm *vm, struct em_vcpu *v)
{
    const struct vmm_exit hx = v->exit; /* hm's report, for the message */
    cap_result rc = hwaccm_vcpu_import(v->hv, CPUM_STATE_ALL);
    if (CAP_FAILED(rc)) {
        em_fail(vm, rc, "fetching the vCPU state from hm for rem");
        return;
    }
    uint64_t t0 = em_now_ns();
    const struct cpum_msrs msrs = v->cpu.ctx.msr;
    rc = rem_vcpu_step_one(v->rv, &v->exit);
    /* Pushing the MSRs back would set the TSC to the value imported before
     * the step, moving the guest's clock back: only when rem changed one. */
    if (!memcmp(&msrs, &v->cpu.ctx.msr, sizeof(msrs)))
        v->cpu.dirty &= ~CPUM_STATE_MSRS;
    vm->cnt.rem_ns += em_now_ns() - t0;
    if (CAP_FAILED(rc)) {
        em_fail(vm, rc, "stepping an instruction in rem");
        return;
    }
    if (v->exit.reason == VMM_EXIT_EMULATION_FAILURE) {
        stop_unimplemented(vm, v, &hx, &v->exit);
        return;
    }
    count_step(vm, &v->cpu.ctx, &hx);
    if (v->exit.reason == VMM_EXIT_NONE)
        return;
    em_handle_exit(vm, v); /* port I/O, HLT, triple fault: as for any exit */
    if (v->exit.reason == VMM_EXIT_IO && !v->exit.io.write) {
        rc = rem_vcpu_complete_io(v->rv); /* the IN gets its data before hm goes on */
        if (CAP_FAILED(rc))
            em_fail(vm, rc, "completing an IN stepped in rem");
    }
}
