/*
 * ipctest_impl.c - IIpcTest (the test server's root) and ICallback.
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/object.h>

#include "alltypes_impl.h"
#include "ipctest_impl.h"

static uint32_t live, calls;

uint32_t ipctest_live(void)
{
    return __atomic_load_n(&live, __ATOMIC_RELAXED);
}

uint32_t callback_calls(void)
{
    return __atomic_load_n(&calls, __ATOMIC_RELAXED);
}

/* --- IIpcTest --- */

struct ipctest {
    IIpcTest iface;
    cap_refcnt ref;
    pthread_mutex_t lock;
    ISupports *held[64];
    uint32_t n_held;
};

static struct ipctest *it(IIpcTest *i)
{
    return CAP_CONTAINER_OF(i, struct ipctest, iface);
}

static const struct cap_qi_entry it_qi_table[] = {
    CAP_QI_ENTRY(IID_IIpcTest, struct ipctest, iface),
    CAP_QI_END,
};

static cap_result it_qi(IIpcTest *self, const cap_uuid *iid, void **out)
{
    return cap_qi_table(it(self), it_qi_table, iid, out);
}

static uint32_t it_add_ref(IIpcTest *self)
{
    return cap_refcnt_inc(&it(self)->ref);
}

static cap_result it_release_held(IIpcTest *self)
{
    struct ipctest *o = it(self);
    pthread_mutex_lock(&o->lock);
    uint32_t n = o->n_held;
    ISupports *h[64];
    for (uint32_t i = 0; i < n; i++)
        h[i] = o->held[i];
    o->n_held = 0;
    pthread_mutex_unlock(&o->lock);
    for (uint32_t i = 0; i < n; i++)
        CAP_RELEASE(h[i]);
    return CAP_OK;
}

static uint32_t it_release(IIpcTest *self)
{
    uint32_t n = cap_refcnt_dec(&it(self)->ref);
    if (n == 0) {
        it_release_held(self);
        pthread_mutex_destroy(&it(self)->lock);
        free(it(self));
        __atomic_sub_fetch(&live, 1, __ATOMIC_RELAXED);
    }
    return n;
}

static cap_result it_ping(IIpcTest *self, int32_t x, int32_t *r)
{
    *r = x + 1;
    return CAP_OK;
}

static cap_result it_get_all_types(IIpcTest *self, IAllTypes **r)
{
    *r = alltypes_new();
    return *r ? CAP_OK : CAP_E_OUTOFMEMORY;
}

static cap_result it_call_back(IIpcTest *self, ICallback *cb, int32_t depth, int32_t *r)
{
    if (!cb)
        return cap_error_set(CAP_E_POINTER, "ipctest", "IIpcTest", "no callback");
    return ICallback_Call(cb, depth, r);
}

static cap_result it_hold(IIpcTest *self, ISupports *obj)
{
    struct ipctest *o = it(self);
    pthread_mutex_lock(&o->lock);
    cap_result rc = CAP_E_OUTOFMEMORY;
    if (obj && o->n_held < 64) {
        CAP_ADDREF(obj);
        o->held[o->n_held++] = obj;
        rc = CAP_OK;
    }
    pthread_mutex_unlock(&o->lock);
    return rc;
}

static cap_result it_call_held(IIpcTest *self)
{
    struct ipctest *o = it(self);
    cap_result rc = CAP_OK;
    pthread_mutex_lock(&o->lock);
    for (uint32_t i = 0; i < o->n_held && CAP_SUCCEEDED(rc); i++) {
        ICallback *cb = NULL;
        rc = CAP_QI(o->held[i], &IID_ICallback, &cb); /* remote for a proxy */
        if (CAP_SUCCEEDED(rc)) {
            int32_t r;
            rc = ICallback_Call(cb, 0, &r);
            CAP_RELEASE(cb);
        }
    }
    pthread_mutex_unlock(&o->lock);
    return rc;
}

static cap_result it_same_identity(IIpcTest *self, ISupports *a, ISupports *b, cap_bool *r)
{
    ISupports *ia = NULL, *ib = NULL;
    if (a)
        CAP_QI(a, &IID_ISupports, &ia);
    if (b)
        CAP_QI(b, &IID_ISupports, &ib);
    *r = ia == ib;
    if (ia)
        CAP_RELEASE(ia);
    if (ib)
        CAP_RELEASE(ib);
    return CAP_OK;
}

static cap_result it_fail(IIpcTest *self, int32_t code, const char *message)
{
    return cap_error_set(code, "ipctest-server", "IIpcTest", "%s", message ? message : "");
}

static cap_result it_get_pid(IIpcTest *self, int32_t *r)
{
    *r = (int32_t)getpid();
    return CAP_OK;
}

static cap_result it_sleep_ms(IIpcTest *self, int32_t ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    return CAP_OK;
}

static cap_result it_live_objects(IIpcTest *self, uint32_t *r)
{
    *r = alltypes_live();
    return CAP_OK;
}

static const struct IIpcTestVtbl it_vtbl = {
    .QueryInterface = it_qi,
    .AddRef = it_add_ref,
    .Release = it_release,
    .Ping = it_ping,
    .GetAllTypes = it_get_all_types,
    .CallBack = it_call_back,
    .Hold = it_hold,
    .CallHeld = it_call_held,
    .ReleaseHeld = it_release_held,
    .SameIdentity = it_same_identity,
    .Fail = it_fail,
    .GetPid = it_get_pid,
    .SleepMs = it_sleep_ms,
    .LiveObjects = it_live_objects,
};

IIpcTest *ipctest_new(void)
{
    struct ipctest *o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    o->iface.vtbl = &it_vtbl;
    cap_refcnt_init(&o->ref, 1);
    pthread_mutex_init(&o->lock, NULL);
    __atomic_add_fetch(&live, 1, __ATOMIC_RELAXED);
    return &o->iface;
}

/* --- ICallback --- */

struct callback {
    ICallback iface;
    cap_refcnt ref;
    IIpcTest *server;
};

static struct callback *cb_impl(ICallback *i)
{
    return CAP_CONTAINER_OF(i, struct callback, iface);
}

static const struct cap_qi_entry cb_qi_table[] = {
    CAP_QI_ENTRY(IID_ICallback, struct callback, iface),
    CAP_QI_END,
};

static cap_result cb_qi(ICallback *self, const cap_uuid *iid, void **out)
{
    return cap_qi_table(cb_impl(self), cb_qi_table, iid, out);
}

static uint32_t cb_add_ref(ICallback *self)
{
    return cap_refcnt_inc(&cb_impl(self)->ref);
}

static uint32_t cb_release(ICallback *self)
{
    struct callback *o = cb_impl(self);
    uint32_t n = cap_refcnt_dec(&o->ref);
    if (n == 0) {
        if (o->server)
            IIpcTest_Release(o->server);
        free(o);
        __atomic_sub_fetch(&live, 1, __ATOMIC_RELAXED);
    }
    return n;
}

static cap_result cb_call(ICallback *self, int32_t depth, int32_t *r)
{
    struct callback *o = cb_impl(self);
    __atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED);
    if (depth > 0 && o->server) {
        int32_t inner = 0;
        cap_result rc = IIpcTest_CallBack(o->server, self, depth - 1, &inner);
        if (CAP_FAILED(rc))
            return rc;
        *r = inner + 1;
        return CAP_OK;
    }
    *r = 1000 + depth;
    return CAP_OK;
}

static const struct ICallbackVtbl cb_vtbl = {
    .QueryInterface = cb_qi,
    .AddRef = cb_add_ref,
    .Release = cb_release,
    .Call = cb_call,
};

ICallback *callback_new(IIpcTest *server)
{
    struct callback *o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    o->iface.vtbl = &cb_vtbl;
    cap_refcnt_init(&o->ref, 1);
    o->server = server;
    if (server)
        IIpcTest_AddRef(server);
    __atomic_add_fetch(&live, 1, __ATOMIC_RELAXED);
    return &o->iface;
}
