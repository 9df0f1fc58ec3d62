/*
 * emit_typelib.c - writes L_typelib.c: the IIDs and class IDs, and the
 * constant tables of capsule/typelib.h (params, methods, interfaces, enums,
 * results, classes, and the `struct cap_typelib` that lists them).
 *
 * Every table is static data built with designated initialisers; only the
 * names declared in L.h are exported (CAP_EXPORT), so they stay visible from
 * a shared object built with -fvisibility=hidden. References to a builtin
 * interface go to the object model's own table (cap_tl_ISupports) and IID.
 * The library's `ifaces` list holds the interfaces this library defines;
 * builtin ones belong to the object model and are not listed again.
 */
#include <string.h>

#include "emit_internal.h"
#include "idlc.h"

static const char *const type_enum[CAP_TLT_COUNT_] = {
    "CAP_TLT_VOID",   "CAP_TLT_BOOL",  "CAP_TLT_OCTET",    "CAP_TLT_SHORT",     "CAP_TLT_USHORT",
    "CAP_TLT_LONG",   "CAP_TLT_ULONG", "CAP_TLT_LONGLONG", "CAP_TLT_ULONGLONG", "CAP_TLT_DOUBLE",
    "CAP_TLT_STRING", "CAP_TLT_UUID",  "CAP_TLT_ENUM",     "CAP_TLT_IFACE",
};
static const char *const dir_enum[] = {"CAP_TLD_IN", "CAP_TLD_OUT", "CAP_TLD_RETURN"};
static const char *const kind_enum[] = {"CAP_TLM_METHOD", "CAP_TLM_GETTER", "CAP_TLM_SETTER"};

static void put_uuid_bytes(FILE *f, const cap_uuid *u)
{
    fputs("{{\n    ", f);
    for (int i = 0; i < 16; i++)
        fprintf(f, "0x%02x%s", u->b[i], i == 15 ? "" : i == 7 ? ",\n    " : ", ");
    fputs(",\n}};\n", f);
}

static void put_uuid(FILE *f, const char *what, const char *name, const cap_uuid *u)
{
    char text[37];

    idl_uuid_format(u, text);
    fprintf(f, "/* %s */\nCAP_EXPORT const cap_uuid %s_%s = ", text, what, name);
    put_uuid_bytes(f, u);
}

static void put_param(FILE *f, const struct idl_param *p)
{
    fputs("    {.name = ", f);
    idl_c_string(f, p->name);
    fprintf(f, ", .type = %s, .dir = %s, .flags = %s", type_enum[p->type.kind], dir_enum[p->dir],
            p->type.array ? "CAP_TLP_ARRAY" : "0");
    if (p->type.kind == CAP_TLT_ENUM)
        fprintf(f, ",\n     .enm = &cap_tl_%s", p->type.enm->name);
    if (p->type.kind == CAP_TLT_IFACE)
        fprintf(f, ",\n     .iface = &cap_tl_%s", p->type.iface->name);
    fputs("},\n", f);
}

static void emit_iface(FILE *f, const struct idl_iface *it)
{
    fprintf(f, "/* ---- %s ---- */\n\n", it->name);
    put_uuid(f, "IID", it->name, &it->uuid);
    fputc('\n', f);
    for (size_t i = 0; i < it->slots.n; i++) {
        const struct idl_slot *s = it->slots.v[i];
        if (!s->n_params)
            continue;
        fprintf(f, "static const struct cap_tl_param cap_tlp_%s_%u[] = {\n", it->name,
                it->first_own + (unsigned)i);
        for (size_t j = 0; j < s->n_params; j++)
            put_param(f, s->params[j]);
        fputs("};\n\n", f);
    }
    if (it->slots.n) {
        fprintf(f, "static const struct cap_tl_method cap_tlm_%s[] = {\n", it->name);
        for (size_t i = 0; i < it->slots.n; i++) {
            const struct idl_slot *s = it->slots.v[i];
            fprintf(f, "    [%zu] = { /* slot %u */\n        .name = \"%s\",\n", i,
                    it->first_own + (unsigned)i, s->name);
            fprintf(f, "        .idl_name = \"%s\",\n        .kind = %s,\n", s->idl_name,
                    kind_enum[s->kind]);
            fprintf(f, "        .flags = 0,\n        .n_params = %zu,\n", s->n_params);
            if (s->n_params)
                fprintf(f, "        .params = cap_tlp_%s_%u,\n", it->name,
                        it->first_own + (unsigned)i);
            fputs("    },\n", f);
        }
        fputs("};\n\n", f);
    }
    fprintf(f, "CAP_EXPORT const struct cap_tl_iface cap_tl_%s = {\n", it->name);
    fprintf(f, "    .name = \"%s\",\n    .iid = &IID_%s,\n    .base = &cap_tl_%s,\n", it->name,
            it->name, it->base->name);
    fprintf(f, "    .first_own = %u,\n    .n_own = %zu,\n", it->first_own, it->slots.n);
    if (it->slots.n)
        fprintf(f, "    .own = cap_tlm_%s,\n", it->name);
    fputs("};\n\n", f);
}

static void emit_enum(FILE *f, const struct idl_enum *e)
{
    fprintf(f, "static const struct cap_tl_enum_value cap_tlv_%s[] = {\n", e->name);
    for (size_t i = 0; i < e->consts.n; i++) {
        const struct idl_const *c = e->consts.v[i];
        fprintf(f, "    {\"%s\", %s_%s},\n", c->name, e->name, c->name);
    }
    fprintf(f, "};\n\nCAP_EXPORT const struct cap_tl_enum cap_tl_%s = {\n", e->name);
    fprintf(f, "    .name = \"%s\",\n    .n_values = %zu,\n    .values = cap_tlv_%s,\n};\n\n",
            e->name, e->consts.n, e->name);
}

static void emit_lists(FILE *f, const struct idl_lib *lib, size_t n_ifaces)
{
    if (n_ifaces) {
        fprintf(f, "static const struct cap_tl_iface *const cap_tll_ifaces[] = {\n");
        for (size_t i = 0; i < lib->ifaces.n; i++) {
            const struct idl_iface *it = lib->ifaces.v[i];
            if (!it->builtin)
                fprintf(f, "    &cap_tl_%s,\n", it->name);
        }
        fputs("};\n\n", f);
    }
    if (lib->enums.n) {
        fprintf(f, "static const struct cap_tl_enum *const cap_tll_enums[] = {\n");
        for (size_t i = 0; i < lib->enums.n; i++)
            fprintf(f, "    &cap_tl_%s,\n", ((const struct idl_enum *)lib->enums.v[i])->name);
        fputs("};\n\n", f);
    }
    if (lib->results.n) {
        fprintf(f, "static const struct cap_tl_result cap_tll_results[] = {\n");
        for (size_t i = 0; i < lib->results.n; i++) {
            const struct idl_result *r = lib->results.v[i];
            fprintf(f, "    {\"%s\", %s},\n", r->name, r->name);
        }
        fputs("};\n\n", f);
    }
    if (lib->classes.n) {
        fprintf(f, "static const struct cap_tl_class cap_tll_classes[] = {\n");
        for (size_t i = 0; i < lib->classes.n; i++) {
            const struct idl_class *c = lib->classes.v[i];
            fprintf(f, "    {\n        .name = \"%s\",\n        .clsid = &CLSID_%s,\n", c->name,
                    c->name);
            fprintf(f, "        .contract_id = CAP_CONTRACT_%s,\n", c->name);
            fprintf(f, "        .default_iface = &cap_tl_%s,\n    },\n", c->iface->name);
        }
        fputs("};\n\n", f);
    }
}

static void emit_library(FILE *f, const struct idl_lib *lib, size_t n_ifaces)
{
    const char *L = lib->name;

    fprintf(f, "CAP_EXPORT const struct cap_typelib %s_typelib = {\n", L);
    fprintf(f, "    .name = \"%s\",\n    .uuid = &cap_tll_libid,\n", L);
    fprintf(f, "    .version_major = %u,\n    .version_minor = %u,\n", lib->version_major,
            lib->version_minor);
    fprintf(f, "    .n_ifaces = %zu,\n", n_ifaces);
    if (n_ifaces)
        fprintf(f, "    .ifaces = cap_tll_ifaces,\n");
    fprintf(f, "    .n_enums = %zu,\n", lib->enums.n);
    if (lib->enums.n)
        fprintf(f, "    .enums = cap_tll_enums,\n");
    fprintf(f, "    .n_results = %zu,\n", lib->results.n);
    if (lib->results.n)
        fprintf(f, "    .results = cap_tll_results,\n");
    fprintf(f, "    .n_classes = %zu,\n", lib->classes.n);
    if (lib->classes.n)
        fprintf(f, "    .classes = cap_tll_classes,\n");
    fputs("};\n", f);
}

int idl_emit_typelib(FILE *f, const struct idl_lib *lib, const char *source)
{
    size_t n_ifaces = 0;
    char libid[37];

    fprintf(f, "/*\n * %s_typelib.c - generated by capsule-idlc from %s; do not edit.\n *\n",
            lib->name, source);
    fputs(" * The typelib tables (capsule/typelib.h) and the IIDs and class IDs\n"
          " * declared in the generated header.\n */\n",
          f);
    fprintf(f, "#include \"%s.h\"\n\n", lib->name);
    idl_uuid_format(&lib->uuid, libid);
    fprintf(f, "/* %s */\nstatic const cap_uuid cap_tll_libid = ", libid);
    put_uuid_bytes(f, &lib->uuid);
    fputc('\n', f);
    for (size_t i = 0; i < lib->enums.n; i++)
        emit_enum(f, lib->enums.v[i]);
    for (size_t i = 0; i < lib->ifaces.n; i++) {
        const struct idl_iface *it = lib->ifaces.v[i];
        if (!it->builtin) {
            emit_iface(f, it);
            n_ifaces++;
        }
    }
    for (size_t i = 0; i < lib->classes.n; i++) {
        const struct idl_class *c = lib->classes.v[i];
        put_uuid(f, "CLSID", c->name, &c->uuid);
    }
    if (lib->classes.n)
        fputc('\n', f);
    emit_lists(f, lib, n_ifaces);
    emit_library(f, lib, n_ifaces);
    return ferror(f) ? -1 : 0;
}
