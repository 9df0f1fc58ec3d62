/*
 * debugger.c - IMachineDebugger of the VM process's console: the engine
 * in use and why, and EM's statistics as "name value [unit]" lines
 * (getStats, with the glob patterns of the IDL). Registers, memory, the
 * virtual clock and info reports need VMM entry points that are not
 * exported yet; they fail with CAP_E_NOT_SUPPORTED and say so.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>

#include "hwaccm/hwaccm.h"
#include "managed.h"

#define COMPONENT "capsule-vm"
#define IFACE "IMachineDebugger"

cap_result console_dbg_qi(IMachineDebugger *self, const cap_uuid *iid, void **out);
uint32_t console_dbg_addref(IMachineDebugger *self);
uint32_t console_dbg_release(IMachineDebugger *self);

static cap_result not_running(void)
{
    return cap_error_set(CAP_E_INVALID_VM_STATE, COMPONENT, IFACE,
                         "the VM is not running, paused or stuck");
}

static cap_result not_yet(const char *what)
{
    return cap_error_set(CAP_E_NOT_SUPPORTED, COMPONENT, IFACE, "%s is not available yet", what);
}

static cap_result d_GetExecutionEngine(IMachineDebugger *self, ExecutionEngine *out)
{
    if (!out)
        return CAP_E_POINTER;
    struct vmproc *vp = console_get_vm(self);
    if (!vp)
        return not_running();
    static const ExecutionEngine map[] = {
        [VM_ENGINE_AUTO] = ExecutionEngine_Auto, [VM_ENGINE_HM] = ExecutionEngine_Hm,
        [VM_ENGINE_REM] = ExecutionEngine_Rem, [VM_ENGINE_RAW] = ExecutionEngine_Raw};
    enum vm_engine e = vm_get_engine(vmproc_vm(vp));
    *out = (unsigned)e < sizeof(map) / sizeof(map[0]) ? map[e] : ExecutionEngine_Auto;
    console_put_vm(self);
    return CAP_OK;
}

static cap_result d_GetExecutionEngineReason(IMachineDebugger *self, char **out)
{
    if (!out)
        return CAP_E_POINTER;
    struct vmproc *vp = console_get_vm(self);
    if (!vp)
        return not_running();
    *out = cap_str_dup(vmproc_engine_reason(vp));
    console_put_vm(self);
    return *out ? CAP_OK : CAP_E_OUTOFMEMORY;
}

static cap_result d_GetVirtualTime(IMachineDebugger *self, uint64_t *out)
{
    return not_yet("the virtual clock through the debugger");
}

static cap_result d_GetVirtualTimeRate(IMachineDebugger *self, double *out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = 1.0; /* TM runs at real time; warping is not exposed yet */
    return CAP_OK;
}

static cap_result d_SetVirtualTimeRate(IMachineDebugger *self, double rate)
{
    if (!(rate >= 0.01 && rate <= 100))
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, IFACE,
                             "the rate must be between 0.01 and 100");
    return not_yet("changing the virtual clock's rate");
}

/* '|'-separated globs; empty matches everything. */
static int matches(const char *pattern, const char *name)
{
    if (!pattern || !*pattern)
        return 1;
    char buf[256];
    const char *p = pattern;
    for (;;) {
        size_t n = strcspn(p, "|");
        if (n < sizeof(buf)) {
            memcpy(buf, p, n);
            buf[n] = '\0';
            if (fnmatch(buf, name, 0) == 0)
                return 1;
        }
        if (!p[n])
            return 0;
        p += n + 1;
    }
}

struct stat_row {
    const char *name, *unit, *desc;
    uint64_t value;
};

static cap_result d_GetStats(IMachineDebugger *self, const char *pattern, cap_bool with_desc,
                             char **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    struct vmproc *vp = console_get_vm(self);
    if (!vp)
        return not_running();
    struct em_stats s;
    vm_get_stats(vmproc_vm(vp), &s);
    console_put_vm(self);
    struct stat_row rows[] = {
        {"/EM/EngineNs", "ns", "wall time inside the engine", s.engine_ns},
        {"/EM/Halts", "", "HLT waits", s.halts},
        {"/EM/HmNs", "ns", "wall time inside hm", s.hm_ns},
        {"/EM/HaltNs", "ns", "time spent halted", s.halt_ns},
        {"/EM/IOOps", "", "port accesses dispatched", s.io_ops},
        {"/EM/IrqWindows", "", "interrupt windows requested", s.irq_windows},
        {"/EM/IrqsInjected", "", "interrupts injected", s.irqs_injected},
        {"/EM/Kicks", "", "vCPU kicks out of the engine", s.kicks},
        {"/EM/MMIOOps", "", "MMIO accesses dispatched", s.mmio_ops},
        {"/EM/RemInsns", "", "instructions executed by rem", s.rem_insns},
        {"/EM/RemNs", "ns", "wall time inside rem", s.rem_ns},
        {"/EM/RemSteps", "", "instructions hm handed to rem", s.rem_steps},
        {"/EM/Resets", "", "VM resets", s.resets},
        {"/EM/Runs", "", "engine entries", s.runs},
        {"/EM/UptimeNs", "ns", "time since the VM started", s.uptime_ns},
    };
    /* Rows are sorted by name; the exits by reason follow (/EM/Exits/N). */
    size_t cap = 4096, len = 0;
    char *text = cap_alloc_zero(cap);
    if (!text)
        return CAP_E_OUTOFMEMORY;
    char name[64];
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]) + EM_EXIT_REASONS; i++) {
        struct stat_row r;
        if (i < sizeof(rows) / sizeof(rows[0])) {
            r = rows[i];
        } else {
            size_t e = i - sizeof(rows) / sizeof(rows[0]);
            snprintf(name, sizeof(name), "/EM/Exits/%s", vmm_exit_name((enum vmm_exit_reason)e));
            r = (struct stat_row){name, "", "exits of this hwaccm exit reason", s.exits[e]};
            if (!r.value)
                continue;
        }
        if (!matches(pattern, r.name))
            continue;
        if (len + 256 >= cap) {
            char *bigger = cap_alloc_zero(cap * 2);
            if (!bigger) {
                cap_free(text);
                return CAP_E_OUTOFMEMORY;
            }
            memcpy(bigger, text, len);
            cap_free(text);
            text = bigger;
            cap *= 2;
        }
        len += (size_t)snprintf(text + len, cap - len, "%s %llu%s%s%s%s\n", r.name,
                                (unsigned long long)r.value, *r.unit ? " " : "", r.unit,
                                with_desc ? "\t" : "", with_desc ? r.desc : "");
    }
    *out = cap_str_dup(text);
    cap_free(text);
    return *out ? CAP_OK : CAP_E_OUTOFMEMORY;
}

static cap_result d_ResetStats(IMachineDebugger *self, const char *pattern)
{
    return not_yet("resetting statistics");
}

static cap_result d_GetRegisters(IMachineDebugger *self, uint32_t cpu, uint32_t *n_names,
                                 char ***names, uint32_t *n_values, char ***values)
{
    return not_yet("reading registers through the debugger");
}

static cap_result d_GetRegister(IMachineDebugger *self, uint32_t cpu, const char *name,
                                char **value)
{
    return not_yet("reading registers through the debugger");
}

static cap_result d_ReadPhysicalMemory(IMachineDebugger *self, uint64_t address, uint32_t size,
                                       uint32_t *n, uint8_t **bytes)
{
    return not_yet("reading guest memory through the debugger");
}

static cap_result d_WritePhysicalMemory(IMachineDebugger *self, uint64_t address, uint32_t n,
                                        const uint8_t *bytes)
{
    return not_yet("writing guest memory through the debugger");
}

static cap_result d_ReadVirtualMemory(IMachineDebugger *self, uint32_t cpu, uint64_t address,
                                      uint32_t size, uint32_t *n, uint8_t **bytes)
{
    return not_yet("reading guest memory through the debugger");
}

static cap_result d_Info(IMachineDebugger *self, const char *name, const char *args, char **text)
{
    return not_yet("VMM information reports");
}

const struct IMachineDebuggerVtbl console_debugger_vtbl = {
    .QueryInterface = console_dbg_qi,
    .AddRef = console_dbg_addref,
    .Release = console_dbg_release,
    .GetExecutionEngine = d_GetExecutionEngine,
    .GetExecutionEngineReason = d_GetExecutionEngineReason,
    .GetVirtualTime = d_GetVirtualTime,
    .GetVirtualTimeRate = d_GetVirtualTimeRate,
    .SetVirtualTimeRate = d_SetVirtualTimeRate,
    .GetStats = d_GetStats,
    .ResetStats = d_ResetStats,
    .GetRegisters = d_GetRegisters,
    .GetRegister = d_GetRegister,
    .ReadPhysicalMemory = d_ReadPhysicalMemory,
    .WritePhysicalMemory = d_WritePhysicalMemory,
    .ReadVirtualMemory = d_ReadVirtualMemory,
    .Info = d_Info,
};
