/*
 * vmm/em/em.h - EM, the execution manager, and the VM object it runs.
 *
 * struct vm is one virtual machine: its CPU policy and vCPU context (CPUM),
 * guest-physical map (PGM), port/MMIO dispatch (IOM), virtual clock (TM),
 * devices (PDM) and the execution engine (hm through HWACCM today). Nothing
 * is global: any number of VMs can live in one process.
 *
 * Each vCPU runs on its own thread (the EMT), started by vm_start(). The
 * loop runs the engine until an exit, then handles it: port I/O through
 * IOM, MMIO through PGM (whose MMIO ranges dispatch into IOM: one map, see
 * vmm/README.md), HLT (the thread sleeps on a condition variable until an
 * interrupt is pending, the next TM deadline or a request - no busy wait),
 * interrupt delivery (INTA from the PIC via PDM, injected when the engine
 * says the guest can take it, else an interrupt window is requested),
 * timers (TM polled between stretches), reset, triple fault and emulation
 * failures (the VM stops `aborted` with the reason; the process survives).
 *
 * Lifecycle (vm_state_allows() is the table):
 *
 *   CREATED --start--> RUNNING <--pause/resume--> PAUSED
 *                         |  \                      |
 *                         |   `---- power off ------+--> POWERED_OFF
 *                         `-- triple fault, engine/device failure --> ABORTED
 *
 * Threads: vm_create/vm_destroy on one controlling thread; vm_start,
 * vm_pause, vm_resume, vm_reset, vm_power_off, vm_wait, vm_get_state,
 * vm_get_stop_info and the statistics calls from any thread. Requests kick
 * a vCPU that is inside the engine out of it (kvm_run->immediate_exit plus
 * EM_KICK_SIGNAL to the vCPU thread; EM installs a no-op handler for it).
 */
#ifndef VMM_EM_H
#define VMM_EM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <capsule/types.h>

#include "cpum/cpum.h"
#include "pgm/pgm.h"
#include "vmm_result.h"

struct cap_registry;
struct pdm_dev_config;
struct pdm;
struct iom;
struct tm_clock;
struct vm;

/* The signal used to kick a vCPU thread out of KVM_RUN (no-op handler). */
#define EM_KICK_SIGNAL SIGUSR2

enum vm_engine { VM_ENGINE_AUTO, VM_ENGINE_HM, VM_ENGINE_REM, VM_ENGINE_RAW };

enum vm_state {
    VM_STATE_CREATED,
    VM_STATE_RUNNING,
    VM_STATE_PAUSED,
    VM_STATE_POWERED_OFF,
    VM_STATE_ABORTED,
};

enum vm_action { VM_ACT_START, VM_ACT_PAUSE, VM_ACT_RESUME, VM_ACT_RESET, VM_ACT_POWER_OFF };

/* Why the VM stopped (valid once the state is POWERED_OFF or ABORTED). */
enum vm_stop_reason {
    VM_STOP_NONE,
    VM_STOP_GUEST_POWER_OFF,  /* a device (debug-exit, ACPI) powered off; exit_code set or -1 */
    VM_STOP_USER_POWER_OFF,   /* vm_power_off() */
    VM_STOP_TRIPLE_FAULT,     /* aborted */
    VM_STOP_EMULATION_FAILURE,/* aborted: the engine could not run an instruction */
    VM_STOP_ERROR,            /* aborted: engine, host or device failure */
};

struct vm_stop_info {
    enum vm_stop_reason reason;
    int exit_code;     /* guest power-off code, -1 when none */
    cap_result result; /* the failure for VM_STOP_ERROR, else CAP_OK */
    char message[512]; /* one line for people: "aborted: triple fault at ..." */
};

/* Log levels for vm_config.log (the same values as PDM's). */
enum vm_log_level { VM_LOG_ERROR = 0, VM_LOG_WARN = 1, VM_LOG_INFO = 2, VM_LOG_DEBUG = 3 };

/* RAM is mapped as a PC's: from guest-physical 0 up to VM_RAM_BELOW_4G_MAX,
 * the rest from 4 GiB, leaving the MMIO hole below 4 GiB free (APICs at
 * 0xfec00000/0xfee00000). Devices that report the RAM size (CMOS, fw_cfg)
 * and the loader's e820 map describe this same layout. */
#define VM_RAM_BELOW_4G_MAX 0xe0000000ull
static inline uint64_t vm_ram_below_4g(uint64_t ram_bytes)
{
    return ram_bytes < VM_RAM_BELOW_4G_MAX ? ram_bytes : VM_RAM_BELOW_4G_MAX;
}

struct vm_config {
    uint64_t ram_bytes;      /* RAM (page multiple, > 0), laid out as above */
    unsigned ncpus;          /* 1 until SMP */
    enum vm_engine engine;
    /* Devices, built in order through the registry (plugins) - see pdm.h. */
    const struct pdm_dev_config *devices;
    size_t n_devices;
    struct cap_registry *registry; /* must outlive the VM */
    /* One log line, no newline; `who` names the source ("em", "serial0").
     * NULL: stderr as "who: msg". Called from any VM thread. */
    void (*log)(void *ctx, const char *who, enum vm_log_level level, const char *msg);
    void *log_ctx;
    /* Runs on the vCPU thread after a reset put CPUM and the devices in
     * their power-on state: reload the boot image and set the entry state
     * (without firmware, nothing else would run). NULL: just reset. */
    cap_result (*reset_hook)(void *ctx, struct vm *vm);
    void *reset_ctx;
    /* Told of every state change (from the thread that changed it). */
    void (*state_changed)(void *ctx, struct vm *vm, enum vm_state state);
    void *state_ctx;
};

/* ---- engine choice (pure) ------------------------------------------------ */

struct em_engine_choice {
    enum vm_engine engine;
    char why[256];
};

/*
 * Picks the engine for a request: hm when asked; rem/raw fail with
 * VMM_E_ENGINE_UNAVAILABLE ("not available yet") until they exist; auto picks
 * hm where the host runs guest CPL0 natively (VT-x/AMD-V), rem where it does
 * not and rem is available, else hm with `why` saying guest kernel code will
 * be emulated by the host kernel. Sets error info on failure.
 */
VMM_API cap_result em_choose_engine(enum vm_engine requested, cap_bool native_cpl0,
                                    cap_bool rem_available, struct em_engine_choice *out);
VMM_API const char *vm_engine_name(enum vm_engine e);
/* "auto", "hm", "rem", "raw" -> engine; CAP_E_INVALIDARG (with message) else. */
VMM_API cap_result vm_engine_parse(const char *s, enum vm_engine *out);

VMM_API const char *vm_state_name(enum vm_state s);
VMM_API const char *vm_stop_reason_name(enum vm_stop_reason r);
/* Whether `action` is valid in `state` (the lifecycle table above). */
VMM_API cap_bool vm_state_allows(enum vm_state state, enum vm_action action);

/* ---- the VM -------------------------------------------------------------- */

/*
 * Builds a VM in state CREATED: policy, RAM, engine (choice logged), vCPU 0
 * at power-on state, devices. No thread runs yet: load an image into
 * vm_pgm()/vm_cpu() then vm_start(). Errors (with error info): CAP_E_INVALIDARG
 * (bad RAM size, ncpus != 1 "SMP not supported yet"), VMM_E_ENGINE_UNAVAILABLE,
 * VMM_E_NO_KVM, device failures from pdm_instantiate, CAP_E_OUTOFMEMORY.
 */
VMM_API cap_result vm_create(const struct vm_config *cfg, struct vm **out);
/* Powers off if running, joins the vCPU threads, frees everything. NULL ok. */
VMM_API void vm_destroy(struct vm *vm);

/* Module handles, for loaders, tests and the debugger. Valid until destroy. */
VMM_API struct pgm *vm_pgm(struct vm *vm);
VMM_API struct cpum_cpu *vm_cpu(struct vm *vm, unsigned id);
VMM_API struct pdm *vm_pdm(struct vm *vm);
VMM_API struct iom *vm_iom(struct vm *vm);
VMM_API struct tm_clock *vm_tm(struct vm *vm);
VMM_API enum vm_engine vm_get_engine(struct vm *vm);

/* Starts the vCPU threads (CREATED -> RUNNING). VMM_E_BAD_STATE otherwise. */
VMM_API cap_result vm_start(struct vm *vm);
/* Returns once every vCPU is parked (RUNNING -> PAUSED); the clock stops. */
VMM_API cap_result vm_pause(struct vm *vm);
VMM_API cap_result vm_resume(struct vm *vm);
/* Asks for a reset (devices + CPU + reset_hook) on the vCPU thread. */
VMM_API cap_result vm_reset(struct vm *vm);
/* Asks the VM to power off (from RUNNING or PAUSED); vm_wait() for the end. */
VMM_API cap_result vm_power_off(struct vm *vm);
/*
 * Waits until the VM is POWERED_OFF or ABORTED and its threads have ended,
 * or timeout_ms passes (-1: forever). Returns the state then.
 */
VMM_API enum vm_state vm_wait(struct vm *vm, int64_t timeout_ms);
VMM_API enum vm_state vm_get_state(struct vm *vm);
VMM_API void vm_get_stop_info(struct vm *vm, struct vm_stop_info *out);

/* ---- statistics ---------------------------------------------------------- */

#define EM_EXIT_REASONS 16 /* >= number of enum hwaccm_exit_reason values */

struct em_stats {
    uint64_t exits[EM_EXIT_REASONS]; /* by enum hwaccm_exit_reason */
    uint64_t runs;                   /* engine entries */
    uint64_t engine_ns;              /* wall time inside the engine */
    uint64_t halts, halt_ns;         /* HLT waits and the time spent in them */
    uint64_t irqs_injected, irq_windows; /* windows requested */
    uint64_t io_ops, mmio_ops;       /* single accesses dispatched (string I/O counts each) */
    uint64_t resets, kicks;
    uint64_t uptime_ns;              /* since vm_start */
    uint64_t first_run_ns;           /* CLOCK_MONOTONIC at the first engine entry, 0 before */
};

struct em_port_stat {
    uint16_t port;
    uint64_t count;
};

/* A snapshot (counters are updated by the vCPU thread; reads may be a tick
 * behind). Any thread. */
VMM_API void vm_get_stats(struct vm *vm, struct em_stats *out);
/* The busiest ports first; returns how many were written (<= max). */
VMM_API size_t vm_get_io_port_stats(struct vm *vm, struct em_port_stat *out, size_t max);
/* Writes the statistics in a human-readable table (for --stats). */
VMM_API void vm_print_stats(struct vm *vm, FILE *f);
/* The same, from a snapshot (testable without a VM). */
VMM_API void em_stats_print(const struct em_stats *s, const struct em_port_stat *ports,
                            size_t nports, FILE *f);

#endif /* VMM_EM_H */
