/*
 * vmm/em/em.h - EM, the execution manager, and the VM object it runs.
 *
 * struct vm is one virtual machine: its CPU policy and vCPU context (CPUM),
 * guest-physical map (PGM), port/MMIO dispatch (IOM), virtual clock (TM),
 * devices (PDM) and the execution engine: hm (HWACCM, the host's hypervisor)
 * or rem (the software CPU), both behind the same neutral exit, so one loop
 * handles either. Under hm, an instruction the host cannot emulate (an
 * emulation failure) is executed by rem in place and hm goes on. Nothing
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
 * failures that neither engine can run (the VM stops `aborted` with the
 * reason; the process survives).
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
 * a vCPU that is inside the engine out of it (hm: kvm_run->immediate_exit
 * plus EM_KICK_SIGNAL to the vCPU thread, whose handler sets the engine's
 * kick; rem: its kick flag, checked between blocks of decoded instructions
 * - before a block chains to the next or a translation loops - and between
 * instructions where rem steps one at a time; a block is at most
 * REM_BLOCK_MAX (32) instructions).
 */
#ifndef VMM_EM_H
#define VMM_EM_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <capsule/types.h>

#include "cpum/cpum.h"
#include "pgm/pgm.h"
#include "platform/platform_limits.h"
#include "vmm_result.h"

struct cap_registry;
struct pdm_dev_config;
struct pdm_drive_config;
struct pdm;
struct iom;
struct tm_clock;
struct stam;
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

struct vm_config {
    /* The VM's name as people know it (the machine's name; a window title,
     * log lines), copied at create; NULL or "": "capsule-vm". */
    const char *name;
    /* RAM (page multiple, > 0, at most PLATFORM_MAX_RAM_MB MiB), laid out as
     * a PC's (platform/platform.h): platform_ram_below_4g(ram_bytes) from
     * guest-physical 0, the rest from 4 GiB, leaving the MMIO hole free */
    uint64_t ram_bytes;
    /* RAM is reserved lazily, but the guest may touch all of it: more than
     * the host's physical memory is refused (CAP_E_INVALIDARG, with both
     * sizes) unless this is set. */
    bool ram_beyond_host;
    unsigned ncpus; /* PLATFORM_MIN_CPUS..PLATFORM_MAX_CPUS (1 until SMP) */
    enum vm_engine engine;
    /* The CPU profile's name (cpum.h; NULL = "host"). An unknown name fails
     * vm_create with the list of known ones; hm refuses a profile of
     * another vendor than the host's. Copied at create. */
    const char *cpu_profile;
    /* Devices, built in order through the registry (plugins) - see pdm.h. */
    const struct pdm_dev_config *devices;
    size_t n_devices;
    /* Drives on the devices' LUNs (pdm.h: pdm_add_drive), added before the
     * devices are built; every one must be taken by its device. */
    const struct pdm_drive_config *drives;
    size_t n_drives;
    /* Network attachments on the devices (pdm.h: pdm_add_nic), added
     * before the devices are built; every one must be taken. */
    const struct pdm_nic_config *nics;
    size_t n_nics;
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

/* ---- engine choice ------------------------------------------------------- */

/*
 * What vm_create measures about the host before an `auto` choice
 * (em_probe_host): whether the hypervisor runs guest CPL0 natively as far
 * as the CPU flags tell, whether hm can be created at all, whether
 * its guest sees the policy's CPUID (hwaccm_cpuid_faithful), and the cost of
 * one instruction of a small CPL0 loop under hm and under rem (two runs of
 * the same protected-mode loop, a few hundred instructions apart, so the
 * exit cost cancels out). A cost of 0 means "not measured".
 */
struct em_host_probe {
    cap_bool native_cpl0;     /* hwaccm_host_runs_cpl0_natively */
    char host[128];           /* what it found */
    cap_bool hm_usable;       /* an hm VM and vCPU could be created */
    char hm_error[192];       /* why not, when not */
    double hm_ns_per_insn;    /* CPL0 loop under hm, 0: not measured */
    double rem_ns_per_insn;   /* the same loop under rem, 0: not measured */
    uint64_t probe_ns;        /* what the measurement cost */
    cap_bool hm_cpuid_other;  /* hm's guest would not see the policy's CPUID
                                 (!hwaccm_cpuid_faithful) */
    char hm_cpuid[480];       /* what the CPUID probe found */
};

struct em_engine_choice {
    enum vm_engine engine;
    char why[256];
};

/*
 * Measures the host for an `auto` choice (see struct em_host_probe): about
 * a few milliseconds, most of it creating a throw-away hm VM. Never fails:
 * what could not be measured is left 0 and said in hm_error. Any thread.
 */
VMM_API void em_probe_host(struct em_host_probe *out);

/*
 * Picks the engine for a request (pure): hm and rem when asked; an engine
 * this build lacks (platform_engine_missing: raw) fails with
 * VMM_E_ENGINE_UNAVAILABLE and the platform's reason; auto picks rem when hm cannot be used,
 * when hm's guest would see another CPUID than the CPU profile's, or
 * when the probe measured guest CPL0 code slower under hm than under rem
 * (the host emulates guest kernel code), else hm; without measurements it
 * goes by native_cpl0. `why` names the numbers. Sets error info on failure.
 */
VMM_API cap_result em_choose_engine(enum vm_engine requested, const struct em_host_probe *probe,
                                    struct em_engine_choice *out);
VMM_API const char *vm_engine_name(enum vm_engine e);

/*
 * The CPU modes EM tells apart when it picks an engine per mode (the seed's
 * rule: the recompiler takes real-mode code). Long mode covers its 64-bit
 * and compatibility sub-modes; protected mode its 16- and 32-bit code.
 */
enum em_cpu_mode { EM_MODE_REAL, EM_MODE_V86, EM_MODE_PROTECTED, EM_MODE_LONG, EM_MODE_COUNT };

/* The mode a context is in (pure): CR0.PE, RFLAGS.VM, EFER.LMA. */
VMM_API enum em_cpu_mode em_cpu_mode_of(const struct cpum_ctx *c);
/* "real mode", "virtual-8086 mode", "protected mode", "long mode"; "?" else. */
VMM_API const char *em_cpu_mode_name(enum em_cpu_mode m);
/*
 * Which engine runs code of `mode` (pure), given the engine asked for and
 * the one em_choose_engine picked: an engine asked for by name runs every
 * mode (hm still hands single instructions the host cannot emulate to
 * rem); under `auto` with hm picked, rem takes real and virtual-8086 mode
 * (firmware, boot loaders: hm without unrestricted guest, or a host that
 * emulates guest kernel code, cannot run them well) and hm the rest;
 * under `auto` with rem picked, rem runs everything - or raw (the
 * engine then reported) where auto added raw for the 64-bit user stretches
 * that pay (vm.c: auto_raw, em_raw.c), which hands everything else to rem
 * itself. EM switches engines
 * at the first turn in the new mode (not inside an IN still waiting for
 * its data), logs the first entry of each mode with its engine ("em: real
 * mode -> rem (first at f000:fff0)"), and counts mode entries
 * (/EM/Modes/<Mode>) and engine switches (/EM/EngineSwitches).
 */
VMM_API enum vm_engine em_engine_for_mode(enum vm_engine requested, enum vm_engine chosen,
                                          enum em_cpu_mode mode);
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
 * (RAM not a page multiple or beyond PLATFORM_MAX_RAM_MB, more than the host
 * has unless ram_beyond_host, ncpus beyond PLATFORM_MAX_CPUS; each message
 * names the limit and why), VMM_E_ENGINE_UNAVAILABLE,
 * VMM_E_NO_KVM (hm asked for; rem and auto need no /dev/kvm), device
 * failures from pdm_instantiate, CAP_E_OUTOFMEMORY. `auto` measures the host
 * first (em_probe_host) and logs the numbers with the choice.
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
/* vm_config's name (never NULL), valid until destroy. Any thread. */
VMM_API const char *vm_name(struct vm *vm);

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

/* ---- saved state (em_ssm.c) ---------------------------------------------- */

/*
 * Writes a PAUSED VM's state to the SSM stream `path` (vmm/ssm/ssm.h;
 * creator: the build's name, NULL "capsule"): the platform (RAM size,
 * vCPUs, devices, CPU profile), RAM, TM's clock, EM's vCPU state (halted,
 * INTR, a pending NMI), each vCPU's context by named fields and every
 * device's unit; then reads the file back through ssm_verify. The pause
 * imported the whole context from hm and completed an IN rem had in
 * flight. VMM_E_BAD_STATE unless paused (and under the raw engine, not
 * yet supported); ssm's errors. `bytes` (may be NULL): the stream's size.
 * The controlling thread; the VM stays paused.
 */
VMM_API cap_result vm_save_state(struct vm *vm, const char *path, const char *creator,
                                 uint64_t *bytes);
/*
 * Restores a stream written by vm_save_state into a VM in state CREATED,
 * built with the same configuration and its boot image loaded (ROM is
 * not in the stream), before vm_start (which then resumes the guest where
 * it was saved). The whole stream is verified first (ssm_open); another
 * machine (RAM size, vCPUs, devices, CPU profile, RAM ranges) is refused
 * naming what differs (VMM_E_SSM_FIELD) before anything is applied. A
 * failure while applying leaves a half-restored VM: destroy it.
 */
VMM_API cap_result vm_restore_state(struct vm *vm, const char *path);

/* ---- statistics ---------------------------------------------------------- */

/*
 * The VM's statistics registry (vmm/stam/stam.h), the one source every
 * consumer reads: EM's counters under /EM/ (runs, time in each engine,
 * exits by reason as /EM/Exits/<reason>, HLT, interrupts, I/O, kicks,
 * resets, uptime, rem's steps for hm as /EM/Steps/<mnemonic>), port
 * accesses as /IOM/Ports/0xPPPP/Reads|Writes (registered at a port's first
 * access), IOM's dispatch counters under /IOM/IO/ and /IOM/MMIO/, rem's
 * block cache and translator under /REM/. Created with the VM, destroyed
 * by vm_destroy; read it from any thread (stam.h's rules).
 */
VMM_API struct stam *vm_stam(struct vm *vm);
/* CLOCK_MONOTONIC ns of the first engine entry, 0 before it. Any thread. */
VMM_API uint64_t vm_first_run_ns(struct vm *vm);
/* --stats: em_stats_print of the VM's registry, then every statistic. */
VMM_API void vm_print_stats(struct vm *vm, FILE *f);
/* Guest-triggered log lines held back by the log's rate limit so far (a
 * burst per source, then one per 0.5 s; see em_log.c). Any thread. */
VMM_API uint64_t vm_log_suppressed(struct vm *vm);
/*
 * The summary people read first, computed from a registry's EM and REM
 * values (testable without a VM): uptime, engine runs and time, mean run,
 * time in hm and rem, rem's instructions and MIPS, the instructions rem
 * stepped for hm by mnemonic (busiest first), entries into each CPU mode
 * and engine switches, HLT time. Lines of values
 * that are not registered are left out.
 */
VMM_API void em_stats_print(struct stam *st, FILE *f);

#endif /* VMM_EM_H */
