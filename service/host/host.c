/*
 * service/host/host.c - the Host class: IHost over the OS probe.
 *
 * Host is a component (libcapsule-host.so + host.manifest) so that every
 * process finds it the same way, through the registry: capsule-svc hands it
 * out as ICapsule's host, and the SDK demo creates one directly. The object
 * holds no state besides its reference count; every getter asks the OS probe
 * (host_probe_<os>.c) afresh.
 */
#include <stdio.h>
#include <stdlib.h>

#include <capsule/capsule.h>
#include <capsule/component.h>
#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/object.h>

#include "host_probe.h"

struct host {
    IHost IHost_iface;
    cap_refcnt ref;
};

static struct host *impl_from_IHost(IHost *iface)
{
    return CAP_CONTAINER_OF(iface, struct host, IHost_iface);
}

static const struct cap_qi_entry host_qi[] = {
    CAP_QI_ENTRY(IID_IHost, struct host, IHost_iface),
    CAP_QI_END,
};

static cap_result host_QueryInterface(IHost *self, const cap_uuid *iid, void **out)
{
    return cap_qi_table(impl_from_IHost(self), host_qi, iid, out);
}

static uint32_t host_AddRef(IHost *self)
{
    return cap_refcnt_inc(&impl_from_IHost(self)->ref);
}

static uint32_t host_Release(IHost *self)
{
    struct host *h = impl_from_IHost(self);
    uint32_t n = cap_refcnt_dec(&h->ref);
    if (n == 0)
        cap_free(h);
    return n;
}

/* Stores a copy of s in *out; the one place string results are made. */
static cap_result return_string(const char *s, char **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = cap_str_dup(s);
    return *out ? CAP_OK : CAP_E_OUTOFMEMORY;
}

#define CHECK_OUT(p)                                                                               \
    do {                                                                                           \
        if (!(p))                                                                                  \
            return cap_error_set(CAP_E_POINTER, "capsule-host", "IHost", "NULL out pointer");     \
    } while (0)

static cap_result host_GetProcessorCount(IHost *self, uint32_t *out)
{
    CHECK_OUT(out);
    struct host_cpu cpu;
    host_probe_cpu(&cpu);
    *out = cpu.count;
    return CAP_OK;
}

static cap_result host_GetProcessorDescription(IHost *self, char **out)
{
    struct host_cpu cpu;
    host_probe_cpu(&cpu);
    return return_string(cpu.description, out);
}

static cap_result host_GetProcessorSpeed(IHost *self, uint32_t *out)
{
    CHECK_OUT(out);
    struct host_cpu cpu;
    host_probe_cpu(&cpu);
    *out = cpu.mhz;
    return CAP_OK;
}

static cap_result host_GetHwVirtSupported(IHost *self, cap_bool *out)
{
    CHECK_OUT(out);
    struct host_cpu cpu;
    host_probe_cpu(&cpu);
    *out = cpu.hw_virt;
    return CAP_OK;
}

static cap_result host_GetMemorySize(IHost *self, uint32_t *out)
{
    CHECK_OUT(out);
    uint32_t avail;
    return host_probe_memory(out, &avail);
}

static cap_result host_GetMemoryAvailable(IHost *self, uint32_t *out)
{
    CHECK_OUT(out);
    uint32_t total;
    return host_probe_memory(&total, out);
}

static cap_result host_os(int which, char **out)
{
    char name[128], version[128];
    if (out)
        *out = NULL;
    cap_result rc = host_probe_os(name, sizeof(name), version, sizeof(version));
    if (CAP_FAILED(rc))
        return rc;
    return return_string(which ? version : name, out);
}

static cap_result host_GetOperatingSystem(IHost *self, char **out)
{
    return host_os(0, out);
}

static cap_result host_GetOsVersion(IHost *self, char **out)
{
    return host_os(1, out);
}

static cap_result host_GetHostDriver(IHost *self, HostDriverKind *out)
{
    CHECK_OUT(out);
    struct host_driver drv;
    host_probe_driver(&drv);
    *out = drv.kind;
    return CAP_OK;
}

static cap_result host_GetHostDriverAvailable(IHost *self, cap_bool *out)
{
    CHECK_OUT(out);
    struct host_driver drv;
    host_probe_driver(&drv);
    *out = drv.available;
    return CAP_OK;
}

static cap_result host_GetHostDriverStatus(IHost *self, char **out)
{
    struct host_driver drv;
    host_probe_driver(&drv);
    return return_string(drv.status, out);
}

static cap_result host_GetUtcTime(IHost *self, int64_t *out)
{
    CHECK_OUT(out);
    int16_t off;
    host_probe_time(out, &off);
    return CAP_OK;
}

static cap_result host_GetUtcOffset(IHost *self, int16_t *out)
{
    CHECK_OUT(out);
    int64_t ms;
    host_probe_time(&ms, out);
    return CAP_OK;
}

static const struct IHostVtbl host_vtbl = {
    .QueryInterface = host_QueryInterface,
    .AddRef = host_AddRef,
    .Release = host_Release,
    .GetProcessorCount = host_GetProcessorCount,
    .GetProcessorDescription = host_GetProcessorDescription,
    .GetProcessorSpeed = host_GetProcessorSpeed,
    .GetHwVirtSupported = host_GetHwVirtSupported,
    .GetMemorySize = host_GetMemorySize,
    .GetMemoryAvailable = host_GetMemoryAvailable,
    .GetOperatingSystem = host_GetOperatingSystem,
    .GetOsVersion = host_GetOsVersion,
    .GetHostDriver = host_GetHostDriver,
    .GetHostDriverAvailable = host_GetHostDriverAvailable,
    .GetHostDriverStatus = host_GetHostDriverStatus,
    .GetUtcTime = host_GetUtcTime,
    .GetUtcOffset = host_GetUtcOffset,
};

static cap_result host_create(struct cap_registry *reg, void *ctx, const cap_uuid *iid, void **out)
{
    *out = NULL;
    struct host *h = cap_alloc_zero(sizeof(*h));
    if (!h)
        return cap_error_set(CAP_E_OUTOFMEMORY, "capsule-host", "IHost", "out of memory");
    h->IHost_iface.vtbl = &host_vtbl;
    cap_refcnt_init(&h->ref, 1);
    cap_result rc = host_QueryInterface(&h->IHost_iface, iid, out);
    host_Release(&h->IHost_iface);
    return rc;
}

static const struct cap_typelib *const host_typelibs[] = {&capsule_typelib};

static const struct cap_component_class host_classes[] = {
    {&CLSID_Host, CAP_CONTRACT_Host, "Host", host_create},
};

static const struct cap_component host_component = {
    .abi = CAP_COMPONENT_ABI,
    .name = "host",
    .n_classes = 1,
    .classes = host_classes,
    .n_typelibs = 1,
    .typelibs = host_typelibs,
};

CAP_COMPONENT_DEFINE(host_component)
