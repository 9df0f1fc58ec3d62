/*
 * sdk/bindings/capbind.h - the language-neutral core of the Python and Java
 * bindings (wrapped by SWIG through capsule_bind.i).
 *
 * Nothing here knows any interface: an object is an interface pointer plus
 * its typelib entry, and a call is a frame of struct cap_xpt_value's, one
 * per IDL param, filled by the language side with typed setters, invoked
 * with cap_xpt_invoke() and read back with typed getters. The language
 * layers (capsule/__init__.py, the generated Java classes) learn the
 * interfaces from capb_typelib_describe(), so no code is written per
 * interface in C, Python or Java.
 *
 * Integers of every IDL integer type (and booleans and enums) travel as
 * int64_t; an `unsigned long long` travels as its bit pattern. UUIDs travel
 * as canonical strings.
 *
 * Ownership: a struct capb_obj owns one reference to its interface pointer
 * and one to its connection; capb_obj_free() releases both (the SWIG
 * proxies call it when they are collected). A struct capb_call owns every
 * value it holds (in copies and out results) until capb_call_free().
 *
 * Threads: objects and frames may be used from any thread, one frame by one
 * thread at a time. Error info is taken into the frame when a call fails,
 * so that later calls on the thread (Releases over IPC clear it) cannot
 * lose it.
 */
#ifndef CAPSULE_BIND_H
#define CAPSULE_BIND_H

#include <stdint.h>

#include <capsule/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct capb_conn;

/* One interface pointer held by a binding (opaque; see capbind_internal.h). */
struct capb_obj;

/* The thread's last failure outside a call frame (connect, create, QI). */
struct capb_error {
    cap_result code;
    char *message;
    char *component;
    char *iface;
};

/*
 * Connects to the service of `home` (NULL or "": $CAPSULE_HOME, else
 * $HOME/.capsule), starting `svc_path` (NULL or "": capsule-svc of the
 * build or install tree this library belongs to) if nothing answers, and
 * returns the root object (ICapsule) in *out. Also registers the typelib and
 * sets up the default registry from the components folder next to this
 * library, for in-process classes (Session). On failure *out is NULL and
 * capb_last_error() describes it.
 */
cap_result capb_connect(const char *home, const char *svc_path, struct capb_obj **out);

/*
 * Creates an instance of an in-process class by contract ID (NULL: the
 * default interface of the typelib class named `class_name`), e.g. a
 * Session; `near` (may be NULL) lends its connection to the new object so
 * that it stays open while the object lives. NULL + capb_last_error() on
 * failure.
 */
struct capb_obj *capb_create_instance(const char *class_name, struct capb_obj *near);

/* QueryInterface to the interface named `iface`; NULL + capb_last_error()
 * if the object does not implement it. */
struct capb_obj *capb_query(struct capb_obj *obj, const char *iface);

/* A new reference to the same object (for the language's copies). */
struct capb_obj *capb_obj_dup(struct capb_obj *obj);

/* Releases the interface pointer and the connection reference. NULL is fine. */
void capb_obj_free(struct capb_obj *obj);

/* The name of the object's interface ("IMachine"). */
const char *capb_obj_iface(const struct capb_obj *obj);

/* 1 if a and b are the same object (ISupports identity). */
int capb_obj_same(struct capb_obj *a, struct capb_obj *b);

/* The thread's last error outside frames; valid until the thread's next
 * capb_* call. code is 0 if there was none. */
const struct capb_error *capb_last_error(void);
/* Frees the thread's last error: a thread that ends (a server's thread per
 * connection) calls it, or the strings outlive the thread. */
void capb_clear_last_error(void);

/* cap_result_name(): "CAP_E_OBJECT_NOT_FOUND". */
const char *capb_result_name(cap_result rc);

/*
 * The typelibs the process knows, as text, one record per line, fields
 * separated by tabs (the language layers parse it; see capbind_typelib.c for the
 * record kinds). Static storage, built once.
 */
const char *capb_typelib_describe(void);

/* ---- call frames ----------------------------------------------------------- */

struct capb_call;

/* A frame for vtable slot `slot` of `obj`'s interface; NULL if the slot is
 * not a callable method of it (capb_last_error() says why). */
struct capb_call *capb_call_new(struct capb_obj *obj, uint32_t slot);
void capb_call_free(struct capb_call *call);

/*
 * In values, param `i` (0-based, in IDL order). Each returns CAP_OK, or
 * CAP_E_INVALIDARG (wrong kind for the param, value out of range, bad UUID,
 * i out of range) with the frame's error set. Strings are copied; objects
 * are AddRef'ed (QueryInterface'd when their interface is not the param's).
 */
cap_result capb_set_int(struct capb_call *call, uint32_t i, int64_t v);
cap_result capb_set_double(struct capb_call *call, uint32_t i, double v);
cap_result capb_set_str(struct capb_call *call, uint32_t i, const char *s);
cap_result capb_set_obj(struct capb_call *call, uint32_t i, struct capb_obj *obj);
/* An array of n zeroed elements, then each element by index. */
cap_result capb_set_array(struct capb_call *call, uint32_t i, uint32_t n);
cap_result capb_set_elem_int(struct capb_call *call, uint32_t i, uint32_t k, int64_t v);
cap_result capb_set_elem_double(struct capb_call *call, uint32_t i, uint32_t k, double v);
cap_result capb_set_elem_str(struct capb_call *call, uint32_t i, uint32_t k, const char *s);
cap_result capb_set_elem_obj(struct capb_call *call, uint32_t i, uint32_t k, struct capb_obj *obj);

/* Makes the call; returns the method's result. On failure the thread's
 * error info is moved into the frame (capb_call_error_*). */
cap_result capb_invoke(struct capb_call *call);

/* The failure of the frame's last capb_invoke or setter. */
cap_result capb_call_error_code(const struct capb_call *call);
const char *capb_call_error_message(const struct capb_call *call);
const char *capb_call_error_component(const struct capb_call *call);
const char *capb_call_error_iface(const struct capb_call *call);

/*
 * Out/return values after a successful call. Strings and UUIDs stay owned by
 * the frame (NULL for a NULL string); objects are new capb_obj's (NULL for a
 * NULL interface). Asking for the wrong kind gives 0/NULL.
 */
int64_t capb_get_int(const struct capb_call *call, uint32_t i);
double capb_get_double(const struct capb_call *call, uint32_t i);
const char *capb_get_str(struct capb_call *call, uint32_t i);
struct capb_obj *capb_get_obj(struct capb_call *call, uint32_t i);
uint32_t capb_get_count(const struct capb_call *call, uint32_t i);
int64_t capb_get_elem_int(const struct capb_call *call, uint32_t i, uint32_t k);
double capb_get_elem_double(const struct capb_call *call, uint32_t i, uint32_t k);
const char *capb_get_elem_str(struct capb_call *call, uint32_t i, uint32_t k);
struct capb_obj *capb_get_elem_obj(struct capb_call *call, uint32_t i, uint32_t k);

#ifdef __cplusplus
}
#endif

#endif /* CAPSULE_BIND_H */
