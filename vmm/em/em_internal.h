/*
 * vmm/em/em_internal.h - the VM object's private state, shared by vm.c
 * (create/destroy and the glue between PDM, IOM and PGM), em_run.c (the
 * vCPU loop), em_ctl.c (states and requests from other threads) and
 * em_stats.c (engine choice, statistics).
 */
#ifndef VMM_EM_INTERNAL_H
#define VMM_EM_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "em.h"
#include "hwaccm/hwaccm.h"

#define EM_COMPONENT "em"

/* Request bits in vm->requests (atomic; set under vm->lock, read anywhere). */
#define EM_REQ_PAUSE     (1u << 0)
#define EM_REQ_STOP      (1u << 1) /* power off / abort: vm->stop says why */
#define EM_REQ_RESET     (1u << 2)

struct em_vcpu {
    struct cpum_cpu cpu;        /* the context (first create) */
    struct hwaccm_vcpu *hv;     /* the engine's vCPU (create) */
    struct hwaccm_exit exit;    /* the last exit */
    pthread_t thread;
    bool thread_started;        /* vm_start .. join */
    bool halted;                /* in HLT, waiting for an interrupt */
    bool injected;              /* an interrupt went in; cleared by the next run */
    bool irq_window;            /* an interrupt window is requested for the next run */
    /* Kicks the vCPU out of the engine at the next TM deadline (and, on hosts
     * that report interrupt windows late, every EM_IRQ_WINDOW_POLL_NS while
     * one is requested): EM_KICK_SIGNAL at this thread, whose handler sets
     * the engine's kick. Created and deleted by the vCPU thread. */
    struct em_kick_timer *kick_timer; /* em_kick_<host>.c's; NULL: none */
    uint64_t kick_at_ns;        /* CLOCK_MONOTONIC expiry armed, 0: none */
};

/* The kick timer (em_kick_<host>.c), all on the vCPU thread: create at
 * the start of the loop, arm before each engine run, delete at its end. */
void em_kick_timer_create(struct vm *vm, struct em_vcpu *v);
void em_kick_timer_arm(struct vm *vm, struct em_vcpu *v);
void em_kick_timer_delete(struct em_vcpu *v);

/* How often a vCPU whose host delays interrupt-window exits is kicked to
 * look at IF itself while an interrupt waits (this host: ~1 ms late). */
#define EM_IRQ_WINDOW_POLL_NS 100000ull

struct vm {
    struct vm_config cfg;       /* copy (devices only read during create) */
    struct cpum_policy policy;
    struct pgm *pgm;
    struct iom *iom;
    struct tm_clock *tm;
    struct pdm *pdm;
    struct hwaccm *hm;
    enum vm_engine engine;
    struct em_vcpu vcpu;        /* vCPU 0; SMP later */

    pthread_mutex_t lock;       /* state, stop, requests' writers, wakeups */
    pthread_cond_t cond;        /* CLOCK_MONOTONIC: state changes, wakeups */
    enum vm_state state;
    struct vm_stop_info stop;
    enum vm_state stop_final;   /* the state the loop ends in (with stop) */
    uint32_t requests;          /* EM_REQ_*, atomic */
    int intr_level;             /* the CPU's INTR pin (PIC output), atomic */
    bool slow_irq_window;       /* engine reports IRQ windows late: poll (create) */
    bool threads_done;          /* every vCPU thread has left its loop */

    struct em_stats stats;      /* written by the vCPU thread */
    uint64_t start_ns;
    uint64_t *port_counts;      /* 65536 counters, calloc'ed (pages touched on use) */
};

uint64_t em_now_ns(void);
void em_log(struct vm *vm, const char *who, enum vm_log_level level, const char *fmt, ...)
    CAP_PRINTF(4, 5);

/* Records why the VM stops (first reason wins) and asks the loop to end:
 * final state POWERED_OFF or ABORTED. Any thread. */
void em_stop(struct vm *vm, enum vm_state final, enum vm_stop_reason reason, int exit_code,
             cap_result result, const char *fmt, ...) CAP_PRINTF(6, 7);
/* Sets request bits and kicks the vCPU out of the engine / its HLT wait. */
void em_request(struct vm *vm, uint32_t bits);
/* Wakes a halted vCPU and kicks a running one (from a non-vCPU thread). */
void em_kick(struct vm *vm);
void em_set_state_locked(struct vm *vm, enum vm_state s);

/* The vCPU thread's body (em_run.c). */
void *em_vcpu_main(void *arg);

#endif /* VMM_EM_INTERNAL_H */
