/*
 * tests/unit/vmproc/test_fbpending.c - fb_pending.h: a client
 * framebuffer's due notifications, merged while a call runs.
 */
#include <check.h>

#include "fb_pending.h"
#include "vmproc_test.h"

static void rect_eq(const struct fb_pending *p, unsigned x, unsigned y, unsigned w, unsigned h)
{
    ck_assert_int_eq(p->dirty, 1);
    ck_assert_uint_eq(p->x, x);
    ck_assert_uint_eq(p->y, y);
    ck_assert_uint_eq(p->w, w);
    ck_assert_uint_eq(p->h, h);
}

START_TEST(test_nothing_due)
{
    struct fb_pending p, t;
    fb_pending_init(&p);
    ck_assert(!fb_pending_any(&p));
    fb_pending_update(&p, 0, 0, 10, 10); /* a 0x0 picture: outside */
    ck_assert(!fb_pending_any(&p));
    fb_pending_take(&p, &t);
    ck_assert(!t.changed && !t.dirty);
}
END_TEST

/* Rectangles reported while a call runs arrive as one bounding rectangle. */
START_TEST(test_merge)
{
    struct fb_pending p, t;
    fb_pending_init(&p);
    fb_pending_resize(&p, 640, 480);
    fb_pending_take(&p, &t);
    ck_assert(t.changed && !t.dirty);
    ck_assert_uint_eq(t.width, 640);
    ck_assert_uint_eq(t.height, 480);
    ck_assert(!fb_pending_any(&p));
    fb_pending_update(&p, 10, 20, 5, 5);
    rect_eq(&p, 10, 20, 5, 5);
    fb_pending_update(&p, 100, 2, 10, 3);
    rect_eq(&p, 10, 2, 100, 23);
    fb_pending_update(&p, 12, 10, 1, 1); /* inside: no change */
    rect_eq(&p, 10, 2, 100, 23);
    fb_pending_update(&p, 0, 0, 0, 7); /* empty: ignored */
    rect_eq(&p, 10, 2, 100, 23);
    fb_pending_take(&p, &t);
    ck_assert(!t.changed);
    rect_eq(&t, 10, 2, 100, 23);
    ck_assert(!fb_pending_any(&p));
    ck_assert_uint_eq(p.width, 640); /* the size stays */
}
END_TEST

/* Clipped to the picture, without overflow; outside ones are dropped. */
START_TEST(test_clip)
{
    struct fb_pending p;
    fb_pending_init(&p);
    fb_pending_resize(&p, 320, 200);
    fb_pending_update(&p, 320, 0, 5, 5);
    fb_pending_update(&p, 0, 200, 5, 5);
    ck_assert(!p.dirty);
    fb_pending_update(&p, 300, 190, 0xffffffffu, 0xfffffff0u);
    rect_eq(&p, 300, 190, 20, 10);
    fb_pending_update(&p, 0, 0, 1, 1);
    rect_eq(&p, 0, 0, 320, 200);
}
END_TEST

/* A resize drops the old picture's rectangle; the latest size wins. */
START_TEST(test_resize)
{
    struct fb_pending p, t;
    fb_pending_init(&p);
    fb_pending_resize(&p, 720, 400);
    fb_pending_update(&p, 0, 0, 720, 400);
    fb_pending_resize(&p, 320, 200);
    ck_assert(p.changed && !p.dirty);
    fb_pending_resize(&p, 640, 480);
    fb_pending_update(&p, 600, 0, 100, 10);
    fb_pending_take(&p, &t);
    ck_assert(t.changed);
    ck_assert_uint_eq(t.width, 640);
    ck_assert_uint_eq(t.height, 480);
    rect_eq(&t, 600, 0, 40, 10);
}
END_TEST

Suite *fbpending_suite(void)
{
    Suite *s = suite_create("fbpending");
    TCase *tc = tcase_create("fbpending");
    tcase_add_test(tc, test_nothing_due);
    tcase_add_test(tc, test_merge);
    tcase_add_test(tc, test_clip);
    tcase_add_test(tc, test_resize);
    suite_add_tcase(s, tc);
    return s;
}
