/*
 * plugins/frontends/web/events.c - GET /api/events?types=A,B: the service's
 * events as Server-Sent Events (text/event-stream), for pages that show
 * state changes and progress without polling.
 *
 * Each stream is one passive listener on ICapsule's eventSource, made and
 * driven through the same typelib call frames as every other call (slots
 * and params found by their IDL names): registerListener with the event
 * types asked for, then getEvent with a one-second timeout in a loop,
 * eventProcessed after each, unregisterListener when the stream ends.
 * Every event goes out as
 *
 *     event: OnMachineStateChanged
 *     data: {"type":"OnMachineStateChanged","machineId":"...","state":"Running",...}
 *
 * with every attribute of its own interface (OnXxx is IXxxEvent, as the
 * bindings take it) that is not an object; a second without an event sends a
 * comment line, which also finds a client that went away. The stream ends
 * with the session (logout, expiry) or the server. libmicrohttpd runs one
 * thread per connection, so a stream waiting in getEvent blocks no other.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include <capsule/capsule.h>
#include <capsule/result.h>
#include <capsule/typelib.h>

#include "capbind.h"
#include "web.h"

#define EVENT_WAIT_MS 1000

struct stream {
    struct web_server *srv;
    char sid[WEB_TOKEN_HEX + 1];
    struct capb_obj *source, *listener;
    char *pending; /* the text not yet written, from `off` */
    size_t off;
};

/* The slot of member `name` (of `kind`) of obj's interface, or -1. */
static long slot_of(struct capb_obj *obj, const char *name, uint8_t kind)
{
    const struct cap_tl_iface *tl = cap_typelib_find_iface_by_name(capb_obj_iface(obj));
    for (uint32_t s = 0; tl && s < cap_tl_iface_slots(tl); s++) {
        const struct cap_tl_method *m = cap_tl_method_at(tl, s);
        if (m && m->kind == kind && strcmp(m->idl_name, name) == 0)
            return (long)s;
    }
    return -1;
}

/* A frame for method `name` of obj; NULL if there is none. */
static struct capb_call *frame(struct capb_obj *obj, const char *name, uint8_t kind)
{
    long slot = slot_of(obj, name, kind);
    return slot < 0 ? NULL : capb_call_new(obj, (uint32_t)slot);
}

/* obj.method(listener[, other]) for the listener calls that return nothing. */
static cap_result call_with_listener(struct stream *st, const char *method, struct capb_obj *other)
{
    struct capb_call *call = frame(st->source, method, CAP_TLM_METHOD);
    cap_result rc = call ? capb_set_obj(call, 0, st->listener) : CAP_E_NO_TYPEINFO;
    if (rc >= 0 && other)
        rc = capb_set_obj(call, 1, other);
    if (rc >= 0)
        rc = capb_invoke(call);
    capb_call_free(call);
    return rc;
}

/* The object a getter or a method without in params returns (slot param 0). */
static struct capb_obj *get_obj(struct capb_obj *obj, const char *name, uint8_t kind)
{
    struct capb_call *call = frame(obj, name, kind);
    struct capb_obj *out = call && capb_invoke(call) >= 0 ? capb_get_obj(call, 0) : NULL;
    capb_call_free(call);
    return out;
}

static void stream_free(void *cls)
{
    struct stream *st = cls;
    if (st->listener && st->source)
        call_with_listener(st, "unregisterListener", NULL);
    capb_obj_free(st->listener);
    capb_obj_free(st->source);
    free(st->pending);
    free(st);
}

/*
 * Parses "A,B" into the enum values of registerListener's `interesting`
 * param and sets them; on a bad name sets rep (400).
 */
static cap_result set_types(struct stream *st, struct capb_call *call, const char *types,
                            struct web_reply *rep)
{
    const struct cap_tl_method *m =
        cap_tl_method_at(cap_typelib_find_iface_by_name(capb_obj_iface(st->source)),
                         (uint32_t)slot_of(st->source, "registerListener", CAP_TLM_METHOD));
    const struct cap_tl_enum *e = m && m->n_params > 1 ? m->params[1].enm : NULL;
    uint32_t n = 1;
    for (const char *c = types; *c; c++)
        n += *c == ',';
    cap_result rc = e ? capb_set_array(call, 1, n) : CAP_E_NO_TYPEINFO;
    for (uint32_t k = 0; rc >= 0 && k < n; k++) {
        size_t len = strcspn(types, ",");
        uint32_t v = 0;
        while (v < e->n_values &&
               (strlen(e->values[v].name) != len || strncmp(e->values[v].name, types, len) != 0))
            v++;
        if (v == e->n_values) {
            web_error(rep, 400, CAP_E_INVALIDARG, "types: '%.*s' is not a constant of %s", (int)len,
                      types, e->name);
            return CAP_E_INVALIDARG;
        }
        rc = capb_set_elem_int(call, 1, k, e->values[v].value);
        types += len + (types[len] == ',');
    }
    return rc;
}

/* Makes the listener; on failure sets rep. */
static cap_result start(struct stream *st, const char *types, struct web_reply *rep)
{
    struct capb_call *call = NULL;
    cap_result rc = CAP_E_FAIL;
    st->source = get_obj(st->srv->root, "eventSource", CAP_TLM_GETTER);
    st->listener = st->source ? get_obj(st->source, "createListener", CAP_TLM_METHOD) : NULL;
    if (st->listener)
        call = frame(st->source, "registerListener", CAP_TLM_METHOD);
    if (call && (rc = capb_set_obj(call, 0, st->listener)) >= 0 &&
        (rc = set_types(st, call, types, rep)) >= 0 && (rc = capb_set_int(call, 2, 0)) >= 0)
        rc = capb_invoke(call);
    if (rc < 0 && !rep->body)
        web_error(rep, web_status_of(rc), rc, "cannot listen to events: %s",
                  call ? capb_call_error_message(call) : "no event source");
    capb_call_free(call);
    if (rc < 0) {
        capb_obj_free(st->listener); /* not registered: nothing to unregister */
        st->listener = NULL;
    }
    return rc;
}

/* "event: TYPE\ndata: {...}\n\n" for ev, or NULL. */
static char *format_event(struct stream *st, struct capb_obj *ev)
{
    struct web_reply rep = {0};
    struct capb_obj *typed = NULL;
    long slot = slot_of(ev, "type", CAP_TLM_GETTER);
    if (slot >= 0)
        web_call(st->srv, st->sid, ev, (uint32_t)slot, NULL, &rep);
    struct wj *t = rep.status == 200 ? wj_parse(rep.body, strlen(rep.body), NULL, 0) : NULL;
    const struct wj *type = wj_get(t, "type");
    struct wbuf b = {0};
    if (type && type->type == WJ_STR) {
        /* OnXxx is IXxxEvent. */
        char iface[128];
        snprintf(iface, sizeof(iface), "I%sEvent",
                 type->str + (strncmp(type->str, "On", 2) ? 0 : 2));
        typed = cap_typelib_find_iface_by_name(iface) ? capb_query(ev, iface) : NULL;
        wb_printf(&b, "event: %s\ndata: {\"type\":", type->str);
        wb_str(&b, type->str);
        struct capb_obj *o = typed ? typed : ev;
        const struct cap_tl_iface *tl = cap_typelib_find_iface_by_name(capb_obj_iface(o));
        for (uint32_t s = 0; tl && s < cap_tl_iface_slots(tl); s++) {
            const struct cap_tl_method *m = cap_tl_method_at(tl, s);
            if (!m || m->kind != CAP_TLM_GETTER || m->params[0].type == CAP_TLT_IFACE ||
                strcmp(m->idl_name, "type") == 0)
                continue;
            struct web_reply r = {0};
            web_call(st->srv, st->sid, o, s, NULL, &r);
            size_t len = r.body ? strlen(r.body) : 0;
            if (r.status == 200 && len > 2) /* {"name":value} spliced in */
                wb_printf(&b, ",%.*s", (int)(len - 2), r.body + 1);
            free(r.body);
        }
        wb_puts(&b, "}\n\n");
    }
    capb_obj_free(typed);
    wj_free(t);
    free(rep.body);
    return wb_take(&b);
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream *st = cls;
    (void)pos;
    while (!st->pending) {
        if (st->srv->stopping || web_session_check(&st->srv->sessions, st->sid, NULL, 0, time(NULL),
                                                   NULL) != WEB_AUTH_OK)
            return MHD_CONTENT_READER_END_OF_STREAM;
        struct capb_call *call = frame(st->source, "getEvent", CAP_TLM_METHOD);
        struct capb_obj *ev = NULL;
        if (call && capb_set_obj(call, 0, st->listener) >= 0 &&
            capb_set_int(call, 1, EVENT_WAIT_MS) >= 0 && capb_invoke(call) >= 0)
            ev = capb_get_obj(call, 2);
        int failed = !call || capb_call_error_code(call) < 0;
        capb_call_free(call);
        if (failed)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        if (!ev) {
            st->pending = strdup(": waiting\n\n");
        } else {
            st->pending = format_event(st, ev);
            call_with_listener(st, "eventProcessed", ev);
            capb_obj_free(ev);
        }
        st->off = 0;
        if (!st->pending)
            return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    size_t left = strlen(st->pending + st->off);
    size_t n = left < max ? left : max;
    memcpy(buf, st->pending + st->off, n);
    st->off += n;
    if (st->off == strlen(st->pending)) {
        free(st->pending);
        st->pending = NULL;
    }
    return (ssize_t)n;
}

struct MHD_Response *web_events(struct web_server *srv, const char *sid, const char *types,
                                struct web_reply *rep)
{
    memset(rep, 0, sizeof(*rep));
    if (web_session_check(&srv->sessions, sid, NULL, 0, time(NULL), NULL) != WEB_AUTH_OK) {
        web_error(rep, 401, CAP_E_ACCESSDENIED,
                  "not logged in: POST /api/login with the login token first");
        return NULL;
    }
    if (!types || !*types) {
        web_error(rep, 400, CAP_E_INVALIDARG,
                  "say which events: /api/events?types=OnMachineStateChanged,...");
        return NULL;
    }
    struct stream *st = calloc(1, sizeof(*st));
    if (!st) {
        web_error(rep, 500, CAP_E_OUTOFMEMORY, "out of memory");
        return NULL;
    }
    st->srv = srv;
    snprintf(st->sid, sizeof(st->sid), "%s", sid);
    st->pending = strdup("retry: 2000\n: connected\n\n");
    struct MHD_Response *r = NULL;
    if (st->pending && start(st, types, rep) >= 0)
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, reader, st, stream_free);
    if (!r) {
        if (!rep->body)
            web_error(rep, 500, CAP_E_OUTOFMEMORY, "out of memory");
        stream_free(st);
    }
    return r;
}
