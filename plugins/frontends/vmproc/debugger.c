/*
 * debugger.c - IMachineDebugger of the VM process's console: the engine
 * in use and why, and the VM's statistics registry (vmm/stam: EM, rem,
 * ports) as "name value unit" lines (getStats, with the glob patterns of
 * the IDL; resetStats). Registers, memory, the virtual clock and info
 * reports need VMM entry points that are not exported yet; they fail with
 * CAP_E_NOT_SUPPORTED and say so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/object.h>

#include "debugger.h"
#include "stam/stam.h"

#define COMPONENT "capsule-vm"
#define IFACE "IMachineDebugger"

static struct debugger *impl(IMachineDebugger *i)
{
    return CAP_CONTAINER_OF(i, struct debugger, IMachineDebugger_iface);
}

/* The running VM (NULL: not running, paused or stuck). */
static struct vmproc *running_vm(IMachineDebugger *self)
{
    struct debugger *d = impl(self);
    return d->owner->running_vm(d);
}

static cap_result d_QueryInterface(IMachineDebugger *self, const cap_uuid *iid, void **out)
{
    struct debugger *d = impl(self);
    return d->owner->query_interface(d, iid, out);
}

static uint32_t d_AddRef(IMachineDebugger *self)
{
    struct debugger *d = impl(self);
    return d->owner->add_ref(d);
}

static uint32_t d_Release(IMachineDebugger *self)
{
    struct debugger *d = impl(self);
    return d->owner->release(d);
}

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
    struct vmproc *vp = running_vm(self);
    if (!vp)
        return not_running();
    static const ExecutionEngine map[] = {
        [VM_ENGINE_AUTO] = ExecutionEngine_Auto, [VM_ENGINE_HM] = ExecutionEngine_Hm,
        [VM_ENGINE_REM] = ExecutionEngine_Rem, [VM_ENGINE_RAW] = ExecutionEngine_Raw};
    enum vm_engine e = vm_get_engine(vmproc_vm(vp));
    *out = (unsigned)e < sizeof(map) / sizeof(map[0]) ? map[e] : ExecutionEngine_Auto;
    return CAP_OK;
}

static cap_result d_GetExecutionEngineReason(IMachineDebugger *self, char **out)
{
    if (!out)
        return CAP_E_POINTER;
    struct vmproc *vp = running_vm(self);
    if (!vp)
        return not_running();
    *out = cap_str_dup(vmproc_engine_reason(vp));
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

/* The VM's registry (vm_stam) is the one source: its text as is. */
static cap_result d_GetStats(IMachineDebugger *self, const char *pattern, cap_bool with_desc,
                             char **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    struct vmproc *vp = running_vm(self);
    if (!vp)
        return not_running();
    char *text = stam_format(vm_stam(vmproc_vm(vp)), pattern, with_desc != CAP_FALSE);
    if (text)
        *out = cap_str_dup(text);
    free(text);
    return *out ? CAP_OK : CAP_E_OUTOFMEMORY;
}

static cap_result d_ResetStats(IMachineDebugger *self, const char *pattern)
{
    struct vmproc *vp = running_vm(self);
    if (!vp)
        return not_running();
    stam_reset(vm_stam(vmproc_vm(vp)), pattern);
    return CAP_OK;
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

static const struct IMachineDebuggerVtbl debugger_vtbl = {
    .QueryInterface = d_QueryInterface,
    .AddRef = d_AddRef,
    .Release = d_Release,
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

void debugger_init(struct debugger *d, const struct debugger_owner *owner)
{
    d->IMachineDebugger_iface.vtbl = &debugger_vtbl;
    d->owner = owner;
}
