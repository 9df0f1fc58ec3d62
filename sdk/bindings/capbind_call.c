/*
 * sdk/bindings/capbind_call.c - call frames: one per call from a script,
 * capb_call_new -> capb_set_* per in param (capbind_in.c) -> capb_invoke ->
 * capb_get_* per out/return param (capbind_out.c) -> capb_call_free. The
 * values live in an array of struct cap_xpt_value exactly as an IPC stub
 * would build them, and cap_xpt_invoke makes the call from the typelib.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/result.h>

#include "capbind_internal.h"

cap_result capb_frame_fail(struct capb_call *call, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    cap_error_info_clear(&call->err);
    call->err.result = CAP_E_INVALIDARG;
    call->err.message =
        cap_str_printf("%s::%s: %s", call->obj->tl->name, call->method->idl_name, buf);
    call->err.component = cap_str_dup("capsule-bind");
    return CAP_E_INVALIDARG;
}

struct capb_call *capb_call_new(struct capb_obj *obj, uint32_t slot)
{
    const struct cap_tl_method *m = obj ? cap_tl_method_at(obj->tl, slot) : NULL;
    if (!m || (m->flags & CAP_TLM_BUILTIN)) {
        cap_error_set(CAP_E_BAD_METHOD_INDEX, "capsule-bind", obj ? obj->tl->name : NULL,
                      "slot %u is not a callable method", slot);
        capb_take_last_error(CAP_E_BAD_METHOD_INDEX, "a call");
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
