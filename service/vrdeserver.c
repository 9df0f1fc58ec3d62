/*
 * service/vrdeserver.c - IVRDEServer: a machine's remote display server
 * settings (the values and their checks are settings_vrde.c's).
 *
 * A server object is a view on its machine, like ISerialPort: it holds the
 * machine and reads and writes that machine's working settings under the
 * same rules as the machine's own setters.
 */
#include <string.h>

#include <capsule/mem.h>
#include <capsule/object.h>

#include "session_machine.h"
#include "vrdeserver.h"

#define IFACE "IVRDEServer"

struct vrdeserver {
    IVRDEServer IVRDEServer_iface;
    cap_refcnt ref;
    struct machine_obj *m; /* strong */
};

static struct vrdeserver *impl(IVRDEServer *iface)
{
    return CAP_CONTAINER_OF(iface, struct vrdeserver, IVRDEServer_iface);
}

static const struct cap_qi_entry vs_qi[] = {
    CAP_QI_ENTRY(IID_IVRDEServer, struct vrdeserver, IVRDEServer_iface),
    CAP_QI_END,
};

static cap_result vs_QueryInterface(IVRDEServer *self, const cap_uuid *iid, void **out)
{
    return cap_qi_table(impl(self), vs_qi, iid, out);
}

static uint32_t vs_AddRef(IVRDEServer *self)
{
    return cap_refcnt_inc(&impl(self)->ref);
}

static uint32_t vs_Release(IVRDEServer *self)
{
    struct vrdeserver *v = impl(self);
    uint32_t n = cap_refcnt_dec(&v->ref);
    if (n == 0) {
        machine_obj_release(v->m);
        cap_free(v);
    }
    return n;
}

/* Locks and returns the settings (NULL: error set, unlocked). */
static struct vrde_cfg *begin(struct vrdeserver *v, int write, cap_result *rc)
{
    *rc = machine_obj_part_begin(v->m, write, IFACE);
    return CAP_SUCCEEDED(*rc) ? &v->m->cfg.vrde : NULL;
}

static void end(struct vrdeserver *v, int changed)
{
    machine_obj_part_end(v->m, changed);
}

static cap_result vs_GetEnabled(IVRDEServer *self, cap_bool *out)
{
    struct vrdeserver *v = impl(self);
    cap_result rc;
    if (!out)
        return CAP_E_POINTER;
    struct vrde_cfg *c = begin(v, 0, &rc);
    if (!c)
        return rc;
    *out = c->enabled;
    end(v, 0);
    return CAP_OK;
}

static cap_result vs_SetEnabled(IVRDEServer *self, cap_bool on)
{
    struct vrdeserver *v = impl(self);
    cap_result rc;
    struct vrde_cfg *c = begin(v, 1, &rc);
    if (!c)
        return rc;
    c->enabled = on ? CAP_TRUE : CAP_FALSE;
    end(v, 1);
    return CAP_OK;
}

static cap_result vs_GetVRDEProperties(IVRDEServer *self, uint32_t *n, char ***out)
{
    if (!n || !out)
        return CAP_E_POINTER;
    uint32_t count = 0;
    while (settings_vrde_keys[count])
        count++;
    char **keys = cap_alloc_zero(count * sizeof(char *));
    for (uint32_t i = 0; keys && i < count; i++)
        if (!(keys[i] = cap_str_dup(settings_vrde_keys[i]))) {
            cap_array_free(CAP_TLT_STRING, i, keys);
            keys = NULL;
        }
    if (!keys)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    *n = count;
    *out = keys;
    return CAP_OK;
}

static cap_result vs_SetVRDEProperty(IVRDEServer *self, const char *key, const char *value)
{
    struct vrdeserver *v = impl(self);
    cap_result rc;
    struct vrde_cfg *c = begin(v, 1, &rc);
    if (!c)
        return rc;
    rc = settings_vrde_set(c, key, value);
    end(v, CAP_SUCCEEDED(rc));
    return rc;
}

static cap_result vs_GetVRDEProperty(IVRDEServer *self, const char *key, char **out)
{
    struct vrdeserver *v = impl(self);
    cap_result rc;
    struct vrde_cfg *c = begin(v, 0, &rc);
    if (!c)
        return rc;
    const char *value = settings_vrde_get(c, key);
    rc = value ? svc_return_str(value, out)
               : cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                               "unknown VRDE property '%s' (known: TCP/Ports, TCP/Address, "
                               "VNCPassword)",
                               key ? key : "");
    end(v, 0);
    return rc;
}

static const struct IVRDEServerVtbl vs_vtbl = {
    .QueryInterface = vs_QueryInterface,
    .AddRef = vs_AddRef,
    .Release = vs_Release,
    .GetEnabled = vs_GetEnabled,
    .SetEnabled = vs_SetEnabled,
    .GetVRDEProperties = vs_GetVRDEProperties,
    .SetVRDEProperty = vs_SetVRDEProperty,
    .GetVRDEProperty = vs_GetVRDEProperty,
};

cap_result vrdeserver_create(struct machine_obj *m, IVRDEServer **out)
{
    *out = NULL;
    struct vrdeserver *v = cap_alloc_zero(sizeof(*v));
    if (!v)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    v->IVRDEServer_iface.vtbl = &vs_vtbl;
    cap_refcnt_init(&v->ref, 1);
    v->m = m;
    machine_obj_addref(m);
    *out = &v->IVRDEServer_iface;
    return CAP_OK;
}
