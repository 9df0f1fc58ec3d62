/*
 * service/netadapter.c - INetworkAdapter (one network adapter slot of a
 * machine) and INATEngine (that adapter's port forwarding rules); the
 * values and their checks are settings_net.c's.
 *
 * Both objects are views on (machine, slot), like ISerialPort: they hold
 * the machine and read and write its working settings under the same
 * rules as the machine's own setters (machine_obj_part_begin).
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/object.h>

#include "netadapter.h"
#include "registry.h"
#include "session_machine.h"

#define IFACE     "INetworkAdapter"
#define NAT_IFACE "INATEngine"

struct netadapter {
    INetworkAdapter INetworkAdapter_iface;
    cap_refcnt ref;
    struct machine_obj *m; /* strong */
    uint32_t slot;
};

struct natengine {
    INATEngine INATEngine_iface;
    cap_refcnt ref;
    struct machine_obj *m; /* strong */
    uint32_t slot;
};

static struct netadapter *impl(INetworkAdapter *iface)
{
    return CAP_CONTAINER_OF(iface, struct netadapter, INetworkAdapter_iface);
}

static struct natengine *impl_nat(INATEngine *iface)
{
    return CAP_CONTAINER_OF(iface, struct natengine, INATEngine_iface);
}

static cap_result oom(void)
{
    return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
}

/* Locks and returns the slot's settings (NULL: error set, unlocked). */
static struct nic_cfg *begin(struct machine_obj *m, uint32_t slot, int write, const char *iface,
                             cap_result *rc)
{
    *rc = machine_obj_part_begin(m, write, iface);
    return CAP_SUCCEEDED(*rc) ? &m->cfg.nic[slot] : NULL;
}

/* ---- INetworkAdapter ---------------------------------------------------------------------- */

static const struct cap_qi_entry na_qi[] = {
    CAP_QI_ENTRY(IID_INetworkAdapter, struct netadapter, INetworkAdapter_iface),
    CAP_QI_END,
};

static cap_result na_QueryInterface(INetworkAdapter *self, const cap_uuid *iid, void **out)
{
    return cap_qi_table(impl(self), na_qi, iid, out);
}

static uint32_t na_AddRef(INetworkAdapter *self)
{
    return cap_refcnt_inc(&impl(self)->ref);
}

static uint32_t na_Release(INetworkAdapter *self)
{
    struct netadapter *a = impl(self);
    uint32_t n = cap_refcnt_dec(&a->ref);
    if (n == 0) {
        machine_obj_release(a->m);
        cap_free(a);
    }
    return n;
}

static cap_result na_GetSlot(INetworkAdapter *self, uint32_t *out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = impl(self)->slot;
    return CAP_OK;
}

/* A getter of one field: copies it out under the lock. */
#define NA_GETTER(Name, type, field)                                                               \
    static cap_result na_Get##Name(INetworkAdapter *self, type *out)                               \
    {                                                                                              \
        struct netadapter *a = impl(self);                                                         \
        cap_result rc;                                                                             \
        if (!out)                                                                                  \
            return CAP_E_POINTER;                                                                  \
        struct nic_cfg *n = begin(a->m, a->slot, 0, IFACE, &rc);                                   \
        if (!n)                                                                                    \
            return rc;                                                                             \
        *out = n->field;                                                                           \
        machine_obj_part_end(a->m, 0);                                                             \
        return CAP_OK;                                                                             \
    }

NA_GETTER(Enabled, cap_bool, enabled)
NA_GETTER(AdapterType, NetworkAdapterType, type)
NA_GETTER(CableConnected, cap_bool, cable)
NA_GETTER(AttachmentType, NetworkAttachmentType, attachment)
NA_GETTER(TraceEnabled, cap_bool, trace)

static cap_result na_SetEnabled(INetworkAdapter *self, cap_bool on)
{
    struct netadapter *a = impl(self);
    cap_result rc;
    struct nic_cfg *n = begin(a->m, a->slot, 1, IFACE, &rc);
    if (!n)
        return rc;
    n->enabled = on ? CAP_TRUE : CAP_FALSE;
    if (on && !n->mac[0]) /* VirtualBox gives every adapter one */
        registry_new_mac_locked(a->m->core->registry, &a->m->cfg, n->mac);
    machine_obj_part_end(a->m, 1);
    return CAP_OK;
}

static cap_result na_SetAdapterType(INetworkAdapter *self, NetworkAdapterType t)
{
    struct netadapter *a = impl(self);
    cap_result rc;
    if (!settings_nic_type_name(t))
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "adapter type %d is not in this build (I82540EM or Virtio)", (int)t);
    struct nic_cfg *n = begin(a->m, a->slot, 1, IFACE, &rc);
    if (!n)
        return rc;
    n->type = t;
    machine_obj_part_end(a->m, 1);
    return CAP_OK;
}

/* Sets the flag at `offset` in the slot's settings. */
static cap_result set_flag(INetworkAdapter *self, size_t offset, cap_bool on)
{
    struct netadapter *a = impl(self);
    cap_result rc;
    struct nic_cfg *n = begin(a->m, a->slot, 1, IFACE, &rc);
    if (!n)
        return rc;
    *(cap_bool *)((char *)n + offset) = on ? CAP_TRUE : CAP_FALSE;
    machine_obj_part_end(a->m, 1);
    return CAP_OK;
}

static cap_result na_SetCableConnected(INetworkAdapter *self, cap_bool on)
{
    return set_flag(self, offsetof(struct nic_cfg, cable), on);
}

static cap_result na_SetAttachmentType(INetworkAdapter *self, NetworkAttachmentType t)
{
    struct netadapter *a = impl(self);
    cap_result rc;
    if (t != NetworkAttachmentType_Null && t != NetworkAttachmentType_NAT)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "attachment type %d is not in this build (Null or NAT)", (int)t);
    struct nic_cfg *n = begin(a->m, a->slot, 1, IFACE, &rc);
    if (!n)
        return rc;
    n->attachment = t;
    machine_obj_part_end(a->m, 1);
    return CAP_OK;
}

static cap_result na_SetTraceEnabled(INetworkAdapter *self, cap_bool on)
{
    return set_flag(self, offsetof(struct nic_cfg, trace), on);
}

/* A copy of the MAC address (trace false) or the trace file. */
static cap_result get_text(INetworkAdapter *self, bool trace, char **out)
{
    struct netadapter *a = impl(self);
    cap_result rc;
    if (!out)
        return CAP_E_POINTER;
    struct nic_cfg *n = begin(a->m, a->slot, 0, IFACE, &rc);
    if (!n)
        return rc;
    rc = svc_return_str(trace ? n->trace_file : n->mac, out);
    machine_obj_part_end(a->m, 0);
    return rc;
}

static cap_result na_GetMACAddress(INetworkAdapter *self, char **out)
{
    return get_text(self, false, out);
}

static cap_result na_SetMACAddress(INetworkAdapter *self, const char *mac)
{
    struct netadapter *a = impl(self);
    char norm[SETTINGS_MAC_LEN + 1];
    cap_result rc;
    const char *bad = mac && *mac ? settings_mac_normalise(mac, norm) : NULL;
    if (bad)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE, "MAC address '%s' %s", mac,
                             bad);
    struct nic_cfg *n = begin(a->m, a->slot, 1, IFACE, &rc);
    if (!n)
        return rc;
    if (!mac || !*mac)
        registry_new_mac_locked(a->m->core->registry, &a->m->cfg, norm);
    memcpy(n->mac, norm, sizeof(n->mac));
    machine_obj_part_end(a->m, 1);
    return CAP_OK;
}

static cap_result na_GetTraceFile(INetworkAdapter *self, char **out)
{
    return get_text(self, true, out);
}

static cap_result na_SetTraceFile(INetworkAdapter *self, const char *path)
{
    struct netadapter *a = impl(self);
    cap_result rc;
    if (!path)
        path = "";
    if ((*path && *path != '/') || !settings_text_ok(path) || strpbrk(path, "\r\n"))
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, IFACE,
                             "trace file '%s' is not an absolute path on one line", path);
    char *copy = cap_str_dup(path);
    if (!copy)
        return oom();
    struct nic_cfg *n = begin(a->m, a->slot, 1, IFACE, &rc);
    if (!n) {
        cap_str_free(copy);
        return rc;
    }
    cap_str_free(n->trace_file);
    n->trace_file = copy;
    machine_obj_part_end(a->m, 1);
    return CAP_OK;
}

static cap_result natengine_create(struct machine_obj *m, uint32_t slot, INATEngine **out);

static cap_result na_GetNATEngine(INetworkAdapter *self, INATEngine **out)
{
    struct netadapter *a = impl(self);
    if (!out)
        return CAP_E_POINTER;
    return natengine_create(a->m, a->slot, out);
}

static const struct INetworkAdapterVtbl na_vtbl = {
    .QueryInterface = na_QueryInterface,
    .AddRef = na_AddRef,
    .Release = na_Release,
    .GetSlot = na_GetSlot,
    .GetEnabled = na_GetEnabled,
    .SetEnabled = na_SetEnabled,
    .GetAdapterType = na_GetAdapterType,
    .SetAdapterType = na_SetAdapterType,
    .GetMACAddress = na_GetMACAddress,
    .SetMACAddress = na_SetMACAddress,
    .GetCableConnected = na_GetCableConnected,
    .SetCableConnected = na_SetCableConnected,
    .GetAttachmentType = na_GetAttachmentType,
    .SetAttachmentType = na_SetAttachmentType,
    .GetTraceEnabled = na_GetTraceEnabled,
    .SetTraceEnabled = na_SetTraceEnabled,
    .GetTraceFile = na_GetTraceFile,
    .SetTraceFile = na_SetTraceFile,
    .GetNATEngine = na_GetNATEngine,
};

cap_result netadapter_create(struct machine_obj *m, uint32_t slot, INetworkAdapter **out)
{
    *out = NULL;
    if (slot >= SETTINGS_NIC_SLOTS)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, "IMachine",
                             "network adapter slot %u is not below %u", (unsigned)slot,
                             SETTINGS_NIC_SLOTS);
    struct netadapter *a = cap_alloc_zero(sizeof(*a));
    if (!a)
        return oom();
    a->INetworkAdapter_iface.vtbl = &na_vtbl;
    cap_refcnt_init(&a->ref, 1);
    a->m = m;
    a->slot = slot;
    machine_obj_addref(m);
    *out = &a->INetworkAdapter_iface;
    return CAP_OK;
}

/* ---- INATEngine --------------------------------------------------------------------------- */

static const struct cap_qi_entry ne_qi[] = {
    CAP_QI_ENTRY(IID_INATEngine, struct natengine, INATEngine_iface),
    CAP_QI_END,
};

static cap_result ne_QueryInterface(INATEngine *self, const cap_uuid *iid, void **out)
{
    return cap_qi_table(impl_nat(self), ne_qi, iid, out);
}

static uint32_t ne_AddRef(INATEngine *self)
{
    return cap_refcnt_inc(&impl_nat(self)->ref);
}

static uint32_t ne_Release(INATEngine *self)
{
    struct natengine *e = impl_nat(self);
    uint32_t n = cap_refcnt_dec(&e->ref);
    if (n == 0) {
        machine_obj_release(e->m);
        cap_free(e);
    }
    return n;
}

static cap_result ne_GetRedirects(INATEngine *self, uint32_t *count, char ***out)
{
    struct natengine *e = impl_nat(self);
    cap_result rc;
    if (!count || !out)
        return CAP_E_POINTER;
    struct nic_cfg *n = begin(e->m, e->slot, 0, NAT_IFACE, &rc);
    if (!n)
        return rc;
    char **list = cap_alloc_zero((n->n_rules ? n->n_rules : 1) * sizeof(char *));
    for (uint32_t i = 0; list && i < n->n_rules; i++) {
        char buf[CAP_NAT_RULE_TEXT_MAX];
        cap_nat_rule_format(&n->rules[i], buf, sizeof(buf));
        if (!(list[i] = cap_str_dup(buf))) {
            cap_array_free(CAP_TLT_STRING, i, list);
            list = NULL;
        }
    }
    uint32_t total = n->n_rules;
    machine_obj_part_end(e->m, 0);
    if (!list)
        return oom();
    *count = total;
    *out = list;
    return CAP_OK;
}

static cap_result ne_AddRedirect(INATEngine *self, const char *name, uint32_t proto,
                                 const char *host_ip, uint16_t host_port, const char *guest_ip,
                                 uint16_t guest_port)
{
    struct natengine *e = impl_nat(self);
    struct cap_nat_rule r;
    cap_result rc;
    memset(&r, 0, sizeof(r));
    if (!name || strlen(name) > CAP_NAT_RULE_NAME_MAX || proto > 1 ||
        (host_ip && strlen(host_ip) >= sizeof(r.host_ip)) ||
        (guest_ip && strlen(guest_ip) >= sizeof(r.guest_ip)))
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, NAT_IFACE,
                             "port forwarding rule '%s': a name longer than %u bytes, a protocol "
                             "other than 0 (UDP) or 1 (TCP), or an address that is too long",
                             name ? name : "", CAP_NAT_RULE_NAME_MAX);
    strcpy(r.name, name);
    strcpy(r.host_ip, host_ip ? host_ip : "");
    strcpy(r.guest_ip, guest_ip ? guest_ip : "");
    r.udp = proto == 0;
    r.host_port = host_port;
    r.guest_port = guest_port;
    struct nic_cfg *n = begin(e->m, e->slot, 1, NAT_IFACE, &rc);
    if (!n)
        return rc;
    rc = settings_nat_add(n, &r, NAT_IFACE);
    machine_obj_part_end(e->m, CAP_SUCCEEDED(rc));
    return rc;
}

static cap_result ne_RemoveRedirect(INATEngine *self, const char *name)
{
    struct natengine *e = impl_nat(self);
    cap_result rc;
    struct nic_cfg *n = begin(e->m, e->slot, 1, NAT_IFACE, &rc);
    if (!n)
        return rc;
    rc = settings_nat_remove(n, name, NAT_IFACE);
    machine_obj_part_end(e->m, CAP_SUCCEEDED(rc));
    return rc;
}

static const struct INATEngineVtbl ne_vtbl = {
    .QueryInterface = ne_QueryInterface,
    .AddRef = ne_AddRef,
    .Release = ne_Release,
    .GetRedirects = ne_GetRedirects,
    .AddRedirect = ne_AddRedirect,
    .RemoveRedirect = ne_RemoveRedirect,
};

static cap_result natengine_create(struct machine_obj *m, uint32_t slot, INATEngine **out)
{
    *out = NULL;
    struct natengine *e = cap_alloc_zero(sizeof(*e));
    if (!e)
        return oom();
    e->INATEngine_iface.vtbl = &ne_vtbl;
    cap_refcnt_init(&e->ref, 1);
    e->m = m;
    e->slot = slot;
    machine_obj_addref(m);
    *out = &e->INATEngine_iface;
    return CAP_OK;
}
