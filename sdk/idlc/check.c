/*
 * check.c - validation of a parsed library: the shared namespace of results,
 * enums, interfaces and classes, UUID uniqueness, enums and classes.
 *
 * Interfaces (bases, types, slots, members, params) are checked in
 * check_iface.c once the global names are known. Every rule reports every
 * violation it finds, at the line of the later of two clashing declarations,
 * and then carries on, so one run lists all the errors of a file.
 */
#include <stdlib.h>
#include <string.h>

#include "check_internal.h"
#include "idlc.h"

const char *idl_global_kind_name(enum idl_global_kind k)
{
    static const char *const names[] = {"result", "enum", "interface", "class"};
    return names[k];
}

static int cmp_global(const void *a, const void *b)
{
    const struct idl_global *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->line < y->line ? -1 : x->line > y->line;
}

const struct idl_global *idl_lookup(const struct idl_checker *ck, const char *name)
{
    size_t lo = 0, hi = ck->n_globals;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, ck->globals[mid].name);
        if (c == 0) {
            while (mid > 0 && strcmp(name, ck->globals[mid - 1].name) == 0)
                mid--; /* the first declaration wins */
            return &ck->globals[mid];
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

static void add_global(struct idl_checker *ck, const char *name, enum idl_global_kind kind,
                       void *obj, unsigned long line)
{
    if (!name)
        return;
    struct idl_global *g = &ck->globals[ck->n_globals++];
    g->name = name;
    g->kind = kind;
    g->obj = obj;
    g->line = line;
}

/* Collects, sorts and reports duplicates of the shared namespace. */
static int build_globals(struct idl_checker *ck)
{
    struct idl_lib *lib = ck->lib;
    size_t n = lib->results.n + lib->enums.n + lib->ifaces.n + lib->classes.n;

    ck->globals = calloc(n ? n : 1, sizeof(*ck->globals));
    if (!ck->globals)
        return -1;
    for (size_t i = 0; i < lib->results.n; i++) {
        struct idl_result *r = lib->results.v[i];
        add_global(ck, r->name, IDL_G_RESULT, r, r->line);
    }
    for (size_t i = 0; i < lib->enums.n; i++) {
        struct idl_enum *e = lib->enums.v[i];
        add_global(ck, e->name, IDL_G_ENUM, e, e->line);
    }
    for (size_t i = 0; i < lib->ifaces.n; i++) {
        struct idl_iface *it = lib->ifaces.v[i];
        add_global(ck, it->name, IDL_G_IFACE, it, it->line);
    }
    for (size_t i = 0; i < lib->classes.n; i++) {
        struct idl_class *c = lib->classes.v[i];
        add_global(ck, c->name, IDL_G_CLASS, c, c->line);
    }
    qsort(ck->globals, ck->n_globals, sizeof(*ck->globals), cmp_global);
    for (size_t i = 1; i < ck->n_globals; i++) {
        const struct idl_global *a = idl_lookup(ck, ck->globals[i].name);
        if (a != &ck->globals[i])
            idl_diag_add(ck->d, ck->globals[i].line,
                         "duplicate name '%s' (already declared as %s at line %lu)",
                         ck->globals[i].name, idl_global_kind_name(a->kind), a->line);
    }
    return 0;
}

struct uuid_use {
    const cap_uuid *uuid;
    const char *what;
    const char *name;
    unsigned long line;
};

static int cmp_uuid_use(const void *a, const void *b)
{
    const struct uuid_use *x = a, *y = b;
    int c = memcmp(x->uuid->b, y->uuid->b, 16);
    if (c)
        return c;
    return x->line < y->line ? -1 : x->line > y->line;
}

static void add_uuid(struct uuid_use *v, size_t *n, int has, const cap_uuid *u, const char *what,
                     const char *name, unsigned long line)
{
    if (!has)
        return;
    v[*n].uuid = u;
    v[*n].what = what;
    v[*n].name = name ? name : "?";
    v[*n].line = line;
    (*n)++;
}

static int check_uuids(struct idl_checker *ck)
{
    struct idl_lib *lib = ck->lib;
    size_t n = 0, max = 1 + lib->enums.n + lib->ifaces.n + lib->classes.n;
    struct uuid_use *v = calloc(max, sizeof(*v));

    if (!v)
        return -1;
    add_uuid(v, &n, lib->has_uuid, &lib->uuid, "library", lib->name, lib->line);
    for (size_t i = 0; i < lib->enums.n; i++) {
        struct idl_enum *e = lib->enums.v[i];
        add_uuid(v, &n, e->has_uuid, &e->uuid, "enum", e->name, e->line);
    }
    for (size_t i = 0; i < lib->ifaces.n; i++) {
        struct idl_iface *it = lib->ifaces.v[i];
        add_uuid(v, &n, it->has_uuid, &it->uuid, "interface", it->name, it->line);
    }
    for (size_t i = 0; i < lib->classes.n; i++) {
        struct idl_class *c = lib->classes.v[i];
        add_uuid(v, &n, c->has_uuid, &c->uuid, "class", c->name, c->line);
    }
    qsort(v, n, sizeof(*v), cmp_uuid_use);
    for (size_t i = 1, first = 0; i < n; i++) {
        if (memcmp(v[i].uuid->b, v[first].uuid->b, 16) != 0) {
            first = i;
            continue;
        }
        char text[37];
        idl_uuid_format(v[i].uuid, text);
        idl_diag_add(ck->d, v[i].line, "duplicate uuid %s (already used by %s '%s' at line %lu)",
                     text, v[first].what, v[first].name, v[first].line);
    }
    free(v);
    return 0;
}

static void check_enum(struct idl_checker *ck, const struct idl_enum *e)
{
    if (e->consts.n == 0) {
        idl_diag_add(ck->d, e->line, "enum '%s' has no <const>", e->name ? e->name : "?");
        return;
    }
    for (size_t i = 0; i < e->consts.n; i++) {
        const struct idl_const *c = e->consts.v[i];
        for (size_t j = 0; c->name && j < i; j++) {
            const struct idl_const *o = e->consts.v[j];
            if (o->name && strcmp(o->name, c->name) == 0) {
                idl_diag_add(ck->d, c->line, "duplicate const '%s' (first declared at line %lu)",
                             c->name, o->line);
                break;
            }
        }
    }
}

static void check_classes(struct idl_checker *ck)
{
    struct idl_lib *lib = ck->lib;

    for (size_t i = 0; i < lib->classes.n; i++) {
        struct idl_class *c = lib->classes.v[i];
        if (c->iface_name) {
            const struct idl_global *g = idl_lookup(ck, c->iface_name);
            if (g && g->kind == IDL_G_IFACE)
                c->iface = g->obj;
            else
                idl_diag_add(ck->d, c->line, "class '%s': unknown interface '%s'",
                             c->name ? c->name : "?", c->iface_name);
        }
        for (size_t j = 0; c->contract && j < i; j++) {
            const struct idl_class *o = lib->classes.v[j];
            if (o->contract && strcmp(o->contract, c->contract) == 0) {
                idl_diag_add(ck->d, c->line,
                             "duplicate contract ID '%s' (already used by class '%s' at line "
                             "%lu)",
                             c->contract, o->name ? o->name : "?", o->line);
                break;
            }
        }
    }
}

enum idl_status idl_check(struct idl_lib *lib, struct idl_diags *d)
{
    struct idl_checker ck = {.lib = lib, .d = d};
    size_t errs = d->n;
    int rc = 0;

    if (!lib)
        return IDL_EBAD; /* the parser said "missing <library>" */
    if (build_globals(&ck) < 0 || check_uuids(&ck) < 0)
        rc = -1;
    for (size_t i = 0; rc == 0 && i < lib->enums.n; i++)
        check_enum(&ck, lib->enums.v[i]);
    if (rc == 0)
        rc = idl_check_ifaces(&ck);
    if (rc == 0)
        check_classes(&ck);
    free(ck.globals);
    if (rc < 0 || d->oom)
        return IDL_ENOMEM;
    return d->n > errs ? IDL_EBAD : IDL_OK;
}
