/*
 * test_object.c - the qi and refcount topics: the COM rules of
 * QueryInterface on a sample object with two interfaces (identity of
 * ISupports, reflexivity, symmetry, transitivity, out cleared on failure,
 * AddRef only on success) and atomic reference counts under 8 threads.
 */
#include <pthread.h>

#include <capsule/mem.h>
#include <capsule/object.h>
#include <capsule/result.h>
#include <capsule/uuid.h>

#include "objmodel_test.h"

static const cap_uuid *const sample_iids[] = {&IID_ISupports, &IID_ICounter, &IID_INamed};
#define N_IIDS (sizeof(sample_iids) / sizeof(sample_iids[0]))

static ISupports *qi_ok(void *obj, const cap_uuid *iid)
{
    void *out = (void *)1;
    ck_assert_int_eq(CAP_QI(obj, iid, &out), CAP_OK);
    ck_assert_ptr_nonnull(out);
    return out;
}

static ISupports *identity(void *obj)
{
    ISupports *id = qi_ok(obj, &IID_ISupports);
    CAP_RELEASE(id);
    return id;
}

START_TEST(qi_identity)
{
    int destroyed = 0;
    ICounter *c;
    ck_assert_int_eq(sample_create(&destroyed, &c), CAP_OK);
    INamed *n = (INamed *)qi_ok(c, &IID_INamed);
    ck_assert_ptr_ne(n, c);
    /* ISupports from any interface is the same pointer, every time. */
    ck_assert_ptr_eq(identity(c), identity(n));
    ck_assert_ptr_eq(identity(c), identity(c));
    ck_assert_ptr_eq(identity(c), (ISupports *)c);
    CAP_RELEASE(n);
    ck_assert_uint_eq(sample_refcount(c), 1);
    CAP_RELEASE(c);
    ck_assert_int_eq(destroyed, 1);
}
END_TEST

START_TEST(qi_reflexive_symmetric_transitive)
{
    int destroyed = 0;
    ICounter *c;
    ck_assert_int_eq(sample_create(&destroyed, &c), CAP_OK);
    for (size_t a = 0; a < N_IIDS; a++) {
        ISupports *pa = qi_ok(c, sample_iids[a]);
        /* Reflexive: QI(A) on an A gives that same A. */
        ISupports *again = qi_ok(pa, sample_iids[a]);
        ck_assert_ptr_eq(again, pa);
        CAP_RELEASE(again);
        for (size_t b = 0; b < N_IIDS; b++) {
            /* Symmetric: from A we get B, and from that B we get A back. */
            ISupports *pb = qi_ok(pa, sample_iids[b]);
            ISupports *back = qi_ok(pb, sample_iids[a]);
            ck_assert_ptr_eq(back, pa);
            for (size_t k = 0; k < N_IIDS; k++) {
                /* Transitive: A -> B -> K gives what A -> K gives. */
                ISupports *via = qi_ok(pb, sample_iids[k]);
                ISupports *direct = qi_ok(pa, sample_iids[k]);
                ck_assert_ptr_eq(via, direct);
                CAP_RELEASE(via);
                CAP_RELEASE(direct);
            }
            CAP_RELEASE(back);
            CAP_RELEASE(pb);
        }
        CAP_RELEASE(pa);
    }
    ck_assert_uint_eq(sample_refcount(c), 1);
    CAP_RELEASE(c);
    ck_assert_int_eq(destroyed, 1);
}
END_TEST

START_TEST(qi_failure_clears_out)
{
    int destroyed = 0;
    ICounter *c;
    ck_assert_int_eq(sample_create(&destroyed, &c), CAP_OK);
    void *out = (void *)0x1234;
    ck_assert_int_eq(CAP_QI(c, &IID_INobody, &out), CAP_E_NOINTERFACE);
    ck_assert_ptr_null(out);
    out = (void *)0x1234;
    INamed *n = (INamed *)qi_ok(c, &IID_INamed);
    ck_assert_int_eq(CAP_QI(n, &IID_ITestHooks, &out), CAP_E_NOINTERFACE);
    ck_assert_ptr_null(out);
    out = (void *)0x1234;
    ck_assert_int_eq(CAP_QI(c, NULL, &out), CAP_E_POINTER);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(CAP_QI(c, &IID_ICounter, NULL), CAP_E_POINTER);
    /* Failures took no reference. */
    ck_assert_uint_eq(sample_refcount(c), 2);
    CAP_RELEASE(n);
    CAP_RELEASE(c);
    ck_assert_int_eq(destroyed, 1);
}
END_TEST

START_TEST(qi_through_secondary_calls)
{
    int destroyed = 0;
    ICounter *c;
    ck_assert_int_eq(sample_create(&destroyed, &c), CAP_OK);
    INamed *n = (INamed *)qi_ok(c, &IID_INamed);
    ck_assert_int_eq(n->vtbl->SetName(n, "demo"), CAP_OK);
    char *name = NULL;
    ck_assert_int_eq(n->vtbl->GetName(n, &name), CAP_OK);
    ck_assert_str_eq(name, "demo");
    cap_str_free(name);
    ck_assert_int_eq(c->vtbl->Add(c, 5), CAP_OK);
    ICounter *c2 = (ICounter *)qi_ok(n, &IID_ICounter);
    int32_t v = 0;
    ck_assert_int_eq(c2->vtbl->GetValue(c2, &v), CAP_OK);
    ck_assert_int_eq(v, 5);
    CAP_RELEASE(c2);
    CAP_RELEASE(c);
    ck_assert_int_eq(destroyed, 0); /* n still holds it */
    CAP_RELEASE(n);
    ck_assert_int_eq(destroyed, 1);
}
END_TEST

TCase *tcase_qi(void)
{
    TCase *tc = tcase_create("qi");
    tcase_add_test(tc, qi_identity);
    tcase_add_test(tc, qi_reflexive_symmetric_transitive);
    tcase_add_test(tc, qi_failure_clears_out);
    tcase_add_test(tc, qi_through_secondary_calls);
    return tc;
}

/* ---- refcount ----------------------------------------------------------- */

enum { N_THREADS = 8, N_ROUNDS = 100000 };

struct ref_arg {
    ICounter *obj;
    int mode; /* 0: AddRef/Release pairs; 1: all AddRefs, then all Releases */
    pthread_barrier_t *barrier;
};

static void *ref_thread(void *p)
{
    struct ref_arg *a = p;
    INamed *n = NULL;
    pthread_barrier_wait(a->barrier);
    if (a->mode == 0) {
        for (int i = 0; i < N_ROUNDS; i++) {
            CAP_ADDREF(a->obj);
            CAP_RELEASE(a->obj);
        }
    } else {
        /* Through the secondary interface, which forwards. */
        CAP_QI(a->obj, &IID_INamed, &n);
        for (int i = 0; i < N_ROUNDS; i++)
            CAP_ADDREF(n);
        for (int i = 0; i < N_ROUNDS; i++)
            CAP_RELEASE(n);
        CAP_RELEASE(n);
    }
    a->obj->vtbl->Add(a->obj, 1);
    /* Each thread owns one reference and drops it last. */
    CAP_RELEASE(a->obj);
    return NULL;
}

START_TEST(refcount_threads)
{
    int destroyed = 0;
    ICounter *c;
    ck_assert_int_eq(sample_create(&destroyed, &c), CAP_OK);
    pthread_t th[N_THREADS];
    struct ref_arg args[N_THREADS];
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, N_THREADS);
    for (int i = 0; i < N_THREADS; i++) {
        CAP_ADDREF(c);
        args[i] = (struct ref_arg){.obj = c, .mode = i % 2, .barrier = &barrier};
        ck_assert_int_eq(pthread_create(&th[i], NULL, ref_thread, &args[i]), 0);
    }
    /* Keep our own reference while they run, to read the result. */
    for (int i = 0; i < N_THREADS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&barrier);
    ck_assert_int_eq(destroyed, 0);
    ck_assert_uint_eq(sample_refcount(c), 1);
    int32_t v = 0;
    c->vtbl->GetValue(c, &v);
    ck_assert_int_eq(v, N_THREADS);
    CAP_RELEASE(c);
    ck_assert_int_eq(destroyed, 1);
}
END_TEST

static void *last_release_thread(void *p)
{
    struct ref_arg *a = p;
    pthread_barrier_wait(a->barrier);
    for (int i = 0; i < N_ROUNDS; i++) {
        CAP_ADDREF(a->obj);
        CAP_RELEASE(a->obj);
    }
    CAP_RELEASE(a->obj);
    return NULL;
}

START_TEST(refcount_race_to_zero)
{
    /* The creator lets go at once: whichever thread drops the last
     * reference destroys the object, exactly once. */
    int destroyed = 0;
    ICounter *c;
    ck_assert_int_eq(sample_create(&destroyed, &c), CAP_OK);
    pthread_t th[N_THREADS];
    struct ref_arg args[N_THREADS];
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, N_THREADS);
    for (int i = 0; i < N_THREADS; i++) {
        CAP_ADDREF(c);
        args[i] = (struct ref_arg){.obj = c, .barrier = &barrier};
    }
    CAP_RELEASE(c);
    for (int i = 0; i < N_THREADS; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, last_release_thread, &args[i]), 0);
    for (int i = 0; i < N_THREADS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&barrier);
    ck_assert_int_eq(destroyed, 1);
}
END_TEST

TCase *tcase_refcount(void)
{
    TCase *tc = tcase_create("refcount");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, refcount_threads);
    tcase_add_test(tc, refcount_race_to_zero);
    return tc;
}
