/*
 * tests/unit/web/test_session.c - capsule-web's session table
 * (plugins/frontends/web/session.c) with counted fake objects: login
 * sessions and their CSRF tokens, object ids scoped to a session, release on
 * DELETE, logout, idle expiry and eviction, the per-session object cap.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "test_web.h"
#include "web.h"

/* A fake object: a reference count; released ones are counted. */
struct fake {
    int refs;
};
static int released;

static void fake_release(void *o)
{
    struct fake *f = o;
    ck_assert_int_gt(f->refs, 0);
    f->refs--;
    released++;
}

static void *fake_dup(void *o)
{
    ((struct fake *)o)->refs++;
    return o;
}

static struct web_sessions t;
static const time_t T0 = 1000000;

static void setup(void)
{
    released = 0;
    web_sessions_init(&t, 3, 4, 60, fake_release);
}

static void teardown(void)
{
    web_sessions_fini(&t);
}

START_TEST(test_tokens)
{
    char a[WEB_TOKEN_HEX + 1], b[WEB_TOKEN_HEX + 1];
    ck_assert_int_eq(web_random_token(a), 0);
    ck_assert_int_eq(web_random_token(b), 0);
    ck_assert_uint_eq(strlen(a), WEB_TOKEN_HEX);
    ck_assert_uint_eq(strspn(a, "0123456789abcdef"), WEB_TOKEN_HEX);
    ck_assert_str_ne(a, b);
    ck_assert(web_token_equal(a, a));
    ck_assert(!web_token_equal(a, b));
    ck_assert(!web_token_equal("abc", "abcd"));
    ck_assert(!web_token_equal("abcd", "abc"));
    ck_assert(!web_token_equal("", "a"));
    ck_assert(web_token_equal("", ""));
}
END_TEST

START_TEST(test_auth)
{
    char sid[WEB_TOKEN_HEX + 1], csrf[WEB_TOKEN_HEX + 1], got[WEB_TOKEN_HEX + 1];
    ck_assert_int_eq(web_session_create(&t, T0, sid, csrf), 0);
    ck_assert_str_ne(sid, csrf);
    ck_assert_int_eq(web_session_check(&t, sid, NULL, 0, T0, got), WEB_AUTH_OK);
    ck_assert_str_eq(got, csrf);
    ck_assert_int_eq(web_session_check(&t, sid, csrf, 1, T0, NULL), WEB_AUTH_OK);
    ck_assert_int_eq(web_session_check(&t, sid, NULL, 1, T0, NULL), WEB_AUTH_BAD_CSRF);
    ck_assert_int_eq(web_session_check(&t, sid, sid, 1, T0, NULL), WEB_AUTH_BAD_CSRF);
    ck_assert_int_eq(web_session_check(&t, NULL, csrf, 1, T0, NULL), WEB_AUTH_NO_SESSION);
    ck_assert_int_eq(web_session_check(&t, csrf, csrf, 0, T0, NULL), WEB_AUTH_NO_SESSION);
    /* Logout. */
    ck_assert_int_eq(web_session_end(&t, sid), 0);
    ck_assert_int_eq(web_session_check(&t, sid, csrf, 0, T0, NULL), WEB_AUTH_NO_SESSION);
    ck_assert_int_eq(web_session_end(&t, sid), -1);
}
END_TEST

START_TEST(test_objects)
{
    char a[WEB_TOKEN_HEX + 1], b[WEB_TOKEN_HEX + 1], csrf[WEB_TOKEN_HEX + 1];
    char id1[24], id2[24], idb[24];
    static struct fake f1, f2, fb; /* static: teardown releases what is left */
    f1.refs = f2.refs = fb.refs = 1;
    ck_assert_int_eq(web_session_create(&t, T0, a, csrf), 0);
    ck_assert_int_eq(web_session_create(&t, T0, b, csrf), 0);
    ck_assert_int_eq(web_session_put(&t, a, &f1, id1), 0);
    ck_assert_int_eq(web_session_put(&t, a, &f2, id2), 0);
    ck_assert_int_eq(web_session_put(&t, b, &fb, idb), 0);
    ck_assert_str_ne(id1, id2);
    ck_assert_int_eq(web_session_count(&t, a), 2);
    /* get hands out a new reference; ids are the session's own. */
    ck_assert_ptr_eq(web_session_get(&t, a, id1, fake_dup), &f1);
    ck_assert_int_eq(f1.refs, 2);
    fake_release(&f1);
    ck_assert_ptr_null(web_session_get(&t, b, id2, fake_dup));
    ck_assert_ptr_null(web_session_get(&t, a, "o999", fake_dup));
    ck_assert_ptr_null(web_session_get(&t, "nosession", id1, fake_dup));
    ck_assert_int_eq(web_session_drop(&t, b, id1), -1); /* not b's */
    released = 0;
    /* DELETE releases one; logout the rest; the other session keeps its own. */
    ck_assert_int_eq(web_session_drop(&t, a, id1), 0);
    ck_assert_int_eq(f1.refs, 0);
    ck_assert_int_eq(web_session_drop(&t, a, id1), -1);
    ck_assert_int_eq(web_session_end(&t, a), 0);
    ck_assert_int_eq(f2.refs, 0);
    ck_assert_int_eq(released, 2);
    ck_assert_int_eq(fb.refs, 1);
    ck_assert_int_eq(web_session_count(&t, a), -1);
    /* Putting into a session that is gone releases the object. */
    struct fake late = {1};
    ck_assert_int_eq(web_session_put(&t, a, &late, id1), -1);
    ck_assert_int_eq(late.refs, 0);
}
END_TEST

START_TEST(test_object_cap)
{
    char sid[WEB_TOKEN_HEX + 1], csrf[WEB_TOKEN_HEX + 1], id[24];
    static struct fake f[5];
    for (int k = 0; k < 5; k++)
        f[k].refs = 1;
    ck_assert_int_eq(web_session_create(&t, T0, sid, csrf), 0);
    for (int k = 0; k < 4; k++)
        ck_assert_int_eq(web_session_put(&t, sid, &f[k], id), 0);
    ck_assert_int_eq(web_session_put(&t, sid, &f[4], id), -2); /* max_objects is 4 */
    ck_assert_int_eq(f[4].refs, 0);
    ck_assert_int_eq(web_session_drop(&t, sid, "o1"), 0);
    f[0].refs = 1;
    ck_assert_int_eq(web_session_put(&t, sid, &f[0], id), 0); /* room again */
    ck_assert_str_eq(id, "o5");                               /* ids are not reused */
}
END_TEST

START_TEST(test_expiry)
{
    char a[WEB_TOKEN_HEX + 1], b[WEB_TOKEN_HEX + 1], csrf[WEB_TOKEN_HEX + 1], id[24];
    static struct fake fa, fb;
    fa.refs = fb.refs = 1;
    ck_assert_int_eq(web_session_create(&t, T0, a, csrf), 0);
    ck_assert_int_eq(web_session_create(&t, T0 + 30, b, csrf), 0);
    ck_assert_int_eq(web_session_put(&t, a, &fa, id), 0);
    ck_assert_int_eq(web_session_put(&t, b, &fb, id), 0);
    /* Idle for more than 60 s: refused at once, released by the sweep. */
    ck_assert_int_eq(web_session_check(&t, a, NULL, 0, T0 + 61, NULL), WEB_AUTH_NO_SESSION);
    ck_assert_int_eq(web_session_check(&t, b, NULL, 0, T0 + 61, NULL), WEB_AUTH_OK);
    ck_assert_uint_eq(web_sessions_expire(&t, T0 + 61), 1);
    ck_assert_int_eq(fa.refs, 0);
    ck_assert_int_eq(fb.refs, 1);
    /* Use keeps a session alive. */
    ck_assert_int_eq(web_session_check(&t, b, NULL, 0, T0 + 120, NULL), WEB_AUTH_OK);
    ck_assert_uint_eq(web_sessions_expire(&t, T0 + 150), 0);
    ck_assert_uint_eq(web_sessions_expire(&t, T0 + 181), 1);
    ck_assert_int_eq(fb.refs, 0);
}
END_TEST

START_TEST(test_eviction)
{
    char s[4][WEB_TOKEN_HEX + 1], csrf[WEB_TOKEN_HEX + 1], id[24];
    struct fake f = {1};
    for (int k = 0; k < 3; k++)
        ck_assert_int_eq(web_session_create(&t, T0 + k, s[k], csrf), 0);
    ck_assert_int_eq(web_session_put(&t, s[0], &f, id), 0);
    /* s[0] is used last, so a fourth login (max 3) evicts s[1]. */
    ck_assert_int_eq(web_session_check(&t, s[0], NULL, 0, T0 + 5, NULL), WEB_AUTH_OK);
    ck_assert_int_eq(web_session_create(&t, T0 + 6, s[3], csrf), 0);
    ck_assert_uint_eq(t.n, 3);
    ck_assert_int_eq(web_session_check(&t, s[1], NULL, 0, T0 + 6, NULL), WEB_AUTH_NO_SESSION);
    ck_assert_int_eq(web_session_check(&t, s[0], NULL, 0, T0 + 6, NULL), WEB_AUTH_OK);
    ck_assert_int_eq(web_session_check(&t, s[2], NULL, 0, T0 + 6, NULL), WEB_AUTH_OK);
    ck_assert_int_eq(web_session_check(&t, s[3], NULL, 0, T0 + 6, NULL), WEB_AUTH_OK);
    ck_assert_int_eq(f.refs, 1);
    web_sessions_fini(&t); /* the end releases what is left */
    ck_assert_int_eq(f.refs, 0);
    web_sessions_init(&t, 3, 4, 60, fake_release); /* for teardown */
}
END_TEST

Suite *session_suite(void)
{
    Suite *s = suite_create("web-session");
    TCase *tc = tcase_create("sessions");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_tokens);
    tcase_add_test(tc, test_auth);
    tcase_add_test(tc, test_objects);
    tcase_add_test(tc, test_object_cap);
    tcase_add_test(tc, test_expiry);
    tcase_add_test(tc, test_eviction);
    suite_add_tcase(s, tc);
    return s;
}
