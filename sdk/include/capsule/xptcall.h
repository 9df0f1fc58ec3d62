/*
 * capsule/xptcall.h - dynamic calls and dynamic proxies from the typelib.
 *
 * Two mirror images, both driven only by the typelib (capsule/typelib.h), so
 * that no interface ever needs hand-written marshaling code:
 *
 *  - cap_xpt_invoke() calls vtable slot N of a real object with arguments
 *    given as one struct cap_xpt_value per IDL param. libffi builds the C
 *    call from the method's typelib entry. An IPC stub decodes a request
 *    into values and invokes; a scripting binding does the same.
 *
 *  - cap_proxy_create() makes an object for any interface whose every
 *    method slot is a libffi closure: a call through the vtable is decoded
 *    back into cap_xpt_value's and handed to one handler function with the
 *    slot number. An IPC proxy's handler encodes the values into a request;
 *    a test's handler may forward them to cap_xpt_invoke().
 *
 * Values. A struct cap_xpt_value holds one IDL param; the typelib param
 * (struct cap_tl_param) is its tag, so the value itself carries none. The
 * member used is fixed by the param's type:
 *
 *     boolean b, octet u8, short i16, unsigned short u16, long i32,
 *     unsigned long u32, long long i64, unsigned long long u64, double d,
 *     string str (or cstr), uuid uuid (by value), enum enm, interface iface,
 *     and for any safearray param: arr {count, items}, where items points to
 *     `count` elements of the C element type (cap_bool, int16_t, ..., char *,
 *     cap_uuid, interface pointers), exactly the block a C callee sees.
 *
 * Ownership follows capsule/typelib.h:
 *  - in values belong to whoever built them and are only borrowed by the
 *    call; a proxy handler must not free or keep them (it copies/AddRefs what
 *    it keeps).
 *  - out/return values are zeroed before the call; after a successful call
 *    they hold callee-allocated data owned by the caller, freed with
 *    cap_xpt_value_clear() / cap_xpt_values_clear() (cap_str_free,
 *    cap_array_free, Release). After a failed call they are zero.
 *  - cap_xpt_value_clear() may also free in values whose storage was
 *    allocated with capsule/mem.h functions (an IPC stub decoding a request).
 *
 * Everything here is thread-safe. Prepared call descriptions (libffi cifs,
 * proxy vtables and closures) are built once per interface table and cached
 * for the life of the process; see cap_xpt_shutdown().
 */
#ifndef CAPSULE_XPTCALL_H
#define CAPSULE_XPTCALL_H

#include <capsule/supports.h>
#include <capsule/typelib.h>
#include <capsule/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An array param: `count` elements of the C element type at `items`. */
struct cap_xpt_array {
    uint32_t count;
    void *items; /* NULL is allowed only when count is 0 */
};

/* One IDL param; the member to use is given by the param's type (above). */
struct cap_xpt_value {
    union {
        cap_bool b;
        uint8_t u8;
        int16_t i16;
        uint16_t u16;
        int32_t i32;
        uint32_t u32;
        int64_t i64;
        uint64_t u64;
        double d;
        char *str;        /* owned for out/return, borrowed for in */
        const char *cstr; /* the same pointer, for building in values */
        cap_uuid uuid;
        int32_t enm;
        void *iface; /* a pointer of the param's interface type */
        struct cap_xpt_array arr;
    };
};

/*
 * Calls vtable slot `slot` of `obj`, an object implementing the interface
 * described by `tl` (or one derived from it), with `args[0..n_args-1]`, one
 * value per param of the method in that slot, in declaration order.
 *
 * Returns the method's own result; out/return values are zeroed first and
 * hold the method's results afterwards (owned by the caller). Before making
 * any call it checks its own inputs and fails, with error info naming the
 * interface and method, with CAP_E_POINTER (obj, tl or args NULL, an in
 * array with count > 0 and NULL items), CAP_E_BAD_METHOD_INDEX (slot out of
 * range, or AddRef/Release: of the builtin slots only QueryInterface may be
 * called), CAP_E_INVALIDARG (n_args differs from the method's param count)
 * or CAP_E_NO_TYPEINFO (the typelib entry is malformed). When it fails that
 * way, out values are zero and the method was not called.
 *
 * Thread-safe: any thread may invoke any object its interface allows.
 */
cap_result cap_xpt_invoke(void *obj, const struct cap_tl_iface *tl, uint32_t slot,
                          struct cap_xpt_value *args, uint32_t n_args);

/*
 * Frees what `value` owns according to `param` (a string is freed, an
 * interface Released, an array freed with cap_array_free) and zeroes it.
 * Scalars, enums and uuids are only zeroed. NULL value is a no-op.
 */
void cap_xpt_value_clear(const struct cap_tl_param *param, struct cap_xpt_value *value);

/* Which values cap_xpt_values_clear() frees. */
#define CAP_XPT_CLEAR_IN  0x1u /* in params (only if the caller owns them) */
#define CAP_XPT_CLEAR_OUT 0x2u /* out and return params */
#define CAP_XPT_CLEAR_ALL (CAP_XPT_CLEAR_IN | CAP_XPT_CLEAR_OUT)

/* cap_xpt_value_clear() on each value of `method` whose direction is in `which`. */
void cap_xpt_values_clear(const struct cap_tl_method *method, struct cap_xpt_value *values,
                          unsigned which);

/*
 * A proxy's behaviour. The struct is read, never copied: it must outlive
 * every proxy created with it (usually it is a static constant).
 */
struct cap_proxy_handler {
    /*
     * Required. Called for every call of a non-builtin slot. `tl` is the
     * proxy's interface, `slot` the vtable slot called, `method` its typelib
     * entry, `values` one value per param: in values decoded from the C
     * arguments (borrowed, valid only during the call), out/return values
     * zeroed for the handler to fill with data it allocates (capsule/mem.h;
     * interfaces AddRef'ed), whose ownership passes to the proxy's caller.
     * Returns the method's result. If it fails, the proxy frees whatever the
     * handler left in out/return values and the caller gets NULL/0.
     * Called on the caller's thread; may be called from many threads at once.
     */
    cap_result (*call)(void *ctx, const struct cap_tl_iface *tl, uint32_t slot,
                       const struct cap_tl_method *method, struct cap_xpt_value *values);

    /*
     * Optional. QueryInterface for the IIDs the proxy does not answer
     * itself. The proxy answers the IIDs of `tl` and its bases by returning
     * itself, except IID_ISupports when this hook is set: the identity of an
     * object reached through several proxies (one per interface, as IPC makes
     * them) is known only to the handler, so the hook decides it (returning
     * `proxy`, AddRef'ed, is fine). Rules of QueryInterface apply: *out is
     * already NULL; on success store an AddRef'ed pointer and return CAP_OK,
     * else return CAP_E_NOINTERFACE (or any failure). `proxy` is the proxy
     * QueryInterface was called on.
     */
    cap_result (*query_interface)(void *ctx, ISupports *proxy, const cap_uuid *iid, void **out);

    /* Optional. Called once when the proxy's count drops to 0, just before
     * the proxy is freed. */
    void (*destroy)(void *ctx);
};

/*
 * Creates a proxy implementing `tl` (and its bases) with a count of 1 in
 * *out. Each call of one of its methods goes to handler->call(ctx, ...).
 * handler->destroy(ctx), if set, runs when the last reference goes; if this
 * function fails it is not called (ctx still belongs to the caller).
 *
 * The vtable and closures of `tl` are built on the first proxy of that
 * interface and shared by all later ones.
 *
 * Returns CAP_OK; CAP_E_POINTER (tl, handler, handler->call or out NULL);
 * CAP_E_NO_TYPEINFO (malformed typelib entry); CAP_E_OUTOFMEMORY. *out is
 * NULL on failure. Thread-safe.
 */
cap_result cap_proxy_create(const struct cap_tl_iface *tl, const struct cap_proxy_handler *handler,
                            void *ctx, ISupports **out);

/*
 * If `obj` is a proxy made by cap_proxy_create() with `handler`, returns its
 * ctx (and its interface in *tl if tl is not NULL); otherwise NULL. Safe on
 * any interface pointer: it compares the vtable, never dereferences more
 * than the object's first word and the proxy vtable's slots. Lets IPC
 * recognise its own proxies when they are passed back as arguments.
 */
void *cap_proxy_context(void *obj, const struct cap_proxy_handler *handler,
                        const struct cap_tl_iface **tl);

/*
 * AddRefs `obj` if it is a proxy made with `handler` whose count has not yet
 * dropped to 0, and returns 1; returns 0 otherwise (the proxy is being
 * destroyed: its handler->destroy is running or about to run). Lets a cache
 * of proxies (IPC keeps one proxy per remote object and interface) hand out
 * a cached proxy without resurrecting one that is going away; the caller
 * keeps the proxy's memory valid by removing it from the cache in
 * handler->destroy under the same lock it holds here.
 */
int cap_proxy_try_addref(void *obj, const struct cap_proxy_handler *handler);

/*
 * Drops the cached entries of every interface of `lib`, so that the tables
 * may go away (a component's shared object being unloaded) without a later
 * table at the same address finding a stale entry. The caller guarantees
 * that no proxy of those interfaces is alive and no dynamic call on them is
 * in flight. The memory is reclaimed by cap_xpt_shutdown(). Thread-safe.
 */
void cap_xpt_forget_typelib(const struct cap_typelib *lib);

/*
 * Frees every cached cif, vtable and closure. Only for process shutdown:
 * the caller guarantees no proxy is alive and no dynamic call is in flight
 * on any thread. Later calls rebuild the caches.
 */
void cap_xpt_shutdown(void);

#ifdef __cplusplus
}
#endif

#endif /* CAPSULE_XPTCALL_H */
