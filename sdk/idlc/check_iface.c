/*
 * check_iface.c - interfaces: the builtin rule, base resolution and cycles,
 * types of attributes and params, vtable slots and their numbering, unique
 * member and slot names along the inheritance chain, and params.
 *
 * Slots are built here, once, and the emitters only read them: a method is
 * one slot; an attribute is a getter and, unless readonly, a setter, each
 * with one synthesized param; ISupports contributes its three hand-written
 * slots (capsule/supports.h) whatever its IDL declaration lists. An
 * interface's first slot index is the total slot count of its base.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_internal.h"

#define ISUPPORTS_IID "00000000-0000-0000-c000-000000000046"

static const char *const builtin_slots[3] = {"queryInterface", "addRef", "release"};

static void check_builtin(struct idl_checker *ck, struct idl_iface *it)
{
    int is_root = it->name && strcmp(it->name, "ISupports") == 0;

    if (it->builtin && !is_root) {
        idl_diag_add(ck->d, it->line, "interface '%s' cannot be builtin (only ISupports is)",
                     it->name ? it->name : "?");
        it->builtin = 0; /* checked as an ordinary interface from here on */
    }
    if (!is_root)
        return;
    if (!it->builtin)
        idl_diag_add(
            ck->d, it->line,
            "ISupports must be declared builtin=\"yes\" (its C side is capsule/supports.h)");
    char text[37];
    idl_uuid_format(&it->uuid, text);
    if (it->has_uuid && strcmp(text, ISUPPORTS_IID) != 0)
        idl_diag_add(ck->d, it->line, "ISupports must have uuid %s", ISUPPORTS_IID);
    for (size_t i = 0; i < it->members.n; i++) {
        const struct idl_member *m = it->members.v[i];
        int known = 0;
        if (!m->name)
            continue;
        for (int k = 0; k < 3; k++)
            known |= strcmp(m->name, builtin_slots[k]) == 0;
        if (m->kind != IDL_METHOD || !known) {
            idl_diag_add(ck->d, m->line,
                         "ISupports may only declare the methods queryInterface, addRef, release");
            continue;
        }
        for (size_t j = 0; j < i; j++) {
            const struct idl_member *o = it->members.v[j];
            if (o->name && strcmp(o->name, m->name) == 0) {
                idl_diag_add(ck->d, m->line, "duplicate member '%s' (first declared at line %lu)",
                             m->name, o->line);
                break;
            }
        }
    }
}

/* Resolves `extends`; reports unknown bases and each interface on a cycle. */
static void resolve_bases(struct idl_checker *ck)
{
    struct idl_vec *ifs = &ck->lib->ifaces;

    for (size_t i = 0; i < ifs->n; i++) {
        struct idl_iface *it = ifs->v[i];
        if (!it->extends)
            continue;
        const struct idl_global *g = idl_lookup(ck, it->extends);
        if (g && g->kind == IDL_G_IFACE) {
            it->base = g->obj;
        } else {
            idl_diag_add(ck->d, it->line, "unknown base interface '%s'", it->extends);
            it->bad_chain = 1;
        }
    }
    for (size_t i = 0; i < ifs->n; i++) {
        struct idl_iface *it = ifs->v[i], *b = it->base;
        size_t steps = 0;
        while (b && b != it && !b->bad_chain && steps++ <= ifs->n)
            b = b->base;
        if (b == it) {
            idl_diag_add(ck->d, it->line, "cyclic extends: '%s' inherits from itself through '%s'",
                         it->name ? it->name : "?", it->extends);
            it->bad_chain = 1;
        } else if (b) {
            it->bad_chain = 1; /* the error is reported on the cycle or unknown base */
        }
    }
}

static void resolve_type(struct idl_checker *ck, struct idl_type *t, unsigned long line)
{
    if (!t->name)
        return;
    t->kind = idl_builtin_type_kind(t->name);
    if (t->kind != CAP_TLT_VOID)
        return;
    const struct idl_global *g = idl_lookup(ck, t->name);
    if (g && g->kind == IDL_G_ENUM) {
        t->kind = CAP_TLT_ENUM;
        t->enm = g->obj;
    } else if (g && g->kind == IDL_G_IFACE) {
        t->kind = CAP_TLT_IFACE;
        t->iface = g->obj;
    } else {
        idl_diag_add(ck->d, line, "unknown type '%s'", t->name);
    }
}

/* Param i's name: unique, and not the C count argument of an array param. */
/*
 * A param (or attribute) name becomes a C parameter name, which would hide a
 * type of the same name from the params after it.
 */
static int shadows_global(struct idl_checker *ck, const char *name, const char *what,
                          unsigned long line)
{
    const struct idl_global *g = name ? idl_lookup(ck, name) : NULL;

    if (!g || g->kind == IDL_G_RESULT || g->kind == IDL_G_CLASS)
        return 0;
    idl_diag_add(ck->d, line, "%s '%s' has the name of %s '%s' (line %lu)", what, name,
                 idl_global_kind_name(g->kind), g->name, g->line);
    return 1;
}

static void check_param_name(struct idl_checker *ck, const struct idl_member *m, size_t i)
{
    const struct idl_param *p = m->params.v[i];

    if (shadows_global(ck, p->name, "param", p->line))
        return;

    for (size_t j = 0; p->name && j < m->params.n; j++) {
        const struct idl_param *o = m->params.v[j];
        if (!o->name || o == p)
            continue;
        size_t on = strlen(o->name);
        if (j < i && strcmp(o->name, p->name) == 0) {
            idl_diag_add(ck->d, p->line, "duplicate param '%s' (first declared at line %lu)",
                         p->name, o->line);
            return;
        }
        /* An array param `x` is the two C arguments xCount and x. */
        if (o->type.array && strncmp(p->name, o->name, on) == 0 &&
            strcmp(p->name + on, "Count") == 0) {
            idl_diag_add(ck->d, p->line,
                         "param '%s' clashes with the count argument of array param '%s'", p->name,
                         o->name);
            return;
        }
    }
}

/* Params of one method: types, names, the return rule. */
static void check_params(struct idl_checker *ck, struct idl_member *m)
{
    const struct idl_param *ret = NULL;
    size_t n_ret = 0;

    if (m->params.n > 0xffff)
        idl_diag_add(ck->d, m->line, "method has too many params");
    for (size_t i = 0; i < m->params.n; i++) {
        struct idl_param *p = m->params.v[i];
        resolve_type(ck, &p->type, p->line);
        if (p->dir == CAP_TLD_RETURN && n_ret++)
            idl_diag_add(ck->d, p->line, "more than one return param (the first is '%s')",
                         ret->name ? ret->name : "?");
        else if (p->dir == CAP_TLD_RETURN)
            ret = p;
        check_param_name(ck, m, i);
    }
    if (n_ret == 1 && m->params.v[m->params.n - 1] != ret)
        idl_diag_add(ck->d, ret->line, "the return param must be the last param");
}

static struct idl_slot *new_slot(struct idl_iface *it, const char *prefix, const char *idl_name,
                                 uint8_t kind, struct idl_member *m, unsigned long line)
{
    struct idl_slot *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    s->name = prefix ? idl_cap_name(prefix, idl_name) : strdup(idl_name);
    s->cname = s->name ? idl_cap_name("", s->name) : NULL;
    if (!s->name || !s->cname || idl_vec_push(&it->slots, s) < 0) {
        free(s->name);
        free(s->cname);
        free(s);
        return NULL;
    }
    s->kind = kind;
    s->member = m;
    s->idl_name = idl_name;
    s->line = line;
    return s;
}

static int add_accessor(struct idl_iface *it, struct idl_member *m, int setter)
{
    struct idl_slot *s = new_slot(it, setter ? "set" : "get", m->name,
                                  setter ? CAP_TLM_SETTER : CAP_TLM_GETTER, m, m->line);
    if (!s)
        return -1;
    s->acc.name = m->name;
    s->acc.desc = m->desc;
    s->acc.line = m->line;
    s->acc.type = m->type;
    s->acc.dir = setter ? CAP_TLD_IN : CAP_TLD_RETURN;
    s->acc_ptr = &s->acc;
    s->params = &s->acc_ptr;
    s->n_params = 1;
    return 0;
}

static int build_slots(struct idl_iface *it)
{
    if (it->builtin) {
        for (int k = 0; k < 3; k++) {
            struct idl_member *decl = NULL;
            for (size_t i = 0; i < it->members.n; i++) {
                struct idl_member *m = it->members.v[i];
                if (m->name && strcmp(m->name, builtin_slots[k]) == 0)
                    decl = m;
            }
            struct idl_slot *s = new_slot(it, NULL, builtin_slots[k], CAP_TLM_METHOD, decl,
                                          decl ? decl->line : it->line);
            if (!s)
                return -1;
            s->builtin = 1;
        }
        return 0;
    }
    for (size_t i = 0; i < it->members.n; i++) {
        struct idl_member *m = it->members.v[i];
        if (!m->name)
            continue;
        if (m->kind == IDL_ATTRIBUTE) {
            if (add_accessor(it, m, 0) < 0 || (!m->readonly && add_accessor(it, m, 1) < 0))
                return -1;
        } else {
            struct idl_slot *s = new_slot(it, NULL, m->name, CAP_TLM_METHOD, m, m->line);
            if (!s)
                return -1;
            s->params = (struct idl_param **)m->params.v;
            s->n_params = m->params.n;
        }
    }
    return 0;
}

/* Reports the first clash of slot s with a slot of `other` before it. */
static int slot_clash(struct idl_checker *ck, const struct idl_iface *it, const struct idl_slot *s,
                      const struct idl_iface *other, const struct idl_slot *o)
{
    char where[160];

    if (s->member && s->member == o->member)
        return 0;
    if (other == it)
        snprintf(where, sizeof(where), "first declared at line %lu", o->line);
    else
        snprintf(where, sizeof(where), "inherited from %s, line %lu", other->name, o->line);
    if (strcmp(s->idl_name, o->idl_name) == 0) {
        idl_diag_add(ck->d, s->line, "duplicate member '%s' (%s)", s->idl_name, where);
        return 1;
    }
    if (strcmp(s->cname, o->cname) == 0) {
        idl_diag_add(ck->d, s->line, "member '%s' makes the C slot %s, as does '%s' (%s)",
                     s->idl_name, s->cname, o->idl_name, where);
        return 1;
    }
    return 0;
}

/* Member and slot names unique along the whole chain; slots numbered. */
static void check_chain(struct idl_checker *ck, struct idl_iface *it)
{
    const struct idl_member *reported = NULL;

    it->first_own = it->base ? idl_iface_slots(it->base) : 0;
    if (idl_iface_slots(it) > 0xffff)
        idl_diag_add(ck->d, it->line, "interface has too many methods");
    for (size_t i = 0; i < it->slots.n; i++) {
        const struct idl_slot *s = it->slots.v[i];
        int clash = 0;
        if (s->member && s->member == reported)
            continue;
        for (size_t j = 0; !clash && j < i; j++)
            clash = slot_clash(ck, it, s, it, it->slots.v[j]);
        for (const struct idl_iface *b = it->base; !clash && b; b = b->base) {
            for (size_t j = 0; !clash && j < b->slots.n; j++)
                clash = slot_clash(ck, it, s, b, b->slots.v[j]);
        }
        if (clash)
            reported = s->member;
    }
}

/* Interfaces in base-before-derived order, for numbering the slots. */
static int order_by_chain(struct idl_vec *ifs, struct idl_vec *out)
{
    char *done = calloc(ifs->n ? ifs->n : 1, 1);
    struct idl_vec stack = {0};
    int rc = 0;

    if (!done)
        return -1;
    for (size_t i = 0; rc == 0 && i < ifs->n; i++) {
        struct idl_iface *it = ifs->v[i];
        stack.n = 0;
        for (; it && !it->bad_chain; it = it->base) {
            size_t k = 0;
            while (ifs->v[k] != it)
                k++;
            if (done[k])
                break;
            done[k] = 1;
            if (idl_vec_push(&stack, it) < 0) {
                rc = -1;
                break;
            }
        }
        while (rc == 0 && stack.n > 0)
            rc = idl_vec_push(out, stack.v[--stack.n]);
    }
    idl_vec_release(&stack);
    free(done);
    return rc;
}

int idl_check_ifaces(struct idl_checker *ck)
{
    struct idl_vec *ifs = &ck->lib->ifaces;
    struct idl_vec order = {0};
    int rc = 0;

    for (size_t i = 0; i < ifs->n; i++)
        check_builtin(ck, ifs->v[i]);
    resolve_bases(ck);
    for (size_t i = 0; i < ifs->n; i++) {
        struct idl_iface *it = ifs->v[i];
        for (size_t j = 0; j < it->members.n; j++) {
            struct idl_member *m = it->members.v[j];
            if (m->kind == IDL_ATTRIBUTE) {
                resolve_type(ck, &m->type, m->line);
                shadows_global(ck, m->name, "attribute", m->line);
            } else {
                check_params(ck, m);
            }
        }
        if (build_slots(it) < 0)
            return -1;
    }
    rc = order_by_chain(ifs, &order);
    for (size_t i = 0; rc == 0 && i < order.n; i++)
        check_chain(ck, order.v[i]);
    idl_vec_release(&order);
    return rc;
}
