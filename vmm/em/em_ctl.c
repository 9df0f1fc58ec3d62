/*
 * em_ctl.c - the VM's lifecycle as seen from other threads: the state
 * table, requests (pause, resume, reset, power off) and how they reach a
 * vCPU that is inside the engine or asleep in HLT.
 *
 * A request sets a bit in vm->requests under vm->lock, broadcasts the
 * condition variable (a halted vCPU sleeps on it), then kicks the engine:
 * under hm, hwaccm_vcpu_kick sets kvm_run->immediate_exit so the next
 * KVM_RUN returns at once, and EM_KICK_SIGNAL interrupts a KVM_RUN already
 * in progress; under rem, rem_vcpu_kick sets the flag rem checks before
 * every instruction. The vCPU clears the kick before it reads the request
 * bits, so a request is either seen by that read or makes the following run
 * return immediately.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include <capsule/errorinfo.h>

#include "em_internal.h"
#include "tm/tm.h"

uint64_t em_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- the state table ----------------------------------------------------- */

cap_bool vm_state_allows(enum vm_state s, enum vm_action a)
{
    switch (a) {
    case VM_ACT_START: return s == VM_STATE_CREATED;
    case VM_ACT_PAUSE: return s == VM_STATE_RUNNING;
    case VM_ACT_RESUME: return s == VM_STATE_PAUSED;
    case VM_ACT_RESET:
    case VM_ACT_POWER_OFF: return s == VM_STATE_RUNNING || s == VM_STATE_PAUSED;
    }
    return CAP_FALSE;
}

const char *vm_state_name(enum vm_state s)
{
    static const char *const n[] = {"created", "running", "paused", "powered-off", "aborted"};
    return (unsigned)s < sizeof(n) / sizeof(n[0]) ? n[s] : "?";
}

const char *vm_stop_reason_name(enum vm_stop_reason r)
{
    static const char *const n[] = {"none", "guest power-off", "power-off", "triple fault",
                                    "emulation failure", "error"};
    return (unsigned)r < sizeof(n) / sizeof(n[0]) ? n[r] : "?";
}

static const char *action_name(enum vm_action a)
{
    static const char *const n[] = {"start", "pause", "resume", "reset", "power off"};
    return n[a];
}

static cap_result bad_state(struct vm *vm, enum vm_action a)
{
    return cap_error_set(VMM_E_BAD_STATE, VMM_COMPONENT, NULL, "em: cannot %s a VM that is %s",
                         action_name(a), vm_state_name(vm->state));
}

void em_set_state_locked(struct vm *vm, enum vm_state s)
{
    if (vm->state == s)
        return;
    vm->state = s;
    pthread_cond_broadcast(&vm->cond);
    if (vm->cfg.state_changed)
        vm->cfg.state_changed(vm->cfg.state_ctx, vm, s);
}

/* ---- kicks and requests -------------------------------------------------- */

static void kick_handler(int sig)
{
    (void)sig; /* only there to make KVM_RUN return EINTR */
}

/* A vCPU's kick timer (em_kick_<host>.c) carries its struct em_vcpu: set
 * the engine's kick flag, so a KVM_RUN entered just after the signal still
 * returns at once and rem stops before its next instruction. An atomic
 * store: async-signal-safe. */
static void kick_action(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (si && si->si_code == SI_TIMER && si->si_value.sival_ptr) {
        struct em_vcpu *v = si->si_value.sival_ptr;
        __atomic_store_n(&v->kick_at_ns, 0, __ATOMIC_RELAXED); /* fired: re-arm next turn */
        em_engine_kick(v);
    } else {
        kick_handler(sig);
    }
}

static pthread_once_t kick_once = PTHREAD_ONCE_INIT;

static void install_kick_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = kick_action; /* no SA_RESTART */
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(EM_KICK_SIGNAL, &sa, NULL);
}

/* Call with vm->lock held. */
static void kick_locked(struct vm *vm)
{
    pthread_cond_broadcast(&vm->cond);
    if (!vm->vcpu.thread_started || vm->threads_done)
        return;
    em_engine_kick(&vm->vcpu);
    if (vm->vcpu.hv) /* KVM_RUN needs the signal; rem sees its flag without one */
        pthread_kill(vm->vcpu.thread, EM_KICK_SIGNAL);
    __atomic_add_fetch(&vm->cnt.kicks, 1, __ATOMIC_RELAXED);
}

void em_kick(struct vm *vm)
{
    pthread_mutex_lock(&vm->lock);
    kick_locked(vm);
    pthread_mutex_unlock(&vm->lock);
}

void em_request(struct vm *vm, uint32_t bits)
{
    bool self = vm->vcpu.thread_started && pthread_equal(pthread_self(), vm->vcpu.thread);
    pthread_mutex_lock(&vm->lock);
    __atomic_or_fetch(&vm->requests, bits, __ATOMIC_SEQ_CST);
    if (self)
        pthread_cond_broadcast(&vm->cond);
    else
        kick_locked(vm);
    pthread_mutex_unlock(&vm->lock);
}

void em_stop(struct vm *vm, enum vm_state final, enum vm_stop_reason reason, int exit_code,
             cap_result result, const char *fmt, ...)
{
    pthread_mutex_lock(&vm->lock);
    bool first = vm->stop.reason == VM_STOP_NONE;
    if (first) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(vm->stop.message, sizeof(vm->stop.message), fmt, ap);
        va_end(ap);
        vm->stop.reason = reason;
        vm->stop.exit_code = exit_code;
        vm->stop.result = result;
        vm->stop_final = final;
    }
    pthread_mutex_unlock(&vm->lock);
    if (!first)
        return;
    em_log(vm, EM_COMPONENT, final == VM_STATE_ABORTED ? VM_LOG_ERROR : VM_LOG_INFO, "%s%s",
           final == VM_STATE_ABORTED ? "aborted: " : "", vm->stop.message);
    em_request(vm, EM_REQ_STOP);
}

/* ---- the control API ----------------------------------------------------- */

cap_result vm_start(struct vm *vm)
{
    pthread_once(&kick_once, install_kick_handler);
    pthread_mutex_lock(&vm->lock);
    if (!vm_state_allows(vm->state, VM_ACT_START)) {
        cap_result rc = bad_state(vm, VM_ACT_START);
        pthread_mutex_unlock(&vm->lock);
        return rc;
    }
    vm->start_ns = em_now_ns();
    tm_resume(vm->tm);
    em_set_state_locked(vm, VM_STATE_RUNNING);
    int err = pthread_create(&vm->vcpu.thread, NULL, em_vcpu_main, vm);
    if (err) {
        tm_pause(vm->tm);
        vm->state = VM_STATE_CREATED;
        pthread_mutex_unlock(&vm->lock);
        return cap_error_set(VMM_E_HOSTDRV, VMM_COMPONENT, NULL,
                             "em: cannot start the vCPU thread: %s", strerror(err));
    }
    vm->vcpu.thread_started = true;
    pthread_mutex_unlock(&vm->lock);
    return CAP_OK;
}

cap_result vm_pause(struct vm *vm)
{
    pthread_mutex_lock(&vm->lock);
    if (!vm_state_allows(vm->state, VM_ACT_PAUSE)) {
        cap_result rc = bad_state(vm, VM_ACT_PAUSE);
        pthread_mutex_unlock(&vm->lock);
        return rc;
    }
    __atomic_or_fetch(&vm->requests, EM_REQ_PAUSE, __ATOMIC_SEQ_CST);
    kick_locked(vm);
    while (vm->state == VM_STATE_RUNNING && !vm->threads_done)
        pthread_cond_wait(&vm->cond, &vm->lock);
    cap_result rc = vm->state == VM_STATE_PAUSED ? CAP_OK : bad_state(vm, VM_ACT_PAUSE);
    pthread_mutex_unlock(&vm->lock);
    return rc;
}

cap_result vm_resume(struct vm *vm)
{
    pthread_mutex_lock(&vm->lock);
    if (!vm_state_allows(vm->state, VM_ACT_RESUME)) {
        cap_result rc = bad_state(vm, VM_ACT_RESUME);
        pthread_mutex_unlock(&vm->lock);
        return rc;
    }
    __atomic_and_fetch(&vm->requests, ~EM_REQ_PAUSE, __ATOMIC_SEQ_CST);
    pthread_cond_broadcast(&vm->cond);
    while (vm->state == VM_STATE_PAUSED && !vm->threads_done)
        pthread_cond_wait(&vm->cond, &vm->lock);
    pthread_mutex_unlock(&vm->lock);
    return CAP_OK;
}

static cap_result request_if(struct vm *vm, enum vm_action a, uint32_t bits)
{
    pthread_mutex_lock(&vm->lock);
    cap_bool ok = vm_state_allows(vm->state, a);
    cap_result rc = ok ? CAP_OK : bad_state(vm, a);
    pthread_mutex_unlock(&vm->lock);
    if (ok)
        em_request(vm, bits);
    return rc;
}

cap_result vm_reset(struct vm *vm)
{
    return request_if(vm, VM_ACT_RESET, EM_REQ_RESET);
}

cap_result vm_power_off(struct vm *vm)
{
    pthread_mutex_lock(&vm->lock);
    cap_bool ok = vm_state_allows(vm->state, VM_ACT_POWER_OFF);
    cap_result rc = ok ? CAP_OK : bad_state(vm, VM_ACT_POWER_OFF);
    pthread_mutex_unlock(&vm->lock);
    if (ok)
        em_stop(vm, VM_STATE_POWERED_OFF, VM_STOP_USER_POWER_OFF, -1, CAP_OK,
                "powered off on request");
    return rc;
}

enum vm_state vm_wait(struct vm *vm, int64_t timeout_ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    if (timeout_ms > 0) {
        dl.tv_sec += timeout_ms / 1000;
        dl.tv_nsec += (timeout_ms % 1000) * 1000000;
        if (dl.tv_nsec >= 1000000000) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000;
        }
    }
    pthread_mutex_lock(&vm->lock);
    while (!vm->threads_done && vm->state != VM_STATE_CREATED) {
        if (timeout_ms < 0)
            pthread_cond_wait(&vm->cond, &vm->lock);
        else if (timeout_ms == 0 || pthread_cond_timedwait(&vm->cond, &vm->lock, &dl) == ETIMEDOUT)
            break;
    }
    enum vm_state s = vm->state;
    pthread_mutex_unlock(&vm->lock);
    return s;
}

enum vm_state vm_get_state(struct vm *vm)
{
    pthread_mutex_lock(&vm->lock);
    enum vm_state s = vm->state;
    pthread_mutex_unlock(&vm->lock);
    return s;
}

void vm_get_stop_info(struct vm *vm, struct vm_stop_info *out)
{
    pthread_mutex_lock(&vm->lock);
    *out = vm->stop;
    pthread_mutex_unlock(&vm->lock);
}
