/*
 * model.c - lifetime of the IDL model, the error list and small helpers
 * shared by every phase of capsule-idlc (type names, UUID text, names).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

int idl_vec_push(struct idl_vec *vec, void *p)
{
    if (vec->n == vec->cap) {
        size_t cap = vec->cap ? vec->cap * 2 : 8;
        void **v = realloc(vec->v, cap * sizeof(*v));
        if (!v)
            return -1;
        vec->v = v;
        vec->cap = cap;
    }
    vec->v[vec->n++] = p;
    return 0;
}

void idl_vec_release(struct idl_vec *vec)
{
    free(vec->v);
    vec->v = NULL;
    vec->n = vec->cap = 0;
}

void idl_diag_add(struct idl_diags *d, unsigned long line, const char *fmt, ...)
{
    va_list ap;
    char *msg = NULL;

    va_start(ap, fmt);
    int rc = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (rc < 0) {
        d->oom = 1;
        return;
    }
    /* One error, one line: names from the input may hold anything. */
    for (char *c = msg; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    }
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        struct idl_diag *v = realloc(d->v, cap * sizeof(*v));
        if (!v) {
            free(msg);
            d->oom = 1;
            return;
        }
        d->v = v;
        d->cap = cap;
    }
    d->v[d->n].line = line;
    d->v[d->n].msg = msg;
    d->n++;
}

void idl_diags_sort(struct idl_diags *d)
{
    /* Insertion sort: stable, and the lists are short and nearly sorted. */
    for (size_t i = 1; i < d->n; i++) {
        struct idl_diag x = d->v[i];
        size_t j = i;
        while (j > 0 && d->v[j - 1].line > x.line) {
            d->v[j] = d->v[j - 1];
            j--;
        }
        d->v[j] = x;
    }
}

void idl_diags_release(struct idl_diags *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->v[i].msg);
    free(d->v);
    d->v = NULL;
    d->n = d->cap = 0;
    d->oom = 0;
}

void idl_param_free(struct idl_param *p)
{
    if (!p)
        return;
    free(p->name);
    free(p->desc);
    free(p->type.name);
    free(p);
}

void idl_member_free(struct idl_member *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->params.n; i++)
        idl_param_free(m->params.v[i]);
    idl_vec_release(&m->params);
    free(m->name);
    free(m->desc);
    free(m->type.name);
    free(m);
}

static void slot_free(struct idl_slot *s)
{
    free(s->name);
    free(s->cname);
    free(s);
}

static void iface_free(struct idl_iface *it)
{
    for (size_t i = 0; i < it->members.n; i++)
        idl_member_free(it->members.v[i]);
    for (size_t i = 0; i < it->slots.n; i++)
        slot_free(it->slots.v[i]);
    idl_vec_release(&it->members);
    idl_vec_release(&it->slots);
    free(it->name);
    free(it->desc);
    free(it->extends);
    free(it);
}

static void enum_free(struct idl_enum *e)
{
    for (size_t i = 0; i < e->consts.n; i++) {
        struct idl_const *c = e->consts.v[i];
        free(c->name);
        free(c->desc);
        free(c);
    }
    idl_vec_release(&e->consts);
    free(e->name);
    free(e->desc);
    free(e);
}

void idl_lib_free(struct idl_lib *lib)
{
    if (!lib)
        return;
    for (size_t i = 0; i < lib->results.n; i++) {
        struct idl_result *r = lib->results.v[i];
        free(r->name);
        free(r->desc);
        free(r);
    }
    for (size_t i = 0; i < lib->enums.n; i++)
        enum_free(lib->enums.v[i]);
    for (size_t i = 0; i < lib->ifaces.n; i++)
        iface_free(lib->ifaces.v[i]);
    for (size_t i = 0; i < lib->classes.n; i++) {
        struct idl_class *c = lib->classes.v[i];
        free(c->name);
        free(c->desc);
        free(c->contract);
        free(c->iface_name);
        free(c);
    }
    idl_vec_release(&lib->results);
    idl_vec_release(&lib->enums);
    idl_vec_release(&lib->ifaces);
    idl_vec_release(&lib->classes);
    free(lib->name);
    free(lib->desc);
    free(lib);
}

unsigned idl_iface_slots(const struct idl_iface *it)
{
    return it->first_own + (unsigned)it->slots.n;
}

static const char *const builtin_types[CAP_TLT_COUNT_] = {
    [CAP_TLT_BOOL] = "boolean",       [CAP_TLT_OCTET] = "octet",
    [CAP_TLT_SHORT] = "short",        [CAP_TLT_USHORT] = "unsigned short",
    [CAP_TLT_LONG] = "long",          [CAP_TLT_ULONG] = "unsigned long",
    [CAP_TLT_LONGLONG] = "long long", [CAP_TLT_ULONGLONG] = "unsigned long long",
    [CAP_TLT_DOUBLE] = "double",      [CAP_TLT_STRING] = "string",
    [CAP_TLT_UUID] = "uuid",
};

const char *idl_builtin_type_name(uint8_t kind)
{
    return kind < CAP_TLT_COUNT_ ? builtin_types[kind] : NULL;
}

uint8_t idl_builtin_type_kind(const char *s)
{
    for (uint8_t k = 0; k < CAP_TLT_COUNT_; k++) {
        if (builtin_types[k] && strcmp(builtin_types[k], s) == 0)
            return k;
    }
    return CAP_TLT_VOID;
}

void idl_uuid_format(const cap_uuid *u, char out[37])
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[u->b[i] >> 4];
        out[o++] = hex[u->b[i] & 15];
    }
    out[o] = '\0';
}

char *idl_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

char *idl_cap_name(const char *prefix, const char *s)
{
    size_t pl = strlen(prefix), sl = strlen(s);
    char *r = malloc(pl + sl + 1);
    if (!r)
        return NULL;
    memcpy(r, prefix, pl);
    memcpy(r + pl, s, sl + 1);
    r[pl] = (char)toupper((unsigned char)r[pl]);
    return r;
}
