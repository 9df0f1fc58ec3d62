/*
 * service/progress.c - IProgress: an operation running in the background.
 *
 * The worker that does the operation drives the progress through the
 * progress_* functions of progress.h; any number of threads (IPC worker
 * threads of several clients) read it and wait on it. Waiting sleeps on a
 * condition variable signalled at every step and at completion, on the
 * monotonic clock, so it never polls.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include <capsule/mem.h>
#include <capsule/object.h>
#include <capsule/uuid.h>

#include "errinfo.h"
#include "progress.h"
#include "util.h"

struct progress {
    IProgress IProgress_iface;
    cap_refcnt ref;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* signalled at every change */
    cap_uuid id;
    char *description;
    ISupports *initiator;
    cap_bool cancelable, cancel_requested, completed, canceled;
    uint32_t n_ops, op, op_percent;
    char *op_description;
    cap_result result;
    struct cap_error_info error; /* valid when completed with a failure */
};

static struct progress *impl(IProgress *iface)
{
    return CAP_CONTAINER_OF(iface, struct progress, IProgress_iface);
}

static const struct cap_qi_entry progress_qi[] = {
    CAP_QI_ENTRY(IID_IProgress, struct progress, IProgress_iface),
    CAP_QI_END,
};

static cap_result pr_QueryInterface(IProgress *self, const cap_uuid *iid, void **out)
{
    return cap_qi_table(impl(self), progress_qi, iid, out);
}

static uint32_t pr_AddRef(IProgress *self)
{
    return cap_refcnt_inc(&impl(self)->ref);
}

static uint32_t pr_Release(IProgress *self)
{
    struct progress *p = impl(self);
    uint32_t n = cap_refcnt_dec(&p->ref);
    if (n == 0) {
        if (p->initiator)
            ISupports_Release(p->initiator);
        cap_error_info_clear(&p->error);
        cap_str_free(p->description);
        cap_str_free(p->op_description);
        pthread_cond_destroy(&p->cond);
        pthread_mutex_destroy(&p->lock);
        cap_free(p);
    }
    return n;
}

#define GETTER(name, type, expr)                                                                   \
    static cap_result pr_Get##name(IProgress *self, type *out)                                     \
    {                                                                                              \
        struct progress *p = impl(self);                                                           \
        if (!out)                                                                                  \
            return CAP_E_POINTER;                                                                  \
        pthread_mutex_lock(&p->lock);                                                              \
        *out = (expr);                                                                             \
        pthread_mutex_unlock(&p->lock);                                                            \
        return CAP_OK;                                                                             \
    }

GETTER(Cancelable, cap_bool, p->cancelable && !p->completed)
GETTER(Completed, cap_bool, p->completed)
GETTER(Canceled, cap_bool, p->canceled)
GETTER(OperationCount, uint32_t, p->n_ops)
GETTER(Operation, uint32_t, p->op)
GETTER(OperationPercent, uint32_t, p->completed ? 100 : p->op_percent)
GETTER(Percent, uint32_t,
       p->completed ? 100 : (p->op * 100 + p->op_percent) / (p->n_ops ? p->n_ops : 1))
GETTER(TimeRemaining, int32_t, p->completed ? 0 : -1)

static cap_result pr_GetId(IProgress *self, cap_uuid *out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = impl(self)->id;
    return CAP_OK;
}

static cap_result pr_GetDescription(IProgress *self, char **out)
{
    return svc_return_str(impl(self)->description, out);
}

static cap_result pr_GetInitiator(IProgress *self, ISupports **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = impl(self)->initiator;
    if (*out)
        ISupports_AddRef(*out);
    return CAP_OK;
}

static cap_result pr_GetOperationDescription(IProgress *self, char **out)
{
    struct progress *p = impl(self);
    pthread_mutex_lock(&p->lock);
    cap_result rc = svc_return_str(p->op_description, out);
    pthread_mutex_unlock(&p->lock);
    return rc;
}

static cap_result not_completed(void)
{
    return cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, "IProgress",
                         "the operation has not completed yet");
}

static cap_result pr_GetResultCode(IProgress *self, int32_t *out)
{
    struct progress *p = impl(self);
    if (!out)
        return CAP_E_POINTER;
    pthread_mutex_lock(&p->lock);
    int done = p->completed;
    *out = p->result;
    pthread_mutex_unlock(&p->lock);
    return done ? CAP_OK : not_completed();
}

static cap_result pr_GetErrorInfo(IProgress *self, IErrorInfo **out)
{
    struct progress *p = impl(self);
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    pthread_mutex_lock(&p->lock);
    cap_result rc = CAP_OK;
    if (!p->completed)
        rc = not_completed();
    else if (CAP_FAILED(p->result))
        rc = errinfo_create(&p->error, out);
    pthread_mutex_unlock(&p->lock);
    return rc;
}

/* Waits (lock held) until done() or the timeout; timeout -1 is forever. */
static void wait_until(struct progress *p, int32_t timeout, int (*done)(struct progress *, uint32_t),
                       uint32_t arg)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    if (timeout > 0) {
        deadline.tv_sec += timeout / 1000;
        deadline.tv_nsec += (long)(timeout % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    while (!done(p, arg) && timeout != 0) {
        if (timeout < 0)
            pthread_cond_wait(&p->cond, &p->lock);
        else if (pthread_cond_timedwait(&p->cond, &p->lock, &deadline) == ETIMEDOUT)
            break;
    }
}

static int is_completed(struct progress *p, uint32_t unused)
{
    return p->completed;
}

static int op_done(struct progress *p, uint32_t op)
{
    return p->completed || p->op > op;
}

static cap_result pr_WaitForCompletion(IProgress *self, int32_t timeout)
{
    struct progress *p = impl(self);
    pthread_mutex_lock(&p->lock);
    wait_until(p, timeout, is_completed, 0);
    pthread_mutex_unlock(&p->lock);
    return CAP_OK;
}

static cap_result pr_WaitForOperationCompletion(IProgress *self, uint32_t op, int32_t timeout)
{
    struct progress *p = impl(self);
    if (op >= p->n_ops)
        return cap_error_set(CAP_E_INVALIDARG, SVC_COMPONENT, "IProgress",
                             "operation %u is not below the operation count %u", (unsigned)op,
                             (unsigned)p->n_ops);
    pthread_mutex_lock(&p->lock);
    wait_until(p, timeout, op_done, op);
    pthread_mutex_unlock(&p->lock);
    return CAP_OK;
}

static cap_result pr_Cancel(IProgress *self)
{
    struct progress *p = impl(self);
    cap_result rc = CAP_OK;
    pthread_mutex_lock(&p->lock);
    if (!p->completed) {
        if (!p->cancelable)
            rc = cap_error_set(CAP_E_INVALID_OBJECT_STATE, SVC_COMPONENT, "IProgress",
                               "the operation '%s' cannot be canceled", p->description);
        else
            p->cancel_requested = CAP_TRUE;
    }
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    return rc;
}

static const struct IProgressVtbl progress_vtbl = {
    .QueryInterface = pr_QueryInterface,
    .AddRef = pr_AddRef,
    .Release = pr_Release,
    .GetId = pr_GetId,
    .GetDescription = pr_GetDescription,
    .GetInitiator = pr_GetInitiator,
    .GetCancelable = pr_GetCancelable,
    .GetPercent = pr_GetPercent,
    .GetTimeRemaining = pr_GetTimeRemaining,
    .GetCompleted = pr_GetCompleted,
    .GetCanceled = pr_GetCanceled,
    .GetResultCode = pr_GetResultCode,
    .GetErrorInfo = pr_GetErrorInfo,
    .GetOperationCount = pr_GetOperationCount,
    .GetOperation = pr_GetOperation,
    .GetOperationDescription = pr_GetOperationDescription,
    .GetOperationPercent = pr_GetOperationPercent,
    .WaitForCompletion = pr_WaitForCompletion,
    .WaitForOperationCompletion = pr_WaitForOperationCompletion,
    .Cancel = pr_Cancel,
};

cap_result progress_create(const char *description, ISupports *initiator, cap_bool cancelable,
                           uint32_t n_ops, const char *first_op, struct progress **out)
{
    *out = NULL;
    struct progress *p = cap_alloc_zero(sizeof(*p));
    if (!p)
        return cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    p->IProgress_iface.vtbl = &progress_vtbl;
    cap_refcnt_init(&p->ref, 1);
    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cond, &ca);
    pthread_condattr_destroy(&ca);
    p->description = cap_str_dup(description ? description : "");
    p->op_description = cap_str_dup(first_op ? first_op : "");
    p->cancelable = cancelable;
    p->n_ops = n_ops ? n_ops : 1;
    p->initiator = initiator;
    if (initiator)
        ISupports_AddRef(initiator);
    cap_result rc = cap_uuid_generate(&p->id);
    if (CAP_SUCCEEDED(rc) && (!p->description || !p->op_description))
        rc = cap_error_set(CAP_E_OUTOFMEMORY, SVC_COMPONENT, NULL, "out of memory");
    if (CAP_FAILED(rc)) {
        pr_Release(&p->IProgress_iface);
        return rc;
    }
    *out = p;
    return CAP_OK;
}

IProgress *progress_iface(struct progress *p)
{
    return &p->IProgress_iface;
}

void progress_release(struct progress *p)
{
    if (p)
        pr_Release(&p->IProgress_iface);
}

void progress_next_op(struct progress *p, const char *description)
{
    char *d = cap_str_dup(description ? description : "");
    pthread_mutex_lock(&p->lock);
    if (!p->completed && p->op + 1 < p->n_ops) {
        p->op++;
        p->op_percent = 0;
        if (d) {
            cap_str_free(p->op_description);
            p->op_description = d;
            d = NULL;
        }
    }
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    cap_str_free(d);
}

void progress_set_op_percent(struct progress *p, uint32_t percent)
{
    pthread_mutex_lock(&p->lock);
    p->op_percent = percent > 100 ? 100 : percent;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

int progress_cancel_requested(struct progress *p)
{
    pthread_mutex_lock(&p->lock);
    int c = p->cancel_requested;
    pthread_mutex_unlock(&p->lock);
    return c;
}

void progress_complete(struct progress *p, cap_result rc, const struct cap_error_info *ei)
{
    pthread_mutex_lock(&p->lock);
    if (!p->completed) {
        p->completed = CAP_TRUE;
        p->result = rc;
        p->op = p->n_ops - 1;
        p->op_percent = 100;
        if (rc == CAP_E_ABORT)
            p->canceled = CAP_TRUE;
        if (CAP_FAILED(rc)) {
            p->error.result = rc;
            p->error.message = cap_str_dup(ei && ei->message ? ei->message
                                           : rc == CAP_E_ABORT ? "the operation was canceled"
                                                               : "the operation failed");
            p->error.component = cap_str_dup(ei && ei->component ? ei->component : SVC_COMPONENT);
            p->error.iface = cap_str_dup(ei ? ei->iface : NULL);
        }
    }
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
}
