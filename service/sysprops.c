/*
 * service/sysprops.c - ISystemProperties: limits of this build and the
 * global defaults kept in the global settings file.
 *
 * The limits are the platform's (vmm/platform/platform_limits.h), the same
 * definitions the VM process enforces and IMachine's setters check: the
 * CLI and every other client read them from here, never a copy of their own.
 *
 * Each object is a thin view on the service's core (its root held); the
 * defaults live in the registry's global settings (registry.h) and a setter
 * saves capsule.xml at once, restoring the old value if that fails.
 */
#include <string.h>

#include <capsule/mem.h>
#include <capsule/object.h>

#include "cpuprofile.h"
#include "platform/platform_limits.h"
#include "registry.h"
#include "sysprops.h"

struct sysprops {
    ISystemProperties ISystemProperties_iface;
    cap_refcnt ref;
    struct svc_core *core;
};

static struct sysprops *impl(ISystemProperties *iface)
{
    return CAP_CONTAINER_OF(iface, struct sysprops, ISystemProperties_iface);
}

static const struct cap_qi_entry sp_qi[] = {
    CAP_QI_ENTRY(IID_ISystemProperties, struct sysprops, ISystemProperties_iface),
    CAP_QI_END,
};

static cap_result sp_QueryInterface(ISystemProperties *self, const cap_uuid *iid, void **out)
{
    return cap_qi_table(impl(self), sp_qi, iid, out);
}

static uint32_t sp_AddRef(ISystemProperties *self)
{
    return cap_refcnt_inc(&impl(self)->ref);
}

static uint32_t sp_Release(ISystemProperties *self)
{
    struct sysprops *s = impl(self);
    uint32_t n = cap_refcnt_dec(&s->ref);
    if (n == 0) {
        svc_core_drop(s->core);
        cap_free(s);
    }
    return n;
}

#define CONST_GETTER(name, value)                                                                  \
    static cap_result sp_Get##name(ISystemProperties *self, uint32_t *out)                         \
    {                                                                                              \
        if (!out)                                                                                  \
            return CAP_E_POINTER;                                                                  \
        *out = (value);                                                                            \
        return CAP_OK;                                                                             \
    }

CONST_GETTER(MinGuestRAM, PLATFORM_MIN_RAM_MB)
CONST_GETTER(MaxGuestRAM, PLATFORM_MAX_RAM_MB)
CONST_GETTER(MinGuestCPUCount, PLATFORM_MIN_CPUS)
CONST_GETTER(MaxGuestCPUCount, PLATFORM_MAX_CPUS)
CONST_GETTER(SerialPortCount, SETTINGS_SERIAL_SLOTS)
CONST_GETTER(NetworkAdapterCount, SETTINGS_NIC_SLOTS)

_Static_assert(ExecutionEngine_Auto == PLATFORM_ENGINE_AUTO &&
                   ExecutionEngine_Hm == PLATFORM_ENGINE_HM &&
                   ExecutionEngine_Rem == PLATFORM_ENGINE_REM &&
                   ExecutionEngine_Raw == PLATFORM_ENGINE_RAW,
               "the IDL's ExecutionEngine is numbered as platform_limits.h's engines");

static cap_result sp_GetSupportedEngines(ISystemProperties *self, uint32_t *n,
                                         ExecutionEngine **out)
{
    if (!n || !out)
        return CAP_E_POINTER;
    /* Those the platform's table does not call missing (the VM process's
     * engine choice asks the same table). */
    *out = cap_alloc(PLATFORM_ENGINE_COUNT * sizeof(**out));
    if (!*out)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    *n = 0;
    for (unsigned e = 0; e < PLATFORM_ENGINE_COUNT; e++)
        if (!platform_engine_missing(e))
            (*out)[(*n)++] = (ExecutionEngine)e;
    return CAP_OK;
}

static cap_result sp_GetDefaultMachineFolder(ISystemProperties *self, char **out)
{
    struct registry *r = impl(self)->core->registry;
    svc_core_lock(r->core);
    char *f = registry_machine_folder_locked(r);
    svc_core_unlock(r->core);
    cap_result rc = svc_return_str(f, out);
    cap_str_free(f);
    return rc;
}

/* Replaces *field with value and saves; restores on failure. */
static cap_result set_string(struct registry *r, char **field, const char *value)
{
    if (!value || !settings_text_ok(value))
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, "ISystemProperties",
                             "the value is not valid UTF-8 text");
    char *copy = cap_str_dup(value);
    if (!copy)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    svc_core_lock(r->core);
    char *old = *field;
    *field = copy;
    cap_result rc = registry_save_locked(r);
    if (CAP_FAILED(rc)) {
        *field = old;
        old = copy;
    }
    svc_core_unlock(r->core);
    cap_str_free(old);
    return rc;
}

static cap_result sp_SetDefaultMachineFolder(ISystemProperties *self, const char *v)
{
    struct registry *r = impl(self)->core->registry;
    return set_string(r, &r->global.default_machine_folder, v);
}

static cap_result sp_GetDefaultFrontend(ISystemProperties *self, char **out)
{
    struct registry *r = impl(self)->core->registry;
    svc_core_lock(r->core);
    const char *f = r->global.default_frontend;
    cap_result rc = svc_return_str(f && *f ? f : SVC_DEFAULT_FRONTEND, out);
    svc_core_unlock(r->core);
    return rc;
}

static cap_result sp_SetDefaultFrontend(ISystemProperties *self, const char *v)
{
    struct registry *r = impl(self)->core->registry;
    return set_string(r, &r->global.default_frontend, v);
}

static cap_result set_u32(struct registry *r, uint32_t *field, uint32_t value)
{
    svc_core_lock(r->core);
    uint32_t old = *field;
    *field = value;
    cap_result rc = registry_save_locked(r);
    if (CAP_FAILED(rc))
        *field = old;
    svc_core_unlock(r->core);
    return rc;
}

static cap_result sp_GetLogHistoryCount(ISystemProperties *self, uint32_t *out)
{
    struct registry *r = impl(self)->core->registry;
    if (!out)
        return CAP_E_POINTER;
    svc_core_lock(r->core);
    *out = r->global.log_history_count;
    svc_core_unlock(r->core);
    return CAP_OK;
}

static cap_result sp_SetLogHistoryCount(ISystemProperties *self, uint32_t v)
{
    struct registry *r = impl(self)->core->registry;
    if (v > 100)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, "ISystemProperties",
                             "logHistoryCount %u is above 100", (unsigned)v);
    cap_result rc = set_u32(r, &r->global.log_history_count, v);
    if (CAP_SUCCEEDED(rc))
        svc_log_set_history(v); /* the running log's next rotation keeps as many */
    return rc;
}

static cap_result sp_GetServiceIdleTimeout(ISystemProperties *self, uint32_t *out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = sysprops_idle_timeout(impl(self)->core->registry);
    return CAP_OK;
}

static cap_result sp_SetServiceIdleTimeout(ISystemProperties *self, uint32_t v)
{
    struct registry *r = impl(self)->core->registry;
    return set_u32(r, &r->global.idle_timeout, v);
}

static cap_result sp_GetCpuProfiles(ISystemProperties *self, uint32_t *n, ICPUProfile ***out)
{
    return cpuprofile_list(n, out);
}

static const struct ISystemPropertiesVtbl sp_vtbl = {
    .QueryInterface = sp_QueryInterface,
    .AddRef = sp_AddRef,
    .Release = sp_Release,
    .GetMinGuestRAM = sp_GetMinGuestRAM,
    .GetMaxGuestRAM = sp_GetMaxGuestRAM,
    .GetMinGuestCPUCount = sp_GetMinGuestCPUCount,
    .GetMaxGuestCPUCount = sp_GetMaxGuestCPUCount,
    .GetSerialPortCount = sp_GetSerialPortCount,
    .GetNetworkAdapterCount = sp_GetNetworkAdapterCount,
    .GetSupportedEngines = sp_GetSupportedEngines,
    .GetDefaultMachineFolder = sp_GetDefaultMachineFolder,
    .SetDefaultMachineFolder = sp_SetDefaultMachineFolder,
    .GetDefaultFrontend = sp_GetDefaultFrontend,
    .SetDefaultFrontend = sp_SetDefaultFrontend,
    .GetLogHistoryCount = sp_GetLogHistoryCount,
    .SetLogHistoryCount = sp_SetLogHistoryCount,
    .GetServiceIdleTimeout = sp_GetServiceIdleTimeout,
    .SetServiceIdleTimeout = sp_SetServiceIdleTimeout,
    .GetCpuProfiles = sp_GetCpuProfiles,
};

cap_result sysprops_create(struct svc_core *core, ISystemProperties **out)
{
    struct sysprops *s = cap_alloc_zero(sizeof(*s));
    *out = NULL;
    if (!s)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    s->ISystemProperties_iface.vtbl = &sp_vtbl;
    cap_refcnt_init(&s->ref, 1);
    s->core = core;
    svc_core_hold(core);
    *out = &s->ISystemProperties_iface;
    return CAP_OK;
}

uint32_t sysprops_idle_timeout(struct registry *r)
{
    uint32_t t;
    if (svc_env_u32("CAPSULE_SVC_IDLE_TIMEOUT", &t))
        return t;
    svc_core_lock(r->core);
    t = r->global.idle_timeout;
    svc_core_unlock(r->core);
    return t;
}
