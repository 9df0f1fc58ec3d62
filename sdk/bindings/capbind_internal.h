/*
 * sdk/bindings/capbind_internal.h - what the files of the binding core share
 * (capbind.h is the public side; see it for ownership and threads).
 *
 *   capbind_obj.c      connections, objects, the thread's last error
 *   capbind_typelib.c  the typelib as text (capb_typelib_describe)
 *   capbind_call.c     call frames: create, invoke, free, their error
 *   capbind_in.c       in values: the typed setters
 *   capbind_out.c      out/return values: the typed getters
 *
 * Dependencies run one way: call uses obj (errors); in uses call (frame_fail)
 * and typelib (type names); out uses obj (wrapping results); typelib and obj
 * use no other file of the core.
 */
#ifndef CAPSULE_BIND_INTERNAL_H
#define CAPSULE_BIND_INTERNAL_H

#include <stdatomic.h>

#include <capsule/errorinfo.h>
#include <capsule/typelib.h>
#include <capsule/xptcall.h>

#include "capbind.h"

struct capb_conn {
    atomic_uint refs;
    struct cap_client *client;
};

/* One interface pointer held by a binding. */
struct capb_obj {
    void *ptr;                     /* AddRef'ed interface pointer */
    const struct cap_tl_iface *tl; /* its interface (never NULL) */
    struct capb_conn *conn;        /* the connection it came through, or NULL */
};

struct capb_call {
    struct capb_obj *obj; /* borrowed: the caller keeps it alive */
    uint32_t slot;
    const struct cap_tl_method *method;
    struct cap_xpt_value *values; /* one per param; owned (in copies, results) */
    struct cap_error_info err;    /* the last failure */
    char *scratch;                /* the last UUID handed out */
    struct capb_conn *in_conn;    /* borrowed: an in object's connection */
};

/* Moves the thread's error info (or "WHAT failed (CODE)") into the error
 * capb_last_error() returns; returns rc. (capbind_obj.c) */
cap_result capb_take_last_error(cap_result rc, const char *what);

/* A new object taking over one reference to ptr (NULL if ptr is NULL);
 * releases ptr if the wrapper cannot be made. tl NULL: ISupports. conn may be
 * NULL; the object holds a reference to it. (capbind_obj.c) */
struct capb_obj *capb_obj_wrap(void *ptr, const struct cap_tl_iface *tl, struct capb_conn *conn);

/* The typelib's type kinds by name ("ulong"), for records and messages.
 * (capbind_typelib.c) */
extern const char *const capb_type_names[CAP_TLT_COUNT_];

/* Fails the frame's setter with CAP_E_INVALIDARG and the message
 * "IFACE::method: MESSAGE"; returns CAP_E_INVALIDARG. (capbind_call.c) */
cap_result capb_frame_fail(struct capb_call *call, const char *fmt, ...) CAP_PRINTF(2, 3);

#endif /* CAPSULE_BIND_INTERNAL_H */
