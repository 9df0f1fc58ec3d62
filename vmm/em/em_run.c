/*
 * em_run.c - the vCPU loop, on the vCPU's own thread (the EMT).
 *
 * Each turn: re-arm the engine (clear the kick), act on requests (stop,
 * reset, pause), run the expired device timers, deliver a pending
 * interrupt or ask for an interrupt window, sleep while halted, then run
 * the engine until its next exit and handle that exit. Port and MMIO exits
 * run the expired timers first, so the guest never reads device state
 * older than the clock (a timer that expired while the guest spun
 * without exits has latched its interrupt before the guest looks).
 *
 * A guest may run for a long time without an exit (a busy-wait loop), so
 * the engine is not left alone past the next timer deadline: a per-vCPU
 * host timer sends EM_KICK_SIGNAL to this thread at that moment, and its
 * handler sets the engine's kick, so the run ends even if the signal
 * lands just before KVM_RUN. On hosts that report interrupt windows late
 * (KVM without VT-x/AMD-V: only at the host's next tick, ~1 ms, for a
 * guest spinning in CPL0) the same timer also kicks every
 * EM_IRQ_WINDOW_POLL_NS while an interrupt waits for the guest's IF, and
 * the loop then injects it itself.
 *
 * The turn after an I/O exit is the hot path (tests/bench/vm measures it),
 * so it takes no lock and makes no system call of its own: two clock reads
 * (the run's start and end, for the statistics; the end also serves as
 * "now" for the timer checks), TM's lock-free "anything due?" before PDM's
 * timer poll, a kick timer left alone while its expiry still covers the
 * next deadline, an interrupt window only told to the engine when it
 * changes. The registers come from kvm_run's sync area (hwaccm); IOM's
 * port lookup and PDM's device lock are the rest.
 *
 * The engine is hm or rem behind struct em_engine_ops (em_engine.c); both
 * report the same exits, so everything below serves both. Under hm an
 * emulation failure is not the end: rem executes that instruction and the
 * loop goes on in hm (em_step_in_rem). Under `auto` with hm picked, each
 * turn may also hand the vCPU to the other engine when the guest changed
 * mode (em_mode.c: rem runs real-mode code).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <capsule/errorinfo.h>

#include "em_internal.h"
#include "iom/iom.h"
#include "pdm.h"
#include "tm/tm.h"

static uint32_t requests(struct vm *vm)
{
    return __atomic_load_n(&vm->requests, __ATOMIC_SEQ_CST);
}

static bool intr_pending(struct vm *vm)
{
    return __atomic_load_n(&vm->intr_level, __ATOMIC_SEQ_CST) != 0;
}

static bool nmi_pending(struct vm *vm)
{
    return __atomic_load_n(&vm->nmi_pending, __ATOMIC_SEQ_CST) != 0;
}

void em_fail(struct vm *vm, cap_result rc, const char *what)
{
    const char *msg = cap_error_peek_message();
    em_stop(vm, VM_STATE_ABORTED, VM_STOP_ERROR, -1, rc, "%s failed: %s (%s)", what,
            msg ? msg : "no details", vmm_result_name(rc));
}

void em_poll_timers(struct vm *vm, uint64_t now)
{
    /* Lock-free: PDM's lock only when a timer is due. The VM's TM runs on
     * CLOCK_MONOTONIC (vm.c), so EM's own timestamps compare directly. */
    uint64_t due = tm_due_host(vm->tm);
    bool poll = due == TM_NO_DEADLINE ? tm_due(vm->tm) /* paused: no clock read */
                                      : (now ? now : em_now_ns()) >= due;
    if (poll)
        pdm_poll_timers(vm->pdm);
}

/* ---- exits --------------------------------------------------------------- */

static void handle_io(struct vm *vm, const struct vmm_exit *x)
{
    unsigned size = x->io.size;
    em_poll_timers(vm, vm->vcpu.exit_ns);
    em_count_port(vm, x->io.port, x->io.write, x->io.count);
    for (uint32_t i = 0; i < x->io.count; i++) {
        uint8_t *p = x->io.data + (size_t)i * size;
        uint32_t v = 0;
        cap_result rc;
        if (x->io.write) {
            memcpy(&v, p, size);
            rc = iom_io_write(vm->iom, x->io.port, size, v);
        } else {
            rc = iom_io_read(vm->iom, x->io.port, size, &v);
            memcpy(p, &v, size);
        }
        vm->cnt.io_ops++;
        if (CAP_FAILED(rc)) {
            em_fail(vm, rc, "port I/O dispatch");
            return;
        }
    }
}

static void handle_mmio(struct vm *vm, const struct vmm_exit *x)
{
    em_poll_timers(vm, vm->vcpu.exit_ns);
    cap_result rc = x->mmio.write ? pgm_phys_write(vm->pgm, x->mmio.gpa, x->mmio.data, x->mmio.size)
                                  : pgm_phys_read(vm->pgm, x->mmio.gpa, x->mmio.data, x->mmio.size);
    if (CAP_FAILED(rc))
        em_fail(vm, rc, "MMIO dispatch");
}

/* hm: rem executes the instruction and hm goes on (em_engine.c); rem
 * itself: an instruction it does not implement stops the VM. */
static void handle_emulation_failure(struct vm *vm, struct em_vcpu *v)
{
    if (v->ops->engine == VM_ENGINE_HM) {
        em_step_in_rem(vm, v);
        return;
    }
    const struct vmm_exit *x = &v->exit;
    char bytes[15 * 3 + 1];
    em_format_bytes(bytes, sizeof(bytes), x->emul.insn, x->emul.insn_len);
    const struct cpum_ctx *c = &v->cpu.ctx;
    em_stop(vm, VM_STATE_ABORTED, VM_STOP_EMULATION_FAILURE, -1, CAP_OK,
            "emulation failure at %04x:%08" PRIx64 " (linear 0x%" PRIx64 ", CPL %u): the "
            "instruction bytes [%s] are not implemented in rem",
            c->seg[CPUM_CS].sel, c->rip, x->emul.rip, cpum_cpl(c), bytes);
}

/* The exits that stop the VM, with the registers in the message. */
static void handle_fatal_exit(struct vm *vm, struct em_vcpu *v)
{
    const struct vmm_exit *x = &v->exit;
    const struct cpum_ctx *c = &v->cpu.ctx;
    const char *who = v->ops->engine == VM_ENGINE_REM ? "rem" : hwaccm_backend_name();
    switch (x->reason) {
    case VMM_EXIT_SHUTDOWN:
        em_stop(vm, VM_STATE_ABORTED, VM_STOP_TRIPLE_FAULT, -1, CAP_OK,
                "triple fault at %04x:%08" PRIx64 " (CR0 0x%" PRIx64 ", IDTR limit 0x%x)",
                c->seg[CPUM_CS].sel, c->rip, c->cr0, c->idtr.limit);
        break;
    case VMM_EXIT_INTERNAL_ERROR:
        em_stop(vm, VM_STATE_ABORTED, VM_STOP_ERROR, -1, VMM_E_HOSTDRV,
                "%s internal error (suberror %u) at %04x:%08" PRIx64, who,
                x->emul.suberror, c->seg[CPUM_CS].sel, c->rip);
        break;
    case VMM_EXIT_FAIL_ENTRY:
        em_stop(vm, VM_STATE_ABORTED, VM_STOP_ERROR, -1, VMM_E_HOSTDRV,
                "%s refused the guest state (entry failure 0x%" PRIx64 ") at %04x:%08" PRIx64,
                who, x->fail_entry.reason, c->seg[CPUM_CS].sel, c->rip);
        break;
    case VMM_EXIT_UNKNOWN:
        em_stop(vm, VM_STATE_ABORTED, VM_STOP_ERROR, -1, VMM_E_HOSTDRV,
                "unexpected %s exit %u at %04x:%08" PRIx64, who,
                x->unknown.code, c->seg[CPUM_CS].sel, c->rip);
        break;
    default: break;
    }
}

void em_handle_exit(struct vm *vm, struct em_vcpu *v)
{
    const struct vmm_exit *x = &v->exit;
    if ((unsigned)x->reason < EM_EXIT_REASONS)
        vm->cnt.exits[x->reason]++;
    switch (x->reason) {
    case VMM_EXIT_IO:
        handle_io(vm, x);
        break;
    case VMM_EXIT_MMIO:
        handle_mmio(vm, x);
        break;
    case VMM_EXIT_HLT:
        v->halted = true;
        break;
    case VMM_EXIT_RESET:
        em_request(vm, EM_REQ_RESET);
        break;
    case VMM_EXIT_EMULATION_FAILURE:
        handle_emulation_failure(vm, v);
        break;
    case VMM_EXIT_MSR:
        em_hm_msr(vm, v);
        break;
    case VMM_EXIT_SHUTDOWN:
    case VMM_EXIT_INTERNAL_ERROR:
    case VMM_EXIT_FAIL_ENTRY:
    case VMM_EXIT_UNKNOWN:
        handle_fatal_exit(vm, v);
        break;
    default: break; /* IRQ window, interrupted, debug: just loop */
    }
}

/* ---- interrupts, HLT, reset, pause --------------------------------------- */

static void request_window(struct em_vcpu *v, bool on)
{
    if (v->irq_window == on)
        return; /* the engine has it already: most turns change nothing */
    v->irq_window = on;
    v->ops->request_irq_window(v, on ? CAP_TRUE : CAP_FALSE);
}

/* An NMI goes to the engine at once: IF does not hold it back, and the
 * engine keeps the guest's NMI blocking (held until the handler's IRET).
 * It wakes a HLT. No external interrupt goes in on the same turn: the NMI
 * handler is entered first, with IF cleared by its gate. */
static void deliver_nmi(struct vm *vm, struct em_vcpu *v)
{
    if (!__atomic_exchange_n(&vm->nmi_pending, 0, __ATOMIC_SEQ_CST))
        return;
    cap_result rc = v->ops->inject_nmi(v);
    if (CAP_FAILED(rc)) {
        em_fail(vm, rc, "NMI injection");
        return;
    }
    v->injected = true;
    v->halted = false;
    vm->cnt.nmis_injected++;
}

static void deliver_interrupt(struct vm *vm, struct em_vcpu *v)
{
    if (v->injected || !intr_pending(vm)) {
        request_window(v, false);
        return;
    }
    if (!v->ops->irq_ready(v)) {
        if (!v->irq_window)
            vm->cnt.irq_windows++;
        request_window(v, true);
        return;
    }
    request_window(v, false);
    int vec = pdm_get_interrupt(vm->pdm); /* INTA */
    if (vec < 0)
        return; /* spurious: the PIC lowered INTR itself */
    cap_result rc = v->ops->inject_irq(v, (uint8_t)vec);
    if (CAP_FAILED(rc)) {
        em_fail(vm, rc, "interrupt injection");
        return;
    }
    v->injected = true;
    v->halted = false;
    vm->cnt.irqs_injected++;
}

/* Sleeps until an interrupt the guest can take, a request or the next timer
 * deadline. Returns with v->halted cleared when the guest should run. */
static void halt_wait(struct vm *vm, struct em_vcpu *v)
{
    uint64_t t0 = em_now_ns();
    vm->cnt.halt.count++; /* now: "has halted" holds during the first wait */
    pthread_mutex_lock(&vm->lock);
    for (;;) {
        if (requests(vm))
            break;
        if (nmi_pending(vm))
            break; /* the loop hands it over and clears v->halted */
        if (intr_pending(vm) && (v->cpu.ctx.rflags & RFLAGS_IF)) {
            v->halted = false;
            break;
        }
        uint64_t ns = tm_ns_until_next(vm->tm);
        if (ns == 0)
            break; /* a timer is due: back to the loop, which polls it */
        if (ns == TM_NO_DEADLINE) {
            pthread_cond_wait(&vm->cond, &vm->lock);
            continue;
        }
        struct timespec dl;
        clock_gettime(CLOCK_MONOTONIC, &dl);
        uint64_t t = (uint64_t)dl.tv_nsec + ns;
        dl.tv_sec += (time_t)(t / 1000000000ull);
        dl.tv_nsec = (long)(t % 1000000000ull);
        if (pthread_cond_timedwait(&vm->cond, &vm->lock, &dl) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&vm->lock);
    vm->cnt.halt.total_ns += em_now_ns() - t0;
}

static void do_reset(struct vm *vm, struct em_vcpu *v)
{
    __atomic_and_fetch(&vm->requests, ~EM_REQ_RESET, __ATOMIC_SEQ_CST);
    vm->cnt.resets++;
    pdm_reset(vm->pdm);
    __atomic_store_n(&vm->intr_level, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&vm->nmi_pending, 0, __ATOMIC_SEQ_CST);
    cpum_reset(&v->cpu, CPUM_RESET_POWER_ON);
    if (v->ops->reset)
        v->ops->reset(v);
    v->irq_window = false; /* request_window skips what it thinks unchanged */
    v->ops->request_irq_window(v, CAP_FALSE);
    v->halted = false;
    v->exit.reason = VMM_EXIT_NONE; /* no IN in flight any more (em_mode_update) */
    em_log_guest(vm, EM_COMPONENT, VM_LOG_INFO, "reset");
    if (vm->cfg.reset_hook) {
        cap_result rc = vm->cfg.reset_hook(vm->cfg.reset_ctx, vm);
        if (CAP_FAILED(rc))
            em_fail(vm, rc, "reloading the boot image after reset");
    }
}

/* Before the VM counts as paused, the context is whole in CPUM (a saved
 * state reads it from another thread): an I/O or MMIO access the engine
 * has in flight completed (EM answered it already: KVM finishes it at its
 * next entry, which immediate_exit makes one that runs no guest code;
 * rem's IN gets its data), then hm's state imported. */
static void sync_for_pause(struct vm *vm, struct em_vcpu *v)
{
    cap_result rc = CAP_OK;
    if (v->ops == &em_hm_ops) {
        if (v->exit.reason == VMM_EXIT_IO || v->exit.reason == VMM_EXIT_MMIO) {
            hwaccm_vcpu_kick(v->hv);
            rc = hwaccm_vcpu_run(v->hv, &v->exit);
            hwaccm_vcpu_clear_kick(v->hv);
            if (CAP_SUCCEEDED(rc) && v->exit.reason != VMM_EXIT_INTERRUPTED)
                em_handle_exit(vm, v); /* not expected: KVM enters no guest code */
        }
        if (CAP_SUCCEEDED(rc) && v->cpu.extrn)
            rc = hwaccm_vcpu_import(v->hv, CPUM_STATE_ALL);
    } else if (v->ops == &em_rem_ops) {
        rc = rem_vcpu_complete_io(v->rv);
    }
    if (CAP_FAILED(rc))
        em_fail(vm, rc, "syncing the vCPU's state at pause");
}

static void park(struct vm *vm)
{
    sync_for_pause(vm, &vm->vcpu);
    pthread_mutex_lock(&vm->lock);
    tm_pause(vm->tm);
    em_set_state_locked(vm, VM_STATE_PAUSED);
    em_log(vm, EM_COMPONENT, VM_LOG_INFO, "paused");
    while ((requests(vm) & (EM_REQ_PAUSE | EM_REQ_STOP)) == EM_REQ_PAUSE)
        pthread_cond_wait(&vm->cond, &vm->lock);
    if (!(requests(vm) & EM_REQ_STOP)) {
        tm_resume(vm->tm);
        vm->vcpu.raw_tsc_set = false; /* raw's KVM TSC ran on while TM was paused */
        em_set_state_locked(vm, VM_STATE_RUNNING);
        em_log(vm, EM_COMPONENT, VM_LOG_INFO, "resumed");
    }
    pthread_mutex_unlock(&vm->lock);
}

/* ---- the loop ------------------------------------------------------------ */

static void run_once(struct vm *vm, struct em_vcpu *v)
{
    em_kick_timer_arm(vm, v);
    uint64_t t0 = em_now_ns();
    if (!vm->first_run_ns)
        __atomic_store_n(&vm->first_run_ns, t0, __ATOMIC_RELAXED);
    cap_result rc = v->ops->run(vm, v);
    v->exit_ns = em_now_ns();
    uint64_t dt = v->exit_ns - t0;
    if (v->ops->engine == VM_ENGINE_REM)
        vm->cnt.rem_ns += dt;
    else if (v->ops->engine == VM_ENGINE_HM)
        vm->cnt.hm_ns += dt; /* raw splits its time itself (/RAW/RawNs, /RAW/RemNs) */
    vm->cnt.runs++;
    v->injected = false;
    if (CAP_FAILED(rc))
        em_fail(vm, rc, "running the vCPU");
    else
        em_handle_exit(vm, v);
}

void *em_vcpu_main(void *arg)
{
    struct vm *vm = arg;
    struct em_vcpu *v = &vm->vcpu;
    em_kick_timer_create(vm, v);
    for (;;) {
        /* Right after a run, the time of its exit (taken for the
         * statistics) serves as now; a timer falling due since then gets
         * its kick at once. Any other turn reads the clock. */
        uint64_t now = v->exit_ns;
        v->exit_ns = 0;
        v->ops->clear_kick(v);
        uint32_t req = requests(vm);
        if (req & EM_REQ_STOP)
            break;
        if (req & EM_REQ_RESET) {
            do_reset(vm, v);
            continue;
        }
        if (req & EM_REQ_PAUSE) {
            park(vm);
            continue;
        }
        em_mode_update(vm, v); /* before anything goes into the engine */
        em_poll_timers(vm, now);
        deliver_nmi(vm, v);
        deliver_interrupt(vm, v);
        if (v->halted) {
            halt_wait(vm, v);
            continue;
        }
        run_once(vm, v);
    }
    em_kick_timer_delete(v);
    em_log_flush_suppressed(vm);
    pthread_mutex_lock(&vm->lock);
    tm_pause(vm->tm);
    vm->uptime_ns = em_now_ns() - vm->start_ns;
    __atomic_store_n(&vm->threads_done, true, __ATOMIC_RELEASE); /* after uptime_ns */
    em_set_state_locked(vm, vm->stop_final == VM_STATE_ABORTED ? VM_STATE_ABORTED
                                                                : VM_STATE_POWERED_OFF);
    pthread_cond_broadcast(&vm->cond);
    pthread_mutex_unlock(&vm->lock);
    return NULL;
}
