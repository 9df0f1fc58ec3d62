/*
 * plugins/frontends/web/api.c - the routes under /api/ (README.md has the
 * reference with examples).
 *
 *   POST   /api/login                  {"token"} -> session cookie + {"csrfToken"}
 *   GET    /api/session                {"csrfToken"} of the cookie's session
 *   POST   /api/logout                 ends the session, releasing its objects
 *   GET    /api/openapi.json           the API as OpenAPI 3 (openapi.c)
 *   GET    /api/ICapsule               {"id", "interface"} of the root object
 *   POST   /api/classes/CLASS          {"id", "interface"} of a new instance of an
 *                                      IDL class made in this process (Session)
 *   GET    /api/objects/ID             {"id", "interface"}
 *   DELETE /api/objects/ID             releases the reference
 *   GET    /api/objects/ID/ATTR        {"ATTR": value}
 *   PUT    /api/objects/ID/ATTR        {"ATTR": value} sets it
 *   POST   /api/objects/ID/METHOD      {in params by name} -> {out/return params by name}
 *   ...    /api/IFACE/ID[/MEMBER]      the same, on the object's interface IFACE
 *                                      (QueryInterface, e.g. an IEvent as the
 *                                      IMachineStateChangedEvent it is)
 *
 * Members are found by their IDL names in the typelib, inherited ones
 * included; nothing here names an interface but the root's. Every route but
 * login and openapi.json needs the session cookie (else 401), and every
 * request other than GET also the X-CSRF-Token header (else 403).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/capsule.h>
#include <capsule/result.h>
#include <capsule/typelib.h>

#include "capbind.h"
#include "web.h"

static const char oom_body[] =
    "{\"result\":\"CAP_E_OUTOFMEMORY\",\"code\":-2147483642,\"message\":\"out of memory\"}";

static void reply_json(struct web_reply *rep, struct wbuf *b)
{
    free(rep->body);
    rep->status = 200;
    rep->body = wb_take(b);
}

/* {"id": ID, "interface": NAME} */
static void reply_ref(struct web_reply *rep, const char *id, const char *iface)
{
    struct wbuf b = {0};
    wb_puts(&b, "{\"id\":");
    wb_str(&b, id);
    wb_puts(&b, ",\"interface\":");
    wb_str(&b, iface);
    wb_puts(&b, "}");
    reply_json(rep, &b);
}

/* The request body as a JSON object ({} when empty); NULL after an error. */
static struct wj *body_object(const struct web_request *req, struct web_reply *rep)
{
    char err[128];
    if (!req->body || !req->body_len)
        return wj_parse("{}", 2, err, sizeof(err));
    struct wj *v = wj_parse(req->body, req->body_len, err, sizeof(err));
    if (!v)
        web_error(rep, 400, CAP_E_INVALIDARG, "the request body is not JSON: %s", err);
    else if (v->type != WJ_OBJ) {
        web_error(rep, 400, CAP_E_INVALIDARG, "the request body must be a JSON object, not %s",
                  wj_type_name(v->type));
        wj_free(v);
        v = NULL;
    }
    return v;
}

/* ---- login and session --------------------------------------------------------------- */

static void login(struct web_server *srv, const struct web_request *req, struct web_reply *rep)
{
    char csrf[WEB_TOKEN_HEX + 1];
    struct wj *body = body_object(req, rep);
    if (!body)
        return;
    const struct wj *tok = wj_get(body, "token");
    if (!tok || tok->type != WJ_STR || !web_token_equal(tok->str, srv->token)) {
        web_error(rep, 401, CAP_E_ACCESSDENIED,
                  "wrong or missing login token (capsule-web printed it at start; it is "
                  "also in CAPSULE_HOME/web-token)");
    } else if (web_session_create(&srv->sessions, req->now, rep->sid, csrf) < 0) {
        web_error(rep, 500, CAP_E_OUTOFMEMORY, "cannot create a session");
    } else {
        struct wbuf b = {0};
        wb_puts(&b, "{\"csrfToken\":");
        wb_str(&b, csrf);
        wb_puts(&b, "}");
        reply_json(rep, &b);
    }
    wj_free(body);
}

static void *obj_dup(void *o)
{
    return capb_obj_dup(o);
}

/* ---- objects --------------------------------------------------------------------------- */

/* The typelib slot of member `name` of tl usable with HTTP method `verb`;
 * -1 (with the reply set) if there is none. */
static long find_member(const struct cap_tl_iface *tl, const char *name, const char *verb,
                        struct web_reply *rep)
{
    uint8_t want = strcmp(verb, "GET") == 0   ? CAP_TLM_GETTER
                   : strcmp(verb, "PUT") == 0 ? CAP_TLM_SETTER
                                              : CAP_TLM_METHOD;
    int other = 0;
    for (uint32_t s = 0; s < cap_tl_iface_slots(tl); s++) {
        const struct cap_tl_method *m = cap_tl_method_at(tl, s);
        if (!m || (m->flags & CAP_TLM_BUILTIN) || strcmp(m->idl_name, name) != 0)
            continue;
        if (m->kind == want && strcmp(verb, "DELETE") != 0)
            return (long)s;
        other = 1;
    }
    if (other)
        web_error(rep, 405, CAP_E_INVALIDARG,
                  "%s.%s: %s is not allowed (attributes: GET, PUT if writable; methods: POST)",
                  tl->name, name, verb);
    else
        web_error(rep, 404, CAP_E_NO_TYPEINFO, "%s has no method or attribute '%s'", tl->name,
                  name);
    return -1;
}

/* A call of member `name` on obj. */
static void member(struct web_server *srv, const struct web_request *req, struct capb_obj *obj,
                   const char *name, struct web_reply *rep)
{
    const char *iname = capb_obj_iface(obj);
    const struct cap_tl_iface *tl =
        strcmp(iname, "ISupports") == 0 ? &cap_tl_ISupports : cap_typelib_find_iface_by_name(iname);
    long slot = tl ? find_member(tl, name, req->method, rep) : -1;
    if (!tl)
        web_error(rep, 500, CAP_E_NO_TYPEINFO, "no typelib entry for %s", iname);
    if (slot < 0)
        return;
    struct wj *args = NULL;
    if (strcmp(req->method, "GET") != 0 && !(args = body_object(req, rep)))
        return;
    web_call(srv, req->sid, obj, (uint32_t)slot, args, rep);
    wj_free(args);
}

/*
 * /api/objects/ID[/MEMBER] and /api/IFACE/ID[/MEMBER]: rest is "ID" or
 * "ID/MEMBER", iface the interface asked for (NULL: the object's own).
 */
static void object(struct web_server *srv, const struct web_request *req, const char *iface,
                   const char *rest, struct web_reply *rep)
{
    char id[32];
    const char *slash = strchr(rest, '/');
    size_t len = slash ? (size_t)(slash - rest) : strlen(rest);
    if (len == 0 || len >= sizeof(id) || (slash && (!slash[1] || strchr(slash + 1, '/')))) {
        web_error(rep, 404, CAP_E_OBJECT_NOT_FOUND, "no such path: %s", req->path);
        return;
    }
    memcpy(id, rest, len);
    id[len] = 0;
    if (!slash && strcmp(req->method, "DELETE") == 0) {
        if (web_session_drop(&srv->sessions, req->sid, id) < 0)
            web_error(rep, 404, CAP_E_OBJECT_NOT_FOUND, "no object '%s' in this session", id);
        else {
            rep->status = 200;
            rep->body = strdup("{}");
        }
        return;
    }
    struct capb_obj *obj = web_session_get(&srv->sessions, req->sid, id, obj_dup);
    if (!obj) {
        web_error(rep, 404, CAP_E_OBJECT_NOT_FOUND, "no object '%s' in this session", id);
        return;
    }
    if (iface && strcmp(iface, capb_obj_iface(obj)) != 0) {
        struct capb_obj *q = capb_query(obj, iface);
        if (!q)
            web_error(rep, 404, CAP_E_NOINTERFACE, "object '%s' is an %s, not an %s", id,
                      capb_obj_iface(obj), iface);
        capb_obj_free(obj);
        obj = q;
        if (!obj)
            return;
    }
    if (slash)
        member(srv, req, obj, slash + 1, rep);
    else if (strcmp(req->method, "GET") == 0)
        reply_ref(rep, id, capb_obj_iface(obj));
    else
        web_error(rep, 405, CAP_E_INVALIDARG, "%s is not allowed on an object (GET, DELETE)",
                  req->method);
    capb_obj_free(obj);
}

/* POST /api/classes/NAME: an instance of the typelib class NAME made in
 * this process through the registry (a Session, as the bindings'
 * new_session), lending it the service connection. */
static void create(struct web_server *srv, const struct web_request *req, const char *name,
                   struct web_reply *rep)
{
    char id[24];
    if (strcmp(req->method, "POST") != 0) {
        web_error(rep, 405, CAP_E_INVALIDARG, "use POST to create an instance");
        return;
    }
    struct capb_obj *o = capb_create_instance(name, srv->root);
    if (!o) {
        const struct capb_error *e = capb_last_error();
        cap_result rc = e->code ? e->code : CAP_E_FAIL;
        web_error(rep, rc == CAP_E_CLASS_NOT_REGISTERED ? 404 : web_status_of(rc), rc, "%s",
                  e->message ? e->message : "cannot create the instance");
        return;
    }
    const char *iface = capb_obj_iface(o);
    int r = web_session_put(&srv->sessions, req->sid, o, id);
    if (r < 0)
        web_error(rep, r == -2 ? 503 : 500, CAP_E_OUTOFMEMORY,
                  "cannot hand out another object in this session");
    else
        reply_ref(rep, id, iface);
}

static void root(struct web_server *srv, const struct web_request *req, struct web_reply *rep)
{
    char id[24];
    if (strcmp(req->method, "GET") != 0) {
        web_error(rep, 405, CAP_E_INVALIDARG, "use GET /api/ICapsule");
        return;
    }
    int r = web_session_put(&srv->sessions, req->sid, capb_obj_dup(srv->root), id);
    if (r < 0)
        web_error(rep, r == -2 ? 503 : 500, CAP_E_OUTOFMEMORY,
                  "cannot hand out another object in this session");
    else
        reply_ref(rep, id, "ICapsule");
}

/* ---- dispatch ----------------------------------------------------------------------------- */

static void openapi(struct web_server *srv, struct web_reply *rep)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static char *doc;
    pthread_mutex_lock(&lock);
    if (!doc)
        doc = web_openapi(srv->doc_json, srv->doc_json_len);
    pthread_mutex_unlock(&lock);
    if (!doc) {
        web_error(rep, 500, CAP_E_OUTOFMEMORY, "cannot build the OpenAPI document");
        return;
    }
    rep->status = 200;
    rep->body = strdup(doc);
}

/* Routes that need a session, after the checks. */
static void authed(struct web_server *srv, const struct web_request *req, const char *route,
                   const char *csrf, struct web_reply *rep)
{
    const struct cap_tl_iface *tl;
    if (strcmp(route, "session") == 0 && strcmp(req->method, "GET") == 0) {
        struct wbuf b = {0};
        wb_puts(&b, "{\"csrfToken\":");
        wb_str(&b, csrf);
        wb_puts(&b, "}");
        reply_json(rep, &b);
    } else if (strcmp(route, "logout") == 0 && strcmp(req->method, "POST") == 0) {
        web_session_end(&srv->sessions, req->sid);
        rep->clear_cookie = 1;
        rep->status = 200;
        rep->body = strdup("{}");
    } else if (strcmp(route, "ICapsule") == 0) {
        root(srv, req, rep);
    } else if (strncmp(route, "classes/", 8) == 0) {
        create(srv, req, route + 8, rep);
    } else if (strncmp(route, "objects/", 8) == 0) {
        object(srv, req, NULL, route + 8, rep);
    } else {
        const char *slash = strchr(route, '/');
        char iface[128];
        size_t len = slash ? (size_t)(slash - route) : 0;
        if (len && len < sizeof(iface)) {
            memcpy(iface, route, len);
            iface[len] = 0;
        }
        tl = len && len < sizeof(iface) ? cap_typelib_find_iface_by_name(iface) : NULL;
        if (tl)
            object(srv, req, iface, slash + 1, rep);
        else
            web_error(rep, 404, CAP_E_OBJECT_NOT_FOUND, "no such path: %s", req->path);
    }
}

void web_api(struct web_server *srv, const struct web_request *req, struct web_reply *rep)
{
    const char *route = req->path + strlen("/api/");
    char csrf[WEB_TOKEN_HEX + 1];
    memset(rep, 0, sizeof(*rep));
    if (strcmp(route, "login") == 0 && strcmp(req->method, "POST") == 0) {
        login(srv, req, rep);
    } else if (strcmp(route, "openapi.json") == 0 && strcmp(req->method, "GET") == 0) {
        openapi(srv, rep);
    } else {
        int need_csrf = strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0;
        switch (web_session_check(&srv->sessions, req->sid, req->csrf, need_csrf, req->now, csrf)) {
        case WEB_AUTH_NO_SESSION:
            web_error(rep, 401, CAP_E_ACCESSDENIED,
                      "not logged in: POST /api/login with the login token first");
            rep->clear_cookie = req->sid != NULL;
            break;
        case WEB_AUTH_BAD_CSRF:
            web_error(rep, 403, CAP_E_ACCESSDENIED,
                      "missing or wrong X-CSRF-Token header (the csrfToken of POST /api/login "
                      "or GET /api/session)");
            break;
        case WEB_AUTH_OK:
            authed(srv, req, route, csrf, rep);
            break;
        }
    }
    /* The reply holds copies: the error's strings die with the request, not
     * with the connection's thread (thread-local, they would leak there). */
    capb_clear_last_error();
    if (!rep->body) {
        rep->status = 500;
        rep->body = strdup(oom_body);
    }
}
