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
 * next interrupt-window poll). A kick already armed for no later than that
 * stays (at worst one early exit), so most turns cost no system call. */
void em_kick_timer_arm(struct vm *vm, struct em_vcpu *v)
{
    if (!v->kick_timer)
        return;
    uint64_t ns = tm_ns_until_next(vm->tm);
    if (v->irq_window && vm->slow_irq_window && ns > EM_IRQ_WINDOW_POLL_NS)
        ns = EM_IRQ_WINDOW_POLL_NS;
    if (ns == TM_NO_DEADLINE)
        return;
    uint64_t now = em_now_ns(), at = now + (ns ? ns : 1);
    if (v->kick_at_ns > now && v->kick_at_ns <= at)
        return;
    struct itimerspec its = {.it_value = {.tv_sec = (time_t)(at / 1000000000ull),
                                          .tv_nsec = (long)(at % 1000000000ull)}};
    if (timer_settime(v->kick_timer->id, TIMER_ABSTIME, &its, NULL) == 0)
        v->kick_at_ns = at;
}
