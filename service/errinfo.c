/*
 * service/errinfo.c - IErrorInfo: a failure kept as an object.
 *
 * The service keeps failures where they must outlive the call that hit
 * them: the reason a machine is inaccessible (IMachine's accessError) and
 * the outcome of a progress. The object copies a struct cap_error_info and
 * is immutable afterwards.
 */
#include <capsule/mem.h>
#include <capsule/object.h>

#include "errinfo.h"
#include "util.h"

struct errinfo {
    IErrorInfo IErrorInfo_iface;
    cap_refcnt ref;
    struct cap_error_info ei;
};

static struct errinfo *impl_from_IErrorInfo(IErrorInfo *iface)
{
    return CAP_CONTAINER_OF(iface, struct errinfo, IErrorInfo_iface);
}

static const struct cap_qi_entry errinfo_qi[] = {
    CAP_QI_ENTRY(IID_IErrorInfo, struct errinfo, IErrorInfo_iface),
    CAP_QI_END,
};

static cap_result ei_QueryInterface(IErrorInfo *self, const cap_uuid *iid, void **out)
{
    return cap_qi_table(impl_from_IErrorInfo(self), errinfo_qi, iid, out);
}

static uint32_t ei_AddRef(IErrorInfo *self)
{
    return cap_refcnt_inc(&impl_from_IErrorInfo(self)->ref);
}

static uint32_t ei_Release(IErrorInfo *self)
{
    struct errinfo *e = impl_from_IErrorInfo(self);
    uint32_t n = cap_refcnt_dec(&e->ref);
    if (n == 0) {
        cap_error_info_clear(&e->ei);
        cap_free(e);
    }
    return n;
}

static cap_result ei_GetResultCode(IErrorInfo *self, int32_t *out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = impl_from_IErrorInfo(self)->ei.result;
    return CAP_OK;
}

static cap_result ei_GetInterfaceName(IErrorInfo *self, char **out)
{
    const char *s = impl_from_IErrorInfo(self)->ei.iface;
    return svc_return_str(s ? s : "", out);
}

static cap_result ei_GetComponent(IErrorInfo *self, char **out)
{
    const char *s = impl_from_IErrorInfo(self)->ei.component;
    return svc_return_str(s ? s : "", out);
}

static cap_result ei_GetMessage(IErrorInfo *self, char **out)
{
    const char *s = impl_from_IErrorInfo(self)->ei.message;
    return svc_return_str(s ? s : "", out);
}

static const struct IErrorInfoVtbl errinfo_vtbl = {
    .QueryInterface = ei_QueryInterface,
    .AddRef = ei_AddRef,
    .Release = ei_Release,
    .GetResultCode = ei_GetResultCode,
    .GetInterfaceName = ei_GetInterfaceName,
    .GetComponent = ei_GetComponent,
    .GetMessage = ei_GetMessage,
};

cap_result errinfo_create(const struct cap_error_info *ei, IErrorInfo **out)
{
    *out = NULL;
    struct errinfo *e = cap_alloc_zero(sizeof(*e));
    if (!e)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    e->IErrorInfo_iface.vtbl = &errinfo_vtbl;
    cap_refcnt_init(&e->ref, 1);
    e->ei.result = ei->result;
    e->ei.message = cap_str_dup(ei->message ? ei->message : "");
    e->ei.component = cap_str_dup(ei->component);
    e->ei.iface = cap_str_dup(ei->iface);
    if (!e->ei.message) {
        ei_Release(&e->IErrorInfo_iface);
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    }
    *out = &e->IErrorInfo_iface;
    return CAP_OK;
}

void errinfo_take(cap_result rc, struct cap_error_info *ei)
{
    if (cap_error_take(ei) != CAP_OK || ei->result != rc) {
        cap_error_info_clear(ei);
        ei->result = rc;
        ei->message = cap_str_printf("operation failed (%s)", cap_result_name(rc));
        ei->component = cap_str_dup(SVC_COMPONENT);
    }
}
