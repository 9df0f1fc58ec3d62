/*
 * parse.c - XIDL text to the model, with expat.
 *
 * The parser is a small state machine over expat's callbacks. A fixed stack
 * holds the open elements (the format nests at most six deep: idl, library,
 * interface, method, param, desc); an element that is unknown or out of place
 * is reported once and its whole subtree skipped, so one mistake gives one
 * error. Everything that can be judged from a single element is judged here:
 * known elements and attributes, required attributes, the syntax of names,
 * UUIDs, numbers, dir, yes/no values, and the presence of a non-empty <desc>.
 * Cross-references (types, bases, duplicates) are check.c's job.
 *
 * A value that fails its syntax check is left unset in the model (NULL name,
 * has_uuid 0, dir -1), which tells the checker not to pile errors on it.
 */
#include <ctype.h>
#include <expat.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "idlc.h"
#include "parse_internal.h"

enum elem {
    E_NONE,
    E_IDL,
    E_LIBRARY,
    E_RESULT,
    E_ENUM,
    E_CONST,
    E_INTERFACE,
    E_ATTRIBUTE,
    E_METHOD,
    E_PARAM,
    E_CLASS,
    E_DESC,
};

#define BIT(e)    (1u << (e))
#define MAX_ATTRS 6
#define MAX_DEPTH 8 /* the format needs 6 */

struct elem_info {
    const char *name;
    unsigned parents;             /* BIT() of the elements it may appear in */
    const char *attrs[MAX_ATTRS]; /* allowed attributes; NULL-terminated */
    unsigned required;            /* bit i: attrs[i] is required */
};

static const struct elem_info elems[] = {
    [E_IDL] = {"idl", BIT(E_NONE), {NULL}, 0},
    [E_LIBRARY] = {"library", BIT(E_IDL), {"name", "uuid", "version"}, 7},
    [E_RESULT] = {"result", BIT(E_LIBRARY), {"name", "value"}, 3},
    [E_ENUM] = {"enum", BIT(E_LIBRARY), {"name", "uuid"}, 3},
    [E_CONST] = {"const", BIT(E_ENUM), {"name", "value"}, 3},
    [E_INTERFACE] = {"interface", BIT(E_LIBRARY), {"name", "uuid", "extends", "builtin"}, 3},
    [E_ATTRIBUTE] = {"attribute", BIT(E_INTERFACE), {"name", "type", "readonly", "safearray"}, 3},
    [E_METHOD] = {"method", BIT(E_INTERFACE), {"name"}, 1},
    [E_PARAM] = {"param", BIT(E_METHOD), {"name", "type", "dir", "safearray"}, 7},
    [E_CLASS] = {"class", BIT(E_LIBRARY), {"name", "uuid", "contract", "interface"}, 15},
    [E_DESC] = {"desc",
                BIT(E_LIBRARY) | BIT(E_RESULT) | BIT(E_ENUM) | BIT(E_CONST) | BIT(E_INTERFACE) |
                    BIT(E_ATTRIBUTE) | BIT(E_METHOD) | BIT(E_PARAM) | BIT(E_CLASS),
                {NULL},
                0},
};
#define N_ELEMS (sizeof(elems) / sizeof(elems[0]))

struct frame {
    enum elem kind;
    unsigned long line;
    struct idl_node node; /* the model object it created, if any */
    int text_reported;    /* "unexpected text" said once per element */
};

struct parser {
    XML_Parser xp;
    struct idl_diags *diags;
    struct idl_lib *lib;
    struct frame stack[MAX_DEPTH];
    size_t depth;
    unsigned long skip; /* > 0: inside an ignored subtree */
    char *text;         /* <desc> text being collected */
    size_t text_len, text_cap;
    int oom;
};

static void fail_oom(struct parser *p)
{
    p->oom = 1;
    XML_StopParser(p->xp, XML_FALSE);
}

static const char *elem_label(const struct frame *f)
{
    return elems[f->kind].name;
}

/* ---- element start ---------------------------------------------------- */

/* Reports unknown attributes and missing required ones. */
static void check_attrs(struct parser *p, enum elem kind, const XML_Char **atts, unsigned long line)
{
    const struct elem_info *ei = &elems[kind];

    for (size_t i = 0; atts[i]; i += 2) {
        size_t k = 0;
        while (k < MAX_ATTRS && ei->attrs[k] && strcmp(ei->attrs[k], atts[i]) != 0)
            k++;
        if (k == MAX_ATTRS || !ei->attrs[k])
            idl_diag_add(p->diags, line, "unknown attribute '%s' on <%s>", atts[i], ei->name);
    }
    for (size_t k = 0; k < MAX_ATTRS && ei->attrs[k]; k++) {
        if ((ei->required & (1u << k)) && !idl_xml_attr(atts, ei->attrs[k]))
            idl_diag_add(p->diags, line, "<%s> is missing required attribute '%s'", ei->name,
                         ei->attrs[k]);
    }
}

static enum elem find_elem(const char *name)
{
    for (size_t i = 1; i < N_ELEMS; i++) {
        if (strcmp(elems[i].name, name) == 0)
            return (enum elem)i;
    }
    return E_NONE;
}

/* Pushes the element unless it is unknown or misplaced (then skips it). */
static struct frame *enter(struct parser *p, const char *name, unsigned long line)
{
    enum elem parent = p->depth ? p->stack[p->depth - 1].kind : E_NONE;
    enum elem kind = find_elem(name);

    if (kind == E_NONE) {
        idl_diag_add(p->diags, line, "unknown element <%s>", name);
    } else if (!(elems[kind].parents & BIT(parent))) {
        if (parent == E_NONE)
            idl_diag_add(p->diags, line, "the root element must be <idl>, not <%s>", name);
        else
            idl_diag_add(p->diags, line, "<%s> is not allowed in <%s>", name, elems[parent].name);
        kind = E_NONE;
    } else if (p->depth == MAX_DEPTH) {
        kind = E_NONE; /* cannot happen with the nesting rules above */
    }
    if (kind == E_NONE) {
        p->skip = 1;
        return NULL;
    }
    struct frame *f = &p->stack[p->depth++];
    memset(f, 0, sizeof(*f));
    f->kind = kind;
    f->line = line;
    return f;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct parser *p = ud;
    unsigned long line = XML_GetCurrentLineNumber(p->xp);

    if (p->skip) {
        p->skip++;
        return;
    }
    struct frame *f = enter(p, name, line);
    if (!f)
        return;
    check_attrs(p, f->kind, atts, line);
    struct frame *parent = p->depth > 1 ? &p->stack[p->depth - 2] : NULL;
    int rc = 1;
    switch (f->kind) {
    case E_IDL:
    case E_DESC:
        if (f->kind == E_DESC)
            p->text_len = 0;
        break;
    case E_LIBRARY:
        rc = idl_build_library(p->diags, &p->lib, &f->node, atts, line);
        break;
    case E_RESULT:
        rc = idl_build_result(p->diags, parent->node.obj, &f->node, atts, line);
        break;
    case E_ENUM:
        rc = idl_build_enum(p->diags, parent->node.obj, &f->node, atts, line);
        break;
    case E_CONST:
        rc = idl_build_const(p->diags, parent->node.obj, &f->node, atts, line);
        break;
    case E_INTERFACE:
        rc = idl_build_iface(p->diags, parent->node.obj, &f->node, atts, line);
        break;
    case E_ATTRIBUTE:
    case E_METHOD:
        rc =
            idl_build_member(p->diags, parent->node.obj, &f->node, atts, line, f->kind == E_METHOD);
        break;
    case E_PARAM:
        rc = idl_build_param(p->diags, parent->node.obj, &f->node, atts, line);
        break;
    case E_CLASS:
        rc = idl_build_class(p->diags, parent->node.obj, &f->node, atts, line);
        break;
    case E_NONE:
        break;
    }
    if (rc < 0) {
        fail_oom(p);
    } else if (rc == 0) {
        p->depth--; /* declined (a second <library>): ignore the subtree */
        p->skip = 1;
    }
}

/* ---- text and element end --------------------------------------------- */

static int is_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (!isspace((unsigned char)s[i]))
            return 0;
    }
    return 1;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    struct parser *p = ud;

    if (p->skip || !p->depth || len <= 0)
        return;
    struct frame *f = &p->stack[p->depth - 1];
    if (f->kind != E_DESC) {
        if (!f->text_reported && !is_blank(s, (size_t)len)) {
            idl_diag_add(p->diags, XML_GetCurrentLineNumber(p->xp),
                         "unexpected text in <%s> (doc text belongs in <desc>)", elem_label(f));
            f->text_reported = 1;
        }
        return;
    }
    if (p->text_len + (size_t)len + 1 > p->text_cap) {
        size_t cap = (p->text_len + (size_t)len + 1) * 2;
        char *t = realloc(p->text, cap);
        if (!t) {
            fail_oom(p);
            return;
        }
        p->text = t;
        p->text_cap = cap;
    }
    memcpy(p->text + p->text_len, s, (size_t)len);
    p->text_len += (size_t)len;
    p->text[p->text_len] = '\0';
}

/* Stores the collected <desc> text, trimmed, in the parent's desc field. */
static void end_desc(struct parser *p, const struct frame *f)
{
    struct frame *parent = &p->stack[p->depth - 1];
    size_t b = 0, e = p->text_len;

    while (b < e && isspace((unsigned char)p->text[b]))
        b++;
    while (e > b && isspace((unsigned char)p->text[e - 1]))
        e--;
    if (!parent->node.desc)
        return;
    if (*parent->node.desc) {
        idl_diag_add(p->diags, f->line, "<%s> has more than one <desc>", elem_label(parent));
        return;
    }
    if (e == b)
        return; /* reported as empty when the parent ends */
    char *d = strndup(p->text + b, e - b);
    if (!d) {
        fail_oom(p);
        return;
    }
    *parent->node.desc = d;
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    struct parser *p = ud;
    (void)name;

    if (p->skip) {
        p->skip--;
        return;
    }
    struct frame *f = &p->stack[--p->depth];
    if (f->kind == E_DESC) {
        end_desc(p, f);
    } else if (f->kind == E_IDL) {
        if (!p->lib)
            idl_diag_add(p->diags, f->line, "missing <library>");
    } else if (f->node.desc && !*f->node.desc) {
        if (f->node.name)
            idl_diag_add(p->diags, f->line, "<%s> '%s' has no <desc> (or it is empty)",
                         elem_label(f), f->node.name);
        else
            idl_diag_add(p->diags, f->line, "<%s> has no <desc> (or it is empty)", elem_label(f));
    }
}

/* ---- entry point -------------------------------------------------------- */

enum idl_status idl_parse(const char *buf, size_t len, struct idl_lib **out, int *fatal,
                          struct idl_diags *diags)
{
    struct parser p;
    enum idl_status st = IDL_OK;
    size_t errs = diags->n;

    memset(&p, 0, sizeof(p));
    p.diags = diags;
    *out = NULL;
    *fatal = 0;
    if (len > INT_MAX) {
        idl_diag_add(diags, 0, "file too large");
        *fatal = 1;
        return IDL_EBAD;
    }
    p.xp = XML_ParserCreate(NULL);
    if (!p.xp)
        return IDL_ENOMEM;
    XML_SetUserData(p.xp, &p);
    XML_SetElementHandler(p.xp, on_start, on_end);
    XML_SetCharacterDataHandler(p.xp, on_text);

    if (XML_Parse(p.xp, buf, (int)len, XML_TRUE) == XML_STATUS_ERROR) {
        if (p.oom) {
            st = IDL_ENOMEM;
        } else {
            idl_diag_add(diags, XML_GetCurrentLineNumber(p.xp), "malformed XML: %s",
                         XML_ErrorString(XML_GetErrorCode(p.xp)));
            *fatal = 1;
        }
    }
    XML_ParserFree(p.xp);
    free(p.text);
    *out = p.lib;
    if (st == IDL_OK && diags->oom)
        st = IDL_ENOMEM;
    if (st == IDL_OK && diags->n > errs)
        st = IDL_EBAD;
    return st;
}
