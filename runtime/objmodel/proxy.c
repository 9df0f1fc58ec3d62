/*
 * proxy.c - dynamic proxies: objects for any interface, built from the
 * typelib, whose methods all route to one handler.
 *
 * A proxy is a small struct whose first word points to a vtable shared by
 * every proxy of the same interface table. Slots 0-2 are the C functions
 * below (QueryInterface, AddRef, Release: a real atomic count owned by the
 * proxy). Every other slot is a libffi closure prepared with the slot's cif
 * from the xptcall cache, whose user data is the slot itself; the proxy
 * instance is found from the call's first argument, `self`. The closure
 * decodes its C arguments into one struct cap_xpt_value per param, calls
 * handler->call(), and on success copies out/return values through the
 * caller's pointers (leaving them NULL/0 on failure, as capsule/typelib.h
 * requires of every callee).
 *
 * IPC builds its client-side proxies from this: the handler encodes the
 * values into a request; query_interface lets a QueryInterface for another
 * interface (and the ISupports identity) be decided by the remote side.
 */
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/object.h>
#include <capsule/result.h>
#include <capsule/uuid.h>
#include <capsule/xptcall.h>

#include "xptcall_internal.h"

/* Methods with more params than this decode into a heap buffer. */
#define PROXY_STACK_VALUES 16

struct xpt_proxy {
    void *const *vtbl; /* the interface's shared vtable; first, as in every object */
    const struct cap_tl_iface *tl;
    const struct cap_proxy_handler *handler;
    void *ctx;
    cap_refcnt ref;
};

static cap_result proxy_query_interface(ISupports *self, const cap_uuid *iid, void **out)
{
    struct xpt_proxy *p = (struct xpt_proxy *)self;

    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    if (!iid)
        return CAP_E_POINTER;
    int hook = p->handler->query_interface != NULL;
    int local = cap_uuid_equal(iid, &IID_ISupports) ? !hook : cap_tl_iface_is_a(p->tl, iid);
    if (local) {
        cap_refcnt_inc(&p->ref);
        *out = p;
        return CAP_OK;
    }
    if (!hook)
        return CAP_E_NOINTERFACE;
    cap_result rc = p->handler->query_interface(p->ctx, self, iid, out);
    if (CAP_FAILED(rc))
        *out = NULL;
    return rc;
}

static uint32_t proxy_add_ref(ISupports *self)
{
    return cap_refcnt_inc(&((struct xpt_proxy *)self)->ref);
}

static uint32_t proxy_release(ISupports *self)
{
    struct xpt_proxy *p = (struct xpt_proxy *)self;
    uint32_t n = cap_refcnt_dec(&p->ref);
    if (n == 0) {
        if (p->handler->destroy)
            p->handler->destroy(p->ctx);
        cap_free(p);
    }
    return n;
}

/* Copies an in scalar of `type` from the C argument at `arg`. */
static void proxy_load_scalar(uint8_t type, const void *arg, struct cap_xpt_value *v)
{
    switch (type) {
    case CAP_TLT_BOOL:
        v->b = *(const cap_bool *)arg != 0;
        break;
    case CAP_TLT_OCTET:
        v->u8 = *(const uint8_t *)arg;
        break;
    case CAP_TLT_SHORT:
    case CAP_TLT_USHORT:
        memcpy(&v->u16, arg, sizeof(v->u16));
        break;
    case CAP_TLT_LONG:
    case CAP_TLT_ULONG:
    case CAP_TLT_ENUM:
        memcpy(&v->u32, arg, sizeof(v->u32));
        break;
    case CAP_TLT_LONGLONG:
    case CAP_TLT_ULONGLONG:
        memcpy(&v->u64, arg, sizeof(v->u64));
        break;
    case CAP_TLT_DOUBLE:
        memcpy(&v->d, arg, sizeof(v->d));
        break;
    default: /* string, interface: one pointer */
        memcpy(&v->iface, arg, sizeof(v->iface));
        break;
    }
}

/* Stores an out scalar of `type` through the caller's pointer `dst`. */
static void proxy_store_scalar(uint8_t type, void *dst, const struct cap_xpt_value *v)
{
    switch (type) {
    case CAP_TLT_BOOL:
        *(cap_bool *)dst = v->b != 0;
        break;
    case CAP_TLT_OCTET:
        *(uint8_t *)dst = v->u8;
        break;
    case CAP_TLT_SHORT:
    case CAP_TLT_USHORT:
        memcpy(dst, &v->u16, sizeof(v->u16));
        break;
    case CAP_TLT_LONG:
    case CAP_TLT_ULONG:
    case CAP_TLT_ENUM:
        memcpy(dst, &v->u32, sizeof(v->u32));
        break;
    case CAP_TLT_LONGLONG:
    case CAP_TLT_ULONGLONG:
        memcpy(dst, &v->u64, sizeof(v->u64));
        break;
    case CAP_TLT_DOUBLE:
        memcpy(dst, &v->d, sizeof(v->d));
        break;
    case CAP_TLT_UUID:
        memcpy(dst, &v->uuid, sizeof(v->uuid));
        break;
    default: /* string, interface */
        memcpy(dst, &v->iface, sizeof(v->iface));
        break;
    }
}

/* Zeroes an out target of `type` (a scalar of its size, a uuid, or a pointer). */
static void proxy_zero_target(uint8_t type, void *dst)
{
    memset(dst, 0, cap_tl_type_size(type));
}

/*
 * First pass of a proxied call: zeroes every out target the caller gave
 * (so that any failure leaves them NULL/0) and, unless v is NULL, decodes in
 * arguments into v[]. Returns the first problem found, with error info.
 */
static cap_result proxy_decode(const struct xpt_proxy *p, const struct cap_tl_method *m,
                               void **cargs, struct cap_xpt_value *v)
{
    cap_result rc = CAP_OK;
    uint32_t k = 1;
    const char *bad = NULL;

    for (uint32_t i = 0; i < m->n_params; i++) {
        const struct cap_tl_param *pa = &m->params[i];
        int in = pa->dir == CAP_TLD_IN;
        if (pa->flags & CAP_TLP_ARRAY) {
            if (in && v) {
                v[i].arr.count = *(const uint32_t *)cargs[k];
                v[i].arr.items = *(void **)cargs[k + 1];
                if (v[i].arr.count && !v[i].arr.items && !bad)
                    bad = pa->name;
            } else if (!in) {
                uint32_t *n = *(uint32_t **)cargs[k];
                void **items = *(void ***)cargs[k + 1];
                if (n)
                    *n = 0;
                if (items)
                    *items = NULL;
                if ((!n || !items) && !bad)
                    bad = pa->name;
            }
            k += 2;
            continue;
        }
        if (in && !v) {
            /* only zeroing out targets */
        } else if (in && pa->type == CAP_TLT_UUID) {
            const cap_uuid *u = *(const cap_uuid **)cargs[k];
            if (u)
                v[i].uuid = *u;
            else if (!bad)
                bad = pa->name;
        } else if (in) {
            proxy_load_scalar(pa->type, cargs[k], &v[i]);
        } else {
            void *dst = *(void **)cargs[k];
            if (dst)
                proxy_zero_target(pa->type, dst);
            else if (!bad)
                bad = pa->name;
        }
        k++;
    }
    if (bad)
        rc = cap_error_set(CAP_E_POINTER, XPT_COMPONENT, p->tl->name,
                           "%s::%s: param '%s' is a NULL pointer", p->tl->name, m->name, bad);
    return rc;
}

/* A handler must not hand back an array with items missing. */
static cap_result proxy_check_results(const struct xpt_proxy *p, const struct cap_tl_method *m,
                                      const struct cap_xpt_value *v)
{
    for (uint32_t i = 0; i < m->n_params; i++) {
        const struct cap_tl_param *pa = &m->params[i];
        if (pa->dir != CAP_TLD_IN && (pa->flags & CAP_TLP_ARRAY) && v[i].arr.count &&
            !v[i].arr.items)
            return cap_error_set(CAP_E_UNEXPECTED, XPT_COMPONENT, p->tl->name,
                                 "%s::%s: the proxy handler returned %u items of '%s' "
                                 "without an item pointer",
                                 p->tl->name, m->name, v[i].arr.count, pa->name);
    }
    return CAP_OK;
}

/* Hands out/return values over to the caller's pointers. */
static void proxy_store(const struct cap_tl_method *m, void **cargs, const struct cap_xpt_value *v)
{
    uint32_t k = 1;
    for (uint32_t i = 0; i < m->n_params; i++) {
        const struct cap_tl_param *pa = &m->params[i];
        int array = (pa->flags & CAP_TLP_ARRAY) != 0;
        if (pa->dir != CAP_TLD_IN) {
            if (array) {
                **(uint32_t **)cargs[k] = v[i].arr.count;
                **(void ***)cargs[k + 1] = v[i].arr.items;
            } else {
                proxy_store_scalar(pa->type, *(void **)cargs[k], &v[i]);
            }
        }
        k += array ? 2 : 1;
    }
}

/* The closure behind every non-builtin slot of every proxy. */
static void proxy_dispatch(ffi_cif *cif, void *ret, void **cargs, void *user_data)
{
    const struct xpt_slot *s = user_data;
    const struct cap_tl_method *m = s->method;
    struct xpt_proxy *p = *(struct xpt_proxy **)cargs[0];
    struct cap_xpt_value stack[PROXY_STACK_VALUES];
    struct cap_xpt_value *v = stack;
    cap_result rc;

    if (m->n_params > PROXY_STACK_VALUES) {
        v = cap_alloc_zero(m->n_params * sizeof(*v));
        if (!v) {
            proxy_decode(p, m, cargs, NULL); /* still leave the out targets NULL/0 */
            rc = cap_error_set(CAP_E_OUTOFMEMORY, XPT_COMPONENT, p->tl->name, "out of memory");
            goto out;
        }
    } else {
        memset(v, 0, m->n_params * sizeof(*v));
    }
    rc = proxy_decode(p, m, cargs, v);
    if (CAP_SUCCEEDED(rc)) {
        rc = p->handler->call(p->ctx, p->tl, s->index, m, v);
        if (CAP_SUCCEEDED(rc))
            rc = proxy_check_results(p, m, v);
        if (CAP_SUCCEEDED(rc))
            proxy_store(m, cargs, v);
        else
            cap_xpt_values_clear(m, v, CAP_XPT_CLEAR_OUT);
    }
    if (v != stack)
        cap_free(v);
out:
    *(ffi_sarg *)ret = rc;
}

/* Builds the shared vtable of info's interface; caller holds xpt_lock. */
static cap_result proxy_build_vtbl(struct xpt_iface_info *info)
{
    const struct cap_tl_iface *tl = info->tl;
    void **vtbl = cap_alloc_zero(info->n_slots * sizeof(*vtbl));
    if (!vtbl)
        return cap_error_set(CAP_E_OUTOFMEMORY, XPT_COMPONENT, tl->name, "out of memory");
    vtbl[0] = (void *)proxy_query_interface;
    vtbl[1] = (void *)proxy_add_ref;
    vtbl[2] = (void *)proxy_release;
    for (uint32_t i = CAP_ISUPPORTS_SLOTS; i < info->n_slots; i++) {
        struct xpt_slot *s = &info->slots[i];
        void *code = NULL;
        s->closure = ffi_closure_alloc(sizeof(ffi_closure), &code);
        if (!s->closure ||
            ffi_prep_closure_loc(s->closure, &s->cif, proxy_dispatch, s, code) != FFI_OK) {
            cap_result rc =
                cap_error_set(CAP_E_OUTOFMEMORY, XPT_COMPONENT, tl->name,
                              "cannot make a libffi closure for %s::%s", tl->name, s->method->name);
            info->vtbl = vtbl; /* so that the free below sees the closures made */
            xpt_proxy_free_vtbl(info);
            return rc;
        }
        vtbl[i] = code;
    }
    __atomic_store_n(&info->vtbl, vtbl, __ATOMIC_RELEASE);
    return CAP_OK;
}

void xpt_proxy_free_vtbl(struct xpt_iface_info *info)
{
    for (uint32_t i = 0; i < info->n_slots; i++) {
        if (info->slots[i].closure)
            ffi_closure_free(info->slots[i].closure);
        info->slots[i].closure = NULL;
    }
    cap_free(info->vtbl);
    info->vtbl = NULL;
}

CAP_EXPORT cap_result cap_proxy_create(const struct cap_tl_iface *tl,
                                       const struct cap_proxy_handler *handler, void *ctx,
                                       ISupports **out)
{
    cap_result rc = CAP_OK;

    if (out)
        *out = NULL;
    if (!tl || !handler || !handler->call || !out)
        return cap_error_set(CAP_E_POINTER, XPT_COMPONENT, tl ? tl->name : NULL,
                             "cap_proxy_create: %s is NULL",
                             !tl    ? "the interface table"
                             : !out ? "the out pointer"
                                    : "the handler's call function");
    struct xpt_iface_info *info = xpt_iface_get(tl, &rc);
    if (!info)
        return rc;
    void *const *vtbl = __atomic_load_n(&info->vtbl, __ATOMIC_ACQUIRE);
    if (!vtbl) {
        pthread_mutex_lock(&xpt_lock);
        if (!info->vtbl)
            rc = proxy_build_vtbl(info);
        vtbl = info->vtbl;
        pthread_mutex_unlock(&xpt_lock);
        if (CAP_FAILED(rc))
            return rc;
    }
    struct xpt_proxy *p = cap_alloc_zero(sizeof(*p));
    if (!p)
        return cap_error_set(CAP_E_OUTOFMEMORY, XPT_COMPONENT, tl->name, "out of memory");
    p->vtbl = vtbl;
    p->tl = tl;
    p->handler = handler;
    p->ctx = ctx;
    cap_refcnt_init(&p->ref, 1);
    *out = (ISupports *)p;
    return CAP_OK;
}

CAP_EXPORT void *cap_proxy_context(void *obj, const struct cap_proxy_handler *handler,
                                   const struct cap_tl_iface **tl)
{
    if (tl)
        *tl = NULL;
    if (!obj)
        return NULL;
    const struct xpt_proxy *p = obj;
    if (p->vtbl[0] != (void *)proxy_query_interface || p->handler != handler)
        return NULL;
    if (tl)
        *tl = p->tl;
    return p->ctx;
}

CAP_EXPORT int cap_proxy_try_addref(void *obj, const struct cap_proxy_handler *handler)
{
    if (!cap_proxy_context(obj, handler, NULL))
        return 0;
    struct xpt_proxy *p = obj;
    uint32_t n = __atomic_load_n(&p->ref.value, __ATOMIC_RELAXED);
    while (n != 0) {
        if (__atomic_compare_exchange_n(&p->ref.value, &n, n + 1, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED))
            return 1;
    }
    return 0;
}
