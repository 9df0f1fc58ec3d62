/*
 * sdk/bindings/capbind_out.c - the out and return values of a call frame
 * after capb_invoke: typed getters that widen integers to int64_t, format
 * UUIDs, and wrap interface pointers in new objects that keep the
 * connection they came through. Asking for the wrong kind gives 0/NULL.
 */
#include <stdint.h>
#include <stdlib.h>

#include <capsule/mem.h>
#include <capsule/supports.h>
#include <capsule/uuid.h>

#include "capbind_internal.h"

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
    return capb_obj_wrap(ptr, p->iface, call_conn(call));
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
    return p ? str_of(call, p,
                      p->type == CAP_TLT_UUID ? (void *)&call->values[i].uuid
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
