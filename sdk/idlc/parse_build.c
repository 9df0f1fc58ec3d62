/*
 * parse_build.c - one model object per XIDL element, and the syntax of
 * attribute values (names, UUIDs, numbers, versions, dir, yes/no).
 *
 * Called by parse.c's start-element handler once the element is known to be
 * in its place. Missing required attributes were already reported there; a
 * builder only judges the values that are present. A bad value is reported
 * and left unset so that the checker does not report it again in another
 * form.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "parse_internal.h"

const char *idl_xml_attr(const char **atts, const char *name)
{
    for (size_t i = 0; atts[i]; i += 2) {
        if (strcmp(atts[i], name) == 0)
            return atts[i + 1];
    }
    return NULL;
}

/* ---- value syntax ----------------------------------------------------- */

/* Words that cannot name anything the generated C or C++ declares. */
static const char *const reserved[] = {
    "auto",
    "break",
    "case",
    "char",
    "const",
    "continue",
    "default",
    "do",
    "double",
    "else",
    "enum",
    "extern",
    "float",
    "for",
    "goto",
    "if",
    "inline",
    "int",
    "long",
    "register",
    "restrict",
    "return",
    "short",
    "signed",
    "sizeof",
    "static",
    "struct",
    "switch",
    "typedef",
    "union",
    "unsigned",
    "void",
    "volatile",
    "while",
    "_Bool",
    "_Complex",
    "_Imaginary",
    "_Alignas",
    "_Alignof",
    "_Atomic",
    "_Generic",
    "_Noreturn",
    "_Static_assert",
    "_Thread_local",
    "alignas",
    "alignof",
    "and",
    "and_eq",
    "asm",
    "bitand",
    "bitor",
    "bool",
    "catch",
    "char8_t",
    "char16_t",
    "char32_t",
    "class",
    "compl",
    "concept",
    "consteval",
    "constexpr",
    "constinit",
    "const_cast",
    "co_await",
    "co_return",
    "co_yield",
    "decltype",
    "delete",
    "dynamic_cast",
    "explicit",
    "export",
    "false",
    "friend",
    "mutable",
    "namespace",
    "new",
    "noexcept",
    "not",
    "not_eq",
    "nullptr",
    "operator",
    "or",
    "or_eq",
    "private",
    "protected",
    "public",
    "reinterpret_cast",
    "requires",
    "static_assert",
    "static_cast",
    "template",
    "this",
    "thread_local",
    "throw",
    "true",
    "try",
    "typeid",
    "typename",
    "using",
    "virtual",
    "wchar_t",
    "xor",
    "xor_eq",
    "NULL",
    "self",
};

/* A C identifier that is no reserved word; reports and returns a copy or NULL. */
static char *take_name(struct idl_diags *d, const char *s, const char *elem, unsigned long line,
                       int *oom)
{
    if (!s)
        return NULL;
    int ok = (isalpha((unsigned char)s[0]) || s[0] == '_');
    for (const char *c = s; ok && *c; c++)
        ok = (isalnum((unsigned char)*c) || *c == '_');
    if (!ok) {
        idl_diag_add(d, line, "bad name '%s' on <%s> (a C identifier is required)", s, elem);
        return NULL;
    }
    size_t len = strlen(s);
    if (strncmp(s, "cap_", 4) == 0 || (len > 2 && strcmp(s + len - 2, "_t") == 0)) {
        idl_diag_add(d, line, "bad name '%s' on <%s> (the prefix cap_ and suffix _t are reserved)",
                     s, elem);
        return NULL;
    }
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
        if (strcmp(s, reserved[i]) == 0) {
            idl_diag_add(d, line, "bad name '%s' on <%s> (reserved in C or C++)", s, elem);
            return NULL;
        }
    }
    char *r = strdup(s);
    if (!r)
        *oom = 1;
    return r;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"; returns 1 if it parsed. */
static int take_uuid(struct idl_diags *d, const char *s, cap_uuid *u, unsigned long line)
{
    size_t o = 0, i = 0;

    if (!s)
        return 0;
    for (; s[i] && o < 16; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                break;
            continue;
        }
        int hi = hexval(s[i]), lo = s[i + 1] ? hexval(s[i + 1]) : -1;
        if (hi < 0 || lo < 0)
            break;
        u->b[o++] = (uint8_t)(hi << 4 | lo);
        i++;
    }
    if (o == 16 && i == 36 && s[i] == '\0')
        return 1;
    idl_diag_add(d, line, "bad uuid '%s' (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx in hex)",
                 s);
    return 0;
}

/*
 * An int32: decimal in [-2^31, 2^31) or 0x followed by 1-8 hex digits (taken
 * as the 32-bit pattern, so 0x80BB0001 is a negative result code).
 */
static int take_int32(struct idl_diags *d, const char *s, int32_t *out, unsigned long line)
{
    char *end = NULL;

    if (!s)
        return 0;
    errno = 0;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        size_t n = strspn(s + 2, "0123456789abcdefABCDEF");
        if (n >= 1 && n <= 8 && s[2 + n] == '\0') {
            *out = (int32_t)(uint32_t)strtoul(s + 2, NULL, 16);
            return 1;
        }
    } else if ((isdigit((unsigned char)s[0]) || (s[0] == '-' && isdigit((unsigned char)s[1])))) {
        long long v = strtoll(s, &end, 10);
        if (errno == 0 && *end == '\0' && v >= INT32_MIN && v <= INT32_MAX) {
            *out = (int32_t)v;
            return 1;
        }
    }
    idl_diag_add(d, line, "bad number '%s' (expected an int32, decimal or 0x...)", s);
    return 0;
}

/* yes/no; absent is no. */
static int take_bool(struct idl_diags *d, const char **atts, const char *name, unsigned long line)
{
    const char *s = idl_xml_attr(atts, name);

    if (!s || strcmp(s, "no") == 0)
        return 0;
    if (strcmp(s, "yes") == 0)
        return 1;
    idl_diag_add(d, line, "bad value '%s' for %s (expected yes or no)", s, name);
    return 0;
}

static int take_version(struct idl_diags *d, const char *s, unsigned *maj, unsigned *min,
                        unsigned long line)
{
    unsigned long a = 0, b = 0;
    size_t na = s ? strspn(s, "0123456789") : 0;

    if (!s)
        return 0;
    if (na >= 1 && na <= 5 && s[na] == '.') {
        size_t nb = strspn(s + na + 1, "0123456789");
        if (nb >= 1 && nb <= 5 && s[na + 1 + nb] == '\0') {
            a = strtoul(s, NULL, 10);
            b = strtoul(s + na + 1, NULL, 10);
            if (a <= 0xffff && b <= 0xffff) {
                *maj = (unsigned)a;
                *min = (unsigned)b;
                return 1;
            }
        }
    }
    idl_diag_add(d, line, "bad version '%s' (expected MAJOR.MINOR, each 0-65535)", s);
    return 0;
}

/* ---- builders ------------------------------------------------------------ */

/* Allocates a zeroed object, appends it to vec, fills the node. */
static void *add_obj(struct idl_vec *vec, size_t size, struct idl_node *n)
{
    void *o = calloc(1, size);

    if (!o)
        return NULL;
    if (idl_vec_push(vec, o) < 0) {
        free(o);
        return NULL;
    }
    n->obj = o;
    return o;
}

int idl_build_library(struct idl_diags *d, struct idl_lib **lib, struct idl_node *n,
                      const char **atts, unsigned long line)
{
    int oom = 0;

    if (*lib) {
        idl_diag_add(d, line, "more than one <library> (the first is at line %lu)", (*lib)->line);
        return 0;
    }
    struct idl_lib *l = calloc(1, sizeof(*l));
    if (!l)
        return -1;
    *lib = l;
    l->line = line;
    l->name = take_name(d, idl_xml_attr(atts, "name"), "library", line, &oom);
    l->has_uuid = take_uuid(d, idl_xml_attr(atts, "uuid"), &l->uuid, line);
    take_version(d, idl_xml_attr(atts, "version"), &l->version_major, &l->version_minor, line);
    n->obj = l;
    n->desc = &l->desc;
    n->name = l->name;
    return oom ? -1 : 1;
}

int idl_build_result(struct idl_diags *d, struct idl_lib *lib, struct idl_node *n,
                     const char **atts, unsigned long line)
{
    int oom = 0;
    struct idl_result *r = add_obj(&lib->results, sizeof(*r), n);

    if (!r)
        return -1;
    r->line = line;
    r->name = take_name(d, idl_xml_attr(atts, "name"), "result", line, &oom);
    take_int32(d, idl_xml_attr(atts, "value"), &r->value, line);
    n->desc = &r->desc;
    n->name = r->name;
    return oom ? -1 : 1;
}

int idl_build_enum(struct idl_diags *d, struct idl_lib *lib, struct idl_node *n, const char **atts,
                   unsigned long line)
{
    int oom = 0;
    struct idl_enum *e = add_obj(&lib->enums, sizeof(*e), n);

    if (!e)
        return -1;
    e->line = line;
    e->name = take_name(d, idl_xml_attr(atts, "name"), "enum", line, &oom);
    e->has_uuid = take_uuid(d, idl_xml_attr(atts, "uuid"), &e->uuid, line);
    n->desc = &e->desc;
    n->name = e->name;
    return oom ? -1 : 1;
}

int idl_build_const(struct idl_diags *d, struct idl_enum *e, struct idl_node *n, const char **atts,
                    unsigned long line)
{
    int oom = 0;
    struct idl_const *c = add_obj(&e->consts, sizeof(*c), n);

    if (!c)
        return -1;
    c->line = line;
    c->name = take_name(d, idl_xml_attr(atts, "name"), "const", line, &oom);
    take_int32(d, idl_xml_attr(atts, "value"), &c->value, line);
    n->desc = &c->desc;
    n->name = c->name;
    return oom ? -1 : 1;
}

int idl_build_iface(struct idl_diags *d, struct idl_lib *lib, struct idl_node *n, const char **atts,
                    unsigned long line)
{
    int oom = 0;
    struct idl_iface *it = add_obj(&lib->ifaces, sizeof(*it), n);

    if (!it)
        return -1;
    it->line = line;
    it->name = take_name(d, idl_xml_attr(atts, "name"), "interface", line, &oom);
    it->has_uuid = take_uuid(d, idl_xml_attr(atts, "uuid"), &it->uuid, line);
    it->builtin = take_bool(d, atts, "builtin", line);
    const char *ext = idl_xml_attr(atts, "extends");
    const char *raw = idl_xml_attr(atts, "name");
    int is_root = raw && strcmp(raw, "ISupports") == 0;
    if (ext && is_root)
        idl_diag_add(d, line, "ISupports is the root interface and extends nothing");
    else if (!ext && !is_root)
        idl_diag_add(d, line, "<interface> is missing required attribute 'extends'");
    else if (ext && !(it->extends = strdup(ext)))
        oom = 1;
    n->desc = &it->desc;
    n->name = it->name;
    return oom ? -1 : 1;
}

int idl_build_member(struct idl_diags *d, struct idl_iface *it, struct idl_node *n,
                     const char **atts, unsigned long line, int is_method)
{
    int oom = 0;
    const char *elem = is_method ? "method" : "attribute";
    struct idl_member *m = add_obj(&it->members, sizeof(*m), n);

    if (!m)
        return -1;
    m->kind = is_method ? IDL_METHOD : IDL_ATTRIBUTE;
    m->line = line;
    m->name = take_name(d, idl_xml_attr(atts, "name"), elem, line, &oom);
    if (!is_method) {
        const char *type = idl_xml_attr(atts, "type");
        if (type && !(m->type.name = strdup(type)))
            oom = 1;
        m->type.array = take_bool(d, atts, "safearray", line);
        m->readonly = take_bool(d, atts, "readonly", line);
    }
    n->desc = &m->desc;
    n->name = m->name;
    return oom ? -1 : 1;
}

int idl_build_param(struct idl_diags *d, struct idl_member *m, struct idl_node *n,
                    const char **atts, unsigned long line)
{
    int oom = 0;
    struct idl_param *p = add_obj(&m->params, sizeof(*p), n);

    if (!p)
        return -1;
    p->line = line;
    p->name = take_name(d, idl_xml_attr(atts, "name"), "param", line, &oom);
    const char *type = idl_xml_attr(atts, "type");
    if (type && !(p->type.name = strdup(type)))
        oom = 1;
    p->type.array = take_bool(d, atts, "safearray", line);
    p->dir = -1;
    const char *dir = idl_xml_attr(atts, "dir");
    if (dir && strcmp(dir, "in") == 0)
        p->dir = CAP_TLD_IN;
    else if (dir && strcmp(dir, "out") == 0)
        p->dir = CAP_TLD_OUT;
    else if (dir && strcmp(dir, "return") == 0)
        p->dir = CAP_TLD_RETURN;
    else if (dir)
        idl_diag_add(d, line, "bad dir '%s' (expected in, out or return)", dir);
    n->desc = &p->desc;
    n->name = p->name;
    return oom ? -1 : 1;
}

int idl_build_class(struct idl_diags *d, struct idl_lib *lib, struct idl_node *n, const char **atts,
                    unsigned long line)
{
    int oom = 0;
    struct idl_class *c = add_obj(&lib->classes, sizeof(*c), n);

    if (!c)
        return -1;
    c->line = line;
    c->name = take_name(d, idl_xml_attr(atts, "name"), "class", line, &oom);
    c->has_uuid = take_uuid(d, idl_xml_attr(atts, "uuid"), &c->uuid, line);
    const char *contract = idl_xml_attr(atts, "contract");
    if (contract && !*contract)
        idl_diag_add(d, line, "empty contract ID");
    else if (contract && !(c->contract = strdup(contract)))
        oom = 1;
    const char *iface = idl_xml_attr(atts, "interface");
    if (iface && !(c->iface_name = strdup(iface)))
        oom = 1;
    n->desc = &c->desc;
    n->name = c->name;
    return oom ? -1 : 1;
}
