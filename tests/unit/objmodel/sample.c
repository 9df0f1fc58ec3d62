/*
 * sample.c - a sample object implementing two interfaces, written the way
 * every C object in the project is: one struct embedding one member per
 * interface, impl_from_* through CAP_CONTAINER_OF, QueryInterface from a
 * table, the secondary interface forwarding to the primary.
 */
#include <capsule/mem.h>
#include <capsule/object.h>
#include <capsule/result.h>

#include "objmodel_test.h"

struct sample {
    ICounter ICounter_iface; /* primary: the identity */
    INamed INamed_iface;
    cap_refcnt ref;
    int32_t value; /* atomic: several threads Add */
    char *name;
    int *destroyed;
};

static const struct cap_qi_entry sample_qi[] = {
    CAP_QI_ENTRY(IID_ICounter, struct sample, ICounter_iface),
    CAP_QI_ENTRY(IID_INamed, struct sample, INamed_iface),
    CAP_QI_END,
};

static struct sample *impl_from_ICounter(ICounter *iface)
{
    return CAP_CONTAINER_OF(iface, struct sample, ICounter_iface);
}

static struct sample *impl_from_INamed(INamed *iface)
{
    return CAP_CONTAINER_OF(iface, struct sample, INamed_iface);
}

static void sample_destroy(struct sample *s)
{
    if (s->destroyed)
        __atomic_add_fetch(s->destroyed, 1, __ATOMIC_RELAXED);
    cap_str_free(s->name);
    cap_free(s);
}

static cap_result counter_qi(ICounter *self, const cap_uuid *iid, void **out)
{
    return cap_qi_table(impl_from_ICounter(self), sample_qi, iid, out);
}

static uint32_t counter_addref(ICounter *self)
{
    return cap_refcnt_inc(&impl_from_ICounter(self)->ref);
}

static uint32_t counter_release(ICounter *self)
{
    struct sample *s = impl_from_ICounter(self);
    uint32_t n = cap_refcnt_dec(&s->ref);
    if (n == 0)
        sample_destroy(s);
    return n;
}

static cap_result counter_add(ICounter *self, int32_t delta)
{
    __atomic_add_fetch(&impl_from_ICounter(self)->value, delta, __ATOMIC_RELAXED);
    return CAP_OK;
}

static cap_result counter_get_value(ICounter *self, int32_t *value)
{
    if (!value)
        return CAP_E_POINTER;
    *value = __atomic_load_n(&impl_from_ICounter(self)->value, __ATOMIC_RELAXED);
    return CAP_OK;
}

static const struct ICounterVtbl counter_vtbl = {
    .QueryInterface = counter_qi,
    .AddRef = counter_addref,
    .Release = counter_release,
    .Add = counter_add,
    .GetValue = counter_get_value,
};

static cap_result named_qi(INamed *self, const cap_uuid *iid, void **out)
{
    return counter_qi(&impl_from_INamed(self)->ICounter_iface, iid, out);
}

static uint32_t named_addref(INamed *self)
{
    return counter_addref(&impl_from_INamed(self)->ICounter_iface);
}

static uint32_t named_release(INamed *self)
{
    return counter_release(&impl_from_INamed(self)->ICounter_iface);
}

static cap_result named_get_name(INamed *self, char **name)
{
    if (!name)
        return CAP_E_POINTER;
    *name = cap_str_dup(impl_from_INamed(self)->name);
    return CAP_OK;
}

static cap_result named_set_name(INamed *self, const char *name)
{
    struct sample *s = impl_from_INamed(self);
    char *copy = cap_str_dup(name);
    if (name && !copy)
        return CAP_E_OUTOFMEMORY;
    cap_str_free(s->name);
    s->name = copy;
    return CAP_OK;
}

static const struct INamedVtbl named_vtbl = {
    .QueryInterface = named_qi,
    .AddRef = named_addref,
    .Release = named_release,
    .GetName = named_get_name,
    .SetName = named_set_name,
};

cap_result sample_create(int *destroyed, ICounter **out)
{
    *out = NULL;
    struct sample *s = cap_alloc_zero(sizeof(*s));
    if (!s)
        return CAP_E_OUTOFMEMORY;
    s->ICounter_iface.vtbl = &counter_vtbl;
    s->INamed_iface.vtbl = &named_vtbl;
    cap_refcnt_init(&s->ref, 1);
    s->destroyed = destroyed;
    *out = &s->ICounter_iface;
    return CAP_OK;
}

uint32_t sample_refcount(ICounter *iface)
{
    return cap_refcnt_get(&impl_from_ICounter(iface)->ref);
}
