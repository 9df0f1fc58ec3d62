/*
 * em_raw.c - the raw engine behind EM's ops table (struct em_engine_ops):
 * guest 64-bit user code runs natively in raw (vmm/raw), everything else -
 * the guest kernel, real, protected and compatibility mode, and the
 * instruction at which user code left raw - in rem, on the same CPUM
 * context, with rem's interrupt delivery and kicks.
 *
 * One run is one stretch: if the context is user code raw can run (and
 * raw has not just handed it an instruction to execute again), a raw run
 * until user code leaves; then rem, told to stop as soon as the guest is
 * about to run such user code again (rem_vcpu_set_user_stop), so the
 * fault, SYSCALL or INT n is executed by rem through the guest's own IDT
 * and LSTAR and the kernel runs in rem until its IRETQ/SYSRETQ. A kick in
 * raw returns to the loop at once (VMM_EXIT_INTERRUPTED), which then
 * hands the interrupt to rem like any other (rem_vcpu_inject_irq only
 * queues it), and this turn runs rem, which delivers it first.
 *
 * raw drops KVM's translations when rem's count of guest invalidations
 * (MOV CR3, INVLPG, paging bits) moved since its last run: x86 requires
 * one after an entry lost rights, so KVM never runs user code on a
 * translation the guest has taken away.
 *
 * `auto` never picks raw yet (em_stats.c: em_choose_engine): raw wins only
 * on long user stretches on this host (tools/probes/raw/README.md), and
 * the per-stretch choice that would measure it is still to come.
 */
#include "em_internal.h"
#include "tm/tm.h"

static cap_result raw_run(struct vm *vm, struct em_vcpu *v)
{
    /* an interrupt or NMI handed to rem this turn is delivered by rem first */
    if (!v->raw_reexec && !v->injected && raw_ctx_native(&v->cpu.ctx)) {
        if (!v->raw_tsc_set) {
            cap_result rc = raw_vcpu_set_tsc(v->xv, tm_tsc(vm->tm));
            if (CAP_FAILED(rc))
                return rc;
            v->raw_tsc_set = true;
        }
        struct raw_event ev;
        cap_result rc = raw_vcpu_run(v->xv, rem_vcpu_guest_invalidations(v->rv), &ev);
        if (CAP_FAILED(rc))
            return rc;
        if (ev.kind == RAW_EV_KICK) {
            v->exit.reason = VMM_EXIT_INTERRUPTED;
            return CAP_OK;
        }
        v->raw_reexec = true; /* rem executes that instruction first */
    }
    uint64_t t0 = em_now_ns(), insns = rem_vcpu_insns(v->rv);
    rem_vcpu_set_user_stop(v->rv, CAP_TRUE);
    cap_result rc = rem_vcpu_run(v->rv, EM_REM_SLICE, &v->exit);
    if (rem_vcpu_insns(v->rv) != insns || !raw_ctx_native(&v->cpu.ctx))
        v->raw_reexec = false;
    raw_vcpu_account_rem(v->xv, em_now_ns() - t0);
    return rc;
}

static cap_bool raw_irq_ready(struct em_vcpu *v)
{
    return rem_vcpu_irq_ready(v->rv);
}
static cap_result raw_inject(struct em_vcpu *v, uint8_t vec)
{
    return rem_vcpu_inject_irq(v->rv, vec);
}
static cap_result raw_inject_nmi(struct em_vcpu *v)
{
    return rem_vcpu_inject_nmi(v->rv);
}
static void raw_window(struct em_vcpu *v, cap_bool on)
{
    rem_vcpu_request_irq_window(v->rv, on);
}

/* Either may be running: both are told (async-signal-safe stores). */
static void raw_kick(struct em_vcpu *v)
{
    raw_vcpu_kick(v->xv);
    rem_vcpu_kick(v->rv);
}

static void raw_clear_kick(struct em_vcpu *v)
{
    raw_vcpu_clear_kick(v->xv);
    rem_vcpu_clear_kick(v->rv);
}

static void raw_reset(struct em_vcpu *v)
{
    rem_vcpu_reset(v->rv);
    v->raw_reexec = false;
    v->raw_tsc_set = false;
}

const struct em_engine_ops em_raw_ops = {
    .engine = VM_ENGINE_RAW,
    .run = raw_run,
    .irq_ready = raw_irq_ready,
    .inject_irq = raw_inject,
    .inject_nmi = raw_inject_nmi,
    .request_irq_window = raw_window,
    .kick = raw_kick,
    .clear_kick = raw_clear_kick,
    .reset = raw_reset,
};
