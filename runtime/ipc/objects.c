/*
 * objects.c - remote object handles: exports, imports and IPC proxies.
 *
 * Exports (objects of this process the peer holds): one struct ipc_export
 * per (connection, object identity = QueryInterface(IID_ISupports)), found
 * by handle id and by identity. `refs` counts the references the peer was
 * sent (one per interface value sent); the peer returns them in RELEASE
 * messages, and at 0 the export Releases the object. Each interface pointer
 * of the object that crossed (or that a request needed) is kept AddRef'ed
 * beside it, so calls need no QueryInterface.
 *
 * Imports (objects of the peer): one struct ipc_import per peer handle with
 * the count of references received (`wire_refs`) and the live proxies made
 * for it, one per interface. The last proxy to go sends RELEASE(handle,
 * wire_refs): counts, not single releases, so a reference arriving while a
 * release is under way is never lost. A proxy passed back to its owner is
 * sent as "your own handle" and arrives as the real object.
 */
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/result.h>

#include "ipc_internal.h"

struct ipc_iface_ptr {
    const struct cap_tl_iface *tl;
    void *ptr; /* AddRef'ed */
};

struct ipc_export {
    uint64_t id;
    ISupports *identity; /* AddRef'ed */
    uint32_t refs;
    uint32_t n_ifs, cap_ifs;
    struct ipc_iface_ptr *ifs;
    struct ipc_export *next_dead; /* on a reader's list of exports to free */
};

struct ipc_proxy;

struct ipc_import {
    uint64_t id;
    struct ipc_conn *conn; /* a reference */
    uint32_t wire_refs;
    struct ipc_proxy *proxies;
};

struct ipc_proxy {
    struct ipc_import *imp;
    const struct cap_tl_iface *tl;
    ISupports *obj; /* weak: the proxy itself */
    struct ipc_proxy *next;
};

/* --- exports --- */

static void export_free(struct ipc_export *e)
{
    for (uint32_t i = 0; i < e->n_ifs; i++)
        CAP_RELEASE(e->ifs[i].ptr);
    cap_free(e->ifs);
    if (e->identity)
        CAP_RELEASE(e->identity);
    cap_free(e);
}

/* The export's pointer for `tl` (AddRef'ed into *out), from its cache; c->lock held. */
static int export_cached(struct ipc_export *e, const struct cap_tl_iface *tl, void **out)
{
    for (uint32_t i = 0; i < e->n_ifs; i++)
        if (e->ifs[i].tl == tl || cap_tl_iface_is_a(e->ifs[i].tl, tl->iid)) {
            *out = e->ifs[i].ptr;
            CAP_ADDREF(*out);
            return 1;
        }
    return 0;
}

/* Adds ptr (AddRef'ed by this function) to the cache; c->lock held. */
static void export_cache_add(struct ipc_export *e, const struct cap_tl_iface *tl, void *ptr)
{
    if (e->n_ifs == e->cap_ifs) {
        uint32_t cap = e->cap_ifs ? e->cap_ifs * 2 : 4;
        struct ipc_iface_ptr *n = cap_realloc(e->ifs, sizeof(*n) * cap);
        if (!n)
            return; /* only a cache */
        e->ifs = n;
        e->cap_ifs = cap;
    }
    CAP_ADDREF(ptr);
    e->ifs[e->n_ifs].tl = tl;
    e->ifs[e->n_ifs].ptr = ptr;
    e->n_ifs++;
}

cap_result ipc_export_lookup(struct ipc_conn *c, uint64_t handle, const struct cap_tl_iface *tl,
                             void **out)
{
    *out = NULL;
    pthread_mutex_lock(&c->lock);
    struct ipc_export *e = ipc_map_get(&c->exp_by_id, handle);
    if (!e) {
        pthread_mutex_unlock(&c->lock);
        return cap_error_set(CAP_E_IPC_BAD_HANDLE, IPC_COMP, tl->name,
                             "unknown object handle %llu", (unsigned long long)handle);
    }
    if (tl == &cap_tl_ISupports || cap_uuid_equal(tl->iid, &IID_ISupports)) {
        *out = e->identity;
        CAP_ADDREF(*out);
        pthread_mutex_unlock(&c->lock);
        return CAP_OK;
    }
    if (export_cached(e, tl, out)) {
        pthread_mutex_unlock(&c->lock);
        return CAP_OK;
    }
    ISupports *ident = e->identity;
    CAP_ADDREF(ident);
    pthread_mutex_unlock(&c->lock);

    void *ptr = NULL;
    cap_result rc = CAP_QI(ident, tl->iid, &ptr);
    CAP_RELEASE(ident);
    if (CAP_FAILED(rc))
        return cap_error_set(CAP_E_IPC_BAD_HANDLE, IPC_COMP, tl->name,
                             "object handle %llu has no interface %s", (unsigned long long)handle,
                             tl->name);
    pthread_mutex_lock(&c->lock);
    e = ipc_map_get(&c->exp_by_id, handle);
    if (e && !export_cached(e, tl, out))
        export_cache_add(e, tl, ptr);
    pthread_mutex_unlock(&c->lock);
    if (!*out)
        *out = ptr;
    else
        CAP_RELEASE(ptr);
    return CAP_OK;
}

cap_result ipc_export_release(struct ipc_conn *c, uint64_t handle, uint32_t count,
                              struct ipc_export **dead)
{
    pthread_mutex_lock(&c->lock);
    struct ipc_export *e = ipc_map_get(&c->exp_by_id, handle);
    if (!e || count > e->refs) {
        pthread_mutex_unlock(&c->lock);
        return cap_error_set(CAP_E_IPC_BAD_HANDLE, IPC_COMP, NULL,
                             "release of %u references to %s handle %llu", count,
                             e ? "over-released" : "unknown", (unsigned long long)handle);
    }
    e->refs -= count;
    if (e->refs) {
        pthread_mutex_unlock(&c->lock);
        return CAP_OK;
    }
    ipc_map_del(&c->exp_by_id, e->id);
    ipc_map_del(&c->exp_by_ident, (uint64_t)(uintptr_t)e->identity);
    pthread_mutex_unlock(&c->lock);
    e->next_dead = *dead; /* the real object sees its Release later, outside the role */
    *dead = e;
    return CAP_OK;
}

void ipc_exports_free(struct ipc_export *dead)
{
    while (dead) {
        struct ipc_export *n = dead->next_dead;
        export_free(dead);
        dead = n;
    }
}

void ipc_exports_release_all(struct ipc_conn *c)
{
    pthread_mutex_lock(&c->lock);
    struct ipc_map m = c->exp_by_id;
    memset(&c->exp_by_id, 0, sizeof(c->exp_by_id));
    ipc_map_free(&c->exp_by_ident);
    pthread_mutex_unlock(&c->lock);
    uint32_t i = 0;
    uint64_t k;
    void *v;
    while (ipc_map_next(&m, &i, &k, &v))
        export_free(v);
    ipc_map_free(&m);
}

uint32_t ipc_conn_export_count(struct ipc_conn *c)
{
    pthread_mutex_lock(&c->lock);
    uint32_t n = 0, i = 0;
    uint64_t k;
    void *v;
    while (ipc_map_next(&c->exp_by_id, &i, &k, &v))
        n++;
    pthread_mutex_unlock(&c->lock);
    return n;
}

/* Sends `obj` of interface tl as one of our objects (kind SENDER). */
static cap_result export_encode(struct ipc_conn *c, struct ipc_buf *b, void *obj,
                                const struct cap_tl_iface *tl)
{
    ISupports *ident = NULL;
    cap_result rc = CAP_QI(obj, &IID_ISupports, &ident);
    if (CAP_FAILED(rc) || !ident)
        return cap_error_set(CAP_E_NOINTERFACE, IPC_COMP, tl->name,
                             "an object passed as %s has no ISupports identity", tl->name);
    pthread_mutex_lock(&c->lock);
    if (c->dead) {
        pthread_mutex_unlock(&c->lock);
        CAP_RELEASE(ident);
        return ipc_conn_dead_error(c);
    }
    uint64_t key = (uint64_t)(uintptr_t)ident;
    struct ipc_export *e = ipc_map_get(&c->exp_by_ident, key);
    if (e) {
        CAP_RELEASE(ident); /* e holds one already; the object is alive through obj */
    } else {
        e = cap_alloc_zero(sizeof(*e));
        if (!e || !ipc_map_put(&c->exp_by_id, c->next_export, e)) {
            pthread_mutex_unlock(&c->lock);
            cap_free(e);
            CAP_RELEASE(ident);
            return CAP_E_OUTOFMEMORY;
        }
        if (!ipc_map_put(&c->exp_by_ident, key, e)) {
            ipc_map_del(&c->exp_by_id, c->next_export);
            pthread_mutex_unlock(&c->lock);
            cap_free(e);
            CAP_RELEASE(ident);
            return CAP_E_OUTOFMEMORY;
        }
        e->id = c->next_export++;
        e->identity = ident;
    }
    void *tmp = NULL;
    if (export_cached(e, tl, &tmp))
        CAP_RELEASE(tmp);
    else
        export_cache_add(e, tl, obj);
    e->refs++;
    uint64_t id = e->id;
    pthread_mutex_unlock(&c->lock);
    ipc_buf_u8(b, IPC_IFACE_SENDER);
    ipc_buf_u64(b, id);
    ipc_buf_put(b, tl->iid, 16);
    return CAP_OK;
}

/* --- imports and proxies --- */

static void proxy_destroy(void *ctx);
static cap_result proxy_call(void *ctx, const struct cap_tl_iface *tl, uint32_t slot,
                             const struct cap_tl_method *method, struct cap_xpt_value *values);
static cap_result proxy_qi(void *ctx, ISupports *proxy, const cap_uuid *iid, void **out);

const struct cap_proxy_handler ipc_proxy_handler = {
    .call = proxy_call,
    .query_interface = proxy_qi,
    .destroy = proxy_destroy,
};

/* A live proxy of imp for tl (AddRef'ed), or a new one; c->lock held. */
static cap_result import_proxy_locked(struct ipc_import *imp, const struct cap_tl_iface *tl,
                                      int exact, void **out)
{
    for (struct ipc_proxy *p = imp->proxies; p; p = p->next)
        if ((p->tl == tl || (!exact && cap_tl_iface_is_a(p->tl, tl->iid))) &&
            cap_proxy_try_addref(p->obj, &ipc_proxy_handler)) {
            *out = p->obj;
            return CAP_OK;
        }
    struct ipc_proxy *p = cap_alloc_zero(sizeof(*p));
    if (!p)
        return CAP_E_OUTOFMEMORY;
    p->imp = imp;
    p->tl = tl;
    cap_result rc = cap_proxy_create(tl, &ipc_proxy_handler, p, &p->obj);
    if (CAP_FAILED(rc)) {
        cap_free(p);
        return rc;
    }
    p->next = imp->proxies;
    imp->proxies = p;
    *out = p->obj;
    return CAP_OK;
}

static void send_release(struct ipc_conn *c, uint64_t id, uint32_t n)
{
    uint8_t room[64];
    struct ipc_buf b;
    ipc_buf_init_on(&b, room, sizeof(room));
    ipc_buf_u64(&b, id);
    ipc_buf_u32(&b, n);
    ipc_conn_send(c, &b, IPC_MSG_RELEASE, 0);
    ipc_buf_free(&b);
    cap_error_clear();
}

/* Drops imp if it has no proxy left (after a failed proxy creation or the
 * last proxy's destroy); c->lock held on entry, released on return. */
static void import_maybe_drop_unlock(struct ipc_conn *c, struct ipc_import *imp)
{
    if (imp->proxies) {
        pthread_mutex_unlock(&c->lock);
        return;
    }
    ipc_map_del(&c->imports, imp->id);
    int dead = c->dead;
    pthread_mutex_unlock(&c->lock);
    if (!dead && imp->wire_refs)
        send_release(c, imp->id, imp->wire_refs);
    ipc_conn_unref(c);
    cap_free(imp);
}

static cap_result import_decode(struct ipc_conn *c, uint64_t handle, const struct cap_tl_iface *tl,
                                void **out)
{
    pthread_mutex_lock(&c->lock);
    struct ipc_import *imp = ipc_map_get(&c->imports, handle);
    if (!imp) {
        imp = cap_alloc_zero(sizeof(*imp));
        if (!imp || !ipc_map_put(&c->imports, handle, imp)) {
            pthread_mutex_unlock(&c->lock);
            cap_free(imp);
            return CAP_E_OUTOFMEMORY;
        }
        imp->id = handle;
        imp->conn = c;
        ipc_conn_ref(c);
    }
    imp->wire_refs++;
    cap_result rc = import_proxy_locked(imp, tl, 1, out);
    if (CAP_FAILED(rc)) {
        import_maybe_drop_unlock(c, imp);
        return rc;
    }
    pthread_mutex_unlock(&c->lock);
    return CAP_OK;
}

static void proxy_destroy(void *ctx)
{
    struct ipc_proxy *px = ctx;
    struct ipc_import *imp = px->imp;
    struct ipc_conn *c = imp->conn;
    pthread_mutex_lock(&c->lock);
    for (struct ipc_proxy **pp = &imp->proxies; *pp; pp = &(*pp)->next)
        if (*pp == px) {
            *pp = px->next;
            break;
        }
    cap_free(px);
    import_maybe_drop_unlock(c, imp);
}

static cap_result proxy_call(void *ctx, const struct cap_tl_iface *tl, uint32_t slot,
                             const struct cap_tl_method *method, struct cap_xpt_value *values)
{
    struct ipc_proxy *px = ctx;
    struct ipc_conn *c = px->imp->conn;
    uint8_t room[512]; /* most requests fit: no allocation per call */
    struct ipc_buf b;
    ipc_buf_init_on(&b, room, sizeof(room));
    ipc_buf_u64(&b, px->imp->id);
    ipc_buf_put(&b, tl->iid, 16);
    ipc_buf_u32(&b, slot);
    ipc_buf_u16(&b, method->n_params);
    cap_result rc = ipc_encode_values(&b, tl, method, values, IPC_DIR_IN, &ipc_conn_iface_ops, c);
    if (CAP_SUCCEEDED(rc))
        rc = ipc_conn_call(c, &b, IPC_MSG_REQUEST, tl, method, values);
    ipc_buf_free(&b);
    return rc;
}

cap_result ipc_remote_qi(struct ipc_conn *c, uint64_t handle, const cap_uuid *iid, void **out)
{
    *out = NULL;
    const struct cap_tl_iface *tl = cap_typelib_find_iface(iid);
    if (!tl)
        return CAP_E_NOINTERFACE; /* we could not use it anyway */
    struct cap_tl_param prm = {"result", CAP_TLT_IFACE, CAP_TLD_RETURN, 0, NULL, tl};
    struct cap_tl_method qm = {"QueryInterface", "queryInterface", CAP_TLM_METHOD, 0, 1, &prm};
    struct cap_xpt_value v;
    memset(&v, 0, sizeof(v));
    uint8_t room[64];
    struct ipc_buf b;
    ipc_buf_init_on(&b, room, sizeof(room));
    ipc_buf_u64(&b, handle);
    ipc_buf_put(&b, iid, 16);
    cap_result rc = ipc_conn_call(c, &b, IPC_MSG_QI, tl, &qm, &v);
    ipc_buf_free(&b);
    if (CAP_SUCCEEDED(rc) && !v.iface)
        rc = CAP_E_NOINTERFACE;
    if (CAP_SUCCEEDED(rc))
        *out = v.iface;
    return rc;
}

static cap_result proxy_qi(void *ctx, ISupports *proxy, const cap_uuid *iid, void **out)
{
    struct ipc_proxy *px = ctx;
    struct ipc_import *imp = px->imp;
    struct ipc_conn *c = imp->conn;
    const struct cap_tl_iface *tl =
        cap_uuid_equal(iid, &IID_ISupports) ? &cap_tl_ISupports : cap_typelib_find_iface(iid);
    if (!tl)
        return CAP_E_NOINTERFACE;
    pthread_mutex_lock(&c->lock);
    if (tl == &cap_tl_ISupports) { /* identity: one ISupports proxy per handle */
        cap_result rc = import_proxy_locked(imp, tl, 1, out);
        pthread_mutex_unlock(&c->lock);
        return rc;
    }
    for (struct ipc_proxy *p = imp->proxies; p; p = p->next)
        if (cap_tl_iface_is_a(p->tl, iid) && cap_proxy_try_addref(p->obj, &ipc_proxy_handler)) {
            *out = p->obj;
            pthread_mutex_unlock(&c->lock);
            return CAP_OK;
        }
    pthread_mutex_unlock(&c->lock);
    return ipc_remote_qi(c, imp->id, iid, out);
}

/* --- the ops marshal.c uses --- */

static cap_result ops_encode(void *ctx, struct ipc_buf *b, void *obj, const struct cap_tl_iface *tl)
{
    struct ipc_conn *c = ctx;
    struct ipc_proxy *px = cap_proxy_context(obj, &ipc_proxy_handler, NULL);
    if (px && px->imp->conn == c) { /* the peer's own object goes home */
        ipc_buf_u8(b, IPC_IFACE_RECEIVER);
        ipc_buf_u64(b, px->imp->id);
        ipc_buf_put(b, tl->iid, 16);
        return CAP_OK;
    }
    return export_encode(c, b, obj, tl);
}

static cap_result ops_decode(void *ctx, uint8_t kind, uint64_t handle,
                             const struct cap_tl_iface *tl, void **out)
{
    struct ipc_conn *c = ctx;
    if (kind == IPC_IFACE_RECEIVER)
        return ipc_export_lookup(c, handle, tl, out);
    return import_decode(c, handle, tl, out);
}

const struct ipc_iface_ops ipc_conn_iface_ops = {ops_encode, ops_decode};
