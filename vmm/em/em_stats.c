/*
 * em_stats.c - engine choice (from em_probe.c's measurements) and EM's
 * statistics: the table that registers EM's counters with the VM's STAM
 * (exits by reason, time in each engine and in HLT, rem's steps for hm by
 * mnemonic, I/O by port, injected interrupts), and the summary --stats
 * prints before the registry's full list. Every consumer (--stats, the
 * console's debugger, `capsule debugvm`) reads the registry; nothing here
 * keeps a copy of the counters.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <capsule/errorinfo.h>

#include "dis/dis.h"
#include "em_internal.h"

/* ---- engine choice ------------------------------------------------------- */

static const char *const engine_names[] = {"auto", "hm", "rem", "raw"};
_Static_assert(VM_ENGINE_AUTO == PLATFORM_ENGINE_AUTO && VM_ENGINE_HM == PLATFORM_ENGINE_HM &&
                   VM_ENGINE_REM == PLATFORM_ENGINE_REM && VM_ENGINE_RAW == PLATFORM_ENGINE_RAW,
               "enum vm_engine is numbered as platform_limits.h's engines");

const char *vm_engine_name(enum vm_engine e)
{
    return (unsigned)e < 4 ? engine_names[e] : "?";
}

cap_result vm_engine_parse(const char *s, enum vm_engine *out)
{
    for (unsigned i = 0; i < 4; i++)
        if (s && !strcasecmp(s, engine_names[i])) {
            *out = (enum vm_engine)i;
            return CAP_OK;
        }
    return cap_error_set(CAP_E_INVALIDARG, VMM_COMPONENT, NULL,
                         "em: unknown engine '%s' (expected auto, hm, rem or raw)", s ? s : "");
}

#define CPUID_WHY                                                                                  \
    "rem, as hm would not show the guest the CPU profile's CPUID (the auto probe's line "          \
    "says what it would show)"

cap_result em_choose_engine(enum vm_engine req, const struct em_host_probe *p,
                            struct em_engine_choice *out)
{
    memset(out, 0, sizeof(*out));
    /* Which engines this build has is the platform's table, the one the
     * service's IMachine::engine setter and ISystemProperties read too. */
    const char *missing = platform_engine_missing(req);
    if (missing)
        return cap_error_set(VMM_E_ENGINE_UNAVAILABLE, VMM_COMPONENT, NULL,
                             "em: engine '%s': %s (use --engine hm, rem or auto)",
                             vm_engine_name(req), missing);
    switch (req) {
    case VM_ENGINE_HM:
        out->engine = VM_ENGINE_HM;
        snprintf(out->why, sizeof(out->why), "%s",
                 p->native_cpl0 ? "requested; guest kernel code runs natively"
                                : "requested; no VT-x/AMD-V: guest kernel code will be emulated by "
                                  "the host kernel (instructions it cannot emulate go to rem)");
        return CAP_OK;
    case VM_ENGINE_REM:
        out->engine = VM_ENGINE_REM;
        snprintf(out->why, sizeof(out->why), "requested");
        return CAP_OK;
    case VM_ENGINE_RAW:
        out->engine = VM_ENGINE_RAW;
        snprintf(out->why, sizeof(out->why),
                 "requested; guest 64-bit user code runs natively, the rest in rem");
        return CAP_OK;
    case VM_ENGINE_AUTO:
        if (!p->hm_usable) {
            out->engine = VM_ENGINE_REM;
            snprintf(out->why, sizeof(out->why), "hm is not usable here (%.150s)",
                     p->hm_error[0] ? p->hm_error : "no hypervisor");
        } else if (p->hm_ns_per_insn > 0 && p->rem_ns_per_insn > 0) {
            /* a guest that would see another CPU than its profile counts
             * against hm whatever the speed */
            bool rem = p->hm_cpuid_other || p->hm_ns_per_insn > p->rem_ns_per_insn;
            out->engine = rem ? VM_ENGINE_REM : VM_ENGINE_HM;
            snprintf(out->why, sizeof(out->why),
                     "measured guest kernel code at %.1f ns/insn under hm and %.1f ns/insn "
                     "under rem: %s",
                     p->hm_ns_per_insn, p->rem_ns_per_insn,
                     p->hm_cpuid_other ? CPUID_WHY
                     : rem             ? "the host emulates it, rem is faster"
                                       : "hm is faster");
        } else if (p->hm_cpuid_other) {
            out->engine = VM_ENGINE_REM;
            snprintf(out->why, sizeof(out->why), "not measured (%.60s): %s",
                     p->hm_error[0] ? p->hm_error : "probe failed", CPUID_WHY);
        } else if (p->native_cpl0) {
            out->engine = VM_ENGINE_HM;
            snprintf(out->why, sizeof(out->why),
                     "VT-x/AMD-V present: guest code runs natively (not measured: %.120s)",
                     p->hm_error[0] ? p->hm_error : "probe failed");
        } else {
            out->engine = VM_ENGINE_REM;
            snprintf(out->why, sizeof(out->why),
                     "no VT-x/AMD-V: guest kernel code would be emulated by the host kernel "
                     "(not measured: %.120s)", p->hm_error[0] ? p->hm_error : "probe failed");
        }
        return CAP_OK;
    }
    return cap_error_set(CAP_E_INVALIDARG, VMM_COMPONENT, NULL, "em: bad engine value %d", req);
}

/* ---- statistics: registration ------------------------------------------- */

#define C(field) offsetof(struct vm, cnt.field)

static uint64_t read_engine_ns(const void *base)
{
    const struct vm *vm = base;
    return __atomic_load_n(&vm->cnt.hm_ns, __ATOMIC_RELAXED) +
           __atomic_load_n(&vm->cnt.rem_ns, __ATOMIC_RELAXED);
}

static uint64_t read_uptime_ns(const void *base)
{
    const struct vm *vm = base;
    if (__atomic_load_n(&vm->threads_done, __ATOMIC_ACQUIRE))
        return vm->uptime_ns;
    uint64_t start = __atomic_load_n(&vm->start_ns, __ATOMIC_RELAXED);
    return start ? em_now_ns() - start : 0;
}

static uint64_t read_log_suppressed(const void *base)
{
    return vm_log_suppressed((struct vm *)base); /* takes the log's lock, never STAM's */
}

static const struct stam_def em_stat_defs[] = {
    {.path = "/EM/Runs",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(runs),
     .desc = "engine entries"},
    {.path = "/EM/HmNs",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_NS,
     .offset = C(hm_ns),
     .desc = "wall time inside hm"},
    {.path = "/EM/RemNs",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_NS,
     .offset = C(rem_ns),
     .desc = "wall time inside rem (its steps for hm included)"},
    {.path = "/EM/EngineNs",
     .type = STAM_CALLBACK,
     .unit = STAM_UNIT_NS,
     .read = read_engine_ns,
     .desc = "wall time inside the engines"},
    {.path = "/EM/RemSteps",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_INSNS,
     .offset = C(rem_steps),
     .desc = "instructions hm handed to rem (the host could not emulate them)"},
    {.path = "/EM/Halt",
     .type = STAM_PROFILE,
     .unit = STAM_UNIT_NS,
     .offset = C(halt),
     .desc = "HLT waits and the time spent in them"},
    {.path = "/EM/IrqsInjected",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(irqs_injected),
     .desc = "external interrupts injected"},
    {.path = "/EM/IrqWindows",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(irq_windows),
     .desc = "interrupt windows requested"},
    {.path = "/EM/NmisInjected",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(nmis_injected),
     .desc = "NMIs handed to the engine"},
    {.path = "/EM/IOOps",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(io_ops),
     .desc = "port accesses dispatched (string I/O counts each)"},
    {.path = "/EM/MMIOOps",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(mmio_ops),
     .desc = "MMIO accesses dispatched"},
    {.path = "/EM/Resets",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(resets),
     .desc = "VM resets"},
    {.path = "/EM/Kicks",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(kicks),
     .desc = "vCPU kicks out of the engine or HLT by other threads"},
    {.path = "/EM/EngineSwitches",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(engine_switches),
     .desc = "hand-overs between hm and rem at a CPU mode change (auto)"},
    {.path = "/EM/Raw/Paid",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(raw_paid),
     .desc = "auto: raw user stretches that cost less than rem would have"},
    {.path = "/EM/Raw/Unpaid",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(raw_unpaid),
     .desc = "auto: raw user stretches that cost more than rem would have (then rem for a while)"},
    {.path = "/EM/Raw/KeptInRem",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(raw_kept_in_rem),
     .desc = "auto: runs of user code raw could run that stayed in rem (backoff)"},
    {.path = "/EM/MsrGPs",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = C(msr_gps),
     .desc = "RDMSR/WRMSR hm left to CPUM (/EM/Exits/msr) that raised #GP(0)"},
    {.path = "/EM/UptimeNs",
     .type = STAM_CALLBACK,
     .unit = STAM_UNIT_NS,
     .read = read_uptime_ns,
     .desc = "time since the VM started"},
    {.path = "/EM/LogSuppressed",
     .type = STAM_CALLBACK,
     .unit = STAM_UNIT_COUNT,
     .read = read_log_suppressed,
     .desc = "guest-triggered log lines held back by the rate limit"},
};

#define EM_STEP_SLOTS (DIS_MNEM_COUNT + 2) /* + "(unreadable)", "(undecodable)" */

cap_result em_stats_register(struct vm *vm)
{
    vm->ports = calloc(65536, sizeof(*vm->ports));
    vm->step_counts = calloc(EM_STEP_SLOTS, sizeof(*vm->step_counts));
    if (!vm->ports || !vm->step_counts)
        return cap_error_set(CAP_E_OUTOFMEMORY, VMM_COMPONENT, NULL, "em: out of memory");
    cap_result rc = stam_register_table(vm->stam, em_stat_defs,
                                        sizeof(em_stat_defs) / sizeof(em_stat_defs[0]), vm);
    for (unsigned r = 1; CAP_SUCCEEDED(rc) && r < EM_EXIT_REASONS; r++) {
        const char *name = vmm_exit_name((enum vmm_exit_reason)r);
        if (strcmp(name, "invalid"))
            rc = stam_register_counterf(vm->stam, &vm->cnt.exits[r], STAM_UNIT_COUNT,
                                        "engine exits of this reason", "/EM/Exits/%s", name);
    }
    static const char *const modes[EM_MODE_COUNT] = {"Real", "V86", "Protected", "Long"};
    for (unsigned m = 0; CAP_SUCCEEDED(rc) && m < EM_MODE_COUNT; m++)
        rc = stam_register_counterf(vm->stam, &vm->cnt.mode_entries[m], STAM_UNIT_COUNT,
                                    "entries into this CPU mode seen by EM", "/EM/Modes/%s",
                                    modes[m]);
    return rc;
}

void em_count_port(struct vm *vm, uint16_t port, bool write, uint32_t count)
{
    uint64_t *c = write ? &vm->ports[port].writes : &vm->ports[port].reads;
    if (!*c) /* the first access: a registration failure only loses the path */
        stam_register_counterf(vm->stam, c, STAM_UNIT_COUNT,
                               write ? "port writes (string I/O counts each)"
                                     : "port reads (string I/O counts each)",
                               "/IOM/Ports/0x%04x/%s", port, write ? "Writes" : "Reads");
    *c += count;
}

void em_count_step(struct vm *vm, const char *mnem, unsigned index)
{
    if (index >= EM_STEP_SLOTS)
        return;
    uint64_t *c = &vm->step_counts[index];
    if (!*c)
        stam_register_counterf(vm->stam, c, STAM_UNIT_INSNS,
                               "instructions of this mnemonic rem executed for hm", "/EM/Steps/%s",
                               mnem);
    (*c)++;
}

struct stam *vm_stam(struct vm *vm)
{
    return vm->stam;
}

uint64_t vm_first_run_ns(struct vm *vm)
{
    return __atomic_load_n(&vm->first_run_ns, __ATOMIC_RELAXED);
}

/* ---- statistics: the summary --------------------------------------------- */

#define TOP_STEPS 8

/* The busiest /EM/Steps/ mnemonics, the rest summed. */
struct top_steps {
    struct {
        char mnem[32];
        uint64_t n;
    } top[TOP_STEPS];
    unsigned ntop;
    uint64_t other;
};

static void collect_step(void *ctx, const struct stam_value *v)
{
    struct top_steps *t = ctx;
    if (!v->value)
        return;
    unsigned i = t->ntop < TOP_STEPS ? t->ntop++ : TOP_STEPS;
    if (i == TOP_STEPS) { /* full: replace the least busy if this one beats it */
        if (v->value <= t->top[TOP_STEPS - 1].n) {
            t->other += v->value;
            return;
        }
        t->other += t->top[--i].n;
    }
    for (; i > 0 && t->top[i - 1].n < v->value; i--)
        t->top[i] = t->top[i - 1];
    snprintf(t->top[i].mnem, sizeof(t->top[i].mnem), "%s", v->path + strlen("/EM/Steps/"));
    t->top[i].n = v->value;
}

void em_stats_print(struct stam *st, FILE *f)
{
    double up = stam_value(st, "/EM/UptimeNs") / 1e6;
    uint64_t runs = stam_value(st, "/EM/Runs"), eng = stam_value(st, "/EM/EngineNs");
    uint64_t rem_ns = stam_value(st, "/EM/RemNs"), insns = stam_value(st, "/REM/Insns");
    uint64_t steps = stam_value(st, "/EM/RemSteps");
    struct stam_value halt;
    stam_get(st, "/EM/Halt", &halt);
    fprintf(f, "== EM statistics\n");
    fprintf(f, "uptime            %12.3f ms\n", up);
    fprintf(f, "engine runs       %12" PRIu64 "   time in engine %.3f ms (%.1f%%)\n", runs,
            eng / 1e6, up > 0 ? 100.0 * eng / 1e6 / up : 0.0);
    if (runs)
        fprintf(f, "mean run          %12.2f us\n", eng / 1e3 / (double)runs);
    fprintf(f, "time in hm        %12.3f ms   time in rem %.3f ms\n",
            stam_value(st, "/EM/HmNs") / 1e6, rem_ns / 1e6);
    if (insns)
        fprintf(f, "rem instructions  %12" PRIu64 "   %.1f MIPS while in rem\n", insns,
                rem_ns ? insns * 1e3 / (double)rem_ns : 0.0);
    if (steps) {
        struct top_steps t = {0};
        stam_enum(st, "/EM/Steps/*", collect_step, &t);
        fprintf(f, "instructions stepped by rem for hm %" PRIu64 ":", steps);
        for (unsigned i = 0; i < t.ntop; i++)
            fprintf(f, " %s %" PRIu64, t.top[i].mnem, t.top[i].n);
        if (t.other)
            fprintf(f, " (other) %" PRIu64, t.other);
        fprintf(f, "\n");
    }
    struct stam_value modes;
    if (stam_get(st, "/EM/Modes/Real", &modes))
        fprintf(f,
                "mode entries      real %" PRIu64 ", v86 %" PRIu64 ", protected %" PRIu64
                ", long %" PRIu64 "; engine switches %" PRIu64 "\n",
                modes.value, stam_value(st, "/EM/Modes/V86"), stam_value(st, "/EM/Modes/Protected"),
                stam_value(st, "/EM/Modes/Long"), stam_value(st, "/EM/EngineSwitches"));
    fprintf(f, "halts             %12" PRIu64 "   time halted %.3f ms\n", halt.count,
            halt.value / 1e6);
    fprintf(f, "irqs injected     %12" PRIu64 "   irq windows requested %" PRIu64 "\n",
            stam_value(st, "/EM/IrqsInjected"), stam_value(st, "/EM/IrqWindows"));
}

void vm_print_stats(struct vm *vm, FILE *f)
{
    em_stats_print(vm->stam, f);
    fprintf(f, "== all statistics (name value unit; `capsule debugvm VM statistics` too)\n");
    stam_print(vm->stam, NULL, false, f);
}
