/*
 * test_errorinfo.c - the errorinfo topic: set/peek/take/clear, copies made
 * by set_info, isolation between threads, and threads that exit with error
 * info still set (LeakSanitizer must see no leak in the ASan build).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/result.h>

#include "objmodel_test.h"

START_TEST(set_take_clear)
{
    struct cap_error_info info;
    cap_error_clear();
    ck_assert_ptr_null(cap_error_peek_message());
    ck_assert_int_eq(cap_error_take(&info), CAP_FALSE_RESULT);
    ck_assert_ptr_null(info.message);
    ck_assert_int_eq(info.result, 0);

    ck_assert_int_eq(cap_error_set(CAP_E_INVALIDARG, "comp", "IFoo", "bad %s %d", "x", 7),
                     CAP_E_INVALIDARG);
    ck_assert_str_eq(cap_error_peek_message(), "bad x 7");
    /* Setting replaces. */
    cap_error_set(CAP_E_FAIL, NULL, NULL, "second");
    ck_assert_str_eq(cap_error_peek_message(), "second");
    ck_assert_int_eq(cap_error_take(&info), CAP_OK);
    ck_assert_int_eq(info.result, CAP_E_FAIL);
    ck_assert_str_eq(info.message, "second");
    ck_assert_ptr_null(info.component);
    ck_assert_ptr_null(info.iface);
    cap_error_info_clear(&info);
    ck_assert_ptr_null(info.message);
    /* Taken: the slot is empty now. */
    ck_assert_ptr_null(cap_error_peek_message());
    ck_assert_int_eq(cap_error_take(&info), CAP_FALSE_RESULT);

    cap_error_set(CAP_E_IO, "c", "I", "gone");
    cap_error_clear();
    ck_assert_ptr_null(cap_error_peek_message());
    cap_error_clear(); /* twice is fine */
    cap_error_info_clear(NULL);
}
END_TEST

START_TEST(set_info_copies)
{
    char msg[] = "from the service";
    struct cap_error_info in = {CAP_E_ACCESSDENIED, msg, (char *)"capsule-svc", (char *)"IMachine"};
    ck_assert_int_eq(cap_error_set_info(&in), CAP_OK);
    msg[0] = 'X';
    struct cap_error_info out;
    ck_assert_int_eq(cap_error_take(&out), CAP_OK);
    ck_assert_int_eq(out.result, CAP_E_ACCESSDENIED);
    ck_assert_str_eq(out.message, "from the service");
    ck_assert_str_eq(out.component, "capsule-svc");
    ck_assert_str_eq(out.iface, "IMachine");
    cap_error_info_clear(&out);
    ck_assert_int_eq(cap_error_set_info(NULL), CAP_E_POINTER);
    ck_assert_int_eq(cap_error_take(NULL), CAP_E_POINTER);
}
END_TEST

struct iso_arg {
    int index;
    int ok;
    pthread_barrier_t *barrier;
};

static void *isolation_thread(void *p)
{
    struct iso_arg *a = p;
    char want[32];
    snprintf(want, sizeof(want), "thread %d", a->index);
    a->ok = cap_error_peek_message() == NULL;
    cap_error_set(CAP_E_FAIL, NULL, NULL, "thread %d", a->index);
    /* Everyone has set theirs before anyone checks. */
    pthread_barrier_wait(a->barrier);
    a->ok = a->ok && strcmp(cap_error_peek_message(), want) == 0;
    pthread_barrier_wait(a->barrier);
    struct cap_error_info info;
    a->ok = a->ok && cap_error_take(&info) == CAP_OK && strcmp(info.message, want) == 0;
    cap_error_info_clear(&info);
    return NULL;
}

START_TEST(per_thread_isolation)
{
    enum { N = 8 };
    pthread_t th[N];
    struct iso_arg args[N];
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, N);
    cap_error_set(CAP_E_FAIL, NULL, NULL, "main");
    for (int i = 0; i < N; i++) {
        args[i] = (struct iso_arg){.index = i, .barrier = &barrier};
        ck_assert_int_eq(pthread_create(&th[i], NULL, isolation_thread, &args[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        ck_assert_msg(args[i].ok, "thread %d saw another thread's error info", i);
    }
    pthread_barrier_destroy(&barrier);
    ck_assert_str_eq(cap_error_peek_message(), "main");
    cap_error_clear();
}
END_TEST

static void *exit_with_error(void *p)
{
    /* A long message, so that a leak would be big enough to notice. */
    cap_error_set(CAP_E_IO, "objmodel-test", "ITest", "thread %d failed: %0512d", *(int *)p, 0);
    return NULL;
}

START_TEST(threads_exit_without_leak)
{
    enum { N = 32 };
    pthread_t th[N];
    int idx[N];
    for (int i = 0; i < N; i++) {
        idx[i] = i;
        ck_assert_int_eq(pthread_create(&th[i], NULL, exit_with_error, &idx[i]), 0);
    }
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    /* The records were freed by the key destructor; LSan checks at exit. */
}
END_TEST

START_TEST(main_thread_left_set)
{
    /* A program that exits with error info still set leaks nothing either
     * (the record stays reachable through the thread's key). */
    cap_error_set(CAP_E_FAIL, "objmodel-test", NULL, "left behind");
}
END_TEST

TCase *tcase_errorinfo(void)
{
    TCase *tc = tcase_create("errorinfo");
    tcase_add_test(tc, set_take_clear);
    tcase_add_test(tc, set_info_copies);
    tcase_add_test(tc, per_thread_isolation);
    tcase_add_test(tc, threads_exit_without_leak);
    tcase_add_test(tc, main_thread_left_set);
    return tc;
}
