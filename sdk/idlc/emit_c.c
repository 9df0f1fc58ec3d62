/*
 * emit_c.c - what the emitters share: the C form of every IDL type and
 * direction (the table in capsule/typelib.h), slot signatures, string
 * literals, and doc text reflowed into comments and Markdown.
 *
 * The header, the SWIG file and the tests all go through idl_c_param(), so
 * there is exactly one place that decides how a param looks in C.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "emit_internal.h"

static const char *const scalar_c[CAP_TLT_COUNT_] = {
    [CAP_TLT_BOOL] = "cap_bool",    [CAP_TLT_OCTET] = "uint8_t",      [CAP_TLT_SHORT] = "int16_t",
    [CAP_TLT_USHORT] = "uint16_t",  [CAP_TLT_LONG] = "int32_t",       [CAP_TLT_ULONG] = "uint32_t",
    [CAP_TLT_LONGLONG] = "int64_t", [CAP_TLT_ULONGLONG] = "uint64_t", [CAP_TLT_DOUBLE] = "double",
    [CAP_TLT_STRING] = "char *",    [CAP_TLT_UUID] = "cap_uuid",
};

/* The element type: "int32_t", "char *", "IFoo *", "MachineState". */
static void elem_type(FILE *f, const struct idl_type *t)
{
    if (t->kind == CAP_TLT_ENUM)
        fputs(t->enm->name, f);
    else if (t->kind == CAP_TLT_IFACE)
        fprintf(f, "%s *", t->iface->name);
    else
        fputs(scalar_c[t->kind], f);
}

static int elem_is_pointer(const struct idl_type *t)
{
    return t->kind == CAP_TLT_STRING || t->kind == CAP_TLT_IFACE;
}

void idl_c_param(FILE *f, const struct idl_param *p)
{
    const struct idl_type *t = &p->type;
    int in = p->dir == CAP_TLD_IN;
    int ptr = elem_is_pointer(t);

    if (t->array) {
        fprintf(f, "uint32_t %s%sCount, ", in ? "" : "*", p->name);
        if (in && ptr) {
            elem_type(f, t); /* "char *" -> "char *const *x" */
            fprintf(f, "const *%s", p->name);
        } else if (in) {
            fputs("const ", f);
            elem_type(f, t);
            fprintf(f, " *%s", p->name);
        } else {
            elem_type(f, t);
            fprintf(f, "%s**%s", ptr ? "" : " ", p->name);
        }
        return;
    }
    if (in && t->kind == CAP_TLT_STRING) {
        fprintf(f, "const char *%s", p->name);
    } else if (in && t->kind == CAP_TLT_UUID) {
        fprintf(f, "const cap_uuid *%s", p->name);
    } else {
        elem_type(f, t);
        fprintf(f, "%s%s%s", ptr ? "" : " ", in ? "" : "*", p->name);
    }
}

const char *idl_c_slot_ret(const struct idl_slot *s)
{
    return s->builtin && strcmp(s->name, "queryInterface") != 0 ? "uint32_t" : "cap_result";
}

/* Writes "(a, b, c)", broken before an argument that would pass column 100. */
static void put_wrapped(FILE *f, const char *args, size_t col)
{
    size_t align = col + 1 <= 60 ? col + 1 : 8;
    const char *a = args;

    fputc('(', f);
    col++;
    for (int first = 1; *a; first = 0) {
        const char *end = strstr(a, ", ");
        size_t n = end ? (size_t)(end - a) : strlen(a);
        if (!first) {
            if (col + 2 + n + 2 > 100) {
                fprintf(f, ",\n%*s", (int)align, "");
                col = align;
            } else {
                fputs(", ", f);
                col += 2;
            }
        }
        fwrite(a, 1, n, f);
        col += n;
        a += n + (end ? 2 : 0);
    }
    fputc(')', f);
}

/* Renders with `put` into memory, then writes it wrapped at column `col`. */
static void wrap_list(FILE *f, size_t col, void (*put)(FILE *, const char *, const void *),
                      const char *a1, const void *a2)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);

    if (!m) {
        fputc('(', f);
        put(f, a1, a2);
        fputc(')', f);
        return;
    }
    put(m, a1, a2);
    if (fclose(m) != 0 || !buf) {
        free(buf);
        fputs("(", f); /* out of memory: a visibly broken file fails the build */
        return;
    }
    put_wrapped(f, buf, col);
    free(buf);
}

static void put_decl_args(FILE *f, const char *self_type, const void *slot)
{
    const struct idl_slot *s = slot;

    fprintf(f, "%s *self", self_type);
    if (s->builtin) {
        if (strcmp(s->name, "queryInterface") == 0)
            fputs(", const cap_uuid *iid, void **out", f);
        return;
    }
    for (size_t i = 0; i < s->n_params; i++) {
        fputs(", ", f);
        idl_c_param(f, s->params[i]);
    }
}

static void put_call_args(FILE *f, const char *unused, const void *slot)
{
    const struct idl_slot *s = slot;

    (void)unused;
    fputs("self", f);
    if (s->builtin) {
        if (strcmp(s->name, "queryInterface") == 0)
            fputs(", iid, out", f);
        return;
    }
    for (size_t i = 0; i < s->n_params; i++) {
        const struct idl_param *p = s->params[i];
        if (p->type.array)
            fprintf(f, ", %sCount", p->name);
        fprintf(f, ", %s", p->name);
    }
}

void idl_c_slot_args(FILE *f, const char *self_type, const struct idl_slot *s, size_t col)
{
    wrap_list(f, col, put_decl_args, self_type, s);
}

void idl_c_slot_call_args(FILE *f, const struct idl_slot *s, size_t col)
{
    wrap_list(f, col, put_call_args, NULL, s);
}

void idl_c_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf(f, "\\%c", *c);
        else if (*c < 0x20 || *c >= 0x7f || *c == '?')
            fprintf(f, "\\%03o", *c); /* '?' too: no trigraphs */
        else
            fputc(*c, f);
    }
    fputc('"', f);
}

/* ---- doc text ------------------------------------------------------------ */

/*
 * Writes one word. In C comments, "* /", "/ *" and "? ?" are written apart,
 * so that doc text can neither end the comment, nest one (-Wcomment) nor
 * form a trigraph (-Wtrigraphs).
 */
static void put_word(FILE *f, const char *w, size_t n, enum idl_doc_style style)
{
    for (size_t i = 0; i < n; i++) {
        fputc(w[i], f);
        if (style == IDL_DOC_C && i + 1 < n &&
            ((w[i] == '*' && w[i + 1] == '/') || (w[i] == '/' && w[i + 1] == '*') ||
             (w[i] == '?' && w[i + 1] == '?')))
            fputc(' ', f);
    }
}

static size_t ident_len(const char *w, size_t n)
{
    size_t k = 0;
    while (k < n && (isalnum((unsigned char)w[k]) || w[k] == '_'))
        k++;
    return k;
}

/* Markdown for the word after "@a" or "@link": the name, then the rest. */
static void put_ref(FILE *f, const char *w, size_t n, int is_link)
{
    size_t k = ident_len(w, n);
    if (k == 0) {
        fwrite(w, 1, n, f);
        return;
    }
    if (is_link)
        fprintf(f, "[%.*s](#%.*s)", (int)k, w, (int)k, w);
    else
        fprintf(f, "*%.*s*", (int)k, w);
    fwrite(w + k, 1, n - k, f);
}

static int marker(const char *w, size_t n)
{
    if (n == 2 && memcmp(w, "@a", 2) == 0)
        return 1;
    if (n == 5 && memcmp(w, "@link", 5) == 0)
        return 2;
    return 0;
}

/* idl_doc() without the final newline; returns the column it ended in. */
static size_t doc_body(FILE *f, const char *text, const char *prefix, size_t width,
                       enum idl_doc_style style)
{
    size_t plen = strlen(prefix), col = 0;
    int pending = 0; /* 1: after @a, 2: after @link */
    int para = 0;    /* a blank line came before this word */
    const char *s = text;

    while (*s) {
        size_t nl = 0;
        while (*s && isspace((unsigned char)*s))
            nl += (*s++ == '\n');
        para |= nl >= 2;
        if (!*s)
            break;
        const char *w = s;
        while (*s && !isspace((unsigned char)*s))
            s++;
        size_t n = (size_t)(s - w);
        if (style == IDL_DOC_MD && !pending && marker(w, n)) {
            pending = marker(w, n);
            continue;
        }
        if (col > 0 && para) {
            fputc('\n', f);
            fwrite(prefix, 1, plen - (plen && prefix[plen - 1] == ' '), f);
            fputc('\n', f);
            col = 0;
        } else if (col > 0 && width && col + 1 + n > width) {
            fputc('\n', f);
            col = 0;
        }
        para = 0;
        if (col == 0) {
            fputs(prefix, f);
            col = plen;
        } else {
            fputc(' ', f);
            col++;
        }
        if (pending)
            put_ref(f, w, n, pending == 2);
        else
            put_word(f, w, n, style);
        pending = 0;
        col += n;
    }
    return col;
}

void idl_doc(FILE *f, const char *text, const char *prefix, size_t width, enum idl_doc_style style)
{
    if (doc_body(f, text, prefix, width, style) > 0)
        fputc('\n', f);
}

/* Length of the text as one reflowed line, or 0 if it has several paragraphs. */
static size_t oneline_len(const char *s)
{
    size_t len = 0, nl = 0;

    while (*s) {
        nl = 0;
        while (*s && isspace((unsigned char)*s))
            nl += (*s++ == '\n');
        if (!*s)
            break;
        if (nl >= 2 && len)
            return 0;
        len += len ? 1 : 0;
        while (*s && !isspace((unsigned char)*s)) {
            len += 1 + (*s == '*' || *s == '/' || *s == '?'); /* room for put_word's spaces */
            s++;
        }
    }
    return len;
}

void idl_c_comment(FILE *f, const char *indent, const char *text)
{
    size_t n;

    if (!text)
        return;
    n = oneline_len(text);
    if (n && strlen(indent) + 3 + n + 3 <= 100) {
        fprintf(f, "%s/* ", indent);
        doc_body(f, text, "", 0, IDL_DOC_C);
        fputs(" */\n", f);
        return;
    }
    fprintf(f, "%s/*\n", indent);
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "%s * ", indent);
    idl_doc(f, text, prefix, 80, IDL_DOC_C);
    fprintf(f, "%s */\n", indent);
}

static void each_slot(FILE *f, const struct idl_iface *self, const struct idl_iface *it,
                      idl_slot_fn fn)
{
    if (it->base)
        each_slot(f, self, it->base, fn);
    for (size_t i = 0; i < it->slots.n; i++)
        fn(f, self, it->slots.v[i], it->first_own + (unsigned)i);
}

void idl_each_slot(FILE *f, const struct idl_iface *it, idl_slot_fn fn)
{
    each_slot(f, it, it, fn);
}
