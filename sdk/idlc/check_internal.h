/*
 * check_internal.h - shared between check.c (global names, UUIDs, enums,
 * classes) and check_iface.c (bases, slots, members, params).
 */
#ifndef CAPSULE_IDLC_CHECK_INTERNAL_H
#define CAPSULE_IDLC_CHECK_INTERNAL_H

#include "model.h"

enum idl_global_kind { IDL_G_RESULT, IDL_G_ENUM, IDL_G_IFACE, IDL_G_CLASS };

/* One name of the library's shared namespace. */
struct idl_global {
    const char *name;
    enum idl_global_kind kind;
    void *obj;
    unsigned long line;
};

struct idl_checker {
    struct idl_lib *lib;
    struct idl_diags *d;
    struct idl_global *globals; /* sorted by name */
    size_t n_globals;
};

/* The global named `name`, or NULL. */
const struct idl_global *idl_lookup(const struct idl_checker *ck, const char *name);
/* "interface", "enum", ... */
const char *idl_global_kind_name(enum idl_global_kind k);

/* check_iface.c: everything about interfaces, after the globals are known. */
int idl_check_ifaces(struct idl_checker *ck);

#endif /* CAPSULE_IDLC_CHECK_INTERNAL_H */
