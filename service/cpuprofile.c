/*
 * service/cpuprofile.c - ICPUProfile and the checks of IMachine's
 * cpuProfile: the CPU profiles a machine can name.
 *
 * The table is the VMM's (vmm/cpum/cpum_profile.h), linked from its own
 * archive, libcpum-profile.a, so that the service validates and lists
 * exactly the names the VM process runs without linking the VMM itself:
 * one owner for the fact. Each ICPUProfile object is a small immutable
 * wrapper around one row (rows live as long as the process), made when
 * asked for, like IGuestOSType.
 */
#include <strings.h>

#include <capsule/mem.h>
#include <capsule/object.h>

#include "cpum/cpum_profile.h"
#include "cpuprofile.h"
#include "util.h"

struct cpuprofile {
    ICPUProfile ICPUProfile_iface;
    cap_refcnt ref;
    const struct cpum_profile *row; /* the table's, never freed */
};

static struct cpuprofile *impl(ICPUProfile *iface)
{
    return CAP_CONTAINER_OF(iface, struct cpuprofile, ICPUProfile_iface);
}

static const struct cap_qi_entry cpuprofile_qi[] = {
    CAP_QI_ENTRY(IID_ICPUProfile, struct cpuprofile, ICPUProfile_iface),
    CAP_QI_END,
};

static cap_result cp_QueryInterface(ICPUProfile *self, const cap_uuid *iid, void **out)
{
    return cap_qi_table(impl(self), cpuprofile_qi, iid, out);
}

static uint32_t cp_AddRef(ICPUProfile *self)
{
    return cap_refcnt_inc(&impl(self)->ref);
}

static uint32_t cp_Release(ICPUProfile *self)
{
    struct cpuprofile *c = impl(self);
    uint32_t n = cap_refcnt_dec(&c->ref);
    if (n == 0)
        cap_free(c);
    return n;
}

static cap_result cp_GetName(ICPUProfile *self, char **out)
{
    return svc_return_str(impl(self)->row->name, out);
}

static cap_result cp_GetVendor(ICPUProfile *self, char **out)
{
    return svc_return_str(cpum_vendor_string(impl(self)->row->vendor), out);
}

static cap_result cp_GetDescription(ICPUProfile *self, char **out)
{
    return svc_return_str(impl(self)->row->description, out);
}

static cap_result cp_GetBrand(ICPUProfile *self, char **out)
{
    return svc_return_str(impl(self)->row->brand, out);
}

static const struct ICPUProfileVtbl cpuprofile_vtbl = {
    .QueryInterface = cp_QueryInterface,
    .AddRef = cp_AddRef,
    .Release = cp_Release,
    .GetName = cp_GetName,
    .GetVendor = cp_GetVendor,
    .GetDescription = cp_GetDescription,
    .GetBrand = cp_GetBrand,
};

const char *cpuprofile_canonical(const char *name)
{
    if (!name || !*name)
        return cpum_profile_at(0)->name;
    for (unsigned i = 0; i < cpum_profile_count(); i++) {
        const struct cpum_profile *p = cpum_profile_at(i);
        if (!strcasecmp(p->name, name))
            return p->name;
    }
    return NULL;
}

cap_result cpuprofile_unknown(const char *name, const char *iface)
{
    char names[256];
    return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, iface,
                         "unknown CPU profile '%.80s' (known: %s; see `capsule list cpuprofiles`)",
                         name ? name : "", cpum_profile_names(names, sizeof(names)));
}

cap_result cpuprofile_list(uint32_t *n, ICPUProfile ***out)
{
    if (!n || !out)
        return CAP_E_POINTER;
    unsigned count = cpum_profile_count();
    *n = 0;
    *out = cap_alloc_zero(count * sizeof(ICPUProfile *));
    if (!*out)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    for (unsigned i = 0; i < count; i++) {
        struct cpuprofile *c = cap_alloc_zero(sizeof(*c));
        if (!c) {
            cap_array_free(CAP_TLT_IFACE, i, *out);
            *out = NULL;
            return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
        }
        c->ICPUProfile_iface.vtbl = &cpuprofile_vtbl;
        cap_refcnt_init(&c->ref, 1);
        c->row = cpum_profile_at(i);
        (*out)[i] = &c->ICPUProfile_iface;
    }
    *n = count;
    return CAP_OK;
}
