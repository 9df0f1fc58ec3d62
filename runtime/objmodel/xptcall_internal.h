/*
 * xptcall_internal.h - what xptcall.c and proxy.c share: the per-interface
 * cache of prepared call descriptions.
 *
 * For each interface table (keyed by its address) the first dynamic call or
 * proxy builds one struct xpt_iface_info: a libffi cif per vtable slot,
 * describing the slot's real C signature (self, then each param expanded as
 * capsule/typelib.h says). The same cif serves cap_xpt_invoke() (ffi_call)
 * and the proxy closures (ffi_prep_closure_loc). Proxy vtables and closures
 * are added to the entry the first time a proxy of that interface is made.
 *
 * Entries are never freed while the process uses them (only by
 * cap_xpt_shutdown(); cap_xpt_forget_typelib() unlinks them but keeps them),
 * which lets lookups run without a lock: a lookup reads the hash chains with
 * acquire loads, and entries are published with release stores under
 * xpt_lock.
 */
#ifndef CAPSULE_XPTCALL_INTERNAL_H
#define CAPSULE_XPTCALL_INTERNAL_H

#include <ffi.h>
#include <pthread.h>

#include <capsule/typelib.h>
#include <capsule/xptcall.h>

/* Component name used in error info raised by this module. */
#define XPT_COMPONENT "objmodel"

/* Methods with more C arguments than this use a heap buffer per call. */
#define XPT_STACK_CARGS 32

struct xpt_iface_info;

/* One vtable slot. Built at entry creation; `closure`/`code` by proxy.c. */
struct xpt_slot {
    const struct cap_tl_method *method; /* never NULL in a built entry */
    struct xpt_iface_info *owner;
    uint32_t index;       /* the slot number */
    uint32_t n_cargs;     /* C arguments including self */
    int callable;         /* 1 if the cif below is prepared and the slot may be called */
    ffi_cif cif;          /* cap_result (self, args...) */
    ffi_type **atypes;    /* n_cargs entries, owned */
    ffi_closure *closure; /* proxy closure; NULL until a proxy exists */
};

struct xpt_iface_info {
    const struct cap_tl_iface *tl;
    struct xpt_iface_info *next;  /* hash chain; written before publication */
    struct xpt_iface_info *grave; /* graveyard chain, once forgotten */
    void **vtbl;                  /* proxy vtable (n_slots entries); atomic, lazy */
    uint32_t n_slots;
    struct xpt_slot slots[];
};

/* Serialises building entries, vtables and cap_xpt_shutdown(). */
extern pthread_mutex_t xpt_lock;

/*
 * The entry for `tl`, built on first use. NULL on failure, with error info
 * set (CAP_E_NO_TYPEINFO for a malformed table, or out of memory) and the
 * code in *rc. Thread-safe, lock-free when the entry exists.
 */
struct xpt_iface_info *xpt_iface_get(const struct cap_tl_iface *tl, cap_result *rc);

/* Frees the proxy parts of an entry (proxy.c); caller holds xpt_lock. */
void xpt_proxy_free_vtbl(struct xpt_iface_info *info);

#endif /* CAPSULE_XPTCALL_INTERNAL_H */
