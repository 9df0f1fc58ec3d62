/*
 * plugins/frontends/web/openapi.c - /api/openapi.json: the API as an
 * OpenAPI 3.0 document, made from the typelib (every interface, attribute,
 * method, param and enum the process knows) and capsule-idlc's
 * capsule_doc.json (the IDL's <desc> texts, which the typelib does not
 * carry), compiled into the program at build time.
 *
 * Each interface's members appear under its typed path /api/IFACE/{id}/NAME
 * (inherited ones too), which is also the form that makes OpenAPI's paths
 * unique; /api/objects/{id}/NAME is the same call on the object's own
 * interface. Descriptions keep the IDL's markup ("@a name", "@link Name").
 */
#include <stdlib.h>
#include <string.h>

#include <capsule/capsule.h>
#include <capsule/typelib.h>

#include "web.h"

struct doc {
    struct wbuf *b;
    const struct wj *root; /* capsule_doc.json, or NULL */
};

/* The text at root.k1.k2... (keys: a NULL-terminated list), or NULL. */
static const char *doc_at(const struct doc *d, const char *const *keys)
{
    const struct wj *v = d->root;
    for (size_t k = 0; v && keys[k]; k++)
        v = wj_get(v, keys[k]);
    return v && v->type == WJ_STR ? v->str : NULL;
}

#define DOC(d, ...) doc_at(d, (const char *const[]){__VA_ARGS__, NULL})

static void put_desc(struct doc *d, const char *text)
{
    if (text && *text) {
        wb_puts(d->b, ",\"description\":");
        wb_str(d->b, text);
    }
}

static void put_scalar_schema(struct doc *d, const struct cap_tl_param *p)
{
    static const char *const forms[CAP_TLT_COUNT_] = {
        [CAP_TLT_BOOL] = "\"type\":\"boolean\"",
        [CAP_TLT_OCTET] = "\"type\":\"integer\",\"minimum\":0,\"maximum\":255",
        [CAP_TLT_SHORT] = "\"type\":\"integer\",\"minimum\":-32768,\"maximum\":32767",
        [CAP_TLT_USHORT] = "\"type\":\"integer\",\"minimum\":0,\"maximum\":65535",
        [CAP_TLT_LONG] = "\"type\":\"integer\",\"format\":\"int32\"",
        [CAP_TLT_ULONG] = "\"type\":\"integer\",\"minimum\":0,\"maximum\":4294967295",
        [CAP_TLT_LONGLONG] = "\"type\":\"integer\",\"format\":\"int64\"",
        [CAP_TLT_ULONGLONG] = "\"type\":\"integer\",\"minimum\":0",
        [CAP_TLT_DOUBLE] = "\"type\":\"number\",\"format\":\"double\"",
        [CAP_TLT_STRING] = "\"type\":\"string\",\"nullable\":true",
        [CAP_TLT_UUID] = "\"type\":\"string\",\"format\":\"uuid\",\"nullable\":true",
    };
    if (p->type == CAP_TLT_ENUM) {
        wb_printf(d->b, "{\"$ref\":\"#/components/schemas/%s\"}", p->enm->name);
    } else if (p->type == CAP_TLT_IFACE) {
        wb_printf(d->b,
                  "{\"type\":\"string\",\"nullable\":true,\"x-capsule-interface\":\"%s\","
                  "\"description\":\"an object id of the session: a reference to %s\"}",
                  p->iface->name, p->iface->name);
    } else {
        wb_printf(d->b, "{%s}", p->type < CAP_TLT_COUNT_ && forms[p->type] ? forms[p->type] : "");
    }
}

static void put_schema(struct doc *d, const struct cap_tl_param *p)
{
    if (!(p->flags & CAP_TLP_ARRAY)) {
        put_scalar_schema(d, p);
        return;
    }
    wb_puts(d->b, "{\"type\":\"array\",\"items\":");
    put_scalar_schema(d, p);
    wb_puts(d->b, "}");
}

/* {"type":"object","properties":{...}} of the params in direction set
 * `in` (1: in params, 0: out and return). */
static void put_params_object(struct doc *d, const char *iface, const struct cap_tl_method *m,
                              int in)
{
    const char *sep = "";
    wb_puts(d->b, "{\"type\":\"object\",\"properties\":{");
    for (uint16_t k = 0; k < m->n_params; k++) {
        const struct cap_tl_param *p = &m->params[k];
        if ((p->dir == CAP_TLD_IN) != in)
            continue;
        wb_puts(d->b, sep);
        sep = ",";
        wb_str(d->b, p->name);
        wb_puts(d->b, ":{\"allOf\":[");
        put_schema(d, p);
        wb_puts(d->b, "]");
        if (m->kind == CAP_TLM_METHOD)
            put_desc(d, DOC(d, "interfaces", iface, "methods", m->idl_name, "params", p->name));
        else
            put_desc(d, DOC(d, "interfaces", iface, "attributes", m->idl_name));
        wb_puts(d->b, "}");
    }
    wb_puts(d->b, "}}");
}

static void put_operation(struct doc *d, const struct cap_tl_iface *owner,
                          const struct cap_tl_iface *tl, const struct cap_tl_method *m)
{
    static const char *const verbs[] = {"post", "get", "put"};
    const char *text = m->kind == CAP_TLM_METHOD
                           ? DOC(d, "interfaces", owner->name, "methods", m->idl_name, "desc")
                           : DOC(d, "interfaces", owner->name, "attributes", m->idl_name);
    wb_printf(d->b, "\"%s\":{\"operationId\":\"%s_%s\",\"tags\":[\"%s\"],\"summary\":\"%s.%s\"",
              verbs[m->kind], tl->name, m->name, tl->name, owner->name, m->idl_name);
    put_desc(d, text);
    wb_puts(d->b, ",\"parameters\":[{\"$ref\":\"#/components/parameters/id\"}]");
    if (m->kind != CAP_TLM_GETTER) {
        wb_puts(d->b, ",\"requestBody\":{\"content\":{\"application/json\":{\"schema\":");
        put_params_object(d, owner->name, m, 1);
        wb_puts(d->b, "}}}");
    }
    wb_puts(d->b, ",\"responses\":{\"200\":{\"description\":\"the out and return params by name\","
                  "\"content\":{\"application/json\":{\"schema\":");
    put_params_object(d, owner->name, m, 0);
    wb_puts(d->b, "}}},\"default\":{\"$ref\":\"#/components/responses/Error\"}}}");
}

/* The paths of one interface: every member, own and inherited. */
static void put_iface_paths(struct doc *d, const struct cap_tl_iface *tl)
{
    for (const struct cap_tl_iface *owner = tl; owner; owner = owner->base) {
        for (uint16_t k = 0; k < owner->n_own; k++) {
            const struct cap_tl_method *m = &owner->own[k];
            if (m->flags & CAP_TLM_BUILTIN || m->kind == CAP_TLM_SETTER)
                continue;
            wb_printf(d->b, ",\"/api/%s/{id}/%s\":{", tl->name, m->idl_name);
            put_operation(d, owner, tl, m);
            /* The setter, if any, follows its getter in the table. */
            if (m->kind == CAP_TLM_GETTER && k + 1 < owner->n_own &&
                owner->own[k + 1].kind == CAP_TLM_SETTER) {
                wb_puts(d->b, ",");
                put_operation(d, owner, tl, &owner->own[k + 1]);
            }
            wb_puts(d->b, "}");
        }
    }
}

static void put_enums(struct doc *d)
{
    const struct cap_typelib *lib = &capsule_typelib;
    for (uint32_t k = 0; k < lib->n_enums; k++) {
        const struct cap_tl_enum *e = lib->enums[k];
        wb_printf(d->b, ",\"%s\":{\"type\":\"string\",\"enum\":[", e->name);
        for (uint32_t v = 0; v < e->n_values; v++) {
            wb_puts(d->b, v ? "," : "");
            wb_str(d->b, e->values[v].name);
        }
        wb_puts(d->b, "]");
        put_desc(d, DOC(d, "enums", e->name, "desc"));
        wb_puts(d->b, "}");
    }
}

static const char head[] =
    "{\"openapi\":\"3.0.3\",\"info\":{\"title\":\"Capsule API\",\"version\":\"%u.%u\"";

static const char fixed_paths[] =
    "\"paths\":{\"/api/login\":{\"post\":{\"summary\":\"log in with the token capsule-web "
    "printed\",\"security\":[],\"requestBody\":{\"content\":{\"application/json\":{\"schema\":"
    "{\"type\":\"object\",\"properties\":{\"token\":{\"type\":\"string\"}}}}}},\"responses\":"
    "{\"200\":{\"description\":\"the session cookie is set; csrfToken goes in X-CSRF-Token\"},"
    "\"default\":{\"$ref\":\"#/components/responses/Error\"}}}},"
    "\"/api/ICapsule\":{\"get\":{\"summary\":\"the root object's id\",\"responses\":{\"200\":"
    "{\"description\":\"{id, interface}\"}}}},"
    "\"/api/classes/{class}\":{\"post\":{\"summary\":\"a new instance of an IDL class made in "
    "capsule-web (Session)\",\"parameters\":[{\"name\":\"class\",\"in\":\"path\",\"required\":"
    "true,\"schema\":{\"type\":\"string\"}}],\"responses\":{\"200\":{\"description\":"
    "\"{id, interface}\"},\"default\":{\"$ref\":\"#/components/responses/Error\"}}}},"
    "\"/api/objects/{id}\":{\"delete\":{\"summary\":\"release the reference\",\"parameters\":"
    "[{\"$ref\":\"#/components/parameters/id\"}],\"responses\":{\"200\":{\"description\":"
    "\"released\"},\"default\":{\"$ref\":\"#/components/responses/Error\"}}}}";

static const char components[] =
    ",\"components\":{\"securitySchemes\":{\"session\":{\"type\":\"apiKey\",\"in\":\"cookie\","
    "\"name\":\"capsule_session\"},\"csrf\":{\"type\":\"apiKey\",\"in\":\"header\",\"name\":"
    "\"X-CSRF-Token\",\"description\":\"required on every request but GET\"}},"
    "\"parameters\":{\"id\":{\"name\":\"id\",\"in\":\"path\",\"required\":true,\"schema\":"
    "{\"type\":\"string\"},\"description\":\"an object id of the session\"}},"
    "\"responses\":{\"Error\":{\"description\":\"a failure: 400 bad arguments, 401 not logged "
    "in, 403 CSRF or access, 404 unknown object or member, 409 wrong state, 500 others\","
    "\"content\":{\"application/json\":{\"schema\":{\"$ref\":\"#/components/schemas/Error\"}}}}},"
    "\"schemas\":{\"Error\":{\"type\":\"object\",\"properties\":{\"result\":{\"type\":"
    "\"string\"},\"code\":{\"type\":\"integer\"},\"message\":{\"type\":\"string\"}}}";

char *web_openapi(const char *doc_json, size_t doc_len)
{
    char err[128];
    struct wbuf b = {0};
    struct doc d = {.b = &b};
    struct wj *root = doc_json ? wj_parse(doc_json, doc_len, err, sizeof(err)) : NULL;
    d.root = root;
    const struct cap_typelib *lib = &capsule_typelib;
    wb_printf(&b, head, lib->version_major, lib->version_minor);
    put_desc(&d, DOC(&d, "desc"));
    wb_puts(&b, "},\"security\":[{\"session\":[],\"csrf\":[]}],\"tags\":[");
    for (uint32_t k = 0; k < lib->n_ifaces; k++) {
        wb_printf(&b, "%s{\"name\":\"%s\"", k ? "," : "", lib->ifaces[k]->name);
        put_desc(&d, DOC(&d, "interfaces", lib->ifaces[k]->name, "desc"));
        wb_puts(&b, "}");
    }
    wb_puts(&b, "],");
    wb_puts(&b, fixed_paths);
    for (uint32_t k = 0; k < lib->n_ifaces; k++)
        put_iface_paths(&d, lib->ifaces[k]);
    wb_puts(&b, "}");
    wb_puts(&b, components);
    put_enums(&d);
    wb_puts(&b, "}}}");
    wj_free(root);
    return wb_take(&b);
}
