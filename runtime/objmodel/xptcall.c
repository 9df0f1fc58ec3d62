/*
 * xptcall.c - dynamic calls of interface methods from the typelib.
 *
 * This is the project's xptcall: given an object, its interface table and a
 * vtable slot, cap_xpt_invoke() turns one struct cap_xpt_value per IDL param
 * into the C arguments capsule/typelib.h prescribes and calls the slot
 * through libffi. IPC stubs are built on it (decode a request into values,
 * invoke, encode the out values), and proxy.c shares its cache of prepared
 * call descriptions to build closures that do the reverse.
 *
 * The cache (xptcall_internal.h) holds one entry per interface table: a cif
 * per slot, validated once, so that a call only maps values to argument
 * pointers and calls ffi_call. Lookups are lock-free; building an entry
 * takes xpt_lock.
 */
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/result.h>
#include <capsule/uuid.h>
#include <capsule/xptcall.h>

#include "xptcall_internal.h"

#define XPT_BUCKETS 256

pthread_mutex_t xpt_lock = PTHREAD_MUTEX_INITIALIZER;
static struct xpt_iface_info *xpt_buckets[XPT_BUCKETS];
static struct xpt_iface_info *xpt_graveyard; /* forgotten entries, see below */

static unsigned xpt_hash(const struct cap_tl_iface *tl)
{
    uintptr_t h = (uintptr_t)tl;
    return (unsigned)((h >> 4) ^ (h >> 12)) & (XPT_BUCKETS - 1);
}

/* The libffi type of an in param of a scalar (non-array) type. */
static ffi_type *xpt_ffi_in_type(uint8_t type)
{
    switch (type) {
    case CAP_TLT_BOOL:
    case CAP_TLT_OCTET:
        return &ffi_type_uint8;
    case CAP_TLT_SHORT:
        return &ffi_type_sint16;
    case CAP_TLT_USHORT:
        return &ffi_type_uint16;
    case CAP_TLT_LONG:
    case CAP_TLT_ENUM:
        return &ffi_type_sint32;
    case CAP_TLT_ULONG:
        return &ffi_type_uint32;
    case CAP_TLT_LONGLONG:
        return &ffi_type_sint64;
    case CAP_TLT_ULONGLONG:
        return &ffi_type_uint64;
    case CAP_TLT_DOUBLE:
        return &ffi_type_double;
    default: /* string, uuid (by address), interface */
        return &ffi_type_pointer;
    }
}

/* Checks one param of a typelib entry; 0 if well-formed. */
static int xpt_param_ok(const struct cap_tl_param *p)
{
    return p->type > CAP_TLT_VOID && p->type < CAP_TLT_COUNT_ && p->dir <= CAP_TLD_RETURN &&
           (p->flags & ~CAP_TLP_ARRAY) == 0;
}

/* QueryInterface is the one builtin slot callable dynamically, and only if
 * its table entry has the shape of its C signature: (uuid in, iface out). */
static int xpt_qi_shape_ok(const struct cap_tl_method *m)
{
    if (m->n_params != 2 || !m->params)
        return 0;
    const struct cap_tl_param *a = &m->params[0], *b = &m->params[1];
    return a->type == CAP_TLT_UUID && a->dir == CAP_TLD_IN && !(a->flags & CAP_TLP_ARRAY) &&
           b->type == CAP_TLT_IFACE && b->dir != CAP_TLD_IN && !(b->flags & CAP_TLP_ARRAY);
}

/* Prepares the cif of one slot. Returns CAP_OK or sets error info. */
static cap_result xpt_slot_prepare(const struct cap_tl_iface *tl, struct xpt_slot *s)
{
    const struct cap_tl_method *m = s->method;

    /* AddRef/Release return uint32_t, whatever their table says: never
     * callable. QueryInterface is, if its entry matches its C signature. */
    if (s->index == 1 || s->index == 2 || (s->index == 0 && !xpt_qi_shape_ok(m)))
        return CAP_OK;
    if (m->n_params && !m->params)
        return cap_error_set(CAP_E_NO_TYPEINFO, XPT_COMPONENT, tl->name,
                             "typelib entry of %s::%s has no param table", tl->name, m->name);
    uint32_t n = 1;
    for (uint32_t i = 0; i < m->n_params; i++) {
        const struct cap_tl_param *p = &m->params[i];
        if (!xpt_param_ok(p))
            return cap_error_set(CAP_E_NO_TYPEINFO, XPT_COMPONENT, tl->name,
                                 "typelib entry of %s::%s: param %u (%s) has type %u, dir %u, "
                                 "flags 0x%x",
                                 tl->name, m->name, i + 1, p->name ? p->name : "?", p->type, p->dir,
                                 p->flags);
        n += (p->flags & CAP_TLP_ARRAY) ? 2 : 1;
    }
    s->atypes = cap_alloc(n * sizeof(*s->atypes));
    if (!s->atypes)
        return cap_error_set(CAP_E_OUTOFMEMORY, XPT_COMPONENT, tl->name, "out of memory");
    uint32_t k = 0;
    s->atypes[k++] = &ffi_type_pointer; /* self */
    for (uint32_t i = 0; i < m->n_params; i++) {
        const struct cap_tl_param *p = &m->params[i];
        int in = p->dir == CAP_TLD_IN;
        if (p->flags & CAP_TLP_ARRAY) {
            s->atypes[k++] = in ? &ffi_type_uint32 : &ffi_type_pointer;
            s->atypes[k++] = &ffi_type_pointer;
        } else {
            s->atypes[k++] = in ? xpt_ffi_in_type(p->type) : &ffi_type_pointer;
        }
    }
    s->n_cargs = n;
    if (ffi_prep_cif(&s->cif, FFI_DEFAULT_ABI, n, &ffi_type_sint32, s->atypes) != FFI_OK)
        return cap_error_set(CAP_E_NO_TYPEINFO, XPT_COMPONENT, tl->name,
                             "libffi cannot describe %s::%s (%u C arguments)", tl->name, m->name,
                             n);
    s->callable = 1;
    return CAP_OK;
}

/* The root of every interface must be ISupports with its three slots. */
static cap_result xpt_check_chain(const struct cap_tl_iface *tl)
{
    const struct cap_tl_iface *t = tl;
    for (unsigned depth = 0; t->base; t = t->base) {
        if (++depth > 1000 || t->first_own != cap_tl_iface_slots(t->base))
            return cap_error_set(CAP_E_NO_TYPEINFO, XPT_COMPONENT, tl->name,
                                 "typelib entry of %s: base chain is inconsistent at %s", tl->name,
                                 t->name ? t->name : "?");
    }
    if (!t->iid || !cap_uuid_equal(t->iid, &IID_ISupports) || t->first_own != 0 ||
        t->n_own != CAP_ISUPPORTS_SLOTS)
        return cap_error_set(CAP_E_NO_TYPEINFO, XPT_COMPONENT, tl->name,
                             "typelib entry of %s does not derive from ISupports", tl->name);
    return CAP_OK;
}

static void xpt_iface_free(struct xpt_iface_info *info)
{
    if (!info)
        return;
    xpt_proxy_free_vtbl(info);
    for (uint32_t i = 0; i < info->n_slots; i++)
        cap_free(info->slots[i].atypes);
    cap_free(info);
}

static struct xpt_iface_info *xpt_iface_build(const struct cap_tl_iface *tl, cap_result *rc)
{
    *rc = xpt_check_chain(tl);
    if (CAP_FAILED(*rc))
        return NULL;
    uint32_t n = cap_tl_iface_slots(tl);
    struct xpt_iface_info *info = cap_alloc_zero(sizeof(*info) + n * sizeof(info->slots[0]));
    if (!info) {
        *rc = cap_error_set(CAP_E_OUTOFMEMORY, XPT_COMPONENT, tl->name, "out of memory");
        return NULL;
    }
    info->tl = tl;
    info->n_slots = n;
    for (uint32_t i = 0; i < n; i++) {
        struct xpt_slot *s = &info->slots[i];
        s->owner = info;
        s->index = i;
        s->method = cap_tl_method_at(tl, i);
        if (!s->method || !s->method->name) {
            *rc = cap_error_set(CAP_E_NO_TYPEINFO, XPT_COMPONENT, tl->name,
                                "typelib entry of %s has no method in slot %u", tl->name, i);
            goto fail;
        }
        if (i >= CAP_ISUPPORTS_SLOTS && (s->method->flags & CAP_TLM_BUILTIN)) {
            *rc =
                cap_error_set(CAP_E_NO_TYPEINFO, XPT_COMPONENT, tl->name,
                              "%s::%s in slot %u is flagged builtin", tl->name, s->method->name, i);
            goto fail;
        }
        *rc = xpt_slot_prepare(tl, s);
        if (CAP_FAILED(*rc))
            goto fail;
    }
    return info;
fail:
    xpt_iface_free(info);
    return NULL;
}

struct xpt_iface_info *xpt_iface_get(const struct cap_tl_iface *tl, cap_result *rc)
{
    unsigned h = xpt_hash(tl);
    struct xpt_iface_info *info;

    for (info = __atomic_load_n(&xpt_buckets[h], __ATOMIC_ACQUIRE); info; info = info->next)
        if (info->tl == tl)
            return info;

    pthread_mutex_lock(&xpt_lock);
    for (info = xpt_buckets[h]; info; info = info->next)
        if (info->tl == tl)
            break;
    if (!info) {
        info = xpt_iface_build(tl, rc);
        if (info) {
            info->next = xpt_buckets[h];
            __atomic_store_n(&xpt_buckets[h], info, __ATOMIC_RELEASE);
        }
    }
    pthread_mutex_unlock(&xpt_lock);
    return info;
}

/*
 * Unlinks the entry of `tl`. A lock-free reader may be standing on it and
 * will follow its `next`, so the entry is neither changed nor freed: it goes
 * to the graveyard (linked through `grave`) until cap_xpt_shutdown().
 */
static void xpt_iface_forget(const struct cap_tl_iface *tl)
{
    struct xpt_iface_info **pp = &xpt_buckets[xpt_hash(tl)];
    for (; *pp; pp = &(*pp)->next) {
        struct xpt_iface_info *info = *pp;
        if (info->tl != tl)
            continue;
        __atomic_store_n(pp, info->next, __ATOMIC_RELEASE);
        info->grave = xpt_graveyard;
        xpt_graveyard = info;
        return;
    }
}

CAP_EXPORT void cap_xpt_forget_typelib(const struct cap_typelib *lib)
{
    if (!lib || !lib->ifaces)
        return;
    pthread_mutex_lock(&xpt_lock);
    for (uint32_t i = 0; i < lib->n_ifaces; i++)
        if (lib->ifaces[i])
            xpt_iface_forget(lib->ifaces[i]);
    pthread_mutex_unlock(&xpt_lock);
}

CAP_EXPORT void cap_xpt_shutdown(void)
{
    struct xpt_iface_info *info, *next;

    pthread_mutex_lock(&xpt_lock);
    for (unsigned h = 0; h < XPT_BUCKETS; h++) {
        info = xpt_buckets[h];
        __atomic_store_n(&xpt_buckets[h], NULL, __ATOMIC_RELEASE);
        for (; info; info = next) {
            next = info->next;
            xpt_iface_free(info);
        }
    }
    for (info = xpt_graveyard; info; info = next) {
        next = info->grave;
        xpt_iface_free(info);
    }
    xpt_graveyard = NULL;
    pthread_mutex_unlock(&xpt_lock);
}

CAP_EXPORT void cap_xpt_value_clear(const struct cap_tl_param *param, struct cap_xpt_value *value)
{
    if (!value)
        return;
    if (param->flags & CAP_TLP_ARRAY)
        cap_array_free(param->type, value->arr.count, value->arr.items);
    else if (param->type == CAP_TLT_STRING)
        cap_str_free(value->str);
    else if (param->type == CAP_TLT_IFACE && value->iface)
        CAP_RELEASE(value->iface);
    memset(value, 0, sizeof(*value));
}

CAP_EXPORT void cap_xpt_values_clear(const struct cap_tl_method *method,
                                     struct cap_xpt_value *values, unsigned which)
{
    if (!method || !values)
        return;
    for (uint32_t i = 0; i < method->n_params; i++) {
        const struct cap_tl_param *p = &method->params[i];
        unsigned bit = p->dir == CAP_TLD_IN ? CAP_XPT_CLEAR_IN : CAP_XPT_CLEAR_OUT;
        if (which & bit)
            cap_xpt_value_clear(p, &values[i]);
    }
}

/* Misuse checks of cap_xpt_invoke(); zeroes out values. CAP_OK if callable. */
static cap_result xpt_check_args(const struct cap_tl_iface *tl, const struct xpt_slot *s,
                                 struct cap_xpt_value *args, uint32_t n_args)
{
    const struct cap_tl_method *m = s->method;
    cap_result rc = CAP_OK;

    if (n_args != m->n_params || (n_args && !args))
        return cap_error_set(args || !n_args ? CAP_E_INVALIDARG : CAP_E_POINTER, XPT_COMPONENT,
                             tl->name, "%s::%s takes %u params, the dynamic call gave %u%s",
                             tl->name, m->name, m->n_params, n_args, args ? "" : " (values NULL)");
    for (uint32_t i = 0; i < n_args; i++) {
        const struct cap_tl_param *p = &m->params[i];
        if (p->dir != CAP_TLD_IN)
            memset(&args[i], 0, sizeof(args[i]));
        else if ((p->flags & CAP_TLP_ARRAY) && args[i].arr.count && !args[i].arr.items &&
                 rc == CAP_OK)
            rc = cap_error_set(CAP_E_POINTER, XPT_COMPONENT, tl->name,
                               "%s::%s: array param '%s' has %u items but no item pointer",
                               tl->name, m->name, p->name, args[i].arr.count);
    }
    return rc;
}

/*
 * Points av[] at the C arguments: an in value is its own argument (every
 * union member starts at offset 0); a uuid and every out/return argument is
 * a pointer, kept in ptrs[] so that av[] can point at it.
 */
static void xpt_bind(const struct cap_tl_method *m, struct cap_xpt_value *args, void **av,
                     void **ptrs)
{
    uint32_t k = 1;
    for (uint32_t i = 0; i < m->n_params; i++) {
        const struct cap_tl_param *p = &m->params[i];
        struct cap_xpt_value *v = &args[i];
        if (p->flags & CAP_TLP_ARRAY) {
            if (p->dir == CAP_TLD_IN) {
                av[k++] = &v->arr.count;
                av[k++] = &v->arr.items;
            } else {
                ptrs[k] = &v->arr.count;
                av[k] = &ptrs[k];
                k++;
                ptrs[k] = &v->arr.items;
                av[k] = &ptrs[k];
                k++;
            }
        } else if (p->dir == CAP_TLD_IN && p->type != CAP_TLT_UUID) {
            av[k++] = v;
        } else {
            ptrs[k] = v;
            av[k] = &ptrs[k];
            k++;
        }
    }
}

CAP_EXPORT cap_result cap_xpt_invoke(void *obj, const struct cap_tl_iface *tl, uint32_t slot,
                                     struct cap_xpt_value *args, uint32_t n_args)
{
    cap_result rc;

    if (!obj || !tl)
        return cap_error_set(CAP_E_POINTER, XPT_COMPONENT, tl ? tl->name : NULL,
                             "dynamic call without %s", obj ? "an interface table" : "an object");
    struct xpt_iface_info *info = xpt_iface_get(tl, &rc);
    if (!info)
        return rc;
    if (slot >= info->n_slots)
        return cap_error_set(CAP_E_BAD_METHOD_INDEX, XPT_COMPONENT, tl->name,
                             "%s has %u vtable slots; slot %u does not exist", tl->name,
                             info->n_slots, slot);
    struct xpt_slot *s = &info->slots[slot];
    if (!s->callable)
        return cap_error_set(CAP_E_BAD_METHOD_INDEX, XPT_COMPONENT, tl->name,
                             "%s::%s (slot %u) is a builtin method and cannot be called "
                             "dynamically",
                             tl->name, s->method->name, slot);
    rc = xpt_check_args(tl, s, args, n_args);
    if (CAP_FAILED(rc))
        return rc;

    void *stack[2 * XPT_STACK_CARGS];
    void **av = stack;
    if (s->n_cargs > XPT_STACK_CARGS) {
        av = cap_alloc(2 * s->n_cargs * sizeof(*av));
        if (!av)
            return cap_error_set(CAP_E_OUTOFMEMORY, XPT_COMPONENT, tl->name, "out of memory");
    }
    void **ptrs = av + s->n_cargs;
    av[0] = &obj;
    xpt_bind(s->method, args, av, ptrs);

    void *const *vtbl = *(void *const **)obj;
    ffi_arg ret = 0;
    ffi_call(&s->cif, (void (*)(void))vtbl[slot], &ret, av);
    rc = (cap_result)(int32_t)ret;

    if (av != stack)
        cap_free(av);

    /* A failed callee must leave out values zero; never hand its leftovers on. */
    for (uint32_t i = 0; i < n_args; i++) {
        const struct cap_tl_param *p = &s->method->params[i];
        if (p->dir == CAP_TLD_IN)
            continue;
        if (CAP_FAILED(rc))
            memset(&args[i], 0, sizeof(args[i]));
        else if (p->type == CAP_TLT_BOOL && !(p->flags & CAP_TLP_ARRAY))
            args[i].b = args[i].b != 0;
    }
    return rc;
}
