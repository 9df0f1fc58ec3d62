/*
 * vmm/em/em_internal.h - the VM object's private state, shared by vm.c
 * (create/destroy and the glue between PDM, IOM and PGM), em_run.c (the
 * vCPU loop), em_engine.c (the engines behind one ops table, rem stepping
 * in for hm), em_probe.c (the start-up measurement for `auto`), em_ctl.c
 * (states and requests from other threads) and em_stats.c (engine choice,
 * statistics).
 */
#ifndef VMM_EM_INTERNAL_H
#define VMM_EM_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "em.h"
#include "hwaccm/hwaccm.h"
#include "raw/raw.h"
#include "rem/rem.h"
#include "stam/stam.h"

#define EM_COMPONENT "em"

/* Request bits in vm->requests (atomic; set under vm->lock, read anywhere). */
#define EM_REQ_PAUSE     (1u << 0)
#define EM_REQ_STOP      (1u << 1) /* power off / abort: vm->stop says why */
#define EM_REQ_RESET     (1u << 2)

struct em_vcpu;

/*
 * One execution engine as the loop sees it (em_engine.c). Every member is
 * called on the vCPU thread except kick, which runs from any thread and
 * from a signal handler (so it must be async-signal-safe: an atomic store).
 */
struct em_engine_ops {
    enum vm_engine engine;
    /* Runs until the next exit, filling v->exit. Failures are the VMM's. */
    cap_result (*run)(struct vm *vm, struct em_vcpu *v);
    cap_bool (*irq_ready)(struct em_vcpu *v);
    cap_result (*inject_irq)(struct em_vcpu *v, uint8_t vector);
    /* Hands the engine an NMI (vector 2, whatever IF says). The engine
     * keeps NMI blocking itself: one NMI that arrives while the guest is
     * in its NMI handler is held until the IRET that ends it. */
    cap_result (*inject_nmi)(struct em_vcpu *v);
    void (*request_irq_window)(struct em_vcpu *v, cap_bool on);
    void (*kick)(struct em_vcpu *v);
    void (*clear_kick)(struct em_vcpu *v);
    /* After a reset put CPUM in its power-on state. NULL: nothing to do. */
    void (*reset)(struct em_vcpu *v);
};

extern const struct em_engine_ops em_hm_ops, em_rem_ops, em_raw_ops; /* raw: em_raw.c */

/* How many instructions rem runs before EM looks at requests and timers
 * again even without a kick (the kick timer ends a run at each device
 * deadline anyway): ~1 ms at rem's ~35 MIPS, ~0.1% of it in EM's turn. */
#define EM_REM_SLICE 32768u

/*
 * hm reported an emulation failure (v->exit): imports the whole state,
 * executes that one instruction in rem, handles what it exits for, marks
 * the state dirty for hm and returns; the loop goes on in hm. Stops the VM
 * naming the bytes when rem cannot run it either.
 */
void em_step_in_rem(struct vm *vm, struct em_vcpu *v);
/*
 * VMM_EXIT_MSR from hm: answers the RDMSR/WRMSR with CPUM's rules on the
 * vCPU's context (hwaccm.h says how); #GP(0) goes back through the exit
 * and is counted (/EM/MsrGPs).
 */
void em_hm_msr(struct vm *vm, struct em_vcpu *v);
/* The loop's exit handler (em_run.c), for the exits of such a step too. */
void em_handle_exit(struct vm *vm, struct em_vcpu *v);
/* Runs the expired device timers, if any (em_run.c): a lock-free check
 * against `now` (CLOCK_MONOTONIC ns; 0: read the clock if a timer is
 * armed) first, so an exit with nothing due costs no lock. vCPU thread. */
void em_poll_timers(struct vm *vm, uint64_t now);
/* Stops the VM with the error info of a failed VMM call (em_run.c). */
void em_fail(struct vm *vm, cap_result rc, const char *what);
/* "0f 03 c8" into buf (>= 46 bytes); "unreadable" when len is 0. */
void em_format_bytes(char *buf, size_t size, const uint8_t *bytes, unsigned len);

struct em_vcpu {
    struct cpum_cpu cpu;        /* the context (first create) */
    const struct em_engine_ops *ops; /* the engine in charge (create) */
    struct hwaccm_vcpu *hv;     /* hm's vCPU (create; NULL under rem) */
    struct rem_vcpu *rv;        /* rem's vCPU (create): the engine, or hm's helper */
    struct raw_vcpu *xv;        /* raw's vCPU (create; NULL unless the engine is raw) */
    bool raw_reexec;            /* raw handed rem an instruction to execute (em_raw.c) */
    bool raw_tsc_set;           /* raw's TSC was set from TM's (first run, reset, pause) */
    /* `auto` with raw (em_raw.c): raw only for user stretches that pay. Set at
     * create; the rest vCPU thread. */
    bool raw_adaptive;          /* raw runs a stretch only when it was paying */
    double raw_rem_ns;          /* rem's ns per instruction (the auto probe; create) */
    double raw_speedup;         /* rem's ns per instruction / raw's native ones (create) */
    uint64_t raw_rt_ns;         /* raw's round trip (its probe; create) */
    uint64_t raw_backoff_ns;    /* the next stay in rem after a stretch that did not pay */
    uint64_t raw_rem_until;     /* CLOCK_MONOTONIC: user code stays in rem until then */
    struct vmm_exit exit;       /* the last exit */
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
    uint64_t exit_ns;           /* CLOCK_MONOTONIC at the end of the last run; 0 once
                                 * the loop has used it (a turn without a run) */
    uint64_t kick_at_ns;        /* CLOCK_MONOTONIC expiry armed and not yet fired, 0:
                                 * none (atomic: the kick signal's handler clears it) */
    enum em_cpu_mode mode;      /* the mode EM last saw (EM_MODE_COUNT: none yet) */
    enum vm_engine want;        /* the engine for that mode (em_engine_for_mode) */
    uint32_t modes_logged;      /* bit per mode: its first entry was logged */
};

/* The kick timer (em_kick_<host>.c), all on the vCPU thread: create at
 * the start of the loop, arm before each engine run, delete at its end. */
void em_kick_timer_create(struct vm *vm, struct em_vcpu *v);
void em_kick_timer_arm(struct vm *vm, struct em_vcpu *v);
void em_kick_timer_delete(struct em_vcpu *v);

/* How often a vCPU whose host delays interrupt-window exits is kicked to
 * look at IF itself while an interrupt waits (this host: ~1 ms late). */
#define EM_IRQ_WINDOW_POLL_NS 100000ull

/* Guest-triggered log lines (em_log.c): a token bucket per source. */
#define EM_LOG_SOURCES 32
#define EM_LOG_BURST 20u                      /* lines a source may say at once */
#define EM_LOG_INTERVAL_NS 500000000ull       /* then one per 0.5 s */

struct em_log_source {
    char who[32];
    uint64_t credit_ns;        /* up to EM_LOG_BURST * EM_LOG_INTERVAL_NS */
    uint64_t last_ns;          /* when credit was last brought up to date */
    uint64_t suppressed;       /* held back since the last line that passed */
    uint64_t total_suppressed; /* already reported */
};

struct em_log_limit {
    pthread_mutex_t lock; /* any thread logs (vCPU, device threads) */
    unsigned n;
    struct em_log_source src[EM_LOG_SOURCES];
};

/* EM's counters, registered with the VM's STAM at create (em_stats.c's
 * table gives each its path, unit and description). Written by the vCPU
 * thread without atomics, except kicks (atomic: any thread). */
#define EM_EXIT_REASONS 16 /* > every enum vmm_exit_reason value */
struct em_counters {
    uint64_t exits[EM_EXIT_REASONS]; /* by enum vmm_exit_reason */
    uint64_t runs;                   /* engine entries */
    uint64_t hm_ns, rem_ns;          /* wall time inside each engine (rem's steps for hm: rem) */
    uint64_t rem_steps;              /* instructions hm handed to rem (emulation failures) */
    struct stam_profile halt;        /* HLT waits and the time spent in them */
    uint64_t irqs_injected, irq_windows, nmis_injected;
    uint64_t io_ops, mmio_ops; /* single accesses dispatched (string I/O counts each) */
    uint64_t resets, kicks;
    uint64_t mode_entries[EM_MODE_COUNT]; /* turns that found the vCPU in a new mode */
    uint64_t engine_switches;             /* hand-overs between hm and rem (per-mode choice) */
    uint64_t msr_gps; /* hm's MSR exits (exits[VMM_EXIT_MSR]) CPUM answered with #GP(0) */
    /* auto with raw (em_raw.c): user stretches judged, and rem runs that
     * started in user code raw could have run but the backoff kept in rem */
    uint64_t raw_paid, raw_unpaid, raw_kept_in_rem;
};

/* Port accesses by port, registered as /IOM/Ports/0xPPPP/{Reads,Writes} at
 * the first one (em_stats.c); the array is calloc'ed, touched on use. */
struct em_port_count {
    uint64_t reads, writes;
};

/* Counts a port access of the exit being handled, registering the
 * counter at the port's first access (em_stats.c). vCPU thread. */
void em_count_port(struct vm *vm, uint16_t port, bool write, uint32_t count);
/* Counts an instruction rem stepped for hm under its mnemonic
 * (/EM/Steps/<mnemonic>, registered at its first step). vCPU thread. */
void em_count_step(struct vm *vm, const char *mnem, unsigned index);
/* Registers EM's counters and the VM's own values (uptime, log lines
 * suppressed) in vm->stam (em_stats.c). Create. */
cap_result em_stats_register(struct vm *vm);

struct vm {
    struct vm_config cfg;       /* copy (devices only read during create) */
    char *name;                 /* cfg.name copied (create) */
    struct cpum_policy policy;
    struct pgm *pgm;
    struct iom *iom;
    struct tm_clock *tm;
    struct pdm *pdm;
    struct hwaccm *hm;          /* NULL under rem */
    struct rem *rem;            /* always: the engine or hm's helper */
    struct raw *raw;            /* NULL unless the engine is raw */
    enum vm_engine engine;
    struct em_vcpu vcpu;        /* vCPU 0; SMP later */

    pthread_mutex_t lock;       /* state, stop, requests' writers, wakeups */
    pthread_cond_t cond;        /* CLOCK_MONOTONIC: state changes, wakeups */
    enum vm_state state;
    struct vm_stop_info stop;
    enum vm_state stop_final;   /* the state the loop ends in (with stop) */
    uint32_t requests;          /* EM_REQ_*, atomic */
    int intr_level;             /* the CPU's INTR pin (PIC output), atomic */
    int nmi_pending;            /* an NMI for vCPU 0 not yet handed to the engine, atomic
                                 * (set by devices through PDM, taken by the vCPU loop) */
    bool slow_irq_window;       /* engine reports IRQ windows late: poll (create) */
    bool threads_done;          /* every vCPU thread has left its loop */

    struct stam *stam;             /* the statistics registry (create; destroyed last) */
    struct em_counters cnt;        /* registered in stam (vCPU thread) */
    struct em_port_count *ports;   /* 65536, registered in stam at first use (vCPU thread) */
    uint64_t *step_counts;         /* by dis mnemonic + 2, registered at first use (vCPU thread) */
    uint64_t start_ns;             /* vm_start */
    uint64_t first_run_ns;         /* CLOCK_MONOTONIC at the first engine entry, 0 before */
    uint64_t uptime_ns;            /* set when the threads are done */
    struct em_log_limit log_limit; /* init at create, before any device */
};

uint64_t em_now_ns(void);
/* What the VMM says itself: never limited. Any thread. */
void em_log(struct vm *vm, const char *who, enum vm_log_level level, const char *fmt, ...)
    CAP_PRINTF(4, 5);
/* A line the guest can cause at will (device messages, unclaimed I/O,
 * resets): rate-limited per `who`, the suppressed ones counted and said
 * later (em_log.c). Any thread. */
void em_log_guest(struct vm *vm, const char *who, enum vm_log_level level, const char *fmt, ...)
    CAP_PRINTF(4, 5);
/* Says the suppressed counts not said yet (at the VM's end). Any thread. */
void em_log_flush_suppressed(struct vm *vm);
void em_log_limit_init(struct em_log_limit *l);
void em_log_limit_destroy(struct em_log_limit *l);

/* Records why the VM stops (first reason wins) and asks the loop to end:
 * final state POWERED_OFF or ABORTED. Any thread. */
void em_stop(struct vm *vm, enum vm_state final, enum vm_stop_reason reason, int exit_code,
             cap_result result, const char *fmt, ...) CAP_PRINTF(6, 7);
/* Sets request bits and kicks the vCPU out of the engine / its HLT wait. */
void em_request(struct vm *vm, uint32_t bits);
/* Wakes a halted vCPU and kicks a running one (from a non-vCPU thread). */
void em_kick(struct vm *vm);
void em_set_state_locked(struct vm *vm, enum vm_state s);

/*
 * The per-mode engine choice (em_mode.c), at the start of each turn of the
 * loop, before interrupts go in: notes a mode change (counted; the first
 * entry of each mode logged) and hands the vCPU to the mode's engine when
 * that differs from the one in charge and nothing is in flight (an IN
 * waiting for its data stays with its engine until the next exit). The
 * hand-over fetches the whole state from hm, or marks it dirty for hm,
 * and carries the TSC across. vCPU thread; cheap when nothing changed.
 */
void em_mode_update(struct vm *vm, struct em_vcpu *v);
/* Kicks whichever engine may be running (both where hm exists: either may
 * be in charge); async-signal-safe, any thread. */
void em_engine_kick(struct em_vcpu *v);

/* The vCPU thread's body (em_run.c). */
void *em_vcpu_main(void *arg);

#endif /* VMM_EM_INTERNAL_H */
