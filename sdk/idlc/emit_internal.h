/*
 * emit_internal.h - helpers shared by the emitters: the C spelling of IDL
 * types and slots (capsule/typelib.h's table), C string literals, and doc
 * text reflowed into comments or Markdown.
 */
#ifndef CAPSULE_IDLC_EMIT_INTERNAL_H
#define CAPSULE_IDLC_EMIT_INTERNAL_H

#include <stdio.h>

#include "model.h"

/* Writes the C argument(s) of a param: "uint32_t *nameCount, char ***name". */
void idl_c_param(FILE *f, const struct idl_param *p);

/* The C return type of a slot: cap_result, or uint32_t for AddRef/Release. */
const char *idl_c_slot_ret(const struct idl_slot *s);
/*
 * Writes the parenthesised argument list of a slot with `self` typed as
 * `self_type *`: "(IFoo *self, const char *name)". The builtin ISupports
 * slots follow capsule/supports.h. `col` is the column of the "(": long
 * lists are broken so that lines stay within 100 columns.
 */
void idl_c_slot_args(FILE *f, const char *self_type, const struct idl_slot *s, size_t col);
/* The argument names only, for forwarding: "(self, nameCount, name)". */
void idl_c_slot_call_args(FILE *f, const struct idl_slot *s, size_t col);

/* Writes s as a C string literal, escaping what needs it. */
void idl_c_string(FILE *f, const char *s);

/* How doc text is reflowed. */
enum idl_doc_style {
    IDL_DOC_C,     /* inside a C comment: no comment terminators */
    IDL_DOC_MD,    /* Markdown: @a x -> *x*, @link X -> [X](#X) */
    IDL_DOC_PLAIN, /* as written, whitespace collapsed */
};

/*
 * Reflows doc text: words separated by single spaces, lines wrapped before
 * `width` columns (0: one line per paragraph), every line started with
 * `prefix`, paragraphs (blank lines in the source) separated by a line
 * holding only the prefix (trailing spaces trimmed). Ends with a newline.
 */
void idl_doc(FILE *f, const char *text, const char *prefix, size_t width, enum idl_doc_style style);

/* A C block comment with the doc text, indented by `indent`. */
void idl_c_comment(FILE *f, const char *indent, const char *text);

/* Iterates the slots of an interface and its bases, root first. */
typedef void (*idl_slot_fn)(FILE *f, const struct idl_iface *self, const struct idl_slot *s,
                            unsigned index);
void idl_each_slot(FILE *f, const struct idl_iface *it, idl_slot_fn fn);

#endif /* CAPSULE_IDLC_EMIT_INTERNAL_H */
