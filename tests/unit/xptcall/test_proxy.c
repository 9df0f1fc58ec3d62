/*
 * test_proxy.c - dynamic proxies: every type through closure -> handler ->
 * cap_xpt_invoke -> real object (and through a proxy of a proxy), called via
 * the generated inline helpers; QueryInterface answered locally and through
 * the handler's hook (the way IPC does a remote QI and keeps the identity);
 * refcounts; bad arguments and bad handlers; many threads.
 */
#include <pthread.h>
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/uuid.h>

#include "xpt_test.h"

#define TL (&cap_tl_IAllTypes)

START_TEST(proxy_roundtrip)
{
    IAllTypes *real = alltypes_new();
    IAllTypes *p = (IAllTypes *)forward_proxy(TL, real);
    ck_assert_ptr_ne(p, real);
    uint32_t before = forward_calls();
    check_all_types(p);
    ck_assert_uint_gt(forward_calls(), before + 40);

    /* A proxy of a proxy: two closures and two dynamic calls per call. */
    IAllTypes *pp = (IAllTypes *)forward_proxy(TL, p);
    check_all_types(pp);
    CAP_RELEASE(pp);
    CAP_RELEASE(p);
    ck_assert_uint_eq(forward_live(), 0);
    ck_assert_uint_eq(alltypes_refs(real), 1);
    CAP_RELEASE(real);
    ck_assert_uint_eq(alltypes_live(), 0);
}
END_TEST

START_TEST(proxy_shares_vtables)
{
    IAllTypes *real = alltypes_new();
    ISupports *a = forward_proxy(TL, real), *b = forward_proxy(TL, real);
    ISupports *c = forward_proxy(&cap_tl_IAllTypesBase, real);
    ck_assert_ptr_eq(a->vtbl, b->vtbl);
    ck_assert_ptr_ne(a->vtbl, c->vtbl);

    /* A proxy of bare ISupports has only the builtin slots. */
    ISupports *s = forward_proxy(&cap_tl_ISupports, real), *q = NULL;
    ck_assert_int_eq(CAP_QI(s, &IID_ISupports, &q), CAP_OK);
    ck_assert_ptr_eq(q, s);
    CAP_RELEASE(q);
    ck_assert_int_eq(CAP_QI(s, &IID_IAllTypes, &q), CAP_E_NOINTERFACE);
    CAP_RELEASE(s);
    CAP_RELEASE(a);
    CAP_RELEASE(b);
    CAP_RELEASE(c);
    CAP_RELEASE(real);
    ck_assert_uint_eq(alltypes_live() + forward_live(), 0);
}
END_TEST

START_TEST(proxy_qi_local)
{
    IAllTypes *real = alltypes_new();
    ISupports *p = forward_proxy(&cap_tl_IAllTypesBase, real);
    void *q = (void *)1;

    ck_assert_int_eq(CAP_QI(p, &IID_IAllTypesBase, &q), CAP_OK);
    ck_assert_ptr_eq(q, p);
    CAP_RELEASE(q);
    ck_assert_int_eq(CAP_QI(p, &IID_ISupports, &q), CAP_OK);
    ck_assert_ptr_eq(q, p);
    CAP_RELEASE(q);
    /* The real object has IAllTypes, but without a hook the proxy cannot know. */
    ck_assert_int_eq(CAP_QI(p, &IID_IAllTypes, &q), CAP_E_NOINTERFACE);
    ck_assert_ptr_null(q);
    ck_assert_int_eq(CAP_QI(p, NULL, &q), CAP_E_POINTER);
    ck_assert_int_eq(CAP_QI(p, &IID_ISupports, NULL), CAP_E_POINTER);
    ck_assert_uint_eq(CAP_ADDREF(p), 2);
    ck_assert_uint_eq(CAP_RELEASE(p), 1);
    ck_assert_uint_eq(CAP_RELEASE(p), 0);
    ck_assert_uint_eq(alltypes_refs(real), 1);
    CAP_RELEASE(real);
}
END_TEST

/*
 * A handler in the manner of IPC: each proxy stands for one interface of a
 * "remote" object; QueryInterface for another interface asks the object and
 * makes a new proxy; the first proxy is the identity, which every other
 * proxy of the object keeps alive and hands out for IID_ISupports.
 */
struct remote {
    ISupports *target;   /* the object's interface this proxy stands for */
    ISupports *identity; /* the first proxy (strong ref), NULL in the first one */
};

static const struct cap_proxy_handler remote_handler;

static cap_result remote_call(void *ctx, const struct cap_tl_iface *tl, uint32_t slot,
                              const struct cap_tl_method *m, struct cap_xpt_value *v)
{
    return cap_xpt_invoke(((struct remote *)ctx)->target, tl, slot, v, m->n_params);
}

static void remote_destroy(void *ctx)
{
    struct remote *r = ctx;
    CAP_RELEASE(r->target);
    if (r->identity)
        CAP_RELEASE(r->identity);
    cap_free(r);
}

static cap_result remote_qi(void *ctx, ISupports *proxy, const cap_uuid *iid, void **out)
{
    struct remote *r = ctx;
    ISupports *identity = r->identity ? r->identity : proxy;
    if (cap_uuid_equal(iid, &IID_ISupports)) {
        CAP_ADDREF(identity);
        *out = identity;
        return CAP_OK;
    }
    const struct cap_tl_iface *tl = cap_typelib_find_iface(iid);
    void *target = NULL;
    cap_result rc = CAP_QI(r->target, iid, &target);
    if (CAP_FAILED(rc) || !tl) {
        if (target)
            CAP_RELEASE(target);
        return CAP_E_NOINTERFACE;
    }
    struct remote *n = cap_alloc_zero(sizeof(*n));
    n->target = target;
    n->identity = identity;
    CAP_ADDREF(identity);
    rc = cap_proxy_create(tl, &remote_handler, n, (ISupports **)out);
    if (CAP_FAILED(rc))
        remote_destroy(n);
    return rc;
}

static const struct cap_proxy_handler remote_handler = {
    .call = remote_call,
    .query_interface = remote_qi,
    .destroy = remote_destroy,
};

START_TEST(proxy_qi_hook)
{
    IAllTypes *real = alltypes_new();
    struct remote *r = cap_alloc_zero(sizeof(*r));
    r->target = (ISupports *)real; /* takes the reference */
    ISupports *base = NULL;
    ck_assert_int_eq(cap_proxy_create(&cap_tl_IAllTypesBase, &remote_handler, r, &base), CAP_OK);

    IAllTypes *all = NULL;
    ck_assert_int_eq(CAP_QI(base, &IID_IAllTypes, &all), CAP_OK);
    ck_assert_ptr_ne(all, base);
    ck_assert_ptr_ne(all, real);
    check_all_types(all);

    /* Identity holds across the two proxies, as decided by the hook. */
    ISupports *id1 = NULL, *id2 = NULL;
    ck_assert_int_eq(CAP_QI(base, &IID_ISupports, &id1), CAP_OK);
    ck_assert_int_eq(CAP_QI(all, &IID_ISupports, &id2), CAP_OK);
    ck_assert_ptr_eq(id1, id2);
    ck_assert_ptr_eq(id1, base);
    CAP_RELEASE(id1);
    CAP_RELEASE(id2);

    /* Bases of the proxy's own interface still answer locally. */
    void *q = NULL;
    ck_assert_int_eq(CAP_QI(all, &IID_IAllTypesBase, &q), CAP_OK);
    ck_assert_ptr_eq(q, all);
    CAP_RELEASE(q);
    q = (void *)1;
    ck_assert_int_eq(CAP_QI(all, &alltypes_id, &q), CAP_E_NOINTERFACE);
    ck_assert_ptr_null(q);

    CAP_RELEASE(base); /* `all` still keeps the identity alive */
    ck_assert_int_eq(IAllTypes_Nothing(all), CAP_OK);
    CAP_RELEASE(all);
    ck_assert_uint_eq(alltypes_live(), 0);
}
END_TEST

START_TEST(proxy_bad_arguments)
{
    IAllTypes *real = alltypes_new();
    IAllTypes *p = (IAllTypes *)forward_proxy(TL, real);
    uint32_t calls = forward_calls();

    int32_t r = 5;
    ck_assert_int_eq(IAllTypes_EchoLong(p, 1, NULL, &r), CAP_E_POINTER);
    ck_assert_int_eq(r, 0);
    check_error_info(CAP_E_POINTER, "objmodel", "IAllTypes", "param 'b'");

    cap_uuid b = alltypes_id, ru = alltypes_id;
    ck_assert_int_eq(IAllTypes_EchoUuid(p, NULL, &b, &ru), CAP_E_POINTER);
    ck_assert(cap_uuid_is_null(&b) && cap_uuid_is_null(&ru));
    check_error_info(CAP_E_POINTER, NULL, NULL, "param 'a'");

    uint32_t bn = 9, rn = 9;
    int32_t *bb = (int32_t *)1, *rr = (int32_t *)1;
    ck_assert_int_eq(IAllTypes_EchoLongArray(p, 2, NULL, &bn, &bb, &rn, &rr), CAP_E_POINTER);
    ck_assert(bn == 0 && rn == 0 && !bb && !rr);
    check_error_info(CAP_E_POINTER, NULL, NULL, "param 'a'");
    ck_assert_int_eq(IAllTypes_EchoLongArray(p, 0, NULL, NULL, &bb, &rn, &rr), CAP_E_POINTER);
    check_error_info(CAP_E_POINTER, NULL, NULL, "param 'b'");
    ck_assert_uint_eq(forward_calls(), calls); /* the handler never saw them */

    ISupports *out = (ISupports *)1;
    ck_assert_int_eq(cap_proxy_create(NULL, &forward_handler, NULL, &out), CAP_E_POINTER);
    ck_assert_ptr_null(out);
    check_error_info(CAP_E_POINTER, NULL, NULL, "interface table");
    static const struct cap_proxy_handler no_call = {.destroy = NULL};
    ck_assert_int_eq(cap_proxy_create(TL, &no_call, NULL, &out), CAP_E_POINTER);
    check_error_info(CAP_E_POINTER, NULL, NULL, "call function");
    ck_assert_int_eq(cap_proxy_create(TL, &forward_handler, NULL, NULL), CAP_E_POINTER);
    cap_error_clear();

    CAP_RELEASE(p);
    CAP_RELEASE(real);
}
END_TEST

/* A handler that breaks the rules: fails after filling its out values, or
 * succeeds with an array that has a count but no items. */
static cap_result sloppy_call(void *ctx, const struct cap_tl_iface *tl, uint32_t slot,
                              const struct cap_tl_method *m, struct cap_xpt_value *v)
{
    if (strcmp(m->name, "echoString") == 0) {
        v[1].str = cap_str_dup("left behind");
        v[2].str = cap_str_dup("and this");
        return cap_error_set(CAP_E_FAIL, "sloppy", tl->name, "failed after filling outs");
    }
    if (strcmp(m->name, "echoIfaceArray") == 0) {
        void **items = cap_alloc(2 * sizeof(void *));
        items[0] = ctx;
        items[1] = NULL;
        CAP_ADDREF(ctx);
        v[1].arr.count = 2;
        v[1].arr.items = items;
        return CAP_E_ABORT;
    }
    v[1].arr.count = 3; /* and no items */
    return CAP_OK;
}

static const struct cap_proxy_handler sloppy_handler = {.call = sloppy_call};

START_TEST(proxy_sloppy_handler)
{
    IAllTypes *real = alltypes_new();
    ISupports *ps = NULL;
    ck_assert_int_eq(cap_proxy_create(TL, &sloppy_handler, real, &ps), CAP_OK);
    IAllTypes *p = (IAllTypes *)ps;

    char *b = (char *)1, *r = (char *)1;
    ck_assert_int_eq(IAllTypes_EchoString(p, "x", &b, &r), CAP_E_FAIL);
    ck_assert(!b && !r); /* freed by the proxy (ASan checks), never handed on */
    check_error_info(CAP_E_FAIL, "sloppy", "IAllTypes", "after filling");

    uint32_t bn = 1, rn = 1;
    IAllTypesBase **bi = NULL, **ri = NULL;
    ck_assert_int_eq(IAllTypes_EchoIfaceArray(p, 0, NULL, &bn, &bi, &rn, &ri), CAP_E_ABORT);
    ck_assert(bn == 0 && !bi && rn == 0 && !ri);
    ck_assert_uint_eq(alltypes_refs(real), 1); /* the proxy released it */

    int32_t *bl = NULL, *rl = NULL;
    ck_assert_int_eq(IAllTypes_EchoLongArray(p, 0, NULL, &bn, &bl, &rn, &rl), CAP_E_UNEXPECTED);
    ck_assert(bn == 0 && !bl);
    check_error_info(CAP_E_UNEXPECTED, "objmodel", NULL, "without an item pointer");
    CAP_RELEASE(p);
    CAP_RELEASE(real);
}
END_TEST

START_TEST(proxy_context)
{
    IAllTypes *real = alltypes_new();
    ISupports *p = forward_proxy(TL, real);
    const struct cap_tl_iface *tl = NULL;
    ck_assert_ptr_eq(cap_proxy_context(p, &forward_handler, &tl), real);
    ck_assert_ptr_eq(tl, TL);
    ck_assert_ptr_null(cap_proxy_context(p, &sloppy_handler, &tl));
    ck_assert_ptr_null(tl);
    ck_assert_ptr_null(cap_proxy_context(real, &forward_handler, NULL));
    ck_assert_ptr_null(cap_proxy_context(NULL, &forward_handler, NULL));
    CAP_RELEASE(p);
    CAP_RELEASE(real);
}
END_TEST

TCase *tcase_proxy(void)
{
    TCase *tc = tcase_create("proxy");
    tcase_add_test(tc, proxy_roundtrip);
    tcase_add_test(tc, proxy_shares_vtables);
    tcase_add_test(tc, proxy_qi_local);
    tcase_add_test(tc, proxy_qi_hook);
    tcase_add_test(tc, proxy_bad_arguments);
    tcase_add_test(tc, proxy_sloppy_handler);
    tcase_add_test(tc, proxy_context);
    return tc;
}

/* ---- threads --------------------------------------------------------------- */

#define N_THREADS 8
#define N_ROUNDS  2000

static ISupports *shared_proxy;
static pthread_barrier_t start_line;

static void *hammer(void *arg)
{
    IAllTypes *real = arg, *mine;
    int ok = 1;

    pthread_barrier_wait(&start_line);
    /* Every thread builds its proxy at once: the cache and vtable race. */
    mine = (IAllTypes *)forward_proxy(TL, real);
    for (int i = 0; i < N_ROUNDS && ok; i++) {
        int32_t r = 0;
        char *b = NULL, *s = NULL;
        IAllTypesBase *sp = (IAllTypesBase *)shared_proxy;
        CAP_ADDREF(sp);
        ok &= IAllTypesBase_Ping(sp, i, &r) == CAP_OK && r == i + 1;
        ok &= IAllTypes_EchoString(mine, "thread", &b, &s) == CAP_OK && strcmp(b, "daerht") == 0;
        CAP_RELEASE(sp);
        cap_str_free(b);
        cap_str_free(s);
    }
    CAP_RELEASE(mine);
    return ok ? arg : NULL;
}

START_TEST(proxy_threads)
{
    /* Nothing is alive between tests, so the caches may be dropped and then
     * rebuilt by racing threads. */
    ck_assert_uint_eq(forward_live(), 0);
    cap_xpt_shutdown();
    IAllTypes *real = alltypes_new();
    shared_proxy = forward_proxy(&cap_tl_IAllTypesBase, real);

    pthread_t t[N_THREADS];
    pthread_barrier_init(&start_line, NULL, N_THREADS);
    for (int i = 0; i < N_THREADS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, real), 0);
    for (int i = 0; i < N_THREADS; i++) {
        void *res = NULL;
        pthread_join(t[i], &res);
        ck_assert_msg(res == real, "thread %d failed", i);
    }
    pthread_barrier_destroy(&start_line);
    CAP_RELEASE(shared_proxy);
    ck_assert_uint_eq(forward_live(), 0);
    ck_assert_uint_eq(alltypes_refs(real), 1);
    CAP_RELEASE(real);
}
END_TEST

TCase *tcase_proxy_threads(void)
{
    TCase *tc = tcase_create("proxy_threads");
    tcase_add_test(tc, proxy_threads);
    tcase_set_timeout(tc, 60);
    return tc;
}
