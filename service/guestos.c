/*
 * service/guestos.c - IGuestOSType: the guest kinds this build knows.
 *
 * A constant table; each IGuestOSType object is a small immutable wrapper
 * around one row, made when asked for. createMachine takes its defaults
 * (memory, CPUs, kernel command line) from the row a machine names.
 */
#include <strings.h>

#include <capsule/mem.h>
#include <capsule/object.h>

#include "guestos.h"
#include "util.h"

static const struct guestos_info guestos_table[] = {
    {"Other", "Other", "Other", "Other/Unknown", CAP_FALSE, 64, 1, ""},
    {"Other_64", "Other", "Other", "Other/Unknown (64-bit)", CAP_TRUE, 128, 1, ""},
    {"Linux", "Linux", "Linux", "Linux (32-bit)", CAP_FALSE, 256, 1, "console=ttyS0"},
    {"Linux_64", "Linux", "Linux", "Linux (64-bit)", CAP_TRUE, 512, 1, "console=ttyS0"},
    {"Multiboot", "Other", "Other", "Multiboot kernel", CAP_FALSE, 32, 1, ""},
    {"FlatBinary", "Other", "Other", "Flat binary payload (tests)", CAP_FALSE, 16, 1, ""},
};
#define N_GUESTOS (sizeof(guestos_table) / sizeof(guestos_table[0]))

struct guestos {
    IGuestOSType IGuestOSType_iface;
    cap_refcnt ref;
    const struct guestos_info *info;
};

static struct guestos *impl(IGuestOSType *iface)
{
    return CAP_CONTAINER_OF(iface, struct guestos, IGuestOSType_iface);
}

static const struct cap_qi_entry guestos_qi[] = {
    CAP_QI_ENTRY(IID_IGuestOSType, struct guestos, IGuestOSType_iface),
    CAP_QI_END,
};

static cap_result go_QueryInterface(IGuestOSType *self, const cap_uuid *iid, void **out)
{
    return cap_qi_table(impl(self), guestos_qi, iid, out);
}

static uint32_t go_AddRef(IGuestOSType *self)
{
    return cap_refcnt_inc(&impl(self)->ref);
}

static uint32_t go_Release(IGuestOSType *self)
{
    struct guestos *g = impl(self);
    uint32_t n = cap_refcnt_dec(&g->ref);
    if (n == 0)
        cap_free(g);
    return n;
}

static cap_result go_GetId(IGuestOSType *self, char **out)
{
    return svc_return_str(impl(self)->info->id, out);
}

static cap_result go_GetFamilyId(IGuestOSType *self, char **out)
{
    return svc_return_str(impl(self)->info->family, out);
}

static cap_result go_GetFamilyDescription(IGuestOSType *self, char **out)
{
    return svc_return_str(impl(self)->info->family_description, out);
}

static cap_result go_GetDescription(IGuestOSType *self, char **out)
{
    return svc_return_str(impl(self)->info->description, out);
}

static cap_result go_GetIs64Bit(IGuestOSType *self, cap_bool *out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = impl(self)->info->is64;
    return CAP_OK;
}

static cap_result go_GetRecommendedRAM(IGuestOSType *self, uint32_t *out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = impl(self)->info->ram;
    return CAP_OK;
}

static cap_result go_GetRecommendedCPUCount(IGuestOSType *self, uint32_t *out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = impl(self)->info->cpus;
    return CAP_OK;
}

static cap_result go_GetRecommendedCmdline(IGuestOSType *self, char **out)
{
    return svc_return_str(impl(self)->info->cmdline, out);
}

static const struct IGuestOSTypeVtbl guestos_vtbl = {
    .QueryInterface = go_QueryInterface,
    .AddRef = go_AddRef,
    .Release = go_Release,
    .GetId = go_GetId,
    .GetFamilyId = go_GetFamilyId,
    .GetFamilyDescription = go_GetFamilyDescription,
    .GetDescription = go_GetDescription,
    .GetIs64Bit = go_GetIs64Bit,
    .GetRecommendedRAM = go_GetRecommendedRAM,
    .GetRecommendedCPUCount = go_GetRecommendedCPUCount,
    .GetRecommendedCmdline = go_GetRecommendedCmdline,
};

const struct guestos_info *guestos_lookup(const char *id)
{
    for (size_t i = 0; id && i < N_GUESTOS; i++)
        if (!strcasecmp(guestos_table[i].id, id))
            return &guestos_table[i];
    return NULL;
}

static cap_result wrap(const struct guestos_info *info, IGuestOSType **out)
{
    struct guestos *g = cap_alloc_zero(sizeof(*g));
    if (!g)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    g->IGuestOSType_iface.vtbl = &guestos_vtbl;
    cap_refcnt_init(&g->ref, 1);
    g->info = info;
    *out = &g->IGuestOSType_iface;
    return CAP_OK;
}

cap_result guestos_get(const char *id, IGuestOSType **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    const struct guestos_info *info = guestos_lookup(id);
    if (!info)
        return cap_error_set(CAP_E_OBJECT_NOT_FOUND, SVC_COMPONENT, "ICapsule",
                             "no guest OS type '%s' (see `capsule list ostypes`)", id ? id : "");
    return wrap(info, out);
}

cap_result guestos_list(uint32_t *n, IGuestOSType ***out)
{
    if (!n || !out)
        return CAP_E_POINTER;
    *n = 0;
    *out = cap_alloc_zero(N_GUESTOS * sizeof(IGuestOSType *));
    if (!*out)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    for (size_t i = 0; i < N_GUESTOS; i++) {
        cap_result rc = wrap(&guestos_table[i], &(*out)[i]);
        if (CAP_FAILED(rc)) {
            cap_array_free(CAP_TLT_IFACE, (uint32_t)i, *out);
            *out = NULL;
            return rc;
        }
    }
    *n = (uint32_t)N_GUESTOS;
    return CAP_OK;
}
