/*
 * plugins/frontends/web/call.c - one API call from JSON and back, driven by
 * the typelib alone.
 *
 * The in params of the method are taken from the request's JSON object by
 * their IDL names and set into a bindings call frame (capbind.h) with its
 * typed setters, which check ranges and UUIDs exactly as for Python; the
 * frame is invoked (cap_xpt_invoke, over IPC to capsule-svc); each out and
 * return param is written back under its name. The JSON forms:
 *
 *   boolean            true / false
 *   integer types      numbers (unsigned long long up to 2^64-1)
 *   double             a number
 *   string, uuid       a string (uuid in canonical form), or null
 *   enum               the constant's name ("PoweredOff")
 *   interface          an object id of the session ("o12"), or null
 *   array of T         a JSON array of T's form
 *
 * A param missing from the request gets its type's empty value, as a Python
 * keyword argument does (a string ""); a name that is not an in param of
 * the method is refused, so that a typo does not pass silently.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/capsule.h>
#include <capsule/result.h>
#include <capsule/typelib.h>

#include "capbind.h"
#include "web.h"

struct frame {
    struct web_server *srv;
    const char *sid;
    struct capb_obj *obj;
    const struct cap_tl_method *m;
    struct capb_call *call;
    struct web_reply *rep;
};

static void *obj_dup(void *o)
{
    return capb_obj_dup(o);
}

/* Fails the request with 400 naming the method and param. */
static cap_result bad_arg(struct frame *f, const struct cap_tl_param *p, const char *what,
                          const struct wj *v)
{
    web_error(f->rep, 400, CAP_E_INVALIDARG, "%s::%s: param '%s' %s, not %s",
              capb_obj_iface(f->obj), f->m->idl_name, p->name, what,
              v ? wj_type_name(v->type) : "nothing");
    return CAP_E_INVALIDARG;
}

/* The setter's own failure (range, UUID syntax) as a 400. */
static cap_result setter_failed(struct frame *f, cap_result rc)
{
    if (rc < 0)
        web_error(f->rep, 400, rc, "%s", capb_call_error_message(f->call));
    return rc;
}

static cap_result set_enum(struct frame *f, const struct cap_tl_param *p, uint32_t i, int64_t k,
                           const struct wj *v)
{
    if (v->type != WJ_STR)
        return bad_arg(f, p, "must be the name of a constant", v);
    for (uint32_t e = 0; e < p->enm->n_values; e++) {
        if (strcmp(p->enm->values[e].name, v->str) == 0) {
            int64_t n = p->enm->values[e].value;
            return setter_failed(f, k < 0 ? capb_set_int(f->call, i, n)
                                          : capb_set_elem_int(f->call, i, (uint32_t)k, n));
        }
    }
    web_error(f->rep, 400, CAP_E_INVALIDARG, "%s::%s: param '%s': '%s' is not a constant of %s",
              capb_obj_iface(f->obj), f->m->idl_name, p->name, v->str, p->enm->name);
    return CAP_E_INVALIDARG;
}

static cap_result set_iface(struct frame *f, const struct cap_tl_param *p, uint32_t i, int64_t k,
                            const struct wj *v)
{
    if (v->type == WJ_NULL)
        return CAP_OK; /* the frame's values start NULL */
    if (v->type != WJ_STR)
        return bad_arg(f, p, "must be an object id", v);
    struct capb_obj *o = web_session_get(&f->srv->sessions, f->sid, v->str, obj_dup);
    if (!o) {
        web_error(f->rep, 404, CAP_E_OBJECT_NOT_FOUND,
                  "%s::%s: param '%s': no object '%s' in this session", capb_obj_iface(f->obj),
                  f->m->idl_name, p->name, v->str);
        return CAP_E_OBJECT_NOT_FOUND;
    }
    cap_result rc =
        k < 0 ? capb_set_obj(f->call, i, o) : capb_set_elem_obj(f->call, i, (uint32_t)k, o);
    capb_obj_free(o);
    return setter_failed(f, rc);
}

/* Param i (element k of it if k >= 0) from v. */
static cap_result set_value(struct frame *f, uint32_t i, int64_t k, const struct wj *v)
{
    const struct cap_tl_param *p = &f->m->params[i];
    uint32_t e = (uint32_t)k;
    switch (p->type) {
    case CAP_TLT_BOOL:
        if (v->type != WJ_BOOL)
            return bad_arg(f, p, "must be a boolean", v);
        return setter_failed(f, k < 0 ? capb_set_int(f->call, i, v->b)
                                      : capb_set_elem_int(f->call, i, e, v->b));
    case CAP_TLT_DOUBLE:
        if (v->type != WJ_NUM)
            return bad_arg(f, p, "must be a number", v);
        return setter_failed(f, k < 0 ? capb_set_double(f->call, i, v->num)
                                      : capb_set_elem_double(f->call, i, e, v->num));
    case CAP_TLT_STRING:
    case CAP_TLT_UUID:
        if (v->type == WJ_NULL)
            return CAP_OK;
        if (v->type != WJ_STR)
            return bad_arg(
                f, p, p->type == CAP_TLT_UUID ? "must be a UUID string" : "must be a string", v);
        return setter_failed(f, k < 0 ? capb_set_str(f->call, i, v->str)
                                      : capb_set_elem_str(f->call, i, e, v->str));
    case CAP_TLT_ENUM:
        return set_enum(f, p, i, k, v);
    case CAP_TLT_IFACE:
        return set_iface(f, p, i, k, v);
    default:
        break;
    }
    /* The integer types. */
    int ull = p->type == CAP_TLT_ULONGLONG;
    if (v->type != WJ_NUM || !(v->is_int || (ull && v->is_uint)))
        return bad_arg(f, p, "must be an integer", v);
    int64_t n = v->is_int ? v->i : (int64_t)v->u;
    if (ull && v->is_int && v->i < 0)
        return bad_arg(f, p, "must be an integer >= 0", v);
    return setter_failed(f,
                         k < 0 ? capb_set_int(f->call, i, n) : capb_set_elem_int(f->call, i, e, n));
}

static cap_result set_param(struct frame *f, uint32_t i, const struct wj *v)
{
    const struct cap_tl_param *p = &f->m->params[i];
    if (!v) /* missing: the empty value (zero, NULL, empty array) but "" for strings */
        return p->type == CAP_TLT_STRING && !(p->flags & CAP_TLP_ARRAY)
                   ? setter_failed(f, capb_set_str(f->call, i, ""))
                   : CAP_OK;
    if (!(p->flags & CAP_TLP_ARRAY))
        return set_value(f, i, -1, v);
    if (v->type != WJ_ARR)
        return bad_arg(f, p, "must be an array", v);
    cap_result rc = setter_failed(f, capb_set_array(f->call, i, (uint32_t)v->n));
    for (size_t k = 0; rc >= 0 && k < v->n; k++)
        rc = set_value(f, i, (int64_t)k, v->items[k]);
    return rc;
}

/* Every in param from args; refuses names that are not in params. */
static cap_result set_params(struct frame *f, const struct wj *args)
{
    for (size_t k = 0; args && k < args->n; k++) {
        uint32_t i = 0;
        while (i < f->m->n_params && (f->m->params[i].dir != CAP_TLD_IN ||
                                      strcmp(f->m->params[i].name, args->keys[k]) != 0))
            i++;
        if (i == f->m->n_params) {
            web_error(f->rep, 400, CAP_E_INVALIDARG, "%s::%s has no in param '%s'",
                      capb_obj_iface(f->obj), f->m->idl_name, args->keys[k]);
            return CAP_E_INVALIDARG;
        }
    }
    for (uint32_t i = 0; i < f->m->n_params; i++) {
        if (f->m->params[i].dir != CAP_TLD_IN)
            continue;
        cap_result rc = set_param(f, i, wj_get(args, f->m->params[i].name));
        if (rc < 0)
            return rc;
    }
    return CAP_OK;
}

/* ---- results --------------------------------------------------------------------------- */

/* An object result as a new id of the session (null for NULL). */
static cap_result put_obj(struct frame *f, struct wbuf *b, struct capb_obj *o)
{
    char id[24];
    if (!o) {
        wb_puts(b, "null");
        return CAP_OK;
    }
    int r = web_session_put(&f->srv->sessions, f->sid, o, id);
    if (r == -2) {
        web_error(f->rep, 503, CAP_E_OUTOFMEMORY,
                  "this session holds %zu objects already: DELETE /api/objects/{id} those no "
                  "longer needed",
                  f->srv->sessions.max_objects);
        return CAP_E_OUTOFMEMORY;
    }
    if (r < 0) {
        web_error(f->rep, r == -1 ? 401 : 500, r == -1 ? CAP_E_ACCESSDENIED : CAP_E_OUTOFMEMORY,
                  "%s", r == -1 ? "the session ended during the call" : "out of memory");
        return CAP_E_FAIL;
    }
    wb_str(b, id);
    return CAP_OK;
}

static void put_enum(struct wbuf *b, const struct cap_tl_enum *e, int64_t v)
{
    for (uint32_t k = 0; k < e->n_values; k++) {
        if (e->values[k].value == v) {
            wb_str(b, e->values[k].name);
            return;
        }
    }
    wb_printf(b, "%" PRId64, v); /* a value newer than this typelib */
}

/* Out param i (element k if k >= 0) into b. */
static cap_result put_value(struct frame *f, struct wbuf *b, uint32_t i, int64_t k)
{
    const struct cap_tl_param *p = &f->m->params[i];
    uint32_t e = (uint32_t)k;
    int64_t n;
    switch (p->type) {
    case CAP_TLT_BOOL:
        n = k < 0 ? capb_get_int(f->call, i) : capb_get_elem_int(f->call, i, e);
        wb_puts(b, n ? "true" : "false");
        return CAP_OK;
    case CAP_TLT_DOUBLE:
        wb_printf(b, "%.17g",
                  k < 0 ? capb_get_double(f->call, i) : capb_get_elem_double(f->call, i, e));
        return CAP_OK;
    case CAP_TLT_STRING:
    case CAP_TLT_UUID:
        wb_str(b, k < 0 ? capb_get_str(f->call, i) : capb_get_elem_str(f->call, i, e));
        return CAP_OK;
    case CAP_TLT_IFACE:
        return put_obj(f, b, k < 0 ? capb_get_obj(f->call, i) : capb_get_elem_obj(f->call, i, e));
    default:
        break;
    }
    n = k < 0 ? capb_get_int(f->call, i) : capb_get_elem_int(f->call, i, e);
    if (p->type == CAP_TLT_ENUM)
        put_enum(b, p->enm, n);
    else if (p->type == CAP_TLT_ULONGLONG)
        wb_printf(b, "%" PRIu64, (uint64_t)n);
    else
        wb_printf(b, "%" PRId64, n);
    return CAP_OK;
}

static cap_result put_results(struct frame *f, struct wbuf *b)
{
    const char *sep = "";
    cap_result rc = CAP_OK;
    wb_puts(b, "{");
    for (uint32_t i = 0; rc >= 0 && i < f->m->n_params; i++) {
        const struct cap_tl_param *p = &f->m->params[i];
        if (p->dir == CAP_TLD_IN)
            continue;
        wb_puts(b, sep);
        wb_str(b, p->name);
        wb_puts(b, ":");
        sep = ",";
        if (!(p->flags & CAP_TLP_ARRAY)) {
            rc = put_value(f, b, i, -1);
            continue;
        }
        uint32_t n = capb_get_count(f->call, i);
        wb_puts(b, "[");
        for (uint32_t k = 0; rc >= 0 && k < n; k++) {
            if (k)
                wb_puts(b, ",");
            rc = put_value(f, b, i, k);
        }
        wb_puts(b, "]");
    }
    wb_puts(b, "}");
    return rc;
}

void web_call(struct web_server *srv, const char *sid, struct capb_obj *obj, uint32_t slot,
              const struct wj *args, struct web_reply *rep)
{
    const struct cap_tl_iface *tl = cap_typelib_find_iface_by_name(capb_obj_iface(obj));
    struct frame f = {.srv = srv, .sid = sid, .obj = obj, .rep = rep};
    f.m = tl ? cap_tl_method_at(tl, slot) : NULL;
    f.call = f.m ? capb_call_new(obj, slot) : NULL;
    if (!f.call) {
        web_error(rep, 500, CAP_E_BAD_METHOD_INDEX, "no call frame for slot %u of %s", slot,
                  capb_obj_iface(obj));
        return;
    }
    if (set_params(&f, args) >= 0) {
        cap_result rc = capb_invoke(f.call);
        if (rc < 0) {
            web_error(rep, web_status_of(rc), rc, "%s", capb_call_error_message(f.call));
        } else {
            struct wbuf b = {0};
            if (put_results(&f, &b) >= 0) {
                rep->status = 200;
                rep->body = wb_take(&b);
                if (!rep->body)
                    web_error(rep, 500, CAP_E_OUTOFMEMORY, "out of memory");
            }
            wb_free(&b);
        }
    }
    capb_call_free(f.call);
}
