/*
 * done_progress.c - the IProgress capsule-vm's console returns from
 * powerUp and powerDown. The console does the work before it returns (both
 * take milliseconds), so the progress is born complete and successful;
 * failures are returned by the method itself. Clients wait on it like any
 * progress (waits return at once). Its reference count is readable so that
 * the process can wait for the client that holds it to let go before it
 * exits (console_linger).
 */
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/object.h>
#include <capsule/uuid.h>

#include "managed.h"

struct done_progress {
    IProgress IProgress_iface;
    cap_refcnt ref;
    cap_uuid id;
    char *description;
};

static struct done_progress *impl(IProgress *iface)
{
    return CAP_CONTAINER_OF(iface, struct done_progress, IProgress_iface);
}

static const struct cap_qi_entry dp_qi[] = {
    CAP_QI_ENTRY(IID_IProgress, struct done_progress, IProgress_iface),
    CAP_QI_END,
};

static cap_result dp_QueryInterface(IProgress *self, const cap_uuid *iid, void **out)
{
    return cap_qi_table(impl(self), dp_qi, iid, out);
}

static uint32_t dp_AddRef(IProgress *self)
{
    return cap_refcnt_inc(&impl(self)->ref);
}

static uint32_t dp_Release(IProgress *self)
{
    struct done_progress *p = impl(self);
    uint32_t n = cap_refcnt_dec(&p->ref);
    if (n == 0) {
        cap_str_free(p->description);
        cap_free(p);
    }
    return n;
}

static cap_result ret_str(const char *s, char **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = cap_str_dup(s);
    return *out ? CAP_OK : CAP_E_OUTOFMEMORY;
}

#define VAL(name, type, value)                                                                    \
    static cap_result dp_##name(IProgress *self, type *out)                                      \
    {                                                                                             \
        if (!out)                                                                                 \
            return CAP_E_POINTER;                                                                 \
        *out = (value);                                                                           \
        return CAP_OK;                                                                            \
    }

VAL(GetId, cap_uuid, impl(self)->id)
VAL(GetCancelable, cap_bool, CAP_FALSE)
VAL(GetPercent, uint32_t, 100)
VAL(GetTimeRemaining, int32_t, 0)
VAL(GetCompleted, cap_bool, CAP_TRUE)
VAL(GetCanceled, cap_bool, CAP_FALSE)
VAL(GetResultCode, int32_t, CAP_OK)
VAL(GetErrorInfo, IErrorInfo *, NULL)
VAL(GetInitiator, ISupports *, NULL)
VAL(GetOperationCount, uint32_t, 1)
VAL(GetOperation, uint32_t, 0)
VAL(GetOperationPercent, uint32_t, 100)

static cap_result dp_GetDescription(IProgress *self, char **out)
{
    return ret_str(impl(self)->description, out);
}

static cap_result dp_GetOperationDescription(IProgress *self, char **out)
{
    return ret_str(impl(self)->description, out);
}

static cap_result dp_WaitForCompletion(IProgress *self, int32_t timeout)
{
    return CAP_OK;
}

static cap_result dp_WaitForOperationCompletion(IProgress *self, uint32_t op, int32_t timeout)
{
    if (op >= 1)
        return cap_error_set(CAP_E_INVALIDARG, "capsule-vm", "IProgress",
                             "operation %u: the progress has 1 operation", (unsigned)op);
    return CAP_OK;
}

static cap_result dp_Cancel(IProgress *self)
{
    return cap_error_set(CAP_E_INVALID_OBJECT_STATE, "capsule-vm", "IProgress",
                         "the operation cannot be canceled");
}

static const struct IProgressVtbl dp_vtbl = {
    .QueryInterface = dp_QueryInterface,
    .AddRef = dp_AddRef,
    .Release = dp_Release,
    .GetId = dp_GetId,
    .GetDescription = dp_GetDescription,
    .GetInitiator = dp_GetInitiator,
    .GetCancelable = dp_GetCancelable,
    .GetPercent = dp_GetPercent,
    .GetTimeRemaining = dp_GetTimeRemaining,
    .GetCompleted = dp_GetCompleted,
    .GetCanceled = dp_GetCanceled,
    .GetResultCode = dp_GetResultCode,
    .GetErrorInfo = dp_GetErrorInfo,
    .GetOperationCount = dp_GetOperationCount,
    .GetOperation = dp_GetOperation,
    .GetOperationDescription = dp_GetOperationDescription,
    .GetOperationPercent = dp_GetOperationPercent,
    .WaitForCompletion = dp_WaitForCompletion,
    .WaitForOperationCompletion = dp_WaitForOperationCompletion,
    .Cancel = dp_Cancel,
};

cap_result done_progress_create(const char *description, IProgress **out)
{
    *out = NULL;
    struct done_progress *p = cap_alloc_zero(sizeof(*p));
    if (!p || !(p->description = cap_str_dup(description ? description : ""))) {
        cap_free(p);
        return cap_error_set(CAP_E_OUTOFMEMORY, "capsule-vm", "IProgress", "out of memory");
    }
    p->IProgress_iface.vtbl = &dp_vtbl;
    cap_refcnt_init(&p->ref, 1);
    cap_uuid_generate(&p->id);
    *out = &p->IProgress_iface;
    return CAP_OK;
}

uint32_t done_progress_refs(IProgress *iface)
{
    return __atomic_load_n(&impl(iface)->ref.value, __ATOMIC_ACQUIRE);
}
