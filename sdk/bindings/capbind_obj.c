/*
 * sdk/bindings/capbind_obj.c - the binding core's connections and objects,
 * and the thread's last error outside call frames.
 *
 * A connection (struct capb_conn) is a cap_client shared by every object
 * that came through it and closed with the last of them. An object is one
 * AddRef'ed interface pointer plus its typelib entry. In-process classes
 * (Session) come from the default registry of the build's or install's
 * components folder, found next to libcapsule-ipc.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/capsule.h>
#include <capsule/client.h>
#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/registry.h>
#include <capsule/result.h>

#include "capbind_internal.h"

static _Thread_local struct capb_error last_error;

/* ---- errors ------------------------------------------------------------------- */

static void last_error_reset(void)
{
    free(last_error.message);
    free(last_error.component);
    free(last_error.iface);
    memset(&last_error, 0, sizeof(last_error));
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

cap_result capb_take_last_error(cap_result rc, const char *what)
{
    struct cap_error_info info;
    memset(&info, 0, sizeof(info));
    last_error_reset();
    last_error.code = rc;
    if (cap_error_take(&info) == CAP_OK && info.message && *info.message) {
        last_error.message = strdup(info.message);
        last_error.component = dup_or_null(info.component);
        last_error.iface = dup_or_null(info.iface);
    } else {
        char buf[256];
        snprintf(buf, sizeof(buf), "%s failed (%s)", what, cap_result_name(rc));
        last_error.message = strdup(buf);
    }
    cap_error_info_clear(&info);
    return rc;
}

void capb_clear_last_error(void)
{
    last_error_reset();
}

const struct capb_error *capb_last_error(void)
{
    return &last_error;
}

const char *capb_result_name(cap_result rc)
{
    return cap_result_name(rc);
}

/* ---- connections and objects ------------------------------------------------------ */

static struct capb_conn *conn_ref(struct capb_conn *c)
{
    if (c)
        atomic_fetch_add(&c->refs, 1);
    return c;
}

static void conn_unref(struct capb_conn *c)
{
    if (c && atomic_fetch_sub(&c->refs, 1) == 1) {
        cap_client_close(c->client);
        free(c);
    }
}

struct capb_obj *capb_obj_wrap(void *ptr, const struct cap_tl_iface *tl, struct capb_conn *conn)
{
    if (!ptr)
        return NULL;
    struct capb_obj *o = calloc(1, sizeof(*o));
    if (!o) {
        ISupports_Release(ptr);
        return NULL;
    }
    o->ptr = ptr;
    o->tl = tl ? tl : &cap_tl_ISupports;
    o->conn = conn_ref(conn);
    return o;
}

void capb_obj_free(struct capb_obj *obj)
{
    if (!obj)
        return;
    if (obj->ptr)
        ISupports_Release(obj->ptr);
    conn_unref(obj->conn);
    free(obj);
}

struct capb_obj *capb_obj_dup(struct capb_obj *obj)
{
    if (!obj)
        return NULL;
    ISupports_AddRef(obj->ptr);
    return capb_obj_wrap(obj->ptr, obj->tl, obj->conn);
}

const char *capb_obj_iface(const struct capb_obj *obj)
{
    return obj ? obj->tl->name : NULL;
}

int capb_obj_same(struct capb_obj *a, struct capb_obj *b)
{
    if (!a || !b)
        return a == b;
    void *pa = NULL, *pb = NULL;
    int same = 0;
    if (CAP_QI(a->ptr, &IID_ISupports, &pa) >= 0 && CAP_QI(b->ptr, &IID_ISupports, &pb) >= 0)
        same = pa == pb;
    if (pa)
        ISupports_Release(pa);
    if (pb)
        ISupports_Release(pb);
    return same;
}

/* "<dir of libcapsule-ipc>/<rel>": the build or install tree's layout. */
static char *lib_relative(const char *rel)
{
    Dl_info info;
    if (!dladdr((void *)cap_client_connect, &info) || !info.dli_fname)
        return NULL;
    const char *slash = strrchr(info.dli_fname, '/');
    if (!slash)
        return NULL;
    return cap_str_printf("%.*s/%s", (int)(slash - info.dli_fname), info.dli_fname, rel);
}

static cap_result ensure_registry(void)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    cap_result rc = CAP_OK;
    pthread_mutex_lock(&lock);
    if (!cap_registry_default()) {
        char *dir = lib_relative("components");
        rc = cap_registry_init_default(dir);
        cap_str_free(dir);
        if (rc == CAP_E_BAD_MANIFEST)
            rc = CAP_OK; /* creating a class from a skipped manifest reports it */
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

cap_result capb_connect(const char *home, const char *svc_path, struct capb_obj **out)
{
    struct cap_client_options opts;
    struct capb_conn *conn = NULL;
    char *svc = NULL;
    ICapsule *root = NULL;
    cap_result rc;

    *out = NULL;
    memset(&opts, 0, sizeof(opts));
    opts.home = home && *home ? home : NULL;
    if (svc_path && *svc_path)
        opts.svc_path = svc_path;
    else
        opts.svc_path = svc = lib_relative("../bin/capsule-svc");
    rc = cap_typelib_register(&capsule_typelib);
    if (rc >= 0)
        rc = ensure_registry();
    conn = calloc(1, sizeof(*conn));
    if (rc >= 0 && !conn)
        rc = CAP_E_OUTOFMEMORY;
    if (rc >= 0)
        rc = cap_client_connect(&opts, &conn->client);
    if (rc >= 0)
        rc = cap_client_get_root(conn->client, &root);
    if (rc >= 0) {
        atomic_init(&conn->refs, 1);
        *out = capb_obj_wrap(root, &cap_tl_ICapsule, conn);
        conn_unref(conn); /* the root holds it now */
        conn = NULL;
        if (!*out)
            rc = CAP_E_OUTOFMEMORY;
    }
    if (rc < 0)
        capb_take_last_error(rc, "connecting to capsule-svc");
    if (conn) {
        cap_client_close(conn->client);
        free(conn);
    }
    cap_str_free(svc);
    return rc;
}

struct capb_obj *capb_create_instance(const char *class_name, struct capb_obj *near)
{
    const struct cap_tl_class *cls = NULL;
    for (uint32_t i = 0; i < capsule_typelib.n_classes; i++)
        if (strcmp(capsule_typelib.classes[i].name, class_name) == 0)
            cls = &capsule_typelib.classes[i];
    if (!cls) {
        cap_error_set(CAP_E_CLASS_NOT_REGISTERED, "capsule-bind", NULL, "no class named '%s'",
                      class_name);
        capb_take_last_error(CAP_E_CLASS_NOT_REGISTERED, "creating an instance");
        return NULL;
    }
    void *ptr = NULL;
    cap_result rc = ensure_registry();
    if (rc >= 0)
        rc = cap_registry_create_instance(cap_registry_default(), cls->clsid,
                                          cls->default_iface->iid, &ptr);
    if (rc < 0) {
        capb_take_last_error(rc, "creating an instance");
        return NULL;
    }
    return capb_obj_wrap(ptr, cls->default_iface, near ? near->conn : NULL);
}

struct capb_obj *capb_query(struct capb_obj *obj, const char *iface)
{
    const struct cap_tl_iface *tl =
        strcmp(iface, "ISupports") == 0 ? &cap_tl_ISupports : cap_typelib_find_iface_by_name(iface);
    void *ptr = NULL;
    cap_result rc = CAP_E_NOINTERFACE;
    if (!tl)
        rc = cap_error_set(CAP_E_NOINTERFACE, "capsule-bind", NULL, "no interface named '%s'",
                           iface);
    else
        rc = CAP_QI(obj->ptr, tl->iid, &ptr);
    if (rc < 0 || !ptr) {
        if (rc >= 0 || !cap_error_peek_message())
            cap_error_set(CAP_E_NOINTERFACE, "capsule-bind", obj->tl->name,
                          "the %s object does not implement %s", obj->tl->name, iface);
        capb_take_last_error(rc < 0 ? rc : CAP_E_NOINTERFACE, "QueryInterface");
        return NULL;
    }
    return capb_obj_wrap(ptr, tl, obj->conn);
}
