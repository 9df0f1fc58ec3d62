/*
 * plugins/frontends/web/error.c - the API's failures as JSON, {"result":
 * NAME, "code": N, "message": TEXT}, and the HTTP status each result code
 * of the API stands for (README.md has the table).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <capsule/capsule.h>
#include <capsule/result.h>

#include "capbind.h"
#include "web.h"

unsigned web_status_of(cap_result rc)
{
    switch (rc) {
    case CAP_E_INVALIDARG:
    case CAP_E_POINTER:
        return 400;
    case CAP_E_ACCESSDENIED:
        return 403;
    case CAP_E_OBJECT_NOT_FOUND:
    case CAP_E_NOINTERFACE:
    case CAP_E_NO_TYPEINFO:
        return 404;
    case CAP_E_INVALID_VM_STATE:
    case CAP_E_INVALID_OBJECT_STATE:
    case CAP_E_INVALID_SESSION_STATE:
    case CAP_E_OBJECT_IN_USE:
    case CAP_E_OBJECT_EXISTS:
        return 409;
    case CAP_E_NOTIMPL:
    case CAP_E_NOT_SUPPORTED:
        return 501;
    case CAP_E_SERVICE_UNAVAILABLE:
        return 503;
    default:
        return 500;
    }
}

void web_error(struct web_reply *rep, unsigned status, cap_result rc, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct wbuf b = {0};
    const char *name = capb_result_name(rc);
    wb_puts(&b, "{\"result\":");
    wb_str(&b, name ? name : "CAP_E_FAIL");
    wb_printf(&b, ",\"code\":%d,\"message\":", (int)rc);
    wb_str(&b, msg);
    wb_puts(&b, "}");
    free(rep->body);
    rep->status = status;
    rep->body = wb_take(&b);
}
