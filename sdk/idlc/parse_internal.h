/*
 * parse_internal.h - shared between parse.c (the expat state machine) and
 * parse_build.c (one model object per element, with its attribute syntax).
 */
#ifndef CAPSULE_IDLC_PARSE_INTERNAL_H
#define CAPSULE_IDLC_PARSE_INTERNAL_H

#include "model.h"

/* What an element created, filled in by its builder. */
struct idl_node {
    void *obj;        /* the new model object (owned by its parent's vector) */
    char **desc;      /* where the element's <desc> text goes */
    const char *name; /* its name, for messages (borrowed from obj) */
};

/* The value of attribute `name` in expat's NULL-terminated list, or NULL. */
const char *idl_xml_attr(const char **atts, const char *name);

/*
 * Builders: each creates the model object for one element, appends it to the
 * parent object and reports attribute values with bad syntax at `line`.
 * They return 1 when the object was created, 0 when the element is to be
 * ignored (it was reported), -1 when out of memory.
 */
int idl_build_library(struct idl_diags *d, struct idl_lib **lib, struct idl_node *n,
                      const char **atts, unsigned long line);
int idl_build_result(struct idl_diags *d, struct idl_lib *lib, struct idl_node *n,
                     const char **atts, unsigned long line);
int idl_build_enum(struct idl_diags *d, struct idl_lib *lib, struct idl_node *n, const char **atts,
                   unsigned long line);
int idl_build_const(struct idl_diags *d, struct idl_enum *e, struct idl_node *n, const char **atts,
                    unsigned long line);
int idl_build_iface(struct idl_diags *d, struct idl_lib *lib, struct idl_node *n, const char **atts,
                    unsigned long line);
int idl_build_member(struct idl_diags *d, struct idl_iface *it, struct idl_node *n,
                     const char **atts, unsigned long line, int is_method);
int idl_build_param(struct idl_diags *d, struct idl_member *m, struct idl_node *n,
                    const char **atts, unsigned long line);
int idl_build_class(struct idl_diags *d, struct idl_lib *lib, struct idl_node *n, const char **atts,
                    unsigned long line);

#endif /* CAPSULE_IDLC_PARSE_INTERNAL_H */
