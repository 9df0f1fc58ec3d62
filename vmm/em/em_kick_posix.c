/*
 * em_kick_posix.c - the per-vCPU kick timer on POSIX hosts (Linux).
 *
 * A guest may run for a long time without an exit, so EM does not leave
 * the engine alone past the next device-timer deadline: a POSIX timer
 * delivers EM_KICK_SIGNAL to the vCPU thread itself (SIGEV_THREAD_ID), and
 * em_ctl.c's handler sets the engine's kick. A Windows host gets its own
 * em_kick_<os>.c (a waitable timer that cancels the run), chosen by the
 * build. Every function here runs on the vCPU thread.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <capsule/mem.h>

#include "em_internal.h"
#include "tm/tm.h"

struct em_kick_timer {
    timer_t id;
};

void em_kick_timer_create(struct vm *vm, struct em_vcpu *v)
{
    struct sigevent se;
    memset(&se, 0, sizeof(se));
    se.sigev_notify = SIGEV_THREAD_ID;
    se.sigev_signo = EM_KICK_SIGNAL;
    se.sigev_value.sival_ptr = v; /* em_ctl.c's handler kicks its engine */
    se._sigev_un._tid = (pid_t)syscall(SYS_gettid);
    v->kick_at_ns = 0;
    struct em_kick_timer *k = cap_alloc(sizeof(*k));
    if (k && timer_create(CLOCK_MONOTONIC, &se, &k->id) == 0) {
        v->kick_timer = k;
        return;
    }
    int err = k ? errno : ENOMEM;
    cap_free(k);
    v->kick_timer = NULL;
    em_log(vm, EM_COMPONENT, VM_LOG_WARN,
           "no kick timer (%s): device timers fire only at the guest's exits", strerror(err));
}

void em_kick_timer_delete(struct em_vcpu *v)
{
    if (v->kick_timer) {
        timer_delete(v->kick_timer->id);
        cap_free(v->kick_timer);
    }
    v->kick_timer = NULL;
}

/* Before a run: makes sure a kick comes by the next timer deadline (or the
 * next interrupt-window poll). A kick still to come no later than that
 * stays (at worst one early exit): kick_at_ns is set before the timer is
 * and cleared by the signal handler when it fires (em_ctl.c), so the usual
 * turn - deadline unchanged - costs an atomic load and no system call or
 * clock read. TM's host time is CLOCK_MONOTONIC (vm.c gives the VM's clock
 * no source of its own), the timer's clock. */
void em_kick_timer_arm(struct vm *vm, struct em_vcpu *v)
{
    if (!v->kick_timer)
        return;
    uint64_t at = tm_due_host(vm->tm);
    if (v->irq_window && vm->slow_irq_window) {
        uint64_t poll = em_now_ns() + EM_IRQ_WINDOW_POLL_NS;
        if (poll < at)
            at = poll;
    }
    if (at == TM_NO_DEADLINE)
        return;
    if (at == 0)
        at = 1; /* due already: fire at once (an it_value of 0 would disarm) */
    uint64_t armed = __atomic_load_n(&v->kick_at_ns, __ATOMIC_RELAXED);
    if (armed && armed <= at)
        return;
    /* Before the timer: one that fires at once must find its mark to clear. */
    __atomic_store_n(&v->kick_at_ns, at, __ATOMIC_RELAXED);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    struct itimerspec its = {.it_value = {.tv_sec = (time_t)(at / 1000000000ull),
                                          .tv_nsec = (long)(at % 1000000000ull)}};
    if (timer_settime(v->kick_timer->id, TIMER_ABSTIME, &its, NULL) != 0)
        __atomic_store_n(&v->kick_at_ns, 0, __ATOMIC_RELAXED);
}
