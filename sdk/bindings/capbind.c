/*
 * sdk/bindings/capbind.c - the binding core: connections, objects, dynamic
 * call frames over cap_xpt_invoke(), and the typelib as text.
 *
 * The Python extension and the Java JNI library are this file plus the
 * code SWIG generates for capsule_bind.i. Every call from a script goes
 * capb_call_new -> capb_set_* per in param -> capb_invoke -> capb_get_* per
 * out/return param -> capb_call_free; the values live in a frame of
 * struct cap_xpt_value exactly as an IPC stub would build them.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/capsule.h>
#include <capsule/client.h>
#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/registry.h>
#include <capsule/result.h>
#include <capsule/uuid.h>
#include <capsule/xptcall.h>

#include "capbind.h"

struct capb_conn {
    atomic_uint refs;
    struct cap_client *client;
};

/* One interface pointer held by a binding. */
struct capb_obj {
    void *ptr;                     /* AddRef'ed interface pointer */
    const struct cap_tl_iface *tl; /* its interface (never NULL) */
    struct capb_conn *conn;        /* the connection it came through, or NULL */
};

struct capb_call {
    struct capb_obj *obj;                /* borrowed: the caller keeps it alive */
    uint32_t slot;
    const struct cap_tl_method *method;
    struct cap_xpt_value *values;        /* one per param; owned (in copies, results) */
    struct cap_error_info err;           /* the last failure */
    char *scratch;                       /* the last UUID handed out */
    struct capb_conn *in_conn;           /* borrowed: an in object's connection */
};

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

/* Moves the thread's error info (or a generic message) into last_error. */
static cap_result take_last_error(cap_result rc, const char *what)
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

/* Takes over one reference to ptr; releases it if the wrapper cannot be made. */
static struct capb_obj *obj_wrap(void *ptr, const struct cap_tl_iface *tl, struct capb_conn *conn)
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
    return obj_wrap(obj->ptr, obj->tl, obj->conn);
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
        *out = obj_wrap(root, &cap_tl_ICapsule, conn);
        conn_unref(conn); /* the root holds it now */
        conn = NULL;
        if (!*out)
            rc = CAP_E_OUTOFMEMORY;
    }
    if (rc < 0)
        take_last_error(rc, "connecting to capsule-svc");
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
        take_last_error(CAP_E_CLASS_NOT_REGISTERED, "creating an instance");
        return NULL;
    }
    void *ptr = NULL;
    cap_result rc = ensure_registry();
    if (rc >= 0)
        rc = cap_registry_create_instance(cap_registry_default(), cls->clsid,
                                          cls->default_iface->iid, &ptr);
    if (rc < 0) {
        take_last_error(rc, "creating an instance");
        return NULL;
    }
    return obj_wrap(ptr, cls->default_iface, near ? near->conn : NULL);
}

struct capb_obj *capb_query(struct capb_obj *obj, const char *iface)
{
    const struct cap_tl_iface *tl = strcmp(iface, "ISupports") == 0
                                        ? &cap_tl_ISupports
                                        : cap_typelib_find_iface_by_name(iface);
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
        take_last_error(rc < 0 ? rc : CAP_E_NOINTERFACE, "QueryInterface");
        return NULL;
    }
    return obj_wrap(ptr, tl, obj->conn);
}

/* ---- the typelib as text ----------------------------------------------------------- */

static const char *const type_names[CAP_TLT_COUNT_] = {
    [CAP_TLT_VOID] = "void",       [CAP_TLT_BOOL] = "bool",     [CAP_TLT_OCTET] = "octet",
    [CAP_TLT_SHORT] = "short",     [CAP_TLT_USHORT] = "ushort", [CAP_TLT_LONG] = "long",
    [CAP_TLT_ULONG] = "ulong",     [CAP_TLT_LONGLONG] = "longlong",
    [CAP_TLT_ULONGLONG] = "ulonglong", [CAP_TLT_DOUBLE] = "double", [CAP_TLT_STRING] = "string",
    [CAP_TLT_UUID] = "uuid",       [CAP_TLT_ENUM] = "enum",     [CAP_TLT_IFACE] = "iface",
};
static const char *const dir_names[] = {"in", "out", "return"};

/* Appends to a growing buffer (*buf, *len); never fails silently: NULL on OOM. */
static char *append(char *buf, size_t *len, const char *fmt, ...) CAP_PRINTF(3, 4);

static char *append(char *buf, size_t *len, const char *fmt, ...)
{
    if (!buf)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *nb = realloc(buf, *len + (size_t)n + 1);
    if (!nb) {
        free(buf);
        return NULL;
    }
    va_start(ap, fmt);
    vsnprintf(nb + *len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    *len += (size_t)n;
    return nb;
}

static char *describe_iface(char *b, size_t *len, const struct cap_tl_iface *it)
{
    char id[CAP_UUID_BUFSIZE];
    b = append(b, len, "I\t%s\t%s\t%s\t%u\n", it->name, it->base ? it->base->name : "-",
               cap_uuid_format(it->iid, id), it->first_own);
    for (uint16_t m = 0; m < it->n_own; m++) {
        const struct cap_tl_method *me = &it->own[m];
        static const char *const kinds[] = {"method", "getter", "setter"};
        b = append(b, len, "M\t%u\t%s\t%s\t%s\t%u\n", it->first_own + m, me->name, me->idl_name,
                   kinds[me->kind], me->flags);
        for (uint16_t p = 0; p < me->n_params; p++) {
            const struct cap_tl_param *pa = &me->params[p];
            const char *ref = pa->enm ? pa->enm->name : pa->iface ? pa->iface->name : "-";
            b = append(b, len, "P\t%s\t%s\t%s\t%u\t%s\n", pa->name, type_names[pa->type],
                       dir_names[pa->dir], pa->flags & CAP_TLP_ARRAY ? 1u : 0u, ref);
        }
    }
    return b;
}

/*
 * Records (tab-separated):
 *   L name                       the library
 *   R name value                 a result code
 *   E name / V name value        an enum and its constants
 *   I name base iid first_own    an interface (base "-" for ISupports)
 *   M slot name idl_name kind flags   a method (kind method|getter|setter)
 *   P name type dir array ref    a param of the preceding method (ref: enum
 *                                or interface name, or "-")
 *   C name clsid contract iface  a class
 */
static char *describe(void)
{
    const struct cap_typelib *lib = &capsule_typelib;
    char id[CAP_UUID_BUFSIZE];
    size_t len = 0;
    char *b = calloc(1, 1);
    b = append(b, &len, "L\t%s\n", lib->name);
    for (uint32_t i = 0; i < lib->n_results; i++)
        b = append(b, &len, "R\t%s\t%d\n", lib->results[i].name, (int)lib->results[i].value);
    for (uint32_t i = 0; i < lib->n_enums; i++) {
        const struct cap_tl_enum *e = lib->enums[i];
        b = append(b, &len, "E\t%s\n", e->name);
        for (uint32_t v = 0; v < e->n_values; v++)
            b = append(b, &len, "V\t%s\t%d\n", e->values[v].name, (int)e->values[v].value);
    }
    b = describe_iface(b, &len, &cap_tl_ISupports);
    for (uint32_t i = 0; i < lib->n_ifaces; i++)
        b = describe_iface(b, &len, lib->ifaces[i]);
    for (uint32_t i = 0; i < lib->n_classes; i++) {
        const struct cap_tl_class *c = &lib->classes[i];
        b = append(b, &len, "C\t%s\t%s\t%s\t%s\n", c->name, cap_uuid_format(c->clsid, id),
                   c->contract_id, c->default_iface->name);
    }
    return b;
}

static char *described;

static void describe_once(void)
{
    described = describe();
}

const char *capb_typelib_describe(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, describe_once);
    return described ? described : "";
}

/* ---- call frames ---------------------------------------------------------------------- */

/* Fails the frame's setter/getter with CAP_E_INVALIDARG and a message. */
static cap_result frame_fail(struct capb_call *call, const char *fmt, ...) CAP_PRINTF(2, 3);

static cap_result frame_fail(struct capb_call *call, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    cap_error_info_clear(&call->err);
    call->err.result = CAP_E_INVALIDARG;
    call->err.message = cap_str_printf("%s::%s: %s", call->obj->tl->name, call->method->idl_name,
                                       buf);
    call->err.component = cap_str_dup("capsule-bind");
    return CAP_E_INVALIDARG;
}

struct capb_call *capb_call_new(struct capb_obj *obj, uint32_t slot)
{
    const struct cap_tl_method *m = obj ? cap_tl_method_at(obj->tl, slot) : NULL;
    if (!m || (m->flags & CAP_TLM_BUILTIN)) {
        cap_error_set(CAP_E_BAD_METHOD_INDEX, "capsule-bind", obj ? obj->tl->name : NULL,
                      "slot %u is not a callable method", slot);
        take_last_error(CAP_E_BAD_METHOD_INDEX, "a call");
        return NULL;
    }
    struct capb_call *call = calloc(1, sizeof(*call));
    if (call)
        call->values = calloc(m->n_params ? m->n_params : 1, sizeof(*call->values));
    if (!call || !call->values) {
        free(call);
        return NULL;
    }
    call->obj = obj;
    call->slot = slot;
    call->method = m;
    return call;
}

void capb_call_free(struct capb_call *call)
{
    if (!call)
        return;
    /* In values were built by the setters with capsule/mem.h, so both
     * directions are owned here. */
    cap_xpt_values_clear(call->method, call->values, CAP_XPT_CLEAR_ALL);
    cap_error_info_clear(&call->err);
    free(call->scratch);
    free(call->values);
    free(call);
}

/* The in param i with the given array-ness, or NULL after failing the frame. */
static const struct cap_tl_param *in_param(struct capb_call *call, uint32_t i, int array)
{
    if (i >= call->method->n_params) {
        frame_fail(call, "param %u out of range", i);
        return NULL;
    }
    const struct cap_tl_param *p = &call->method->params[i];
    if (p->dir != CAP_TLD_IN || !!(p->flags & CAP_TLP_ARRAY) != array) {
        frame_fail(call, "param '%s' cannot be set that way", p->name);
        return NULL;
    }
    return p;
}

/* Stores an integer of type `type` into *dst (an element or a value member). */
static int store_int(uint8_t type, void *dst, int64_t v)
{
    switch (type) {
    case CAP_TLT_BOOL:
        *(cap_bool *)dst = v != 0;
        return 0;
    case CAP_TLT_OCTET:
        if (v < 0 || v > UINT8_MAX)
            return -1;
        *(uint8_t *)dst = (uint8_t)v;
        return 0;
    case CAP_TLT_SHORT:
        if (v < INT16_MIN || v > INT16_MAX)
            return -1;
        *(int16_t *)dst = (int16_t)v;
        return 0;
    case CAP_TLT_USHORT:
        if (v < 0 || v > UINT16_MAX)
            return -1;
        *(uint16_t *)dst = (uint16_t)v;
        return 0;
    case CAP_TLT_LONG:
    case CAP_TLT_ENUM:
        if (v < INT32_MIN || v > INT32_MAX)
            return -1;
        *(int32_t *)dst = (int32_t)v;
        return 0;
    case CAP_TLT_ULONG:
        if (v < 0 || v > UINT32_MAX)
            return -1;
        *(uint32_t *)dst = (uint32_t)v;
        return 0;
    case CAP_TLT_LONGLONG:
    case CAP_TLT_ULONGLONG:
        *(int64_t *)dst = v;
        return 0;
    default:
        return -2;
    }
}

static int64_t load_int(uint8_t type, const void *src)
{
    switch (type) {
    case CAP_TLT_BOOL:
        return *(const cap_bool *)src != 0;
    case CAP_TLT_OCTET:
        return *(const uint8_t *)src;
    case CAP_TLT_SHORT:
        return *(const int16_t *)src;
    case CAP_TLT_USHORT:
        return *(const uint16_t *)src;
    case CAP_TLT_LONG:
    case CAP_TLT_ENUM:
        return *(const int32_t *)src;
    case CAP_TLT_ULONG:
        return *(const uint32_t *)src;
    case CAP_TLT_LONGLONG:
    case CAP_TLT_ULONGLONG:
        return *(const int64_t *)src;
    default:
        return 0;
    }
}

static cap_result set_int_at(struct capb_call *call, const struct cap_tl_param *p, void *dst,
                             int64_t v)
{
    int r = store_int(p->type, dst, v);
    if (r == -1)
        return frame_fail(call, "value %lld out of range for param '%s' (%s)", (long long)v,
                          p->name, type_names[p->type]);
    if (r == -2)
        return frame_fail(call, "param '%s' is a %s, not an integer", p->name,
                          type_names[p->type]);
    return CAP_OK;
}

/* A string or UUID element: copies s into *dst. */
static cap_result set_str_at(struct capb_call *call, const struct cap_tl_param *p, void *dst,
                             const char *s)
{
    if (p->type == CAP_TLT_STRING) {
        char *c = cap_str_dup(s);
        if (s && !c)
            return CAP_E_OUTOFMEMORY;
        *(char **)dst = c;
        return CAP_OK;
    }
    if (p->type == CAP_TLT_UUID) {
        cap_uuid *u = dst;
        if (!s || !*s) {
            memset(u, 0, sizeof(*u));
            return CAP_OK;
        }
        if (cap_uuid_parse(s, u) < 0) {
            cap_error_clear();
            return frame_fail(call, "'%s' is not a UUID (param '%s')", s, p->name);
        }
        return CAP_OK;
    }
    return frame_fail(call, "param '%s' is a %s, not a string", p->name, type_names[p->type]);
}

/* An interface element: AddRefs obj's pointer (QueryInterface'd to the
 * param's interface when it is another one) into *dst. */
static cap_result set_obj_at(struct capb_call *call, const struct cap_tl_param *p, void **dst,
                             struct capb_obj *obj)
{
    if (p->type != CAP_TLT_IFACE)
        return frame_fail(call, "param '%s' is a %s, not an object", p->name, type_names[p->type]);
    *dst = NULL;
    if (!obj)
        return CAP_OK;
    if (!call->in_conn)
        call->in_conn = obj->conn;
    if (cap_tl_iface_is_a(obj->tl, p->iface->iid)) {
        ISupports_AddRef(obj->ptr);
        *dst = obj->ptr;
        return CAP_OK;
    }
    if (CAP_QI(obj->ptr, p->iface->iid, dst) < 0 || !*dst) {
        cap_error_clear();
        return frame_fail(call, "param '%s' needs an %s, got an %s that is none", p->name,
                          p->iface->name, obj->tl->name);
    }
    return CAP_OK;
}

cap_result capb_set_int(struct capb_call *call, uint32_t i, int64_t v)
{
    const struct cap_tl_param *p = in_param(call, i, 0);
    return p ? set_int_at(call, p, &call->values[i], v) : CAP_E_INVALIDARG;
}

cap_result capb_set_double(struct capb_call *call, uint32_t i, double v)
{
    const struct cap_tl_param *p = in_param(call, i, 0);
    if (!p)
        return CAP_E_INVALIDARG;
    if (p->type != CAP_TLT_DOUBLE)
        return frame_fail(call, "param '%s' is a %s, not a double", p->name, type_names[p->type]);
    call->values[i].d = v;
    return CAP_OK;
}

cap_result capb_set_str(struct capb_call *call, uint32_t i, const char *s)
{
    const struct cap_tl_param *p = in_param(call, i, 0);
    if (!p)
        return CAP_E_INVALIDARG;
    if (p->type == CAP_TLT_UUID)
        return set_str_at(call, p, &call->values[i].uuid, s);
    return set_str_at(call, p, &call->values[i].str, s);
}

cap_result capb_set_obj(struct capb_call *call, uint32_t i, struct capb_obj *obj)
{
    const struct cap_tl_param *p = in_param(call, i, 0);
    return p ? set_obj_at(call, p, &call->values[i].iface, obj) : CAP_E_INVALIDARG;
}

cap_result capb_set_array(struct capb_call *call, uint32_t i, uint32_t n)
{
    const struct cap_tl_param *p = in_param(call, i, 1);
    if (!p)
        return CAP_E_INVALIDARG;
    struct cap_xpt_array *a = &call->values[i].arr;
    cap_array_free(p->type, a->count, a->items);
    a->count = 0;
    a->items = n ? cap_alloc_zero((size_t)n * cap_tl_type_size(p->type)) : NULL;
    if (n && !a->items)
        return CAP_E_OUTOFMEMORY;
    a->count = n;
    return CAP_OK;
}

/* Element k of the in array param i, or NULL after failing the frame. */
static void *in_elem(struct capb_call *call, uint32_t i, uint32_t k,
                     const struct cap_tl_param **pp)
{
    const struct cap_tl_param *p = *pp = in_param(call, i, 1);
    if (!p)
        return NULL;
    const struct cap_xpt_array *a = &call->values[i].arr;
    if (k >= a->count) {
        frame_fail(call, "element %u of param '%s' out of range", k, p->name);
        return NULL;
    }
    return (char *)a->items + (size_t)k * cap_tl_type_size(p->type);
}

cap_result capb_set_elem_int(struct capb_call *call, uint32_t i, uint32_t k, int64_t v)
{
    const struct cap_tl_param *p;
    void *e = in_elem(call, i, k, &p);
    return e ? set_int_at(call, p, e, v) : CAP_E_INVALIDARG;
}

cap_result capb_set_elem_double(struct capb_call *call, uint32_t i, uint32_t k, double v)
{
    const struct cap_tl_param *p;
    double *e = in_elem(call, i, k, &p);
    if (!e)
        return CAP_E_INVALIDARG;
    if (p->type != CAP_TLT_DOUBLE)
        return frame_fail(call, "param '%s' is a %s array", p->name, type_names[p->type]);
    *e = v;
    return CAP_OK;
}

cap_result capb_set_elem_str(struct capb_call *call, uint32_t i, uint32_t k, const char *s)
{
    const struct cap_tl_param *p;
    void *e = in_elem(call, i, k, &p);
    return e ? set_str_at(call, p, e, s) : CAP_E_INVALIDARG;
}

cap_result capb_set_elem_obj(struct capb_call *call, uint32_t i, uint32_t k, struct capb_obj *obj)
{
    const struct cap_tl_param *p;
    void **e = in_elem(call, i, k, &p);
    return e ? set_obj_at(call, p, e, obj) : CAP_E_INVALIDARG;
}

cap_result capb_invoke(struct capb_call *call)
{
    cap_result rc = cap_xpt_invoke(call->obj->ptr, call->obj->tl, call->slot, call->values,
                                   call->method->n_params);
    if (rc < 0) {
        cap_error_info_clear(&call->err);
        if (cap_error_take(&call->err) != CAP_OK || !call->err.message) {
            cap_error_info_clear(&call->err);
            call->err.message = cap_str_printf("%s::%s failed (%s)", call->obj->tl->name,
                                               call->method->idl_name, cap_result_name(rc));
        }
        call->err.result = rc;
    }
    return rc;
}

cap_result capb_call_error_code(const struct capb_call *call)
{
    return call->err.result;
}

const char *capb_call_error_message(const struct capb_call *call)
{
    return call->err.message ? call->err.message : "";
}

const char *capb_call_error_component(const struct capb_call *call)
{
    return call->err.component;
}

const char *capb_call_error_iface(const struct capb_call *call)
{
    return call->err.iface;
}

/* The out/return param i with the given array-ness and a type test, or NULL. */
static const struct cap_tl_param *out_param(const struct capb_call *call, uint32_t i, int array)
{
    if (i >= call->method->n_params)
        return NULL;
    const struct cap_tl_param *p = &call->method->params[i];
    if (p->dir == CAP_TLD_IN || !!(p->flags & CAP_TLP_ARRAY) != array)
        return NULL;
    return p;
}

/* The result objects keep the connection of the callee, or of an in object
 * (a session's callbacks come through the connection it was passed over). */
static struct capb_conn *call_conn(const struct capb_call *call)
{
    return call->obj->conn ? call->obj->conn : call->in_conn;
}

static const char *str_of(struct capb_call *call, const struct cap_tl_param *p, const void *src)
{
    if (p->type == CAP_TLT_STRING)
        return *(char *const *)src;
    if (p->type != CAP_TLT_UUID)
        return NULL;
    free(call->scratch);
    call->scratch = malloc(CAP_UUID_BUFSIZE);
    return call->scratch ? cap_uuid_format(src, call->scratch) : NULL;
}

static struct capb_obj *obj_of(struct capb_call *call, const struct cap_tl_param *p, void *ptr)
{
    if (p->type != CAP_TLT_IFACE || !ptr)
        return NULL;
    ISupports_AddRef(ptr);
    return obj_wrap(ptr, p->iface, call_conn(call));
}

int64_t capb_get_int(const struct capb_call *call, uint32_t i)
{
    const struct cap_tl_param *p = out_param(call, i, 0);
    return p ? load_int(p->type, &call->values[i]) : 0;
}

double capb_get_double(const struct capb_call *call, uint32_t i)
{
    const struct cap_tl_param *p = out_param(call, i, 0);
    return p && p->type == CAP_TLT_DOUBLE ? call->values[i].d : 0.0;
}

const char *capb_get_str(struct capb_call *call, uint32_t i)
{
    const struct cap_tl_param *p = out_param(call, i, 0);
    return p ? str_of(call, p, p->type == CAP_TLT_UUID ? (void *)&call->values[i].uuid
                                                       : (void *)&call->values[i].str)
             : NULL;
}

struct capb_obj *capb_get_obj(struct capb_call *call, uint32_t i)
{
    const struct cap_tl_param *p = out_param(call, i, 0);
    return p ? obj_of(call, p, call->values[i].iface) : NULL;
}

uint32_t capb_get_count(const struct capb_call *call, uint32_t i)
{
    return out_param(call, i, 1) ? call->values[i].arr.count : 0;
}

/* Element k of the out array param i, or NULL. */
static void *out_elem(const struct capb_call *call, uint32_t i, uint32_t k,
                      const struct cap_tl_param **pp)
{
    const struct cap_tl_param *p = *pp = out_param(call, i, 1);
    if (!p || k >= call->values[i].arr.count)
        return NULL;
    return (char *)call->values[i].arr.items + (size_t)k * cap_tl_type_size(p->type);
}

int64_t capb_get_elem_int(const struct capb_call *call, uint32_t i, uint32_t k)
{
    const struct cap_tl_param *p;
    const void *e = out_elem(call, i, k, &p);
    return e ? load_int(p->type, e) : 0;
}

double capb_get_elem_double(const struct capb_call *call, uint32_t i, uint32_t k)
{
    const struct cap_tl_param *p;
    const double *e = out_elem(call, i, k, &p);
    return e && p->type == CAP_TLT_DOUBLE ? *e : 0.0;
}

const char *capb_get_elem_str(struct capb_call *call, uint32_t i, uint32_t k)
{
    const struct cap_tl_param *p;
    const void *e = out_elem(call, i, k, &p);
    return e ? str_of(call, p, e) : NULL;
}

struct capb_obj *capb_get_elem_obj(struct capb_call *call, uint32_t i, uint32_t k)
{
    const struct cap_tl_param *p;
    void **e = out_elem(call, i, k, &p);
    return e ? obj_of(call, p, *e) : NULL;
}
