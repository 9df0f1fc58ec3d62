/*
 * sdk/bindings/capbind_in.c - the in values of a call frame: typed setters
 * that check the value against the param's IDL type (range, kind, UUID
 * syntax) and store a copy the frame owns, exactly as an IPC stub would.
 * Integers of every IDL integer type arrive as int64_t.
 */
#include <stdint.h>
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/result.h>
#include <capsule/supports.h>
#include <capsule/uuid.h>

#include "capbind_internal.h"

/* The in param i with the given array-ness, or NULL after failing the frame. */
static const struct cap_tl_param *in_param(struct capb_call *call, uint32_t i, int array)
{
    if (i >= call->method->n_params) {
        capb_frame_fail(call, "param %u out of range", i);
        return NULL;
    }
    const struct cap_tl_param *p = &call->method->params[i];
    if (p->dir != CAP_TLD_IN || !!(p->flags & CAP_TLP_ARRAY) != array) {
        capb_frame_fail(call, "param '%s' cannot be set that way", p->name);
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

static cap_result set_int_at(struct capb_call *call, const struct cap_tl_param *p, void *dst,
                             int64_t v)
{
    int r = store_int(p->type, dst, v);
    if (r == -1)
        return capb_frame_fail(call, "value %lld out of range for param '%s' (%s)", (long long)v,
                               p->name, capb_type_names[p->type]);
    if (r == -2)
        return capb_frame_fail(call, "param '%s' is a %s, not an integer", p->name,
                               capb_type_names[p->type]);
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
            return capb_frame_fail(call, "'%s' is not a UUID (param '%s')", s, p->name);
        }
        return CAP_OK;
    }
    return capb_frame_fail(call, "param '%s' is a %s, not a string", p->name,
                           capb_type_names[p->type]);
}

/* An interface element: AddRefs obj's pointer (QueryInterface'd to the
 * param's interface when it is another one) into *dst. */
static cap_result set_obj_at(struct capb_call *call, const struct cap_tl_param *p, void **dst,
                             struct capb_obj *obj)
{
    if (p->type != CAP_TLT_IFACE)
        return capb_frame_fail(call, "param '%s' is a %s, not an object", p->name,
                               capb_type_names[p->type]);
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
        return capb_frame_fail(call, "param '%s' needs an %s, got an %s that is none", p->name,
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
        return capb_frame_fail(call, "param '%s' is a %s, not a double", p->name,
                               capb_type_names[p->type]);
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
static void *in_elem(struct capb_call *call, uint32_t i, uint32_t k, const struct cap_tl_param **pp)
{
    const struct cap_tl_param *p = *pp = in_param(call, i, 1);
    if (!p)
        return NULL;
    const struct cap_xpt_array *a = &call->values[i].arr;
    if (k >= a->count) {
        capb_frame_fail(call, "element %u of param '%s' out of range", k, p->name);
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
        return capb_frame_fail(call, "param '%s' is a %s array", p->name, capb_type_names[p->type]);
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
