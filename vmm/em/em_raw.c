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
 * Under `auto` (vm.c: auto_raw; where auto picked rem for guest kernel
 * code and raw's context passed its probe) raw runs a user stretch only
 * while stretches pay: a round trip costs ~60 us and a flush ~0.1-10 ms on
 * this host, worth 10^4-10^6 instructions of rem. After each raw run EM
 * weighs it (judge): the run's native user time - the run minus the
 * flush and the probe's round trip - times rem's slowdown (rem's ns per
 * instruction from the auto probe over raw's native ones from raw's probe,
 * both on a `dec; jnz` loop) against what the run cost; and the run, less
 * its flush, must last more than 3 round trips (a round trip alone takes
 * 1-3x the probe's best on a loaded host: below that the clock cannot
 * tell user time from noise). A stretch that did not pay keeps user code in rem for a while (1 ms,
 * doubling with each further one up to 128 ms; rem then runs without the user stop), and the next
 * stretch after that tries raw again; one that paid resets it. So a boot, whose user stretches are
 * short and flush-heavy, stays mostly in rem, and a compute job goes native within 128 ms. The
 * slowdown measured on a tight loop is rem's best case (rem's JIT on real code is slower still), so
 * the rule errs towards rem. /EM/Raw/{Paid,Unpaid,KeptInRem}.
 */
#include "em_internal.h"
#include "tm/tm.h"

#define RAW_BACKOFF_MIN_NS 1000000ull   /* the first stay in rem after an unpaid stretch */
#define RAW_BACKOFF_MAX_NS 128000000ull /* the longest: a compute job waits at most this */
#define RAW_NOISE_TRIPS    3u           /* a paying stretch: > this many round trips */

/* auto: whether the stretch raw just ran paid (see the top of the file). */
static void judge(struct vm *vm, struct em_vcpu *v, const struct raw_event *ev)
{
    uint64_t overhead = v->raw_rt_ns + ev->flush_ns;
    double user = ev->run_ns > overhead ? (double)(ev->run_ns - overhead) : 0.0;
    /* a round trip takes 1-3x the probe's best under load: only a stretch
     * well above that has user time the clock can tell from noise */
    if (ev->run_ns >= ev->flush_ns + RAW_NOISE_TRIPS * v->raw_rt_ns &&
        user * v->raw_speedup >= (double)ev->run_ns) {
        vm->cnt.raw_paid++;
        v->raw_backoff_ns = 0;
        return;
    }
    vm->cnt.raw_unpaid++;
    v->raw_backoff_ns = !v->raw_backoff_ns                           ? RAW_BACKOFF_MIN_NS
                        : v->raw_backoff_ns < RAW_BACKOFF_MAX_NS / 2 ? 2 * v->raw_backoff_ns
                                                                     : RAW_BACKOFF_MAX_NS;
    v->raw_rem_until = em_now_ns() + v->raw_backoff_ns;
}

static cap_result raw_run(struct vm *vm, struct em_vcpu *v)
{
    /* an interrupt or NMI handed to rem this turn is delivered by rem first */
    bool native = !v->raw_reexec && !v->injected && raw_ctx_native(&v->cpu.ctx);
    bool wanted = !v->raw_adaptive || !v->raw_rem_until || em_now_ns() >= v->raw_rem_until;
    if (native && !wanted)
        vm->cnt.raw_kept_in_rem++;
    if (native && wanted) {
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
        if (v->raw_adaptive)
            judge(vm, v, &ev);
        if (ev.kind == RAW_EV_KICK) {
            v->exit.reason = VMM_EXIT_INTERRUPTED;
            return CAP_OK;
        }
        v->raw_reexec = true; /* rem executes that instruction first */
    }
    uint64_t t0 = em_now_ns(), insns = rem_vcpu_insns(v->rv);
    rem_vcpu_set_user_stop(v->rv, wanted); /* kept in rem: a whole slice, user code too */
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
    v->raw_backoff_ns = v->raw_rem_until = 0;
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
