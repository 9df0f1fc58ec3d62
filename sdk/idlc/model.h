/*
 * model.h - the in-memory model of one XIDL file, and the error list.
 *
 * The parser (parse.c) builds this model from the XML, recording the line of
 * every declaration; the checker (check.c) resolves names (types, bases,
 * class interfaces), numbers the vtable slots and reports what is wrong; the
 * emitters (emit_*.c) read it and never change it. Everything hangs off one
 * `struct idl_lib` and is freed by idl_lib_free().
 *
 * Fields marked "(check)" are filled in by idl_check() and are only
 * meaningful when it reported no error. Strings a parse error left unset are
 * NULL, so the checker skips them instead of reporting follow-on errors.
 */
#ifndef CAPSULE_IDLC_MODEL_H
#define CAPSULE_IDLC_MODEL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <capsule/typelib.h>
#include <capsule/types.h>

/* A growable array of pointers; items belong to whoever owns the vector. */
struct idl_vec {
    void **v;
    size_t n, cap;
};

/* Appends p; returns 0, or -1 when out of memory (p is then not stored). */
int idl_vec_push(struct idl_vec *vec, void *p);
void idl_vec_release(struct idl_vec *vec);

/* One error: a line in the input and a message (one line of text). */
struct idl_diag {
    unsigned long line;
    char *msg;
};

struct idl_diags {
    struct idl_diag *v;
    size_t n, cap;
    int oom; /* set when a message could not be stored */
};

/* Records an error; control characters in the message become '?'. */
void idl_diag_add(struct idl_diags *d, unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Orders the errors by line, keeping the order of errors on one line. */
void idl_diags_sort(struct idl_diags *d);
void idl_diags_release(struct idl_diags *d);

/* A type as written in a type="" attribute, plus safearray. */
struct idl_type {
    char *name;              /* as written; NULL if the attribute was missing */
    int array;               /* safearray="yes" */
    uint8_t kind;            /* (check) enum cap_tl_type */
    struct idl_enum *enm;    /* (check) for CAP_TLT_ENUM */
    struct idl_iface *iface; /* (check) for CAP_TLT_IFACE */
};

struct idl_param {
    char *name;
    unsigned long line;
    char *desc;
    struct idl_type type;
    int dir; /* enum cap_tl_dir; -1 if missing or bad */
};

enum idl_member_kind { IDL_ATTRIBUTE, IDL_METHOD };

struct idl_member {
    enum idl_member_kind kind;
    char *name;
    unsigned long line;
    char *desc;
    struct idl_type type;  /* attribute only */
    int readonly;          /* attribute only */
    struct idl_vec params; /* method only: struct idl_param * */
};

/*
 * One vtable slot: a method, or the getter or setter of an attribute
 * (check). Accessors carry their one synthesized param in `acc`.
 */
struct idl_slot {
    char *name;                /* typelib name: "getName", "setName", "findMachine" */
    char *cname;               /* C vtable member: "GetName", "FindMachine" */
    uint8_t kind;              /* enum cap_tl_method_kind */
    int builtin;               /* one of ISupports' three hand-written slots */
    struct idl_member *member; /* NULL for a builtin slot not declared in the IDL */
    const char *idl_name;      /* the member name the slot comes from */
    unsigned long line;
    struct idl_param acc;      /* accessor param (name/desc borrowed) */
    struct idl_param *acc_ptr; /* == &acc */
    struct idl_param **params; /* method params, or &acc_ptr */
    size_t n_params;
};

struct idl_iface {
    char *name;
    unsigned long line;
    char *desc;
    cap_uuid uuid;
    int has_uuid;
    char *extends;
    int builtin;
    struct idl_vec members; /* struct idl_member * */
    struct idl_iface *base; /* (check) */
    int bad_chain;          /* (check) base unknown or cyclic somewhere above */
    struct idl_vec slots;   /* (check) own slots: struct idl_slot * (owned) */
    unsigned first_own;     /* (check) slot index of the first own slot */
};

struct idl_const {
    char *name;
    unsigned long line;
    char *desc;
    int32_t value;
};

struct idl_enum {
    char *name;
    unsigned long line;
    char *desc;
    cap_uuid uuid;
    int has_uuid;
    struct idl_vec consts; /* struct idl_const * */
};

struct idl_result {
    char *name;
    unsigned long line;
    char *desc;
    int32_t value;
};

struct idl_class {
    char *name;
    unsigned long line;
    char *desc;
    cap_uuid uuid;
    int has_uuid;
    char *contract;
    char *iface_name;
    struct idl_iface *iface; /* (check) */
};

struct idl_lib {
    char *name;
    unsigned long line;
    char *desc;
    cap_uuid uuid;
    int has_uuid;
    unsigned version_major, version_minor;
    struct idl_vec results; /* struct idl_result * */
    struct idl_vec enums;   /* struct idl_enum * */
    struct idl_vec ifaces;  /* struct idl_iface *, in declaration order */
    struct idl_vec classes; /* struct idl_class * */
};

/* Frees a library and everything it owns; NULL is fine. */
void idl_lib_free(struct idl_lib *lib);
void idl_member_free(struct idl_member *m);
void idl_param_free(struct idl_param *p);

/* Total vtable slots of an interface (check). */
unsigned idl_iface_slots(const struct idl_iface *it);

/* The IDL spelling of a builtin type kind ("unsigned long"), or NULL. */
const char *idl_builtin_type_name(uint8_t kind);
/* The builtin kind named by s (CAP_TLT_BOOL...), or CAP_TLT_VOID if none. */
uint8_t idl_builtin_type_kind(const char *s);

/* Writes "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (37 bytes with the NUL). */
void idl_uuid_format(const cap_uuid *u, char out[37]);

/* strdup that returns NULL on failure (and for NULL). */
char *idl_strdup(const char *s);
/* A copy of s with its first letter uppercased; prefix is prepended. */
char *idl_cap_name(const char *prefix, const char *s);

#endif /* CAPSULE_IDLC_MODEL_H */
