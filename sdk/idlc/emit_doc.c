/*
 * emit_doc.c - writes L_doc.json, every <desc> of a library as data.
 *
 * The language bindings learn the interfaces from the typelib at run time
 * (sdk/bindings), but the typelib carries no doc text: this file does, keyed
 * by the same names, so that Python docstrings and Javadoc come from the IDL
 * like everything else. One JSON object:
 *
 *   {"library": NAME, "desc": TEXT,
 *    "results": {NAME: TEXT, ...},
 *    "enums": {NAME: {"desc": TEXT, "values": {CONST: TEXT, ...}}, ...},
 *    "interfaces": {NAME: {"desc": TEXT,
 *                          "attributes": {NAME: TEXT, ...},
 *                          "methods": {NAME: {"desc": TEXT,
 *                                             "params": {NAME: TEXT, ...}}}}},
 *    "classes": {NAME: TEXT, ...}}
 *
 * TEXT is the <desc> with its whitespace collapsed, paragraphs separated by
 * "\n\n", and the IDL's markup kept as written ("@a name", "@link Name"),
 * for each language to render its own way. Members keep declaration order.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "emit_internal.h"
#include "idlc.h"

/* Writes s as a JSON string: quotes, backslashes and control characters
 * escaped; UTF-8 passes through. */
static void put_json_str(FILE *f, const char *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void put_name(FILE *f, const char *s)
{
    put_json_str(f, s ? s : "", s ? strlen(s) : 0);
}

/*
 * The reflowed doc text (one line per paragraph, a blank line between
 * paragraphs) as a JSON string; "" when there is none. Falls back to the
 * text as written if the reflow buffer cannot be had.
 */
static int put_text(FILE *f, const char *desc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m;

    if (!desc) {
        fputs("\"\"", f);
        return 0;
    }
    m = open_memstream(&buf, &len);
    if (!m)
        return -1;
    idl_doc(m, desc, "", 0, IDL_DOC_PLAIN);
    if (fclose(m) != 0) {
        free(buf);
        return -1;
    }
    while (len && buf[len - 1] == '\n')
        len--;
    put_json_str(f, buf, len);
    free(buf);
    return 0;
}

/* A new line indented for nesting level `depth`, after a comma if not the first. */
static void next_line(FILE *f, int depth, size_t k)
{
    fprintf(f, "%s\n%*s", k ? "," : "", depth * 2, "");
}

/* Closes an object opened at level `depth - 1` that got n members. */
static void close_obj(FILE *f, int depth, size_t n)
{
    if (n)
        fprintf(f, "\n%*s}", (depth - 1) * 2, "");
    else
        fputc('}', f);
}

/* `"key": {` on a new line at level `depth` (k: members before it). */
static void open_key(FILE *f, int depth, size_t k, const char *key)
{
    next_line(f, depth, k);
    put_name(f, key);
    fputs(": {", f);
}

/* `"desc": TEXT` as the first member of an object at level `depth`. */
static int put_desc(FILE *f, int depth, const char *desc)
{
    next_line(f, depth, 0);
    fputs("\"desc\": ", f);
    return put_text(f, desc);
}

/* Where the name and desc of a vector's items are, and which to leave out. */
struct named {
    size_t name_off, desc_off;
    int (*skip)(const void *item); /* NULL: none */
};
#define NAMED(type, skip)                                                                          \
    {                                                                                              \
        offsetof(struct type, name), offsetof(struct type, desc), skip                             \
    }

static const char *field(const void *item, size_t off)
{
    return *(char *const *)((const char *)item + off);
}

static int not_attribute(const void *item)
{
    return ((const struct idl_member *)item)->kind != IDL_ATTRIBUTE;
}

static const struct named results_named = NAMED(idl_result, NULL);
static const struct named consts_named = NAMED(idl_const, NULL);
static const struct named params_named = NAMED(idl_param, NULL);
static const struct named attributes_named = NAMED(idl_member, not_attribute);
static const struct named classes_named = NAMED(idl_class, NULL);

/* `"key": {"NAME": TEXT, ...}` at level `depth`, for the items of v. */
static int put_dict(FILE *f, int depth, size_t k, const char *key, const struct idl_vec *v,
                    const struct named *how)
{
    size_t n = 0;
    int rc = 0;

    open_key(f, depth, k, key);
    for (size_t i = 0; i < v->n; i++) {
        if (how->skip && how->skip(v->v[i]))
            continue;
        next_line(f, depth + 1, n++);
        put_name(f, field(v->v[i], how->name_off));
        fputs(": ", f);
        rc |= put_text(f, field(v->v[i], how->desc_off));
    }
    close_obj(f, depth + 1, n);
    return rc;
}

/* `"name": {"desc": TEXT, "key": {...}}` at level `depth`: an enum, a method. */
static int put_node(FILE *f, int depth, size_t k, const char *name, const char *desc,
                    const char *key, const struct idl_vec *v, const struct named *how)
{
    int rc;

    open_key(f, depth, k, name);
    rc = put_desc(f, depth + 1, desc);
    rc |= put_dict(f, depth + 1, 1, key, v, how);
    close_obj(f, depth + 1, 1);
    return rc;
}

static int emit_iface(FILE *f, size_t k, const struct idl_iface *it)
{
    size_t nm = 0;
    int rc;

    open_key(f, 2, k, it->name);
    rc = put_desc(f, 3, it->desc);
    rc |= put_dict(f, 3, 1, "attributes", &it->members, &attributes_named);
    open_key(f, 3, 1, "methods");
    for (size_t j = 0; j < it->members.n; j++) {
        const struct idl_member *m = it->members.v[j];
        if (m->kind == IDL_METHOD)
            rc |= put_node(f, 4, nm++, m->name, m->desc, "params", &m->params, &params_named);
    }
    close_obj(f, 4, nm);
    close_obj(f, 3, 1);
    return rc;
}

int idl_emit_doc(FILE *f, const struct idl_lib *lib, const char *source)
{
    int rc;

    (void)source; /* JSON has no comments; the bindings' README names the source */
    fputs("{", f);
    next_line(f, 1, 0);
    fputs("\"library\": ", f);
    put_name(f, lib->name);
    next_line(f, 1, 1);
    fputs("\"desc\": ", f);
    rc = put_text(f, lib->desc);
    rc |= put_dict(f, 1, 1, "results", &lib->results, &results_named);
    open_key(f, 1, 1, "enums");
    for (size_t i = 0; i < lib->enums.n; i++) {
        const struct idl_enum *e = lib->enums.v[i];
        rc |= put_node(f, 2, i, e->name, e->desc, "values", &e->consts, &consts_named);
    }
    close_obj(f, 2, lib->enums.n);
    open_key(f, 1, 1, "interfaces");
    for (size_t i = 0; i < lib->ifaces.n; i++)
        rc |= emit_iface(f, i, lib->ifaces.v[i]);
    close_obj(f, 2, lib->ifaces.n);
    rc |= put_dict(f, 1, 1, "classes", &lib->classes, &classes_named);
    fputs("\n}\n", f);
    return rc || ferror(f) ? -1 : 0;
}
